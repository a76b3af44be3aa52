/**
 * Annotation sets with their history, on the real local stack: a lake filled
 * through uploads and ingest, measurement reports saved the way OHIF saves
 * them (dcmjs TID 1500, STOW-RS through the front door), versions listed,
 * read as JSON and as the stored SR, diffed and restored, written from JSON
 * through the API with If-Match (409 on a stale parent), DICOMweb showing
 * the latest version of each set unless the caller picked another one, the
 * role matrix of the new endpoints and the audit trail.
 */
import { rmSync } from 'node:fs';
import dicomParser from 'dicom-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnnotationDocument, Measurement } from '@medlake/shared/annotations/annotation-document';
import type { LakeImage, SaveOptions, ToolMeasurement } from './fixtures/annotations/ohif-measurement-report';
import { ohifMeasurementReport } from './fixtures/annotations/ohif-measurement-report';
import type { Json } from './fixtures/annotations/annotated-study';
import { firstValue as value, ingestAnnotatedStudy, stowAsViewer } from './fixtures/annotations/annotated-study';
import type { TestResponse, TestStack, TestUser } from './support/local-stack';
import { startTestStack } from './support/local-stack';

interface VersionSummary { version: number; parentVersion: number | null; restoredFrom: number | null; source: string; rule: string | null; sopInstanceUID: string; seriesInstanceUID: string; sopClassUID: string; measurementCount: number; author: { sub: string } }
interface VersionDetail extends VersionSummary { setId: string; document: AnnotationDocument }
interface SetSummary { setId: string; name: string; currentVersion: number; author: { sub: string; name: string | null }; seriesInstanceUID: string | null; latest: VersionSummary }

let stack: TestStack;
let annotator: TestUser;
let colleague: TestUser;
let researcher: TestUser;
let uploader: TestUser;
let admin: TestUser;
let pending: TestUser;
let dir: string;
let studyUid: string;
let images: LakeImage[];
let patient: { patientId: string; patientName: string; studyDate: string };
/** The bytes of the last report saved from the viewer (to post it again). */
let lastSaved: Uint8Array;

const api = (path: string, token: string, init: { method?: string; json?: unknown; headers?: Record<string, string> } = {}) => stack.request(path, { token, ...init });

const stow = (user: TestUser, part10: Uint8Array) => stowAsViewer(stack, user, part10);

/** Saves measurements as OHIF does; answers the stored SR's SOP Instance UID (the lake's). */
async function saveFromViewer(user: TestUser, measurements: ToolMeasurement[], options: Omit<SaveOptions, 'patientId' | 'patientName' | 'studyDate'>): Promise<string> {
  const report = ohifMeasurementReport(measurements, { ...options, ...patient });
  lastSaved = report.part10;
  const answer = await stow(user, report.part10);
  expect([200, 202]).toContain(answer.status);
  const stored = answer.body['00081199']?.Value?.[0] as Json;
  const url = String(value(stored, '00081190'));
  // Stored in the study it measures (derived from lake data), not in a study of its own.
  expect(url).toContain(`/studies/${studyUid}/series/`);
  return url.split('/instances/')[1] as string;
}

async function sets(token = annotator.idToken): Promise<SetSummary[]> {
  const res = await api(`/api/studies/${studyUid}/annotations`, token);
  expect(res.status).toBe(200);
  return (res.body as { items: SetSummary[] }).items;
}

async function version(setId: string, n: number, token = researcher.idToken): Promise<VersionDetail> {
  const res = await api(`/api/studies/${studyUid}/annotations/${setId}/versions/${n}`, token);
  expect(res.status).toBe(200);
  return res.body as VersionDetail;
}

/** SR instances DICOMweb shows the user in the study: through QIDO (series → instances) and study /metadata. */
async function visibleReports(token: string): Promise<{ qido: string[]; metadata: string[] }> {
  const series = (await api(`/dicomweb/studies/${studyUid}/series?Modality=SR`, token)).body as Json[];
  const qido: string[] = [];
  for (const s of series) {
    const instances = (await api(`/dicomweb/studies/${studyUid}/series/${String(value(s, '0020000E'))}/instances`, token)).body as Json[];
    qido.push(...instances.map((i) => String(value(i, '00080018'))));
  }
  const metadata = ((await api(`/dicomweb/studies/${studyUid}/metadata`, token)).body as Json[]).filter((i) => value(i, '00080060') === 'SR').map((i) => String(value(i, '00080018')));
  return { qido: qido.sort(), metadata: metadata.sort() };
}

const byTool = (document: AnnotationDocument, tool: string): Measurement[] => document.measurements.filter((m) => m.tool === tool);

beforeAll(async () => {
  stack = await startTestStack();
  [annotator, colleague, researcher, uploader, admin, pending] = await Promise.all([
    stack.createUser({ groups: ['annotator'] }),
    stack.createUser({ groups: ['annotator'] }),
    stack.createUser({ groups: ['researcher'] }),
    stack.createUser({ groups: ['uploader'] }),
    stack.createUser({ groups: ['admin'] }),
    stack.createUser({ groups: [] }),
  ]);
  ({ dir, studyUid, patient, images } = await ingestAnnotatedStudy(stack, { uploader, researcher }, { name: 'annotations', seed: 77 }));
}, 600_000);

afterAll(async () => {
  await stack?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('annotation versions from the viewer (STOW-RS)', () => {
  let setId: string;
  const sops: string[] = [];

  it('a first save starts a set of its author, version 1', async () => {
    const [a, b] = images as [LakeImage, LakeImage];
    sops.push(
      await saveFromViewer(annotator, [
        { tool: 'Length', image: a, from: [4, 4], to: [14, 12], lengthMm: 12.5, label: 'lesion A' },
        { tool: 'EllipticalROI', image: b, top: [16, 8], bottom: [16, 20], left: [10, 14], right: [22, 14], areaMm2: 113.1 },
      ], { reportName: 'Lesions' }),
    );
    const list = await sets();
    expect(list).toHaveLength(1);
    const set = list[0] as SetSummary;
    setId = set.setId;
    expect(set).toMatchObject({ name: 'Lesions', currentVersion: 1, author: { sub: annotator.username, name: annotator.email } });
    expect(set.latest).toMatchObject({ version: 1, parentVersion: null, source: 'viewer', rule: 'new', sopInstanceUID: sops[0], measurementCount: 2 });
    // Both measurements are on images of one series: the set is about that series.
    expect(images[0]?.seriesUid).toBe(images[1]?.seriesUid);
    expect(set.seriesInstanceUID).toBe(images[0]?.seriesUid);
  });

  it('saving into the report series (OHIF names the loaded report as predecessor) makes version 2', async () => {
    const [a, b, c] = images as [LakeImage, LakeImage, LakeImage];
    const v1 = await version(setId, 1);
    sops.push(
      await saveFromViewer(annotator, [
        { tool: 'Length', image: a, from: [4, 4], to: [16, 13], lengthMm: 14.8, label: 'lesion A' },
        { tool: 'EllipticalROI', image: b, top: [16, 8], bottom: [16, 20], left: [10, 14], right: [22, 14], areaMm2: 113.1 },
        { tool: 'Length', image: c, from: [2, 2], to: [6, 9], lengthMm: 8.1, label: 'nodule' },
      ], { reportName: 'Lesions', predecessor: { seriesUid: v1.seriesInstanceUID, sopUid: v1.sopInstanceUID, sopClassUid: v1.sopClassUID, instanceNumber: 1 } }),
    );
    const v2 = await version(setId, 2);
    expect(v2).toMatchObject({ version: 2, parentVersion: 1, rule: 'predecessor', source: 'viewer', sopInstanceUID: sops[1], seriesInstanceUID: v1.seriesInstanceUID, measurementCount: 3 });
  });

  it('a later save under the same report name (any case) makes version 3; another author starts their own set', async () => {
    const [a] = images as [LakeImage];
    sops.push(await saveFromViewer(annotator, [{ tool: 'Length', image: a, from: [4, 4], to: [16, 13], lengthMm: 14.8, label: 'lesion A' }], { reportName: '  lesions ' }));
    expect(await version(setId, 3)).toMatchObject({ version: 3, parentVersion: 2, rule: 'name', measurementCount: 1 });
    await saveFromViewer(colleague, [{ tool: 'Length', image: a, from: [1, 1], to: [3, 3], lengthMm: 2.8 }], { reportName: 'Lesions' });
    const list = await sets();
    expect(list).toHaveLength(2);
    expect(list.find((s) => s.setId === setId)?.currentVersion).toBe(3);
    expect(list.find((s) => s.setId !== setId)).toMatchObject({ currentVersion: 1, author: { sub: colleague.username } });
  });

  it('posting the same SR again adds no version', async () => {
    const again = await stow(colleague, lastSaved);
    expect([200, 202]).toContain(again.status);
    const list = await sets();
    expect(list.find((s) => s.setId === setId)?.currentVersion).toBe(3);
    expect(list).toHaveLength(2);
  });

  it('lists the versions with author, time, parent and source', async () => {
    const res = await api(`/api/studies/${studyUid}/annotations/${setId}/versions`, researcher.idToken);
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe('"3"');
    const versions = (res.body as { versions: (VersionSummary & { createdAt: string })[] }).versions;
    expect(versions.map((v) => [v.version, v.parentVersion, v.source, v.rule])).toEqual([
      [1, null, 'viewer', 'new'],
      [2, 1, 'viewer', 'predecessor'],
      [3, 2, 'viewer', 'name'],
    ]);
    expect(versions.map((v) => v.sopInstanceUID)).toEqual(sops);
    expect(new Set(versions.map((v) => v.author.sub))).toEqual(new Set([annotator.username]));
    expect(versions.every((v) => !Number.isNaN(Date.parse(v.createdAt)))).toBe(true);
  });

  it('answers a version as JSON: tool, value, unit, image, coordinates, labels', async () => {
    const v2 = await version(setId, 2);
    expect(v2.document.title).toBe('Lesions');
    expect(v2.document.labels).toEqual(['lesion A', 'nodule']);
    const [first, nodule] = byTool(v2.document, 'Length');
    expect(first).toMatchObject({ tool: 'Length', label: 'lesion A', value: 14.8, unit: 'mm', trackingIdentifier: 'Cornerstone3DTools@^0.1.0:Length' });
    expect(first?.image?.sopInstanceUID).toBe(images[0]?.sopUid);
    expect(first?.coordinates).toMatchObject({ valueType: 'SCOORD', graphicType: 'POLYLINE', graphicData: [4, 4, 16, 13] });
    expect(nodule?.image?.sopInstanceUID).toBe(images[2]?.sopUid);
    const [ellipse] = byTool(v2.document, 'EllipticalROI');
    expect(ellipse).toMatchObject({ value: 113.1, coordinates: { graphicType: 'ELLIPSE' } });
    expect(ellipse?.image?.sopInstanceUID).toBe(images[1]?.sopUid);
  });

  it('answers a version as the stored DICOM SR', async () => {
    const v1 = await version(setId, 1);
    for (const [path, accept] of [[`versions/1/dicom`, '*/*'], [`versions/1`, 'application/dicom']] as const) {
      const res = await fetch(`${stack.url}/api/studies/${studyUid}/annotations/${setId}/${path}`, { headers: { authorization: `Bearer ${researcher.idToken}`, accept } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/dicom');
      const bytes = new Uint8Array(await res.arrayBuffer());
      expect(Buffer.from(bytes.subarray(128, 132)).toString()).toBe('DICM');
      const dataSet = dicomParser.parseDicom(bytes);
      expect(dataSet.string('x00080018')).toBe(v1.sopInstanceUID);
      expect(dataSet.string('x0020000d')).toBe(studyUid);
      expect(dataSet.string('x00100020')).toBe(patient.patientId);
    }
  });

  it('diffs two versions: added, removed and changed measurements', async () => {
    const d12 = (await api(`/api/studies/${studyUid}/annotations/${setId}/diff?from=1&to=2`, researcher.idToken)).body as {
      added: Measurement[]; removed: Measurement[]; changed: { before: Measurement; after: Measurement; fields: string[]; matchedBy: string }[]; unchanged: number; from: { version: number }; to: { version: number };
    };
    expect(d12.from.version).toBe(1);
    expect(d12.to.version).toBe(2);
    expect(d12.added.map((m) => m.label)).toEqual(['nodule']);
    expect(d12.removed).toEqual([]);
    expect(d12.unchanged).toBe(1);
    expect(d12.changed).toHaveLength(1);
    expect(d12.changed[0]).toMatchObject({ before: { value: 12.5 }, after: { value: 14.8 }, matchedBy: 'toolAndImage' });
    expect(d12.changed[0]?.fields.sort()).toEqual(['coordinates', 'values']);
    // Default: the latest against the one before it.
    const d23 = (await api(`/api/studies/${studyUid}/annotations/${setId}/diff`, researcher.idToken)).body as { added: Measurement[]; removed: Measurement[]; unchanged: number; from: { version: number } };
    expect(d23.from.version).toBe(2);
    expect(d23.removed.map((m) => m.tool).sort()).toEqual(['EllipticalROI', 'Length']);
    expect(d23.added).toEqual([]);
    expect(d23.unchanged).toBe(1);
  });

  it('DICOMweb shows the latest version of each set; a user can pick an older one for themselves', async () => {
    const list = await sets();
    const other = list.find((s) => s.setId !== setId) as SetSummary;
    const latest = [sops[2] as string, other.latest.sopInstanceUID].sort();
    expect(await visibleReports(researcher.idToken)).toEqual({ qido: latest, metadata: latest });
    // The series of versions 1 and 2 (saved into one series) shows none of them; asked directly it is empty.
    const v1 = await version(setId, 1);
    expect((await api(`/dicomweb/studies/${studyUid}/series/${v1.seriesInstanceUID}/instances`, researcher.idToken)).body).toEqual([]);
    expect((await api(`/dicomweb/studies/${studyUid}/series/${v1.seriesInstanceUID}/metadata`, researcher.idToken)).body).toEqual([]);
    // The instance itself stays reachable by its own path.
    expect((await api(`/dicomweb/studies/${studyUid}/series/${v1.seriesInstanceUID}/instances/${v1.sopInstanceUID}/metadata`, researcher.idToken)).status).toBe(200);

    const picked = await api(`/api/studies/${studyUid}/annotations/viewer-selection`, researcher.idToken, { method: 'PUT', json: { versions: [{ setId, version: 1 }] } });
    expect(picked.status).toBe(200);
    expect((picked.body as { versions: { setId: string; version: number }[] }).versions).toMatchObject([{ setId, version: 1 }]);
    const withOld = [sops[0] as string, other.latest.sopInstanceUID].sort();
    expect(await visibleReports(researcher.idToken)).toEqual({ qido: withOld, metadata: withOld });
    // Only for them: everybody else still sees the latest.
    expect(await visibleReports(annotator.idToken)).toEqual({ qido: latest, metadata: latest });
    expect(((await api(`/dicomweb/studies/${studyUid}/series/${v1.seriesInstanceUID}/metadata`, researcher.idToken)).body as Json[]).map((i) => value(i, '00080018'))).toEqual([sops[0]]);

    // A selection is short-lived: once expired, the latest again.
    await stack.db.query("UPDATE annotation_view_selections SET expires_at = now() - interval '1 second' WHERE set_id = $1", [setId]);
    expect(await visibleReports(researcher.idToken)).toEqual({ qido: latest, metadata: latest });
    await api(`/api/studies/${studyUid}/annotations/viewer-selection`, researcher.idToken, { method: 'PUT', json: { versions: [{ setId, version: 2 }] } });
    expect((await visibleReports(researcher.idToken)).qido).toContain(sops[1]);
    expect((await api(`/api/studies/${studyUid}/annotations/viewer-selection`, researcher.idToken, { method: 'DELETE' })).status).toBe(204);
    expect(await visibleReports(researcher.idToken)).toEqual({ qido: latest, metadata: latest });
    expect((await api(`/api/studies/${studyUid}/annotations/viewer-selection`, researcher.idToken, { method: 'PUT', json: { versions: [{ setId, version: 9 }] } })).status).toBe(404);
  });

  it('a viewer save after opening an older version records it as the parent', async () => {
    const [a] = images as [LakeImage];
    await api(`/api/studies/${studyUid}/annotations/viewer-selection`, annotator.idToken, { method: 'PUT', json: { versions: [{ setId, version: 1 }] } });
    sops.push(await saveFromViewer(annotator, [{ tool: 'Length', image: a, from: [4, 4], to: [14, 12], lengthMm: 12.5, label: 'lesion A' }], { reportName: 'Lesions' }));
    expect(await version(setId, 4)).toMatchObject({ version: 4, parentVersion: 1, rule: 'name' });
    // Their save is what they see next.
    expect((await api(`/api/studies/${studyUid}/annotations/viewer-selection`, annotator.idToken)).body).toMatchObject({ versions: [] });
  });
});

describe('annotation versions through the API', () => {
  let setId: string;

  it('writes a version from JSON with If-Match, stored as a TID 1500 SR DICOMweb serves as the latest', async () => {
    setId = ((await sets()).find((s) => s.author.sub === annotator.username) as SetSummary).setId;
    const measurements = [
      { tool: 'Length', label: 'lesion A', value: 15.2, unit: 'mm', image: { sopInstanceUID: images[0]?.sopUid }, coordinates: { graphicType: 'POLYLINE', graphicData: [4, 4, 17, 13] } },
      { tool: 'CircleROI', label: 'cyst', value: 50.3, image: { sopInstanceUID: images[3]?.sopUid }, coordinates: { graphicType: 'CIRCLE', graphicData: [10, 10, 14, 10] } },
    ];
    const res = await api(`/api/studies/${studyUid}/annotations/${setId}/versions`, annotator.idToken, { json: { message: 'measured again', measurements }, headers: { 'if-match': '"4"' } });
    expect(res.status).toBe(201);
    expect(res.headers.get('etag')).toBe('"5"');
    const v5 = res.body as VersionDetail & { message: string };
    expect(v5).toMatchObject({ version: 5, parentVersion: 4, source: 'api', message: 'measured again', measurementCount: 2 });
    expect(v5.document.measurements.map((m) => [m.tool, m.label, m.value, m.unit, m.image?.sopInstanceUID, m.coordinates?.graphicType])).toEqual([
      ['Length', 'lesion A', 15.2, 'mm', images[0]?.sopUid, 'POLYLINE'],
      ['CircleROI', 'cyst', 50.3, 'mm2', images[3]?.sopUid, 'CIRCLE'],
    ]);
    // The SR is in the study's index like a viewer save: next in its report series, the latest for DICOMweb.
    const v4 = await version(setId, 4);
    expect(v5.seriesInstanceUID).toBe(v4.seriesInstanceUID);
    expect((await visibleReports(researcher.idToken)).qido).toContain(v5.sopInstanceUID);
    expect((await visibleReports(researcher.idToken)).qido).not.toContain(v4.sopInstanceUID);
    const metadata = (await api(`/dicomweb/studies/${studyUid}/series/${v5.seriesInstanceUID}/metadata`, researcher.idToken)).body as Json[];
    expect(metadata.map((i) => value(i, '00080018'))).toEqual([v5.sopInstanceUID]);
    const sr = metadata[0] as Json;
    expect(value(sr, '0040A504') as Json).toBeDefined();
    expect(String(value(value(sr, '0040A504') as Json, '0040DB00'))).toBe('1500');
    // It names its predecessor, the version it was made from.
    const predecessor = value(value(value(sr, '0040A360') as Json, '00081115') as Json, '00081199') as Json;
    expect(value(predecessor, '00081155')).toBe(v4.sopInstanceUID);
  });

  it('answers 409 with the latest version when the parent is not the latest any more', async () => {
    const stale = await api(`/api/studies/${studyUid}/annotations/${setId}/versions`, colleague.idToken, {
      json: { measurements: [{ tool: 'Length', value: 1, image: { sopInstanceUID: images[0]?.sopUid }, coordinates: { graphicType: 'POLYLINE', graphicData: [1, 1, 2, 2] } }] },
      headers: { 'if-match': '"4"' },
    });
    expect(stale.status).toBe(409);
    const error = (stale.body as { error: { code: string; message: string; current: VersionDetail; expectedVersion: number } }).error;
    expect(error.code).toBe('version_conflict');
    expect(error.expectedVersion).toBe(4);
    expect(error.current).toMatchObject({ version: 5, source: 'api' });
    expect(error.current.document.measurements).toHaveLength(2);
    // The same through parentVersion in the body; nothing was stored.
    const viaBody = await api(`/api/studies/${studyUid}/annotations/${setId}/versions`, colleague.idToken, {
      json: { parentVersion: 3, measurements: [{ tool: 'Length', value: 1, image: { sopInstanceUID: images[0]?.sopUid }, coordinates: { graphicType: 'POLYLINE', graphicData: [1, 1, 2, 2] } }] },
    });
    expect(viaBody.status).toBe(409);
    expect((await sets()).find((s) => s.setId === setId)?.currentVersion).toBe(5);
    expect((await api(`/api/studies/${studyUid}/annotations/${setId}/versions/1/restore`, annotator.idToken, { method: 'POST', json: {}, headers: { 'if-match': '"4"' } })).status).toBe(409);
  });

  it('restores an old version as a new one with the same measurements', async () => {
    const res = await api(`/api/studies/${studyUid}/annotations/${setId}/versions/1/restore`, annotator.idToken, { method: 'POST', json: { message: 'back to the first reading' }, headers: { 'if-match': '"5"' } });
    expect(res.status).toBe(201);
    const v6 = res.body as VersionDetail & { message: string };
    expect(v6).toMatchObject({ version: 6, parentVersion: 5, restoredFrom: 1, source: 'restore', message: 'back to the first reading', measurementCount: 2 });
    const diff = (await api(`/api/studies/${studyUid}/annotations/${setId}/diff?from=1&to=6`, researcher.idToken)).body as { added: unknown[]; removed: unknown[]; changed: unknown[]; unchanged: number };
    expect(diff).toMatchObject({ added: [], removed: [], changed: [], unchanged: 2 });
    // Matched by tracking UID: a restore keeps the measurements' identity.
    const v1 = await version(setId, 1);
    expect(v6.document.measurements.map((m) => m.trackingUid)).toEqual(v1.document.measurements.map((m) => m.trackingUid));
    expect((await visibleReports(researcher.idToken)).qido).toContain(v6.sopInstanceUID);
    // Nothing was overwritten: every version is still there, with its own SR.
    const all = (await api(`/api/studies/${studyUid}/annotations/${setId}/versions`, researcher.idToken)).body as { versions: VersionSummary[] };
    expect(all.versions.map((v) => v.version)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(new Set(all.versions.map((v) => v.sopInstanceUID)).size).toBe(6);
  });

  it('creates a set from JSON and refuses measurements it cannot store', async () => {
    const good = { tool: 'Length', value: 3.3, image: { sopInstanceUID: images[4]?.sopUid }, coordinates: { graphicType: 'POLYLINE', graphicData: [1, 1, 3, 3] } };
    const created = await api(`/api/studies/${studyUid}/annotations`, admin.idToken, { json: { name: 'Second opinion', seriesInstanceUID: images[4]?.seriesUid, measurements: [good] } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ version: 1, parentVersion: null, source: 'api', name: 'Second opinion' });
    const set = (await sets()).find((s) => s.name === 'Second opinion') as SetSummary;
    expect(set.seriesInstanceUID).toBe(images[4]?.seriesUid);
    const cases: [unknown, number, string][] = [
      [{ name: 'Second opinion', measurements: [good] }, 409, 'annotation_set_exists'],
      [{ name: 'x', measurements: [{ ...good, image: { sopInstanceUID: '2.25.1234' } }] }, 400, 'unknown_image'],
      [{ name: 'x', measurements: [{ ...good, coordinates: { graphicType: 'ELLIPSE', graphicData: [1, 1] } }] }, 400, 'invalid_coordinates'],
      [{ name: 'x', measurements: [{ value: 1 }] }, 400, 'tool_required'],
      [{ name: '', measurements: [] }, 400, 'invalid_request'],
      [{ name: 'x', seriesInstanceUID: '2.25.99', measurements: [good] }, 400, 'unknown_series'],
    ];
    for (const [body, status, code] of cases) {
      const res = await api(`/api/studies/${studyUid}/annotations`, admin.idToken, { json: body });
      expect([res.status, (res.body as { error: { code: string } }).error.code]).toEqual([status, code]);
    }
    expect((await api(`/api/studies/${studyUid}/annotations/00000000-0000-0000-0000-000000000000`, researcher.idToken)).status).toBe(404);
    expect((await api(`/api/studies/2.25.404/annotations`, researcher.idToken)).status).toBe(404);
    expect((await api(`/api/studies/${studyUid}/annotations/${set.setId}/versions/7`, researcher.idToken)).status).toBe(404);
  });

  it('audits every write', async () => {
    const rows = await stack.db.query<{ action: string; actor_sub: string; resource: string; details: Record<string, unknown> }>(
      "SELECT action, actor_sub, resource, details FROM audit_log WHERE action LIKE 'annotations.%' ORDER BY id",
    );
    const actions = rows.rows.map((r) => `${r.action}:${r.actor_sub === annotator.username ? 'annotator' : r.actor_sub === colleague.username ? 'colleague' : r.actor_sub === admin.username ? 'admin' : 'researcher'}`);
    expect(actions.filter((a) => a.startsWith('annotations.save'))).toEqual(['annotations.save:annotator', 'annotations.save:annotator', 'annotations.save:annotator', 'annotations.save:colleague', 'annotations.save:annotator']);
    expect(actions).toContain('annotations.version:annotator');
    expect(actions).toContain('annotations.restore:annotator');
    expect(actions).toContain('annotations.create:admin');
    expect(actions).toContain('annotations.select:researcher');
    expect(rows.rows.every((r) => r.resource === `study/${studyUid}`)).toBe(true);
  });
});

describe('who may do what', () => {
  it('annotators and admins write, researchers read, others are refused', async () => {
    const setId = ((await sets()).find((s) => s.author.sub === annotator.username) as SetSummary).setId;
    const base = `/api/studies/${studyUid}/annotations`;
    const measurement = { tool: 'Length', value: 2, image: { sopInstanceUID: images[0]?.sopUid }, coordinates: { graphicType: 'POLYLINE', graphicData: [1, 1, 2, 2] } };
    const calls: [string, string, { method?: string; json?: unknown }][] = [
      ['read sets', base, {}],
      ['read a set', `${base}/${setId}`, {}],
      ['read versions', `${base}/${setId}/versions`, {}],
      ['read a version', `${base}/${setId}/versions/1`, {}],
      ['read a diff', `${base}/${setId}/diff?from=1&to=2`, {}],
      ['pick a version', `${base}/viewer-selection`, { method: 'PUT', json: { versions: [] } }],
      ['write a version', `${base}/${setId}/versions`, { method: 'POST', json: { measurements: [measurement] } }],
      ['restore', `${base}/${setId}/versions/1/restore`, { method: 'POST', json: {} }],
      ['create a set', base, { method: 'POST', json: { name: `Set ${Math.random()}`, measurements: [measurement] } }],
    ];
    const reads = new Set(['read sets', 'read a set', 'read versions', 'read a version', 'read a diff', 'pick a version']);
    const matrix: Record<string, Record<string, number>> = {};
    for (const [who, user] of [['annotator', annotator], ['admin', admin], ['researcher', researcher], ['uploader', uploader], ['pending', pending]] as const) {
      for (const [name, path, init] of calls) {
        const res: TestResponse = await api(path, user.idToken, init);
        (matrix[who] ??= {})[name] = res.status;
      }
    }
    for (const [name] of calls) {
      const ok = (status: number | undefined) => status !== undefined && status >= 200 && status < 300;
      expect(ok(matrix.annotator?.[name]), `annotator: ${name}`).toBe(true);
      expect(ok(matrix.admin?.[name]), `admin: ${name}`).toBe(true);
      expect(matrix.researcher?.[name], `researcher: ${name}`).toBe(reads.has(name) ? 200 : 403);
      expect(matrix.uploader?.[name], `uploader: ${name}`).toBe(403);
      expect(matrix.pending?.[name], `pending: ${name}`).toBe(403);
    }
    // STOW-RS (the viewer's save) is annotations:write too.
    const [a] = images as [LakeImage];
    const report = ohifMeasurementReport([{ tool: 'Length', image: a, from: [1, 1], to: [2, 2], lengthMm: 1 }], { reportName: 'x', ...patient });
    expect((await stow(researcher, report.part10)).status).toBe(403);
    expect((await fetch(`${stack.url}${base}`)).status).toBe(401);
  });
});
