/**
 * Upload batches and their files in PostgreSQL (`uploads`, `upload_files`):
 * created by the upload API, advanced by the ingest worker, read back as the
 * status a user watches. File names are the user's own labels and may be
 * identifying: they are shown to the upload's owner (and admins) only, never
 * logged.
 */
import type pg from 'pg';
import type { InstanceCounts } from '@medlake/shared/uploads/file-state';
import { discardedAfterReviewReason, settledFileState } from '@medlake/shared/uploads/file-state';
import { coalesceCalls } from './coalesce-calls';
import type { Queryable } from './database';
import { inTransaction } from './database';

export type FileState = 'waiting' | 'processing' | 'accepted' | 'duplicate' | 'rejected' | 'held';

export type { InstanceCounts };

export interface NewUploadFile {
  index: number;
  name: string;
  sizeBytes: number;
  sha256: string | undefined;
  key: string;
  multipartUploadId: string | undefined;
  partSizeBytes: number | undefined;
}

export interface NewUpload {
  uploadId: string;
  ownerSub: string;
  ownerName: string | undefined;
  client: string;
  expiresAt: Date;
  files: readonly NewUploadFile[];
}

export interface UploadFileRecord {
  uploadId: string;
  index: number;
  name: string;
  sizeBytes: number;
  sha256: string | undefined;
  key: string;
  multipartUploadId: string | undefined;
  partSizeBytes: number | undefined;
  state: FileState;
  reason: string | undefined;
  instances: InstanceCounts;
  studies: string[];
  details: unknown;
  updatedAt: Date;
}

export interface UploadRecord {
  uploadId: string;
  ownerSub: string;
  ownerName: string | undefined;
  client: string;
  createdAt: Date;
  expiresAt: Date;
}

export interface UploadTotals extends Record<FileState, number> {
  files: number;
  instances: InstanceCounts;
}

export interface UploadSummary extends UploadRecord {
  totals: UploadTotals;
}

/** The outcome of processing one file, as the ingest worker records it. */
export interface FileOutcome {
  state: Exclude<FileState, 'waiting' | 'processing'>;
  reason: string | undefined;
  instances: InstanceCounts;
  studies: readonly string[];
  /** PHI-free per-entry notes for archives (entry number, outcome, reason). */
  details: unknown;
  receivedBytes: number | undefined;
}

interface FileRow {
  upload_id: string; file_index: number; name: string; size_bytes: string; sha256: string | null; quarantine_key: string;
  multipart_upload_id: string | null; part_size_bytes: string | null; state: FileState; reason: string | null;
  instances_accepted: number; instances_duplicate: number; instances_rejected: number; instances_held: number;
  studies: string[]; details: unknown; updated_at: Date;
}

interface UploadRow {
  upload_id: string; owner_sub: string; owner_name: string | null; client: string; created_at: Date; expires_at: Date;
}

const fileColumns = `upload_id, file_index, name, size_bytes, sha256, quarantine_key, multipart_upload_id, part_size_bytes, state, reason,
  instances_accepted, instances_duplicate, instances_rejected, instances_held, studies, details, updated_at`;

function fileFromRow(row: FileRow): UploadFileRecord {
  return {
    uploadId: row.upload_id,
    index: row.file_index,
    name: row.name,
    sizeBytes: Number(row.size_bytes),
    sha256: row.sha256 ?? undefined,
    key: row.quarantine_key,
    multipartUploadId: row.multipart_upload_id ?? undefined,
    partSizeBytes: row.part_size_bytes === null ? undefined : Number(row.part_size_bytes),
    state: row.state,
    reason: row.reason ?? undefined,
    instances: { accepted: row.instances_accepted, duplicate: row.instances_duplicate, rejected: row.instances_rejected, held: row.instances_held },
    studies: row.studies,
    details: row.details,
    updatedAt: row.updated_at,
  };
}

function uploadFromRow(row: UploadRow): UploadRecord {
  return { uploadId: row.upload_id, ownerSub: row.owner_sub, ownerName: row.owner_name ?? undefined, client: row.client, createdAt: row.created_at, expiresAt: row.expires_at };
}

/** Owner of uploads that no batch announced (objects put straight into incoming/). */
export const unregisteredOwner = 'unregistered';

interface Claim { key: string; receivedBytes: number | undefined }
interface Outcome { uploadId: string; index: number; outcome: FileOutcome }

export class UploadRecords {
  /** Claims and outcomes of files processed at the same moment (the records of an SQS batch) share one statement each. */
  private readonly claims = coalesceCalls((batch: readonly Claim[]) => this.claimKeys(batch));
  private readonly outcomes = coalesceCalls((batch: readonly Outcome[]) => this.recordOutcomes(batch));

  constructor(private readonly db: pg.Pool) {}

  async create(upload: NewUpload): Promise<void> {
    await inTransaction(this.db, async (client) => {
      await client.query('INSERT INTO uploads (upload_id, owner_sub, owner_name, client, expires_at) VALUES ($1, $2, $3, $4, $5)', [upload.uploadId, upload.ownerSub, upload.ownerName ?? null, upload.client, upload.expiresAt]);
      const f = upload.files;
      await client.query(
        `INSERT INTO upload_files (upload_id, file_index, name, size_bytes, sha256, quarantine_key, multipart_upload_id, part_size_bytes)
         SELECT $1, * FROM unnest($2::int[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::bigint[])`,
        [upload.uploadId, f.map((x) => x.index), f.map((x) => x.name), f.map((x) => x.sizeBytes), f.map((x) => x.sha256 ?? null), f.map((x) => x.key), f.map((x) => x.multipartUploadId ?? null), f.map((x) => x.partSizeBytes ?? null)],
      );
    });
  }

  async upload(uploadId: string): Promise<UploadRecord | undefined> {
    const found = await this.db.query<UploadRow>('SELECT * FROM uploads WHERE upload_id = $1', [uploadId]);
    return found.rows[0] ? uploadFromRow(found.rows[0]) : undefined;
  }

  async files(uploadId: string): Promise<UploadFileRecord[]> {
    const found = await this.db.query<FileRow>(`SELECT ${fileColumns} FROM upload_files WHERE upload_id = $1 ORDER BY file_index`, [uploadId]);
    return found.rows.map(fileFromRow);
  }

  async file(uploadId: string, index: number): Promise<UploadFileRecord | undefined> {
    const found = await this.db.query<FileRow>(`SELECT ${fileColumns} FROM upload_files WHERE upload_id = $1 AND file_index = $2`, [uploadId, index]);
    return found.rows[0] ? fileFromRow(found.rows[0]) : undefined;
  }

  async fileByKey(key: string): Promise<UploadFileRecord | undefined> {
    const found = await this.db.query<FileRow>(`SELECT ${fileColumns} FROM upload_files WHERE quarantine_key = $1`, [key]);
    return found.rows[0] ? fileFromRow(found.rows[0]) : undefined;
  }

  /**
   * Records an object nobody announced as an upload of its own (owner
   * `unregistered`, visible to admins), so it is processed and reported like
   * any other. Idempotent: the id derives from the key.
   */
  async registerUnannounced(uploadId: string, key: string, name: string, sizeBytes: number): Promise<UploadFileRecord> {
    await this.db.query(`INSERT INTO uploads (upload_id, owner_sub, client, expires_at) VALUES ($1, $2, 's3', now()) ON CONFLICT (upload_id) DO NOTHING`, [uploadId, unregisteredOwner]);
    await this.db.query(
      `INSERT INTO upload_files (upload_id, file_index, name, size_bytes, quarantine_key) VALUES ($1, 0, $2, $3, $4) ON CONFLICT (upload_id, file_index) DO NOTHING`,
      [uploadId, name, sizeBytes, key],
    );
    const file = await this.file(uploadId, 0);
    if (!file) throw new Error('unregistered upload file vanished');
    return file;
  }

  /** Marks the file of a quarantine key as processing and answers it, in one round trip (shared with concurrent claims); undefined for unknown keys. */
  claimByKey(key: string, receivedBytes: number | undefined): Promise<UploadFileRecord | undefined> {
    return this.claims({ key, receivedBytes });
  }

  private async claimKeys(batch: readonly Claim[]): Promise<(UploadFileRecord | undefined)[]> {
    // A key twice in one batch (an event delivered twice at once) updates its row once; both callers get it.
    const found = await this.db.query<FileRow>(
      `UPDATE upload_files f SET state = 'processing', received_bytes = COALESCE(x.received, f.received_bytes), started_at = now(), updated_at = now()
       FROM unnest($1::text[], $2::bigint[]) AS x(key, received)
       WHERE f.quarantine_key = x.key RETURNING ${fileColumns}`,
      [batch.map((c) => c.key), batch.map((c) => c.receivedBytes ?? null)],
    );
    const byKey = new Map(found.rows.map((row) => [row.quarantine_key, fileFromRow(row)]));
    return batch.map((c) => byKey.get(c.key));
  }

  async markProcessing(uploadId: string, index: number, receivedBytes: number | undefined): Promise<void> {
    await this.db.query(
      `UPDATE upload_files SET state = 'processing', received_bytes = COALESCE($3, received_bytes), started_at = now(), updated_at = now()
       WHERE upload_id = $1 AND file_index = $2`,
      [uploadId, index, receivedBytes ?? null],
    );
  }

  /** Records a file's outcome (one statement for the outcomes of the same moment). */
  recordOutcome(uploadId: string, index: number, outcome: FileOutcome): Promise<void> {
    return this.outcomes({ uploadId, index, outcome });
  }

  private async recordOutcomes(batch: readonly Outcome[]): Promise<void[]> {
    const i = batch.map((b) => b.outcome.instances);
    await this.db.query(
      `UPDATE upload_files f SET state = x.state::upload_file_state, reason = x.reason, instances_accepted = x.accepted, instances_duplicate = x.duplicate,
         instances_rejected = x.rejected, instances_held = x.held, studies = ARRAY(SELECT jsonb_array_elements_text(x.studies)), details = x.details,
         received_bytes = COALESCE(x.received, f.received_bytes), finished_at = now(), updated_at = now()
       FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[], $5::int[], $6::int[], $7::int[], $8::int[], $9::jsonb[], $10::jsonb[], $11::bigint[])
         AS x(upload_id, file_index, state, reason, accepted, duplicate, rejected, held, studies, details, received)
       WHERE f.upload_id = x.upload_id AND f.file_index = x.file_index`,
      [batch.map((b) => b.uploadId), batch.map((b) => b.index), batch.map((b) => b.outcome.state), batch.map((b) => b.outcome.reason ?? null),
        i.map((x) => x.accepted), i.map((x) => x.duplicate), i.map((x) => x.rejected), i.map((x) => x.held),
        batch.map((b) => JSON.stringify(b.outcome.studies)), batch.map((b) => JSON.stringify(b.outcome.details ?? [])), batch.map((b) => b.outcome.receivedBytes ?? null)],
    );
    return batch.map(() => undefined);
  }

  /** Marks a file rejected unless it already has an outcome (used when its message is given up). */
  async rejectIfUnfinished(uploadId: string, index: number, reason: string): Promise<void> {
    await this.db.query(
      `UPDATE upload_files SET state = 'rejected', reason = $3, finished_at = now(), updated_at = now()
       WHERE upload_id = $1 AND file_index = $2 AND state IN ('waiting', 'processing')`,
      [uploadId, index, reason],
    );
  }

  /** Newest first; `before` pages backwards (the last item's createdAt and uploadId). */
  async list(query: { ownerSub?: string | undefined; limit: number; before?: { createdAt: Date; uploadId: string } | undefined }): Promise<UploadSummary[]> {
    const where: string[] = [];
    const values: unknown[] = [];
    if (query.ownerSub) {
      values.push(query.ownerSub);
      where.push(`u.owner_sub = $${values.length}`);
    }
    if (query.before) {
      values.push(query.before.createdAt, query.before.uploadId);
      where.push(`(u.created_at, u.upload_id) < ($${values.length - 1}, $${values.length})`);
    }
    values.push(query.limit);
    const found = await this.db.query<UploadRow & TotalsRow>(
      `SELECT u.*, t.* FROM uploads u
       CROSS JOIN LATERAL (${totalsSql('u.upload_id')}) t
       ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY u.created_at DESC, u.upload_id DESC LIMIT $${values.length}`,
      values,
    );
    return found.rows.map((row) => ({ ...uploadFromRow(row), totals: totalsFromRow(row) }));
  }

  async totals(uploadId: string): Promise<UploadTotals> {
    const found = await this.db.query<TotalsRow>(totalsSql('$1'), [uploadId]);
    return totalsFromRow(found.rows[0] as TotalsRow);
  }
}

interface TotalsRow {
  files: string; waiting: string; processing: string; accepted: string; duplicate: string; rejected: string; held: string;
  i_accepted: string; i_duplicate: string; i_rejected: string; i_held: string;
}

function totalsSql(uploadId: string): string {
  return `SELECT count(*) AS files,
    count(*) FILTER (WHERE state = 'waiting') AS waiting, count(*) FILTER (WHERE state = 'processing') AS processing,
    count(*) FILTER (WHERE state = 'accepted') AS accepted, count(*) FILTER (WHERE state = 'duplicate') AS duplicate,
    count(*) FILTER (WHERE state = 'rejected') AS rejected, count(*) FILTER (WHERE state = 'held') AS held,
    coalesce(sum(instances_accepted), 0) AS i_accepted, coalesce(sum(instances_duplicate), 0) AS i_duplicate,
    coalesce(sum(instances_rejected), 0) AS i_rejected, coalesce(sum(instances_held), 0) AS i_held
    FROM upload_files WHERE upload_id = ${uploadId}`;
}

function totalsFromRow(row: TotalsRow): UploadTotals {
  return {
    files: Number(row.files), waiting: Number(row.waiting), processing: Number(row.processing), accepted: Number(row.accepted),
    duplicate: Number(row.duplicate), rejected: Number(row.rejected), held: Number(row.held),
    instances: { accepted: Number(row.i_accepted), duplicate: Number(row.i_duplicate), rejected: Number(row.i_rejected), held: Number(row.i_held) },
  };
}

/** Where a reviewed held instance goes: published (or already in the lake), or discarded (counted as rejected). */
export type HeldReviewOutcome = 'accepted' | 'duplicate' | 'rejected';

/**
 * An administrator decided about a held instance of this file: it moves from
 * the held count to the outcome's, and the file's state and reason follow by
 * the rule ingest uses. Runs on the deciding transaction's client (the row is
 * locked), so the file's status changes with the decision or not at all.
 */
export async function applyHeldReview(client: Queryable, uploadId: string, fileIndex: number, outcome: HeldReviewOutcome): Promise<void> {
  const row = (await client.query<FileRow>(`SELECT ${fileColumns} FROM upload_files WHERE upload_id = $1 AND file_index = $2 FOR UPDATE`, [uploadId, fileIndex])).rows[0];
  // Nothing held any more: the file was processed again since (its counts are those of the new run).
  if (!row || row.instances_held < 1) return;
  const counts: InstanceCounts = { accepted: row.instances_accepted, duplicate: row.instances_duplicate, rejected: row.instances_rejected, held: row.instances_held - 1 };
  counts[outcome] += 1;
  const settled = settledFileState(counts) ?? { state: 'rejected', reason: discardedAfterReviewReason };
  await client.query(
    `UPDATE upload_files SET state = $3::upload_file_state, reason = $4, instances_accepted = $5, instances_duplicate = $6, instances_rejected = $7, instances_held = $8, updated_at = now()
     WHERE upload_id = $1 AND file_index = $2`,
    [uploadId, fileIndex, settled.state, settled.reason ?? null, counts.accepted, counts.duplicate, counts.rejected, counts.held],
  );
}
