/**
 * Reports end to end on the real local stack: a CSV batch uploaded through
 * the presigned upload path before its images waits (unmatched), the DICOM
 * upload links it through the index writer's hook, the report is read,
 * versioned, corrected and searched over HTTP with real tokens (and the
 * study browser's filter), a DICOM SR brings its own report, and no planted
 * value is left in any table.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { phiInstance, phiPart10 } from './fixtures/dicom/phi-instance';
import { textSr } from './fixtures/reports/dicom-reports';
import { databaseText, findPlanted, ingestFiles } from './ingest-support';
import type { TestStack, TestUser } from './support/local-stack';
import { startTestStack } from './support/local-stack';

let stack: TestStack;
let uploader: TestUser;
let researcher: TestUser;
let annotator: TestUser;
const savedEnv = { ...process.env };

const reportPlanted = ['DOEPLANTED', 'JOHNATHAN', 'PID-PLANT-4711', 'ACC-PLANT-77', '15.03.2020', 'Quincy', 'Harriet Vance', '555-867-5309', 'Okonkwo', 'Ramona', 'Vasquez', 'SRPAT', '88123456'];

const csv = [
  'Accession Number,Patient ID,Issuer of Patient ID,Study Date,Findings,Impression',
  `ACC-PLANT-77,,,,"Patient DOEPLANTED, JOHNATHAN QUINCY (PID-PLANT-4711), exam 15.03.2020. Right lower lobe consolidation, pnemonia.","Pneumonia. Call Dr. Harriet Vance at 555-867-5309."`,
  `,PID-PLANT-4711,HOSP-PLANT,2020-03-15,"Addendum: small pleural effusion, Mr. Doeplanted informed.",`,
].join('\r\n');

function get<T>(user: TestUser, path: string) {
  return stack.request(path, { token: user.idToken }).then((r) => ({ status: r.status, body: r.body as T }));
}

beforeAll(async () => {
  stack = await startTestStack();
  [uploader, researcher, annotator] = await Promise.all([stack.createUser({ groups: ['uploader'] }), stack.createUser({ groups: ['researcher'] }), stack.createUser({ groups: ['annotator'] })]);
});

afterAll(async () => {
  await stack?.stop();
  process.env = savedEnv;
});

describe('reports through the upload path', () => {
  let studyUid: string;

  it('a CSV batch uploaded before its images waits and is listed as unmatched', async () => {
    const status = await ingestFiles(stack, uploader, [{ name: 'reports.csv', bytes: new Uint8Array(Buffer.from(csv, 'utf8')) }]);
    expect(status.files[0]).toMatchObject({ state: 'accepted' });
    expect(status.files[0]?.reason).toMatch(/2 waiting for their studies/);
    const unmatched = await get<{ items: { fileName: string; rowNumber: number; linkBy: string[]; reason: string }[] }>(uploader, '/api/reports/unmatched');
    expect(unmatched.status).toBe(200);
    expect(unmatched.body.items.map((i) => [i.fileName, i.rowNumber, i.linkBy])).toEqual(expect.arrayContaining([['reports.csv', 1, ['accession']], ['reports.csv', 2, ['patient-and-date']]]));
    expect((await get(researcher, '/api/reports/unmatched')).status).toBe(403);
  });

  it('the images arrive: both rows link to the study as versions, and nothing waits any more', async () => {
    const image = phiInstance({ issuer: 'HOSP-PLANT' });
    const status = await ingestFiles(stack, uploader, [{ name: 'ct.dcm', bytes: phiPart10(image) }]);
    expect(status.files[0]?.state).toBe('accepted');
    studyUid = status.files[0]?.studies[0] as string;
    expect((await get<{ items: unknown[] }>(uploader, '/api/reports/unmatched')).body.items).toEqual([]);
    const versions = await get<{ versions: { version: number; source: string }[] }>(researcher, `/api/studies/${studyUid}/report/versions`);
    expect(versions.status).toBe(200);
    expect(versions.body.versions.map((v) => [v.version, v.source])).toEqual([[1, 'csv'], [2, 'csv']]);
    const first = await get<{ text: string; latest: boolean }>(researcher, `/api/studies/${studyUid}/report/versions/1`);
    expect(first.body.text).toContain('FINDINGS:');
    expect(first.body.text).toContain('pnemonia');
    expect(first.body.text).toContain('Call Dr. [NAME] at [PHONE].');
    expect(findPlanted(first.body.text, reportPlanted)).toEqual([]);
  });

  it('researchers read and search; the study browser filters by report text; annotators correct', async () => {
    const latest = await get<{ version: number; text: string }>(researcher, `/api/studies/${studyUid}/report`);
    expect(latest).toMatchObject({ status: 200, body: { version: 2 } });
    expect((await get(uploader, `/api/studies/${studyUid}/report`)).status).toBe(403);

    const search = await get<{ total: number; items: { studyInstanceUID: string; highlights: { text: string; match: boolean }[] }[] }>(researcher, '/api/reports/search?q=pleural%20efusion');
    expect(search.body.items.map((i) => i.studyInstanceUID)).toContain(studyUid);
    expect(search.body.items[0]?.highlights.filter((s) => s.match).map((s) => s.text.toLowerCase())).toEqual(expect.arrayContaining(['pleural', 'effusion']));

    const studies = await get<{ items: { studyInstanceUID: string; hasReport: boolean }[] }>(researcher, '/api/studies?q=effusion&hasReport=true');
    expect(studies.body.items).toEqual([expect.objectContaining({ studyInstanceUID: studyUid, hasReport: true })]);
    expect((await get<{ items: unknown[] }>(researcher, '/api/studies?q=effusion&hasReport=false')).body.items).toEqual([]);

    const put = await stack.request(`/api/studies/${studyUid}/report`, { method: 'PUT', token: annotator.idToken, json: { text: 'Final: right lower lobe pneumonia, resolved on follow-up. Patient ID PID-PLANT-4711.', reason: 'final read' } });
    expect(put.status).toBe(201);
    expect(put.body).toMatchObject({ version: 3 });
    expect((put.body as { text: string }).text).not.toContain('PID-PLANT-4711');
    const forbidden = await stack.request(`/api/studies/${studyUid}/report`, { method: 'PUT', token: researcher.idToken, json: { text: 'x' } });
    expect(forbidden.status).toBe(403);
    const audited = await stack.db.query<{ action: string }>(`SELECT DISTINCT action FROM audit_log WHERE resource = $1 OR action = 'reports.search'`, [`study/${studyUid}`]);
    expect(audited.rows.map((r) => r.action)).toEqual(expect.arrayContaining(['reports.read', 'reports.versions', 'reports.write', 'reports.link', 'reports.search']));
  });

  it('a DICOM SR brings its report, read from the original before de-identification', async () => {
    const header = {
      patientName: 'SRPAT^Ramona', patientId: '88123456', issuer: 'HOSP-PLANT', birthDate: '19500101', accession: 'SRACC-1', studyDate: '20210601',
      studyUid: '1.2.826.0.1.3680043.10.1000.11.77', referringPhysician: 'Okonkwo^Chidi', institution: 'Planted Imaging Center',
    };
    const sr = textSr(header, '1.2.826.0.1.3680043.10.1000.13.77', [
      { type: 'TEXT', concept: 'Findings', value: 'Ms SRPAT has a 9 mm nodule in the right upper lobe. Dr. Okonkwo informed.' },
      { type: 'PNAME', concept: 'Verifying Observer Name', value: 'Vasquez^Ramona' },
    ]);
    const status = await ingestFiles(stack, uploader, [{ name: 'report.dcm', bytes: sr }]);
    expect(status.files[0]?.state).toBe('accepted');
    const uid = status.files[0]?.studies[0] as string;
    const report = await get<{ text: string; source: string }>(researcher, `/api/studies/${uid}/report`);
    expect(report.status).toBe(200);
    expect(report.body.source).toBe('dicom-sr');
    expect(report.body.text).toContain('9 mm nodule in the right upper lobe');
    expect(findPlanted(report.body.text, reportPlanted)).toEqual([]);
  });

  it('no planted value of the reports is left in any table (the vault ciphertext excepted)', async () => {
    const tables = await databaseText(stack);
    const found = [...tables.entries()].flatMap(([table, text]) => findPlanted(text, reportPlanted).map((v) => `${table}: ${v}`));
    expect(found).toEqual([]);
  });
});
