/**
 * Annotation sets over HTTP: the sets of a study (measurement reports and
 * segmentations), their versions (as JSON or as the stored DICOM SR or SEG),
 * diffs between versions, new versions written as
 * JSON (built into a TID 1500 SR and stored through the STOW-RS path),
 * restores, and the viewer selection (which version DICOMweb shows the
 * caller). Writes take `If-Match: "<version>"` on the version they started
 * from and answer 409 with the latest one when somebody saved in between.
 * Every write is audited; reads count as opening the study. See
 * docs/annotations.md.
 */
import { z } from 'zod';
import { diffDocuments } from '@medlake/shared/annotations/annotation-diff';
import type { Author } from '@medlake/shared/annotations/annotation-views';
import { diffSegmentations, isSegmentationDocument } from '@medlake/shared/annotations/segmentation-document';
import type { MeasurementInput } from '@medlake/shared/annotations/measurement-input';
import { MeasurementInputError, measurementSpec } from '@medlake/shared/annotations/measurement-input';
import { newUid, restoreVersion, writeVersion, annotationStore } from '../annotations/annotation-versions';
import type { AnnotationStore } from '../annotations/annotation-store';
import { audit } from '../auth/audit-trail';
import { archiveReader } from '../dicomweb/archive-reader';
import { auditStudyAccess } from '../dicomweb/study-access';
import { HttpError, badRequest, notFound } from '../http/errors';
import type { HttpRequest, Route } from '../http/router';
import { requirePrincipal, route } from '../http/router';
import { binary, json, noContent } from '../http/response';
import { uuidPattern } from './listing';

/** How long a viewer selection lasts unless the request says otherwise: long enough to open the viewer. */
export const defaultSelectionSeconds = 15 * 60;
export const maxSelectionSeconds = 12 * 60 * 60;
export const maxMeasurementsPerVersion = 2000;

const uidPattern = /^[0-9.]{1,64}$/;

const store = (): AnnotationStore => annotationStore();

function authorOf(request: HttpRequest<unknown>): Author {
  const principal = requirePrincipal(request);
  return { sub: principal.sub, name: principal.email ?? principal.username };
}

async function requireStudy(request: HttpRequest<unknown>): Promise<string> {
  const uid = request.params.uid ?? '';
  if (!uidPattern.test(uid)) throw badRequest('invalid_uid', 'A study instance UID has digits and dots only (64 at most).');
  if (!(await store().studyExists(uid))) throw notFound('study_not_found', 'There is no study with this UID.');
  return uid;
}

async function requireSet(request: HttpRequest<unknown>, studyUid: string) {
  const setId = request.params.setId ?? '';
  const set = uuidPattern.test(setId) ? await store().getSet(studyUid, setId.toLowerCase()) : undefined;
  if (!set) throw notFound('annotation_set_not_found', 'This study has no such annotation set.');
  return set;
}

function versionNumber(raw: string | null | undefined, name: string): number {
  const n = Number(raw);
  if (!raw || !Number.isInteger(n) || n < 1) throw badRequest('invalid_version', `${name} is a version number (a whole number from 1).`);
  return n;
}

/** If-Match: `"3"`, `W/"3"`, `3` or `*`; undefined when absent or `*`. */
export function expectedVersion(request: HttpRequest<unknown>): number | undefined {
  const raw = request.header('if-match')?.trim();
  if (!raw || raw === '*') return undefined;
  const match = /^(?:W\/)?"?(\d+)"?$/.exec(raw);
  if (!match) throw badRequest('invalid_if_match', 'If-Match names the version you started from, as an ETag: "3".');
  return Number(match[1]);
}

/** The version a write started from: If-Match, or `parentVersion` in the body (clients that cannot set headers). */
export function parentOf(request: HttpRequest<unknown>, fromBody: number | undefined): number | undefined {
  const fromHeader = expectedVersion(request);
  if (fromHeader !== undefined && fromBody !== undefined && fromHeader !== fromBody) throw badRequest('invalid_parent', 'If-Match and parentVersion name different versions.');
  return fromHeader ?? fromBody;
}

const etag = (version: number) => ({ etag: `"${version}"` });

const code = z.object({ value: z.string().min(1).max(16), scheme: z.string().min(1).max(16), meaning: z.string().min(1).max(64) });
const image = z.object({
  sopInstanceUID: z.string().min(1).max(64),
  frameNumbers: z.array(z.number().int().min(1)).max(10_000).optional(),
  frameNumber: z.number().int().min(1).optional(),
});
const coordinates = z.object({
  valueType: z.enum(['SCOORD', 'SCOORD3D']).optional(),
  graphicType: z.string().min(1).max(16),
  graphicData: z.array(z.number()).min(1).max(200_000),
  image: image.nullable().optional(),
  frameOfReferenceUID: z.string().max(64).nullable().optional(),
});
const measurement = z.object({
  trackingUid: z.string().max(64).nullable().optional(),
  trackingIdentifier: z.string().max(1024).nullable().optional(),
  tool: z.string().max(40).optional(),
  label: z.string().max(200).nullable().optional(),
  findingSites: z.array(code).max(20).optional(),
  value: z.number().nullable().optional(),
  unit: z.string().max(16).nullable().optional(),
  values: z
    .array(z.object({ concept: code.optional(), name: z.string().max(64).optional(), value: z.number().nullable(), unit: z.string().max(16).nullable().optional(), coordinates: coordinates.nullable().optional() }))
    .max(50)
    .optional(),
  image: image.nullable().optional(),
  coordinates: coordinates.nullable().optional(),
});
const message = z.string().trim().max(1000).optional();
const measurements = z.array(measurement).max(maxMeasurementsPerVersion, `at most ${maxMeasurementsPerVersion} measurements per version`);

const createSetBody = z.object({
  name: z.string().trim().min(1, 'name the annotation set').max(64, 'a set name has at most 64 characters (it becomes the SR series description)'),
  seriesInstanceUID: z.string().regex(uidPattern, 'a series instance UID has digits and dots only').optional(),
  message,
  measurements,
});
const versionBody = z.object({ message, measurements, parentVersion: z.number().int().min(1).optional() });
const restoreBody = z.object({ message, parentVersion: z.number().int().min(1).optional() }).optional();
const selectionBody = z.object({
  versions: z.array(z.object({ setId: z.string().regex(uuidPattern, 'setId is the id of an annotation set'), version: z.number().int().min(1) })).max(100),
  expiresInSeconds: z.number().int().min(10).max(maxSelectionSeconds).optional(),
});

/** Checks every measurement and completes it (tool defaults, tracking UIDs); 400 with where it went wrong. */
function specsOf(inputs: readonly MeasurementInput[]) {
  try {
    return inputs.map((m, i) => measurementSpec(m, `measurements[${i}]`, newUid));
  } catch (error) {
    if (error instanceof MeasurementInputError) throw badRequest(error.code, `${error.path}: ${error.message}`, { path: error.path });
    throw error;
  }
}

export const annotationRoutes: Route[] = [
  route({
    method: 'GET',
    path: '/api/studies/{uid}/annotations',
    action: 'annotations:read',
    async handle(request) {
      const uid = await requireStudy(request);
      const items = await store().listSets(uid);
      await auditStudyAccess(request, 'open', [uid]);
      return json(200, { studyInstanceUID: uid, items });
    },
  }),
  route({
    method: 'POST',
    path: '/api/studies/{uid}/annotations',
    action: 'annotations:write',
    body: createSetBody,
    async handle(request) {
      const uid = await requireStudy(request);
      const author = authorOf(request);
      const created = await writeVersion({
        studyUid: uid,
        target: { kind: 'new', name: request.body.name, seriesUid: request.body.seriesInstanceUID ?? null },
        measurements: specsOf(request.body.measurements as MeasurementInput[]),
        expectedParent: undefined,
        author,
        message: request.body.message ?? null,
        source: 'api',
      });
      await audit(request, 'annotations.create', { resource: `study/${uid}`, details: { setId: created.setId, version: created.version, measurements: created.measurementCount } });
      return json(201, created, { headers: { ...etag(created.version), location: `/api/studies/${uid}/annotations/${created.setId}/versions/${created.version}` } });
    },
  }),
  route({
    method: 'GET',
    path: '/api/studies/{uid}/annotations/{setId}',
    action: 'annotations:read',
    async handle(request) {
      const uid = await requireStudy(request);
      const set = await requireSet(request, uid);
      const versions = await store().versions(set.setId);
      await auditStudyAccess(request, 'open', [uid]);
      return json(200, { ...set, versions }, { headers: etag(set.currentVersion) });
    },
  }),
  route({
    method: 'GET',
    path: '/api/studies/{uid}/annotations/{setId}/versions',
    action: 'annotations:read',
    async handle(request) {
      const uid = await requireStudy(request);
      const set = await requireSet(request, uid);
      await auditStudyAccess(request, 'open', [uid]);
      return json(200, { setId: set.setId, currentVersion: set.currentVersion, versions: await store().versions(set.setId) }, { headers: etag(set.currentVersion) });
    },
  }),
  route({
    method: 'POST',
    path: '/api/studies/{uid}/annotations/{setId}/versions',
    action: 'annotations:write',
    body: versionBody,
    async handle(request) {
      const uid = await requireStudy(request);
      const set = await requireSet(request, uid);
      const created = await writeVersion({
        studyUid: uid,
        target: { kind: 'existing', setId: set.setId },
        measurements: specsOf(request.body.measurements as MeasurementInput[]),
        expectedParent: parentOf(request, request.body.parentVersion),
        author: authorOf(request),
        message: request.body.message ?? null,
        source: 'api',
      });
      await audit(request, 'annotations.version', { resource: `study/${uid}`, details: { setId: set.setId, version: created.version, parent: created.parentVersion, measurements: created.measurementCount } });
      return json(201, created, { headers: { ...etag(created.version), location: `/api/studies/${uid}/annotations/${set.setId}/versions/${created.version}` } });
    },
  }),
  route({
    method: 'GET',
    path: '/api/studies/{uid}/annotations/{setId}/versions/{n}',
    action: 'annotations:read',
    async handle(request) {
      const uid = await requireStudy(request);
      const set = await requireSet(request, uid);
      const n = versionNumber(request.params.n, 'The version');
      // Accept: application/dicom answers the stored SR itself.
      if (/application\/dicom(?!\+)/i.test(request.header('accept') ?? '')) return answerSr(request, uid, set.setId, n);
      const version = await store().version(set.setId, n);
      if (!version) throw notFound('version_not_found', `This annotation set has no version ${n}.`);
      await auditStudyAccess(request, 'open', [uid]);
      return json(200, version, { headers: etag(n) });
    },
  }),
  route({
    method: 'GET',
    path: '/api/studies/{uid}/annotations/{setId}/versions/{n}/dicom',
    action: 'annotations:read',
    async handle(request) {
      const uid = await requireStudy(request);
      const set = await requireSet(request, uid);
      return answerSr(request, uid, set.setId, versionNumber(request.params.n, 'The version'));
    },
  }),
  route({
    method: 'POST',
    path: '/api/studies/{uid}/annotations/{setId}/versions/{n}/restore',
    action: 'annotations:write',
    body: restoreBody,
    async handle(request) {
      const uid = await requireStudy(request);
      const set = await requireSet(request, uid);
      const n = versionNumber(request.params.n, 'The version');
      const created = await restoreVersion({ studyUid: uid, setId: set.setId, version: n, expectedParent: parentOf(request, request.body?.parentVersion), author: authorOf(request), message: request.body?.message ?? null });
      await audit(request, 'annotations.restore', { resource: `study/${uid}`, details: { setId: set.setId, version: created.version, restoredFrom: n } });
      return json(201, created, { headers: { ...etag(created.version), location: `/api/studies/${uid}/annotations/${set.setId}/versions/${created.version}` } });
    },
  }),
  route({
    method: 'GET',
    path: '/api/studies/{uid}/annotations/{setId}/diff',
    action: 'annotations:read',
    async handle(request) {
      const uid = await requireStudy(request);
      const set = await requireSet(request, uid);
      const to = request.query.has('to') ? versionNumber(request.query.get('to'), 'to') : set.currentVersion;
      const from = request.query.has('from') ? versionNumber(request.query.get('from'), 'from') : to - 1;
      if (from < 1) throw badRequest('invalid_version', 'Version 1 has nothing before it: give from.');
      const [a, b] = await Promise.all([store().version(set.setId, from), store().version(set.setId, to)]);
      if (!a || !b) throw notFound('version_not_found', `This annotation set has no version ${!a ? from : to}.`);
      await auditStudyAccess(request, 'open', [uid]);
      const { document: _a, ...fromSummary } = a;
      const { document: _b, ...toSummary } = b;
      // A segmentation's diff names segments (added, removed, renamed, changed); a measurement set's names measurements.
      const changes = isSegmentationDocument(a.document) && isSegmentationDocument(b.document) ? diffSegmentations(a.document, b.document)
        : 'measurements' in a.document && 'measurements' in b.document ? diffDocuments(a.document, b.document) : undefined;
      if (!changes) throw new Error('versions of one set of different kinds');
      return json(200, { setId: set.setId, kind: set.kind, from: fromSummary, to: toSummary, ...changes });
    },
  }),
  route({
    method: 'GET',
    path: '/api/studies/{uid}/annotations/viewer-selection',
    action: 'annotations:read',
    async handle(request) {
      const uid = await requireStudy(request);
      return json(200, { studyInstanceUID: uid, versions: await store().selections(requirePrincipal(request).sub, uid) });
    },
  }),
  route({
    method: 'PUT',
    path: '/api/studies/{uid}/annotations/viewer-selection',
    action: 'annotations:read',
    body: selectionBody,
    async handle(request) {
      const uid = await requireStudy(request);
      const sub = requirePrincipal(request).sub;
      const sets = new Map((await store().listSets(uid)).map((s) => [s.setId, s]));
      const picks = request.body.versions.map((v) => ({ setId: v.setId.toLowerCase(), version: v.version }));
      if (new Set(picks.map((p) => p.setId)).size !== picks.length) throw badRequest('duplicate_set', 'Pick one version per annotation set.');
      for (const pick of picks) {
        const set = sets.get(pick.setId);
        if (!set) throw notFound('annotation_set_not_found', 'This study has no such annotation set.');
        if (pick.version > set.currentVersion) throw notFound('version_not_found', `The set "${set.name}" has no version ${pick.version}.`);
      }
      await store().select(sub, uid, picks, request.body.expiresInSeconds ?? defaultSelectionSeconds);
      await audit(request, 'annotations.select', { resource: `study/${uid}`, details: { versions: picks } });
      return json(200, { studyInstanceUID: uid, versions: await store().selections(sub, uid) });
    },
  }),
  route({
    method: 'DELETE',
    path: '/api/studies/{uid}/annotations/viewer-selection',
    action: 'annotations:read',
    async handle(request) {
      const uid = await requireStudy(request);
      await store().select(requirePrincipal(request).sub, uid, [], defaultSelectionSeconds);
      return noContent();
    },
  }),
];

async function answerSr(request: HttpRequest<unknown>, studyUid: string, setId: string, version: number) {
  const object = await store().srObject(setId, version);
  if (!object) throw notFound('version_not_found', `This annotation set has no version ${version}.`);
  const bytes = await archiveReader().whole(object.archiveKey);
  await auditStudyAccess(request, 'retrieve', [studyUid]);
  if (bytes.length > 5_500_000) throw new HttpError(413, 'too_large', 'This SR is too large to answer here: retrieve it over DICOMweb (WADO-RS).');
  return binary(200, bytes, 'application/dicom', {
    headers: { ...etag(version), 'cache-control': 'private, no-store', 'content-disposition': `attachment; filename="${object.sopUid}.dcm"` },
  });
}
