/**
 * DICOMweb conformance against real clients and a reference server:
 * - the npm `dicomweb-client` package (what OHIF builds on) against the
 *   local front door: QIDO, metadata, frames, retrieve, STOW;
 * - Orthanc with its DICOMweb plugin, loaded with the same de-identified
 *   files: the same queries return the same studies, series and instances
 *   with the same values for the attributes both return.
 * Orthanc missing or not starting fails the file (never a silent skip).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { api } from 'dicomweb-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMediaType, parseMultipart } from '@medlake/functions/dicomweb/multipart';
import type { TestStack, TestUser } from './support/local-stack';
import { startTestStack } from './support/local-stack';
import { generateDicom, uploadAndIngest } from './fixtures/dicomweb/lake';
import { measurementReport } from './fixtures/dicomweb/measurement-sr';
import type { Orthanc } from './fixtures/dicomweb/orthanc';
import { startOrthanc } from './fixtures/dicomweb/orthanc';

type Element = { vr: string; Value?: unknown[]; BulkDataURI?: string; InlineBinary?: string };
type Json = Record<string, Element>;

let stack: TestStack;
let orthanc: Orthanc;
let researcher: TestUser;
let annotator: TestUser;
let dir: string;

const value = (item: Json, tag: string): unknown => item[tag]?.Value?.[0];

async function qido(base: string, path: string, token?: string): Promise<Json[]> {
  const res = await fetch(`${base}${path}`, { headers: { accept: 'application/dicom+json', ...(token ? { authorization: `Bearer ${token}` } : {}) } });
  if (res.status === 204) return [];
  if (!res.ok) throw new Error(`${base}${path} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as Json[];
}

const medlake = (path: string) => qido(`${stack.url}/dicomweb`, path, researcher.idToken);
const reference = (path: string) => qido(orthanc.dicomWebUrl, path);

/** Comparable values: numbers whatever their JSON form, names by their alphabetic group, sets where order is free. */
function normalize(tag: string, element: Element): unknown {
  const values = (element.Value ?? []).map((v) => normalizeValue(v));
  return tag === '00080061' ? [...values].map(String).sort() : values;
}

function normalizeValue(v: unknown): unknown {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return /^[+-]?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(v.trim()) ? Number(v) : v.trim();
  if (Array.isArray(v)) return v.map(normalizeValue);
  if (v && typeof v === 'object') {
    const record = v as Record<string, unknown>;
    if ('Alphabetic' in record || 'Ideographic' in record || 'Phonetic' in record) return String(record.Alphabetic ?? '');
    const out: Record<string, unknown> = {};
    for (const [tag, element] of Object.entries(record)) {
      const e = element as Element;
      if (e.BulkDataURI !== undefined || e.InlineBinary !== undefined || !e.Value?.length) continue;
      out[tag] = normalize(tag, e);
    }
    return out;
  }
  return v;
}

/** Tags both servers return with a value, compared; how many were compared. */
function compareItems(ours: Json, theirs: Json, skip: readonly string[] = []): number {
  let compared = 0;
  for (const [tag, element] of Object.entries(ours)) {
    const other = theirs[tag];
    if (skip.includes(tag) || tag.startsWith('0002') || !other?.Value?.length || !element.Value?.length) continue;
    if (element.BulkDataURI !== undefined || other.BulkDataURI !== undefined) continue;
    expect({ tag, value: normalize(tag, element) }).toEqual({ tag, value: normalize(tag, other) });
    compared++;
  }
  return compared;
}

const notComparable = ['00081190', '00080056', '00083002'];

function byUid(items: Json[], tag: string): Map<string, Json> {
  return new Map(items.map((item) => [String(value(item, tag)), item]));
}

async function sameAnswers(path: string, uidTag: string, minimumCompared = 5): Promise<Json[]> {
  const [ours, theirs] = await Promise.all([medlake(path), reference(path)]);
  const mine = byUid(ours, uidTag);
  const other = byUid(theirs, uidTag);
  expect({ path, uids: [...mine.keys()].sort() }).toEqual({ path, uids: [...other.keys()].sort() });
  for (const [uid, item] of mine) {
    expect(compareItems(item, other.get(uid) as Json, notComparable)).toBeGreaterThanOrEqual(minimumCompared);
  }
  return ours;
}

beforeAll(async () => {
  stack = await startTestStack();
  orthanc = await startOrthanc();
  let uploader: TestUser;
  [researcher, annotator, uploader] = await Promise.all([
    stack.createUser({ groups: ['researcher'] }),
    stack.createUser({ groups: ['annotator'] }),
    stack.createUser({ groups: ['uploader'] }),
  ]);
  dir = mkdtempSync(join(tmpdir(), 'medlake-conformance-'));
  const files = generateDicom(dir, { patients: 4, seriesPerStudy: 2, slices: 3, matrix: 16, seed: 31 });
  await uploadAndIngest(stack, uploader.idToken, files.map((f) => f.path));
  // Orthanc gets exactly what medlake archived: the de-identified files.
  const bucket = stack.env.BUCKET_ARCHIVE as string;
  const listed = await stack.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'studies/' }));
  const keys = (listed.Contents ?? []).map((o) => o.Key as string).filter((k) => k.endsWith('.dcm'));
  expect(keys).toHaveLength(files.length);
  for (const key of keys) {
    const object = await stack.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    await orthanc.store(await (object.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
  }
  // dicomweb-client speaks XMLHttpRequest only.
  const xhr = 'xhr2';
  (globalThis as { XMLHttpRequest?: unknown }).XMLHttpRequest = ((await import(xhr)) as { default: unknown }).default;
}, 600_000);

afterAll(async () => {
  await orthanc?.stop();
  await stack?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('side by side with Orthanc', () => {
  it('answers the same study queries with the same values', async () => {
    const all = await sameAnswers('/studies', '0020000D', 10);
    expect(all).toHaveLength(4);
    const first = all[0] as Json;
    const patientId = String(value(first, '00100020'));
    const date = String(value(first, '00080020'));
    const name = (value(first, '00100010') as { Alphabetic?: string } | undefined)?.Alphabetic ?? '';
    await sameAnswers(`/studies?PatientID=${encodeURIComponent(patientId)}`, '0020000D');
    await sameAnswers(`/studies?StudyDate=${date}`, '0020000D');
    await sameAnswers(`/studies?StudyDate=${date}-`, '0020000D');
    await sameAnswers(`/studies?StudyDate=-${date}`, '0020000D');
    await sameAnswers('/studies?ModalitiesInStudy=CT', '0020000D');
    const morning = await sameAnswers('/studies?StudyTime=0700-1259', '0020000D');
    const afternoon = await sameAnswers('/studies?StudyTime=1300-', '0020000D');
    expect(morning.length + afternoon.length).toBe(4);
    await sameAnswers('/studies?ModalitiesInStudy=MR', '0020000D');
    // UID list matching, comma-separated (PS3.18 §8.3.4.1; Orthanc 1.10 does not read backslash lists).
    await sameAnswers(`/studies?StudyInstanceUID=${all.slice(0, 2).map((s) => value(s, '0020000D')).join(',')}`, '0020000D');
    await sameAnswers(`/studies?AccessionNumber=${encodeURIComponent(String(value(first, '00080050')))}`, '0020000D');
    await sameAnswers(`/studies?StudyDescription=${encodeURIComponent(String(value(first, '00081030') ?? '*'))}`, '0020000D');
    if (name) await sameAnswers(`/studies?PatientName=${encodeURIComponent(`${name.slice(0, 4)}*`)}`, '0020000D');
  });

  it('answers the same series and instance queries with the same values', async () => {
    const studies = await medlake('/studies');
    for (const study of studies) {
      const uid = String(value(study, '0020000D'));
      const series = await sameAnswers(`/studies/${uid}/series`, '0020000E');
      expect(series).toHaveLength(2);
      for (const s of series) await sameAnswers(`/studies/${uid}/series/${String(value(s, '0020000E'))}/instances`, '00080018', 3);
      await sameAnswers(`/studies/${uid}/instances`, '00080018', 3);
    }
    await sameAnswers('/series?Modality=MR', '0020000E');
    await sameAnswers('/series?Modality=CT', '0020000E');
    await sameAnswers('/studies/' + String(value(studies[0] as Json, '0020000D')) + '/series?SeriesNumber=2', '0020000E');
    await sameAnswers('/instances?InstanceNumber=2', '00080018', 3);
    await sameAnswers('/instances?SOPClassUID=1.2.840.10008.5.1.4.1.1.4', '00080018', 3);
  });

  it('serves the same series metadata and the same frame bytes', async () => {
    const study = (await medlake('/studies?limit=1'))[0] as Json;
    const studyUid = String(value(study, '0020000D'));
    const seriesUid = String(value((await medlake(`/studies/${studyUid}/series?SeriesNumber=1`))[0] as Json, '0020000E'));
    const path = `/studies/${studyUid}/series/${seriesUid}/metadata`;
    const [ours, theirs] = await Promise.all([medlake(path), reference(path)]);
    const other = byUid(theirs, '00080018');
    expect([...byUid(ours, '00080018').keys()].sort()).toEqual([...other.keys()].sort());
    for (const item of ours) expect(compareItems(item, other.get(String(value(item, '00080018'))) as Json, notComparable)).toBeGreaterThan(40);
    const sop = String(value(ours[0] as Json, '00080018'));
    const frames = await Promise.all([
      fetch(`${stack.url}/dicomweb/studies/${studyUid}/series/${seriesUid}/instances/${sop}/frames/1`, { headers: { authorization: `Bearer ${researcher.idToken}`, accept: 'multipart/related; type="application/octet-stream"' } }),
      fetch(`${orthanc.dicomWebUrl}/studies/${studyUid}/series/${seriesUid}/instances/${sop}/frames/1`, { headers: { accept: 'multipart/related; type="application/octet-stream"' } }),
    ]);
    const [a, b] = await Promise.all(frames.map(async (res) => {
      const boundary = parseMediaType(res.headers.get('content-type') ?? '').params.boundary as string;
      return Buffer.from(parseMultipart(Buffer.from(await res.arrayBuffer()), boundary)[0]?.body ?? []);
    }));
    expect(a?.length).toBe(16 * 16 * 2);
    expect(a?.equals(b as Buffer)).toBe(true);
  });
});

describe('the dicomweb-client package', () => {
    // The package's declarations mark optional options (request, mediaTypes, ...) as required: typed here by what is used.
  interface Client {
    searchForStudies(options?: { queryParams?: Record<string, string> }): Promise<unknown>;
    searchForSeries(options?: { studyInstanceUID?: string; queryParams?: Record<string, string> }): Promise<unknown>;
    searchForInstances(options?: { studyInstanceUID?: string; seriesInstanceUID?: string; queryParams?: Record<string, string> }): Promise<unknown>;
    retrieveSeriesMetadata(options: { studyInstanceUID: string; seriesInstanceUID: string }): Promise<unknown>;
    retrieveInstanceFrames(options: { studyInstanceUID: string; seriesInstanceUID: string; sopInstanceUID: string; frameNumbers: number[] }): Promise<unknown>;
    retrieveInstance(options: { studyInstanceUID: string; seriesInstanceUID: string; sopInstanceUID: string }): Promise<unknown>;
    storeInstances(options: { datasets: ArrayBuffer[] }): Promise<unknown>;
  }
  const Constructor = api.DICOMwebClient as unknown as new (options: { url: string; headers: Record<string, string> }) => Client;
  const client = (token: string) => new Constructor({ url: `${stack.url}/dicomweb`, headers: { Authorization: `Bearer ${token}` } });

  it('searches, reads metadata, frames and instances', async () => {
    const dw = client(researcher.idToken);
    const studies = (await dw.searchForStudies({ queryParams: { limit: '10', includefield: '00081030' } })) as Json[];
    expect(studies).toHaveLength(4);
    const studyUid = String(value(studies[0] as Json, '0020000D'));
    const series = (await dw.searchForSeries({ studyInstanceUID: studyUid })) as Json[];
    expect(series).toHaveLength(2);
    const seriesUid = String(value(series[0] as Json, '0020000E'));
    const instances = (await dw.searchForInstances({ studyInstanceUID: studyUid, seriesInstanceUID: seriesUid })) as Json[];
    expect(instances).toHaveLength(3);
    const metadata = (await dw.retrieveSeriesMetadata({ studyInstanceUID: studyUid, seriesInstanceUID: seriesUid })) as Json[];
    expect(metadata).toHaveLength(3);
    const sopUid = String(value(metadata[0] as Json, '00080018'));
    const frames = (await dw.retrieveInstanceFrames({ studyInstanceUID: studyUid, seriesInstanceUID: seriesUid, sopInstanceUID: sopUid, frameNumbers: [1] })) as ArrayBuffer[];
    expect(frames).toHaveLength(1);
    expect(frames[0]?.byteLength).toBe(16 * 16 * 2);
    const instance = (await dw.retrieveInstance({ studyInstanceUID: studyUid, seriesInstanceUID: seriesUid, sopInstanceUID: sopUid })) as ArrayBuffer;
    expect(Buffer.from(instance).subarray(128, 132).toString()).toBe('DICM');
  });

  it('stores a measurement report (STOW-RS) that the next QIDO and metadata show', async () => {
    const dw = client(researcher.idToken);
    const image = (await dw.searchForInstances({ queryParams: { InstanceNumber: '1', limit: '1' } })) as Json[];
    const target = image[0] as Json;
    const studyUid = String(value(target, '0020000D'));
    const study = (await dw.searchForStudies({ queryParams: { StudyInstanceUID: studyUid } })) as Json[];
    const report = await measurementReport({
      studyUid,
      seriesUid: String(value(target, '0020000E')),
      sopUid: String(value(target, '00080018')),
      sopClassUid: String(value(target, '00080016')),
      patientId: String(value(study[0] as Json, '00100020')),
      patientName: String((value(study[0] as Json, '00100010') as { Alphabetic?: string } | undefined)?.Alphabetic ?? ''),
      studyDate: String(value(study[0] as Json, '00080020')),
    }, 12.5);
    const answer = await fetch(`${stack.url}/dicomweb/studies`, {
      method: 'POST',
      headers: { authorization: `Bearer ${annotator.idToken}`, 'content-type': 'multipart/related; type="application/dicom"; boundary=stow-boundary', accept: 'application/dicom+json' },
      body: Buffer.concat([Buffer.from('--stow-boundary\r\nContent-Type: application/dicom\r\n\r\n'), report.part10, Buffer.from('\r\n--stow-boundary--\r\n')]),
    });
    expect([200, 202]).toContain(answer.status);
    const body = (await answer.json()) as Json;
    const stored = body['00081199']?.Value?.[0] as Json;
    expect(value(stored, '00081150')).toBe('1.2.840.10008.5.1.4.1.1.88.22');
    const url = String(value(stored, '00081190'));
    const [, storedStudy, storedSeries, storedSop] = /\/studies\/([^/]+)\/series\/([^/]+)\/instances\/([^/]+)$/.exec(url) ?? [];
    // It lands in the study it measures; its own new UIDs are remapped, which the answer reports as coercion.
    expect(storedStudy).toBe(studyUid);
    expect(String(value(body, '00081190'))).toMatch(new RegExp(`/dicomweb/studies/${studyUid}$`));
    expect(storedSop).not.toBe(report.sopUid);
    expect(answer.status).toBe(202);
    expect(value(stored, '00081196')).toBe(0xb000);
    // Indexed at once: the next QIDO and /metadata show it.
    const srSeries = (await dw.searchForSeries({ studyInstanceUID: storedStudy as string, queryParams: { Modality: 'SR' } })) as Json[];
    expect(srSeries.map((s) => value(s, '0020000E'))).toContain(storedSeries);
    const metadata = (await dw.retrieveSeriesMetadata({ studyInstanceUID: storedStudy as string, seriesInstanceUID: storedSeries as string })) as Json[];
    expect(metadata).toHaveLength(1);
    expect(value(metadata[0] as Json, '00080060')).toBe('SR');
    const sr = metadata[0] as Json;
    expect(sr['0040A730']?.Value?.length).toBe(1);
    // Its references still resolve: the measured image, the same patient.
    const evidence = sr['0040A375']?.Value?.[0] as Json;
    const referencedSeries = evidence['00081115']?.Value?.[0] as Json;
    expect(value(referencedSeries, '0020000E')).toBe(value(target, '0020000E'));
    expect(value(referencedSeries['00081199']?.Value?.[0] as Json, '00081155')).toBe(value(target, '00080018'));
    expect(value(sr, '00100020')).toBe(value(study[0] as Json, '00100020'));
    const after = (await dw.searchForStudies({ queryParams: { StudyInstanceUID: studyUid } })) as Json[];
    expect(after[0]?.['00080061']?.Value).toContain('SR');
    expect(value(after[0] as Json, '00201206')).toBe(3);
    // The same report through dicomweb-client's own STOW-RS.
    const again = await measurementReport({ studyUid, seriesUid: String(value(target, '0020000E')), sopUid: String(value(target, '00080018')), sopClassUid: String(value(target, '00080016')), patientId: 'x', patientName: 'x', studyDate: '20200101' }, 3);
    await client(annotator.idToken).storeInstances({ datasets: [again.part10.buffer as ArrayBuffer] });
  });

  it('refuses STOW-RS without annotations:write, and explains refused parts', async () => {
    const post = (token: string, body: Buffer, path = '/dicomweb/studies') =>
      fetch(`${stack.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'multipart/related; type="application/dicom"; boundary=b' }, body });
    const part = (bytes: Uint8Array) => Buffer.concat([Buffer.from('--b\r\nContent-Type: application/dicom\r\n\r\n'), bytes, Buffer.from('\r\n--b--\r\n')]);
    expect((await post(researcher.idToken, part(Buffer.from('x')))).status).toBe(403);
    const garbage = await post(annotator.idToken, part(Buffer.from('not a DICOM file at all')));
    expect(garbage.status).toBe(409);
    expect(value(((await garbage.json()) as Json)['00081198']?.Value?.[0] as Json, '00081197')).toBe(0xc000);
    const report = await measurementReport({ studyUid: '2.25.42', seriesUid: '2.25.43', sopUid: '2.25.44', sopClassUid: '1.2.840.10008.5.1.4.1.1.2', patientId: 'p', patientName: 'p', studyDate: '20200101' }, 1);
    const mismatch = await post(annotator.idToken, part(report.part10), '/dicomweb/studies/2.25.999');
    expect(mismatch.status).toBe(409);
    expect(value(((await mismatch.json()) as Json)['00081198']?.Value?.[0] as Json, '00081197')).toBe(0xa900);
    const wrongType = await fetch(`${stack.url}/dicomweb/studies`, { method: 'POST', headers: { authorization: `Bearer ${annotator.idToken}`, 'content-type': 'application/json' }, body: '[]' });
    expect(wrongType.status).toBe(415);
  });
});
