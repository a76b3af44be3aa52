/**
 * Text of a PDF report with unpdf (a serverless build of Mozilla's PDF.js,
 * no native dependencies: runs in Lambda as is). Scanned PDFs have no text
 * layer: the answer is then empty and the caller says so.
 *
 * PDFs come from outside (uploaded files, Encapsulated PDF in DICOM) and may
 * be hostile or broken: a size and a page limit are checked first, and
 * PDF.js runs in a worker thread of its own with a heap limit and a deadline,
 * so a PDF that makes it spin or grow ends that thread, not the ingest
 * worker. The thread runs this very module (in Lambda: the bundle it is part
 * of), which answers a request when it finds one in its `workerData`.
 */
import { fileURLToPath } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { joinWrappedLines } from '@medlake/shared/reports/pdf-lines';

export const pdfWithoutText = 'PDF without extractable text';

export interface PdfLimits {
  maxBytes: number;
  maxPages: number;
  timeoutMs: number;
  /** V8 heap of the extraction thread (decoded stream buffers live outside it). */
  maxHeapMb: number;
}

/** A report is a few pages of text; these leave room for long ones with images. */
export const defaultPdfLimits: PdfLimits = { maxBytes: 20 * 1024 * 1024, maxPages: 100, timeoutMs: 30_000, maxHeapMb: 256 };

export type PdfProblem = 'not-pdf' | 'too-large' | 'incomplete' | 'unreadable' | 'encrypted' | 'too-many-pages' | 'too-slow' | 'too-much-memory';

/** A PDF whose text cannot be read, with a sentence for the uploader (no content of the file). */
export class PdfRejection extends Error {
  constructor(readonly code: PdfProblem, message: string) {
    super(message);
    this.name = 'PdfRejection';
  }
}

const magic = [0x25, 0x50, 0x44, 0x46, 0x2d]; // %PDF-

/** A PDF by its magic bytes: `%PDF-` at the start. */
export function isPdf(head: Uint8Array): boolean {
  return magic.every((byte, i) => head[i] === byte);
}

/** PDF files end with `%%EOF` (ISO 32000-1, 7.5.5); writers may add a little after it. Its absence means the file was cut off. */
function hasEndMarker(bytes: Uint8Array): boolean {
  const tail = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).subarray(Math.max(0, bytes.byteLength - 1024));
  return tail.includes('%%EOF', 0, 'latin1');
}

const workerKind = 'medlake-pdf-text';
/** Below a few MB V8 cannot even create the thread's heap, and that failure aborts the whole process. */
const minHeapMb = 8;

interface WorkerRequest {
  kind: typeof workerKind;
  bytes: Uint8Array;
  maxPages: number;
}

type WorkerAnswer = { ok: true; text: string } | { ok: false; code: PdfProblem; pages?: number };

/** The thread's first message: it runs this module (its loader is done). */
const threadStarted = 'started';

const sentences: Record<PdfProblem, (limits: PdfLimits, pages?: number) => string> = {
  'not-pdf': () => 'The file is not a PDF.',
  'too-large': (l) => `The PDF is larger than ${Math.round(l.maxBytes / (1024 * 1024))} MB, the limit for a report.`,
  incomplete: () => 'The PDF is incomplete (it has no end-of-file marker): it was probably cut off while being copied or exported; upload the whole file again.',
  unreadable: () => 'The PDF is damaged or not a valid PDF: its text could not be read.',
  encrypted: () => 'The PDF is password-protected: save it without a password and upload it again.',
  'too-many-pages': (l, pages) => `The PDF has ${pages ?? 'too many'} pages; a report may have at most ${l.maxPages}.`,
  'too-slow': (l) => `Reading the PDF's text took longer than ${Math.round(l.timeoutMs / 1000)} seconds; it was stopped (the file may be damaged or built to overload readers).`,
  'too-much-memory': () => 'Reading the PDF needed more memory than a report may use; it was stopped (the file may be damaged or built to overload readers).',
};

/**
 * The text layer of a PDF (pages separated by a blank line, lines wrapped
 * by the page joined back), '' when it has none. Throws `PdfRejection` for files that cannot or must not be read.
 */
export async function pdfText(document: Uint8Array, limits: PdfLimits = defaultPdfLimits): Promise<string> {
  const reject = (code: PdfProblem, pages?: number) => new PdfRejection(code, sentences[code](limits, pages));
  if (!isPdf(document)) throw reject('not-pdf');
  if (document.byteLength > limits.maxBytes) throw reject('too-large');
  if (!hasEndMarker(document)) throw reject('incomplete');

  const self = fileURLToPath(import.meta.url);
  // Under tsx or vitest this module is TypeScript: the thread needs tsx to load it. The Lambda bundle is plain JavaScript.
  const execArgv = /\.[cm]?ts$/.test(self) ? ['--import', 'tsx'] : [];
  // A copy: the thread owns (and PDF.js may detach) what it is given.
  const bytes = new Uint8Array(document);
  const request: WorkerRequest = { kind: workerKind, bytes, maxPages: limits.maxPages };
  const worker = new Worker(self, { workerData: request, transferList: [bytes.buffer], execArgv, resourceLimits: { maxOldGenerationSizeMb: Math.max(limits.maxHeapMb, minHeapMb) }, stdout: true, stderr: true });
  // PDF.js warns on stdout about fonts and broken objects; the thread's output is dropped (it could quote the file).
  worker.stdout.resume();
  worker.stderr.resume();

  const answer = await new Promise<WorkerAnswer>((resolve, rejectAnswer) => {
    let settled = false;
    // A thread is ended only once it runs this module: ending one while its module loader (tsx's hooks, locally)
    // still starts can leave this thread waiting for it.
    let started = false;
    let endOnStart = false;
    const settle = (value: WorkerAnswer | Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      if (started) void worker.terminate();
      else endOnStart = true;
      if (value instanceof Error) rejectAnswer(value);
      else resolve(value);
    };
    const deadline = setTimeout(() => settle({ ok: false, code: 'too-slow' }), limits.timeoutMs);
    worker.on('message', (message: WorkerAnswer | typeof threadStarted) => {
      if (message === threadStarted) {
        started = true;
        if (endOnStart) void worker.terminate();
        return;
      }
      settle(message);
    });
    worker.on('error', (error: Error & { code?: string }) => {
      if (error.code === 'ERR_WORKER_OUT_OF_MEMORY') settle({ ok: false, code: 'too-much-memory' });
      // A PDF.js failure is caught in the thread; anything else is ours (the thread could not start): retried like any infrastructure error.
      else settle(error);
    });
    worker.on('exit', () => settle({ ok: false, code: 'unreadable' }));
  });
  if (!answer.ok) throw reject(answer.code, answer.pages);
  return answer.text;
}

async function extractInThread(request: WorkerRequest): Promise<WorkerAnswer> {
  const { extractText, getDocumentProxy } = await import('unpdf');
  let pdf;
  try {
    // Quiet: PDF.js's warnings name objects of the file.
    pdf = await getDocumentProxy(request.bytes, { verbosity: 0 });
  } catch (error) {
    return { ok: false, code: error instanceof Error && error.name === 'PasswordException' ? 'encrypted' : 'unreadable' };
  }
  try {
    if (pdf.numPages > request.maxPages) return { ok: false, code: 'too-many-pages', pages: pdf.numPages };
    const { text } = await extractText(pdf, { mergePages: false });
    return { ok: true, text: text.map((page) => joinWrappedLines(page).trim()).filter(Boolean).join('\n\n') };
  } catch {
    return { ok: false, code: 'unreadable' };
  } finally {
    await pdf.loadingTask.destroy();
  }
}

if (!isMainThread && (workerData as Partial<WorkerRequest> | null)?.kind === workerKind) {
  const port = parentPort;
  port?.postMessage(threadStarted);
  // Whatever PDF.js throws (its clean-up included) stays in the thread: it could quote the file.
  void extractInThread(workerData as WorkerRequest)
    .catch((): WorkerAnswer => ({ ok: false, code: 'unreadable' }))
    .then((answer) => port?.postMessage(answer));
}
