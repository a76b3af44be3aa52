/** Building HTTP API results: JSON, binary (base64 on the wire), empty. */
import type { HttpResult } from './types';

export interface ResponseOptions {
  headers?: Record<string, string>;
  /** Set-Cookie values; payload 2.0 carries them in `cookies`. */
  cookies?: string[];
}

export function json(statusCode: number, value: unknown, options: ResponseOptions = {}): HttpResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...options.headers },
    body: JSON.stringify(value),
    ...(options.cookies?.length ? { cookies: options.cookies } : {}),
  };
}

/** A binary body (DICOM, multipart/related frames): base64-encoded as Lambda requires. */
export function binary(statusCode: number, body: Uint8Array, contentType: string, options: ResponseOptions = {}): HttpResult {
  return {
    statusCode,
    headers: { 'content-type': contentType, ...options.headers },
    body: Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('base64'),
    isBase64Encoded: true,
    ...(options.cookies?.length ? { cookies: options.cookies } : {}),
  };
}

export function noContent(options: ResponseOptions = {}): HttpResult {
  return { statusCode: 204, headers: { 'cache-control': 'no-store', ...options.headers }, ...(options.cookies?.length ? { cookies: options.cookies } : {}) };
}

/** The body of a result as bytes, whichever way it was encoded. */
export function resultBody(result: HttpResult): Buffer {
  if (result.body === undefined) return Buffer.alloc(0);
  return result.isBase64Encoded ? Buffer.from(result.body, 'base64') : Buffer.from(result.body, 'utf8');
}
