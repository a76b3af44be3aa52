/**
 * Helpers of the export tests: the export queue's poller started and stopped
 * at will (the stack is started without one, so a test can keep exports
 * queued), waiting for an export's state, downloading its zip through the
 * API's link and the front door's /s3 path, reading zips with yauzl and
 * Info-ZIP, and the manifest.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yauzl from 'yauzl';
import { fileURLToPath } from 'node:url';
import type { QueuePoller } from '@medlake/local/queue-poller';
import { startQueuePoller } from '@medlake/local/queue-poller';
import type { TestStack } from './support/local-stack';

export const exportHandlerFile = fileURLToPath(new URL('../functions/src/export/handler.ts', import.meta.url));

/** Lambda's event source mapping for the export queue, as the stack would run it. */
export function startExportPoller(stack: TestStack): QueuePoller {
  const info = stack.queues.export;
  return startQueuePoller({
    id: 'export',
    queueUrl: info.url,
    queueArn: info.arn,
    region: stack.env.AWS_REGION ?? 'us-east-1',
    sqs: stack.sqs,
    handlerFile: exportHandlerFile,
    batchSize: 1,
    visibilityTimeoutSeconds: info.visibilityTimeoutSeconds,
    waitTimeSeconds: 1,
    log: (line) => {
      if (process.env.MEDLAKE_TEST_LOG) console.error(`[export poller] ${line}`);
    },
  });
}

export interface ExportAnswer {
  exportId: string;
  state: string;
  runs: number;
  estimate: { studies: number; instances: number; reports: number; annotations: number; bytes: number };
  progress: { percent: number; files: number; totalFiles: number | null; bytes: number; totalBytes: number | null };
  zip: { bytes: number; files: number } | null;
  errors: { code: string; message: string; path?: string }[];
  failure: { code: string; message: string } | null;
  download: { href: string; fileName: string; sizeBytes: number; expiresAt: string } | null;
  rerunOf: string | null;
  selection: { filter: Record<string, unknown> | null; filterQuery: string | null; studies?: string[] };
  options: Record<string, unknown>;
}

export async function waitForExport(stack: TestStack, token: string, exportId: string, states: readonly string[] = ['done', 'failed', 'cancelled'], timeoutMs = 120_000): Promise<ExportAnswer> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await stack.request(`/api/exports/${exportId}`, { token });
    if (res.status !== 200) throw new Error(`GET /api/exports/${exportId} answered ${res.status}: ${res.text}`);
    const body = res.body as ExportAnswer;
    if (states.includes(body.state)) return body;
    if (Date.now() > deadline) throw new Error(`export ${exportId} is still ${body.state} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The presigned link from /download?redirect=false, fetched through the front door. */
export async function downloadZip(stack: TestStack, token: string, exportId: string): Promise<{ url: string; zip: Buffer }> {
  const link = await stack.request(`/api/exports/${exportId}/download?redirect=false`, { token });
  if (link.status !== 200) throw new Error(`download link answered ${link.status}: ${link.text}`);
  const { url } = link.body as { url: string };
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET of the presigned link answered ${res.status}: ${await res.text()}`);
  return { url, zip: Buffer.from(await res.arrayBuffer()) };
}

export interface ZipEntry {
  name: string;
  bytes: Buffer;
  compressionMethod: number;
}

/** Every entry in central directory order, read by yauzl with its strict checks (CRC and sizes validated). */
export function readZip(zip: Buffer): Promise<ZipEntry[]> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(zip, { lazyEntries: true, strictFileNames: true, validateEntrySizes: true }, (error, file) => {
      if (error || !file) return reject(error ?? new Error('not a zip'));
      const out: ZipEntry[] = [];
      file.on('entry', (entry: yauzl.Entry) => {
        file.openReadStream(entry, (err, stream) => {
          if (err || !stream) return reject(err ?? new Error('no stream'));
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('error', reject);
          stream.on('end', () => {
            out.push({ name: entry.fileName, bytes: Buffer.concat(chunks), compressionMethod: entry.compressionMethod });
            file.readEntry();
          });
        });
      });
      file.on('end', () => resolve(out));
      file.on('error', reject);
      file.readEntry();
    });
  });
}

/** Info-ZIP's `unzip -t` of the zip (every entry's CRC); answers its output. */
export function unzipTest(zip: Buffer): string {
  const dir = mkdtempSync(join(tmpdir(), 'medlake-export-zip-'));
  try {
    const path = join(dir, 'export.zip');
    writeFileSync(path, zip);
    return execFileSync('unzip', ['-t', path], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** manifest.csv as records (a small RFC 4180 reader: the manifest quotes only when it must). */
export function parseManifestCsv(text: string): Record<string, string>[] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += c;
  }
  const [header, ...data] = rows;
  return data.map((values) => Object.fromEntries((header ?? []).map((name, i) => [name, values[i] ?? ''])));
}
