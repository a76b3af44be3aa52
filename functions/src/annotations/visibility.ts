/**
 * The annotation versions WADO-RS /metadata leaves out for a caller: of each
 * annotation set of the study, every version but the one they look at (the
 * latest, or the one they picked in their viewer selection). The series
 * documents are cached with all their instances (functions/src/dicomweb/
 * metadata.ts); the few series holding annotation versions are filtered per
 * request. QIDO-RS does the same in SQL (shared/src/annotations/visibility-sql.ts).
 */
import { gunzipSync } from 'node:zlib';
import { stringValue } from '@medlake/shared/dicom/dicom-json-read';
import type { Queryable } from '../adapters/database';
import { databasePool } from '../adapters/database';

export interface HiddenVersions {
  /** SOP Instance UIDs of SRs not shown. */
  sops: Set<string>;
  /** The series they are in. */
  series: Set<string>;
  /** Of those, the series with nothing else in them: their documents need not be read (an empty list). */
  emptySeries: Set<string>;
}

export async function hiddenAnnotationVersions(studyUid: string, viewerSub: string | null, db: Queryable = databasePool()): Promise<HiddenVersions> {
  const rows = await db.query<{ sop_uid: string; series_uid: string; emptied: boolean }>(
    `WITH hidden AS (
       SELECT v.sop_uid, v.series_uid
       FROM annotation_versions v
       JOIN annotation_sets s ON s.set_id = v.set_id
       LEFT JOIN annotation_view_selections sel ON sel.set_id = v.set_id AND sel.actor_sub = $2 AND sel.expires_at > now()
       WHERE s.study_uid = $1
       GROUP BY v.sop_uid, v.series_uid
       HAVING NOT bool_or(v.version = coalesce(sel.version, s.current_version)))
     SELECT h.sop_uid, h.series_uid,
            NOT EXISTS (SELECT 1 FROM instances i WHERE i.series_uid = h.series_uid AND i.sop_uid NOT IN (SELECT sop_uid FROM hidden)) AS emptied
     FROM hidden h`,
    [studyUid, viewerSub],
  );
  return {
    sops: new Set(rows.rows.map((r) => r.sop_uid)),
    series: new Set(rows.rows.map((r) => r.series_uid)),
    emptySeries: new Set(rows.rows.filter((r) => r.emptied).map((r) => r.series_uid)),
  };
}

/** A series metadata document (gzip of a JSON array) without the hidden instances, as JSON text. */
export function withoutHiddenInstances(documentGzip: Buffer, hidden: ReadonlySet<string>): string {
  const instances = JSON.parse(gunzipSync(documentGzip).toString('utf8')) as Array<Record<string, { Value?: unknown[] }>>;
  return JSON.stringify(instances.filter((instance) => !hidden.has(stringValue(instance, '00080018') ?? '')));
}
