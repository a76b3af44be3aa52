/**
 * Cohort exports on the real local stack, on a lake filled the real way
 * (synthetic CT/MR uploaded through POST /api/uploads and ingested, reports
 * PUT through the report API, measurement SRs uploaded with the images):
 * the zip checked file by file against the archive and the index, the
 * manifests, reports, annotation JSON, README, the email and its link;
 * filter selection equal to /api/studies; layouts, deflate, options;
 * re-run; cancel; the rate limit; expiry; roles and validation.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { QueuePoller } from '@medlake/local/queue-poller';
import type { TestStack, TestUser } from './support/local-stack';
import { startTestStack } from './support/local-stack';
import type { GeneratedInstance } from './fixtures/dicomweb/lake';
import { generateDicom } from './fixtures/dicomweb/lake';
import { measurementReport } from './fixtures/dicomweb/measurement-sr';
import { uploadFiles } from './ingest-support';
import type { ExportAnswer } from './export-support';
import { downloadZip, parseManifestCsv, readZip, startExportPoller, unzipTest, waitForExport } from './export-support';

let stack: TestStack;
let researcher: TestUser;
let otherResearcher: TestUser;
let admin: TestUser;
let uploader: TestUser;
let annotator: TestUser;
let dir: string;
let source: GeneratedInstance[];
let poller: QueuePoller | undefined;
let studies: { uid: string; modalities: string[]; patientId: string }[];
/** De-identified study UID → its report text. */
const reports = new Map<string, string>();

const post = (body: unknown, token = researcher.idToken, path = '/api/exports') => stack.request(path, { token, json: body });
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

function pollerOn(): void {
  poller ??= startExportPoller(stack);
}

async function pollerOff(): Promise<void> {
  await poller?.stop();
  poller = undefined;
}

async function exportAndWait(body: unknown, token = researcher.idToken): Promise<ExportAnswer> {
  pollerOn();
  const res = await post(body, token);
  expect(res.status, res.text).toBe(202);
  return waitForExport(stack, token, (res.body as ExportAnswer).exportId);
}

beforeAll(async () => {
  stack = await startTestStack({ queueHandlers: { export: false }, queueSettings: { export: { visibilityTimeoutSeconds: 20 } } });
  [researcher, otherResearcher, admin, uploader, annotator] = await Promise.all([
    stack.createUser({ groups: ['researcher'] }),
    stack.createUser({ groups: ['researcher'] }),
    stack.createUser({ groups: ['admin'] }),
    stack.createUser({ groups: ['uploader'] }),
    stack.createUser({ groups: ['annotator'] }),
  ]);
  dir = mkdtempSync(join(tmpdir(), 'medlake-export-'));
  // 4 patients, one study each, 2 series of 3 slices at 64×64: CT and MR mixed.
  source = generateDicom(dir, { patients: 4, seriesPerStudy: 2, slices: 3, matrix: 64, seed: 31 });
  // A measurement SR (as OHIF saves them) in the first two studies, as the hospital would send it along with the images.
  const srs = [];
  for (const studyUid of [...new Set(source.map((s) => s.studyUid))].slice(0, 2)) {
    const image = source.find((s) => s.studyUid === studyUid) as GeneratedInstance;
    const sr = await measurementReport({ studyUid, seriesUid: image.seriesUid, sopUid: image.sopUid, sopClassUid: '1.2.840.10008.5.1.4.1.1.2', patientId: image.patientId, patientName: 'PLANTED^NAME', studyDate: image.studyDate }, 12.5);
    srs.push({ name: `sr-${srs.length}.dcm`, bytes: sr.part10 });
  }
  await uploadFiles(stack, uploader, [...source.map((s) => ({ name: `${s.sopUid}.dcm`, bytes: new Uint8Array(readFileSync(s.path)) })), ...srs]);
  await stack.waitForIngestIdle({ timeoutMs: 300_000 });
  const list = await stack.request('/api/studies?limit=500', { token: researcher.idToken });
  studies = (list.body as { items: { studyInstanceUID: string; modalities: string[]; patientId: string }[] }).items.map((s) => ({ uid: s.studyInstanceUID, modalities: s.modalities, patientId: s.patientId }));
  expect(studies).toHaveLength(4);
  // Reports for three of the four studies, written through the report API (scrubbed and versioned there).
  for (const [i, study] of studies.slice(0, 3).entries()) {
    const text = `Findings: study ${i + 1}, no acute abnormality. Impression: normal.`;
    const res = await stack.request(`/api/studies/${study.uid}/report`, { method: 'PUT', token: annotator.idToken, json: { text } });
    expect(res.status, res.text).toBe(201);
    reports.set(study.uid, (res.body as { text: string }).text);
  }
}, 600_000);

afterEach(() => {
  for (const name of ['EXPORT_MAX_ACTIVE_PER_USER', 'EXPORT_LINK_TTL_SECONDS', 'EXPORT_MAX_RUN_SECONDS', 'EXPORT_PART_SIZE_BYTES']) delete process.env[name];
});

afterAll(async () => {
  await pollerOff();
  await stack?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface IndexRow {
  sop_uid: string; series_uid: string; study_uid: string; patient_id: string; modality: string | null; study_date: string | null;
  sha256: string; size_bytes: string; archive_key: string; sop_class_uid: string; instance_number: number | null; series_number: number | null; transfer_syntax_uid: string;
}

async function indexRows(studyUids: readonly string[]): Promise<Map<string, IndexRow>> {
  const rows = await stack.db.query<IndexRow>(
    `SELECT i.sop_uid, i.series_uid, i.study_uid, s.patient_id, se.modality, to_char(s.study_date, 'YYYY-MM-DD') AS study_date, i.sha256, i.size_bytes,
       i.archive_key, i.sop_class_uid, i.instance_number, se.series_number, i.transfer_syntax_uid
     FROM instances i JOIN studies s ON s.study_uid = i.study_uid JOIN series se ON se.series_uid = i.series_uid WHERE i.study_uid = ANY($1)`,
    [studyUids],
  );
  return new Map(rows.rows.map((r) => [r.sop_uid, r]));
}

describe('an export of a few studies', () => {
  let answer: ExportAnswer;
  let zip: Buffer;
  let entries: Map<string, Buffer>;
  let exportedStudies: string[];

  beforeAll(async () => {
    exportedStudies = studies.slice(0, 3).map((s) => s.uid);
    pollerOn();
    const created = await post({ name: 'Three studies', studies: exportedStudies });
    expect(created.status, created.text).toBe(202);
    const body = created.body as ExportAnswer;
    const index = await indexRows(exportedStudies);
    // Answered at once, with what it will hold.
    expect(body.state).toMatch(/queued|running/);
    const annotations = [...index.values()].filter((r) => r.sop_class_uid.startsWith('1.2.840.10008.5.1.4.1.1.88.')).length;
    expect(annotations).toBeGreaterThan(0);
    expect(body.estimate).toMatchObject({ studies: 3, instances: index.size, reports: 3, annotations });
    const dataBytes = [...index.values()].reduce((n, r) => n + Number(r.size_bytes), 0);
    expect(body.estimate.bytes).toBeGreaterThan(dataBytes);
    expect(body.estimate.bytes).toBeLessThan(dataBytes + 400_000);
    answer = await waitForExport(stack, researcher.idToken, body.exportId);
    expect(answer.state, JSON.stringify(answer.failure)).toBe('done');
    zip = (await downloadZip(stack, researcher.idToken, answer.exportId)).zip;
    entries = new Map((await readZip(zip)).map((e) => [e.name, e.bytes]));
  }, 180_000);

  it('is a valid zip: Info-ZIP tests every entry, yauzl reads them, no name twice, the size as announced', async () => {
    expect(unzipTest(zip)).toMatch(/No errors detected/);
    const names = (await readZip(zip)).map((e) => e.name);
    expect(new Set(names).size).toBe(names.length);
    expect(zip.length).toBe(answer.zip?.bytes);
    expect(answer.zip?.files).toBe(names.length);
    expect(answer.progress).toMatchObject({ percent: 100 });
    expect(answer.download).toMatchObject({ href: `/api/exports/${answer.exportId}/download`, sizeBytes: zip.length });
  });

  it('holds every instance of the studies, byte for byte the archived file, at patient/study/series paths', async () => {
    const index = await indexRows(exportedStudies);
    const dicom = [...entries.keys()].filter((name) => name.endsWith('.dcm'));
    expect(dicom).toHaveLength(index.size);
    for (const row of index.values()) {
      const path = `${row.patient_id}/${row.study_uid}/${row.series_uid}/${row.sop_uid}.dcm`;
      const bytes = entries.get(path);
      expect(bytes, path).toBeDefined();
      expect(sha256(bytes as Buffer)).toBe(row.sha256);
      const archived = await stack.s3.send(new GetObjectCommand({ Bucket: stack.buckets.archive, Key: row.archive_key }));
      expect(sha256(await archived.Body!.transformToByteArray())).toBe(row.sha256);
    }
  });

  it('writes manifest rows that match the index, and manifest.json with the same rows', async () => {
    const index = await indexRows(exportedStudies);
    const rows = parseManifestCsv((entries.get('manifest.csv') as Buffer).toString('utf8'));
    const dicomRows = rows.filter((r) => r.kind === 'dicom');
    expect(dicomRows).toHaveLength(index.size);
    for (const row of dicomRows) {
      const indexed = index.get(row.sopInstanceUID as string) as IndexRow;
      expect(row).toMatchObject({
        patientId: indexed.patient_id, studyInstanceUID: indexed.study_uid, studyDate: indexed.study_date ?? '', seriesInstanceUID: indexed.series_uid,
        modality: indexed.modality ?? '', sopClassUID: indexed.sop_class_uid, transferSyntaxUID: indexed.transfer_syntax_uid,
        sizeBytes: indexed.size_bytes, sha256: indexed.sha256, instanceNumber: String(indexed.instance_number ?? ''), seriesNumber: String(indexed.series_number ?? ''),
      });
    }
    // Every file but the manifests and README has a row, with its real size and hash.
    for (const row of rows) {
      const bytes = entries.get(row.path as string) as Buffer;
      expect(bytes, row.path).toBeDefined();
      expect(String(bytes.length)).toBe(row.sizeBytes);
      expect(sha256(bytes)).toBe(row.sha256);
    }
    expect(rows.map((r) => r.path).sort()).toEqual([...entries.keys()].filter((n) => !['manifest.csv', 'manifest.json', 'README.txt'].includes(n)).sort());
    const json = JSON.parse((entries.get('manifest.json') as Buffer).toString('utf8')) as { exportId: string; counts: Record<string, number>; files: Record<string, unknown>[] };
    expect(json.exportId).toBe(answer.exportId);
    expect(json.counts).toMatchObject({ dicom: index.size, reports: 3, annotations: answer.estimate.annotations, leftOut: 0, files: rows.length });
    expect(json.files.map((f) => f.path)).toEqual(rows.map((r) => r.path));
    expect(json.files.map((f) => f.sha256)).toEqual(rows.map((r) => r.sha256));
  });

  it('adds each study\'s latest report as text, and the version in the manifest', async () => {
    const rows = parseManifestCsv((entries.get('manifest.csv') as Buffer).toString('utf8')).filter((r) => r.kind === 'report');
    expect(rows).toHaveLength(3);
    for (const study of studies.slice(0, 3)) {
      const path = `${study.patientId}/${study.uid}/report.txt`;
      expect(entries.get(path)?.toString('utf8')).toBe(reports.get(study.uid));
      expect(rows.find((r) => r.path === path)?.reportVersion).toBe('1');
    }
  });

  it('adds annotation SRs as DICOM in their series and as JSON with their measurements', async () => {
    const srs = (await stack.db.query<{ sop_uid: string; series_uid: string; study_uid: string; patient_id: string }>(
      `SELECT i.sop_uid, i.series_uid, i.study_uid, s.patient_id FROM instances i JOIN studies s ON s.study_uid = i.study_uid
       WHERE i.sop_class_uid = '1.2.840.10008.5.1.4.1.1.88.22' AND i.study_uid = ANY($1)`,
      [exportedStudies],
    )).rows;
    expect(srs).toHaveLength(answer.estimate.annotations);
    for (const sr of srs) {
      expect(entries.has(`${sr.patient_id}/${sr.study_uid}/${sr.series_uid}/${sr.sop_uid}.dcm`)).toBe(true);
      const doc = JSON.parse((entries.get(`${sr.patient_id}/${sr.study_uid}/annotations/${sr.sop_uid}.json`) as Buffer).toString('utf8'));
      expect(doc).toMatchObject({ sopInstanceUID: sr.sop_uid, studyInstanceUID: sr.study_uid, title: 'Imaging Measurement Report' });
      const length = doc.observations.find((o: { valueType: string }) => o.valueType === 'NUM');
      expect(length).toMatchObject({ path: ['Imaging Measurement Report', 'Imaging Measurements', 'Length'], value: 12.5, unit: { code: 'mm', scheme: 'UCUM' } });
      const image = doc.observations.find((o: { valueType: string }) => o.valueType === 'IMAGE');
      const referenced = image.references[0].sopInstanceUID as string;
      // The reference points at an image of the same study, in the zip.
      expect([...entries.keys()].some((name) => name.endsWith(`/${referenced}.dcm`) && name.includes(sr.study_uid))).toBe(true);
      expect(doc.dicom['0040A730']).toBeDefined();
    }
    // No personal data of the SR's source survives in its JSON.
    expect([...entries.entries()].filter(([n]) => n.endsWith('.json')).map(([, b]) => b.toString('utf8')).join('')).not.toContain('PLANTED');
  });

  it('writes a README with the layout, the counts and the de-identification declared by the files', () => {
    const readme = (entries.get('README.txt') as Buffer).toString('utf8');
    expect(readme).toContain(`medlake export ${answer.exportId} - Three studies`);
    expect(readme).toContain('{patient}/{study}/{series}/{sop}.dcm');
    expect(readme).toMatch(/studies: +3/);
    expect(readme).toMatch(/Patient Identity Removed \(0012,0062\): +YES/);
    expect(readme).toContain('DCM 113100 Basic Application Confidentiality Profile');
    expect(readme).toContain('113107');
    expect(readme).toMatch(/Longitudinal Temporal Information Modified \(0028,0303\): MODIFIED/);
    expect(readme).not.toContain('LEFT OUT');
  });

  it('emails the requester a link that downloads the same zip, and audits the export', async () => {
    const mail = await stack.waitForMail((m) => m.to.includes(researcher.email) && m.subject.includes('Three studies'));
    expect(mail.subject).toBe('medlake: "Three studies" is ready');
    const presigned = /^(http\S+\/s3\/\S+)$/m.exec(mail.text)?.[1] as string;
    expect(presigned).toBeDefined();
    expect(Buffer.from(await (await fetch(presigned)).arrayBuffer()).equals(zip)).toBe(true);
    expect(mail.text).toContain(`/api/exports/${answer.exportId}/download`);
    // The stable address answers 302 to a fresh presigned URL.
    const redirect = await fetch(`${stack.url}/api/exports/${answer.exportId}/download`, { headers: { authorization: `Bearer ${researcher.idToken}` }, redirect: 'manual' });
    expect(redirect.status).toBe(302);
    expect(Buffer.from(await (await fetch(redirect.headers.get('location') as string)).arrayBuffer()).equals(zip)).toBe(true);
    // The notify function records the emailed link once the email is out.
    const wanted = ['exports.create', 'exports.done', 'exports.link-emailed', 'exports.download-link'];
    let audit = { rows: [] as { action: string; actor_sub: string | null }[] };
    for (let i = 0; i < 100 && !wanted.every((a) => audit.rows.some((r) => r.action === a)); i++) {
      audit = await stack.db.query<{ action: string; actor_sub: string | null }>(`SELECT action, actor_sub FROM audit_log WHERE resource = $1 ORDER BY id`, [`export/${answer.exportId}`]);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(audit.rows.map((r) => r.action)).toEqual(expect.arrayContaining(wanted));
    expect(audit.rows.find((r) => r.action === 'exports.create')?.actor_sub).toBe(researcher.username);
  });

  it('re-runs to the same file list, the same bytes per file', async () => {
    const rerun = await post({}, researcher.idToken, `/api/exports/${answer.exportId}/rerun`);
    expect(rerun.status, rerun.text).toBe(202);
    const again = await waitForExport(stack, researcher.idToken, (rerun.body as ExportAnswer).exportId);
    expect(again).toMatchObject({ state: 'done', rerunOf: answer.exportId });
    const second = new Map((await readZip((await downloadZip(stack, researcher.idToken, again.exportId)).zip)).map((e) => [e.name, e.bytes]));
    expect([...second.keys()]).toEqual([...entries.keys()]);
    for (const [name, bytes] of entries) if (!['manifest.json', 'README.txt'].includes(name)) expect(second.get(name)?.equals(bytes), name).toBe(true);
  });
});

describe('selection and options', () => {
  it('selects by filter exactly the studies /api/studies lists for it (JSON or query string)', async () => {
    // A modality some studies have and others not (SR, from the measurement reports, at worst).
    const modality = ['CT', 'MR', 'SR'].find((m) => studies.some((s) => s.modalities.includes(m)) && studies.some((s) => !s.modalities.includes(m))) as string;
    const listed = (await stack.request(`/api/studies?modality=${modality}&limit=500`, { token: researcher.idToken })).body as { items: { studyInstanceUID: string }[] };
    const expected = listed.items.map((s) => s.studyInstanceUID).sort();
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(4);
    for (const filter of [{ modalities: [modality] }, `modality=${modality}&limit=1&sort=patientId`]) {
      const done = await exportAndWait({ filter, options: { reports: false, annotations: false } });
      expect(done.state).toBe('done');
      expect(done.selection.filterQuery).toBe(`modality=${modality}`);
      const rows = parseManifestCsv((await readZip((await downloadZip(stack, researcher.idToken, done.exportId)).zip)).find((e) => e.name === 'manifest.csv')!.bytes.toString('utf8'));
      expect([...new Set(rows.map((r) => r.studyInstanceUID))].sort()).toEqual(expected);
      expect(rows.every((r) => r.kind === 'dicom' && !r.sopClassUID?.startsWith('1.2.840.10008.5.1.4.1.1.88.'))).toBe(true);
    }
  });

  it('lays out flat by study and deflates when asked', async () => {
    // A study with a report and a measurement SR.
    const withSr = (await stack.db.query<{ study_uid: string }>("SELECT study_uid FROM instances WHERE sop_class_uid LIKE '1.2.840.10008.5.1.4.1.1.88.%'")).rows.map((r) => r.study_uid);
    const study = studies.find((s) => withSr.includes(s.uid) && reports.has(s.uid)) as (typeof studies)[number];
    const done = await exportAndWait({ studies: [study.uid], options: { layout: 'study', compression: 'deflate' } });
    const { zip } = await downloadZip(stack, researcher.idToken, done.exportId);
    expect(unzipTest(zip)).toMatch(/No errors detected/);
    const read = await readZip(zip);
    const index = await indexRows([study.uid]);
    for (const row of index.values()) {
      const entry = read.find((e) => e.name === `${study.uid}/${row.sop_uid}.dcm`);
      expect(entry?.compressionMethod).toBe(8);
      expect(sha256(entry?.bytes as Buffer)).toBe(row.sha256);
    }
    expect(read.map((e) => e.name)).toContain(`${study.uid}/report.txt`);
    expect(read.map((e) => e.name).filter((n) => n.includes('/annotations/'))).toHaveLength(1);
  });

  it('exports the labels and the annotation history: labels.csv, each SR with its set version and measurements', async () => {
    const study = studies[0] as (typeof studies)[number];
    expect((await stack.request('/api/labels/vocabulary', { token: admin.idToken, json: { code: 'nodule', display: 'Pulmonary nodule' } })).status).toBe(201);
    expect((await stack.request(`/api/studies/${study.uid}/labels`, { method: 'PUT', token: annotator.idToken, json: { labels: [{ code: 'nodule' }] } })).status).toBe(201);
    const image = [...(await indexRows([study.uid])).values()].find((r) => !r.sop_class_uid.startsWith('1.2.840.10008.5.1.4.1.1.88.')) as IndexRow;
    const saved = await stack.request(`/api/studies/${study.uid}/annotations`, {
      token: annotator.idToken,
      json: { name: 'Reading 1', measurements: [{ tool: 'Length', value: 7.5, image: { sopInstanceUID: image.sop_uid }, coordinates: { graphicType: 'POLYLINE', graphicData: [1, 1, 5, 5] } }] },
    });
    expect(saved.status, saved.text).toBe(201);
    const done = await exportAndWait({ studies: [study.uid], options: { labels: true } });
    expect(done.state).toBe('done');
    const entries = new Map((await readZip((await downloadZip(stack, researcher.idToken, done.exportId)).zip)).map((e) => [e.name, e.bytes]));
    const labels = (entries.get('labels.csv') as Buffer).toString('utf8').split('\r\n');
    expect(labels[0]).toBe('studyInstanceUID,seriesInstanceUID,sopInstanceUID,label,value,author,createdAt');
    expect(labels[1]).toMatch(new RegExp(`^${study.uid.replace(/\./g, '\\.')},,,nodule,,${annotator.email.replace(/\./g, '\\.')},`));
    const documents = [...entries].filter(([name]) => name.includes('/annotations/')).map(([, bytes]) => JSON.parse(bytes.toString('utf8')));
    const reading = documents.find((d) => d.annotationSet?.name === 'Reading 1');
    expect(reading).toMatchObject({ annotationSet: { version: 1, current: true, author: annotator.email }, studyInstanceUID: study.uid });
    expect(reading.measurements[0]).toMatchObject({ tool: 'Length', value: 7.5, image: { sopInstanceUID: image.sop_uid } });
    // An SR uploaded with the images is no version of a set: measurements read from the SR itself, every content item in observations.
    const uploaded = documents.find((d) => d.annotationSet === null);
    if (uploaded) {
      expect(Array.isArray(uploaded.measurements)).toBe(true);
      expect(uploaded.observations.find((o: { valueType: string }) => o.valueType === 'NUM')).toMatchObject({ value: 12.5, unit: { code: 'mm' } });
    }
    const rows = parseManifestCsv((entries.get('manifest.csv') as Buffer).toString('utf8'));
    expect(rows.find((r) => r.kind === 'labels')).toMatchObject({ path: 'labels.csv', sha256: sha256(entries.get('labels.csv') as Buffer) });
  });

  it('refuses what it cannot do, with readable reasons', async () => {
    const cases: [unknown, number, string][] = [
      [{}, 400, 'selection_required'],
      [{ filter: { colour: 'red' } }, 400, 'unknown_parameter'],
      [{ filter: 'modality=C T!' }, 400, 'invalid_parameter'],
      [{ studies: ['2.25.1'] }, 400, 'unknown_studies'],
      [{ studies: ['not a uid'] }, 400, 'invalid_request'],
      [{ studies: [studies[0]?.uid], options: { layout: 'by-date' } }, 400, 'invalid_request'],
      [{ filter: { dateFrom: '1900-01-01', dateTo: '1900-01-02' } }, 422, 'empty_selection'],
      [{ studies: [studies[0]?.uid], options: { maxSizeBytes: 1000 } }, 422, 'export_too_large'],
    ];
    for (const [body, status, code] of cases) {
      const res = await post(body);
      expect(res.status, `${JSON.stringify(body)}: ${res.text}`).toBe(status);
      const error = (res.body as { error: { code: string; message: string } }).error;
      expect(error.code).toBe(code);
      expect(error.message.length).toBeGreaterThan(10);
    }
  });
});

describe('cancel, limits, expiry, access', () => {
  it('cancels a queued export: the worker then does nothing and no zip is made', async () => {
    await pollerOff();
    const created = await post({ studies: [studies[1]?.uid] });
    const id = (created.body as ExportAnswer).exportId;
    const cancelled = await stack.request(`/api/exports/${id}`, { method: 'DELETE', token: researcher.idToken });
    expect(cancelled.status, cancelled.text).toBe(202);
    expect((cancelled.body as ExportAnswer).state).toBe('cancelled');
    expect((await stack.request(`/api/exports/${id}`, { method: 'DELETE', token: researcher.idToken })).status).toBe(409);
    pollerOn();
    await stack.waitForIngestIdle({ queues: ['ingest'] });
    // The worker takes the message, sees the export cancelled, and lets it go.
    for (let i = 0; i < 300; i++) {
      const depth = await stack.queueDepth('export');
      if (depth.visible + depth.inFlight === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await stack.queueDepth('export')).toMatchObject({ visible: 0, inFlight: 0 });
    expect((await stack.db.query<{ runs: number }>('SELECT runs FROM exports WHERE export_id = $1', [id])).rows[0]?.runs).toBe(0);
    const objects = await stack.s3.send(new ListObjectsV2Command({ Bucket: stack.buckets.exports, Prefix: `${id}/` }));
    expect(objects.KeyCount ?? 0).toBe(0);
    expect((await stack.request(`/api/exports/${id}/download`, { token: researcher.idToken })).status).toBe(409);
    const audit = await stack.db.query('SELECT 1 FROM audit_log WHERE action = $1 AND resource = $2', ['exports.cancel', `export/${id}`]);
    expect(audit.rowCount).toBe(1);
  });

  it('limits the exports a user may have queued or running (429 with the reason), per user', async () => {
    await pollerOff();
    process.env.EXPORT_MAX_ACTIVE_PER_USER = '2';
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const res = await post({ studies: [studies[2]?.uid] });
      expect(res.status).toBe(202);
      ids.push((res.body as ExportAnswer).exportId);
    }
    const refused = await post({ studies: [studies[2]?.uid] });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('60');
    expect((refused.body as { error: { code: string; message: string; active: number; limit: number } }).error).toMatchObject({ code: 'too_many_exports', active: 2, limit: 2 });
    expect((refused.body as { error: { message: string } }).error.message).toMatch(/already have 2 exports queued or running/);
    // Another user is not affected; a re-run counts too.
    expect((await post({ studies: [studies[2]?.uid] }, otherResearcher.idToken)).status).toBe(202);
    expect((await post({}, researcher.idToken, `/api/exports/${ids[0]}/rerun`)).status).toBe(409);
    await stack.request(`/api/exports/${ids[0]}`, { method: 'DELETE', token: researcher.idToken });
    expect((await post({ studies: [studies[2]?.uid] })).status).toBe(202);
    // Tidy up: everything still queued is cancelled.
    for (const user of [researcher, otherResearcher]) {
      const list = (await stack.request('/api/exports?mine=true', { token: user.idToken })).body as { items: ExportAnswer[] };
      for (const item of list.items.filter((e) => e.state === 'queued')) await stack.request(`/api/exports/${item.exportId}`, { method: 'DELETE', token: user.idToken });
    }
  });

  it('expires: the link stops working, the API says so clearly', async () => {
    // Set before the poller starts its function instances, which take the environment as it is then.
    await pollerOff();
    process.env.EXPORT_LINK_TTL_SECONDS = '3';
    const done = await exportAndWait({ studies: [studies[3]?.uid] });
    expect(done.state).toBe('done');
    const { url } = await downloadZip(stack, researcher.idToken, done.exportId);
    await new Promise((r) => setTimeout(r, 3500));
    const stale = await fetch(url);
    expect(stale.status).toBe(403);
    expect(await stale.text()).toContain('Request has expired');
    const status = await stack.request(`/api/exports/${done.exportId}`, { token: researcher.idToken });
    expect((status.body as ExportAnswer).state).toBe('expired');
    expect((status.body as ExportAnswer).download).toBeNull();
    const gone = await stack.request(`/api/exports/${done.exportId}/download`, { token: researcher.idToken });
    expect(gone.status).toBe(410);
    expect((gone.body as { error: { code: string; message: string } }).error).toMatchObject({ code: 'export_expired' });
    expect((gone.body as { error: { message: string } }).error.message).toMatch(/expired on .* Run it again with POST/);
    expect((await stack.request(`/api/exports/${done.exportId}`, { method: 'DELETE', token: researcher.idToken })).status).toBe(409);
  });

  it('lets researchers and admins in, each user sees only their own, admins everybody\'s', async () => {
    const mine = (await stack.request('/api/exports', { token: researcher.idToken })).body as { items: ExportAnswer[] };
    expect(mine.items.length).toBeGreaterThan(3);
    const id = (mine.items[0] as ExportAnswer).exportId;
    expect((await stack.request(`/api/exports/${id}`, { token: otherResearcher.idToken })).status).toBe(404);
    expect((await stack.request(`/api/exports/${id}/download`, { token: otherResearcher.idToken })).status).toBe(404);
    expect((await stack.request(`/api/exports/${id}`, { method: 'DELETE', token: otherResearcher.idToken })).status).toBe(404);
    const others = (await stack.request('/api/exports', { token: otherResearcher.idToken })).body as { items: ExportAnswer[] };
    expect(others.items.every((e) => !mine.items.some((m) => m.exportId === e.exportId))).toBe(true);
    expect((await stack.request(`/api/exports/${id}`, { token: admin.idToken })).status).toBe(200);
    const all = (await stack.request('/api/exports?limit=200', { token: admin.idToken })).body as { items: ExportAnswer[] };
    expect(all.items.length).toBe(mine.items.length + others.items.length);
    const page = (await stack.request('/api/exports?limit=2', { token: researcher.idToken })).body as { items: ExportAnswer[]; next: string };
    const next = (await stack.request(`/api/exports?limit=200&before=${page.next}`, { token: researcher.idToken })).body as { items: ExportAnswer[] };
    expect([...page.items, ...next.items].map((e) => e.exportId)).toEqual(mine.items.map((e) => e.exportId));
    for (const user of [uploader, annotator]) {
      expect((await post({ studies: [studies[0]?.uid] }, user.idToken)).status).toBe(403);
      expect((await stack.request('/api/exports', { token: user.idToken })).status).toBe(403);
    }
    expect((await stack.request('/api/exports')).status).toBe(401);
    expect((await exportAndWait({ studies: [studies[0]?.uid] }, admin.idToken)).state).toBe('done');
  });
});
