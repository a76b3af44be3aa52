/**
 * Re-identification, the honest-broker function, on the real local stack:
 * real DICOM with known identifiers is ingested (de-identified, originals
 * sealed in the PHI vault), then an administrator asks for them back with a
 * reason. Only admins, only with a reason, every attempt audited, never
 * cached, rate-limited; the identifiers are exactly the planted ones.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestStack, TestUser, Tokens } from './support/local-stack';
import { startTestStack, testAdmin } from './support/local-stack';
import type { BuiltStudy } from './subscriptions-fixtures';
import { buildStudy, ingestStudies } from './subscriptions-fixtures';

const savedEnv = { ...process.env };
const maxPerHour = 5;
let stack: TestStack;
let admin: Tokens;
let adminSub: string;
let researcher: TestUser;
let annotator: TestUser;
let built: BuiltStudy;
let studyUid: string;
let patientId: string;
const reason = 'Incidental finding: the referring clinic must recall the patient (ticket RAD-4411).';

interface AuditRow {
  actor_sub: string | null;
  action: string;
  resource: string | null;
  outcome: string;
  details: Record<string, unknown>;
}

async function auditRows(): Promise<AuditRow[]> {
  const { rows } = await stack.db.query<AuditRow>("SELECT actor_sub, action, resource, outcome, details FROM audit_log WHERE action = 'phi.reidentify' ORDER BY id");
  return rows;
}

const reidentify = (path: string, token: string, json: unknown = { reason }) => stack.request(path, { token, json });

beforeAll(async () => {
  process.env.REIDENTIFY_MAX_PER_HOUR = String(maxPerHour);
  stack = await startTestStack({ queueHandlers: { export: false, notify: false } });
  const uploader = await stack.createUser({ groups: ['uploader'] });
  [researcher, annotator] = await Promise.all([stack.createUser({ groups: ['researcher'] }), stack.createUser({ groups: ['annotator', 'uploader'] })]);
  admin = await stack.signIn(testAdmin.email, testAdmin.password);
  adminSub = JSON.parse(Buffer.from(admin.idToken.split('.')[1] as string, 'base64url').toString()).sub as string;
  built = buildStudy({ n: 41, modality: 'CT', bodyPart: 'CHEST', instances: 2 });
  studyUid = (await ingestStudies(stack, uploader, [built])).studyUids[0] as string;
  patientId = (await stack.db.query<{ patient_id: string }>('SELECT patient_id FROM studies WHERE study_uid = $1', [studyUid])).rows[0]?.patient_id as string;
});

afterAll(async () => {
  await stack?.stop();
  process.env = savedEnv;
});

describe('who may re-identify', () => {
  it('the lake itself holds only pseudonyms', async () => {
    expect(studyUid).toMatch(/^2\.25\./);
    expect(patientId).not.toBe(built.original.patientId);
    const study = await stack.request(`/api/studies/${studyUid}`, { token: researcher.idToken });
    expect(study.text).not.toContain(built.original.patientId);
    expect(study.text).not.toContain('IDTPATIENT41');
  });

  it('researchers and annotators are refused (403), and their attempts are audited as denied', async () => {
    for (const user of [researcher, annotator]) {
      const res = await reidentify(`/api/studies/${studyUid}/reidentify`, user.idToken);
      expect(res.status).toBe(403);
      expect(res.text).not.toContain(built.original.patientId);
    }
    const rows = await auditRows();
    expect(rows.map((r) => [r.actor_sub, r.outcome, r.details.code])).toEqual([
      [researcher.username, 'denied', 'forbidden'],
      [annotator.username, 'denied', 'forbidden'],
    ]);
    expect(rows[0]?.details.request).toBe(`POST /api/studies/${studyUid}/reidentify`);
  });

  it('anonymous callers are refused (401)', async () => {
    expect((await stack.request(`/api/studies/${studyUid}/reidentify`, { json: { reason } })).status).toBe(401);
  });

  it('an admin must give a reason of at least 10 characters; each refusal is audited', async () => {
    for (const body of [{}, { reason: '' }, { reason: 'because   ' }, { reason: 42 }, { reason: 'x'.repeat(1001) }]) {
      const res = await reidentify(`/api/studies/${studyUid}/reidentify`, admin.idToken, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect((res.body as { error: { code: string } }).error.code).toBe('reason_required');
    }
    const refusals = (await auditRows()).filter((r) => r.actor_sub === adminSub);
    expect(refusals).toHaveLength(5);
    expect(refusals.every((r) => r.outcome === 'denied' && r.details.code === 'reason_required' && r.resource === `study/${studyUid}`)).toBe(true);
  });
});

describe('what an admin gets back', () => {
  it('the original identifiers of the study, its patient and its series, never cached', async () => {
    const res = await reidentify(`/api/studies/${studyUid}/reidentify`, admin.idToken);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toMatch(/no-store/);
    const body = res.body as {
      study: { studyInstanceUID: string; original: Record<string, unknown> };
      patient: { patientId: string; original: Record<string, unknown> };
      series: { seriesInstanceUID: string; original: Record<string, unknown> }[];
      reason: string;
    };
    expect(body.study.studyInstanceUID).toBe(studyUid);
    expect(body.study.original).toMatchObject({ studyUid: built.original.studyUid, accessionNumber: built.original.accessionNumber, institutionName: 'PLANTED GENERAL HOSPITAL', studyDate: '20210611' });
    expect(body.patient).toMatchObject({ patientId, original: { patientId: built.original.patientId, patientName: built.original.patientName, birthDate: built.original.birthDate, issuerOfPatientId: 'ISSUER-PLANT' } });
    expect(body.series).toHaveLength(1);
    expect(body.series[0]?.original).toMatchObject({ seriesUid: built.original.seriesUid });
    expect(body.reason).toBe(reason);
  });

  it('the call is audited with actor, study, reason and outcome; the audit row holds no identifier', async () => {
    const ok = (await auditRows()).filter((r) => r.outcome === 'ok');
    expect(ok).toEqual([{ actor_sub: adminSub, action: 'phi.reidentify', resource: `study/${studyUid}`, outcome: 'ok', details: { reason, found: { study: true, patient: true, series: 1 } } }]);
    expect(JSON.stringify(ok)).not.toContain(built.original.patientId);
    // Admins read it through the audit API like any other entry.
    const api = await stack.request(`/api/audit?action=phi.reidentify&resource=${encodeURIComponent(`study/${studyUid}`)}`, { token: admin.idToken });
    expect((api.body as { entries: { outcome: string }[] }).entries.map((e) => e.outcome)).toContain('ok');
  });

  it('a pseudonymous patient ID re-identifies the patient and lists their studies', async () => {
    const res = await reidentify(`/api/patients/${encodeURIComponent(patientId)}/reidentify`, admin.idToken);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ patient: { patientId, original: { patientId: built.original.patientId, patientName: built.original.patientName } }, studies: [{ studyInstanceUID: studyUid }] });
    expect((await auditRows()).at(-1)).toMatchObject({ resource: `patient/${patientId}`, outcome: 'ok', details: { reason, found: { patient: true, studies: 1 } } });
  });

  it('an unknown study is 404 and audited as failed', async () => {
    const res = await reidentify('/api/studies/2.25.123456789/reidentify', admin.idToken);
    expect(res.status).toBe(404);
    expect((await auditRows()).at(-1)).toMatchObject({ resource: 'study/2.25.123456789', outcome: 'failed', details: { reason, code: 'not_found' } });
  });

  it(`an admin re-identifies at most ${maxPerHour} times an hour (429 with Retry-After, audited)`, async () => {
    const used = (await auditRows()).filter((r) => r.actor_sub === adminSub && r.outcome !== 'denied').length;
    for (let i = used; i < maxPerHour; i++) expect((await reidentify(`/api/studies/${studyUid}/reidentify`, admin.idToken)).status).toBe(200);
    const limited = await reidentify(`/api/studies/${studyUid}/reidentify`, admin.idToken);
    expect(limited.status).toBe(429);
    expect((limited.body as { error: { code: string } }).error.code).toBe('rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.text).not.toContain(built.original.patientId);
    expect((await auditRows()).at(-1)).toMatchObject({ actor_sub: adminSub, outcome: 'denied', details: { code: 'rate_limited', limitPerHour: maxPerHour } });
  });

  it('concurrent calls cannot slip past the limit', async () => {
    const second = await stack.createUser({ groups: ['admin'] });
    const answers = await Promise.all(Array.from({ length: maxPerHour + 3 }, () => reidentify(`/api/studies/${studyUid}/reidentify`, second.idToken)));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(maxPerHour);
    expect(answers.filter((a) => a.status === 429)).toHaveLength(3);
  });
});
