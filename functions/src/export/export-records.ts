/**
 * Exports in PostgreSQL (`exports`, `export_items`, `export_parts`,
 * migration 0040): created by the API, advanced by the worker under a lease,
 * read back as the status a user watches. Nothing here holds PHI: exports
 * name studies by the lake's UIDs and patients by pseudonyms.
 */
import type pg from 'pg';
import type { ExportOptions, StoredExportState } from '@medlake/shared/export/export-options';
import type { ExportEstimate } from '@medlake/shared/export/export-view';
import type { DeidSummary } from '@medlake/shared/export/readme';
import type { Queryable } from '../adapters/database';
import { inTransaction } from '../adapters/database';
import type { CentralEntry, DosTimestamp } from './zip-records';
import { dosTimestamp } from './zip-records';
import type { UploadedPart } from './part-uploader';
import type { WrittenEntry } from './zip-writer';

/** The selection as stored: the filter as JSON and its canonical query string (null: no filter). */
export interface StoredSelection {
  filter: Record<string, unknown> | null;
  filterQuery: string | null;
  studies: string[];
}

/** Fixed when the list is frozen; a resumed run writes with exactly these values. */
export interface ZipPlan {
  partSizeBytes: number;
  wholeObjectMaxBytes: number;
  rangeBytes: number;
  deflateLevel: number;
  /** The zip entries' timestamp (the moment the list was frozen). */
  timestamp: string;
  /** Deflated bytes are only reproducible by the same build of zlib on the same architecture. */
  build: { node: string; zlib: string; arch: string };
}

export interface ExportFailure {
  code: string;
  message: string;
}

export interface ExportRecord {
  exportId: string;
  ownerSub: string;
  ownerName: string | null;
  ownerEmail: string | null;
  name: string | null;
  state: StoredExportState;
  selection: StoredSelection;
  options: ExportOptions;
  rerunOf: string | null;
  estimate: ExportEstimate;
  frozenAt: Date | null;
  plan: ZipPlan | null;
  totalFiles: number | null;
  totalBytes: number | null;
  deidSummary: DeidSummary | null;
  objectKey: string | null;
  multipartUploadId: string | null;
  completing: boolean;
  filesDone: number;
  bytesDone: number;
  zipBytes: number | null;
  zipFiles: number | null;
  failure: ExportFailure | null;
  runSeq: number;
  runs: number;
  leaseOwner: string | null;
  leaseUntil: Date | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  cancelledAt: Date | null;
  expiresAt: Date | null;
  notifiedAt: Date | null;
}

interface ExportRow {
  export_id: string; owner_sub: string; owner_name: string | null; owner_email: string | null; name: string | null; state: StoredExportState;
  selection: StoredSelection; options: ExportOptions; rerun_of: string | null; estimate: ExportEstimate; frozen_at: Date | null; plan: ZipPlan | null;
  total_files: number | null; total_bytes: string | null; deid_summary: DeidSummary | null; object_key: string | null; multipart_upload_id: string | null;
  completing: boolean; files_done: number; bytes_done: string; zip_bytes: string | null; zip_files: number | null; failure: ExportFailure | null;
  run_seq: number; runs: number; lease_owner: string | null; lease_until: Date | null; created_at: Date; started_at: Date | null; finished_at: Date | null;
  cancelled_at: Date | null; expires_at: Date | null; notified_at: Date | null;
}

const num = (value: string | null): number | null => (value === null ? null : Number(value));

function fromRow(r: ExportRow): ExportRecord {
  return {
    exportId: r.export_id, ownerSub: r.owner_sub, ownerName: r.owner_name, ownerEmail: r.owner_email, name: r.name, state: r.state,
    selection: r.selection, options: r.options, rerunOf: r.rerun_of, estimate: r.estimate, frozenAt: r.frozen_at, plan: r.plan,
    totalFiles: r.total_files, totalBytes: num(r.total_bytes), deidSummary: r.deid_summary, objectKey: r.object_key, multipartUploadId: r.multipart_upload_id,
    completing: r.completing, filesDone: r.files_done, bytesDone: Number(r.bytes_done), zipBytes: num(r.zip_bytes), zipFiles: r.zip_files, failure: r.failure,
    runSeq: r.run_seq, runs: r.runs, leaseOwner: r.lease_owner, leaseUntil: r.lease_until, createdAt: r.created_at, startedAt: r.started_at,
    finishedAt: r.finished_at, cancelledAt: r.cancelled_at, expiresAt: r.expires_at, notifiedAt: r.notified_at,
  };
}

export type ItemKind = 'dicom' | 'report' | 'annotation' | 'labels' | 'manifest-csv' | 'manifest-json' | 'readme';

export interface ExportItem {
  seq: number;
  kind: ItemKind;
  path: string;
  patientId: string | null;
  studyUid: string | null;
  studyDate: string | null;
  seriesUid: string | null;
  seriesNumber: number | null;
  modality: string | null;
  sopUid: string | null;
  sopClassUid: string | null;
  instanceNumber: number | null;
  transferSyntaxUid: string | null;
  archiveKey: string | null;
  sha256: string | null;
  sizeBytes: number | null;
  reportVersion: number | null;
  document: unknown;
  entry: WrittenEntry | null;
  error: ExportFailure | null;
}

interface ItemRow {
  seq: number; kind: ItemKind; path: string; patient_id: string | null; study_uid: string | null; study_date: string | null; series_uid: string | null;
  series_number: number | null; modality: string | null; sop_uid: string | null; sop_class_uid: string | null; instance_number: number | null;
  transfer_syntax_uid: string | null; archive_key: string | null; sha256: string | null; size_bytes: string | null; report_version: number | null;
  document: unknown; entry_offset: string | null; entry_end: string | null; entry_crc32: string | null; entry_compressed_bytes: string | null;
  entry_method: number | null; entry_descriptor: boolean | null; entry_zip64: boolean | null; error: ExportFailure | null;
}

const itemColumns = `seq, kind, path, patient_id, study_uid, to_char(study_date, 'YYYY-MM-DD') AS study_date, series_uid, series_number, modality, sop_uid,
  sop_class_uid, instance_number, transfer_syntax_uid, archive_key, sha256, size_bytes, report_version, document, entry_offset, entry_end, entry_crc32,
  entry_compressed_bytes, entry_method, entry_descriptor, entry_zip64, error`;

function itemFromRow(r: ItemRow, plan: ZipPlan): ExportItem {
  const entry: WrittenEntry | null = r.entry_offset === null || r.entry_end === null
    ? null
    : {
        path: r.path,
        method: (r.entry_method ?? 0) as WrittenEntry['method'],
        timestamp: timestampOf(plan),
        descriptor: Boolean(r.entry_descriptor),
        zip64: Boolean(r.entry_zip64),
        crc32: Number(r.entry_crc32),
        compressedSize: Number(r.entry_compressed_bytes),
        uncompressedSize: Number(r.size_bytes),
        offset: Number(r.entry_offset),
        end: Number(r.entry_end),
      };
  return {
    seq: r.seq, kind: r.kind, path: r.path, patientId: r.patient_id, studyUid: r.study_uid, studyDate: r.study_date, seriesUid: r.series_uid,
    seriesNumber: r.series_number, modality: r.modality, sopUid: r.sop_uid, sopClassUid: r.sop_class_uid, instanceNumber: r.instance_number,
    transferSyntaxUid: r.transfer_syntax_uid, archiveKey: r.archive_key, sha256: r.sha256, sizeBytes: num(r.size_bytes), reportVersion: r.report_version,
    document: r.document, entry, error: r.error,
  };
}

export function timestampOf(plan: ZipPlan): DosTimestamp {
  return dosTimestamp(new Date(plan.timestamp));
}

/** An entry written by a run, with the sha256 of a generated file's bytes (frozen files already have theirs). */
export interface FinishedEntry {
  seq: number;
  entry: WrittenEntry;
  sha256: string | null;
}

export interface NewExport {
  exportId: string;
  ownerSub: string;
  ownerName: string | null;
  ownerEmail: string | null;
  name: string | null;
  selection: StoredSelection;
  options: ExportOptions;
  estimate: ExportEstimate;
  rerunOf: string | null;
}

export interface ListQuery {
  ownerSub: string | undefined;
  limit: number;
  before: { createdAt: Date; exportId: string } | undefined;
}

export type LeaseAnswer =
  | { kind: 'acquired'; record: ExportRecord }
  | { kind: 'finished'; record: ExportRecord }
  | { kind: 'stale'; record: ExportRecord }
  | { kind: 'busy'; record: ExportRecord; leaseUntil: Date }
  | { kind: 'missing' };

export class ExportRecords {
  constructor(private readonly db: pg.Pool) {}

  /**
   * Inserts the export unless the owner already has `maxActive` queued or
   * running ones: answers the active count then. An advisory lock per owner
   * makes two simultaneous requests count one after the other.
   */
  async createWithinLimit(entry: NewExport, maxActive: number): Promise<{ created: true } | { created: false; active: number }> {
    return inTransaction(this.db, async (client, transaction): Promise<{ created: true } | { created: false; active: number }> => {
      await client.query("SELECT pg_advisory_xact_lock(hashtext('medlake.exports.owner'), hashtext($1))", [entry.ownerSub]);
      const active = Number((await client.query<{ n: string }>("SELECT count(*) AS n FROM exports WHERE owner_sub = $1 AND state IN ('queued', 'running')", [entry.ownerSub])).rows[0]?.n ?? 0);
      if (active >= maxActive) return transaction.rollback({ created: false, active });
      await client.query(
        `INSERT INTO exports (export_id, owner_sub, owner_name, owner_email, name, selection, options, estimate, rerun_of)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [entry.exportId, entry.ownerSub, entry.ownerName, entry.ownerEmail, entry.name, JSON.stringify(entry.selection), JSON.stringify(entry.options), JSON.stringify(entry.estimate), entry.rerunOf],
      );
      return { created: true };
    });
  }

  /** What a re-run of a frozen export will hold (its estimate). */
  async frozenEstimate(exportId: string): Promise<Omit<ExportEstimate, 'bytes'> & { dataBytes: number }> {
    const row = (await this.db.query<{ studies: string; instances: string; reports: string; annotations: string; data: string | null }>(
      `SELECT count(DISTINCT study_uid) FILTER (WHERE kind = 'dicom') AS studies, count(*) FILTER (WHERE kind = 'dicom') AS instances,
         count(*) FILTER (WHERE kind = 'report') AS reports, count(*) FILTER (WHERE kind = 'annotation') AS annotations,
         sum(size_bytes) FILTER (WHERE kind IN ('dicom', 'report')) AS data
       FROM export_items WHERE export_id = $1`,
      [exportId],
    )).rows[0];
    return { studies: Number(row?.studies ?? 0), instances: Number(row?.instances ?? 0), reports: Number(row?.reports ?? 0), annotations: Number(row?.annotations ?? 0), dataBytes: Number(row?.data ?? 0) };
  }

  /** A failed request message: the export never reaches the worker. */
  async remove(exportId: string): Promise<void> {
    await this.db.query('DELETE FROM exports WHERE export_id = $1', [exportId]);
  }

  async get(exportId: string, db: Queryable = this.db): Promise<ExportRecord | undefined> {
    const row = (await db.query<ExportRow>('SELECT * FROM exports WHERE export_id = $1', [exportId])).rows[0];
    return row ? fromRow(row) : undefined;
  }

  /** Newest first; one owner's, or everybody's when `ownerSub` is undefined. */
  async list(query: ListQuery): Promise<ExportRecord[]> {
    const values: unknown[] = [];
    const where: string[] = [];
    if (query.ownerSub !== undefined) {
      values.push(query.ownerSub);
      where.push(`owner_sub = $${values.length}`);
    }
    if (query.before) {
      values.push(query.before.createdAt, query.before.exportId);
      // Cursors carry milliseconds: compare at that precision so rows in the same millisecond are not skipped.
      where.push(`(date_trunc('milliseconds', created_at), export_id) < ($${values.length - 1}, $${values.length}::uuid)`);
    }
    values.push(query.limit);
    const rows = await this.db.query<ExportRow>(
      `SELECT * FROM exports ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY date_trunc('milliseconds', created_at) DESC, export_id DESC LIMIT $${values.length}`,
      values,
    );
    return rows.rows.map(fromRow);
  }

  /** Cancels a queued or running export; undefined when it is not active (any more). */
  async cancel(exportId: string): Promise<ExportRecord | undefined> {
    const row = (await this.db.query<ExportRow>(
      `UPDATE exports SET state = 'cancelled', cancelled_at = now(), finished_at = now() WHERE export_id = $1 AND state IN ('queued', 'running') RETURNING *`,
      [exportId],
    )).rows[0];
    return row ? fromRow(row) : undefined;
  }

  /**
   * Takes the export for one run: only if it is still to be worked on, the
   * message is not older than the last continuation, and nobody holds a
   * live lease. The lease lasts `leaseMs` and is renewed with every part.
   */
  async acquire(exportId: string, owner: string, run: number, leaseMs: number): Promise<LeaseAnswer> {
    const row = (await this.db.query<ExportRow>(
      `UPDATE exports SET lease_owner = $2, lease_until = now() + $4 * interval '1 millisecond', run_seq = $3, runs = runs + 1,
         state = 'running', started_at = coalesce(started_at, now())
       WHERE export_id = $1 AND state IN ('queued', 'running') AND run_seq <= $3 AND (lease_until IS NULL OR lease_until < now() OR lease_owner = $2)
       RETURNING *`,
      [exportId, owner, run, Math.round(leaseMs)],
    )).rows[0];
    if (row) return { kind: 'acquired', record: fromRow(row) };
    const current = await this.get(exportId);
    if (!current) return { kind: 'missing' };
    if (current.state !== 'queued' && current.state !== 'running') return { kind: 'finished', record: current };
    if (current.runSeq > run) return { kind: 'stale', record: current };
    return { kind: 'busy', record: current, leaseUntil: current.leaseUntil ?? new Date() };
  }

  /** Gives the lease up (end of a run); a continuation message may take it at once. */
  async release(exportId: string, owner: string): Promise<void> {
    await this.db.query('UPDATE exports SET lease_owner = NULL, lease_until = NULL WHERE export_id = $1 AND lease_owner = $2', [exportId, owner]);
  }

  /** Raises the run sequence so that older messages of this export are recognized as stale. */
  async advanceRun(exportId: string, run: number): Promise<void> {
    await this.db.query('UPDATE exports SET run_seq = GREATEST(run_seq, $2) WHERE export_id = $1', [exportId, run]);
  }

  /**
   * Records an uploaded part, the entries finished since the last call, the
   * progress, and renews the lease. Answers the export's state (a user may
   * have cancelled it) or 'lost' when another run holds the lease now.
   */
  async recordProgress(exportId: string, owner: string, uploadId: string, part: UploadedPart | undefined, entries: readonly FinishedEntry[], progress: { filesDone: number; bytesDone: number }, leaseMs: number): Promise<StoredExportState | 'lost'> {
    return inTransaction(this.db, async (client) => {
      if (part) {
        await client.query(
          `INSERT INTO export_parts (export_id, upload_id, part_number, etag, checksum_crc32, size_bytes) VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (export_id, upload_id, part_number) DO UPDATE SET etag = EXCLUDED.etag, checksum_crc32 = EXCLUDED.checksum_crc32, size_bytes = EXCLUDED.size_bytes, uploaded_at = now()`,
          [exportId, uploadId, part.partNumber, part.etag, part.checksumCrc32 ?? null, part.sizeBytes],
        );
      }
      if (entries.length > 0) await recordEntries(client, exportId, entries);
      const row = (await client.query<{ state: StoredExportState }>(
        `UPDATE exports SET files_done = $3, bytes_done = $4, lease_until = now() + $5 * interval '1 millisecond'
         WHERE export_id = $1 AND lease_owner = $2 RETURNING state`,
        [exportId, owner, progress.filesDone, progress.bytesDone, Math.round(leaseMs)],
      )).rows[0];
      return row?.state ?? 'lost';
    });
  }

  async startUpload(exportId: string, objectKey: string, uploadId: string): Promise<void> {
    await this.db.query('UPDATE exports SET object_key = $2, multipart_upload_id = $3 WHERE export_id = $1', [exportId, objectKey, uploadId]);
  }

  /** A zip started over (e.g. another zlib build for a deflate export): parts and entry records go. */
  async restartZip(exportId: string): Promise<void> {
    await inTransaction(this.db, async (client) => {
      await client.query('DELETE FROM export_parts WHERE export_id = $1', [exportId]);
      await client.query(
        `UPDATE export_items SET entry_offset = NULL, entry_end = NULL, entry_crc32 = NULL, entry_compressed_bytes = NULL, entry_method = NULL, entry_descriptor = NULL, entry_zip64 = NULL
         WHERE export_id = $1`,
        [exportId],
      );
      await client.query('UPDATE exports SET multipart_upload_id = NULL, files_done = 0, bytes_done = 0, completing = false WHERE export_id = $1', [exportId]);
    });
  }

  async updatePlan(exportId: string, plan: ZipPlan): Promise<void> {
    await this.db.query('UPDATE exports SET plan = $2 WHERE export_id = $1', [exportId, JSON.stringify(plan)]);
  }

  async parts(exportId: string, uploadId: string): Promise<UploadedPart[]> {
    const rows = await this.db.query<{ part_number: number; etag: string; checksum_crc32: string | null; size_bytes: string }>(
      'SELECT part_number, etag, checksum_crc32, size_bytes FROM export_parts WHERE export_id = $1 AND upload_id = $2 ORDER BY part_number',
      [exportId, uploadId],
    );
    return rows.rows.map((r) => ({ partNumber: r.part_number, etag: r.etag, checksumCrc32: r.checksum_crc32 ?? undefined, sizeBytes: Number(r.size_bytes) }));
  }

  /** Items from `fromSeq` on, in zip order, a page at a time. */
  async items(exportId: string, plan: ZipPlan, fromSeq: number, limit: number): Promise<ExportItem[]> {
    const rows = await this.db.query<ItemRow>(`SELECT ${itemColumns} FROM export_items WHERE export_id = $1 AND seq >= $2 ORDER BY seq LIMIT $3`, [exportId, fromSeq, limit]);
    return rows.rows.map((r) => itemFromRow(r, plan));
  }

  async *allItems(exportId: string, plan: ZipPlan, fromSeq = 0, pageSize = 500): AsyncIterable<ExportItem[]> {
    let next = fromSeq;
    for (;;) {
      const page = await this.items(exportId, plan, next, pageSize);
      if (page.length === 0) return;
      yield page;
      next = (page[page.length - 1] as ExportItem).seq + 1;
    }
  }

  /** Where a run starts: the first item whose entry is not entirely inside the first `storedBytes` of the zip. */
  async resumePoint(exportId: string, storedBytes: number): Promise<{ seq: number; offset: number } | { seq: null; offset: number }> {
    const row = (await this.db.query<{ seq: number | null; offset: string | null; last_end: string | null }>(
      `WITH first AS (
         SELECT seq, entry_offset FROM export_items
         WHERE export_id = $1 AND error IS NULL AND (entry_end IS NULL OR entry_end > $2)
         ORDER BY seq LIMIT 1
       )
       SELECT (SELECT seq FROM first) AS seq, (SELECT entry_offset FROM first) AS offset,
         (SELECT max(entry_end) FROM export_items WHERE export_id = $1 AND error IS NULL AND entry_end IS NOT NULL
            AND seq < coalesce((SELECT seq FROM first), 2147483647)) AS last_end`,
      [exportId, storedBytes],
    )).rows[0];
    const previousEnd = Number(row?.last_end ?? 0);
    if (row?.seq === null || row?.seq === undefined) return { seq: null, offset: previousEnd };
    return { seq: row.seq, offset: row.offset === null ? previousEnd : Number(row.offset) };
  }

  /** Entries written and data bytes of them (progress after a resume). */
  async progressOf(exportId: string): Promise<{ filesDone: number; bytesDone: number }> {
    const row = (await this.db.query<{ files: string; bytes: string | null }>(
      'SELECT count(*) AS files, sum(size_bytes) AS bytes FROM export_items WHERE export_id = $1 AND entry_end IS NOT NULL',
      [exportId],
    )).rows[0];
    return { filesDone: Number(row?.files ?? 0), bytesDone: Number(row?.bytes ?? 0) };
  }

  /** Leaves an item out of the zip, for good (a resumed run leaves it out too). */
  async recordItemError(exportId: string, seq: number, error: ExportFailure): Promise<void> {
    await this.db.query('UPDATE export_items SET error = $3 WHERE export_id = $1 AND seq = $2', [exportId, seq, JSON.stringify(error)]);
  }

  async itemErrors(exportId: string): Promise<(ExportFailure & { path: string; studyUid: string | null; sopUid: string | null })[]> {
    const rows = await this.db.query<{ path: string; study_uid: string | null; sop_uid: string | null; error: ExportFailure }>(
      'SELECT path, study_uid, sop_uid, error FROM export_items WHERE export_id = $1 AND error IS NOT NULL ORDER BY seq',
      [exportId],
    );
    return rows.rows.map((r) => ({ ...r.error, path: r.path, studyUid: r.study_uid, sopUid: r.sop_uid }));
  }

  /** Central directory records of the written entries, in zip order, a page at a time. */
  async *centralEntries(exportId: string, plan: ZipPlan, pageSize = 2000): AsyncIterable<CentralEntry[]> {
    for await (const page of this.allItems(exportId, plan, 0, pageSize)) {
      yield page.filter((item) => item.entry !== null).map((item) => item.entry as CentralEntry);
    }
  }

  /** Every byte is uploaded: remember the zip's size, so that a crash during completion is finished by the next run. */
  async markCompleting(exportId: string, owner: string, zip: { zipBytes: number; zipFiles: number }): Promise<boolean> {
    const result = await this.db.query(
      "UPDATE exports SET completing = true, zip_bytes = $3, zip_files = $4 WHERE export_id = $1 AND lease_owner = $2 AND state = 'running'",
      [exportId, owner, zip.zipBytes, zip.zipFiles],
    );
    return (result.rowCount ?? 0) > 0;
  }

  async markDone(exportId: string, values: { zipBytes: number; zipFiles: number; expiresAt: Date }): Promise<ExportRecord | undefined> {
    const row = (await this.db.query<ExportRow>(
      `UPDATE exports SET state = 'done', zip_bytes = $2, zip_files = $3, expires_at = $4, finished_at = now(), completing = false, lease_owner = NULL, lease_until = NULL,
         files_done = coalesce(total_files, files_done), bytes_done = coalesce(total_bytes, bytes_done)
       WHERE export_id = $1 AND state = 'running' RETURNING *`,
      [exportId, values.zipBytes, values.zipFiles, values.expiresAt],
    )).rows[0];
    return row ? fromRow(row) : undefined;
  }

  async markFailed(exportId: string, failure: ExportFailure): Promise<ExportRecord | undefined> {
    const row = (await this.db.query<ExportRow>(
      `UPDATE exports SET state = 'failed', failure = $2, finished_at = now(), lease_owner = NULL, lease_until = NULL
       WHERE export_id = $1 AND state IN ('queued', 'running') RETURNING *`,
      [exportId, JSON.stringify(failure)],
    )).rows[0];
    return row ? fromRow(row) : undefined;
  }

  /** Claims the right to send the email (once); answers false when it was sent already. */
  async claimNotification(exportId: string): Promise<boolean> {
    return ((await this.db.query('UPDATE exports SET notified_at = now() WHERE export_id = $1 AND notified_at IS NULL', [exportId])).rowCount ?? 0) > 0;
  }

  async unclaimNotification(exportId: string): Promise<void> {
    await this.db.query('UPDATE exports SET notified_at = NULL WHERE export_id = $1', [exportId]);
  }

  /** The multipart upload is gone (aborted or completed): forget it so nothing tries it again. */
  async forgetUpload(exportId: string): Promise<void> {
    await this.db.query('UPDATE exports SET multipart_upload_id = NULL WHERE export_id = $1', [exportId]);
  }
}

async function recordEntries(client: pg.PoolClient, exportId: string, finished: readonly FinishedEntry[]): Promise<void> {
  const entries = finished.map((f) => f.entry);
  await client.query(
    `UPDATE export_items i SET entry_offset = v.entry_offset, entry_end = v.entry_end, entry_crc32 = v.crc, entry_compressed_bytes = v.compressed,
       entry_method = v.method, entry_descriptor = v.descriptor, entry_zip64 = v.zip64, size_bytes = v.size,
       sha256 = coalesce(i.sha256, v.sha256)
     FROM unnest($2::int[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::smallint[], $8::boolean[], $9::boolean[], $10::bigint[], $11::text[])
       AS v(seq, entry_offset, entry_end, crc, compressed, method, descriptor, zip64, size, sha256)
     WHERE i.export_id = $1 AND i.seq = v.seq`,
    [
      exportId,
      finished.map((f) => f.seq),
      entries.map((e) => e.offset),
      entries.map((e) => e.end),
      entries.map((e) => e.crc32 >>> 0),
      entries.map((e) => e.compressedSize),
      entries.map((e) => e.method),
      entries.map((e) => e.descriptor),
      entries.map((e) => e.zip64),
      entries.map((e) => e.uncompressedSize),
      finished.map((f) => f.sha256),
    ],
  );
}
