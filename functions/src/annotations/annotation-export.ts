/**
 * What an export takes of annotations and labels (for the export worker):
 * the labels CSV rows of a set of studies (their current labels at every
 * level), and the annotation versions of those studies with their JSON
 * documents, so a zip can carry the latest version of every set, or all.
 */
import type { ExportLabel } from '@medlake/shared/export/labels-csv';
import type { AnnotationSetVersion } from '@medlake/shared/export/sr-observations';
import type { Queryable } from '../adapters/database';
import type { VersionDocument } from './annotation-store';
import { databasePool } from '../adapters/database';

/** One row per label currently on a study, a series or an instance of `studyUids` (labels.csv). */
export async function labelRowsForExport(studyUids: readonly string[], db: Queryable = databasePool()): Promise<ExportLabel[]> {
  if (studyUids.length === 0) return [];
  const rows = await db.query<{ study_uid: string; series_uid: string | null; sop_uid: string | null; code: string; value: string | null; author_name: string | null; created_at: Date }>(
    `SELECT ls.study_uid, ls.series_uid, ls.sop_uid, l.code, l.value, lv.author_name, lv.created_at
     FROM label_sets ls
     JOIN label_versions lv ON lv.target = ls.target AND lv.version = ls.current_version
     CROSS JOIN LATERAL jsonb_to_recordset(lv.labels) AS l(code text, value text)
     WHERE ls.study_uid = ANY($1::text[])
     ORDER BY ls.study_uid, ls.series_uid NULLS FIRST, ls.sop_uid NULLS FIRST, l.code`,
    [[...studyUids]],
  );
  return rows.rows.map((r) => ({
    studyInstanceUID: r.study_uid,
    seriesInstanceUID: r.series_uid,
    sopInstanceUID: r.sop_uid,
    label: r.code,
    value: r.value,
    author: r.author_name,
    createdAt: r.created_at.toISOString(),
  }));
}

export interface ExportAnnotationVersion {
  studyInstanceUID: string;
  /** The set and version as the export's annotation JSON names it. */
  set: AnnotationSetVersion;
  /** The stored SR: its series, instance and archived object. */
  seriesInstanceUID: string;
  sopInstanceUID: string;
  archiveKey: string;
  /** Measurements of an SR, or the segments of a SEG. */
  document: VersionDocument;
}

/** The annotation versions of `studyUids`: only each set's latest (`all: false`, the default) or every version. */
export async function annotationVersionsForExport(studyUids: readonly string[], options: { all?: boolean } = {}, db: Queryable = databasePool()): Promise<ExportAnnotationVersion[]> {
  if (studyUids.length === 0) return [];
  const rows = await db.query<{ study_uid: string; set_id: string; name: string; version: number; current: boolean; parent_version: number | null; author_name: string | null; created_at: Date; message: string | null; series_uid: string; sop_uid: string; archive_key: string; document: VersionDocument }>(
    `SELECT s.study_uid, s.set_id, s.name, v.version, v.version = s.current_version AS current, v.parent_version, v.author_name, v.created_at, v.message,
       v.series_uid, v.sop_uid, iv.archive_key, v.document
     FROM annotation_sets s
     JOIN annotation_versions v ON v.set_id = s.set_id
     JOIN instance_versions iv ON iv.sop_uid = v.sop_uid AND iv.version = v.instance_version
     WHERE s.study_uid = ANY($1::text[]) AND ($2 OR v.version = s.current_version)
     ORDER BY s.study_uid, s.created_at, s.set_id, v.version`,
    [[...studyUids], options.all ?? false],
  );
  return rows.rows.map((r) => ({
    studyInstanceUID: r.study_uid,
    set: {
      setId: r.set_id,
      name: r.name,
      version: r.version,
      current: r.current,
      parentVersion: r.parent_version,
      author: r.author_name,
      createdAt: r.created_at.toISOString(),
      message: r.message,
    },
    seriesInstanceUID: r.series_uid,
    sopInstanceUID: r.sop_uid,
    archiveKey: r.archive_key,
    document: r.document,
  }));
}
