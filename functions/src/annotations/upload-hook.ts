/**
 * Where uploads (the web upload page, the hospital gateway) hand over to
 * annotations: a measurement report (TID 1500) or segmentation uploaded for
 * a study of the lake becomes an annotation version of the uploading user,
 * source `upload`, placed by the same versioning rule as viewer saves. So
 * measurements imported from another PACS show up in the study's annotation
 * history. "For a study of the lake" means that after de-identification at
 * least one image it refers to is in its study; otherwise it stays a plain
 * instance (uploading it again once its images are in records it then: the
 * store answers duplicate and the version is recorded).
 * Ordinary images cost nothing here: the SOP class decides before any query.
 */
import type { Queryable } from '../adapters/database';
import { databasePool } from '../adapters/database';
import { auditLogFromEnv } from '../adapters/audit-log';
import { unregisteredOwner } from '../adapters/upload-records';
import type { StoreResult } from '../ingest/store-instance';
import type { RecordedSave } from './annotation-versions';
import { mayBeAnnotationVersion, recordStoredAnnotation } from './annotation-versions';

/** Records an uploaded instance as an annotation version when it is one; undefined otherwise. */
export async function recordUploadedAnnotation(stored: StoreResult, origin: { uploadId: string | undefined }, db: Queryable = databasePool()): Promise<RecordedSave | undefined> {
  if ((stored.outcome !== 'accepted' && stored.outcome !== 'duplicate') || !stored.sopUid || !origin.uploadId || !mayBeAnnotationVersion(stored.sopClassUid)) return undefined;
  const owner = (await db.query<{ owner_sub: string; owner_name: string | null }>('SELECT owner_sub, owner_name FROM uploads WHERE upload_id = $1', [origin.uploadId])).rows[0];
  // An object nobody announced has no author to give the version.
  if (!owner || owner.owner_sub === unregisteredOwner) return undefined;
  const saved = await recordStoredAnnotation(stored.sopUid, { author: { sub: owner.owner_sub, name: owner.owner_name }, source: 'upload' });
  if (saved?.created) {
    await auditLogFromEnv().record({
      actorSub: owner.owner_sub, actorName: owner.owner_name ?? undefined, action: 'annotations.save', resource: `study/${stored.studyUid ?? ''}`,
      details: { setId: saved.setId, version: saved.version, rule: saved.rule, via: 'upload', uploadId: origin.uploadId },
    });
  }
  return saved;
}
