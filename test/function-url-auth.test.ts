/**
 * The contract between CloudFront's DICOMweb routing function and the
 * handler behind the streaming Function URL: a viewer request goes through the
 * routing source exactly as deployed (infra/src/edge-functions.ts), then
 * arrives the way a Function URL behind Origin Access Control delivers it —
 * Authorization overwritten by CloudFront's SigV4 signature, which Lambda
 * verified (`requestContext.authorizer.iam`) — and `authenticate` verifies the
 * caller's real token (RS256, a JWKS served over HTTP by the test issuer).
 */
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticate, forwardedAuthorizationHeader } from '@medlake/functions/auth/authenticate';
import { csrfCookie, csrfHeader, sessionCookie } from '@medlake/functions/auth/session-cookies';
import type { TokenConfig } from '@medlake/functions/auth/token-verifier';
import { HttpError } from '@medlake/functions/http/errors';
import type { HttpEvent } from '@medlake/functions/http/types';
import { cloudfrontModuleImport, dicomwebRoutingSource } from '@medlake/infra/edge-functions';
import { apiOriginId } from '@medlake/infra/web';
import type { TestIssuer } from './auth-issuer';
import { startTestIssuer, tamper, testClients } from './auth-issuer';

interface ViewerRequest {
  method: string;
  uri: string;
  querystring: Record<string, { value: string }>;
  headers: Record<string, { value: string }>;
  cookies: Record<string, { value: string }>;
}

/** The routing function as CloudFront runs it, with the origin it picked. */
function route(request: ViewerRequest): { request: ViewerRequest; origin: 'function-url' | 'http-api' } {
  const source = dicomwebRoutingSource(apiOriginId);
  if (!source.startsWith(`${cloudfrontModuleImport}\n`)) throw new Error('the routing function must import the cloudfront module first');
  let origin: 'function-url' | 'http-api' = 'function-url';
  const sandbox: { handler?: (event: { request: ViewerRequest }) => ViewerRequest; cf: unknown } = {
    cf: { selectRequestOriginById: (id: string) => { if (id === apiOriginId) origin = 'http-api'; } },
  };
  runInNewContext(`${source.slice(cloudfrontModuleImport.length)}\nthis.handler = handler;`, sandbox);
  return { request: sandbox.handler!({ request }), origin };
}

function viewerRequest(method: string, uri: string, headers: Record<string, string> = {}, cookies: Record<string, string> = {}): ViewerRequest {
  return {
    method,
    uri,
    querystring: {},
    headers: { host: { value: 'imaging.hospital.example' }, ...Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, { value: v }])) },
    cookies: Object.fromEntries(Object.entries(cookies).map(([k, v]) => [k, { value: v }])),
  };
}

/** What the dicomweb-stream function receives: CloudFront's signature in Authorization, verified by Lambda. */
function functionUrlEvent(request: ViewerRequest): HttpEvent {
  const headers: Record<string, string> = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, v.value]));
  headers.host = 'abcdefghij.lambda-url.eu-west-1.on.aws';
  headers.authorization = 'AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE/20261125/eu-west-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=0f0e';
  headers['x-amz-date'] = '20261125T120000Z';
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: request.uri,
    rawQueryString: '',
    headers,
    cookies: Object.entries(request.cookies).map(([k, v]) => `${k}=${v.value}`),
    requestContext: {
      accountId: '123456789012', apiId: 'abcdefghij', domainName: headers.host, domainPrefix: 'abcdefghij', requestId: 'r-1', routeKey: '$default', stage: '$default', time: '', timeEpoch: 0,
      http: { method: request.method, path: request.uri, protocol: 'HTTP/1.1', sourceIp: '198.51.100.7', userAgent: 'Amazon CloudFront' },
      authorizer: { iam: { accessKey: 'ASIAEXAMPLE', accountId: '123456789012', callerId: 'cloudfront', userArn: 'arn:aws:sts::123456789012:assumed-role/cloudfront' } },
    },
    isBase64Encoded: false,
  } as unknown as HttpEvent;
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof HttpError) return `${error.status} ${error.code}`;
    throw error;
  }
  return 'accepted';
}

let issuer: TestIssuer;
let config: TokenConfig;

beforeAll(async () => {
  issuer = await startTestIssuer();
  config = { issuer: issuer.issuer, jwksUrl: issuer.jwksUrl, clientIds: { ...testClients } };
});

afterAll(async () => {
  await issuer?.close();
});

describe('DICOMweb reads through CloudFront and the streaming Function URL', () => {
  it('a gateway\'s Bearer token (access token of the gateway client) survives CloudFront\'s signature', async () => {
    const token = await issuer.sign({ sub: 'gateway-1', tokenUse: 'access', clientId: testClients.gateway, groups: ['researcher'] });
    const { request, origin } = route(viewerRequest('GET', '/dicomweb/studies', { authorization: `Bearer ${token}` }));
    expect(origin).toBe('function-url');
    const principal = await authenticate(functionUrlEvent(request), config);
    expect(principal).toMatchObject({ sub: 'gateway-1', via: 'bearer' });
  });

  it('OHIF in the site: the session cookie becomes the forwarded token', async () => {
    const token = await issuer.sign({ sub: 'physician-1', groups: ['annotator'] });
    const { request } = route(viewerRequest('GET', '/dicomweb/studies/1.2/series/3.4/metadata', {}, { [sessionCookie]: token }));
    expect((await authenticate(functionUrlEvent(request), config)).sub).toBe('physician-1');
  });

  it('without a token, CloudFront\'s own signature is not taken for one: 401 unauthenticated', async () => {
    const { request } = route(viewerRequest('GET', '/dicomweb/studies'));
    expect(await refusal(authenticate(functionUrlEvent(request), config))).toBe('401 unauthenticated');
  });

  it('a tampered token is refused behind the Function URL too', async () => {
    const token = tamper(await issuer.sign({ sub: 'researcher-1', groups: ['researcher'] }));
    const { request } = route(viewerRequest('GET', '/dicomweb/studies', { authorization: `Bearer ${token}` }));
    expect(await refusal(authenticate(functionUrlEvent(request), config))).toBe('401 invalid_token');
  });

  it('X-Medlake-Authorization counts only on requests Lambda verified as signed', async () => {
    const token = await issuer.sign({ sub: 'someone' });
    const unsigned = functionUrlEvent(route(viewerRequest('GET', '/dicomweb/studies')).request);
    delete (unsigned.requestContext as { authorizer?: unknown }).authorizer;
    delete unsigned.headers.authorization;
    unsigned.headers[forwardedAuthorizationHeader] = `Bearer ${token}`;
    expect(await refusal(authenticate(unsigned, config))).toBe('401 unauthenticated');
  });

  it('STOW-RS goes to API Gateway with Authorization as the JWT authorizer expects it (cookie only with the CSRF header)', async () => {
    const token = await issuer.sign({ sub: 'annotator-1', groups: ['annotator'] });
    const stow = route(viewerRequest('POST', '/dicomweb/studies', { [csrfHeader]: 'c1' }, { [sessionCookie]: token, [csrfCookie]: 'c1' }));
    expect(stow.origin).toBe('http-api');
    expect(stow.request.headers.authorization?.value).toBe(`Bearer ${token}`);
    expect(stow.request.headers[forwardedAuthorizationHeader]).toBeUndefined();
  });
});
