/**
 * The local front door: one node:http server standing in for CloudFront +
 * API Gateway. It serves the SPA (webRoot, index.html for client routes), the
 * OHIF build under /viewer, and hands /api/* and /dicomweb/* to the SAME
 * Lambda handler modules AWS runs, as API Gateway HTTP API payload 2.0
 * events. Bearer tokens are checked like the JWT authorizer does (401
 * {"message":"Unauthorized"} when invalid; verified claims passed on in
 * requestContext.authorizer.jwt.claims, arrays as "[a b]"); requests without
 * Authorization pass through, and the handler checks the session cookie.
 * Handlers read their configuration from process.env, as in Lambda.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import type { HttpEvent, HttpResult } from '@medlake/functions/http/types';
import { tokenConfigFromEnv, verifyToken } from '@medlake/functions/auth/token-verifier';
import { tokenClientId } from '@medlake/functions/auth/principal';
import type { SigningCredentials } from './presigned-url';
import { checkPresignedRequest } from './presigned-url';

export interface FrontDoorOptions {
  port: number;
  host?: string;
  /** The built SPA (index.html + assets). */
  webRoot?: string;
  /** The OHIF build served under /viewer. */
  viewerRoot?: string;
  /** Where the Lambda handler modules live: <functionsRoot>/<name>/handler.ts. */
  functionsRoot?: string;
  /** One line per request ("GET /api/me 200 12 ms"); silent when absent. */
  log?: (line: string) => void;
  /**
   * Same-origin S3: requests under `prefix` (e.g. /s3) are passed to the S3
   * emulator at `target` with the prefix removed, so browsers PUT to presigned
   * URLs (S3_PUBLIC_ENDPOINT = <front door>/s3) without CORS.
   */
  s3Proxy?: S3ProxyOptions;
}

export interface S3ProxyOptions {
  prefix: string;
  target: string;
  /** When set, only presigned URLs signed with these credentials pass (as S3 itself would check). */
  credentials?: SigningCredentials;
  /** Larger request bodies are refused up front with 413 (the emulator's own limit). */
  maxBodyBytes?: number;
}

/** S3's response-* query parameters of presigned GETs, and the header each one overrides. */
const responseOverrides: Record<string, string> = {
  'response-content-type': 'content-type',
  'response-content-language': 'content-language',
  'response-expires': 'expires',
  'response-cache-control': 'cache-control',
  'response-content-disposition': 'content-disposition',
  'response-content-encoding': 'content-encoding',
};

function s3Error(res: ServerResponse, status: number, code: string, message: string): void {
  const escaped = message.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  send(res, status, { 'content-type': 'application/xml' }, `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${escaped}</Message></Error>`);
}

export interface FrontDoor {
  url: string;
  close(): Promise<void>;
}

/** Lambda's synchronous invocation payload limit. */
export const maxRequestBytes = 6 * 1024 * 1024;

type LambdaHandler = (event: HttpEvent, context: Context) => Promise<HttpResult | string | object | undefined>;

/** Path prefixes routed to a Lambda, and the function folder answering each. */
const apiRoutes: readonly { prefix: string; name: string; routeKey: string }[] = [
  { prefix: '/api', name: 'api', routeKey: 'ANY /api/{proxy+}' },
  { prefix: '/dicomweb', name: 'dicomweb', routeKey: 'ANY /dicomweb/{proxy+}' },
];

const defaultFunctionsRoot = fileURLToPath(new URL('../../functions/src', import.meta.url));

export async function startFrontDoor(options: FrontDoorOptions): Promise<FrontDoor> {
  const host = options.host ?? '127.0.0.1';
  const functionsRoot = options.functionsRoot ?? defaultFunctionsRoot;
  const handlers = new Map<string, Promise<LambdaHandler | undefined>>();
  const loadHandler = (name: string) => {
    let loaded = handlers.get(name);
    if (!loaded) {
      const file = join(functionsRoot, name, 'handler.ts');
      loaded = existsSync(file) ? import(pathToFileURL(file).href).then((m: { handler?: LambdaHandler }) => m.handler) : Promise.resolve(undefined);
      // A module that fails to load is retried on the next request, not remembered.
      loaded.catch(() => handlers.delete(name));
      handlers.set(name, loaded);
    }
    return loaded;
  };

  const server = createServer((req, res) => {
    if (options.log) {
      const started = performance.now();
      const log = options.log;
      res.once('finish', () => log(`${req.method ?? '?'} ${loggedPath(req.url ?? '/', options.s3Proxy?.prefix)} ${res.statusCode} ${Math.round(performance.now() - started)} ms`));
    }
    handle(req, res).catch((error: unknown) => {
      console.error('front door: request failed', error instanceof Error ? error.message : error);
      if (!res.headersSent) send(res, 500, { 'content-type': 'application/json' }, JSON.stringify({ message: 'Internal Server Error' }));
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://front-door');
    const proxy = options.s3Proxy;
    if (proxy && (url.pathname === proxy.prefix || url.pathname.startsWith(`${proxy.prefix}/`))) return proxyToS3(req, res, proxy);
    const target = apiRoutes.find((r) => url.pathname === r.prefix || url.pathname.startsWith(`${r.prefix}/`));
    if (target) return invoke(target, req, res, url);
    if (url.pathname === '/viewer' || url.pathname.startsWith('/viewer/')) return serveStatic(res, req, options.viewerRoot, url.pathname.slice('/viewer'.length) || '/', 'viewer');
    return serveStatic(res, req, options.webRoot, url.pathname, 'web');
  }

  async function invoke(target: (typeof apiRoutes)[number], req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const body = await readBody(req);
    if (body === 'too-large') return send(res, 413, { 'content-type': 'application/json' }, JSON.stringify({ message: 'Request Entity Too Large' }));
    const event = buildEvent(req, url, body, target.routeKey, target.prefix);
    const authorization = event.headers.authorization;
    if (authorization !== undefined) {
      const claims = await authorizerClaims(authorization);
      if (!claims) return send(res, 401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer' }, JSON.stringify({ message: 'Unauthorized' }));
      event.requestContext.authorizer = { jwt: { claims, scopes: null } };
    }
    const handler = await loadHandler(target.name);
    if (!handler) {
      return send(res, 404, { 'content-type': 'application/json' }, JSON.stringify({ error: { code: 'not_deployed', message: `The ${target.name} function is not built yet.` } }));
    }
    let result: HttpResult | string | object | undefined;
    try {
      result = await handler(event, lambdaContext(target.name, event.requestContext.requestId));
    } catch (error) {
      console.error(`front door: ${target.name} handler threw`, error instanceof Error ? error.message : error);
      return send(res, 500, { 'content-type': 'application/json' }, JSON.stringify({ message: 'Internal Server Error' }));
    }
    writeResult(res, result, req.method === 'HEAD');
  }

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(error.code === 'EADDRINUSE' ? new Error(`Port ${options.port} on ${host} is already in use: stop the other server or choose another port.`) : error);
    });
    server.listen(options.port, host, () => resolveListen());
  });
  const address = server.address() as AddressInfo;
  const shownHost = host === '0.0.0.0' || host === '127.0.0.1' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return { url: `http://${shownHost}:${address.port}`, close: () => closeServer(server) };
}

/**
 * A request path as the request log shows it: never the query string (search
 * terms), and of S3 requests only the bucket, since object keys carry the
 * names of uploaded files (which often name the patient).
 */
export function loggedPath(url: string, s3Prefix: string | undefined): string {
  // Normalised as routing sees it: `/api/../s3/…` is an S3 request and logged as one.
  const path = new URL(url, 'http://front-door').pathname;
  if (!s3Prefix || (path !== s3Prefix && !path.startsWith(`${s3Prefix}/`))) return path;
  const bucket = path.slice(s3Prefix.length + 1).split('/')[0];
  return bucket ? `${s3Prefix}/${bucket}/…` : path;
}

/** Headers that describe one hop, not the message (RFC 9110 §7.6.1). */
const hopByHop = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade', 'proxy-authorization', 'proxy-authenticate']);

/**
 * Streams a request to the S3 emulator and its answer back, both ways
 * unbuffered (uploads can be large). The emulator sees its own host (a dotted
 * public host name would otherwise read as a virtual-hosted bucket) and the
 * path without the prefix. fauxqs does not check SigV4 signatures; with
 * `credentials` the proxy does, for presigned URLs, as S3 would.
 */
async function proxyToS3(req: IncomingMessage, res: ServerResponse, proxy: S3ProxyOptions): Promise<void> {
  if (proxy.credentials) {
    const [path = '/', rawQuery = ''] = (req.url ?? '/').split(/\?(.*)/s);
    const check = checkPresignedRequest({ method: req.method ?? 'GET', path, rawQuery, headers: req.headers }, proxy.credentials);
    if (!check.ok) {
      req.resume();
      return s3Error(res, check.status, check.code, check.message);
    }
  }
  if (proxy.maxBodyBytes !== undefined && Number(req.headers['content-length'] ?? 0) > proxy.maxBodyBytes) {
    req.resume();
    return s3Error(res, 413, 'EntityTooLarge', `The local S3 emulator takes at most ${proxy.maxBodyBytes} bytes in one request: upload larger files with multipart upload.`);
  }
  const target = new URL(proxy.target);
  const overrides = new URL(req.url ?? '/', 'http://front-door').searchParams;
  const path = (req.url ?? '/').slice(proxy.prefix.length) || '/';
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || hopByHop.has(name) || name === 'host') continue;
    headers[name] = value;
  }
  headers.host = target.host;
  return new Promise((resolveProxy) => {
    const upstream = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: path.startsWith('/') ? path : `/${path}`, headers }, (answer) => {
      const out: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(answer.headers)) if (value !== undefined && !hopByHop.has(name)) out[name] = value;
      // fauxqs ignores response-* parameters; S3 applies them to successful GETs (download names of export links).
      if ((req.method === 'GET' || req.method === 'HEAD') && (answer.statusCode ?? 500) < 300) {
        for (const [param, header] of Object.entries(responseOverrides)) {
          const value = overrides.get(param);
          if (value !== null) out[header] = value;
        }
      }
      res.writeHead(answer.statusCode ?? 502, out);
      answer.pipe(res);
      answer.on('end', () => resolveProxy());
      answer.on('error', () => {
        res.destroy();
        resolveProxy();
      });
    });
    upstream.on('error', () => {
      if (!res.headersSent) s3Error(res, 502, 'ServiceUnavailable', 'The S3 emulator is not reachable.');
      else res.destroy();
      resolveProxy();
    });
    req.pipe(upstream);
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((done) => {
    server.close(() => done());
    server.closeAllConnections();
  });
}

async function readBody(req: IncomingMessage): Promise<Buffer | 'too-large'> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxRequestBytes) {
    req.resume();
    return 'too-large';
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxRequestBytes) {
      req.resume();
      return 'too-large';
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Content types API Gateway passes as text; anything else arrives base64-encoded. */
export function isTextContent(contentType: string | undefined): boolean {
  if (!contentType) return true;
  const type = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  return type.startsWith('text/') || type === 'application/json' || type.endsWith('+json') || type === 'application/x-www-form-urlencoded' || type.endsWith('+xml') || type === 'application/xml' || type === 'application/javascript';
}

/** An HTTP API payload 2.0 event, as API Gateway builds it. */
export function buildEvent(req: IncomingMessage, url: URL, body: Buffer, routeKey: string, prefix: string): HttpEvent {
  const headers: Record<string, string> = {};
  let cookieHeader: string | undefined;
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = (req.rawHeaders[i] ?? '').toLowerCase();
    const value = req.rawHeaders[i + 1] ?? '';
    if (name === 'cookie') {
      cookieHeader = cookieHeader ? `${cookieHeader}; ${value}` : value;
      continue;
    }
    headers[name] = headers[name] !== undefined ? `${headers[name]},${value}` : value;
  }
  const hostHeader = headers.host ?? 'localhost';
  headers['x-forwarded-proto'] = 'http';
  headers['x-forwarded-for'] = req.socket.remoteAddress ?? '127.0.0.1';
  headers['x-forwarded-port'] = String(req.socket.localPort ?? '');
  const cookies = cookieHeader?.split(';').map((c) => c.trim()).filter(Boolean);

  const rawQueryString = url.search.startsWith('?') ? url.search.slice(1) : url.search;
  const queryStringParameters: Record<string, string> = {};
  for (const [key, value] of url.searchParams) {
    queryStringParameters[key] = queryStringParameters[key] !== undefined ? `${queryStringParameters[key]},${value}` : value;
  }
  const method = (req.method ?? 'GET').toUpperCase();
  const now = new Date();
  const rawPath = url.pathname;
  const proxy = rawPath.length > prefix.length + 1 ? decodeURIComponent(rawPath.slice(prefix.length + 1)) : undefined;
  const text = isTextContent(headers['content-type']);
  const hasBody = body.length > 0;
  return {
    version: '2.0',
    routeKey,
    rawPath,
    rawQueryString,
    ...(cookies?.length ? { cookies } : {}),
    headers,
    ...(Object.keys(queryStringParameters).length ? { queryStringParameters } : {}),
    ...(proxy !== undefined ? { pathParameters: { proxy } } : {}),
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: hostHeader,
      domainPrefix: hostHeader.split('.')[0] ?? hostHeader,
      http: { method, path: rawPath, protocol: `HTTP/${req.httpVersion}`, sourceIp: normalizeIp(req.socket.remoteAddress), userAgent: headers['user-agent'] ?? '' },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: apiGatewayTime(now),
      timeEpoch: now.getTime(),
    },
    ...(hasBody ? { body: text ? body.toString('utf8') : body.toString('base64') } : {}),
    isBase64Encoded: hasBody && !text,
  };
}

function normalizeIp(ip: string | undefined): string {
  if (!ip) return '127.0.0.1';
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}

/** "25/Nov/2026:04:31:58 +0000", API Gateway's requestContext.time format. */
function apiGatewayTime(date: Date): string {
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(date.getUTCDate())}/${months[date.getUTCMonth()]}/${date.getUTCFullYear()}:${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}

/**
 * The JWT authorizer: a valid token of one of our app clients gives its claims
 * in API Gateway's form (every value a string, arrays as "[a b]"); anything
 * else is undefined (401).
 */
async function authorizerClaims(authorization: string): Promise<Record<string, string> | undefined> {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!match?.[1]) return undefined;
  let config;
  try {
    config = tokenConfigFromEnv();
  } catch (error) {
    console.error(`front door: cannot verify Bearer tokens: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  }
  try {
    const claims = await verifyToken(match[1], config);
    const clientId = tokenClientId(claims);
    if (!clientId || (clientId !== config.clientIds.web && clientId !== config.clientIds.gateway)) return undefined;
    return Object.fromEntries(Object.entries(claims).map(([key, value]) => [key, Array.isArray(value) ? `[${value.join(' ')}]` : typeof value === 'object' ? JSON.stringify(value) : String(value)]));
  } catch {
    return undefined;
  }
}

function lambdaContext(name: string, requestId: string): Context {
  const deadline = Date.now() + 30_000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: `medlake-local-${name}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:medlake-local-${name}`,
    memoryLimitInMB: '1024',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/medlake-local-${name}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(deadline - Date.now(), 0),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

function send(res: ServerResponse, status: number, headers: Record<string, string | string[]>, body?: Buffer | string): void {
  res.writeHead(status, headers);
  res.end(body);
}

/** Writes a Lambda result back the way API Gateway does (payload 2.0 rules). */
function writeResult(res: ServerResponse, result: HttpResult | string | object | undefined, head: boolean): void {
  if (result === undefined || typeof result === 'string' || !('statusCode' in result)) {
    // A bare value: API Gateway answers 200 with it as JSON.
    const body = typeof result === 'string' ? result : JSON.stringify(result ?? null);
    return send(res, 200, { 'content-type': 'application/json' }, head ? undefined : body);
  }
  const structured = result as HttpResult & { multiValueHeaders?: Record<string, (string | number | boolean)[]> };
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(structured.headers ?? {})) headers[name.toLowerCase()] = String(value);
  for (const [name, values] of Object.entries(structured.multiValueHeaders ?? {})) headers[name.toLowerCase()] = values.map(String);
  const setCookies = [...(structured.cookies ?? []), ...toArray(headers['set-cookie'])];
  delete headers['set-cookie'];
  if (setCookies.length) headers['set-cookie'] = setCookies;
  const body = structured.body === undefined ? undefined : structured.isBase64Encoded ? Buffer.from(structured.body, 'base64') : Buffer.from(structured.body, 'utf8');
  if (body && headers['content-length'] === undefined) headers['content-length'] = String(body.length);
  send(res, structured.statusCode, headers, head ? undefined : body);
}

function toArray(value: string | string[] | undefined): string[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.json': 'application/json', '.map': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg',
  '.gif': 'image/gif', '.ico': 'image/x-icon', '.webp': 'image/webp', '.woff': 'font/woff', '.woff2': 'font/woff2', '.ttf': 'font/ttf',
  '.wasm': 'application/wasm', '.txt': 'text/plain; charset=utf-8', '.webmanifest': 'application/manifest+json', '.xml': 'application/xml',
};

const notBuiltPage = (what: string) => `<!doctype html><html><head><meta charset="utf-8"><title>medlake</title></head>
<body style="font-family: system-ui, sans-serif; margin: 3rem"><h1>medlake</h1>
<p>The ${what === 'viewer' ? 'OHIF viewer' : 'web app'} is not built yet${what === 'viewer' ? '' : ' (build it in <code>web/</code>)'}. The API answers under <a href="/api/health">/api/health</a>.</p></body></html>`;

/**
 * Unknown paths that do not name a file are client-side routes, answered by
 * the app's index.html. A file ends in an extension starting with a letter,
 * so DICOM UIDs in paths (/studies/2.25.123…: digits and dots) stay routes:
 * the same rule as CloudFront's SPA routing function (infra/src/edge-functions.ts).
 */
export function isClientRoute(pathname: string): boolean {
  const last = pathname.slice(pathname.lastIndexOf('/') + 1);
  return !/\.[A-Za-z][A-Za-z0-9]*$/.test(last) || extname(last) === '.html';
}

async function serveStatic(res: ServerResponse, req: IncomingMessage, root: string | undefined, pathname: string, what: 'web' | 'viewer'): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }, 'Method Not Allowed');
  const head = req.method === 'HEAD';
  const index = root ? join(root, 'index.html') : undefined;
  if (!root || !index || !existsSync(index)) return send(res, 200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }, head ? undefined : notBuiltPage(what));
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return send(res, 400, { 'content-type': 'text/plain' }, 'Bad Request');
  }
  const base = resolve(root);
  const file = resolve(base, `.${decoded}`);
  if (file !== base && !file.startsWith(base + sep)) return send(res, 404, { 'content-type': 'text/plain' }, 'Not Found');
  const found = await stat(file).then((s) => (s.isFile() ? file : s.isDirectory() && existsSync(join(file, 'index.html')) ? join(file, 'index.html') : undefined)).catch(() => undefined);
  const chosen = found ?? (isClientRoute(decoded) ? index : undefined);
  if (!chosen) return send(res, 404, { 'content-type': 'text/plain' }, 'Not Found');
  const content = await readFile(chosen);
  const type = contentTypes[extname(chosen).toLowerCase()] ?? 'application/octet-stream';
  const cache = chosen.endsWith('index.html') ? 'no-cache' : 'public, max-age=300';
  send(res, 200, { 'content-type': type, 'content-length': String(content.length), 'cache-control': cache }, head ? undefined : content);
}
