/**
 * The local front door: static SPA and viewer, API Gateway v2 events built
 * exactly, the JWT-authorizer check, Lambda's payload limit, binary bodies
 * both ways. An echo handler stands in for /api so the event can be inspected;
 * the real /api handler is exercised through /api/me (with a real PostgreSQL:
 * every token's account is checked there).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FrontDoor } from '@medlake/local/front-door';
import { startFrontDoor } from '@medlake/local/front-door';
import type { TestIssuer } from './auth-issuer';
import { startTestIssuer, tamper, testClients } from './auth-issuer';
import type { TestDatabase } from './support/test-database';
import { startTestDatabase } from './support/test-database';

let issuer: TestIssuer;
let database: TestDatabase;
let echoDoor: FrontDoor;
let realDoor: FrontDoor;
let dir: string;
const savedEnv = { ...process.env };

const echoHandler = `
export const handler = async (event) => {
  if (event.rawPath === '/api/binary') {
    return { statusCode: 200, headers: { 'content-type': 'application/octet-stream' }, body: Buffer.from([0, 1, 2, 255]).toString('base64'), isBase64Encoded: true };
  }
  if (event.rawPath === '/api/cookies') {
    return { statusCode: 201, cookies: ['a=1; Path=/', 'b=2; Path=/'], multiValueHeaders: { 'x-multi': ['one', 'two'] }, body: '' };
  }
  if (event.rawPath === '/api/bare') return { hello: 'world' };
  if (event.rawPath === '/api/throw') throw new Error('boom');
  return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(event) };
};
`;

beforeAll(async () => {
  [issuer, database] = await Promise.all([startTestIssuer(), startTestDatabase()]);
  Object.assign(process.env, issuer.env, { POWERTOOLS_LOG_LEVEL: 'SILENT', DATABASE_URL: database.databaseUrl });
  dir = mkdtempSync(join(tmpdir(), 'front-door-'));
  mkdirSync(join(dir, 'functions', 'api'), { recursive: true });
  writeFileSync(join(dir, 'functions', 'api', 'handler.ts'), echoHandler);
  mkdirSync(join(dir, 'web', 'assets'), { recursive: true });
  writeFileSync(join(dir, 'web', 'index.html'), '<!doctype html><title>spa</title>');
  writeFileSync(join(dir, 'web', 'assets', 'app.js'), 'console.log(1)');
  mkdirSync(join(dir, 'viewer'), { recursive: true });
  writeFileSync(join(dir, 'viewer', 'index.html'), '<!doctype html><title>ohif</title>');
  writeFileSync(join(dir, 'secret.txt'), 'outside the web root');
  echoDoor = await startFrontDoor({ port: 0, webRoot: join(dir, 'web'), viewerRoot: join(dir, 'viewer'), functionsRoot: join(dir, 'functions') });
  realDoor = await startFrontDoor({ port: 0, functionsRoot: fileURLToPath(new URL('../functions/src', import.meta.url)) });
});

/** A GET whose path goes out exactly as given (no URL normalization). */
function rawGet(base: string, path: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname === 'localhost' ? '127.0.0.1' : hostname, port, path, method: 'GET' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.once('error', reject);
    req.end();
  });
}

afterAll(async () => {
  await echoDoor?.close();
  await realDoor?.close();
  await Promise.all([issuer?.close(), database?.stop()]);
  rmSync(dir, { recursive: true, force: true });
  process.env = savedEnv;
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the echoed event is inspected loosely
type Echoed = Record<string, any>;

async function echo(path: string, init: RequestInit = {}): Promise<Echoed> {
  const res = await fetch(`${echoDoor.url}${path}`, init);
  expect(res.status).toBe(200);
  return (await res.json()) as Echoed;
}

describe('front door → Lambda events', () => {
  it('builds an HTTP API payload 2.0 event with API Gateway conventions', async () => {
    const e = await echo('/api/studies/1.2.3/series?includefield=a&includefield=b&limit=5', { headers: { 'X-Custom': 'v', Cookie: 'medlake_session=s; medlake_csrf=c', 'User-Agent': 'tester' } });
    expect(e.version).toBe('2.0');
    expect(e.routeKey).toBe('ANY /api/{proxy+}');
    expect(e.rawPath).toBe('/api/studies/1.2.3/series');
    expect(e.rawQueryString).toBe('includefield=a&includefield=b&limit=5');
    expect(e.queryStringParameters).toEqual({ includefield: 'a,b', limit: '5' });
    expect(e.pathParameters).toEqual({ proxy: 'studies/1.2.3/series' });
    expect(e.cookies).toEqual(['medlake_session=s', 'medlake_csrf=c']);
    expect(e.headers.cookie).toBeUndefined();
    expect(e.headers['x-custom']).toBe('v');
    expect(e.requestContext.http).toMatchObject({ method: 'GET', path: '/api/studies/1.2.3/series', sourceIp: '127.0.0.1', userAgent: 'tester' });
    expect(e.requestContext.requestId).toMatch(/[0-9a-f-]{36}/);
    expect(typeof e.requestContext.timeEpoch).toBe('number');
    expect(e.requestContext.domainName).toMatch(/^localhost:\d+$|^127\.0\.0\.1:\d+$/);
    expect(e.requestContext.authorizer).toBeUndefined();
    expect(e.isBase64Encoded).toBe(false);
  });

  it('passes JSON bodies as text and binary bodies base64-encoded', async () => {
    const text = await echo('/api/x', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
    expect(text).toMatchObject({ body: '{"a":1}', isBase64Encoded: false });
    const bytes = Buffer.from([0x44, 0x49, 0x43, 0x4d, 0x00, 0xff]);
    const binary = await echo('/api/x', { method: 'POST', headers: { 'content-type': 'multipart/related; type="application/dicom"; boundary=x' }, body: bytes });
    expect(binary.isBase64Encoded).toBe(true);
    expect(Buffer.from(binary.body as string, 'base64')).toEqual(bytes);
  });

  it('puts verified Bearer claims in the authorizer context, arrays as "[a b]"', async () => {
    const token = await issuer.sign({ sub: 'u1', groups: ['admin', 'uploader'], tokenUse: 'id' });
    const e = await echo('/api/me', { headers: { authorization: `Bearer ${token}` } });
    expect(e.requestContext.authorizer.jwt.claims).toMatchObject({ sub: 'u1', 'cognito:groups': '[admin uploader]', token_use: 'id', aud: testClients.web });
    expect(typeof e.requestContext.authorizer.jwt.claims.exp).toBe('string');
  });

  it.each([
    ['expired', () => issuer.sign({ expiresInSeconds: -60 })],
    ['tampered', async () => tamper(await issuer.sign())],
    ['wrong audience', () => issuer.sign({ clientId: 'other' })],
    ['not a bearer token', async () => 'Basic dTpw'],
  ])('answers an invalid Authorization (%s) with 401 like API Gateway', async (_name, make) => {
    const value = await make();
    const res = await fetch(`${echoDoor.url}/api/me`, { headers: { authorization: value.startsWith('Basic') ? value : `Bearer ${value}` } });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ message: 'Unauthorized' });
  });

  it('writes back base64 bodies as bytes', async () => {
    const res = await fetch(`${echoDoor.url}/api/binary`);
    expect(Buffer.from(await res.arrayBuffer())).toEqual(Buffer.from([0, 1, 2, 255]));
  });

  it('writes back cookies and multi-value headers', async () => {
    const res = await fetch(`${echoDoor.url}/api/cookies`);
    expect(res.status).toBe(201);
    expect(res.headers.getSetCookie()).toEqual(['a=1; Path=/', 'b=2; Path=/']);
    expect(res.headers.get('x-multi')).toBe('one, two');
  });

  it('answers a bare returned object as 200 JSON, and a throwing handler as 500', async () => {
    expect(await echo('/api/bare')).toEqual({ hello: 'world' });
    const res = await fetch(`${echoDoor.url}/api/throw`);
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ message: 'Internal Server Error' });
  });

  it('refuses bodies over 6 MB with 413', async () => {
    const res = await fetch(`${echoDoor.url}/api/upload`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: Buffer.alloc(6 * 1024 * 1024 + 1) });
    expect(res.status).toBe(413);
  });

  it('answers 404 JSON for a function that is not built yet', async () => {
    const res = await fetch(`${echoDoor.url}/dicomweb/studies`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('not_deployed');
  });
});

describe('front door static files', () => {
  it('serves the SPA, its assets, and index.html for client routes', async () => {
    expect(await (await fetch(`${echoDoor.url}/`)).text()).toContain('<title>spa</title>');
    expect(await (await fetch(`${echoDoor.url}/studies/123`)).text()).toContain('<title>spa</title>');
    // A UID's dotted digits are not a file extension: a shared study link loads the app.
    const uidLink = await fetch(`${echoDoor.url}/studies/2.25.331986432117402301185113474302093587`);
    expect(uidLink.status).toBe(200);
    expect(await uidLink.text()).toContain('<title>spa</title>');
    const js = await fetch(`${echoDoor.url}/assets/app.js`);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    expect((await fetch(`${echoDoor.url}/assets/missing.js`)).status).toBe(404);
  });

  it('serves the viewer under /viewer with its own fallback', async () => {
    expect(await (await fetch(`${echoDoor.url}/viewer/viewer?StudyInstanceUIDs=1.2`)).text()).toContain('<title>ohif</title>');
  });

  it('never serves files outside the web root', async () => {
    // Sent as written: fetch would resolve the dot segments before sending, and the request would not try to leave the root.
    for (const path of ['/%2e%2e/secret.txt', '/..%2fsecret.txt', '/assets/..%2f..%2fsecret.txt', '/viewer/..%2f..%2fsecret.txt']) {
      const res = await rawGet(echoDoor.url, path);
      expect(res.status, path).toBe(404);
      expect(res.body, path).not.toContain('outside the web root');
    }
  });

  it('says so when the web app is not built', async () => {
    const res = await fetch(`${realDoor.url}/`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('not built');
  });

  it('gives a clear message when the port is taken', async () => {
    const port = Number(new URL(echoDoor.url).port);
    await expect(startFrontDoor({ port })).rejects.toThrow(/already in use/);
  });
});

describe('front door request log', () => {
  it('names no query string and, of S3 requests, the bucket only (keys of objects put by hand may carry file names)', async () => {
    const lines: string[] = [];
    const door = await startFrontDoor({
      port: 0, webRoot: join(dir, 'web'), functionsRoot: join(dir, 'functions'), log: (line) => lines.push(line),
      s3Proxy: { prefix: '/s3', target: 'http://127.0.0.1:9', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } },
    });
    try {
      await fetch(`${door.url}/s3/quarantine/incoming/0b6c/0/DOE_JOHN_CT.dcm?X-Amz-Signature=00`, { method: 'PUT', body: 'x' });
      await fetch(`${door.url}/api/studies?q=DOE`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      await door.close();
    }
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^PUT \/s3\/quarantine\/… 400 \d+ ms$/);
    expect(lines[1]).toMatch(/^GET \/api\/studies 200 \d+ ms$/);
    expect(lines.join('\n')).not.toContain('DOE');
  });
});

describe('front door → the real /api handler', () => {
  it('GET /api/me with a Bearer token names the caller and their state', async () => {
    const token = await issuer.sign({ sub: 'sub-r', email: 'r@example.org', groups: ['researcher'] });
    const res = await fetch(`${realDoor.url}/api/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ sub: 'sub-r', email: 'r@example.org', groups: ['researcher'], roles: ['researcher'], state: 'active', isMachine: false });
  });

  it('GET /api/me with the session cookie works the same', async () => {
    const token = await issuer.sign({ sub: 'sub-c', groups: ['annotator'] });
    const res = await fetch(`${realDoor.url}/api/me`, { headers: { cookie: `medlake_session=${token}` } });
    expect(await res.json()).toMatchObject({ sub: 'sub-c', state: 'active' });
  });

  it('an unknown /api path is a JSON 404 with a correlation id', async () => {
    const res = await fetch(`${realDoor.url}/api/nothing-here`, { headers: { 'x-correlation-id': 'corr-123' } });
    expect(res.status).toBe(404);
    expect(res.headers.get('x-correlation-id')).toBe('corr-123');
    expect(await res.json()).toEqual({ error: { code: 'not_found', message: 'No such endpoint: GET /api/nothing-here.', correlationId: 'corr-123' } });
  });

  it('invalid JSON and schema violations are 400 with a readable sentence', async () => {
    const bad = await fetch(`${realDoor.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{nope' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('invalid_json');
    const missing = await fetch(`${realDoor.url}/api/auth/sign-up`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"email":"not-an-email","password":"x"}' });
    expect(missing.status).toBe(400);
    const body = (await missing.json()) as { error: { code: string; message: string; issues: unknown[] } };
    expect(body.error.code).toBe('invalid_request');
    expect(body.error.message).toMatch(/^Invalid request: email/);
    expect(body.error.issues.length).toBeGreaterThan(0);
  });

  it('GET /api/health reports every component and 503 when they are down', async () => {
    const res = await fetch(`${realDoor.url}/api/health`);
    expect(res.status).toBe(503);
    const body = (await res.json()) as { status: string; components: Record<string, { state: string; latencyMs: number }> };
    expect(Object.keys(body.components).sort()).toEqual(['cognito', 'db', 's3', 'sqs']);
    expect(body.components.db?.state).toBe('ok');
    expect(body.components.s3?.state).toBe('error');
  });
});
