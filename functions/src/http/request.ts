/** Reading an HTTP API v2 event: headers, cookies, query, body bytes. */
import type { HttpEvent } from './types';

export function header(event: HttpEvent, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === wanted) return value;
  }
  return undefined;
}

/** Cookies from payload 2.0's `cookies` array, or a raw Cookie header if one slipped through. */
export function cookies(event: HttpEvent): Record<string, string> {
  const pairs = [...(event.cookies ?? []), ...(header(event, 'cookie')?.split(';') ?? [])];
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at < 0) continue;
    const name = pair.slice(0, at).trim();
    if (!name || name in out) continue;
    const raw = pair.slice(at + 1).trim().replace(/^"(.*)"$/, '$1');
    try {
      out[name] = decodeURIComponent(raw);
    } catch {
      out[name] = raw;
    }
  }
  return out;
}

/** The query with repeated keys kept apart (API Gateway comma-joins them in queryStringParameters). */
export function query(event: HttpEvent): URLSearchParams {
  if (event.rawQueryString !== undefined) return new URLSearchParams(event.rawQueryString);
  return new URLSearchParams(Object.entries(event.queryStringParameters ?? {}).map(([k, v]): [string, string] => [k, v ?? '']));
}

export function bodyBytes(event: HttpEvent): Buffer {
  if (event.body === undefined || event.body === null) return Buffer.alloc(0);
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
}

export function method(event: HttpEvent): string {
  return event.requestContext.http.method.toUpperCase();
}

export function path(event: HttpEvent): string {
  return event.rawPath || event.requestContext.http.path;
}

export function sourceIp(event: HttpEvent): string | undefined {
  return event.requestContext.http.sourceIp;
}

const correlationPattern = /^[A-Za-z0-9._:-]{1,100}$/;

/** The caller's x-correlation-id if it is sane, else the API Gateway request id. */
export function correlationId(event: HttpEvent): string {
  const given = header(event, 'x-correlation-id');
  if (given && correlationPattern.test(given)) return given;
  return event.requestContext.requestId;
}
