import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Logger } from '@aws-lambda-powertools/logger';
import { createHttpHandler } from './app';
import { HttpError } from './errors';
import { binary, json, resultBody } from './response';
import { route } from './router';
import type { HttpEvent } from './types';

const logged: string[] = [];
const logger = new Logger({ serviceName: 'app-test', logLevel: 'DEBUG' });
// Capture what would reach CloudWatch.
(logger as unknown as { console: { error: (s: string) => void; info: (s: string) => void; warn: (s: string) => void; debug: (s: string) => void; log: (s: string) => void } }).console = {
  error: (s) => logged.push(s), info: (s) => logged.push(s), warn: (s) => logged.push(s), debug: (s) => logged.push(s), log: (s) => logged.push(s),
};

const handler = createHttpHandler({
  serviceName: 'app-test',
  logger,
  routes: [
    route({ method: 'GET', path: '/t/frames', action: 'health:read', handle: () => binary(200, Buffer.from([0xde, 0xad, 0xbe, 0xef]), 'multipart/related; type="application/octet-stream"; boundary=b') }),
    route({ method: 'POST', path: '/t/echo', action: 'health:read', handle: (req) => json(200, { bytes: req.rawBody.length, first: req.rawBody[0], includefield: req.query.getAll('includefield') }) }),
    route({ method: 'POST', path: '/t/typed', action: 'health:read', body: z.object({ n: z.number().int() }), handle: (req) => json(201, { doubled: req.body.n * 2 }) }),
    route({ method: 'GET', path: '/t/teapot', action: 'health:read', handle: () => { throw new HttpError(418, 'teapot', 'I am a teapot.'); } }),
    route({ method: 'GET', path: '/t/crash', action: 'health:read', handle: () => { throw new Error('db password is hunter2 for Jane Doe'); } }),
  ],
});

const context = { getRemainingTimeInMillis: () => 30_000, functionName: 'f', awsRequestId: 'aws-1' } as unknown as Context;

function event(method: string, path: string, init: { body?: string; base64?: boolean; query?: string; headers?: Record<string, string> } = {}): HttpEvent {
  return {
    version: '2.0', routeKey: '$default', rawPath: path, rawQueryString: init.query ?? '', headers: { authorization: 'Bearer secret-token-value', ...init.headers },
    ...(init.body !== undefined ? { body: init.body, isBase64Encoded: init.base64 ?? false } : { isBase64Encoded: false }),
    requestContext: { requestId: 'req-42', domainName: 'x', http: { method, path, sourceIp: '1.2.3.4', userAgent: 'u', protocol: 'HTTP/1.1' } },
  } as unknown as HttpEvent;
}

describe('HTTP pipeline', () => {
  it('returns binary bodies base64-encoded', async () => {
    const result = await handler(event('GET', '/t/frames'), context);
    expect(result.isBase64Encoded).toBe(true);
    expect(resultBody(result)).toEqual(Buffer.from([0xde, 0xad, 0xbe, 0xef]));
    expect(result.headers?.['x-correlation-id']).toBe('req-42');
  });

  it('decodes base64 request bodies and keeps repeated query keys', async () => {
    const body = Buffer.from([7, 0, 255, 1]).toString('base64');
    const result = await handler(event('POST', '/t/echo', { body, base64: true, query: 'includefield=a&includefield=b' }), context);
    expect(JSON.parse(result.body ?? '')).toEqual({ bytes: 4, first: 7, includefield: ['a', 'b'] });
  });

  it('validates JSON bodies with the route schema', async () => {
    const jsonType = { 'content-type': 'application/json; charset=utf-8' };
    expect((await handler(event('POST', '/t/typed', { body: '{"n":21}', headers: jsonType }), context)).statusCode).toBe(201);
    const bad = await handler(event('POST', '/t/typed', { body: '{"n":"x"}', headers: jsonType }), context);
    expect(bad.statusCode).toBe(400);
    expect(JSON.parse(bad.body ?? '').error).toMatchObject({ code: 'invalid_request', correlationId: 'req-42' });
  });

  it('refuses JSON bodies not labelled application/json (cross-site text/plain forms)', async () => {
    const result = await handler(event('POST', '/t/typed', { body: '{"n":21}', headers: { 'content-type': 'text/plain' } }), context);
    expect(result.statusCode).toBe(415);
    expect(JSON.parse(result.body ?? '').error.code).toBe('unsupported_media_type');
  });

  it('answers HEAD like GET without a body, and a wrong method with 405 and Allow', async () => {
    const head = await handler(event('HEAD', '/t/frames'), context);
    expect(head.statusCode).toBe(200);
    expect(head.body).toBeUndefined();
    const wrong = await handler(event('DELETE', '/t/frames'), context);
    expect(wrong.statusCode).toBe(405);
    expect(wrong.headers?.allow).toBe('GET');
  });

  it('turns typed errors into their status with code, sentence and correlation id', async () => {
    const result = await handler(event('GET', '/t/teapot', { headers: { 'x-correlation-id': 'mine-1' } }), context);
    expect(result.statusCode).toBe(418);
    expect(JSON.parse(result.body ?? '')).toEqual({ error: { code: 'teapot', message: 'I am a teapot.', correlationId: 'mine-1' } });
  });

  it('answers unexpected errors with 500 and the correlation id, logging no token', async () => {
    logged.length = 0;
    const result = await handler(event('GET', '/t/crash'), context);
    expect(result.statusCode).toBe(500);
    const body = JSON.parse(result.body ?? '') as { error: { code: string; message: string } };
    expect(body.error.code).toBe('internal_error');
    expect(body.error.message).toContain('req-42');
    expect(body.error.message).not.toContain('hunter2');
    const line = logged.join('\n');
    expect(line).toContain('req-42');
    expect(line).not.toContain('secret-token-value');
  });
});
