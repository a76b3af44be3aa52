/**
 * Annotation sets, their versions and the viewer selections in PostgreSQL
 * (migration 0020). Writes to one study's annotations happen inside
 * `withStudyLock`, a transaction holding an advisory lock on the study, so
 * the versioning rule, the version numbers and the If-Match checks see a
 * stable state; versions are only ever inserted.
 */
import type pg from 'pg';
import type { AnnotationDocument } from '@medlake/shared/annotations/annotation-document';
import type { AnnotationKind, AnnotationSetSummary, Author, VersionSource, VersionSummary, ViewerSelection } from '@medlake/shared/annotations/annotation-views';
import type { SegmentationDocument } from '@medlake/shared/annotations/segmentation-document';
import type { KnownSet, KnownVersion, StudyAnnotations } from '@medlake/shared/annotations/versioning-rule';
import type { Queryable } from '../adapters/database';
import { inTransaction } from '../adapters/database';
import { moveShownCounters } from './shown-counters';

/** A version's JSON: the measurements of an SR, or what a SEG says of its segments. */
export type VersionDocument = AnnotationDocument | SegmentationDocument;

export interface VersionDetail extends VersionSummary {
  setId: string;
  studyInstanceUID: string;
  kind: AnnotationKind;
  name: string;
  document: VersionDocument;
}

interface VersionRow {
  set_id: string;
  version: number;
  parent_version: number | null;
  restored_from: number | null;
  source: VersionSource;
  rule: string | null;
  author_sub: string;
  author_name: string | null;
  message: string | null;
  created_at: Date;
  sop_uid: string;
  series_uid: string;
  sop_class_uid: string;
  measurement_count: number;
  segment_count: number;
  labels: string[] | null;
}

interface SetRow {
  set_id: string;
  study_uid: string;
  series_uid: string | null;
  kind: AnnotationKind;
  name: string;
  author_sub: string;
  author_name: string | null;
  current_version: number;
  created_at: Date;
  updated_at: Date;
}

const versionColumns = `v.set_id, v.version, v.parent_version, v.restored_from, v.source, v.rule, v.author_sub, v.author_name, v.message, v.created_at,
  v.sop_uid, v.series_uid, v.sop_class_uid, v.measurement_count, coalesce(jsonb_array_length(v.document -> 'segments'), 0) AS segment_count, ARRAY(SELECT jsonb_array_elements_text(v.document -> 'labels')) AS labels`;

function versionSummary(row: VersionRow): VersionSummary {
  return {
    version: row.version,
    parentVersion: row.parent_version,
    restoredFrom: row.restored_from,
    source: row.source,
    rule: row.rule,
    author: { sub: row.author_sub, name: row.author_name },
    message: row.message,
    createdAt: row.created_at.toISOString(),
    sopInstanceUID: row.sop_uid,
    seriesInstanceUID: row.series_uid,
    sopClassUID: row.sop_class_uid,
    measurementCount: row.measurement_count,
    segmentCount: row.segment_count,
    labels: row.labels ?? [],
  };
}

function setSummary(row: SetRow, latest: VersionSummary): AnnotationSetSummary {
  return {
    setId: row.set_id,
    studyInstanceUID: row.study_uid,
    seriesInstanceUID: row.series_uid,
    kind: row.kind,
    name: row.name,
    author: { sub: row.author_sub, name: row.author_name },
    currentVersion: row.current_version,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    latest,
  };
}

export interface NewVersion {
  setId: string;
  version: number;
  parentVersion: number | null;
  restoredFrom: number | null;
  source: VersionSource;
  rule: string | null;
  sopUid: string;
  instanceVersion: number;
  seriesUid: string;
  sopClassUid: string;
  author: Author;
  message: string | null;
  document: VersionDocument;
}

export class AnnotationStore {
  constructor(private readonly db: pg.Pool) {}

  /** Runs `work` in a transaction holding the study's annotation lock. */
  async withStudyLock<T>(studyUid: string, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.db, async (client) => {
      await client.query(`SELECT pg_advisory_xact_lock(hashtextextended('medlake:annotations:' || $1, 0))`, [studyUid]);
      return work(client);
    });
  }

  async studyExists(studyUid: string): Promise<boolean> {
    return ((await this.db.query('SELECT 1 FROM studies WHERE study_uid = $1', [studyUid])).rowCount ?? 0) > 0;
  }

  async listSets(studyUid: string, db: Queryable = this.db): Promise<AnnotationSetSummary[]> {
    const rows = await db.query<VersionRow & { set: SetRow }>(
      `SELECT to_jsonb(s) AS set, ${versionColumns}
       FROM annotation_sets s JOIN annotation_versions v ON v.set_id = s.set_id AND v.version = s.current_version
       WHERE s.study_uid = $1 ORDER BY s.updated_at DESC, s.set_id`,
      [studyUid],
    );
    // to_jsonb turns timestamps into ISO text.
    return rows.rows.map((r) => setSummary({ ...r.set, created_at: new Date(r.set.created_at), updated_at: new Date(r.set.updated_at) }, versionSummary(r)));
  }

  async getSet(studyUid: string, setId: string, db: Queryable = this.db): Promise<AnnotationSetSummary | undefined> {
    return (await this.listSets(studyUid, db)).find((s) => s.setId === setId);
  }

  async versions(setId: string): Promise<VersionSummary[]> {
    const rows = await this.db.query<VersionRow>(`SELECT ${versionColumns} FROM annotation_versions v WHERE v.set_id = $1 ORDER BY v.version`, [setId]);
    return rows.rows.map(versionSummary);
  }

  async version(setId: string, version: number, db: Queryable = this.db): Promise<VersionDetail | undefined> {
    const rows = await db.query<VersionRow & { document: VersionDocument; study_uid: string; kind: AnnotationKind; name: string }>(
      `SELECT ${versionColumns}, v.document, s.study_uid, s.kind, s.name FROM annotation_versions v JOIN annotation_sets s ON s.set_id = v.set_id
       WHERE v.set_id = $1 AND v.version = $2`,
      [setId, version],
    );
    const row = rows.rows[0];
    if (!row) return undefined;
    return { ...versionSummary(row), setId, studyInstanceUID: row.study_uid, kind: row.kind, name: row.name, document: row.document };
  }

  /** Where the stored SR of a version is: the archive object of the exact instance version. */
  async srObject(setId: string, version: number): Promise<{ archiveKey: string; sopUid: string } | undefined> {
    const rows = await this.db.query<{ archive_key: string; sop_uid: string }>(
      `SELECT iv.archive_key, v.sop_uid FROM annotation_versions v
       JOIN instance_versions iv ON iv.sop_uid = v.sop_uid AND iv.version = v.instance_version
       WHERE v.set_id = $1 AND v.version = $2`,
      [setId, version],
    );
    const row = rows.rows[0];
    return row ? { archiveKey: row.archive_key, sopUid: row.sop_uid } : undefined;
  }

  /** The sets of one kind and their versions in a study, and the author's live viewer selections (for the versioning rule). */
  async studyAnnotations(client: Queryable, studyUid: string, authorSub: string, kind: AnnotationKind): Promise<StudyAnnotations> {
    const sets = await client.query<{ set_id: string; author_sub: string; name: string; current_version: number }>(
      'SELECT set_id, author_sub, name, current_version FROM annotation_sets WHERE study_uid = $1 AND kind = $2',
      [studyUid, kind],
    );
    const versions = await client.query<{ set_id: string; version: number; sop_uid: string; series_uid: string }>(
      'SELECT v.set_id, v.version, v.sop_uid, v.series_uid FROM annotation_versions v JOIN annotation_sets s ON s.set_id = v.set_id WHERE s.study_uid = $1 AND s.kind = $2',
      [studyUid, kind],
    );
    const selections = await client.query<{ set_id: string; version: number }>(
      'SELECT set_id, version FROM annotation_view_selections WHERE actor_sub = $1 AND study_uid = $2 AND expires_at > now()',
      [authorSub, studyUid],
    );
    return {
      sets: sets.rows.map((r): KnownSet => ({ setId: r.set_id, authorSub: r.author_sub, name: r.name, currentVersion: r.current_version })),
      versions: versions.rows.map((r): KnownVersion => ({ setId: r.set_id, version: r.version, sopUid: r.sop_uid, seriesUid: r.series_uid })),
      selections: new Map(selections.rows.map((r) => [r.set_id, r.version])),
    };
  }

  /** The version already recorded for this stored SR instance, if any. */
  async versionOfInstance(client: Queryable, sopUid: string, instanceVersion: number): Promise<{ setId: string; version: number } | undefined> {
    const rows = await client.query<{ set_id: string; version: number }>('SELECT set_id, version FROM annotation_versions WHERE sop_uid = $1 AND instance_version = $2', [sopUid, instanceVersion]);
    const row = rows.rows[0];
    return row ? { setId: row.set_id, version: row.version } : undefined;
  }

  async lockedSet(client: Queryable, studyUid: string, setId: string): Promise<SetRow | undefined> {
    return (await client.query<SetRow>('SELECT * FROM annotation_sets WHERE set_id = $1 AND study_uid = $2', [setId, studyUid])).rows[0];
  }

  async setByName(client: Queryable, studyUid: string, authorSub: string, name: string, kind: AnnotationKind = 'measurements'): Promise<SetRow | undefined> {
    return (await client.query<SetRow>('SELECT * FROM annotation_sets WHERE study_uid = $1 AND author_sub = $2 AND lower(name) = lower($3) AND kind = $4', [studyUid, authorSub, name, kind])).rows[0];
  }

  async createSet(client: Queryable, set: { setId: string; studyUid: string; seriesUid: string | null; kind: AnnotationKind; name: string; author: Author }): Promise<void> {
    await client.query(
      `INSERT INTO annotation_sets (set_id, study_uid, series_uid, kind, name, author_sub, author_name, current_version) VALUES ($1, $2, $3, $4, $5, $6, $7, 1)`,
      [set.setId, set.studyUid, set.seriesUid, set.kind, set.name, set.author.sub, set.author.name],
    );
  }

  /**
   * Inserts a version and points its set to it (creating the set's first
   * version when `version` is 1). The version it was at is hidden from now
   * on: the study and series counters follow (./shown-counters.ts).
   */
  async insertVersion(client: Queryable, v: NewVersion): Promise<void> {
    const previous = await client.query<{ sop_uid: string }>(
      'SELECT v.sop_uid FROM annotation_sets s JOIN annotation_versions v ON v.set_id = s.set_id AND v.version = s.current_version WHERE s.set_id = $1',
      [v.setId],
    );
    await moveShownCounters(client, [v.sopUid, ...previous.rows.map((r) => r.sop_uid)], () => this.recordVersion(client, v));
  }

  private async recordVersion(client: Queryable, v: NewVersion): Promise<void> {
    await client.query(
      `INSERT INTO annotation_versions (set_id, version, parent_version, restored_from, source, rule, sop_uid, instance_version, series_uid, sop_class_uid,
         author_sub, author_name, message, document, measurement_count)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
      [v.setId, v.version, v.parentVersion, v.restoredFrom, v.source, v.rule, v.sopUid, v.instanceVersion, v.seriesUid, v.sopClassUid,
        v.author.sub, v.author.name, v.message, JSON.stringify(v.document), 'measurements' in v.document ? v.document.measurements.length : 0],
    );
    await client.query('UPDATE annotation_sets SET current_version = $2, updated_at = now() WHERE set_id = $1', [v.setId, v.version]);
  }

  async selections(actorSub: string, studyUid: string): Promise<ViewerSelection[]> {
    const rows = await this.db.query<{ set_id: string; version: number; expires_at: Date }>(
      'SELECT set_id, version, expires_at FROM annotation_view_selections WHERE actor_sub = $1 AND study_uid = $2 AND expires_at > now() ORDER BY set_id',
      [actorSub, studyUid],
    );
    return rows.rows.map((r) => ({ setId: r.set_id, version: r.version, expiresAt: r.expires_at.toISOString() }));
  }

  /** Replaces the user's viewer selection for a study (expired rows of the user are cleaned up on the way). */
  async select(actorSub: string, studyUid: string, picks: readonly { setId: string; version: number }[], expiresInSeconds: number): Promise<void> {
    await inTransaction(this.db, async (client) => {
      await client.query('DELETE FROM annotation_view_selections WHERE actor_sub = $1 AND (study_uid = $2 OR expires_at <= now())', [actorSub, studyUid]);
      for (const pick of picks) {
        await client.query(
          `INSERT INTO annotation_view_selections (actor_sub, set_id, study_uid, version, expires_at) VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))`,
          [actorSub, pick.setId, studyUid, pick.version, expiresInSeconds],
        );
      }
    });
  }

  /** Drops the user's selection of one set (after they saved a new version of it). */
  async clearSelection(client: Queryable, actorSub: string, setId: string): Promise<void> {
    await client.query('DELETE FROM annotation_view_selections WHERE actor_sub = $1 AND set_id = $2', [actorSub, setId]);
  }
}
