/**
 * The role × endpoint matrix, exhaustively: every route of the HTTP registries
 * × every persona × every way a token can arrive or be wrong, through the
 * real HTTP pipeline (routing, authentication, the access matrix, CSRF).
 * Route bodies are replaced by a stub so only the access layer answers; the
 * tokens come from a local issuer with its own JWKS (expired, tampered,
 * wrong-audience and foreign-key variants are impossible to get from Cognito).
 * Accounts are checked against a real PostgreSQL (account_changes: disabled,
 * groups changed since the token). test/auth-session.test.ts repeats the
 * valid cases with real cognito-local tokens.
 */
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Action } from '@medlake/shared/access/matrix';
import { isAllowed, isPublic } from '@medlake/shared/access/matrix';
import type { Role } from '@medlake/shared/resources';
import { roles } from '@medlake/shared/resources';
import { readFileSync } from 'node:fs';
import { AccountChanges } from '@medlake/functions/auth/account-changes';
import { accessDocsPath, allRoutes, renderAccessDocs } from '@medlake/functions/auth/access-docs';
import { createHttpHandler } from '@medlake/functions/http/app';
import { json } from '@medlake/functions/http/response';
import type { Route } from '@medlake/functions/http/router';
import type { HttpEvent, HttpResult } from '@medlake/functions/http/types';
import type { TestIssuer, TokenOptions } from './auth-issuer';
import { startTestIssuer, tamper, testClients } from './auth-issuer';
import type { TestDatabase } from './support/test-database';
import { startTestDatabase } from './support/test-database';

interface Persona {
  name: string;
  groups: Role[];
  machine: boolean;
}

const personas: Persona[] = [
  { name: 'pending', groups: [], machine: false },
  ...roles.map((role) => ({ name: role, groups: [role], machine: false })),
  { name: 'gateway (uploader)', groups: ['uploader'], machine: true },
  { name: 'gateway (every group)', groups: [...roles], machine: true },
  { name: 'gateway (no group)', groups: [], machine: true },
];

type Delivery = 'bearer id' | 'bearer access' | 'authorizer' | 'cookie';
const deliveries: Delivery[] = ['bearer id', 'bearer access', 'authorizer', 'cookie'];
type Broken = 'expired' | 'tampered' | 'wrong audience' | 'foreign key' | 'wrong issuer' | 'garbage';
const broken: Broken[] = ['expired', 'tampered', 'wrong audience', 'foreign key', 'wrong issuer', 'garbage'];

let issuer: TestIssuer;
let handler: (event: HttpEvent, context: Context) => Promise<HttpResult>;
let database: TestDatabase;
const savedEnv = { ...process.env };

const routes = await allRoutes();
const stubbed: Route[] = routes.map((r) => ({ method: r.method, path: r.path, action: r.action, handle: (req) => json(200, { ok: true, sub: req.principal?.sub ?? null }) }));

beforeAll(async () => {
  [issuer, database] = await Promise.all([startTestIssuer(), startTestDatabase()]);
  Object.assign(process.env, issuer.env, { POWERTOOLS_LOG_LEVEL: 'SILENT', DATABASE_URL: database.databaseUrl });
  handler = createHttpHandler({ serviceName: 'matrix-test', routes: stubbed });
});

afterAll(async () => {
  process.env = savedEnv;
  await Promise.all([issuer?.close(), database?.stop()]);
});

const context = { getRemainingTimeInMillis: () => 30_000, functionName: 'test', awsRequestId: 'req' } as unknown as Context;

/** A concrete path for a pattern: `{username}` → `someone`. */
const concrete = (pattern: string) => pattern.replace(/\{[^}]+\}/g, 'someone');

function event(route: Route, extra: { headers?: Record<string, string>; cookies?: string[]; claims?: Record<string, string> } = {}): HttpEvent {
  const path = concrete(route.path);
  return {
    version: '2.0',
    routeKey: 'ANY /api/{proxy+}',
    rawPath: path,
    rawQueryString: '',
    headers: { host: 'medlake.example.org', 'x-forwarded-proto': 'https', ...extra.headers },
    ...(extra.cookies ? { cookies: extra.cookies } : {}),
    requestContext: {
      accountId: 'test', apiId: 'test', domainName: 'medlake.example.org', domainPrefix: 'medlake', requestId: 'r-1', routeKey: 'ANY /api/{proxy+}', stage: '$default', time: '', timeEpoch: 0,
      http: { method: route.method, path, protocol: 'HTTP/1.1', sourceIp: '10.0.0.1', userAgent: 'test' },
      ...(extra.claims ? { authorizer: { jwt: { claims: extra.claims, scopes: null } } } : {}),
    },
    isBase64Encoded: false,
  } as HttpEvent;
}

function tokenOptions(persona: Persona, tokenUse: 'id' | 'access'): TokenOptions {
  return { sub: `sub-${persona.name}`, groups: persona.groups, tokenUse, clientId: persona.machine ? testClients.gateway : testClients.web };
}

/** API Gateway's authorizer context: every claim a string, arrays as "[a b]". */
function authorizerForm(claims: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(claims).map(([k, v]) => [k, Array.isArray(v) ? `[${v.join(' ')}]` : String(v)]));
}

async function call(route: Route, persona: Persona, delivery: Delivery): Promise<HttpResult> {
  if (delivery === 'authorizer') {
    const token = await issuer.sign(tokenOptions(persona, 'access'));
    const claims = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as Record<string, unknown>;
    return handler(event(route, { claims: authorizerForm(claims) }), context);
  }
  if (delivery === 'cookie') {
    const token = await issuer.sign(tokenOptions(persona, 'id'));
    return handler(event(route, { cookies: [`medlake_session=${token}`, 'medlake_csrf=c5rf'], headers: { 'x-csrf-token': 'c5rf' } }), context);
  }
  const token = await issuer.sign(tokenOptions(persona, delivery === 'bearer id' ? 'id' : 'access'));
  return handler(event(route, { headers: { authorization: `Bearer ${token}` } }), context);
}

async function brokenToken(kind: Broken): Promise<string> {
  const base: TokenOptions = { sub: 'sub-broken', groups: ['admin'] };
  switch (kind) {
    case 'expired': return issuer.sign({ ...base, expiresInSeconds: -3600 });
    case 'tampered': return tamper(await issuer.sign({ ...base, groups: [] }));
    case 'wrong audience': return issuer.sign({ ...base, clientId: 'some-other-app' });
    case 'foreign key': return issuer.signWithForeignKey(base);
    case 'wrong issuer': return issuer.sign({ ...base, issuer: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_other' });
    case 'garbage': return 'not-a-jwt';
  }
}

const expected = (action: Action, persona: Persona) => (isAllowed({ groups: persona.groups, isMachine: persona.machine }, action) ? 200 : 403);
const label = (r: Route) => `${r.method} ${r.path} [${r.action}]`;

describe.each(stubbed.map((r) => [label(r), r] as const))('%s', (_label, route) => {
  it('anonymous: 2xx when public, else 401', async () => {
    const result = await handler(event(route), context);
    expect(result.statusCode).toBe(isPublic(route.action) ? 200 : 401);
  });

  it.each(personas.flatMap((p) => deliveries.map((d) => [p.name, d, p] as const)))('%s via %s gets what the matrix says', async (_name, delivery, persona) => {
    const result = await call(route, persona, delivery);
    expect({ status: result.statusCode, body: result.statusCode === 200 ? undefined : JSON.parse(result.body ?? '{}').error?.code }).toMatchObject({ status: expected(route.action, persona) });
  });

  it.each(broken)('%s token: 401 unless public (then ignored)', async (kind) => {
    const token = await brokenToken(kind);
    const viaHeader = await handler(event(route, { headers: { authorization: `Bearer ${token}` } }), context);
    const viaCookie = await handler(event(route, { cookies: [`medlake_session=${token}`, 'medlake_csrf=x'], headers: { 'x-csrf-token': 'x' } }), context);
    for (const result of [viaHeader, viaCookie]) {
      expect(result.statusCode).toBe(isPublic(route.action) ? 200 : 401);
      if (!isPublic(route.action)) expect(JSON.parse(result.body ?? '{}').error.code).toBe(kind === 'expired' ? 'token_expired' : 'invalid_token');
    }
  });

  if (!isPublic(route.action) && route.method !== 'GET') {
    it('cookie session without a matching X-CSRF-Token: 403 csrf_failed', async () => {
      const token = await issuer.sign({ sub: 'admin-sub', groups: [...roles] });
      for (const headers of [{}, { 'x-csrf-token': 'other' }] as Record<string, string>[]) {
        const result = await handler(event(route, { cookies: [`medlake_session=${token}`, 'medlake_csrf=c5rf'], headers }), context);
        expect(result.statusCode).toBe(403);
        expect(JSON.parse(result.body ?? '{}').error.code).toBe('csrf_failed');
      }
    });

    it('Bearer requests need no CSRF token', async () => {
      const token = await issuer.sign({ sub: 'admin-sub', groups: [...roles] });
      const result = await handler(event(route, { headers: { authorization: `Bearer ${token}` } }), context);
      expect(result.statusCode).toBe(200);
    });
  }
});

describe('accounts changed since the token was issued', () => {
  const accounts = () => new AccountChanges(database.pool);
  const bearer = async (route: Route, sub: string, groups: Role[]) => handler(event(route, { headers: { authorization: `Bearer ${await issuer.sign({ sub, groups })}` } }), context);

  it('a disabled account: 401 account_disabled on every route that needs a caller, nobody on public ones', async () => {
    await accounts().recordDisabled('sub-disabled', true);
    for (const route of stubbed) {
      const result = await bearer(route, 'sub-disabled', [...roles]);
      if (isPublic(route.action)) {
        expect(result.statusCode, label(route)).toBe(200);
        expect(JSON.parse(result.body ?? '{}').sub, label(route)).toBeNull();
      } else {
        expect({ route: label(route), status: result.statusCode, code: JSON.parse(result.body ?? '{}').error?.code }).toEqual({ route: label(route), status: 401, code: 'account_disabled' });
      }
    }
  });

  it('other groups since the token: 401 token_stale, and a token with the groups of the change passes', async () => {
    const route = stubbed.find((r) => r.action === 'studies:read') as Route;
    await accounts().recordGroups('sub-demoted', ['annotator']);
    const stale = await bearer(route, 'sub-demoted', ['researcher', 'annotator']);
    expect([stale.statusCode, JSON.parse(stale.body ?? '{}').error?.code]).toEqual([401, 'token_stale']);
    expect((await bearer(route, 'sub-demoted', ['annotator'])).statusCode).toBe(200);
  });
});

describe('the written-down matrix', () => {
  it('docs/access-matrix.md is rendered from the code (run functions/src/auth/render-access-docs.ts)', async () => {
    expect(readFileSync(accessDocsPath, 'utf8')).toBe(await renderAccessDocs());
  });
});

describe('error answers', () => {
  it('say why: pending, machine client, role', async () => {
    const usersRoute = stubbed.find((r) => r.action === 'users:read') as Route;
    const codes: Record<string, string> = {};
    for (const [name, persona] of [['pending', personas[0]], ['gateway', personas.find((p) => p.name === 'gateway (every group)')], ['researcher', personas.find((p) => p.name === 'researcher')]] as const) {
      const result = await call(usersRoute, persona as Persona, 'bearer id');
      const body = JSON.parse(result.body ?? '{}') as { error: { code: string; message: string; correlationId: string } };
      expect(body.error.correlationId).toBe('r-1');
      expect(body.error.message.length).toBeGreaterThan(10);
      codes[name] = body.error.code;
    }
    expect(codes).toEqual({ pending: 'pending_approval', gateway: 'machine_client_not_allowed', researcher: 'forbidden' });
  });
});
