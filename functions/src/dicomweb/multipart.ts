/**
 * multipart/related bodies (RFC 2387) as DICOMweb uses them: WADO-RS answers
 * with one part per instance or frame, STOW-RS requests carry one part per
 * instance.
 */
import { randomBytes } from 'node:crypto';
import { badRequest } from '../http/errors';

export interface Part {
  contentType: string;
  /** Extra headers, e.g. Content-Location. */
  headers?: Record<string, string>;
  body: Uint8Array;
}

export function newBoundary(): string {
  return `medlake-${randomBytes(12).toString('hex')}`;
}

/** The bytes before one part's body. */
export function partHeader(boundary: string, part: Omit<Part, 'body'>, first: boolean): Buffer {
  const lines = [`${first ? '' : '\r\n'}--${boundary}`, `Content-Type: ${part.contentType}`];
  for (const [name, value] of Object.entries(part.headers ?? {})) lines.push(`${name}: ${value}`);
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
}

export function closingDelimiter(boundary: string): Buffer {
  return Buffer.from(`\r\n--${boundary}--\r\n`, 'latin1');
}

export function buildMultipart(boundary: string, parts: readonly Part[]): Buffer {
  const chunks: Buffer[] = [];
  parts.forEach((part, i) => {
    chunks.push(partHeader(boundary, part, i === 0), Buffer.from(part.body.buffer, part.body.byteOffset, part.body.byteLength));
  });
  chunks.push(parts.length ? closingDelimiter(boundary) : Buffer.from(`--${boundary}--\r\n`, 'latin1'));
  return Buffer.concat(chunks);
}

/** A Content-Type header value: the media type and its parameters (lower-case names, unquoted values). */
export interface MediaType {
  type: string;
  params: Record<string, string>;
}

export function parseMediaType(value: string): MediaType {
  const [head = '', ...rest] = splitOutsideQuotes(value, ';');
  const params: Record<string, string> = {};
  for (const item of rest) {
    const at = item.indexOf('=');
    if (at < 0) continue;
    const name = item.slice(0, at).trim().toLowerCase();
    let v = item.slice(at + 1).trim();
    if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) v = v.slice(1, -1).replace(/\\(.)/g, '$1');
    params[name] = v;
  }
  return { type: head.trim().toLowerCase(), params };
}

export function splitOutsideQuotes(value: string, separator: string): string[] {
  const out: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i] as string;
    if (c === '"' && value[i - 1] !== '\\') quoted = !quoted;
    if (c === separator && !quoted) {
      out.push(current);
      current = '';
    } else current += c;
  }
  out.push(current);
  return out;
}

/** Splits a multipart/related body into its parts; 400 when it is not one. */
export function parseMultipart(body: Buffer, boundary: string): Part[] {
  const delimiter = Buffer.from(`--${boundary}`, 'latin1');
  const parts: Part[] = [];
  let at = body.indexOf(delimiter);
  if (at < 0) throw badRequest('invalid_multipart', 'The body does not contain the boundary given in Content-Type.');
  for (;;) {
    const afterDelimiter = at + delimiter.length;
    if (body.subarray(afterDelimiter, afterDelimiter + 2).toString('latin1') === '--') break;
    const headerEnd = body.indexOf('\r\n\r\n', afterDelimiter, 'latin1');
    if (headerEnd < 0) throw badRequest('invalid_multipart', 'A part of the multipart body has no header end.');
    const headerText = body.subarray(afterDelimiter, headerEnd).toString('latin1');
    const next = body.indexOf(Buffer.from(`\r\n--${boundary}`, 'latin1'), headerEnd + 4);
    if (next < 0) throw badRequest('invalid_multipart', 'The multipart body ends without its closing boundary.');
    const headers: Record<string, string> = {};
    for (const line of headerText.split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    parts.push({ contentType: headers['content-type'] ?? 'text/plain', headers, body: body.subarray(headerEnd + 4, next) });
    at = next + 2;
  }
  return parts;
}
