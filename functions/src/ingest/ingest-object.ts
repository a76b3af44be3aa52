/**
 * One quarantined object through the pipeline: find its upload file (or
 * record an unannounced one), mark it processing, read it (memory or /tmp),
 * check it against what was announced, then either one DICOM instance or a
 * zip of them entry by entry, each through `storeInstance`; finally the
 * file's outcome. The original stays in quarantine (its lifecycle rule
 * removes it). Bad input is a rejection with a reason, never a crash;
 * infrastructure errors propagate so the message is retried.
 */
import { readFile } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { formatBytes } from '@medlake/shared/byte-size';
import { isZip, looksLikeDicom } from '@medlake/shared/dicom/parse-part10';
import { settledFileState } from '@medlake/shared/uploads/file-state';
import type { FileOutcome, InstanceCounts, UploadFileRecord } from '../adapters/upload-records';
import type { QuarantinedObject } from '../adapters/quarantine';
import { ingestReportObject, isReportObject, reportObjectTooLarge } from '../reports/ingest-report-object';
import { reportContextFor } from '../reports/report-context';
import { ChecksumMismatch } from '../adapters/quarantine';
import type { IngestContext } from './ingest-context';
import type { StoreResult } from './store-instance';
import { storeInstance } from './store-instance';
import { recordUploadedAnnotation } from '../annotations/upload-hook';
import { unregisteredUploadId } from './upload-policy';
import { ZipRejection, visitZipEntries } from './zip-entries';

export interface QuarantineObjectRef {
  bucket: string;
  key: string;
  sizeBytes: number | undefined;
}

/** Where an object belongs, as logged: ids only, never the file name. */
export interface FileRef {
  uploadId: string;
  fileIndex: number;
}

export interface FileReport extends FileRef, FileOutcome {}

const sniffBytes = 512;
/** The reason of a file whose message failed on every receive (it goes to the dead-letter queue). */
export const unprocessableReason = 'The file could not be processed (repeated internal errors); it was kept in quarantine for an administrator.';
const checksumReason = 'The uploaded bytes do not match the SHA-256 declared for this file (damaged or different file); upload it again.';

/** The upload file of an object, registering objects nobody announced. */
export async function resolveUploadFile(object: QuarantineObjectRef, context: IngestContext): Promise<UploadFileRecord> {
  const known = await context.records.fileByKey(object.key);
  if (known) return known;
  // Not announced (or of an unknown upload): still processed and reported, under an upload of its own.
  const name = object.key.split('/').pop() || 'object';
  return context.records.registerUnannounced(unregisteredUploadId(object.bucket, object.key), object.key, name, object.sizeBytes ?? 0);
}

export async function ingestObject(object: QuarantineObjectRef, context: IngestContext, onFile?: (file: FileRef) => void): Promise<FileReport> {
  let file = await context.records.claimByKey(object.key, object.sizeBytes);
  if (!file) {
    file = await resolveUploadFile(object, context);
    await context.records.markProcessing(file.uploadId, file.index, object.sizeBytes);
  }
  const ref = { uploadId: file.uploadId, fileIndex: file.index };
  onFile?.(ref);
  const origin = { uploadId: file.uploadId, fileIndex: file.index, via: 'upload' as const };

  let quarantined: QuarantinedObject;
  try {
    quarantined = await context.quarantine.read(object.bucket, object.key, context.settings.memoryLimitBytes);
  } catch (error) {
    if (!(error instanceof ChecksumMismatch)) throw error;
    const outcome = rejectedFile(checksumReason, object.sizeBytes ?? 0);
    await context.records.recordOutcome(file.uploadId, file.index, outcome);
    return { ...ref, ...outcome };
  }
  try {
    const outcome = await processObject(quarantined, file, origin, context);
    await context.records.recordOutcome(file.uploadId, file.index, outcome);
    return { ...ref, ...outcome };
  } finally {
    if (quarantined.kind === 'file') await quarantined.dispose();
  }
}

function rejectedFile(reason: string, receivedBytes: number): FileOutcome {
  return { state: 'rejected', reason, instances: { accepted: 0, duplicate: 0, rejected: 0, held: 0 }, studies: [], details: {}, receivedBytes };
}

async function head(object: QuarantinedObject): Promise<Buffer> {
  if (object.kind === 'memory') return object.bytes.subarray(0, sniffBytes);
  const handle = await open(object.path, 'r');
  try {
    const buffer = Buffer.alloc(Math.min(sniffBytes, object.sizeBytes));
    await handle.read(buffer, 0, buffer.length, 0);
    return buffer;
  } finally {
    await handle.close();
  }
}

async function processObject(object: QuarantinedObject, file: UploadFileRecord, origin: { uploadId: string; fileIndex: number; via: 'upload' }, context: IngestContext): Promise<FileOutcome> {
  const received = object.sizeBytes;
  if (file.sha256 && file.sha256 !== object.sha256) {
    return rejectedFile(checksumReason, received);
  }
  if (file.sizeBytes > 0 && file.sizeBytes !== received) {
    return rejectedFile(`The uploaded file has ${received} bytes, but ${file.sizeBytes} were announced; upload it again.`, received);
  }
  if (received === 0) return rejectedFile('The uploaded file is empty.', received);
  const first = await head(object);

  if (isZip(first)) return processZip(object, origin, context);
  // Reports (CSV batches, text files, PDFs) take the report pipeline.
  if (!looksLikeDicom(first) && isReportObject(first, file.name)) {
    const tooLarge = reportObjectTooLarge(first, received);
    if (tooLarge) return rejectedFile(tooLarge, received);
    const bytes = object.kind === 'memory' ? object.bytes : await readFile(object.path);
    return ingestReportObject(await reportContextFor(context), { bytes, fileName: file.name, uploadId: file.uploadId, fileIndex: file.index });
  }
  if (!looksLikeDicom(first)) {
    return rejectedFile('The file is neither DICOM (Part 10) nor a zip archive of DICOM files.', received);
  }
  if (received > context.settings.maxInstanceBytes) {
    return rejectedFile(`The DICOM file is larger than ${formatBytes(context.settings.maxInstanceBytes)}, the limit for one instance.`, received);
  }
  const bytes = object.kind === 'memory' ? object.bytes : await readFile(object.path);
  const result = await storeInstance(bytes, origin, context, { sourceSha256: object.sha256 });
  // A measurement report or segmentation of a study of the lake becomes an annotation version (SOP class checked first).
  await recordUploadedAnnotation(result, origin);
  return outcomeOf([{ entry: undefined, result }], { archive: false, skipped: 0, entries: 1 }, received);
}

interface EntryResult {
  entry: number | undefined;
  result: StoreResult;
}

async function processZip(object: QuarantinedObject, origin: { uploadId: string; fileIndex: number; via: 'upload' }, context: IngestContext): Promise<FileOutcome> {
  const results: EntryResult[] = [];
  const running = new Set<Promise<void>>();
  // A few entries in flight: de-identification of one overlaps the archive/index writes of others.
  const maxInFlight = Math.max(2, context.settings.concurrency);
  let inFlightBytes = 0;
  let skipped = 0;
  let entries = 0;
  try {
    const summary = await visitZipEntries(object.kind === 'memory' ? { buffer: object.bytes } : { path: object.path }, context.settings.zip, async (entry) => {
      if (entry.kind === 'skipped') {
        skipped++;
        return;
      }
      if (entry.kind === 'rejected') {
        results.push({ entry: entry.number, result: { outcome: 'rejected', code: 'archive-entry', reason: entry.reason } });
        return;
      }
      if (!looksLikeDicom(entry.bytes.subarray(0, sniffBytes))) {
        // Readme files, reports, images next to the DICOM: not an error of the upload.
        skipped++;
        return;
      }
      // Wait for a free slot before inflating the next entry: memory stays bounded.
      while (running.size >= maxInFlight || (running.size > 0 && inFlightBytes + entry.bytes.length > context.settings.memoryLimitBytes)) await Promise.race(running);
      inFlightBytes += entry.bytes.length;
      const task: Promise<void> = storeInstance(entry.bytes, origin, context)
        .then(async (result) => {
          await recordUploadedAnnotation(result, origin);
          results.push({ entry: entry.number, result });
        })
        .finally(() => {
          inFlightBytes -= entry.bytes.length;
          running.delete(task);
        });
      // Observed here so a failure while the next entry inflates is not an unhandled rejection; Promise.all below rethrows it.
      task.catch(() => undefined);
      running.add(task);
    });
    entries = summary.entries;
    await Promise.all(running);
  } catch (error) {
    await Promise.allSettled(running);
    if (error instanceof ZipRejection) return { ...rejectedFile(error.reason, object.sizeBytes), instances: countsOf(results), details: detailsOf(results, skipped, entries) };
    throw error;
  }
  results.sort((a, b) => (a.entry ?? 0) - (b.entry ?? 0));
  return outcomeOf(results, { archive: true, skipped, entries }, object.sizeBytes);
}

function countsOf(results: readonly EntryResult[]): InstanceCounts {
  const counts: InstanceCounts = { accepted: 0, duplicate: 0, rejected: 0, held: 0 };
  for (const { result } of results) counts[result.outcome === 'accepted' ? 'accepted' : result.outcome] += 1;
  return counts;
}

function detailsOf(results: readonly EntryResult[], skipped: number, entries: number): Record<string, unknown> {
  const notable = results.filter((r) => r.result.outcome === 'rejected' || r.result.outcome === 'held');
  return {
    entries,
    skipped,
    // Entry numbers (order in the archive) and reasons only: entry names may hold PHI.
    notes: notable.slice(0, 200).map((r) => ({ entry: r.entry, outcome: r.result.outcome, reason: r.result.reason })),
    ...(notable.length > 200 ? { moreNotes: notable.length - 200 } : {}),
  };
}

function outcomeOf(results: readonly EntryResult[], shape: { archive: boolean; skipped: number; entries: number }, receivedBytes: number): FileOutcome {
  const instances = countsOf(results);
  const studies = [...new Set(results.flatMap((r) => (r.result.outcome !== 'rejected' && r.result.studyUid ? [r.result.studyUid] : [])))].sort();
  const details = shape.archive ? detailsOf(results, shape.skipped, shape.entries) : {};
  const base = { instances, studies, details, receivedBytes };
  const settled = settledFileState(instances);
  if (settled) return { ...base, ...settled };
  if (results.length === 0) return { ...base, state: 'rejected', reason: 'The archive holds no DICOM files.' };
  const first = results.find((r) => r.result.outcome === 'rejected')?.result.reason;
  const reason = shape.archive ? `None of the archive's DICOM files could be accepted; the first problem: ${first ?? 'unknown'}` : (first ?? 'The file could not be accepted.');
  return { ...base, state: 'rejected', reason };
}
