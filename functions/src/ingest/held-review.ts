/**
 * Review of held instances (burned-in annotation policy): an administrator
 * looks at each held image and its de-identified attributes, then releases it
 * into the lake or discards it, always with a reason.
 *
 * - Releasing publishes the held, already de-identified file through the
 *   index writer ingest uses (same archive keys, versions, counters, hooks:
 *   waiting reports are linked, subscriptions hear of the study), with the
 *   decision, the upload file's counts and the audit row in the publishing
 *   transaction. Asking again changes nothing.
 * - Discarding keeps the file under held/ (evidence of what arrived) but
 *   marks it discarded: it is never indexed and cannot be released later.
 * Only de-identified attributes are shown: never the upload's file names or
 * anything from the PHI vault.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { burnedInProneSopClasses } from '@medlake/shared/dicom/burned-in';
import type { HeldAttributes, HeldState, HeldView } from '@medlake/shared/uploads/held-instance';
import type { DicomJson as SharedDicomJson } from '@medlake/shared/dicom/dicom-json';
import { numberValue, stringValue, stringValues } from '@medlake/shared/dicom/dicom-json-read';
import { indexFields } from '@medlake/shared/dicom/index-fields';
import { parsePart10 } from '@medlake/shared/dicom/parse-part10';
import type { AuditEntry } from '../adapters/audit-log';
import type { Queryable } from '../adapters/database';
import { inTransaction } from '../adapters/database';
import type { IndexDecision } from '../adapters/index-writer';
import { HeldReviewConflict } from '../adapters/index-writer';
import { recordHeldDecision } from '../adapters/held-decision';
import { archiveReader } from '../dicomweb/archive-reader';
import type { DicomJson } from '../dicomweb/dicom-json';
import { canRender } from '../dicomweb/rendered';
import type { RenderTarget } from '../dicomweb/rendered';
import { conflict, notFound } from '../http/errors';
import type { IngestContext } from './ingest-context';
import { instanceToIndex } from './store-instance';

export { heldStates } from '@medlake/shared/uploads/held-instance';
export type { HeldAttributes, HeldState, HeldView };

export interface HeldQuery {
  state: HeldState | 'all';
  uploadId?: string | undefined;
  /** Words of the hold reason (case-insensitive), e.g. "Secondary Capture". */
  reason?: string | undefined;
  limit: number;
  before?: { createdAt: Date; sopUid: string } | undefined;
}

export interface HeldRow {
  sop_uid: string;
  upload_id: string | null;
  file_index: number | null;
  reason: string;
  archive_key: string;
  attributes: DicomJson;
  created_at: Date;
  decided_at: Date | null;
  decided_by: string | null;
  decision: 'released' | 'discarded' | null;
  decision_reason: string | null;
  sha256: string | null;
  size_bytes: string | null;
  study_uid: string | null;
  series_uid: string | null;
  frame_ranges: [number, number][] | null;
  frame_fragments: [number, number][][] | null;
  pixel_data_offset: string | null;
  pixel_data_length: string | null;
  transfer_syntax_uid: string | null;
  source_uid_hash: string | null;
  source_sha256: string | null;
}

const stateOf = (row: HeldRow): HeldState => (row.decision === 'released' ? 'released' : row.decision === 'discarded' ? 'discarded' : 'waiting');

function attributesOf(row: HeldRow): HeldAttributes {
  const json = row.attributes;
  const sopClassUid = stringValue(json, '00080016');
  const imageType = stringValues(json, '00080008');
  return {
    sopClassUid,
    sopClassName: sopClassUid ? (burnedInProneSopClasses.get(sopClassUid) ?? null) : null,
    modality: stringValue(json, '00080060'),
    burnedInAnnotation: stringValue(json, '00280301'),
    patientId: stringValue(json, '00100020'),
    patientSex: stringValue(json, '00100040'),
    patientAge: stringValue(json, '00101010'),
    studyDate: stringValue(json, '00080020'),
    studyDescription: stringValue(json, '00081030'),
    seriesDescription: stringValue(json, '0008103E'),
    bodyPart: stringValue(json, '00180015'),
    imageType: imageType.length ? imageType : null,
    rows: numberValue(json, '00280010'),
    columns: numberValue(json, '00280011'),
    numberOfFrames: numberValue(json, '00280008'),
    photometricInterpretation: stringValue(json, '00280004'),
    transferSyntaxUid: row.transfer_syntax_uid,
  };
}

export function heldView(row: HeldRow): HeldView {
  const frames = row.frame_ranges?.length ?? 0;
  const renderable = frames > 0 && (row.transfer_syntax_uid === null || canRender(row.transfer_syntax_uid));
  return {
    sopInstanceUID: row.sop_uid,
    studyInstanceUID: row.study_uid,
    seriesInstanceUID: row.series_uid,
    uploadId: row.upload_id,
    fileIndex: row.file_index,
    reason: row.reason,
    heldAt: row.created_at.toISOString(),
    state: stateOf(row),
    decidedAt: row.decided_at?.toISOString() ?? null,
    decidedBy: row.decided_by,
    decisionReason: row.decision_reason,
    sizeBytes: row.size_bytes === null ? null : Number(row.size_bytes),
    frames,
    attributes: attributesOf(row),
    preview: renderable ? `/api/held/${encodeURIComponent(row.sop_uid)}/preview` : null,
  };
}

const columns = `sop_uid, upload_id, file_index, reason, archive_key, attributes, created_at, decided_at, decided_by, decision, decision_reason, sha256, size_bytes,
  study_uid, series_uid, frame_ranges, frame_fragments, pixel_data_offset, pixel_data_length, transfer_syntax_uid, source_uid_hash, source_sha256`;

function stateCondition(state: HeldQuery['state']): string {
  switch (state) {
    case 'waiting': return 'decision IS NULL';
    case 'released': return "decision = 'released'";
    case 'discarded': return "decision = 'discarded'";
    case 'all': return 'true';
  }
}

/** Reason words as a LIKE pattern: matched literally, wildcards escaped. */
function likePattern(words: string): string {
  return `%${words.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * A page of held instances (newest first) with the filters applied, and what
 * the filters could offer: how many match in all, and the hold reasons with
 * their counts (in the chosen state and upload).
 */
export async function listHeld(db: Queryable, query: HeldQuery): Promise<{ rows: HeldRow[]; total: number; reasons: { reason: string; count: number }[] }> {
  const scope: string[] = [stateCondition(query.state)];
  const values: unknown[] = [];
  if (query.uploadId) {
    values.push(query.uploadId);
    scope.push(`upload_id = $${values.length}`);
  }
  const scopeValues = [...values];
  const filtered = [...scope];
  if (query.reason) {
    values.push(likePattern(query.reason));
    filtered.push(`reason ILIKE $${values.length}`);
  }
  const countValues = [...values];
  const page = [...filtered];
  if (query.before) {
    values.push(query.before.createdAt, query.before.sopUid);
    page.push(`(created_at, sop_uid) < ($${values.length - 1}, $${values.length})`);
  }
  values.push(query.limit);
  const [rows, total, reasons] = await Promise.all([
    db.query<HeldRow>(`SELECT ${columns} FROM held_instances WHERE ${page.join(' AND ')} ORDER BY created_at DESC, sop_uid DESC LIMIT $${values.length}`, values),
    db.query<{ n: string }>(`SELECT count(*) AS n FROM held_instances WHERE ${filtered.join(' AND ')}`, countValues),
    db.query<{ reason: string; n: string }>(`SELECT reason, count(*) AS n FROM held_instances WHERE ${scope.join(' AND ')} GROUP BY reason ORDER BY count(*) DESC, reason`, scopeValues),
  ]);
  return { rows: rows.rows, total: Number(total.rows[0]?.n ?? 0), reasons: reasons.rows.map((r) => ({ reason: r.reason, count: Number(r.n) })) };
}

export async function heldRow(db: Queryable, sopUid: string, lock = false): Promise<HeldRow> {
  const row = (await db.query<HeldRow>(`SELECT ${columns} FROM held_instances WHERE sop_uid = $1${lock ? ' FOR UPDATE' : ''}`, [sopUid])).rows[0];
  if (!row) throw notFound('not_found', 'No instance with this SOP Instance UID is held for review.');
  return row;
}

/** The held file and its SHA-256 (hashed once: the release indexes it with this hash). */
async function heldFile(row: HeldRow): Promise<{ bytes: Buffer; sha256: string }> {
  const bytes = await archiveReader().whole(row.archive_key);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  // The file must be the one reviewed: a release publishes exactly these bytes.
  if (row.sha256 && sha256 !== row.sha256) throw new Error('the held file does not match the SHA-256 recorded when it was held');
  return { bytes, sha256 };
}

/** Held before its transfer syntax was recorded: read from the held file's meta. */
async function transferSyntaxOf(row: HeldRow, bytes?: Buffer): Promise<string> {
  if (row.transfer_syntax_uid) return row.transfer_syntax_uid;
  return parsePart10(bytes ?? (await heldFile(row)).bytes).transferSyntax.uid;
}

/** What the renderer needs to show a held image (the same renderer as WADO-RS /rendered). */
export async function heldRenderTarget(db: Queryable, sopUid: string): Promise<RenderTarget> {
  const row = await heldRow(db, sopUid);
  return {
    study_uid: row.study_uid ?? '',
    series_uid: row.series_uid ?? '',
    sop_uid: row.sop_uid,
    transfer_syntax_uid: await transferSyntaxOf(row),
    archive_key: row.archive_key,
    frame_ranges: row.frame_ranges ?? [],
    frame_fragments: row.frame_fragments,
    attributes: row.attributes,
  };
}

export interface HeldDecision {
  /** The administrator (email or username), shown with the decision. */
  decidedBy: string;
  reason: string;
  /** The audit row of the decision (action, actor, request); resource and details are filled in here. */
  audit: AuditEntry;
}

export type ReleaseOutcome = IndexDecision | 'already-released';

/**
 * Publishes a held instance (idempotent): its de-identified file goes to the
 * archive and the index through the index writer, as if ingest had accepted
 * it. 409 when it was discarded or a newer file of it waits for review.
 */
export async function releaseHeld(context: IngestContext, sopUid: string, decision: HeldDecision): Promise<{ row: HeldRow; outcome: ReleaseOutcome; version?: number }> {
  const row = await heldRow(context.db, sopUid);
  if (row.decision === 'discarded') throw conflict('held_discarded', 'This held instance was discarded; it cannot be released.');
  if (row.decision === 'released') return { row, outcome: 'already-released' };
  if (!row.source_uid_hash || !row.source_sha256 || !row.study_uid || !row.series_uid) {
    throw conflict('held_incomplete', 'This held instance lacks what publishing needs (it was held by an older version); upload its file again.');
  }
  const { bytes, sha256 } = await heldFile(row);
  const transferSyntax = await transferSyntaxOf(row, bytes);
  const attributes = row.attributes as SharedDicomJson;
  const frames = row.frame_ranges ?? [];
  const numberOfFrames = Math.max(1, numberValue(row.attributes, '00280008') ?? 1);
  const sopClass = stringValue(row.attributes, '00080016') ?? '';
  const item = instanceToIndex(
    {
      part10: bytes,
      uids: { study: row.study_uid, series: row.series_uid, sop: row.sop_uid, sopClass, transferSyntax },
      index: indexFields(attributes, transferSyntax, numberOfFrames),
      dicomJson: attributes,
      frames,
      frameFragments: row.frame_fragments ?? undefined,
      pixelData: row.pixel_data_offset === null || row.pixel_data_length === null ? undefined : { offset: Number(row.pixel_data_offset), length: Number(row.pixel_data_length) },
      sourceUidHash: row.source_uid_hash,
      held: undefined,
    },
    {
      sourceSha256: row.source_sha256,
      sha256,
      origin: { uploadId: row.upload_id ?? undefined, fileIndex: row.file_index ?? undefined, via: row.upload_id ? 'upload' : 'stow' },
      // The originals were sealed in the vault when the instance was held.
      vault: [],
      release: { decidedBy: decision.decidedBy, reason: decision.reason, audit: decisionAudit(decision, row) },
    },
  );
  let indexed;
  try {
    indexed = await context.batcher.submit(item);
  } catch (error) {
    if (error instanceof HeldReviewConflict) throw conflict(error.code, error.message);
    throw error;
  }
  return { row: await heldRow(context.db, sopUid), outcome: indexed.outcome, ...(indexed.version !== undefined ? { version: indexed.version } : {}) };
}

/**
 * Marks a held instance discarded (idempotent): never indexed, its file kept
 * under held/. Under the instance's index lock, so a release being written
 * at the same moment either finishes first (then this is a 409) or sees the
 * discard and stops. 409 when it was released already.
 */
export async function discardHeld(db: pg.Pool, sopUid: string, decision: HeldDecision): Promise<{ row: HeldRow; outcome: 'discarded' | 'already-discarded' }> {
  return inTransaction(db, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [sopUid]);
    const row = await heldRow(client, sopUid, true);
    if (row.decision === 'discarded') return { row, outcome: 'already-discarded' as const };
    if (row.decision === 'released') throw conflict('held_released', 'This held instance was released into the lake already; it cannot be discarded.');
    await recordHeldDecision(client, {
      sopUid,
      decision: 'discarded',
      decidedBy: decision.decidedBy,
      reason: decision.reason,
      file: row.upload_id && row.file_index !== null ? { uploadId: row.upload_id, fileIndex: row.file_index } : undefined,
      fileOutcome: 'rejected',
      audit: decisionAudit(decision, row),
    });
    return { row: await heldRow(client, sopUid), outcome: 'discarded' as const };
  });
}

function decisionAudit(decision: HeldDecision, row: HeldRow): AuditEntry {
  return {
    ...decision.audit,
    resource: `held/${row.sop_uid}`,
    details: { ...decision.audit.details, reason: decision.reason, studyInstanceUID: row.study_uid, heldReason: row.reason, ...(row.upload_id ? { uploadId: row.upload_id } : {}) },
  };
}
