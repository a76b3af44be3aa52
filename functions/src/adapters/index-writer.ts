/**
 * Writes de-identified instances into the lake: the archive object and the
 * index rows (patients, studies, series, instances, versions, sources, held
 * instances, PHI vault) for a batch of instances in ONE transaction.
 *
 * Idempotency and versions are decided under a transaction-scoped advisory
 * lock per (de-identified) SOP Instance UID, so two workers holding the same
 * instance never both publish it:
 * - the same source bytes seen before → `duplicate` (or the earlier outcome
 *   when it is a re-delivery of the same upload file);
 * - other source bytes whose de-identified file equals an archived version →
 *   `duplicate` (the difference did not survive de-identification);
 * - otherwise a new version n+1 under its own archive key; the index row
 *   points to it, older objects stay.
 * Archive objects are written inside the lock window but before the index
 * rows: a crash in between leaves an object no row points to, which the
 * retry overwrites with the same version number.
 * A held instance an administrator releases comes back through here as an
 * item with `release` set: its held row is locked and checked (not discarded,
 * not replaced by a newer held file), then it is published like any other
 * item, and the decision, the upload file's counts and the audit entry are
 * written in the same transaction; releasing it again changes nothing.
 * Study and series counters are updated by increments (never recounted from a
 * stale snapshot) and count what DICOMweb shows by default (an annotation
 * version its set moved on from is left out: the annotation store moves the
 * counters when it records a version), rows are touched in key order so concurrent batches cannot
 * deadlock, and patients are inserted without locking existing rows so
 * batches of one patient do not serialize.
 */
import pLimit from 'p-limit';
import type pg from 'pg';
import { annotationInstanceShownByDefaultSql } from '@medlake/shared/annotations/visibility-sql';
import type { Archive } from './archive';
import type { AuditEntry } from './audit-log';
import { archiveKey, heldKey } from './archive';
import { inTransaction } from './database';
import type { Queryable } from './database';
import { recordHeldDecision } from './held-decision';
import type { OriginalIdentifiers, PhiVault, VaultKind } from './phi-vault';

export interface PatientFields {
  patientId: string;
  patientName: string;
  sex: string | null;
  /** ISO date (YYYY-MM-DD), shifted. */
  birthDate: string | null;
}

export interface StudyFields {
  studyUid: string;
  studyDate: string | null;
  studyTime: string | null;
  accessionNumber: string | null;
  studyId: string | null;
  description: string | null;
  patientAge: string | null;
  referringPhysician: string | null;
  attributes: Record<string, unknown>;
}

export interface SeriesFields {
  seriesUid: string;
  modality: string | null;
  seriesNumber: number | null;
  description: string | null;
  bodyPart: string | null;
  attributes: Record<string, unknown>;
}

export interface InstanceFields {
  sopUid: string;
  sopClassUid: string;
  instanceNumber: number | null;
  transferSyntaxUid: string;
  numberOfFrames: number;
  rows: number | null;
  columns: number | null;
  /** DICOM JSON of the de-identified header, bulk data as placeholders. */
  attributes: Record<string, unknown>;
  frameRanges: readonly (readonly [number, number])[];
  /** Per frame, its fragments' value ranges, when a frame spans several fragments. */
  frameFragments: readonly (readonly (readonly [number, number])[])[] | undefined;
  pixelDataOffset: number | null;
  pixelDataLength: number | null;
}

export interface VaultEntry {
  kind: VaultKind;
  pseudonym: string;
  identifiers: OriginalIdentifiers;
}

export interface InstanceOrigin {
  uploadId: string | undefined;
  fileIndex: number | undefined;
  via: 'upload' | 'stow';
}

/** An administrator's release of a held instance (the item is the held file, published now). */
export interface HeldRelease {
  /** Who decided (email or username), and why: kept with the held row. */
  decidedBy: string;
  reason: string;
  /** The audit row of the release, written in the transaction that publishes it. */
  audit: AuditEntry;
}

/** A release that cannot go ahead: the held instance was discarded, or replaced by a newer held file. */
export class HeldReviewConflict extends Error {
  constructor(
    readonly code: 'held_discarded' | 'held_replaced',
    message: string,
  ) {
    super(message);
    this.name = 'HeldReviewConflict';
  }
}

export interface InstanceToIndex {
  patient: PatientFields;
  study: StudyFields;
  series: SeriesFields;
  instance: InstanceFields;
  part10: Uint8Array;
  /** Of the de-identified file. */
  sha256: string;
  /** Of the instance as it arrived. */
  sourceSha256: string;
  /** Keyed hash of the original SOP Instance UID (never the UID itself). */
  sourceUidHash: string;
  held: { reason: string } | undefined;
  /** Set when this is a held instance being released (then `held` is undefined). */
  release?: HeldRelease | undefined;
  vault: readonly VaultEntry[];
  origin: InstanceOrigin;
}

export type IndexDecision = 'accepted' | 'duplicate' | 'held';

export interface IndexOutcome {
  outcome: IndexDecision;
  studyUid: string;
  seriesUid: string;
  sopUid: string;
  /** Version number of a newly published instance (1 for the first). */
  version: number | undefined;
  archiveKey: string | undefined;
}

interface SourceRow { source_uid_hash: string; source_sha256: string; sop_uid: string; upload_id: string | null; file_index: number | null; outcome: string }
/**
 * size_bytes: a number when read as JSON, a string from a bigint column.
 * hidden: an annotation version nobody is shown by default, which the
 * counters leave out (functions/src/annotations/shown-counters.ts); a new
 * version of its file stays hidden (visibility goes by SOP Instance UID).
 */
interface CurrentRow { sop_uid: string; version: number; series_uid: string; study_uid: string; size_bytes: string | number; hidden: boolean }
interface VersionRow { sop_uid: string; version: number; sha256: string }

type Plan =
  | { item: InstanceToIndex; kind: 'known'; outcome: IndexDecision; version: number | undefined; key: string | undefined }
  | { item: InstanceToIndex; kind: 'same-content'; version: number }
  | { item: InstanceToIndex; kind: 'publish'; version: number; key: string; replaces: CurrentRow | undefined }
  | { item: InstanceToIndex; kind: 'hold'; key: string };

const sourceId = (hash: string, sha: string) => `${hash}\u0000${sha}`;

function sameFile(row: SourceRow, origin: InstanceOrigin): boolean {
  return origin.uploadId !== undefined && row.upload_id === origin.uploadId && row.file_index === (origin.fileIndex ?? null);
}

export interface IndexWriterHooks {
  /**
   * After a batch committed: the studies it published into or met again
   * (reports waiting for them are linked). A failure fails the batch, whose
   * retry meets the same studies and calls the hook again.
   */
  studiesIndexed?(studyUids: readonly string[]): Promise<void>;
}

export class IndexWriter {
  private readonly putLimit = pLimit(8);

  constructor(
    private readonly db: pg.Pool,
    private readonly archive: Archive,
    private readonly vault: PhiVault,
    private readonly hooks: IndexWriterHooks = {},
  ) {}

  /** Stores and indexes a batch; outcomes in the order of `items`. */
  async writeBatch(items: readonly InstanceToIndex[]): Promise<IndexOutcome[]> {
    const outcomes = await this.writeCommitted(items);
    const studies = [...new Set(outcomes.filter((o) => o.outcome !== 'held').map((o) => o.studyUid))].sort();
    if (studies.length > 0) await this.hooks.studiesIndexed?.(studies);
    return outcomes;
  }

  private async writeCommitted(items: readonly InstanceToIndex[]): Promise<IndexOutcome[]> {
    if (items.length === 0) return [];
    const plans = await inTransaction(this.db, async (client) => {
      const { plans: decided, releasing } = await this.decide(client, items);
      await Promise.all(decided.map((plan) => (plan.kind === 'publish' || plan.kind === 'hold' ? this.putLimit(() => this.archive.put(plan.key, plan.item.part10, plan.item.sha256)) : undefined)));
      await this.writeRows(client, decided);
      await recordReleases(client, decided.filter((plan) => releasing.has(plan.item) && (plan.kind === 'publish' || plan.kind === 'same-content')));
      return decided;
    });
    this.vault.remember(plans.filter((p) => p.kind === 'publish' || p.kind === 'hold').flatMap((p) => p.item.vault));
    return plans.map(outcomeOf);
  }

  /** The plan of each item, and the releases whose decision this batch records (those not released before). */
  private async decide(client: pg.PoolClient, items: readonly InstanceToIndex[]): Promise<{ plans: Plan[]; releasing: Set<InstanceToIndex> }> {
    const sops = [...new Set(items.map((i) => i.instance.sopUid))].sort();
    // One lock per SOP, always taken in the same order: no deadlocks between batches.
    await client.query('SELECT pg_advisory_xact_lock(hashtextextended(s, 0)) FROM unnest($1::text[]) AS s ORDER BY s', [sops]);
    const releasing = await this.checkReleases(client, items);
    // After the locks, in a statement of its own (its snapshot sees what the lock holders committed): sources, current rows and versions in one round trip.
    const found = await client.query<{ sources: SourceRow[]; current: CurrentRow[]; versions: VersionRow[] }>(
      `SELECT
         (SELECT coalesce(json_agg(s), '[]') FROM (SELECT source_uid_hash, source_sha256, sop_uid, upload_id, file_index, outcome FROM ingested_sources
            WHERE (source_uid_hash, source_sha256) IN (SELECT * FROM unnest($1::text[], $2::text[]))) s) AS sources,
         (SELECT coalesce(json_agg(c), '[]') FROM (SELECT ci.sop_uid, ci.version, ci.series_uid, ci.study_uid, ci.size_bytes, NOT ${annotationInstanceShownByDefaultSql('ci.sop_uid')} AS hidden
            FROM instances ci WHERE ci.sop_uid = ANY($3)) c) AS current,
         (SELECT coalesce(json_agg(v), '[]') FROM (SELECT sop_uid, version, sha256 FROM instance_versions WHERE sop_uid = ANY($3)) v) AS versions`,
      [items.map((i) => i.sourceUidHash), items.map((i) => i.sourceSha256), sops],
    );
    const { sources, current, versions } = found.rows[0] as { sources: SourceRow[]; current: CurrentRow[]; versions: VersionRow[] };
    const knownSources = new Map(sources.map((r) => [sourceId(r.source_uid_hash, r.source_sha256), r]));
    const currentBySop = new Map(current.map((r) => [r.sop_uid, r]));
    const versionsBySop = new Map<string, VersionRow[]>();
    for (const row of versions) versionsBySop.set(row.sop_uid, [...(versionsBySop.get(row.sop_uid) ?? []), row]);

    const plans: Plan[] = [];
    // Items of this batch count as known for the items after them (a zip holding the same file twice).
    const batchSources = new Map<string, { outcome: IndexDecision; origin: InstanceOrigin; version: number | undefined; key: string | undefined }>();
    for (const item of items) {
      const id = sourceId(item.sourceUidHash, item.sourceSha256);
      // A released file's source was seen (and held) before: whether it is news is decided by its content below.
      const seen = item.release ? undefined : knownSources.get(id);
      if (seen) {
        const earlier = seen.outcome === 'held' ? 'held' : seen.outcome === 'duplicate' ? 'duplicate' : 'accepted';
        plans.push({ item, kind: 'known', outcome: sameFile(seen, item.origin) ? earlier : 'duplicate', version: undefined, key: undefined });
        continue;
      }
      const inBatch = batchSources.get(id);
      if (inBatch) {
        plans.push({ item, kind: 'known', outcome: 'duplicate', version: inBatch.version, key: inBatch.key });
        continue;
      }
      const sop = item.instance.sopUid;
      const archived = versionsBySop.get(sop) ?? [];
      if (item.held) {
        const plan: Plan = { item, kind: 'hold', key: heldKey(sop, item.sha256) };
        plans.push(plan);
        batchSources.set(id, { outcome: 'held', origin: item.origin, version: undefined, key: plan.key });
        continue;
      }
      const sameContent = archived.find((v) => v.sha256 === item.sha256);
      if (sameContent) {
        plans.push({ item, kind: 'same-content', version: sameContent.version });
        batchSources.set(id, { outcome: 'duplicate', origin: item.origin, version: sameContent.version, key: undefined });
        continue;
      }
      const version = Math.max(0, ...archived.map((v) => v.version)) + 1;
      const key = archiveKey({ study: item.study.studyUid, series: item.series.seriesUid, sop }, version);
      const replaces = currentBySop.get(sop);
      plans.push({ item, kind: 'publish', version, key, replaces });
      batchSources.set(id, { outcome: 'accepted', origin: item.origin, version, key });
      archived.push({ sop_uid: sop, version, sha256: item.sha256 });
      versionsBySop.set(sop, archived);
      // A later item of the batch for the same SOP replaces this one, not the row in the table.
      currentBySop.set(sop, { sop_uid: sop, version, series_uid: item.series.seriesUid, study_uid: item.study.studyUid, size_bytes: String(item.part10.length), hidden: replaces?.hidden ?? false });
    }
    return { plans, releasing };
  }

  /**
   * Locks the held rows of the items being released (a discard waits, or is
   * waited for) and checks each is still the file under review and not
   * discarded; answers those not released yet. Before any archive write: a
   * refused release leaves nothing behind.
   */
  private async checkReleases(client: pg.PoolClient, items: readonly InstanceToIndex[]): Promise<Set<InstanceToIndex>> {
    const releases = items.filter((item) => item.release);
    const releasing = new Set<InstanceToIndex>();
    if (releases.length === 0) return releasing;
    const { rows } = await client.query<{ sop_uid: string; sha256: string | null; decision: string | null }>(
      'SELECT sop_uid, sha256, decision FROM held_instances WHERE sop_uid = ANY($1) ORDER BY sop_uid FOR UPDATE',
      [[...new Set(releases.map((item) => item.instance.sopUid))]],
    );
    const held = new Map(rows.map((row) => [row.sop_uid, row]));
    for (const item of releases) {
      const row = held.get(item.instance.sopUid);
      if (!row || row.sha256 !== item.sha256) throw new HeldReviewConflict('held_replaced', 'A newer file of this instance is held for review now: look at it before deciding.');
      if (row.decision === 'discarded') throw new HeldReviewConflict('held_discarded', 'This held instance was discarded; it cannot be released.');
      if (row.decision === null) releasing.add(item);
    }
    return releasing;
  }

  /**
   * The rows of a batch in few round trips: the parent rows (patients,
   * studies, series) in one statement, then instances, versions, counters and
   * sources in another (data-modifying CTEs; foreign keys are checked at the
   * end of each statement, and the counters update rows the first statement
   * made visible), held instances apart, then the vault.
   */
  private async writeRows(client: pg.PoolClient, plans: readonly Plan[]): Promise<void> {
    const publish = plans.filter((p): p is Extract<Plan, { kind: 'publish' }> => p.kind === 'publish');
    const held = plans.filter((p): p is Extract<Plan, { kind: 'hold' }> => p.kind === 'hold');
    const fresh = plans.filter((p) => p.kind !== 'known');

    let newSeries: { series_uid: string; study_uid: string }[] = [];
    if (publish.length > 0) {
      const patients = uniqueSorted(publish.map((p) => p.item.patient), (x) => x.patientId);
      const studies = uniqueSorted(publish.map((p) => ({ ...p.item.study, patientId: p.item.patient.patientId })), (x) => x.studyUid);
      const series = uniqueSorted(publish.map((p) => ({ ...p.item.series, studyUid: p.item.study.studyUid })), (x) => x.seriesUid);
      const inserted = await client.query<{ series_uid: string; study_uid: string }>(
        `WITH new_patients AS (
           INSERT INTO patients (patient_id, patient_name, sex, birth_date)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::date[]) ON CONFLICT (patient_id) DO NOTHING),
         new_studies AS (
           INSERT INTO studies (study_uid, patient_id, study_date, study_time, accession_number, study_id, description, patient_age, referring_physician, attributes)
           SELECT * FROM unnest($5::text[], $6::text[], $7::date[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::jsonb[])
           ON CONFLICT (study_uid) DO NOTHING)
         INSERT INTO series (series_uid, study_uid, modality, series_number, description, body_part, attributes)
         SELECT * FROM unnest($15::text[], $16::text[], $17::text[], $18::int[], $19::text[], $20::text[], $21::jsonb[])
         ON CONFLICT (series_uid) DO NOTHING RETURNING series_uid, study_uid`,
        [patients.map((x) => x.patientId), patients.map((x) => x.patientName), patients.map((x) => x.sex), patients.map((x) => x.birthDate),
          studies.map((x) => x.studyUid), studies.map((x) => x.patientId), studies.map((x) => x.studyDate), studies.map((x) => x.studyTime), studies.map((x) => x.accessionNumber),
          studies.map((x) => x.studyId), studies.map((x) => x.description), studies.map((x) => x.patientAge), studies.map((x) => x.referringPhysician), studies.map((x) => JSON.stringify(x.attributes)),
          series.map((x) => x.seriesUid), series.map((x) => x.studyUid), series.map((x) => x.modality), series.map((x) => x.seriesNumber), series.map((x) => x.description), series.map((x) => x.bodyPart), series.map((x) => JSON.stringify(x.attributes))],
      );
      newSeries = inserted.rows;
    }

    if (held.length > 0) {
      const h = [...new Map(held.map((p) => [p.item.instance.sopUid, p])).values()].sort((a, b) => a.item.instance.sopUid.localeCompare(b.item.instance.sopUid));
      await client.query(
        `INSERT INTO held_instances (sop_uid, upload_id, file_index, reason, archive_key, attributes, sha256, size_bytes, study_uid, series_uid,
           frame_ranges, frame_fragments, pixel_data_offset, pixel_data_length, transfer_syntax_uid, source_uid_hash, source_sha256)
         SELECT * FROM unnest($1::text[], $2::uuid[], $3::int[], $4::text[], $5::text[], $6::jsonb[], $7::text[], $8::bigint[], $9::text[], $10::text[],
           $11::jsonb[], $12::jsonb[], $13::bigint[], $14::bigint[], $15::text[], $16::text[], $17::text[])
         ON CONFLICT (sop_uid) DO UPDATE SET upload_id = EXCLUDED.upload_id, file_index = EXCLUDED.file_index, reason = EXCLUDED.reason, archive_key = EXCLUDED.archive_key,
           attributes = EXCLUDED.attributes, sha256 = EXCLUDED.sha256, size_bytes = EXCLUDED.size_bytes, study_uid = EXCLUDED.study_uid, series_uid = EXCLUDED.series_uid,
           frame_ranges = EXCLUDED.frame_ranges, frame_fragments = EXCLUDED.frame_fragments, pixel_data_offset = EXCLUDED.pixel_data_offset,
           pixel_data_length = EXCLUDED.pixel_data_length, transfer_syntax_uid = EXCLUDED.transfer_syntax_uid, source_uid_hash = EXCLUDED.source_uid_hash,
           source_sha256 = EXCLUDED.source_sha256, created_at = now(), decided_at = NULL, decided_by = NULL, decision = NULL, decision_reason = NULL`,
        [h.map((p) => p.item.instance.sopUid), h.map((p) => p.item.origin.uploadId ?? null), h.map((p) => p.item.origin.fileIndex ?? null), h.map((p) => p.item.held?.reason ?? ''),
          h.map((p) => p.key), h.map((p) => JSON.stringify(p.item.instance.attributes)), h.map((p) => p.item.sha256), h.map((p) => p.item.part10.length),
          h.map((p) => p.item.study.studyUid), h.map((p) => p.item.series.seriesUid), h.map((p) => JSON.stringify(p.item.instance.frameRanges)),
          h.map((p) => (p.item.instance.frameFragments ? JSON.stringify(p.item.instance.frameFragments) : null)), h.map((p) => p.item.instance.pixelDataOffset),
          h.map((p) => p.item.instance.pixelDataLength), h.map((p) => p.item.instance.transferSyntaxUid), h.map((p) => p.item.sourceUidHash), h.map((p) => p.item.sourceSha256)],
      );
    }

    if (fresh.length === 0) return;
    // The newest version of each SOP in this batch is the one the index points to.
    const newest = [...new Map(publish.map((p) => [p.item.instance.sopUid, p])).values()].sort((a, b) => a.item.instance.sopUid.localeCompare(b.item.instance.sopUid));
    const i = newest.map((p) => p.item);
    const { seriesRows, studyRows } = counterDeltas(publish, newSeries);
    const outcomes = fresh.map((p) => (p.kind === 'hold' ? 'held' : p.kind === 'same-content' ? 'duplicate' : 'accepted'));
    await client.query(
      `WITH upserted AS (
         INSERT INTO instances (sop_uid, series_uid, study_uid, sop_class_uid, instance_number, transfer_syntax_uid, number_of_frames, rows, columns,
           archive_key, size_bytes, sha256, source_sha256, frame_ranges, pixel_data_offset, pixel_data_length, attributes, version, frame_fragments)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::text[], $7::int[], $8::int[], $9::int[],
           $10::text[], $11::bigint[], $12::text[], $13::text[], $14::jsonb[], $15::bigint[], $16::bigint[], $17::jsonb[], $18::int[], $19::jsonb[])
         ON CONFLICT (sop_uid) DO UPDATE SET series_uid = EXCLUDED.series_uid, study_uid = EXCLUDED.study_uid, sop_class_uid = EXCLUDED.sop_class_uid,
           instance_number = EXCLUDED.instance_number, transfer_syntax_uid = EXCLUDED.transfer_syntax_uid, number_of_frames = EXCLUDED.number_of_frames,
           rows = EXCLUDED.rows, columns = EXCLUDED.columns, archive_key = EXCLUDED.archive_key, size_bytes = EXCLUDED.size_bytes, sha256 = EXCLUDED.sha256,
           source_sha256 = EXCLUDED.source_sha256, frame_ranges = EXCLUDED.frame_ranges, pixel_data_offset = EXCLUDED.pixel_data_offset,
           pixel_data_length = EXCLUDED.pixel_data_length, attributes = EXCLUDED.attributes, version = EXCLUDED.version, frame_fragments = EXCLUDED.frame_fragments),
       versions AS (
         INSERT INTO instance_versions (sop_uid, version, archive_key, sha256, source_sha256, size_bytes, upload_id, file_index, via)
         SELECT * FROM unnest($20::text[], $21::int[], $22::text[], $23::text[], $24::text[], $25::bigint[], $26::uuid[], $27::int[], $28::text[])),
       series_counts AS (
         UPDATE series s SET num_instances = s.num_instances + d.n, updated_at = now()
         FROM (SELECT * FROM unnest($29::text[], $30::int[]) AS x(uid, n) ORDER BY uid) d WHERE s.series_uid = d.uid
         RETURNING s.study_uid, s.series_uid, s.num_instances - d.n > 0 AS was_shown, s.num_instances > 0 AS shown),
       -- A series holding annotation versions is shown while it counts an instance: one that starts or stops counting one is (un)counted in its study.
       series_shown AS (
         SELECT c.study_uid, sum(CASE WHEN c.shown THEN 1 ELSE -1 END)::int AS n FROM series_counts c
         WHERE c.shown <> c.was_shown AND EXISTS (SELECT 1 FROM annotation_versions av WHERE av.series_uid = c.series_uid)
         GROUP BY c.study_uid),
       study_counts AS (
         UPDATE studies s SET num_instances = s.num_instances + d.instances, size_bytes = s.size_bytes + d.bytes,
           num_series = s.num_series + d.series + coalesce((SELECT f.n FROM series_shown f WHERE f.study_uid = s.study_uid), 0),
           modalities = ARRAY(SELECT DISTINCT m FROM unnest(s.modalities || d.modalities) AS m ORDER BY m),
           body_parts = ARRAY(SELECT DISTINCT b FROM unnest(s.body_parts || d.body_parts) AS b ORDER BY b),
           sop_classes = ARRAY(SELECT DISTINCT c FROM unnest(s.sop_classes || d.sop_classes) AS c ORDER BY c),
           updated_at = now()
         FROM (SELECT uid, instances, series, bytes, string_to_array(modalities, '\\') AS modalities, string_to_array(body_parts, '\\') AS body_parts, string_to_array(sop_classes, '\\') AS sop_classes
               FROM unnest($31::text[], $32::int[], $33::int[], $34::bigint[], $35::text[], $36::text[], $37::text[]) AS x(uid, instances, series, bytes, modalities, body_parts, sop_classes) ORDER BY uid) d
         WHERE s.study_uid = d.uid)
       INSERT INTO ingested_sources (source_uid_hash, source_sha256, sop_uid, upload_id, file_index, outcome)
       SELECT * FROM unnest($38::text[], $39::text[], $40::text[], $41::uuid[], $42::int[], $43::text[]) ON CONFLICT DO NOTHING`,
      [i.map((x) => x.instance.sopUid), i.map((x) => x.series.seriesUid), i.map((x) => x.study.studyUid), i.map((x) => x.instance.sopClassUid), i.map((x) => x.instance.instanceNumber),
        i.map((x) => x.instance.transferSyntaxUid), i.map((x) => x.instance.numberOfFrames), i.map((x) => x.instance.rows), i.map((x) => x.instance.columns),
        newest.map((p) => p.key), i.map((x) => x.part10.length), i.map((x) => x.sha256), i.map((x) => x.sourceSha256), i.map((x) => JSON.stringify(x.instance.frameRanges)),
        i.map((x) => x.instance.pixelDataOffset), i.map((x) => x.instance.pixelDataLength), i.map((x) => JSON.stringify(x.instance.attributes)), newest.map((p) => p.version),
        i.map((x) => (x.instance.frameFragments ? JSON.stringify(x.instance.frameFragments) : null)),
        publish.map((p) => p.item.instance.sopUid), publish.map((p) => p.version), publish.map((p) => p.key), publish.map((p) => p.item.sha256), publish.map((p) => p.item.sourceSha256),
        publish.map((p) => p.item.part10.length), publish.map((p) => p.item.origin.uploadId ?? null), publish.map((p) => p.item.origin.fileIndex ?? null), publish.map((p) => p.item.origin.via),
        seriesRows.map(([uid]) => uid), seriesRows.map(([, n]) => n),
        studyRows.map(([uid]) => uid), studyRows.map(([, e]) => e.instances), studyRows.map(([, e]) => e.series), studyRows.map(([, e]) => e.bytes),
        studyRows.map(([, e]) => [...e.modalities].join('\\')), studyRows.map(([, e]) => [...e.bodyParts].join('\\')), studyRows.map(([, e]) => [...e.sopClasses].join('\\')),
        fresh.map((p) => p.item.sourceUidHash), fresh.map((p) => p.item.sourceSha256), fresh.map((p) => p.item.instance.sopUid), fresh.map((p) => p.item.origin.uploadId ?? null),
        fresh.map((p) => p.item.origin.fileIndex ?? null), outcomes],
    );
    await this.vault.store(client, [...publish, ...held].flatMap((p) => p.item.vault));
  }
}

/**
 * The releases a batch published (or found already in the lake): the held
 * row says so, the source's outcome follows (a redelivered upload file then
 * reports what the lake holds), the upload file's counts move from held, and
 * the audit row is written, all in the publishing transaction.
 */
async function recordReleases(client: Queryable, plans: readonly Plan[]): Promise<void> {
  // One release per SOP, even when the same release was asked twice at once (both land in one batch).
  const bySop = new Map<string, Plan>();
  for (const plan of plans) if (!bySop.has(plan.item.instance.sopUid)) bySop.set(plan.item.instance.sopUid, plan);
  for (const plan of [...bySop.values()].sort((a, b) => a.item.instance.sopUid.localeCompare(b.item.instance.sopUid))) {
    const { item } = plan;
    const release = item.release as HeldRelease;
    const outcome = plan.kind === 'publish' ? 'accepted' : 'duplicate';
    await client.query('UPDATE ingested_sources SET outcome = $3 WHERE source_uid_hash = $1 AND source_sha256 = $2', [item.sourceUidHash, item.sourceSha256, outcome]);
    await recordHeldDecision(client, {
      sopUid: item.instance.sopUid,
      decision: 'released',
      decidedBy: release.decidedBy,
      reason: release.reason,
      file: item.origin.uploadId !== undefined && item.origin.fileIndex !== undefined ? { uploadId: item.origin.uploadId, fileIndex: item.origin.fileIndex } : undefined,
      fileOutcome: outcome,
      audit: { ...release.audit, details: { ...release.audit.details, outcome, ...(plan.kind === 'publish' ? { version: plan.version } : {}) } },
    });
  }
}

interface StudyDelta { instances: number; series: number; bytes: number; modalities: Set<string>; bodyParts: Set<string>; sopClasses: Set<string> }

/** Counter increments, in key order: new instances (hidden annotation versions left out), replaced ones that moved, sizes, modalities, body parts, SOP classes. */
function counterDeltas(publish: readonly Extract<Plan, { kind: 'publish' }>[], newSeries: readonly { series_uid: string; study_uid: string }[]): { seriesRows: [string, number][]; studyRows: [string, StudyDelta][] } {
  const seriesDelta = new Map<string, number>();
  const study = new Map<string, StudyDelta>();
  const studyEntry = (uid: string) => {
    let entry = study.get(uid);
    if (!entry) study.set(uid, (entry = { instances: 0, series: 0, bytes: 0, modalities: new Set(), bodyParts: new Set(), sopClasses: new Set() }));
    return entry;
  };
  const add = (map: Map<string, number>, key: string, n: number) => map.set(key, (map.get(key) ?? 0) + n);
  for (const plan of publish) {
    const { item, replaces } = plan;
    const s = studyEntry(item.study.studyUid);
    // A hidden annotation version was not counted and is not counted now; its bytes are stored all the same.
    const counted = replaces?.hidden ? 0 : 1;
    if (replaces) {
      add(seriesDelta, replaces.series_uid, -counted);
      const old = studyEntry(replaces.study_uid);
      old.instances -= counted;
      old.bytes -= Number(replaces.size_bytes);
    }
    add(seriesDelta, item.series.seriesUid, counted);
    s.instances += counted;
    s.bytes += item.part10.length;
    if (item.series.modality) s.modalities.add(item.series.modality);
    if (item.series.bodyPart) s.bodyParts.add(item.series.bodyPart);
    s.sopClasses.add(item.instance.sopClassUid);
  }
  for (const row of newSeries) studyEntry(row.study_uid).series += 1;
  return {
    seriesRows: [...seriesDelta.entries()].filter(([, n]) => n !== 0).sort(([a], [b]) => a.localeCompare(b)),
    studyRows: [...study.entries()].sort(([a], [b]) => a.localeCompare(b)),
  };
}

function uniqueSorted<T>(values: readonly T[], key: (value: T) => string): T[] {
  return [...new Map(values.map((v) => [key(v), v])).values()].sort((a, b) => key(a).localeCompare(key(b)));
}

function outcomeOf(plan: Plan): IndexOutcome {
  const { item } = plan;
  const base = { studyUid: item.study.studyUid, seriesUid: item.series.seriesUid, sopUid: item.instance.sopUid };
  switch (plan.kind) {
    case 'known': return { ...base, outcome: plan.outcome, version: plan.version, archiveKey: plan.key };
    case 'same-content': return { ...base, outcome: 'duplicate', version: plan.version, archiveKey: undefined };
    case 'publish': return { ...base, outcome: 'accepted', version: plan.version, archiveKey: plan.key };
    case 'hold': return { ...base, outcome: 'held', version: undefined, archiveKey: plan.key };
  }
}
