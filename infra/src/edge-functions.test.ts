/**
 * The CloudFront Functions, run as source text the way CloudFront runs them
 * (a top-level `handler(event)`), on viewer requests in CloudFront's event shape.
 */
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { csrfCookie, csrfHeader, sessionCookie } from '@medlake/functions/auth/session-cookies';
import { forwardedAuthorizationHeader } from '@medlake/functions/auth/authenticate';
import { cloudfrontModuleImport, dicomwebRoutingSource, sessionBearerSource, spaRoutingSource } from './edge-functions';

interface ViewerRequest {
  method: string;
  uri: string;
  headers: Record<string, { value: string }>;
  cookies: Record<string, { value: string }>;
}

function load(source: string, modules: { cf?: unknown } = {}): (event: { request: ViewerRequest }) => ViewerRequest {
  const sandbox: { handler?: (event: { request: ViewerRequest }) => ViewerRequest; cf?: unknown } = { ...modules };
  runInNewContext(`${source}\nthis.handler = handler;`, sandbox);
  if (!sandbox.handler) throw new Error('no handler');
  return sandbox.handler;
}

/**
 * A function that imports CloudFront's `cloudfront` module: its import line
 * is replaced by a recording stand-in of the module's `cf` helpers.
 */
function loadWithOriginHelpers(source: string) {
  const [first, ...rest] = source.split('\n');
  expect(first).toBe(cloudfrontModuleImport);
  const selected: string[] = [];
  const handler = load(rest.join('\n'), { cf: { selectRequestOriginById: (id: string) => selected.push(id) } });
  return {
    run(request: ViewerRequest) {
      selected.length = 0;
      const out = handler({ request });
      return { request: out, origin: selected.length ? selected.join(',') : 'behaviour origin' };
    },
  };
}

function request(method: string, uri: string, cookies: Record<string, string> = {}, headers: Record<string, string> = {}): ViewerRequest {
  return {
    method,
    uri,
    headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, { value: v }])),
    cookies: Object.fromEntries(Object.entries(cookies).map(([k, v]) => [k, { value: v }])),
  };
}

describe('session cookie → Authorization (CSRF-checked)', () => {
  const handler = load(sessionBearerSource);
  const token = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln';

  it('a GET with the session cookie reaches the authorizer as a Bearer token', () => {
    const out = handler({ request: request('GET', '/dicomweb/studies', { [sessionCookie]: token }) });
    expect(out.headers.authorization).toEqual({ value: `Bearer ${token}` });
  });

  it('a state-changing request carries the token only when X-CSRF-Token matches the CSRF cookie', () => {
    const ok = handler({ request: request('POST', '/api/uploads', { [sessionCookie]: token, [csrfCookie]: 'abc' }, { [csrfHeader]: 'abc' }) });
    expect(ok.headers.authorization?.value).toBe(`Bearer ${token}`);
    for (const [cookies, headers] of [
      [{ [sessionCookie]: token, [csrfCookie]: 'abc' }, {}],
      [{ [sessionCookie]: token, [csrfCookie]: 'abc' }, { [csrfHeader]: 'abd' }],
      [{ [sessionCookie]: token }, { [csrfHeader]: 'abc' }],
      [{ [sessionCookie]: token, [csrfCookie]: '' }, { [csrfHeader]: '' }],
    ] as const) {
      for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
        const out = handler({ request: request(method, '/api/users/x/approve', cookies, headers) });
        expect(out.headers.authorization, `${method} ${JSON.stringify(headers)}`).toBeUndefined();
      }
    }
  });

  it('passes on the host the viewer used, whatever X-Forwarded-Host the viewer sent (DICOMweb links point back at the site)', () => {
    const out = handler({ request: request('GET', '/dicomweb/studies', {}, { host: 'imaging.hospital.example', 'x-forwarded-host': 'evil.example' }) });
    expect(out.headers['x-forwarded-host']).toEqual({ value: 'imaging.hospital.example' });
  });

  it('leaves an explicit Authorization header (gateways, scripts) and cookie-less requests alone', () => {
    const explicit = handler({ request: request('POST', '/api/uploads', { [sessionCookie]: token }, { authorization: 'Bearer other' }) });
    expect(explicit.headers.authorization).toEqual({ value: 'Bearer other' });
    const anonymous = handler({ request: request('GET', '/api/health') });
    expect(anonymous.headers.authorization).toBeUndefined();
  });
});

describe('DICOMweb routing: reads to the streaming Function URL, STOW-RS to API Gateway', () => {
  const apiOrigin = 'medlake-http-api';
  const routing = loadWithOriginHelpers(dicomwebRoutingSource(apiOrigin));
  const token = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ5In0.c2ln';
  const forwarded = forwardedAuthorizationHeader;

  it('a read keeps its origin; its Bearer token moves out of Authorization, which CloudFront overwrites with its SigV4 signature', () => {
    for (const method of ['GET', 'HEAD', 'OPTIONS']) {
      const { request: out, origin } = routing.run(request(method, '/dicomweb/studies/1.2/series/3.4', {}, { authorization: `Bearer ${token}`, host: 'imaging.hospital.example' }));
      expect(origin, method).toBe('behaviour origin');
      expect(out.headers.authorization, method).toBeUndefined();
      expect(out.headers[forwarded], method).toEqual({ value: `Bearer ${token}` });
      expect(out.headers['x-forwarded-host']).toEqual({ value: 'imaging.hospital.example' });
    }
  });

  it('a read with the session cookie (OHIF in the site) carries the cookie\'s token the same way', () => {
    const { request: out, origin } = routing.run(request('GET', '/dicomweb/studies', { [sessionCookie]: token }));
    expect(origin).toBe('behaviour origin');
    expect(out.headers[forwarded]).toEqual({ value: `Bearer ${token}` });
    expect(out.headers.authorization).toBeUndefined();
  });

  it('STOW-RS (and any other method with a body) goes to the HTTP API origin with Authorization for its JWT authorizer, CSRF-checked for cookies', () => {
    const stow = routing.run(request('POST', '/dicomweb/studies/1.2', { [sessionCookie]: token, [csrfCookie]: 'abc' }, { [csrfHeader]: 'abc' }));
    expect(stow.origin).toBe(apiOrigin);
    expect(stow.request.headers.authorization).toEqual({ value: `Bearer ${token}` });
    expect(stow.request.headers[forwarded]).toBeUndefined();
    const forged = routing.run(request('POST', '/dicomweb/studies', { [sessionCookie]: token, [csrfCookie]: 'abc' }, { [csrfHeader]: 'abd' }));
    expect(forged.origin).toBe(apiOrigin);
    expect(forged.request.headers.authorization).toBeUndefined();
    const gateway = routing.run(request('POST', '/dicomweb/studies', {}, { authorization: 'Bearer machine' }));
    expect(gateway.request.headers.authorization).toEqual({ value: 'Bearer machine' });
    for (const method of ['PUT', 'PATCH', 'DELETE']) expect(routing.run(request(method, '/dicomweb/studies')).origin).toBe(apiOrigin);
  });

  it('an X-Medlake-Authorization sent by the viewer never reaches an origin', () => {
    const read = routing.run(request('GET', '/dicomweb/studies', {}, { [forwarded]: 'Bearer forged' }));
    expect(read.request.headers[forwarded]).toBeUndefined();
    const write = routing.run(request('POST', '/dicomweb/studies', {}, { [forwarded]: 'Bearer forged' }));
    expect(write.request.headers[forwarded]).toBeUndefined();
  });
});

describe('SPA routing', () => {
  const handler = load(spaRoutingSource);
  const route = (uri: string) => handler({ request: request('GET', uri) }).uri;

  it('client routes of the SPA get /index.html, even with DICOM UIDs in the path', () => {
    expect(route('/')).toBe('/index.html');
    expect(route('/studies')).toBe('/index.html');
    expect(route('/studies/2.25.301765842118243470386224375837206542031')).toBe('/index.html');
    expect(route('/admin/users/someone')).toBe('/index.html');
  });

  it('the viewer\'s routes get the viewer\'s index.html', () => {
    expect(route('/viewer')).toBe('/viewer/index.html');
    expect(route('/viewer/')).toBe('/viewer/index.html');
    expect(route('/viewer/viewer')).toBe('/viewer/index.html');
  });

  it('files keep their path', () => {
    for (const uri of ['/assets/index-abc123.js', '/favicon.svg', '/viewer/app-config.js', '/viewer/1602.bundle.94f12cceab7c2762.js', '/viewer/0ddf166f7a343eda.wasm', '/index.html']) {
      expect(route(uri)).toBe(uri);
    }
  });

  it('a path that merely starts like the viewer is an SPA route', () => {
    expect(route('/viewers')).toBe('/index.html');
  });
});
