/**
 * An administrator's change to an account reaches tokens already issued, on
 * the real local stack (cognito-local tokens, PostgreSQL, the front door and
 * the real /api and /dicomweb handlers): a disabled user's token is refused
 * at once; a token issued before a change of groups answers 401
 * `token_stale`, and the session refresh brings a token with the new groups.
 * Each container caches the account rows for a few seconds: another
 * container sees a change when its entry expires.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountChanges } from '@medlake/functions/auth/account-changes';
import type { TestStack, TestUser } from './support/local-stack';
import { startTestStack } from './support/local-stack';

let stack: TestStack;
let admin: TestUser;

/** A browser session through the front door: cookies kept, the CSRF header sent on refresh. */
class Session {
  private readonly jar = new Map<string, string>();

  async fetch(path: string, init: { method?: string; json?: unknown; csrf?: boolean } = {}): Promise<{ status: number; body: { error?: { code: string }; roles?: string[]; groups?: string[]; state?: string } }> {
    const headers: Record<string, string> = {};
    if (this.jar.size) headers.cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    if (init.csrf) headers['x-csrf-token'] = this.jar.get('medlake_csrf') ?? '';
    if (init.json !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${stack.url}${path}`, { method: init.method ?? 'GET', headers, body: init.json === undefined ? undefined : JSON.stringify(init.json) });
    for (const cookie of res.headers.getSetCookie()) {
      const [name, ...value] = (cookie.split(';')[0] ?? '').split('=');
      if (name) this.jar.set(name, value.join('='));
    }
    const text = await res.text();
    return { status: res.status, body: text.startsWith('{') || text.startsWith('[') ? JSON.parse(text) : {} };
  }

  static async of(user: TestUser): Promise<Session> {
    const session = new Session();
    const res = await session.fetch('/api/session', { method: 'POST', json: { email: user.email, password: user.password } });
    if (res.status !== 200) throw new Error(`sign-in failed: ${res.status}`);
    return session;
  }
}

async function code(path: string, token: string): Promise<string> {
  const res = await stack.request(path, { token });
  return res.status === 200 ? '200' : `${res.status} ${(res.body as { error?: { code: string } }).error?.code ?? ''}`.trim();
}

beforeAll(async () => {
  stack = await startTestStack({ queueHandlers: { ingest: false, export: false, notify: false } });
  admin = await stack.createUser({ groups: ['admin'] });
});

afterAll(async () => {
  await stack?.stop();
});

describe('account changes reach issued tokens', () => {
  it('a disabled user\'s token is refused at once, on /api and /dicomweb, and the session cannot be refreshed', async () => {
    const user = await stack.createUser({ groups: ['researcher'] });
    const session = await Session.of(user);
    expect(await code('/api/studies', user.idToken)).toBe('200');
    expect(await code('/dicomweb/studies', user.accessToken)).toMatch(/^20[04]$/);
    expect((await session.fetch('/api/me')).status).toBe(200);

    const disabled = await stack.request(`/api/users/${user.username}/disable`, { token: admin.idToken, json: {} });
    expect(disabled.status, disabled.text).toBe(200);
    expect(await code('/api/studies', user.idToken)).toBe('401 account_disabled');
    expect(await code('/api/me', user.accessToken)).toBe('401 account_disabled');
    expect(await code('/dicomweb/studies', user.idToken)).toBe('401 account_disabled');
    expect((await session.fetch('/api/me')).body.error?.code).toBe('account_disabled');
    expect((await session.fetch('/api/session/refresh', { method: 'POST', csrf: true })).body.error?.code).toBe('account_disabled');

    // Enabled again: a new sign-in works (the old tokens were issued before the disable, with the groups it has).
    expect((await stack.request(`/api/users/${user.username}/enable`, { token: admin.idToken, json: {} })).status).toBe(200);
    const again = await stack.signIn(user.email, user.password);
    expect(await code('/api/studies', again.idToken)).toBe('200');
  });

  it('a demoted user\'s old token answers 401 token_stale; the refreshed token has the new groups', async () => {
    const user = await stack.createUser({ groups: ['researcher', 'annotator'] });
    const session = await Session.of(user);
    expect((await session.fetch('/api/exports')).status).toBe(200);

    const changed = await stack.request(`/api/users/${user.username}/groups`, { method: 'PUT', token: admin.idToken, json: { groups: ['annotator'] } });
    expect(changed.status, changed.text).toBe(200);
    expect(await code('/api/exports', user.idToken)).toBe('401 token_stale');
    expect(await code('/api/studies', user.accessToken)).toBe('401 token_stale');
    expect((await session.fetch('/api/exports')).body.error?.code).toBe('token_stale');

    // What the web app does on a 401: refresh, then retry.
    const refreshed = await session.fetch('/api/session/refresh', { method: 'POST', csrf: true });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body).toMatchObject({ groups: ['annotator'], roles: ['annotator'], state: 'active' });
    expect((await session.fetch('/api/me')).body).toMatchObject({ roles: ['annotator'] });
    expect((await session.fetch('/api/exports')).body.error?.code).toBe('forbidden');
    expect((await session.fetch('/api/studies')).status).toBe(200);
    // A new sign-in has the new groups too, and is not stale.
    const fresh = await stack.signIn(user.email, user.password);
    expect(await code('/api/studies', fresh.idToken)).toBe('200');
  });

  it('a pending user\'s token answers token_stale once approved, and the refresh makes the account active', async () => {
    const user = await stack.createUser({ groups: [] });
    const session = await Session.of(user);
    expect((await session.fetch('/api/me')).body).toMatchObject({ state: 'pending' });
    expect((await stack.request(`/api/users/${user.username}/approve`, { token: admin.idToken, json: { groups: ['uploader'] } })).status).toBe(200);
    expect((await session.fetch('/api/me')).body.error?.code).toBe('token_stale');
    expect((await session.fetch('/api/session/refresh', { method: 'POST', csrf: true })).body).toMatchObject({ state: 'active', roles: ['uploader'] });
    expect((await session.fetch('/api/uploads')).status).toBe(200);
  });

  it('is recorded in account_changes, one row per account', async () => {
    const user = await stack.createUser({ groups: ['researcher'] });
    expect((await stack.db.query('SELECT 1 FROM account_changes WHERE sub = $1', [user.username])).rowCount).toBe(0);
    await stack.request(`/api/users/${user.username}/groups`, { method: 'PUT', token: admin.idToken, json: { groups: ['annotator', 'researcher'] } });
    await stack.request(`/api/users/${user.username}/disable`, { token: admin.idToken, json: {} });
    const { rows } = await stack.db.query('SELECT disabled, groups FROM account_changes WHERE sub = $1', [user.username]);
    expect(rows).toEqual([{ disabled: true, groups: ['annotator', 'researcher'] }]);
  });

  it('another container sees a change when its cached entry expires (a few seconds), with one query per miss', async () => {
    let now = 1_000_000;
    let queries = 0;
    const counting = { query: (text: string, values?: unknown[]) => { queries++; return stack.db.query(text, values); } };
    const writer = new AccountChanges(stack.db);
    const reader = new AccountChanges(counting as never, { ttlMs: 5_000, clock: () => now });
    const user = await stack.createUser({ groups: ['researcher'] });
    expect(await reader.latest(user.username)).toBeNull();
    await Promise.all([reader.latest(user.username), reader.latest(user.username)]);
    expect(queries).toBe(1);
    await writer.recordDisabled(user.username, true);
    now += 4_000;
    expect(await reader.latest(user.username)).toBeNull();
    now += 1_001;
    expect(await reader.latest(user.username)).toMatchObject({ disabled: true });
    expect(queries).toBe(2);
  });
});
