/**
 * Audit coverage, walked on the real local stack: a user signs up (the code
 * arrives in the mail outbox), is approved, signs in, gets another role;
 * an uploader uploads real DICOM; users open the study through the study API
 * and through QIDO-RS, the viewer's WADO-RS reads its metadata and frames
 * (one line per principal, study and hour, not one per frame); a researcher
 * exports it; an administrator re-identifies it. Each of these must be in
 * audit_log, with the actor and the pseudonymous resource, and readable
 * through GET /api/audit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestStack, TestUser, Tokens } from './support/local-stack';
import { startTestStack, testAdmin } from './support/local-stack';
import type { BuiltStudy } from './subscriptions-fixtures';
import { buildStudy, ingestStudies } from './subscriptions-fixtures';

let stack: TestStack;
let admin: Tokens;
let uploader: TestUser;
let annotator: TestUser;
let built: BuiltStudy;
let studyUid: string;
let uploadId: string;
const newcomer = { email: 'audit.newcomer@hospital.test', password: 'Newcomer-pass-1!', username: '', tokens: undefined as Tokens | undefined };

interface Row {
  id: number;
  actor_sub: string | null;
  actor_name: string | null;
  action: string;
  resource: string | null;
  outcome: string;
  details: Record<string, unknown>;
}

async function rows(action: string): Promise<Row[]> {
  return (await stack.db.query<Row>('SELECT id, actor_sub, actor_name, action, resource, outcome, details FROM audit_log WHERE action = $1 ORDER BY id', [action])).rows;
}

const subOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()).sub as string;

beforeAll(async () => {
  stack = await startTestStack({ queueHandlers: { notify: false } });
  admin = await stack.signIn(testAdmin.email, testAdmin.password);
  [uploader, annotator] = await Promise.all([stack.createUser({ groups: ['uploader'] }), stack.createUser({ groups: ['annotator'] })]);
  built = buildStudy({ n: 71, modality: 'MR', bodyPart: 'HEAD', instances: 2 });
});

afterAll(async () => {
  await stack?.stop();
});

describe('accounts', () => {
  it('sign-up: the verification code arrives in the mail outbox; sign-up and confirmation are audited', async () => {
    expect((await stack.request('/api/auth/sign-up', { json: { email: newcomer.email, password: newcomer.password } })).status).toBe(201);
    const mail = await stack.waitForMail((m) => m.to.includes(newcomer.email) && /Verify/.test(m.subject));
    const code = /verification code is: (\S+)/.exec(mail.text)?.[1];
    expect(code).toBe(stack.confirmationCode);
    expect((await stack.request('/api/auth/confirm', { json: { email: newcomer.email, code } })).status).toBe(200);
    expect((await rows('account.sign-up')).map((r) => r.actor_name)).toEqual([newcomer.email]);
    expect((await rows('account.confirm')).map((r) => r.actor_name)).toEqual([newcomer.email]);
  });

  it('approval with a role is audited with before and after', async () => {
    const pending = (await stack.request('/api/users?state=pending', { token: admin.idToken })).body as { users: { username: string; email: string }[] };
    newcomer.username = pending.users.find((u) => u.email === newcomer.email)?.username as string;
    expect((await stack.request(`/api/users/${newcomer.username}/approve`, { token: admin.idToken, json: { groups: ['researcher'] } })).status).toBe(200);
    expect(await rows('users.approve')).toEqual([
      expect.objectContaining({ actor_sub: subOf(admin.idToken), resource: `user/${newcomer.username}`, outcome: 'ok', details: { before: [], after: ['researcher'] } }),
    ]);
  });

  it('sign-in is audited, ok and denied', async () => {
    expect((await stack.request('/api/session', { json: { email: newcomer.email, password: 'Wrong-pass-1!' } })).status).toBe(401);
    const ok = await stack.request('/api/session', { json: { email: newcomer.email, password: newcomer.password } });
    expect(ok.status).toBe(200);
    const signIns = (await rows('session.sign-in')).filter((r) => r.actor_name === newcomer.email);
    expect(signIns.map((r) => [r.outcome, r.details.reason ?? null])).toEqual([['denied', 'invalid_credentials'], ['ok', null]]);
    expect(signIns[1]?.actor_sub).toBe(newcomer.username);
    newcomer.tokens = await stack.signIn(newcomer.email, newcomer.password);
  });

  it('a role change is audited with before and after', async () => {
    expect((await stack.request(`/api/users/${newcomer.username}/groups`, { token: admin.idToken, method: 'PUT', json: { groups: ['researcher', 'annotator'] } })).status).toBe(200);
    expect(await rows('users.groups')).toEqual([
      expect.objectContaining({ actor_sub: subOf(admin.idToken), resource: `user/${newcomer.username}`, details: { before: ['researcher'], after: ['researcher', 'annotator'] } }),
    ]);
    // Tokens issued before the change carry the old groups: refused until the session is refreshed (or a new sign-in).
    expect((await stack.request('/api/me', { token: newcomer.tokens?.idToken as string })).status).toBe(401);
    newcomer.tokens = await stack.signIn(newcomer.email, newcomer.password);
  });
});

describe('patient data', () => {
  it('an upload is audited', async () => {
    const { status, studyUids } = await ingestStudies(stack, uploader, [built]);
    [studyUid = ''] = studyUids;
    uploadId = status.uploadId;
    expect((await rows('uploads.create')).map((r) => [r.actor_sub, r.resource])).toEqual([[uploader.username, `upload/${uploadId}`]]);
  });

  it('opening a study through the study API is audited once per principal, study and hour', async () => {
    const token = newcomer.tokens?.idToken as string;
    for (let i = 0; i < 3; i++) expect((await stack.request(`/api/studies/${studyUid}`, { token })).status).toBe(200);
    // A list is a search, not an open.
    expect((await stack.request('/api/studies?modality=MR', { token })).status).toBe(200);
    expect((await rows('study.open')).map((r) => [r.actor_sub, r.resource, r.details.via])).toEqual([[newcomer.username, `study/${studyUid}`, 'api']]);
  });

  it('QIDO-RS inside a study is an open; WADO-RS metadata too; frames are one retrieve line however many', async () => {
    const token = annotator.idToken;
    const series = await stack.request(`/dicomweb/studies/${studyUid}/series`, { token });
    expect(series.status).toBe(200);
    const { rows: instances } = await stack.db.query<{ series_uid: string; sop_uid: string }>('SELECT series_uid, sop_uid FROM instances WHERE study_uid = $1 ORDER BY sop_uid', [studyUid]);
    const seriesUid = instances[0]?.series_uid as string;
    expect((await stack.request(`/dicomweb/studies/${studyUid}/series/${seriesUid}/metadata`, { token })).status).toBe(200);
    for (const instance of instances) {
      for (let i = 0; i < 2; i++) {
        const frame = await stack.request(`/dicomweb/studies/${studyUid}/series/${seriesUid}/instances/${instance.sop_uid}/frames/1`, { token, headers: { accept: 'multipart/related; type="application/octet-stream"; transfer-syntax=*' } });
        expect(frame.status).toBe(200);
      }
    }
    const opens = (await rows('study.open')).filter((r) => r.actor_sub === annotator.username);
    expect(opens.map((r) => [r.resource, r.details.via, r.details.path])).toEqual([[`study/${studyUid}`, 'dicomweb', `/dicomweb/studies/${studyUid}/series`]]);
    const retrieves = (await rows('study.retrieve')).filter((r) => r.actor_sub === annotator.username);
    expect(retrieves.map((r) => [r.resource, r.details.path])).toEqual([[`study/${studyUid}`, `/dicomweb/studies/${studyUid}/series/${seriesUid}/instances/${instances[0]?.sop_uid}/frames`]]);
  });

  it('a whole-study WADO-RS retrieve by another user is their own retrieve line', async () => {
    const token = newcomer.tokens?.idToken as string;
    const res = await stack.request(`/dicomweb/studies/${studyUid}`, { token, headers: { accept: 'multipart/related; type="application/dicom"' } });
    expect(res.status).toBe(200);
    expect((await rows('study.retrieve')).filter((r) => r.actor_sub === newcomer.username).map((r) => r.resource)).toEqual([`study/${studyUid}`]);
  });

  it('an export is audited', async () => {
    const created = await stack.request('/api/exports', { token: newcomer.tokens?.idToken as string, json: { name: 'Audit walk', studies: [studyUid] } });
    expect(created.status).toBe(202);
    const exportId = (created.body as { exportId: string }).exportId;
    expect((await rows('exports.create')).map((r) => [r.actor_sub, r.resource, r.outcome])).toEqual([[newcomer.username, `export/${exportId}`, 'ok']]);
  });

  it('a re-identification is audited with its reason', async () => {
    const reason = 'Audit walk: honest-broker check for the test protocol.';
    const res = await stack.request(`/api/studies/${studyUid}/reidentify`, { token: admin.idToken, json: { reason } });
    expect(res.status).toBe(200);
    expect(await rows('phi.reidentify')).toEqual([expect.objectContaining({ actor_sub: subOf(admin.idToken), resource: `study/${studyUid}`, outcome: 'ok', details: expect.objectContaining({ reason }) })]);
  });

  it('no audit row holds an original identifier', async () => {
    const { rows: all } = await stack.db.query('SELECT * FROM audit_log');
    const text = JSON.stringify(all);
    for (const value of built.planted) expect(text, value).not.toContain(value);
  });
});

describe('the audit API', () => {
  it('admins find every walked action; nobody else may read the log', async () => {
    const all = (await stack.request('/api/audit?limit=1000', { token: admin.idToken })).body as { entries: { action: string; resource?: string }[] };
    const actions = new Set(all.entries.map((e) => e.action));
    for (const action of ['account.sign-up', 'account.confirm', 'users.approve', 'session.sign-in', 'users.groups', 'uploads.create', 'study.open', 'study.retrieve', 'exports.create', 'phi.reidentify']) {
      expect(actions, action).toContain(action);
    }
    const forStudy = (await stack.request(`/api/audit?resource=${encodeURIComponent(`study/${studyUid}`)}`, { token: admin.idToken })).body as { entries: { action: string }[] };
    expect(forStudy.entries.map((e) => e.action).sort()).toEqual(['phi.reidentify', 'study.open', 'study.open', 'study.retrieve', 'study.retrieve']);
    expect((await stack.request('/api/audit', { token: annotator.idToken })).status).toBe(403);
  });
});
