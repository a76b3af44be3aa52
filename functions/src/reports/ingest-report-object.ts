/**
 * An uploaded object that is a report rather than DICOM: a CSV batch (one
 * report per row), a plain text report (its study named in its header
 * lines or by its file name) or a PDF report, whose text layer is then
 * taken exactly like a text report (a scanned PDF without one is rejected). The ingest worker hands such objects here; the
 * upload file's outcome counts reports instead of instances: accepted when
 * at least one report was linked or waits for its study, with per-row
 * problems in `details` (row numbers and sentences, never values).
 */
import type { FileOutcome } from '../adapters/upload-records';
import { BatchError, looksLikeReportBatch, parseReportBatch } from '@medlake/shared/reports/report-batch';
import type { BatchProblem } from '@medlake/shared/reports/report-batch';
import { decodeReportBytes, looksLikeText } from '@medlake/shared/reports/report-decoding';
import { textReportKeys } from '@medlake/shared/reports/report-text-file';
import { PdfRejection, defaultPdfLimits, isPdf, pdfText } from './pdf-text';
import type { ReportContext } from './report-context';
import type { SubmissionOutcome } from './report-intake';
import { submitReport } from './report-intake';

export interface ReportObject {
  bytes: Uint8Array;
  /** The uploaded file name (may hold PHI: used to find an accession number, never logged). */
  fileName: string;
  uploadId: string;
  fileIndex: number;
}

const reportExtensions = /\.(txt|text|csv|tsv|rpt|report)$/i;
const maxReportBytes = 50 * 1024 * 1024;

/** Is this object (by its first bytes and name) a report the report pipeline takes? */
export function isReportObject(head: Uint8Array, fileName: string): boolean {
  if (isPdf(head)) return true;
  if (!looksLikeText(head)) return false;
  return reportExtensions.test(fileName) || !/\.[A-Za-z0-9]{1,5}$/.test(fileName);
}

function outcome(results: readonly SubmissionOutcome[], problems: readonly BatchProblem[], receivedBytes: number, kind: 'csv' | 'text'): FileOutcome {
  const count = (state: SubmissionOutcome['state']) => results.filter((r) => r.state === state).length;
  const linked = count('linked');
  const waiting = count('waiting');
  const duplicate = count('duplicate');
  const studies = [...new Set(results.flatMap((r) => (r.studyUid ? [r.studyUid] : [])))].sort();
  const parts = [
    linked ? `${linked} linked to ${linked === 1 ? 'its study' : 'their studies'}` : '',
    waiting ? `${waiting} waiting for ${waiting === 1 ? 'its study' : 'their studies'} (listed under unmatched reports)` : '',
    duplicate ? `${duplicate} already stored` : '',
    problems.length ? `${problems.length} ${problems.length === 1 ? 'row' : 'rows'} not taken: ${problems.slice(0, 3).map((p) => p.message).join(' ')}${problems.length > 3 ? ' …' : ''}` : '',
  ].filter(Boolean);
  const total = results.length + problems.length;
  const reason = `${kind === 'csv' ? `Report batch of ${total} ${total === 1 ? 'row' : 'rows'}` : 'Report'}: ${parts.join('; ') || 'nothing to store'}.`;
  const state: FileOutcome['state'] = linked + waiting > 0 ? 'accepted' : duplicate > 0 ? 'duplicate' : 'rejected';
  return {
    state, reason, studies, receivedBytes,
    instances: { accepted: 0, duplicate: 0, rejected: 0, held: 0 },
    details: { reports: { linked, waiting, duplicate, rejected: problems.length }, problems: problems.slice(0, 500).map((p) => ({ row: p.rowNumber, code: p.code, reason: p.message })) },
  };
}

/** Why a report object of this size is not even read (undefined: it may be). */
export function reportObjectTooLarge(head: Uint8Array, sizeBytes: number): string | undefined {
  if (isPdf(head)) return sizeBytes > defaultPdfLimits.maxBytes ? `The PDF is larger than ${defaultPdfLimits.maxBytes / (1024 * 1024)} MB, the limit for a report.` : undefined;
  return sizeBytes > maxReportBytes ? 'The report file is larger than 50 MB; split the batch.' : undefined;
}

const noTextLayer = 'The PDF has no text layer (a scanned document?): only PDFs with text can be read as reports; export the report as text or as a PDF with text. The file was kept in quarantine.';

function rejected(reason: string, receivedBytes: number): FileOutcome {
  return { state: 'rejected', reason, studies: [], receivedBytes, instances: { accepted: 0, duplicate: 0, rejected: 0, held: 0 }, details: {} };
}

export async function ingestReportObject(ctx: ReportContext, object: ReportObject): Promise<FileOutcome> {
  const received = object.bytes.length;
  const tooLarge = reportObjectTooLarge(object.bytes, received);
  if (tooLarge) return rejected(tooLarge, received);
  const pdf = isPdf(object.bytes);
  let text: string;
  if (pdf) {
    try {
      text = await pdfText(object.bytes);
    } catch (error) {
      if (error instanceof PdfRejection) return rejected(error.message, received);
      throw error;
    }
    if (text.trim() === '') return rejected(noTextLayer, received);
  } else {
    text = decodeReportBytes(object.bytes).text;
  }
  const owner = await ctx.db.query<{ owner_sub: string; owner_name: string | null }>('SELECT owner_sub, owner_name FROM uploads WHERE upload_id = $1', [object.uploadId]);
  const author = owner.rows[0] ? { sub: owner.rows[0].owner_sub, name: owner.rows[0].owner_name ?? undefined } : undefined;
  const origin = { uploadId: object.uploadId, fileIndex: object.fileIndex, author };

  if (!pdf && (/\.(csv|tsv)$/i.test(object.fileName) || looksLikeReportBatch(text))) {
    let batch;
    try {
      batch = parseReportBatch(object.bytes);
    } catch (error) {
      if (error instanceof BatchError) return rejected(error.message, received);
      throw error;
    }
    const results: SubmissionOutcome[] = [];
    for (const row of batch.rows) {
      results.push(await submitReport(ctx, { source: 'csv', text: row.text, link: { accession: row.accession, patientId: row.patientId, issuer: row.issuer, studyDate: row.studyDate }, rowNumber: row.rowNumber, ...origin }));
    }
    return outcome(results, batch.problems, received, 'csv');
  }

  if (text.trim() === '') return rejected('The report file is empty.', received);
  // A PDF is one report, its study named in its text like a text file's.
  const keys = textReportKeys(text, object.fileName);
  if (!keys.accession && !(keys.patientId && keys.studyDate)) {
    return rejected('The report names its study neither by an accession number ("Accession: …" in its first lines, or as file name) nor by patient ID and study date.', received);
  }
  const result = await submitReport(ctx, { source: 'text', text, link: keys, ...origin });
  return outcome([result], [], received, 'text');
}
