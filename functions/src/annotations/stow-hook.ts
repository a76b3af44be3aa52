/**
 * Where STOW-RS (functions/src/dicomweb/stow.ts) hands over to annotations:
 * a stored measurement report or segmentation becomes an annotation version
 * of its author (audited as `annotations.save`). A failure here fails the
 * part, so the viewer's retry (a duplicate for the store) records it then.
 */
import { audit } from '../auth/audit-trail';
import type { HttpRequest } from '../http/router';
import { requirePrincipal } from '../http/router';
import type { RecordedSave } from './annotation-versions';
import { mayBeAnnotationVersion, recordStoredAnnotation } from './annotation-versions';

/** Records a stored measurement report or segmentation as an annotation version; undefined for anything else. */
export async function recordAnnotationSave(request: HttpRequest<unknown>, stored: { studyUid?: string | undefined; sopUid?: string | undefined; sopClassUid?: string | undefined }): Promise<RecordedSave | undefined> {
  if (!stored.sopUid || !mayBeAnnotationVersion(stored.sopClassUid)) return undefined;
  const principal = requirePrincipal(request);
  const saved = await recordStoredAnnotation(stored.sopUid, { author: { sub: principal.sub, name: principal.email ?? principal.username }, source: 'viewer' });
  if (saved?.created) {
    await audit(request, 'annotations.save', { resource: `study/${stored.studyUid ?? ''}`, details: { setId: saved.setId, version: saved.version, rule: saved.rule, via: 'stow' } });
  }
  return saved;
}
