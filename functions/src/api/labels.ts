/**
 * Classification labels over HTTP: the vocabulary (read by everyone who
 * reads studies, edited by admins), and the labels of a study, a series or
 * an instance, each a versioned set (every change a new version with its
 * author and time; `If-Match: "<version>"` detects concurrent edits, `"0"`
 * when the object has no labels yet). Writes are audited. See
 * docs/annotations.md.
 */
import { z } from 'zod';
import { LabelError, labelLevels, maxLabelsPerObject, maxTermsPerVocabulary, normalizeTerm } from '@medlake/shared/annotations/label-vocabulary';
import type { LabelTerm } from '@medlake/shared/annotations/label-vocabulary';
import { databasePool } from '../adapters/database';
import type { LabelTarget } from '../annotations/label-store';
import { LabelStore } from '../annotations/label-store';
import { audit } from '../auth/audit-trail';
import { scrubStudyTexts } from '../reports/study-scrubbing';
import { auditStudyAccess } from '../dicomweb/study-access';
import { badRequest, notFound } from '../http/errors';
import type { HttpRequest, Route } from '../http/router';
import { requirePrincipal, route } from '../http/router';
import { json } from '../http/response';
import { parentOf } from './annotations';

const store = () => new LabelStore(databasePool());
const uidPattern = /^[0-9.]{1,64}$/;

const term = z.object({
  code: z.string().min(1).max(64),
  display: z.string().max(120).optional(),
  description: z.string().max(1000).nullable().optional(),
  levels: z.array(z.enum(labelLevels)).min(1).optional(),
  values: z.array(z.string().max(64)).max(100).optional(),
  active: z.boolean().optional(),
});
const vocabularyBody = z.object({ terms: z.array(term).max(maxTermsPerVocabulary, `at most ${maxTermsPerVocabulary} terms`) });
const labelsBody = z.object({
  labels: z.array(z.object({ code: z.string().min(1).max(64), value: z.string().max(64).nullable().optional() })).max(maxLabelsPerObject),
  message: z.string().trim().max(1000).optional(),
  /** The version the edit started from (0: none yet), for clients that cannot send If-Match. */
  parentVersion: z.number().int().min(0).optional(),
});

function termOf(input: z.infer<typeof term>): LabelTerm {
  try {
    return normalizeTerm(input);
  } catch (error) {
    if (error instanceof LabelError) throw badRequest(error.code, error.message);
    throw error;
  }
}

async function studyOf(request: HttpRequest<unknown>): Promise<string> {
  const uid = request.params.uid ?? '';
  if (!uidPattern.test(uid)) throw badRequest('invalid_uid', 'A study instance UID has digits and dots only (64 at most).');
  const found = await databasePool().query('SELECT 1 FROM studies WHERE study_uid = $1', [uid]);
  if (!found.rowCount) throw notFound('study_not_found', 'There is no study with this UID.');
  return uid;
}

/** The object a label route is about, checked to belong to the study. */
async function targetOf(request: HttpRequest<unknown>, level: LabelTarget['level']): Promise<LabelTarget> {
  const studyUid = await studyOf(request);
  const seriesUid = level === 'study' ? null : (request.params.series ?? '');
  const sopUid = level === 'instance' ? (request.params.sop ?? '') : null;
  if ((seriesUid !== null && !uidPattern.test(seriesUid)) || (sopUid !== null && !uidPattern.test(sopUid))) throw badRequest('invalid_uid', 'UIDs have digits and dots only (64 at most).');
  const target = { level, studyUid, seriesUid, sopUid };
  await store().checkTarget(target);
  return target;
}

const describeTarget = (t: LabelTarget) => (t.level === 'study' ? 'study' : t.level === 'series' ? `series ${t.seriesUid}` : `instance ${t.sopUid}`);

/** GET (current), PUT (new version) and GET …/versions for one level. */
function objectRoutes(level: LabelTarget['level'], path: string): Route[] {
  return [
    route({
      method: 'GET',
      path,
      action: 'annotations:read',
      async handle(request) {
        const target = await targetOf(request, level);
        const set = await store().labelSet(target);
        await auditStudyAccess(request, 'open', [target.studyUid]);
        const version = set?.version ?? 0;
        return json(200, set ?? { level, studyInstanceUID: target.studyUid, seriesInstanceUID: target.seriesUid, sopInstanceUID: target.sopUid, version: 0, labels: [] }, { headers: { etag: `"${version}"` } });
      },
    }),
    route({
      method: 'PUT',
      path,
      action: 'annotations:write',
      body: labelsBody,
      async handle(request) {
        const principal = requirePrincipal(request);
        const target = await targetOf(request, level);
        // A version's message is shown to others and exported: scrubbed like the study's report.
        const [message = null] = await scrubStudyTexts(databasePool(), target.studyUid, [request.body.message ?? null]);
        const { set, changed } = await store().write(target, request.body.labels, parentOf(request, request.body.parentVersion), { sub: principal.sub, name: principal.email ?? principal.username }, message);
        await audit(request, 'labels.write', {
          resource: `study/${target.studyUid}`,
          details: { level, target: describeTarget(target), version: set.version, changed, labels: set.labels.map((l) => l.code) },
        });
        return json(changed ? 201 : 200, { ...set, changed }, { headers: { etag: `"${set.version}"` } });
      },
    }),
    route({
      method: 'GET',
      path: `${path}/versions`,
      action: 'annotations:read',
      async handle(request) {
        const target = await targetOf(request, level);
        await auditStudyAccess(request, 'open', [target.studyUid]);
        return json(200, { level, studyInstanceUID: target.studyUid, seriesInstanceUID: target.seriesUid, sopInstanceUID: target.sopUid, versions: await store().versions(target) });
      },
    }),
  ];
}

export const labelRoutes: Route[] = [
  route({
    method: 'GET',
    path: '/api/labels/vocabulary',
    action: 'annotations:read',
    async handle(request) {
      return json(200, { terms: await store().vocabulary(request.query.get('retired') === 'true') });
    },
  }),
  route({
    method: 'POST',
    path: '/api/labels/vocabulary',
    action: 'labels:manage',
    body: term,
    async handle(request) {
      const principal = requirePrincipal(request);
      const added = await store().addTerm(termOf(request.body), principal.email ?? principal.username);
      await audit(request, 'labels.vocabulary.add', { resource: `label/${added.code}`, details: { term: added } });
      return json(201, added);
    },
  }),
  route({
    method: 'PUT',
    path: '/api/labels/vocabulary',
    action: 'labels:manage',
    body: vocabularyBody,
    async handle(request) {
      const principal = requirePrincipal(request);
      const terms = request.body.terms.map(termOf);
      const codes = terms.map((t) => t.code);
      const twice = codes.find((c, i) => codes.indexOf(c) !== i);
      if (twice) throw badRequest('duplicate_label', `The label ${twice} is listed twice.`);
      const result = await store().replaceVocabulary(terms, principal.email ?? principal.username);
      await audit(request, 'labels.vocabulary.replace', { details: { terms: codes, retired: result.retired } });
      return json(200, result);
    },
  }),
  route({
    method: 'GET',
    path: '/api/studies/{uid}/labels/all',
    action: 'annotations:read',
    async handle(request) {
      const uid = await studyOf(request);
      const sets = await store().studyLabels(uid);
      await auditStudyAccess(request, 'open', [uid]);
      return json(200, {
        studyInstanceUID: uid,
        labels: [...new Set(sets.flatMap((s) => s.labels.map((l) => l.code)))].sort(),
        study: sets.find((s) => s.level === 'study') ?? null,
        series: sets.filter((s) => s.level === 'series'),
        instances: sets.filter((s) => s.level === 'instance'),
      });
    },
  }),
  ...objectRoutes('study', '/api/studies/{uid}/labels'),
  ...objectRoutes('series', '/api/studies/{uid}/series/{series}/labels'),
  ...objectRoutes('instance', '/api/studies/{uid}/series/{series}/instances/{sop}/labels'),
];
