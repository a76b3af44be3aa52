/**
 * One run of an export: take the lease, freeze the list (first run), then
 * stream entries into the zip from where the stored parts end, until the zip
 * is complete, the deadline comes (checkpoint and continuation message), or
 * the user cancels. See docs/exports.md, "How the worker runs, and resumes".
 *
 * Invariants that make a crash at any moment harmless:
 * - the zip is a deterministic function of the frozen list and the plan;
 * - a part is recorded only after S3 has it, an entry only after it is written;
 * - a file left out is recorded before the next entry is written;
 * - a run starts at the first entry not entirely inside the recorded parts
 *   and drops the bytes those parts already hold.
 */
import { createHash } from 'node:crypto';
import { AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type pg from 'pg';
import { labelsCsv } from '@medlake/shared/export/labels-csv';
import type { ExportLabel } from '@medlake/shared/export/labels-csv';
import type { ManifestKind, ManifestRow } from '@medlake/shared/export/manifest';
import { manifestCsvHeader, manifestCsvRow, manifestJsonHead, manifestJsonRow, manifestJsonTail } from '@medlake/shared/export/manifest';
import { exportReadme } from '@medlake/shared/export/readme';
import { ReportStore } from '../reports/report-store';
import type { AuditLog } from '../adapters/audit-log';
import type { FetchedPiece, ObjectRead } from './archive-read-ahead';
import { ArchiveObjectChanged, ArchiveReadAhead, isMissingObject } from './archive-read-ahead';
import { exportObjectKey, exportFileName } from './download-link';
import type { FrozenAnnotation } from './frozen-annotation';
import { annotationJson } from './frozen-annotation';
import { sendExportMessage } from './export-message';
import type { NoticeContext } from './export-notice';
import { noticeDone, noticeFailed } from './export-notice';
import type { ExportFailure, ExportItem, ExportRecord, ExportRecords, FinishedEntry, ZipPlan } from './export-records';
import { timestampOf } from './export-records';
import type { ExportSettings } from './export-settings';
import { buildFingerprint, freezeExport } from './freeze-export';
import type { UploadedPart } from './part-uploader';
import { PartUploader } from './part-uploader';
import { ZipMethod } from './zip-records';
import type { WrittenEntry } from './zip-writer';
import { ResumingSink, ZipWriter } from './zip-writer';

export interface ExportWorker {
  db: pg.Pool;
  records: ExportRecords;
  s3: S3Client;
  sqs: SQSClient;
  archiveBucket: string;
  exportsBucket: string;
  exportQueueUrl: string;
  settings: ExportSettings;
  audit: AuditLog;
  notice: NoticeContext;
  log: (level: 'info' | 'warn' | 'error', message: string, details?: Record<string, unknown>) => void;
}

export interface RunRequest {
  exportId: string;
  run: number;
  /** Who holds the lease during this run (the invocation's request id). */
  leaseOwner: string;
  remainingMs: () => number;
}

export type RunOutcome = 'done' | 'continued' | 'cancelled' | 'failed' | 'skipped';

/** The lease lasts this long past the last renewal (every uploaded part renews it). */
const leaseWindowMs = 120_000;
/** Items read from the database ahead of the writer (their archive GETs are queued, not started). */
const lookaheadItems = 500;

/** A run found its export's lease held by another, live run: the message comes back later. */
export class ExportBusy extends Error {
  constructor(readonly exportId: string) {
    super('another run holds this export');
    this.name = 'ExportBusy';
  }
}

/** A failure of the export itself (not of this run): it ends as failed, with this reason. */
export class ExportFailed extends Error {
  constructor(readonly failure: ExportFailure) {
    super(failure.message);
    this.name = 'ExportFailed';
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function runExport(worker: ExportWorker, request: RunRequest): Promise<RunOutcome> {
  const leaseMs = () => Math.max(1_000, Math.min(leaseWindowMs, request.remainingMs()));
  let lease = await worker.records.acquire(request.exportId, request.leaseOwner, request.run, leaseMs());
  if (lease.kind === 'busy') {
    // A crashed run's lease ends at its deadline, about when its message comes back: wait a little rather than a whole visibility timeout.
    const wait = lease.leaseUntil.getTime() - Date.now() + 200;
    if (wait > Math.min(30_000, request.remainingMs() / 4)) throw new ExportBusy(request.exportId);
    await sleep(Math.max(wait, 0));
    lease = await worker.records.acquire(request.exportId, request.leaseOwner, request.run, leaseMs());
    if (lease.kind === 'busy') throw new ExportBusy(request.exportId);
  }
  switch (lease.kind) {
    case 'missing':
      worker.log('warn', 'message for an unknown export', { exportId: request.exportId });
      return 'skipped';
    case 'stale':
      return 'skipped';
    case 'finished':
      await settleFinished(worker, lease.record);
      return 'skipped';
    case 'acquired':
      break;
  }
  let record = lease.record;
  try {
    if (!record.frozenAt) {
      const frozen = await freezeExport(worker.db, record, worker.settings);
      if (frozen.kind === 'refused') return await fail(worker, record, frozen.failure);
      record = (await worker.records.get(record.exportId)) as ExportRecord;
      worker.log('info', 'export frozen', { exportId: record.exportId, files: frozen.totalFiles, bytes: frozen.totalBytes });
    }
    const outcome = await new ExportRun(worker, request, record, leaseMs).run();
    return outcome;
  } catch (error) {
    if (error instanceof ExportFailed) return await fail(worker, record, error.failure);
    await worker.records.release(record.exportId, request.leaseOwner).catch(() => undefined);
    throw error;
  }
}

/** A message for an export that is over: finish what a crashed run may have left (the email, the aborted upload). */
async function settleFinished(worker: ExportWorker, record: ExportRecord): Promise<void> {
  if (record.state === 'done' && !record.notifiedAt) await noticeDone(worker.notice, record);
  if ((record.state === 'cancelled' || record.state === 'failed') && record.multipartUploadId) await abortUpload(worker, record);
}

async function abortUpload(worker: ExportWorker, record: ExportRecord): Promise<void> {
  if (!record.multipartUploadId || !record.objectKey) return;
  try {
    await worker.s3.send(new AbortMultipartUploadCommand({ Bucket: worker.exportsBucket, Key: record.objectKey, UploadId: record.multipartUploadId }));
  } catch (error) {
    if (!isNoSuchUpload(error)) throw error;
  }
  await worker.records.forgetUpload(record.exportId);
}

function isNoSuchUpload(error: unknown): boolean {
  const e = error as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } } | null;
  return e?.name === 'NoSuchUpload' || e?.Code === 'NoSuchUpload' || e?.$metadata?.httpStatusCode === 404;
}

/** Ends the export as failed: upload aborted, state, audit, email. */
export async function fail(worker: ExportWorker, record: ExportRecord, failure: ExportFailure): Promise<RunOutcome> {
  const current = (await worker.records.get(record.exportId)) ?? record;
  await abortUpload(worker, current);
  const failed = await worker.records.markFailed(record.exportId, failure);
  worker.log('warn', 'export failed', { exportId: record.exportId, code: failure.code });
  if (failed) await noticeFailed(worker.notice, failed);
  return 'failed';
}

type StopReason = 'deadline' | 'cancelled' | 'lost';

class ExportRun {
  private readonly plan: ZipPlan;
  private readonly method: ZipMethod;
  private readonly started = Date.now();
  private readonly initialRemainingMs: number;
  private pending: FinishedEntry[] = [];
  private progress = { filesDone: 0, bytesDone: 0 };
  private partsThisRun = 0;
  private stop: StopReason | undefined;
  private uploadId = '';
  private objectKey = '';
  private readonly abort = new AbortController();

  constructor(
    private readonly worker: ExportWorker,
    private readonly request: RunRequest,
    private record: ExportRecord,
    private readonly leaseMs: () => number,
  ) {
    this.plan = record.plan as ZipPlan;
    this.method = record.options.compression === 'deflate' ? ZipMethod.Deflate : ZipMethod.Store;
    this.initialRemainingMs = request.remainingMs();
  }

  async run(): Promise<RunOutcome> {
    const { records } = this.worker;
    const id = this.record.exportId;
    if (this.record.completing) return this.complete();
    await this.ensureUpload();
    const parts = await records.parts(id, this.uploadId);
    // Full parts from part 1 on, without a gap: the zip's first `stored` bytes are in S3.
    let storedParts = 0;
    for (const part of parts) {
      if (part.partNumber !== storedParts + 1 || part.sizeBytes !== this.plan.partSizeBytes) break;
      storedParts++;
    }
    const stored = storedParts * this.plan.partSizeBytes;
    const start = await records.resumePoint(id, stored);
    this.progress = await records.progressOf(id);
    this.worker.log('info', 'export run', { exportId: id, run: this.request.run, resumeAtByte: stored, fromEntry: start.seq, entryOffset: start.offset });

    const uploader = new PartUploader(
      { s3: this.worker.s3, bucket: this.worker.exportsBucket, key: this.objectKey, uploadId: this.uploadId },
      this.plan.partSizeBytes,
      storedParts + 1,
      this.worker.settings.uploadConcurrency,
      (part) => this.partUploaded(part),
      this.abort.signal,
    );
    const writer = new ZipWriter(new ResumingSink(start.offset, stored, uploader), start.offset, timestampOf(this.plan));
    const readAhead = new ArchiveReadAhead({
      s3: this.worker.s3,
      bucket: this.worker.archiveBucket,
      budgetBytes: this.worker.settings.readAheadBytes,
      concurrency: this.worker.settings.readConcurrency,
      wholeObjectMaxBytes: this.plan.wholeObjectMaxBytes,
      rangeBytes: this.plan.rangeBytes,
    });
    try {
      if (start.seq !== null) {
        for await (const { item, read } of this.itemsFrom(start.seq, readAhead)) {
          if (this.shouldStop()) break;
          await this.writeItem(writer, item, read, stored);
        }
      }
      if (this.stop === undefined) {
        await this.flushEntries();
        const end = await writer.finish(records.centralEntries(id, this.plan));
        await uploader.finish();
        if (this.stop !== undefined) return await this.halt(uploader);
        return await this.complete({ zipBytes: end.zipBytes, zipFiles: end.entries });
      }
      return await this.halt(uploader);
    } finally {
      readAhead.close();
    }
  }

  /** Deadline, cancellation or a lost lease; a deadline stop only once this run has stored a part (so every run moves the export on). */
  private shouldStop(): boolean {
    if (this.stop !== undefined) return true;
    const settings = this.worker.settings;
    const margin = Math.min(settings.checkpointMarginMs, this.initialRemainingMs / 3);
    const remaining = this.request.remainingMs();
    const overBudget = settings.maxRunMs !== undefined && Date.now() - this.started >= settings.maxRunMs;
    if ((remaining < margin || overBudget) && this.partsThisRun > 0) this.stop = 'deadline';
    else if (remaining < margin / 3) this.stop = 'deadline';
    return this.stop !== undefined;
  }

  private async halt(uploader: PartUploader): Promise<RunOutcome> {
    const id = this.record.exportId;
    if (this.stop === 'lost') {
      this.abort.abort();
      await uploader.drain().catch(() => undefined);
      return 'skipped';
    }
    if (this.stop === 'cancelled') {
      this.abort.abort();
      await uploader.drain().catch(() => undefined);
      await abortUpload(this.worker, (await this.worker.records.get(id)) ?? this.record);
      await this.worker.records.release(id, this.request.leaseOwner);
      this.worker.log('info', 'export cancelled', { exportId: id });
      return 'cancelled';
    }
    // Deadline: what is uploaded stays; the bytes still buffered are written again by the next run.
    await uploader.drain();
    await this.flushEntries();
    uploader.discardBuffered();
    await this.worker.records.release(id, this.request.leaseOwner);
    const next = this.request.run + 1;
    await sendExportMessage(this.worker.sqs, this.worker.exportQueueUrl, { exportId: id, run: next });
    await this.worker.records.advanceRun(id, next);
    this.worker.log('info', 'export continues in the next run', { exportId: id, run: next, parts: this.partsThisRun });
    return 'continued';
  }

  private async ensureUpload(): Promise<void> {
    const { records, s3, exportsBucket } = this.worker;
    const id = this.record.exportId;
    const build = buildFingerprint();
    const sameBuild = build.node === this.plan.build.node && build.zlib === this.plan.build.zlib && build.arch === this.plan.build.arch;
    if (this.record.multipartUploadId && this.method === ZipMethod.Deflate && !sameBuild) {
      // Deflated bytes of another zlib build may differ from the stored parts: start the zip over.
      this.worker.log('warn', 'export zip restarted: deflate on another build', { exportId: id });
      await abortUpload(this.worker, this.record);
      await records.restartZip(id);
      this.plan.build = build;
      await records.updatePlan(id, this.plan);
      this.record = (await records.get(id)) as ExportRecord;
    }
    this.objectKey = this.record.objectKey ?? exportObjectKey(id);
    if (this.record.multipartUploadId) {
      this.uploadId = this.record.multipartUploadId;
      return;
    }
    const created = await s3.send(
      new CreateMultipartUploadCommand({
        Bucket: exportsBucket,
        Key: this.objectKey,
        ContentType: 'application/zip',
        ContentDisposition: `attachment; filename="${exportFileName(id)}"`,
        ChecksumAlgorithm: 'CRC32',
      }),
    );
    if (!created.UploadId) throw new Error('S3 answered CreateMultipartUpload without an upload id');
    this.uploadId = created.UploadId;
    await records.startUpload(id, this.objectKey, this.uploadId);
  }

  private async partUploaded(part: UploadedPart): Promise<void> {
    this.partsThisRun++;
    const entries = this.pending;
    this.pending = [];
    const state = await this.worker.records.recordProgress(this.record.exportId, this.request.leaseOwner, this.uploadId, part, entries, this.progress, this.leaseMs());
    if (state === 'lost') this.stop = 'lost';
    else if (state === 'cancelled') this.stop ??= 'cancelled';
  }

  private async flushEntries(): Promise<void> {
    const entries = this.pending;
    this.pending = [];
    const state = await this.worker.records.recordProgress(this.record.exportId, this.request.leaseOwner, this.uploadId, undefined, entries, this.progress, this.leaseMs());
    if (state === 'lost') this.stop = 'lost';
    else if (state === 'cancelled') this.stop ??= 'cancelled';
  }

  private async *itemsFrom(fromSeq: number, readAhead: ArchiveReadAhead): AsyncIterable<{ item: ExportItem; read: ObjectRead | undefined }> {
    const queue: { item: ExportItem; read: ObjectRead | undefined }[] = [];
    let next = fromSeq;
    let exhausted = false;
    for (;;) {
      if (!exhausted && queue.length < lookaheadItems) {
        const page = await this.worker.records.items(this.record.exportId, this.plan, next, lookaheadItems);
        if (page.length === 0) exhausted = true;
        for (const item of page) {
          const read = item.kind === 'dicom' && !item.error ? readAhead.add(item.archiveKey as string, item.sizeBytes as number) : undefined;
          queue.push({ item, read });
          next = item.seq + 1;
        }
      }
      const head = queue.shift();
      if (!head) return;
      yield head;
    }
  }

  private entryOptions() {
    return { method: this.method, deflateLevel: this.plan.deflateLevel };
  }

  private finished(item: ExportItem, entry: WrittenEntry, sha256: string | null): void {
    this.pending.push({ seq: item.seq, entry, sha256 });
    this.progress.filesDone++;
    this.progress.bytesDone += entry.uncompressedSize;
  }

  private async writeItem(writer: ZipWriter, item: ExportItem, read: ObjectRead | undefined, stored: number): Promise<void> {
    if (item.error) return;
    switch (item.kind) {
      case 'dicom':
        return this.writeDicom(writer, item, read as ObjectRead, stored);
      case 'report': {
        const report = await new ReportStore(this.worker.db).version(item.studyUid as string, item.reportVersion as number);
        const text = report?.text ?? '';
        if (!report || createHash('sha256').update(text, 'utf8').digest('hex') !== item.sha256) {
          return this.leaveOut(writer, item, stored, { code: 'report_changed', message: 'The report version frozen for this export is no longer stored.' });
        }
        this.finished(item, await writer.addWhole(item.path, [Buffer.from(text, 'utf8')], this.entryOptions()), item.sha256);
        return;
      }
      case 'annotation':
        return this.writeGenerated(writer, item, annotationJson(item.document as FrozenAnnotation));
      case 'labels':
        return this.writeGenerated(writer, item, labelsCsv((item.document ?? []) as ExportLabel[]));
      case 'manifest-csv':
        await this.flushEntries();
        this.finished(item, await writer.addStream(item.path, this.manifestCsv(), { ...this.entryOptions(), maxUncompressedBytes: this.manifestBound() }), null);
        return;
      case 'manifest-json':
        await this.flushEntries();
        this.finished(item, await writer.addStream(item.path, await this.manifestJson(), { ...this.entryOptions(), maxUncompressedBytes: this.manifestBound() }), null);
        return;
      case 'readme':
        await this.flushEntries();
        return this.writeGenerated(writer, item, await this.readme());
    }
  }

  private async writeGenerated(writer: ZipWriter, item: ExportItem, text: string): Promise<void> {
    const bytes = Buffer.from(text, 'utf8');
    this.finished(item, await writer.addWhole(item.path, [bytes], this.entryOptions()), createHash('sha256').update(bytes).digest('hex'));
  }

  /**
   * Leaves a file out of the zip. Recorded before anything else is written,
   * so every later run leaves it out too; impossible for a file whose first
   * bytes are already in an uploaded part.
   */
  private async leaveOut(writer: ZipWriter, item: ExportItem, stored: number, failure: ExportFailure): Promise<void> {
    if (writer.position < stored) {
      throw new ExportFailed({ code: 'archive_changed', message: `A file already partly written to the zip can no longer be read as frozen (${failure.code}). Run the export again.` });
    }
    await this.worker.records.recordItemError(this.record.exportId, item.seq, failure);
    const errors = (await this.worker.records.itemErrors(this.record.exportId)).length;
    this.worker.log('warn', 'file left out of an export', { exportId: this.record.exportId, seq: item.seq, code: failure.code });
    if (errors > this.worker.settings.maxItemErrors) {
      throw new ExportFailed({ code: 'too_many_errors', message: `${errors} files could not be read from the archive (at most ${this.worker.settings.maxItemErrors} may be left out).` });
    }
  }

  private async writeDicom(writer: ZipWriter, item: ExportItem, read: ObjectRead, stored: number): Promise<void> {
    const expectedSha = item.sha256 as string;
    const pieces = read.pieces;
    const changed = (detail: string): ExportFailure => ({ code: 'archive_object_changed', message: `The archived file is not the one frozen for this export (${detail}).` });
    let first: FetchedPiece;
    try {
      first = await (pieces[0] as (typeof pieces)[number]).bytes;
    } catch (error) {
      for (const piece of pieces) piece.release();
      if (isMissingObject(error)) return this.leaveOut(writer, item, stored, { code: 'archive_object_missing', message: 'The archive no longer holds this file.' });
      if (error instanceof ArchiveObjectChanged) return this.leaveOut(writer, item, stored, changed('its bytes differ'));
      throw error;
    }
    if (pieces.length === 1) {
      // S3's stored SHA-256, already checked by the SDK against these bytes, saves hashing them again.
      let sha = first.verifiedSha256;
      if (sha === undefined) {
        const hash = createHash('sha256');
        for (const chunk of first.chunks) hash.update(chunk);
        sha = hash.digest('hex');
      }
      if (sha !== expectedSha) {
        pieces[0]?.release();
        return this.leaveOut(writer, item, stored, changed('sha256 differs'));
      }
      const entry = await writer.addWhole(item.path, first.chunks, this.entryOptions());
      pieces[0]?.release();
      this.finished(item, entry, null);
      return;
    }
    // A large file streams piece by piece; its checksum is known only at the end, when the entry is written.
    const hash = createHash('sha256');
    async function* chunks(): AsyncIterable<Buffer> {
      for (let i = 0; i < pieces.length; i++) {
        const piece = pieces[i] as (typeof pieces)[number];
        const fetched = i === 0 ? first : await piece.bytes;
        for (const chunk of fetched.chunks) {
          hash.update(chunk);
          yield chunk;
        }
        piece.release();
      }
    }
    let entry: WrittenEntry;
    try {
      entry = await writer.addStream(item.path, chunks(), { ...this.entryOptions(), maxUncompressedBytes: item.sizeBytes as number });
    } catch (error) {
      for (const piece of pieces) piece.release();
      if (isMissingObject(error) || error instanceof ArchiveObjectChanged) {
        throw new ExportFailed({ code: 'archive_changed', message: 'A large file changed in the archive while it was being exported. Run the export again.' });
      }
      throw error;
    }
    if (hash.digest('hex') !== expectedSha) throw new ExportFailed({ code: 'archive_changed', message: 'A large file in the archive is not the one frozen for this export (sha256 differs).' });
    this.finished(item, entry, null);
  }

  /** An upper bound of a manifest's size, for its ZIP64 decision (the same in every run). */
  private manifestBound(): number {
    return (this.record.totalFiles ?? 0) * 4096 + 65_536;
  }

  private async *manifestRows(): AsyncIterable<ManifestRow> {
    for await (const page of this.worker.records.allItems(this.record.exportId, this.plan)) {
      for (const item of page) {
        if (item.error || !['dicom', 'report', 'annotation', 'labels'].includes(item.kind)) continue;
        yield {
          path: item.path, kind: item.kind as ManifestKind, patientId: item.patientId, studyInstanceUID: item.studyUid, studyDate: item.studyDate,
          seriesInstanceUID: item.seriesUid, seriesNumber: item.seriesNumber, modality: item.modality, sopInstanceUID: item.sopUid,
          sopClassUID: item.sopClassUid, instanceNumber: item.instanceNumber, transferSyntaxUID: item.transferSyntaxUid,
          sizeBytes: item.sizeBytes ?? 0, sha256: item.sha256 ?? '', reportVersion: item.reportVersion,
        };
      }
    }
  }

  private async *manifestCsv(): AsyncIterable<Buffer> {
    yield Buffer.from(manifestCsvHeader(), 'utf8');
    let batch: string[] = [];
    for await (const row of this.manifestRows()) {
      batch.push(manifestCsvRow(row));
      if (batch.length >= 500) {
        yield Buffer.from(batch.join(''), 'utf8');
        batch = [];
      }
    }
    if (batch.length) yield Buffer.from(batch.join(''), 'utf8');
  }

  private async counts() {
    const row = (await this.worker.db.query<{ files: string; dicom: string; reports: string; annotations: string; labels: string; data: string | null; left_out: string; patients: string; studies: string }>(
      `SELECT count(*) FILTER (WHERE kind IN ('dicom', 'report', 'annotation', 'labels') AND error IS NULL) AS files,
         count(*) FILTER (WHERE kind = 'dicom' AND error IS NULL) AS dicom, count(*) FILTER (WHERE kind = 'report' AND error IS NULL) AS reports,
         count(*) FILTER (WHERE kind = 'annotation' AND error IS NULL) AS annotations,
         coalesce(sum(jsonb_array_length(document)) FILTER (WHERE kind = 'labels'), 0) AS labels,
         sum(size_bytes) FILTER (WHERE kind = 'dicom' AND error IS NULL) AS data, count(*) FILTER (WHERE error IS NOT NULL) AS left_out,
         count(DISTINCT patient_id) FILTER (WHERE kind = 'dicom' AND error IS NULL) AS patients, count(DISTINCT study_uid) FILTER (WHERE kind = 'dicom' AND error IS NULL) AS studies
       FROM export_items WHERE export_id = $1`,
      [this.record.exportId],
    )).rows[0];
    const n = (value: string | null | undefined) => Number(value ?? 0);
    return {
      files: n(row?.files), dicom: n(row?.dicom), reports: n(row?.reports), annotations: n(row?.annotations), labels: n(row?.labels),
      dataBytes: n(row?.data), leftOut: n(row?.left_out), patients: n(row?.patients), studies: n(row?.studies),
    };
  }

  private async manifestJson(): Promise<AsyncIterable<Buffer>> {
    const counts = await this.counts();
    const head = manifestJsonHead({
      exportId: this.record.exportId,
      name: this.record.name,
      frozenAt: this.plan.timestamp,
      layout: this.record.options.layout,
      compression: this.record.options.compression,
      selection: { filterQuery: this.record.selection.filterQuery, studies: this.record.selection.studies.length },
      counts: { files: counts.files, dicom: counts.dicom, reports: counts.reports, annotations: counts.annotations, labels: counts.labels, dataBytes: counts.dataBytes, leftOut: counts.leftOut },
    });
    const rows = this.manifestRows();
    return (async function* () {
      yield Buffer.from(head, 'utf8');
      let n = 0;
      let batch: string[] = [];
      for await (const row of rows) {
        batch.push(manifestJsonRow(row, n === 0));
        n++;
        if (batch.length >= 500) {
          yield Buffer.from(batch.join(''), 'utf8');
          batch = [];
        }
      }
      if (batch.length) yield Buffer.from(batch.join(''), 'utf8');
      yield Buffer.from(manifestJsonTail(n), 'utf8');
    })();
  }

  private async readme(): Promise<string> {
    const counts = await this.counts();
    const leftOut = await this.worker.records.itemErrors(this.record.exportId);
    return exportReadme({
      exportId: this.record.exportId,
      name: this.record.name,
      frozenAt: this.plan.timestamp,
      layout: this.record.options.layout,
      compression: this.record.options.compression,
      filterQuery: this.record.selection.filterQuery,
      listedStudies: this.record.selection.studies.length,
      rerunOf: this.record.rerunOf,
      counts: { patients: counts.patients, studies: counts.studies, dicom: counts.dicom, reports: counts.reports, annotations: counts.annotations, labels: counts.labels, dataBytes: counts.dataBytes },
      deidentification: this.record.deidSummary ?? { patientIdentityRemoved: [], methods: [], codes: [], longitudinalTemporalInformationModified: [], undeclared: 0 },
      leftOut: leftOut.map((e) => ({ path: e.path, code: e.code, message: e.message })),
    });
  }

  /** Every byte is in S3: complete the multipart upload (again, after a crash: a completed upload is recognized by its object). */
  private async complete(finished?: { zipBytes: number; zipFiles: number }): Promise<RunOutcome> {
    const { records, s3, exportsBucket } = this.worker;
    const id = this.record.exportId;
    if (finished) {
      if (!(await records.markCompleting(id, this.request.leaseOwner, finished))) {
        // Cancelled (or taken over) at the last moment.
        const current = await records.get(id);
        if (current && current.state !== 'running') await settleFinished(this.worker, current);
        return current?.state === 'cancelled' ? 'cancelled' : 'skipped';
      }
      this.record = (await records.get(id)) as ExportRecord;
    }
    const zipBytes = this.record.zipBytes as number;
    const zipFiles = this.record.zipFiles as number;
    const uploadId = this.record.multipartUploadId as string;
    const key = this.record.objectKey as string;
    const parts = await records.parts(id, uploadId);
    const total = parts.reduce((n, p) => n + p.sizeBytes, 0);
    if (parts.some((p, i) => p.partNumber !== i + 1) || total !== zipBytes) {
      throw new Error(`the recorded parts (${parts.length}, ${total} bytes) do not make up the zip (${zipBytes} bytes)`);
    }
    try {
      await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: exportsBucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag, ...(p.checksumCrc32 ? { ChecksumCRC32: p.checksumCrc32 } : {}) })) },
        }),
      );
    } catch (error) {
      if (!isNoSuchUpload(error)) throw error;
      // Completed by an earlier run that stopped before saying so: the object is there, whole.
      const head = await s3.send(new HeadObjectCommand({ Bucket: exportsBucket, Key: key }));
      if (head.ContentLength !== zipBytes) throw error;
    }
    const expiresAt = new Date(Date.now() + this.worker.settings.linkTtlSeconds * 1000);
    const done = await records.markDone(id, { zipBytes, zipFiles, expiresAt });
    if (!done) return 'skipped';
    await this.worker.audit.record({
      actorSub: done.ownerSub, actorName: done.ownerName ?? undefined, action: 'exports.done', resource: `export/${id}`,
      details: { files: zipFiles, zipBytes, runs: done.runs, expiresAt: expiresAt.toISOString() },
    });
    this.worker.log('info', 'export done', { exportId: id, zipBytes, files: zipFiles, runs: done.runs, ms: Date.now() - this.started });
    await noticeDone(this.worker.notice, done);
    return 'done';
  }
}
