/**
 * DICOMweb through the local front door on a lake filled the real way
 * (uploads → ingest → de-identification → archive → index): QIDO-RS at the
 * three levels, WADO-RS metadata, frames, retrieve, bulk data, rendered and
 * thumbnails, the study API, access rules and the audit of study reads.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import dicomParser from 'dicom-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMultipart, parseMediaType } from '@medlake/functions/dicomweb/multipart';
import type { TestStack, TestUser } from './support/local-stack';
import { startTestStack } from './support/local-stack';
import type { GeneratedInstance } from './fixtures/dicomweb/lake';
import { generateDicom, uploadAndIngest } from './fixtures/dicomweb/lake';

type Json = Record<string, { vr: string; Value?: unknown[]; BulkDataURI?: string }>;

let stack: TestStack;
let researcher: TestUser;
let uploader: TestUser;
let dir: string;
let source: GeneratedInstance[];

const value = (item: Json, tag: string): unknown => item[tag]?.Value?.[0];
const get = (path: string, token = researcher.idToken, headers: Record<string, string> = {}) => stack.request(path, { token, headers });

async function getBytes(path: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${stack.url}${path}`, { headers: { authorization: `Bearer ${researcher.idToken}`, ...headers } });
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

beforeAll(async () => {
  stack = await startTestStack();
  [researcher, uploader] = await Promise.all([stack.createUser({ groups: ['researcher'] }), stack.createUser({ groups: ['uploader'] })]);
  dir = mkdtempSync(join(tmpdir(), 'medlake-dicomweb-'));
  // 3 patients, one study each, 2 series of 3 slices, 32×32 pixels: CT and MR mixed.
  source = generateDicom(dir, { patients: 3, seriesPerStudy: 2, slices: 3, matrix: 32, seed: 21 });
  await uploadAndIngest(stack, uploader.idToken, source.map((s) => s.path));
}, 600_000);

afterAll(async () => {
  await stack?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('QIDO-RS', () => {
  it('lists every study as DICOM JSON with the total in X-Total-Count', async () => {
    const res = await get('/dicomweb/studies');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/dicom+json');
    expect(res.headers.get('x-total-count')).toBe('3');
    expect(res.headers.get('access-control-expose-headers')).toContain('X-Total-Count');
    const studies = res.body as Json[];
    expect(studies).toHaveLength(3);
    for (const study of studies) {
      expect(String(value(study, '0020000D'))).toMatch(/^2\.25\.\d+$/);
      expect(value(study, '00201206')).toBe(2);
      expect(value(study, '00201208')).toBe(6);
      expect(String(value(study, '00081190'))).toMatch(/\/dicomweb\/studies\/2\.25\./);
      expect(value(study, '00080056')).toBe('ONLINE');
    }
    // De-identified: no original identifier comes back.
    const text = JSON.stringify(studies);
    for (const s of source) {
      expect(text).not.toContain(s.patientId);
      expect(text).not.toContain(s.studyUid);
    }
  });

  it('matches PatientID, name wildcards, fuzzy names, dates, modalities, UID lists', async () => {
    const all = (await get('/dicomweb/studies')).body as Json[];
    const first = all[0] as Json;
    const patientId = String(value(first, '00100020'));
    const uid = String(value(first, '0020000D'));
    const name = (value(first, '00100010') as { Alphabetic: string } | undefined)?.Alphabetic ?? '';
    const date = String(value(first, '00080020'));
    const modalities = first['00080061']?.Value as string[];
    const count = async (qs: string) => ((await get(`/dicomweb/studies?${qs}`)).body as Json[]).length;

    expect(await count(`PatientID=${encodeURIComponent(patientId)}`)).toBe(1);
    expect(await count(`00100020=${encodeURIComponent(patientId)}`)).toBe(1);
    expect(await count(`StudyInstanceUID=${uid}`)).toBe(1);
    expect(await count(`StudyInstanceUID=${all.map((s) => value(s, '0020000D')).join('%5C')}`)).toBe(3);
    expect(await count(`StudyInstanceUID=${all.slice(0, 2).map((s) => value(s, '0020000D')).join(',')}`)).toBe(2);
    expect(await count(`StudyDate=${date}`)).toBeGreaterThanOrEqual(1);
    expect(await count(`StudyDate=${date}-`)).toBeGreaterThanOrEqual(1);
    expect(await count(`StudyDate=-${date}`)).toBeGreaterThanOrEqual(1);
    expect(await count('StudyDate=19000101-19001231')).toBe(0);
    expect(await count(`ModalitiesInStudy=${modalities[0]}`)).toBe(all.filter((s) => (s['00080061']?.Value as string[]).includes(modalities[0] as string)).length);
    if (name) {
      expect(await count(`PatientName=${encodeURIComponent(`${name.slice(0, 3)}*`)}`)).toBeGreaterThanOrEqual(1);
      expect(await count(`PatientName=${encodeURIComponent(`*${name.slice(2, 5).toLowerCase()}*`)}`)).toBeGreaterThanOrEqual(1);
      const part = name.split(/[\^ ]/).filter(Boolean).at(-1) as string;
      expect(await count(`PatientName=${encodeURIComponent(part.slice(0, 2).toLowerCase())}&fuzzymatching=true`)).toBeGreaterThanOrEqual(1);
    }
  });

  it('pages with limit and offset and returns includefield attributes', async () => {
    const page1 = await get('/dicomweb/studies?limit=2&offset=0&includefield=00081030,00080060&includefield=StudyID');
    const page2 = await get('/dicomweb/studies?limit=2&offset=2');
    expect((page1.body as Json[]).length).toBe(2);
    expect((page2.body as Json[]).length).toBe(1);
    expect(page1.headers.get('x-total-count')).toBe('3');
    expect((page1.body as Json[])[0]?.['00081030']).toBeDefined();
    const all = ((await get('/dicomweb/studies?includefield=all')).body as Json[])[0] as Json;
    expect(Object.keys(all).length).toBeGreaterThan(17);
  });

  it('answers [] for no match and 400 with a reason for bad queries', async () => {
    const none = await get('/dicomweb/studies?PatientID=nobody');
    expect(none.status).toBe(200);
    expect(none.body).toEqual([]);
    expect(none.headers.get('x-total-count')).toBe('0');
    for (const [qs, reason] of [['foo=bar', /Unknown parameter/], ['StudyDate=2020', /YYYYMMDD/], ['Modality=CT', /ModalitiesInStudy/], ['limit=x', /limit/]] as const) {
      const res = await get(`/dicomweb/studies?${qs}`);
      expect(res.status).toBe(400);
      expect((res.body as { error: { message: string } }).error.message).toMatch(reason);
    }
  });

  it('searches series and instances under a study, a series and at the root', async () => {
    const study = ((await get('/dicomweb/studies?limit=1')).body as Json[])[0] as Json;
    const studyUid = String(value(study, '0020000D'));
    const series = (await get(`/dicomweb/studies/${studyUid}/series`)).body as Json[];
    expect(series).toHaveLength(2);
    expect(series.map((s) => value(s, '00200011')).sort()).toEqual([1, 2]);
    expect(value(series[0] as Json, '00201209')).toBe(3);
    const seriesUid = String(value(series[0] as Json, '0020000E'));
    const instances = (await get(`/dicomweb/studies/${studyUid}/series/${seriesUid}/instances`)).body as Json[];
    expect(instances.map((i) => value(i, '00200013'))).toEqual([1, 2, 3]);
    expect(value(instances[0] as Json, '00280010')).toBe(32);
    expect((await get(`/dicomweb/studies/${studyUid}/instances`)).body).toHaveLength(6);
    const modality = String(value(series[0] as Json, '00080060'));
    const rootSeries = (await get(`/dicomweb/series?Modality=${modality}&StudyInstanceUID=${studyUid}`)).body as Json[];
    expect(rootSeries.length).toBeGreaterThanOrEqual(1);
    // At the root, study attributes come along (PS3.18 §6.7.1.2.2).
    expect(value(rootSeries[0] as Json, '0020000D')).toBe(studyUid);
    const sop = String(value(instances[1] as Json, '00080018'));
    const rootInstances = (await get(`/dicomweb/instances?SOPInstanceUID=${sop}`)).body as Json[];
    expect(rootInstances).toHaveLength(1);
    expect(value(rootInstances[0] as Json, '0020000E')).toBe(seriesUid);
    expect((await get(`/dicomweb/studies/${studyUid}/series?SeriesNumber=2`)).body).toHaveLength(1);
    expect((await get(`/dicomweb/studies/2.25.1/series`)).status).toBe(404);
  });
});

describe('WADO-RS', () => {
  let studyUid: string;
  let seriesUid: string;
  let sopUid: string;

  beforeAll(async () => {
    const instances = (await get('/dicomweb/instances?InstanceNumber=2&limit=1')).body as Json[];
    const instance = instances[0] as Json;
    studyUid = String(value(instance, '0020000D'));
    seriesUid = String(value(instance, '0020000E'));
    sopUid = String(value(instance, '00080018'));
  });

  it('serves series metadata: complete attributes, bulk data by URI, cached and gzip on request', async () => {
    const res = await get(`/dicomweb/studies/${studyUid}/series/${seriesUid}/metadata`);
    expect(res.status).toBe(200);
    const metadata = res.body as Json[];
    expect(metadata).toHaveLength(3);
    const item = metadata[1] as Json;
    expect(value(item, '00080018')).toBe(sopUid);
    expect(value(item, '00280010')).toBe(32);
    expect(item['7FE00010']?.BulkDataURI).toMatch(new RegExp(`/dicomweb/studies/${studyUid}/series/${seriesUid}/instances/${sopUid}/frames/1$`));
    expect(value(item, '00120062')).toBe('YES');
    const cached = await stack.db.query('SELECT num_instances FROM series_metadata WHERE series_uid = $1', [seriesUid]);
    expect(cached.rows[0]?.num_instances).toBe(3);
    const zipped = await getBytes(`/dicomweb/studies/${studyUid}/series/${seriesUid}/metadata`, { 'accept-encoding': 'gzip' });
    expect(zipped.status).toBe(200);
    expect(JSON.parse(zipped.body.toString('utf8'))).toEqual(metadata);
    expect((await get(`/dicomweb/studies/${studyUid}/metadata`)).body).toHaveLength(6);
    expect((await get(`/dicomweb/studies/${studyUid}/series/${seriesUid}/instances/${sopUid}/metadata`)).body).toEqual([item]);
  });

  it('serves frames by byte range, identical to the uploaded pixel data', async () => {
    const res = await getBytes(`/dicomweb/studies/${studyUid}/series/${seriesUid}/instances/${sopUid}/frames/1`, { accept: 'multipart/related; type=application/octet-stream; transfer-syntax=*' });
    expect(res.status).toBe(200);
    const type = parseMediaType(res.headers.get('content-type') ?? '');
    expect(type.type).toBe('multipart/related');
    expect(type.params['transfer-syntax']).toBe('1.2.840.10008.1.2.1');
    const parts = parseMultipart(res.body, type.params.boundary as string);
    expect(parts).toHaveLength(1);
    expect(parts[0]?.contentType).toBe('application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1');
    // The frame must be the pixel data of one of the uploaded files (pixels are copied untouched).
    const frame = Buffer.from(parts[0]?.body ?? []);
    expect(frame.length).toBe(32 * 32 * 2);
    const matches = source.filter((s) => {
      const file = readFileSync(s.path);
      const element = dicomParser.parseDicom(file).elements.x7fe00010;
      return element && file.subarray(element.dataOffset, element.dataOffset + element.length).equals(frame);
    });
    expect(matches).toHaveLength(1);
    expect((await getBytes(`/dicomweb/studies/${studyUid}/series/${seriesUid}/instances/${sopUid}/frames/2`)).status).toBe(404);
    expect((await getBytes(`/dicomweb/studies/${studyUid}/series/${seriesUid}/instances/${sopUid}/frames/1`, { accept: 'multipart/related; type="image/jpeg"' })).status).toBe(406);
  });

  it('retrieves instances and series as multipart/related application/dicom', async () => {
    const one = await getBytes(`/dicomweb/studies/${studyUid}/series/${seriesUid}/instances/${sopUid}`, { accept: 'multipart/related; type="application/dicom"' });
    expect(one.status).toBe(200);
    const type = parseMediaType(one.headers.get('content-type') ?? '');
    const parts = parseMultipart(one.body, type.params.boundary as string);
    expect(parts).toHaveLength(1);
    const dataSet = dicomParser.parseDicom(Uint8Array.from(parts[0]?.body ?? []));
    expect(dataSet.string('x00080018')).toBe(sopUid);
    expect(dataSet.string('x00120062')).toBe('YES');
    const series = await getBytes(`/dicomweb/studies/${studyUid}/series/${seriesUid}`);
    expect(parseMultipart(series.body, parseMediaType(series.headers.get('content-type') ?? '').params.boundary as string)).toHaveLength(3);
    expect((await getBytes(`/dicomweb/studies/${studyUid}`, { accept: 'application/zip' })).status).toBe(406);
  });

  it('streams a series retrieve through the Lambda response-streaming entry point, byte for byte as buffered', async () => {
    const { handler, writeToResponseStream } = await import('@medlake/functions/dicomweb/handler');
    const path = `/dicomweb/studies/${studyUid}/series/${seriesUid}`;
    const event = {
      version: '2.0', routeKey: 'ANY /dicomweb/{proxy+}', rawPath: path, rawQueryString: '',
      headers: { host: 'medlake.example.org', 'x-forwarded-proto': 'https', authorization: `Bearer ${researcher.idToken}`, accept: 'multipart/related; type="application/dicom"' },
      requestContext: { accountId: 'l', apiId: 'l', domainName: 'medlake.example.org', domainPrefix: 'medlake', requestId: 'stream-1', routeKey: 'ANY /dicomweb/{proxy+}', stage: '$default', time: '', timeEpoch: 0, http: { method: 'GET', path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' } },
      isBase64Encoded: false,
    } as unknown as Parameters<typeof handler>[0];
    const context = { getRemainingTimeInMillis: () => 30_000, functionName: 'dicomweb', awsRequestId: 'stream-1' } as unknown as Parameters<typeof handler>[1];
    const chunks: Buffer[] = [];
    let metadata: { statusCode: number; headers: Record<string, string> } | undefined;
    let ended = false;
    const sink = { write: (c: Uint8Array | string) => { chunks.push(Buffer.from(c)); return true; }, end: () => { ended = true; }, once: () => sink };
    const runtime = { streamifyResponse: () => undefined, HttpResponseStream: { from: (_s: unknown, m: { statusCode: number; headers: Record<string, string> }) => { metadata = m; return sink; } } };
    await writeToResponseStream(runtime, event, sink, context);
    expect(ended).toBe(true);
    expect(metadata?.statusCode).toBe(200);
    const streamed = Buffer.concat(chunks);
    expect(Number(metadata?.headers['content-length'])).toBe(streamed.length);
    const boundary = parseMediaType(metadata?.headers['content-type'] ?? '').params.boundary as string;
    const parts = parseMultipart(streamed, boundary);
    expect(parts).toHaveLength(3);
    const buffered = await handler(event, context);
    const bufferedParts = parseMultipart(Buffer.from(buffered.body ?? '', 'base64'), parseMediaType(String(buffered.headers?.['content-type'])).params.boundary as string);
    expect(parts.map((p) => Buffer.from(p.body).toString('base64'))).toEqual(bufferedParts.map((p) => Buffer.from(p.body).toString('base64')));
  });

  it('renders JPEG and PNG, and keeps thumbnails under derived/', async () => {
    const jpeg = await getBytes(`/dicomweb/studies/${studyUid}/series/${seriesUid}/instances/${sopUid}/rendered`);
    expect(jpeg.status).toBe(200);
    expect(jpeg.headers.get('content-type')).toBe('image/jpeg');
    expect(jpeg.body.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    const png = await getBytes(`/dicomweb/studies/${studyUid}/series/${seriesUid}/rendered?viewport=16,16`, { accept: 'image/png' });
    expect(png.body.subarray(1, 4).toString()).toBe('PNG');
    expect(png.body.readUInt32BE(16)).toBe(16);
    const thumb = await getBytes(`/dicomweb/studies/${studyUid}/series/${seriesUid}/thumbnail`);
    expect(thumb.status).toBe(200);
    const archive = stack.env.BUCKET_ARCHIVE as string;
    const listed = await stack.s3.send(new ListObjectsV2Command({ Bucket: archive, Prefix: `derived/studies/${studyUid}/series/${seriesUid}/` }));
    const keys = (listed.Contents ?? []).map((o) => o.Key ?? '');
    expect(keys.some((k) => k.includes('/thumbnail/'))).toBe(true);
    const stored = await stack.s3.send(new GetObjectCommand({ Bucket: archive, Key: keys.find((k) => k.includes('/thumbnail/')) }));
    expect(Buffer.from(await stored.Body?.transformToByteArray() ?? [])).toEqual(thumb.body);
    expect((await getBytes(`/dicomweb/studies/${studyUid}/thumbnail`)).status).toBe(200);
  });

  it('serves Pixel Data as bulk data', async () => {
    const res = await getBytes(`/dicomweb/studies/${studyUid}/series/${seriesUid}/instances/${sopUid}/bulk/7FE00010`);
    expect(res.status).toBe(200);
    const parts = parseMultipart(res.body, parseMediaType(res.headers.get('content-type') ?? '').params.boundary as string);
    expect(parts[0]?.body.length).toBe(32 * 32 * 2);
  });
});

describe('study API', () => {
  it('lists, filters and pages studies, and shows one with its series', async () => {
    const list = await get('/api/studies');
    expect(list.status).toBe(200);
    const body = list.body as { total: number; items: { studyInstanceUID: string; patientId: string; modalities: string[]; numSeries: number; studyDate: string }[] };
    expect(body.total).toBe(3);
    const item = body.items[0] as (typeof body.items)[number];
    expect(item.numSeries).toBe(2);
    expect(item.studyDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    const byModality = (await get(`/api/studies?modality=${item.modalities[0]}`)).body as { total: number };
    expect(byModality.total).toBeGreaterThanOrEqual(1);
    expect(((await get(`/api/studies?dateFrom=${item.studyDate}&dateTo=${item.studyDate}`)).body as { total: number }).total).toBeGreaterThanOrEqual(1);
    expect(((await get('/api/studies?limit=1&offset=1&sort=patientId&order=asc')).body as { items: unknown[] }).items).toHaveLength(1);
    const bad = await get('/api/studies?modality=C;T');
    expect(bad.status).toBe(400);
    expect((bad.body as { error: { code: string } }).error.code).toBe('invalid_parameter');
    const one = await get(`/api/studies/${item.studyInstanceUID}`);
    expect((one.body as { series: unknown[] }).series).toHaveLength(2);
    expect((await get('/api/studies/2.25.1')).status).toBe(404);
    const timeline = (await get(`/api/patients/${encodeURIComponent(item.patientId)}/studies`)).body as { total: number };
    expect(timeline.total).toBe(1);
  });
});

describe('access and audit', () => {
  it('needs studies:read: 401 without a token, 403 for an uploader', async () => {
    expect((await stack.request('/dicomweb/studies')).status).toBe(401);
    expect((await stack.request('/dicomweb/studies', { token: uploader.idToken })).status).toBe(403);
    expect((await stack.request('/api/studies', { token: uploader.idToken })).status).toBe(403);
  });

  it('audits study reads once per principal, study and hour', async () => {
    const reader = await stack.createUser({ groups: ['annotator'] });
    const instance = ((await get('/dicomweb/instances?limit=1')).body as Json[])[0] as Json;
    const [s, se, i] = [value(instance, '0020000D'), value(instance, '0020000E'), value(instance, '00080018')];
    for (let n = 0; n < 5; n++) {
      expect((await stack.request(`/dicomweb/studies/${s}/series/${se}/instances/${i}/frames/1`, { token: reader.idToken })).status).toBe(200);
      expect((await stack.request(`/dicomweb/studies/${s}/series/${se}/metadata`, { token: reader.idToken })).status).toBe(200);
    }
    const rows = await stack.db.query<{ action: string; resource: string }>('SELECT action, resource FROM audit_log WHERE actor_sub = $1 ORDER BY id', [reader.username]);
    expect(rows.rows).toEqual([
      { action: 'study.retrieve', resource: `study/${s}` },
      { action: 'study.open', resource: `study/${s}` },
    ]);
  });
});
