/**
 * Segmentations and uploaded reports in the annotation history, on the real
 * local stack: a DICOM SEG saved from the viewer (STOW-RS, as OHIF posts it)
 * becomes a version of a segmentation set by the same rules as measurement
 * reports, DICOMweb lists and counts only the version each user looks at,
 * diffs name the segments added, removed and renamed, an old version can be
 * restored; a measurement report uploaded (POST /api/uploads) for a study of
 * the lake becomes a version with source `upload`, one for a study the lake
 * does not hold stays a plain instance.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LakeImage } from './fixtures/annotations/ohif-measurement-report';
import { ohifMeasurementReport } from './fixtures/annotations/ohif-measurement-report';
import type { Json } from './fixtures/annotations/annotated-study';
import { firstValue as value, ingestAnnotatedStudy, stowAsViewer, storedUrl } from './fixtures/annotations/annotated-study';
import type { SegmentSpec } from './fixtures/annotations/ohif-segmentation';
import { ohifSegmentation } from './fixtures/annotations/ohif-segmentation';
import type { GeneratedInstance } from './fixtures/dicomweb/lake';
import { downloadZip, readZip, waitForExport } from './export-support';
import { ingestFiles } from './ingest-support';
import type { TestStack, TestUser } from './support/local-stack';
import { startTestStack } from './support/local-stack';

interface Segment { number: number; label: string; type: { value: string; scheme: string; meaning: string } | null; category: { value: string } | null; algorithmType: string | null; algorithmName: string | null }
interface VersionSummary { version: number; parentVersion: number | null; restoredFrom: number | null; source: string; rule: string | null; sopInstanceUID: string; seriesInstanceUID: string; sopClassUID: string; segmentCount: number; measurementCount: number; labels: string[]; author: { sub: string } }
interface SetSummary { setId: string; kind: string; name: string; currentVersion: number; author: { sub: string }; seriesInstanceUID: string | null; latest: VersionSummary }

const segSopClass = '1.2.840.10008.5.1.4.1.1.66.4';

let stack: TestStack;
let annotator: TestUser;
let researcher: TestUser;
let uploader: TestUser;
let dir: string;
let generated: GeneratedInstance[];
let studyUid: string;
let images: LakeImage[];
let patient: { patientId: string; patientName: string; studyDate: string };

async function json<T>(path: string, token: string): Promise<T> {
  const res = await stack.request(path, { token });
  expect(res.status, path).toBe(200);
  return res.body as T;
}

/** Posts a SEG as OHIF does; answers the stored instance's lake UIDs. */
async function stow(part10: Uint8Array): Promise<{ seriesUid: string; sopUid: string }> {
  const url = storedUrl(await stowAsViewer(stack, annotator, part10));
  expect(url).toContain(`/studies/${studyUid}/series/`);
  const [, seriesUid = '', sopUid = ''] = /\/series\/([^/]+)\/instances\/([^/]+)$/.exec(url) ?? [];
  return { seriesUid, sopUid };
}

function saveSegmentation(segments: SegmentSpec[], options: { name: string; seriesUid?: string }): Uint8Array {
  return ohifSegmentation(images.slice(0, 3), segments, { ...options, ...patient }).part10;
}

/** What QIDO-RS lists of the study (instances by series), checked against every count the user reads. */
async function expectListedAndCounted(token: string): Promise<{ instances: string[]; series: string[] }> {
  const series = await json<Json[]>(`/dicomweb/studies/${studyUid}/series`, token);
  const instances: string[] = [];
  for (const s of series) {
    const listed = await json<Json[]>(`/dicomweb/studies/${studyUid}/series/${String(value(s, '0020000E'))}/instances`, token);
    expect(value(s, '00201209')).toBe(listed.length);
    instances.push(...listed.map((i) => String(value(i, '00080018'))));
  }
  const [study] = await json<Json[]>(`/dicomweb/studies?StudyInstanceUID=${studyUid}`, token);
  expect({ series: value(study as Json, '00201206'), instances: value(study as Json, '00201208') }).toEqual({ series: series.length, instances: instances.length });
  expect((await json<Json[]>(`/dicomweb/studies/${studyUid}/metadata`, token)).length).toBe(instances.length);
  const page = await json<{ numInstances: number; numSeries: number }>(`/api/studies/${studyUid}`, token);
  expect({ numInstances: page.numInstances, numSeries: page.numSeries }).toEqual({ numInstances: instances.length, numSeries: series.length });
  return { instances, series: series.map((s) => String(value(s, '0020000E'))) };
}

beforeAll(async () => {
  stack = await startTestStack();
  [annotator, researcher, uploader] = await Promise.all([
    stack.createUser({ groups: ['annotator'] }),
    stack.createUser({ groups: ['researcher'] }),
    stack.createUser({ groups: ['uploader'] }),
  ]);
  ({ dir, generated, studyUid, patient, images } = await ingestAnnotatedStudy(stack, { uploader, researcher }, { name: 'segmentations', seed: 57 }));
  images.sort((a, b) => a.seriesUid.localeCompare(b.seriesUid) || a.sopUid.localeCompare(b.sopUid));
  expect(images).toHaveLength(6);
  expect(new Set(images.slice(0, 3).map((i) => i.seriesUid)).size).toBe(1);
}, 600_000);

afterAll(async () => {
  await stack?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('segmentations saved from the viewer are annotation versions', () => {
  let setId: string;
  const saved: { seriesUid: string; sopUid: string }[] = [];
  let lastBytes: Uint8Array;

  it('a SEG posted 3 times becomes 3 versions of one set, and DICOMweb lists and counts only the latest', async () => {
    saved.push(await stow(saveSegmentation([{ number: 1, label: 'liver lesion', algorithmName: 'brush' }], { name: 'Liver' })));
    // Saved again into the series of version 1 (series rule), then into a new series under the same name (name rule).
    saved.push(await stow(saveSegmentation([{ number: 1, label: 'liver lesion', algorithmName: 'brush' }, { number: 2, label: 'cyst' }], { name: 'Liver', seriesUid: saved[0]?.seriesUid as string })));
    lastBytes = saveSegmentation([{ number: 1, label: 'lesion A', algorithmName: 'brush' }, { number: 3, label: 'nodule', type: { value: '27925004', meaning: 'Nodule' }, algorithmType: 'SEMIAUTOMATIC' }], { name: ' liver ' });
    saved.push(await stow(lastBytes));

    const sets = await json<{ items: SetSummary[] }>(`/api/studies/${studyUid}/annotations`, researcher.idToken);
    expect(sets.items).toHaveLength(1);
    const set = sets.items[0] as SetSummary;
    setId = set.setId;
    expect(set).toMatchObject({ kind: 'segmentation', name: 'Liver', currentVersion: 3, author: { sub: annotator.username }, seriesInstanceUID: images[0]?.seriesUid });
    const versions = await json<{ versions: VersionSummary[] }>(`/api/studies/${studyUid}/annotations/${setId}/versions`, researcher.idToken);
    expect(versions.versions.map((v) => [v.version, v.parentVersion, v.rule, v.source, v.sopInstanceUID, v.sopClassUID, v.segmentCount, v.measurementCount])).toEqual([
      [1, null, 'new', 'viewer', saved[0]?.sopUid, segSopClass, 1, 0],
      [2, 1, 'series', 'viewer', saved[1]?.sopUid, segSopClass, 2, 0],
      [3, 2, 'name', 'viewer', saved[2]?.sopUid, segSopClass, 2, 0],
    ]);
    expect(versions.versions[2]?.labels).toEqual(['lesion A', 'nodule']);

    const v3 = await json<{ document: { kind: string; title: string; frameCount: number; segmentationType: string; segments: Segment[]; referencedSeries: { seriesInstanceUID: string; sopInstanceUIDs: string[] }[] } }>(
      `/api/studies/${studyUid}/annotations/${setId}/versions/3`, researcher.idToken,
    );
    expect(v3.document).toMatchObject({ kind: 'segmentation', title: 'liver', frameCount: 6, segmentationType: 'BINARY' });
    expect(v3.document.segments).toEqual([
      { number: 1, label: 'lesion A', description: null, category: { value: '49755003', scheme: 'SCT', meaning: 'Morphologically Altered Structure' }, type: { value: '52988006', scheme: 'SCT', meaning: 'Lesion' }, algorithmType: 'MANUAL', algorithmName: 'brush' },
      { number: 3, label: 'nodule', description: null, category: { value: '49755003', scheme: 'SCT', meaning: 'Morphologically Altered Structure' }, type: { value: '27925004', scheme: 'SCT', meaning: 'Nodule' }, algorithmType: 'SEMIAUTOMATIC', algorithmName: null },
    ]);
    // The references are the lake's images (the SEG was derived from them, their UIDs kept).
    expect(v3.document.referencedSeries).toEqual([{ seriesInstanceUID: images[0]?.seriesUid, sopInstanceUIDs: images.slice(0, 3).map((i) => i.sopUid) }]);

    // 6 CT images in 2 series, and of the set only version 3 in its own series.
    const listed = await expectListedAndCounted(researcher.idToken);
    expect(listed.instances).toHaveLength(7);
    expect(listed.series).toHaveLength(3);
    expect(listed.instances).toContain(saved[2]?.sopUid);
    expect(listed.instances).not.toContain(saved[0]?.sopUid);
    expect(listed.instances).not.toContain(saved[1]?.sopUid);

    // The same SEG posted again records nothing new.
    expect((await stow(lastBytes)).sopUid).toBe(saved[2]?.sopUid);
    expect((await json<{ currentVersion: number }>(`/api/studies/${studyUid}/annotations/${setId}`, researcher.idToken)).currentVersion).toBe(3);
  });

  it('the diff between SEG versions names the segments added, removed and renamed', async () => {
    const first = await json<{ kind: string; added: Segment[]; removed: Segment[]; renamed: unknown[]; unchanged: number }>(`/api/studies/${studyUid}/annotations/${setId}/diff?from=1&to=2`, researcher.idToken);
    expect(first).toMatchObject({ kind: 'segmentation', removed: [], renamed: [], unchanged: 1 });
    expect(first.added.map((s) => [s.number, s.label])).toEqual([[2, 'cyst']]);
    const latest = await json<{ added: Segment[]; removed: Segment[]; renamed: unknown[]; changed: { before: Segment; after: Segment; fields: string[] }[]; unchanged: number }>(
      `/api/studies/${studyUid}/annotations/${setId}/diff`, researcher.idToken,
    );
    expect(latest.added.map((s) => [s.number, s.label])).toEqual([[3, 'nodule']]);
    expect(latest.removed.map((s) => [s.number, s.label])).toEqual([[2, 'cyst']]);
    expect(latest.renamed).toEqual([{ number: 1, from: 'liver lesion', to: 'lesion A' }]);
    expect(latest.changed.map((c) => c.fields)).toEqual([['label']]);
    expect(latest.unchanged).toBe(0);
  });

  it('restoring a SEG version stores it again as the next version; the viewer selection shows an older one', async () => {
    // Measurements cannot be written into a segmentation set.
    const write = await stack.request(`/api/studies/${studyUid}/annotations/${setId}/versions`, { token: annotator.idToken, json: { measurements: [] } });
    expect(write.status).toBe(400);
    expect((write.body as { error: { code: string } }).error.code).toBe('segmentation_set');
    const stale = await stack.request(`/api/studies/${studyUid}/annotations/${setId}/versions/1/restore`, { token: annotator.idToken, json: {}, headers: { 'if-match': '"2"' } });
    expect(stale.status).toBe(409);

    const restored = await stack.request(`/api/studies/${studyUid}/annotations/${setId}/versions/1/restore`, { token: annotator.idToken, json: {}, headers: { 'if-match': '"3"' } });
    expect(restored.status, JSON.stringify(restored.body)).toBe(201);
    const v4 = restored.body as VersionSummary & { document: { segments: Segment[] } };
    expect(v4).toMatchObject({ version: 4, parentVersion: 3, restoredFrom: 1, source: 'restore', sopClassUID: segSopClass, seriesInstanceUID: saved[0]?.seriesUid, segmentCount: 1 });
    expect(v4.document.segments.map((s) => [s.number, s.label])).toEqual([[1, 'liver lesion']]);
    expect(v4.sopInstanceUID).not.toBe(saved[0]?.sopUid);
    const v1 = await json<{ document: unknown }>(`/api/studies/${studyUid}/annotations/${setId}/versions/1`, researcher.idToken);
    expect(v4.document).toEqual(v1.document);
    // The stored SEG answers over WADO-RS like any instance, and as the version's DICOM.
    const dicom = await fetch(`${stack.url}/api/studies/${studyUid}/annotations/${setId}/versions/4/dicom`, { headers: { authorization: `Bearer ${researcher.idToken}` } });
    expect(dicom.status).toBe(200);
    expect(Buffer.from(await dicom.arrayBuffer()).subarray(128, 132).toString('latin1')).toBe('DICM');

    const listed = await expectListedAndCounted(researcher.idToken);
    expect(listed.instances).toHaveLength(7);
    expect(listed.instances).toContain(v4.sopInstanceUID);
    expect(listed.instances).not.toContain(saved[2]?.sopUid);

    // A researcher opening version 2 sees it (and only it) of the set; the counts follow.
    expect((await stack.request(`/api/studies/${studyUid}/annotations/viewer-selection`, { token: researcher.idToken, method: 'PUT', json: { versions: [{ setId, version: 2 }] } })).status).toBe(200);
    const picked = await expectListedAndCounted(researcher.idToken);
    expect(picked.instances).toContain(saved[1]?.sopUid);
    expect(picked.instances).not.toContain(v4.sopInstanceUID);
    expect(picked.instances).toHaveLength(7);
    expect((await expectListedAndCounted(annotator.idToken)).instances).toContain(v4.sopInstanceUID);
  });

  it('an export with annotations carries every SEG version, each labelled with its set version and segments', async () => {
    const started = await stack.request('/api/exports', { token: researcher.idToken, json: { studies: [studyUid], options: { annotations: true } } });
    expect(started.status, started.text).toBe(202);
    const done = await waitForExport(stack, researcher.idToken, (started.body as { exportId: string }).exportId);
    expect(done.state).toBe('done');
    const entries = await readZip((await downloadZip(stack, researcher.idToken, done.exportId)).zip);
    const documents = entries.filter((e) => e.name.includes('/annotations/')).map((e) => JSON.parse(e.bytes.toString('utf8')) as { sopInstanceUID: string; title: string; annotationSet: { name: string; version: number; current: boolean }; segmentation: { segments: Segment[] } });
    const versions = await json<{ versions: VersionSummary[] }>(`/api/studies/${studyUid}/annotations/${setId}/versions`, researcher.idToken);
    expect(documents.map((d) => [d.annotationSet.version, d.sopInstanceUID, d.annotationSet.current, d.segmentation.segments.map((s) => s.label)]).sort()).toEqual([
      [1, saved[0]?.sopUid, false, ['liver lesion']],
      [2, saved[1]?.sopUid, false, ['liver lesion', 'cyst']],
      [3, saved[2]?.sopUid, false, ['lesion A', 'nodule']],
      [4, versions.versions[3]?.sopInstanceUID, true, ['liver lesion']],
    ]);
    expect(documents.every((d) => d.annotationSet.name === 'Liver')).toBe(true);
    // The SEG files themselves are in the zip too.
    for (const d of documents) expect(entries.some((e) => e.name.endsWith(`${d.sopInstanceUID}.dcm`))).toBe(true);
  });
});

describe('reports uploaded for a study of the lake are annotation versions', () => {
  it('a measurement report uploaded for a study of the lake becomes a version with source upload', async () => {
    // The report as another PACS holds it: the original identifiers of the study the lake de-identified.
    const original = generated.find((g) => g.sopUid) as GeneratedInstance;
    const image: LakeImage = { studyUid: original.studyUid, seriesUid: original.seriesUid, sopUid: original.sopUid, sopClassUid: '1.2.840.10008.5.1.4.1.1.2' };
    const report = ohifMeasurementReport([{ tool: 'Length', image, from: [3, 3], to: [12, 10], lengthMm: 11.4, label: 'imported lesion' }], {
      reportName: 'Imported', patientId: original.patientId, patientName: 'DOE^JANE', studyDate: original.studyDate,
    });
    const status = await ingestFiles(stack, uploader, [{ name: 'report.dcm', bytes: report.part10 }]);
    expect(status.files[0]?.instances.accepted).toBe(1);
    expect(status.files[0]?.studies).toEqual([studyUid]);

    const sets = await json<{ items: SetSummary[] }>(`/api/studies/${studyUid}/annotations`, researcher.idToken);
    const imported = sets.items.find((s) => s.kind === 'measurements') as SetSummary;
    expect(imported).toMatchObject({ name: 'Imported', currentVersion: 1, author: { sub: uploader.username }, latest: { source: 'upload', rule: 'new', measurementCount: 1, labels: ['imported lesion'] } });
    const version = await json<{ document: { measurements: { label: string; value: number; image: { sopInstanceUID: string } }[] } }>(`/api/studies/${studyUid}/annotations/${imported.setId}/versions/1`, researcher.idToken);
    expect(version.document.measurements).toHaveLength(1);
    expect(version.document.measurements[0]).toMatchObject({ label: 'imported lesion', value: 11.4 });
    // Its reference is the lake's image (the same remapping as the images had).
    expect(images.map((i) => i.sopUid)).toContain(version.document.measurements[0]?.image.sopInstanceUID);

    // Uploaded again: a duplicate, no second version.
    await ingestFiles(stack, uploader, [{ name: 'report again.dcm', bytes: report.part10 }]);
    expect((await json<{ items: SetSummary[] }>(`/api/studies/${studyUid}/annotations`, researcher.idToken)).items.find((s) => s.setId === imported.setId)?.currentVersion).toBe(1);
    const listed = await expectListedAndCounted(researcher.idToken);
    expect(listed.instances).toHaveLength(8);
  });

  it('a report uploaded for a study the lake does not hold stays a plain instance', async () => {
    const uid = (n: number) => `1.2.826.0.1.3680043.10.1000.${Date.now() % 100000}.${n}`;
    const image: LakeImage = { studyUid: uid(1), seriesUid: uid(2), sopUid: uid(3), sopClassUid: '1.2.840.10008.5.1.4.1.1.2' };
    const report = ohifMeasurementReport([{ tool: 'Length', image, from: [1, 1], to: [5, 5], lengthMm: 4.2, label: 'elsewhere' }], {
      reportName: 'Elsewhere', patientId: 'OTHER-PACS-17', patientName: 'OTHER^PATIENT', studyDate: '20240102',
    });
    const status = await ingestFiles(stack, uploader, [{ name: 'other.dcm', bytes: report.part10 }]);
    expect(status.files[0]?.instances.accepted).toBe(1);
    const [otherStudy] = status.files[0]?.studies ?? [];
    expect(otherStudy).toBeDefined();
    expect(otherStudy).not.toBe(studyUid);
    expect((await json<{ items: SetSummary[] }>(`/api/studies/${otherStudy}/annotations`, researcher.idToken)).items).toEqual([]);
    // It is listed like any instance.
    const listed = await json<Json[]>(`/dicomweb/studies/${otherStudy}/instances`, researcher.idToken);
    expect(listed.map((i) => String(value(i, '00080016')))).toEqual(['1.2.840.10008.5.1.4.1.1.88.22']);
  });

  it('free text a segmentation carries (segment labels, algorithm names) is scrubbed before it is stored and shown', async () => {
    const stored = await stow(saveSegmentation([{ number: 1, label: 'call 555-867-5309 re lesion', algorithmName: 'tool of 555-867-5309' }], { name: 'Scrubbed' }));
    const sets = await json<{ items: SetSummary[] }>(`/api/studies/${studyUid}/annotations`, researcher.idToken);
    const set = sets.items.find((s) => s.latest.sopInstanceUID === stored.sopUid);
    expect(set).toBeDefined();
    const version = await json<{ document: { segments: Segment[]; labels: string[] } }>(`/api/studies/${studyUid}/annotations/${set?.setId}/versions/1`, researcher.idToken);
    expect(JSON.stringify(version.document)).not.toContain('867-5309');
    expect(version.document.segments[0]?.label).toContain('[PHONE]');
    expect(version.document.labels).toEqual([version.document.segments[0]?.label]);
  });
});
