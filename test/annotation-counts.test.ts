/**
 * Study and series counts with annotation versions: every save of an
 * annotation set is a stored SR, and DICOMweb lists only the version each
 * user looks at (the latest unless they picked one). The counts a user reads
 * (QIDO-RS NumberOfStudyRelated*, NumberOfSeriesRelatedInstances, the study
 * list and study page of the app, WADO-RS study /metadata) must agree with the
 * instances those lists answer: a physician reading "9 instances" in the list
 * and finding 7 in the viewer cannot tell what is missing.
 * Real local stack (PostgreSQL, S3/SQS and Cognito emulators), real DICOM.
 */
import { readFileSync, rmSync } from 'node:fs';
import dcmjs from 'dcmjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LakeImage, ToolMeasurement } from './fixtures/annotations/ohif-measurement-report';
import { ohifMeasurementReport } from './fixtures/annotations/ohif-measurement-report';
import type { Json } from './fixtures/annotations/annotated-study';
import { firstValue as value, ingestAnnotatedStudy, stowAsViewer, storedUrl } from './fixtures/annotations/annotated-study';
import type { TestStack, TestUser } from './support/local-stack';
import { startTestStack } from './support/local-stack';

let stack: TestStack;
let annotator: TestUser;
let researcher: TestUser;
let uploader: TestUser;
let dir: string;
let studyUid: string;
let images: LakeImage[];
let patient: { patientId: string; patientName: string; studyDate: string };
/** The bytes of the reports saved from the viewer, in order (to post them again). */
const savedBytes: Uint8Array[] = [];

const api = (path: string, token: string, init: { method?: string; json?: unknown; headers?: Record<string, string> } = {}) => stack.request(path, { token, ...init });

async function json<T>(path: string, token: string): Promise<T> {
  const res = await api(path, token);
  expect(res.status, path).toBe(200);
  return res.body as T;
}

/** Saves measurements as OHIF does; answers the stored SR's SOP Instance UID. */
async function saveFromViewer(measurements: ToolMeasurement[], options: { reportName: string; predecessor?: { seriesUid: string; sopUid: string; sopClassUid: string; instanceNumber: number } }): Promise<string> {
  const report = ohifMeasurementReport(measurements, { ...options, ...patient });
  savedBytes.push(report.part10);
  return stow(report.part10);
}

async function stow(part10: Uint8Array): Promise<string> {
  return storedUrl(await stowAsViewer(stack, annotator, part10)).split('/instances/')[1] as string;
}

interface Seen {
  /** What the study's instance lists answer, by series (QIDO series → instances). */
  instancesBySeries: Map<string, string[]>;
  instances: number;
  series: number;
  modalities: string[];
}

/** The same report moved into another series (a new file of the same instance). */
function inSeries(part10: Uint8Array, seriesUid: string): Uint8Array {
  const dict = dcmjs.data.DicomMessage.readFile(part10.slice().buffer);
  const dataset = dcmjs.data.DicomMetaDictionary.naturalizeDataset(dict.dict);
  dataset.SeriesInstanceUID = seriesUid;
  dict.dict = dcmjs.data.DicomMetaDictionary.denaturalizeDataset(dataset);
  return new Uint8Array(dict.write());
}

/** What the user finds when they open the study: its series and their instances, through QIDO-RS. */
async function listed(token: string): Promise<Seen> {
  const series = await json<Json[]>(`/dicomweb/studies/${studyUid}/series`, token);
  const instancesBySeries = new Map<string, string[]>();
  for (const s of series) {
    const uid = String(value(s, '0020000E'));
    const instances = await json<Json[]>(`/dicomweb/studies/${studyUid}/series/${uid}/instances`, token);
    instancesBySeries.set(uid, instances.map((i) => String(value(i, '00080018'))).sort());
  }
  const studyInstances = await api(`/dicomweb/studies/${studyUid}/instances`, token);
  const all = [...instancesBySeries.values()].flat().sort();
  expect((studyInstances.body as Json[]).map((i) => String(value(i, '00080018'))).sort()).toEqual(all);
  expect(studyInstances.headers.get('x-total-count')).toBe(String(all.length));
  return { instancesBySeries, instances: all.length, series: series.length, modalities: [...new Set(series.map((s) => String(value(s, '00080060'))))].sort() };
}

/** How many Part 10 files a WADO-RS retrieve of the study sends. */
async function retrievedParts(token: string): Promise<number> {
  const res = await fetch(`${stack.url}/dicomweb/studies/${studyUid}`, { headers: { authorization: `Bearer ${token}`, accept: 'multipart/related; type="application/dicom"' } });
  expect(res.status).toBe(200);
  const boundary = /boundary="?([^";]+)"?/.exec(res.headers.get('content-type') ?? '')?.[1] as string;
  const body = Buffer.from(await res.arrayBuffer());
  let parts = 0;
  for (let at = body.indexOf(`--${boundary}\r\n`); at >= 0; at = body.indexOf(`--${boundary}\r\n`, at + 1)) parts += 1;
  return parts;
}

/** Every count the user reads about the study, each checked against what the lists answer. */
async function expectCountsAgree(token: string, expected: { instances: number; series: number }): Promise<Seen> {
  const seen = await listed(token);
  expect({ instances: seen.instances, series: seen.series }).toEqual(expected);

  // QIDO-RS study search.
  const [study] = await json<Json[]>(`/dicomweb/studies?StudyInstanceUID=${studyUid}`, token);
  expect({ series: value(study as Json, '00201206'), instances: value(study as Json, '00201208') }).toEqual(expected);
  expect([...((study as Json)['00080061']?.Value ?? [])].map(String).sort()).toEqual(seen.modalities);

  // QIDO-RS series searches, in the study and across studies (the study's counts come along).
  for (const path of [`/dicomweb/studies/${studyUid}/series`, `/dicomweb/series?StudyInstanceUID=${studyUid}`]) {
    const series = await json<Json[]>(path, token);
    expect(series).toHaveLength(seen.series);
    for (const s of series) {
      expect(value(s, '00201209'), path).toBe(seen.instancesBySeries.get(String(value(s, '0020000E')))?.length);
      if (!path.startsWith('/dicomweb/studies/')) expect({ series: value(s, '00201206'), instances: value(s, '00201208') }).toEqual(expected);
    }
  }

  // WADO-RS study metadata lists the same instances, and a study retrieve sends them.
  expect((await json<Json[]>(`/dicomweb/studies/${studyUid}/metadata`, token)).length).toBe(seen.instances);
  expect(await retrievedParts(token)).toBe(seen.instances);
  return seen;
}

/** The app's study list and study page (the same for everybody: no viewer selection there). */
async function expectAppCountsAgree(token: string, expected: Seen): Promise<void> {
  const counts = { numInstances: expected.instances, numSeries: expected.series };
  const list = await json<{ items: { studyInstanceUID: string; numInstances: number; numSeries: number; modalities: string[] }[] }>(`/api/studies?patientId=${encodeURIComponent(patient.patientId)}`, token);
  expect(list.items.find((s) => s.studyInstanceUID === studyUid)).toMatchObject({ ...counts, modalities: expected.modalities });
  // The modality filter and the instance-count sort read the same counters.
  const bySr = await json<{ items: { studyInstanceUID: string; numInstances: number }[] }>(`/api/studies?modality=SR&sort=numInstances`, token);
  expect(bySr.items.find((s) => s.studyInstanceUID === studyUid)).toMatchObject({ numInstances: expected.instances });
  const page = await json<{ numInstances: number; numSeries: number; series: { seriesInstanceUID: string; numInstances: number }[] }>(`/api/studies/${studyUid}`, token);
  expect(page).toMatchObject(counts);
  expect(Object.fromEntries(page.series.map((s) => [s.seriesInstanceUID, s.numInstances]))).toEqual(Object.fromEntries([...expected.instancesBySeries].map(([uid, sops]) => [uid, sops.length])));
}

beforeAll(async () => {
  stack = await startTestStack();
  [annotator, researcher, uploader] = await Promise.all([
    stack.createUser({ groups: ['annotator'] }),
    stack.createUser({ groups: ['researcher'] }),
    stack.createUser({ groups: ['uploader'] }),
  ]);
  ({ dir, studyUid, patient, images } = await ingestAnnotatedStudy(stack, { uploader, researcher }, { name: 'annotation-counts', seed: 91 }));
}, 600_000);

afterAll(async () => {
  await stack?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('study and series counts leave out the annotation versions nobody is shown', () => {
  let setId: string;
  const saved: string[] = [];

  it('an annotation saved 3 times from the viewer counts once, in QIDO-RS and in the app', async () => {
    const [a, b] = images as [LakeImage, LakeImage];
    const lesion = (lengthMm: number): ToolMeasurement => ({ tool: 'Length', image: a, from: [4, 4], to: [14, 12], lengthMm, label: 'lesion A' });
    saved.push(await saveFromViewer([lesion(12.5)], { reportName: 'Lesions' }));
    const sets = await json<{ items: { setId: string; latest: { seriesInstanceUID: string; sopClassUID: string } }[] }>(`/api/studies/${studyUid}/annotations`, annotator.idToken);
    setId = (sets.items[0] as { setId: string }).setId;
    const first = (sets.items[0] as { latest: { seriesInstanceUID: string; sopClassUID: string } }).latest;
    // Version 2 into the report series (OHIF names the loaded report as predecessor), version 3 by the report's name in a series of its own.
    saved.push(await saveFromViewer([lesion(13.1), { tool: 'Length', image: b, from: [2, 2], to: [6, 9], lengthMm: 8.1 }], { reportName: 'Lesions', predecessor: { seriesUid: first.seriesInstanceUID, sopUid: saved[0] as string, sopClassUid: first.sopClassUID, instanceNumber: 1 } }));
    saved.push(await saveFromViewer([lesion(14.8)], { reportName: 'lesions' }));
    const versions = await json<{ versions: { version: number; sopInstanceUID: string }[] }>(`/api/studies/${studyUid}/annotations/${setId}/versions`, researcher.idToken);
    expect(versions.versions.map((v) => [v.version, v.sopInstanceUID])).toEqual(saved.map((sop, i) => [i + 1, sop]));

    // 6 CT images in 2 series, and of the set only version 3: its series is the third; the series of versions 1 and 2 is listed by nobody.
    const seen = await expectCountsAgree(researcher.idToken, { instances: 7, series: 3 });
    expect([...seen.instancesBySeries.values()].flat()).toContain(saved[2]);
    expect([...seen.instancesBySeries.values()].flat()).not.toContain(saved[0]);
    expect(seen.modalities).toEqual(['CT', 'SR']);
    await expectAppCountsAgree(researcher.idToken, seen);
    // The same SR posted again changes nothing.
    expect(await stow(savedBytes[2] as Uint8Array)).toBe(saved[2]);
    await expectCountsAgree(annotator.idToken, { instances: 7, series: 3 });
  });

  it('versions written and restored through the API count once too', async () => {
    const write = await api(`/api/studies/${studyUid}/annotations/${setId}/versions`, annotator.idToken, {
      json: { measurements: [{ tool: 'Length', label: 'lesion A', value: 15.2, unit: 'mm', image: { sopInstanceUID: images[0]?.sopUid }, coordinates: { graphicType: 'POLYLINE', graphicData: [4, 4, 17, 13] } }] },
      headers: { 'if-match': '"3"' },
    });
    expect(write.status).toBe(201);
    const restore = await api(`/api/studies/${studyUid}/annotations/${setId}/versions/1/restore`, annotator.idToken, { method: 'POST', json: {}, headers: { 'if-match': '"4"' } });
    expect(restore.status).toBe(201);
    // A second set (another report name) is one more SR, in a series of its own.
    await saveFromViewer([{ tool: 'Length', image: images[3] as LakeImage, from: [1, 1], to: [3, 3], lengthMm: 2.8 }], { reportName: 'Nodules' });
    const seen = await expectCountsAgree(researcher.idToken, { instances: 8, series: 4 });
    expect([...seen.instancesBySeries.values()].flat()).toContain((restore.body as { sopInstanceUID: string }).sopInstanceUID);
    await expectAppCountsAgree(researcher.idToken, seen);
  });

  it('a user who picked an older version reads the counts of what they are shown', async () => {
    const picked = await api(`/api/studies/${studyUid}/annotations/viewer-selection`, researcher.idToken, { method: 'PUT', json: { versions: [{ setId, version: 1 }] } });
    expect(picked.status).toBe(200);
    const seen = await expectCountsAgree(researcher.idToken, { instances: 8, series: 4 });
    expect([...seen.instancesBySeries.values()].flat()).toContain(saved[0]);
    // Everybody else still reads the latest.
    const others = await expectCountsAgree(annotator.idToken, { instances: 8, series: 4 });
    expect([...others.instancesBySeries.values()].flat()).not.toContain(saved[0]);
    expect((await api(`/api/studies/${studyUid}/annotations/viewer-selection`, researcher.idToken, { method: 'DELETE' })).status).toBe(204);
  });

  it('a new file of a hidden version, in another series, is counted once it is shown again', async () => {
    // Version 1 posted again from another series: a new file of its instance, recorded as the set's next version.
    const moved = inSeries(savedBytes[0] as Uint8Array, `2.25.${BigInt(`0x${'9'.repeat(8)}${Date.now().toString(16)}`).toString()}`);
    expect(await stow(moved)).toBe(saved[0]);
    const sets = await json<{ items: { setId: string; currentVersion: number; latest: { sopInstanceUID: string } }[] }>(`/api/studies/${studyUid}/annotations`, researcher.idToken);
    expect(sets.items.find((s) => s.setId === setId)).toMatchObject({ currentVersion: 6, latest: { sopInstanceUID: saved[0] } });
    // 6 CT images, version 6 of the first set in its new series, the second set's report: the series of versions 1 to 5 hold nothing shown.
    const seen = await expectCountsAgree(researcher.idToken, { instances: 8, series: 4 });
    expect([...seen.instancesBySeries.values()].flat()).toContain(saved[0]);
    await expectAppCountsAgree(researcher.idToken, seen);
  });

  it('a save into the series of a hidden version, after opening that version, counts the series again', async () => {
    const versions = await json<{ versions: { version: number; sopInstanceUID: string; seriesInstanceUID: string; sopClassUID: string }[] }>(`/api/studies/${studyUid}/annotations/${setId}/versions`, researcher.idToken);
    const v2 = versions.versions.find((v) => v.version === 2) as { sopInstanceUID: string; seriesInstanceUID: string; sopClassUID: string };
    const listedSeries = async () => (await json<Json[]>(`/dicomweb/studies/${studyUid}/series`, researcher.idToken)).map((s) => String(value(s, '0020000E')));
    // Version 2's series holds only hidden versions now (version 1's file moved out): listed by nobody.
    expect(await listedSeries()).not.toContain(v2.seriesInstanceUID);
    await api(`/api/studies/${studyUid}/annotations/viewer-selection`, annotator.idToken, { method: 'PUT', json: { versions: [{ setId, version: 2 }] } });
    // Saved into that series from the viewer (OHIF names the loaded report as predecessor): the report arrives there, then becomes version 7.
    saved.push(await saveFromViewer([{ tool: 'Length', image: images[0] as LakeImage, from: [5, 5], to: [15, 12], lengthMm: 12.2, label: 'lesion A' }], { reportName: 'Lesions', predecessor: { seriesUid: v2.seriesInstanceUID, sopUid: v2.sopInstanceUID, sopClassUid: v2.sopClassUID, instanceNumber: 2 } }));
    expect((await json<{ versions: { version: number; parentVersion: number; seriesInstanceUID: string }[] }>(`/api/studies/${studyUid}/annotations/${setId}/versions`, researcher.idToken)).versions.at(-1)).toMatchObject({ version: 7, parentVersion: 2, seriesInstanceUID: v2.seriesInstanceUID });
    expect(await listedSeries()).toContain(v2.seriesInstanceUID);
    const seen = await expectCountsAgree(researcher.idToken, { instances: 8, series: 4 });
    expect(seen.instancesBySeries.get(v2.seriesInstanceUID)).toEqual([saved.at(-1)]);
    await expectAppCountsAgree(researcher.idToken, seen);
  });

  it('the migration recounts studies whose counters still include hidden versions', async () => {
    const before = await listed(researcher.idToken);
    // What the index held before the counters left hidden versions out: every instance row counted.
    await stack.db.query(
      `UPDATE series se SET num_instances = (SELECT count(*) FROM instances i WHERE i.series_uid = se.series_uid) WHERE se.study_uid = $1`,
      [studyUid],
    );
    await stack.db.query(
      `UPDATE studies s SET num_instances = (SELECT count(*) FROM instances i WHERE i.study_uid = s.study_uid),
         num_series = (SELECT count(*) FROM series se WHERE se.study_uid = s.study_uid) WHERE s.study_uid = $1`,
      [studyUid],
    );
    const stale = (await stack.db.query<{ num_instances: number }>('SELECT num_instances FROM studies WHERE study_uid = $1', [studyUid])).rows[0];
    expect(stale?.num_instances).toBeGreaterThan(before.instances);
    const migration = readFileSync(new URL('../functions/migrations/0053_shown_annotation_counts.sql', import.meta.url), 'utf8');
    const up = migration.split('-- Down Migration')[0] as string;
    await stack.db.query(up);
    await expectCountsAgree(researcher.idToken, { instances: before.instances, series: before.series });
    await expectAppCountsAgree(researcher.idToken, before);
  });
});
