/**
 * Audit of study reads without flooding the log: a viewer opening a study
 * fetches its metadata and hundreds of frames, which is one audit line per
 * principal, study, kind and hour. The first read in the hour writes the
 * line (the ledger row decides, across Lambda containers); later reads in
 * the same container skip the database entirely.
 */
import type { Queryable } from '../adapters/database';
import { databasePool } from '../adapters/database';
import { audit } from '../auth/audit-trail';
import type { HttpRequest } from '../http/router';

export type StudyAccessKind = 'open' | 'retrieve';

const recent = new Map<string, number>();
const hourMs = 3_600_000;

/** Records a read of these studies (pseudonymous UIDs only) by the caller. */
export async function auditStudyAccess(request: HttpRequest<unknown>, kind: StudyAccessKind, studyUids: readonly string[], db: Queryable = databasePool()): Promise<void> {
  const sub = request.principal?.sub;
  if (!sub) return;
  const hourStart = Math.floor(Date.now() / hourMs) * hourMs;
  for (const studyUid of new Set(studyUids)) {
    const key = `${sub}|${studyUid}|${kind}`;
    if (recent.get(key) === hourStart) continue;
    const inserted = await db.query(
      `INSERT INTO study_access_hours (actor_sub, study_uid, hour_start, kind) VALUES ($1, $2, $3, $4)
       ON CONFLICT DO NOTHING RETURNING 1`,
      [sub, studyUid, new Date(hourStart), kind],
    );
    if (recent.size > 10_000) recent.clear();
    recent.set(key, hourStart);
    if (inserted.rowCount) {
      await audit(request, kind === 'open' ? 'study.open' : 'study.retrieve', { resource: `study/${studyUid}`, details: { via: request.path.startsWith('/dicomweb') ? 'dicomweb' : 'api', path: request.path.replace(/\/frames\/.*$/, '/frames') } });
    }
  }
}
