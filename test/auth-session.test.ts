/**
 * Identity end to end against real cognito-local and PostgreSQL, through the
 * local front door and the real /api handler: browser session with CSRF,
 * sign-up → confirm → pending → admin approval → acting, disabling, audit,
 * and the role × endpoint matrix again with real Cognito tokens.
 */
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { AdminAddUserToGroupCommand, AdminCreateUserCommand, AdminSetUserPasswordCommand, InitiateAuthCommand } from '@aws-sdk/client-cognito-identity-provider';
import { isAllowed, isPublic } from '@medlake/shared/access/matrix';
import type { Role } from '@medlake/shared/resources';
import { envNames, roles } from '@medlake/shared/resources';
import type { FrontDoor } from '@medlake/local/front-door';
import { startFrontDoor } from '@medlake/local/front-door';
import { routes } from '@medlake/functions/api/routes';
import { createHttpHandler } from '@medlake/functions/http/app';
import { json } from '@medlake/functions/http/response';
import type { HttpEvent } from '@medlake/functions/http/types';
import type { AuthStack } from './auth-stack';
import { confirmationCode, startAuthStack } from './auth-stack';

let stack: AuthStack;
let door: FrontDoor;
const savedEnv = { ...process.env };

beforeAll(async () => {
  stack = await startAuthStack();
  Object.assign(process.env, stack.env);
  door = await startFrontDoor({ port: 0 });
}, 120_000);

afterAll(async () => {
  await door?.close();
  await stack?.stop();
  process.env = savedEnv;
});

/** A browser: keeps cookies, sends the CSRF header when told to. */
class Browser {
  readonly jar = new Map<string, string>();
  lastSetCookies: string[] = [];

  async fetch(path: string, init: { method?: string; body?: unknown; csrf?: boolean } = {}): Promise<{ status: number; body: Record<string, unknown> & { error?: { code: string; message: string } } }> {
    const headers: Record<string, string> = {};
    if (this.jar.size) headers.cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    if (init.csrf) headers['x-csrf-token'] = this.jar.get('medlake_csrf') ?? '';
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${door.url}${path}`, { method: init.method ?? 'GET', headers, body: init.body === undefined ? undefined : JSON.stringify(init.body) });
    this.lastSetCookies = res.headers.getSetCookie();
    for (const cookie of this.lastSetCookies) {
      const [pair] = cookie.split(';');
      const [name, ...value] = (pair ?? '').split('=');
      if (!name) continue;
      if (/Max-Age=0/.test(cookie)) this.jar.delete(name);
      // medlake_refresh is scoped to /api/session: a browser sends it there only, which is all we call with it.
      else this.jar.set(name, value.join('='));
    }
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  }

  signIn(email: string, password: string) {
    return this.fetch('/api/session', { method: 'POST', body: { email, password } });
  }
}

async function auditActions(): Promise<{ action: string; outcome: string; actor_name: string | null; resource: string | null }[]> {
  const client = new pg.Client({ connectionString: stack.databaseUrl });
  await client.connect();
  const { rows } = await client.query('SELECT action, outcome, actor_name, resource FROM audit_log ORDER BY id');
  await client.end();
  return rows;
}

describe('browser session', () => {
  it('signing in sets HttpOnly SameSite=Strict session cookies and a readable CSRF cookie', async () => {
    const browser = new Browser();
    const res = await browser.signIn(stack.admin.email, stack.admin.password);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ email: stack.admin.email, groups: ['admin'], state: 'active' });
    const session = browser.lastSetCookies.find((c) => c.startsWith('medlake_session='));
    const csrf = browser.lastSetCookies.find((c) => c.startsWith('medlake_csrf='));
    const refresh = browser.lastSetCookies.find((c) => c.startsWith('medlake_refresh='));
    expect(session).toMatch(/HttpOnly/);
    expect(session).toMatch(/SameSite=Strict/);
    expect(session).not.toMatch(/Secure/); // plain http on localhost only
    expect(csrf).not.toMatch(/HttpOnly/);
    expect(refresh).toMatch(/Path=\/api\/session;.*HttpOnly/);
    expect(JSON.stringify(res.body)).not.toContain(browser.jar.get('medlake_session'));
    expect((await browser.fetch('/api/me')).body).toMatchObject({ email: stack.admin.email, state: 'active', roles: ['admin'] });
  });

  it('a wrong password is 401 invalid_credentials and is audited as denied', async () => {
    const res = await new Browser().signIn(stack.admin.email, 'wrong-Password-1');
    expect(res.status).toBe(401);
    expect(res.body.error?.code).toBe('invalid_credentials');
    expect(await auditActions()).toContainEqual(expect.objectContaining({ action: 'session.sign-in', outcome: 'denied', actor_name: stack.admin.email }));
  });

  it('refresh needs the CSRF header and renews the session; sign-out clears it', async () => {
    const browser = new Browser();
    await browser.signIn(stack.admin.email, stack.admin.password);
    expect((await browser.fetch('/api/session/refresh', { method: 'POST' })).body.error?.code).toBe('csrf_failed');
    const refreshed = await browser.fetch('/api/session/refresh', { method: 'POST', csrf: true });
    expect(refreshed.status).toBe(200);
    expect(browser.lastSetCookies.some((c) => c.startsWith('medlake_session='))).toBe(true);
    expect((await browser.fetch('/api/session', { method: 'DELETE' })).body.error?.code).toBe('csrf_failed');
    const out = await browser.fetch('/api/session', { method: 'DELETE', csrf: true });
    expect(out.status).toBe(204);
    expect(browser.jar.size).toBe(0);
    expect((await browser.fetch('/api/me')).status).toBe(401);
  });
});

describe('sign-up to approval', () => {
  const email = 'new.researcher@hospital.test';
  const password = 'Research-pass-1!';
  const user = new Browser();
  const admin = new Browser();

  it('signs up, cannot sign in before confirming, confirms with the emailed code', async () => {
    const signedUp = await user.fetch('/api/auth/sign-up', { method: 'POST', body: { email, password } });
    expect(signedUp.status).toBe(201);
    expect(signedUp.body.state).toBe('unconfirmed');
    expect((await user.fetch('/api/auth/sign-up', { method: 'POST', body: { email, password } })).body.error?.code).toBe('account_exists');
    expect((await user.signIn(email, password)).body.error?.code).toBe('email_not_verified');
    expect((await user.fetch('/api/auth/confirm', { method: 'POST', body: { email, code: '000000' } })).body.error?.code).toBe('invalid_code');
    expect((await user.fetch('/api/auth/confirm', { method: 'POST', body: { email, code: confirmationCode } })).status).toBe(200);
  });

  it('resending a code is answered honestly where the service cannot', async () => {
    const res = await user.fetch('/api/auth/resend-code', { method: 'POST', body: { email } });
    expect([202, 501]).toContain(res.status);
    if (res.status === 501) expect(res.body.error?.code).toBe('resend_unavailable');
  });

  it('a confirmed user is pending: /api/me only', async () => {
    const res = await user.signIn(email, password);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ state: 'pending', groups: [] });
    expect((await user.fetch('/api/me')).body).toMatchObject({ email, state: 'pending', refreshRequired: false });
    expect((await user.fetch('/api/users')).body.error?.code).toBe('pending_approval');
  });

  it('an admin sees the pending sign-up and approves it (CSRF required)', async () => {
    await admin.signIn(stack.admin.email, stack.admin.password);
    const pending = await admin.fetch('/api/users?state=pending');
    expect(pending.status).toBe(200);
    const listed = (pending.body.users as { email: string; username: string; state: string; emailVerified: boolean }[]).find((u) => u.email === email);
    expect(listed).toMatchObject({ state: 'pending', emailVerified: true });
    const path = `/api/users/${encodeURIComponent(listed?.username ?? '')}/approve`;
    expect((await admin.fetch(path, { method: 'POST', body: { groups: ['researcher'] } })).body.error?.code).toBe('csrf_failed');
    expect((await admin.fetch(path, { method: 'POST', body: { groups: [] }, csrf: true })).status).toBe(400);
    const approved = await admin.fetch(path, { method: 'POST', body: { groups: ['researcher'] }, csrf: true });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ email, groups: ['researcher'], state: 'active' });
    expect(await auditActions()).toContainEqual(expect.objectContaining({ action: 'users.approve', actor_name: stack.admin.email, resource: `user/${listed?.username}` }));
  });

  it('the approved user refreshes into their role, and is still no admin', async () => {
    // The approval is recorded: the pending token is stale (the web app refreshes on any 401).
    expect((await user.fetch('/api/me')).body.error?.code).toBe('token_stale');
    expect((await user.fetch('/api/session/refresh', { method: 'POST', csrf: true })).status).toBe(200);
    expect((await user.fetch('/api/me')).body).toMatchObject({ state: 'active', roles: ['researcher'] });
    expect((await user.fetch('/api/users')).body.error?.code).toBe('forbidden');
  });

  it('a disabled user cannot sign in (even on cognito-local) until enabled again', async () => {
    const users = (await admin.fetch('/api/users')).body.users as { email: string; username: string }[];
    const username = encodeURIComponent(users.find((u) => u.email === email)?.username ?? '');
    expect((await admin.fetch(`/api/users/${username}/disable`, { method: 'POST', csrf: true })).body).toMatchObject({ state: 'disabled' });
    const refused = await new Browser().signIn(email, password);
    expect(refused.status).toBe(403);
    expect(refused.body.error?.code).toBe('account_disabled');
    expect((await user.fetch('/api/session/refresh', { method: 'POST', csrf: true })).body.error?.code).toBe('account_disabled');
    expect((await admin.fetch(`/api/users/${username}/enable`, { method: 'POST', csrf: true })).body).toMatchObject({ state: 'active' });
    expect((await new Browser().signIn(email, password)).status).toBe(200);
  });

  it('an admin cannot disable or demote themself', async () => {
    const me = (await admin.fetch('/api/me')).body as { username: string };
    expect((await admin.fetch(`/api/users/${me.username}/disable`, { method: 'POST', csrf: true })).body.error?.code).toBe('cannot_disable_self');
    expect((await admin.fetch(`/api/users/${me.username}/groups`, { method: 'PUT', body: { groups: ['researcher'] }, csrf: true })).body.error?.code).toBe('cannot_demote_self');
  });

  it('changing groups is audited with before and after', async () => {
    const users = (await admin.fetch('/api/users')).body.users as { email: string; username: string }[];
    const username = users.find((u) => u.email === email)?.username ?? '';
    const res = await admin.fetch(`/api/users/${encodeURIComponent(username)}/groups`, { method: 'PUT', body: { groups: ['researcher', 'annotator'] }, csrf: true });
    expect(res.body).toMatchObject({ groups: ['annotator', 'researcher'] });
    expect(await auditActions()).toContainEqual(expect.objectContaining({ action: 'users.groups', resource: `user/${username}` }));
  });
});

describe('password reset', () => {
  it('forgot-password then reset-password with the code lets the user sign in with the new password', async () => {
    const email = 'forgetful@hospital.test';
    const browser = new Browser();
    await browser.fetch('/api/auth/sign-up', { method: 'POST', body: { email, password: 'First-pass-1!' } });
    await browser.fetch('/api/auth/confirm', { method: 'POST', body: { email, code: confirmationCode } });
    expect((await browser.fetch('/api/auth/forgot-password', { method: 'POST', body: { email } })).status).toBe(202);
    expect((await browser.fetch('/api/auth/forgot-password', { method: 'POST', body: { email: 'nobody@hospital.test' } })).status).toBe(202);
    expect((await browser.fetch('/api/auth/reset-password', { method: 'POST', body: { email, code: confirmationCode, password: 'Second-pass-2!' } })).status).toBe(200);
    expect((await browser.signIn(email, 'Second-pass-2!')).status).toBe(200);
  });
});

describe('health', () => {
  it('reports db, s3, sqs and cognito ok with latencies', async () => {
    const res = await new Browser().fetch('/api/health');
    const components = res.body.components as Record<string, { state: string; latencyMs: number }>;
    for (const name of ['db', 's3', 'sqs', 'cognito']) expect(components[name]).toMatchObject({ state: 'ok', latencyMs: expect.any(Number) });
    expect(res.status).toBe(200);
  });
});

describe('role × endpoint matrix with real Cognito tokens', () => {
  const handler = createHttpHandler({ serviceName: 'matrix-real', routes: routes.map((r) => ({ method: r.method, path: r.path, action: r.action, handle: () => json(200, {}) })) });
  const context = { getRemainingTimeInMillis: () => 30_000 } as unknown as Context;
  const personas: { name: string; groups: Role[]; client: 'web' | 'gateway' }[] = [
    { name: 'pending', groups: [], client: 'web' },
    ...roles.map((role) => ({ name: role, groups: [role], client: 'web' as const })),
    { name: 'gateway', groups: [...roles], client: 'gateway' },
  ];
  const tokens = new Map<string, { id: string; access: string }>();

  beforeAll(async () => {
    for (const persona of personas) {
      const email = `matrix-${persona.name}@hospital.test`;
      const password = 'Matrix-pass-1!';
      const poolId = stack.env[envNames.userPoolId] as string;
      const created = await stack.cognito.send(new AdminCreateUserCommand({ UserPoolId: poolId, Username: email, UserAttributes: [{ Name: 'email', Value: email }], MessageAction: 'SUPPRESS' }));
      const username = created.User?.Username as string;
      await stack.cognito.send(new AdminSetUserPasswordCommand({ UserPoolId: poolId, Username: username, Password: password, Permanent: true }));
      for (const group of persona.groups) await stack.cognito.send(new AdminAddUserToGroupCommand({ UserPoolId: poolId, Username: username, GroupName: group }));
      const clientId = stack.env[persona.client === 'web' ? envNames.webClientId : envNames.gatewayClientId] as string;
      const auth = await stack.cognito.send(new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: clientId, AuthParameters: { USERNAME: email, PASSWORD: password } }));
      tokens.set(persona.name, { id: auth.AuthenticationResult?.IdToken as string, access: auth.AuthenticationResult?.AccessToken as string });
    }
  });

  const cases = routes.flatMap((route) => personas.flatMap((persona) => (['id', 'access'] as const).map((use) => [`${route.method} ${route.path}`, persona.name, use, route, persona] as const)));

  it.each(cases)('%s as %s (%s token)', async (_label, _name, use, route, persona) => {
    const token = tokens.get(persona.name)?.[use] as string;
    const path = route.path.replace(/\{[^}]+\}/g, 'someone');
    const event = {
      version: '2.0', routeKey: '$default', rawPath: path, rawQueryString: '', headers: { authorization: `Bearer ${token}` }, isBase64Encoded: false,
      requestContext: { requestId: 'r', domainName: 'localhost', http: { method: route.method, path, sourceIp: '127.0.0.1', userAgent: 't', protocol: 'HTTP/1.1' } },
    } as unknown as HttpEvent;
    const result = await handler(event, context);
    const allowed = isPublic(route.action) || isAllowed({ groups: persona.groups, isMachine: persona.client === 'gateway' }, route.action);
    expect(result.statusCode).toBe(allowed ? 200 : 403);
  });
});

describe('hospital gateway (machine client)', () => {
  it('gets Bearer tokens from /api/auth/token and acts as uploader only, whatever its groups', async () => {
    const poolId = stack.env[envNames.userPoolId] as string;
    const email = 'gateway@hospital.test';
    const password = 'Gateway-pass-1!';
    const created = await stack.cognito.send(new AdminCreateUserCommand({ UserPoolId: poolId, Username: email, UserAttributes: [{ Name: 'email', Value: email }], MessageAction: 'SUPPRESS' }));
    const username = created.User?.Username as string;
    await stack.cognito.send(new AdminSetUserPasswordCommand({ UserPoolId: poolId, Username: username, Password: password, Permanent: true }));
    for (const group of ['uploader', 'admin']) await stack.cognito.send(new AdminAddUserToGroupCommand({ UserPoolId: poolId, Username: username, GroupName: group }));

    const wrong = await fetch(`${door.url}/api/auth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: email, password: 'nope' }) });
    expect(wrong.status).toBe(401);
    const res = await fetch(`${door.url}/api/auth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: email, password }) });
    expect(res.status).toBe(200);
    expect(res.headers.getSetCookie()).toEqual([]);
    const { accessToken, tokenType } = (await res.json()) as { accessToken: string; tokenType: string };
    expect(tokenType).toBe('Bearer');
    const me = await fetch(`${door.url}/api/me`, { headers: { authorization: `Bearer ${accessToken}` } });
    expect(await me.json()).toMatchObject({ isMachine: true, roles: ['uploader'], state: 'active' });
    const users = await fetch(`${door.url}/api/users`, { headers: { authorization: `Bearer ${accessToken}` } });
    expect(users.status).toBe(403);
    expect(((await users.json()) as { error: { code: string } }).error.code).toBe('machine_client_not_allowed');
  });
});

describe('audit log query', () => {
  it('admins page through entries filtered by action; others are refused', async () => {
    const admin = new Browser();
    await admin.signIn(stack.admin.email, stack.admin.password);
    const all = await admin.fetch('/api/audit?action=session.sign-in&limit=2');
    expect(all.status).toBe(200);
    const entries = all.body.entries as { id: number; action: string; sourceIp: string }[];
    expect(entries).toHaveLength(2);
    expect(entries.every((e) => e.action === 'session.sign-in' && e.sourceIp === '127.0.0.1')).toBe(true);
    expect(entries[0]?.id).toBeGreaterThan(entries[1]?.id ?? Infinity);
    const next = await admin.fetch(all.body.next as string);
    expect((next.body.entries as { id: number }[])[0]?.id).toBeLessThan(entries[1]?.id ?? 0);
    expect((await admin.fetch('/api/audit?since=yesterday')).status).toBe(400);
    const researcher = new Browser();
    await researcher.signIn('new.researcher@hospital.test', 'Research-pass-1!');
    expect((await researcher.fetch('/api/audit')).status).toBe(403);
  });
});
