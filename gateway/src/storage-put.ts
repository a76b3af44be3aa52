/**
 * PUT of a file (or one part of it) to a presigned S3 URL, streamed from disk
 * with an exact Content-Length (S3 refuses chunked uploads to presigned URLs)
 * and byte-level progress. S3's answers are sorted into: done (with the ETag
 * multipart completion needs), expired URL, worth retrying, or refused.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { GatewayError, StorageTransientError, UrlExpiredError } from './errors';

export interface ByteRange {
  path: string;
  start: number;
  length: number;
}

export interface PutOptions {
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Idle milliseconds (no bytes either way) before the connection is dropped and retried. */
  idleTimeoutMs?: number;
  /** Called with each chunk's size as it leaves, and with a negative total if the attempt fails. */
  onBytes?(delta: number): void;
}

export interface PutResult {
  etag: string | undefined;
}

export async function putToPresignedUrl(url: string, range: ByteRange, options: PutOptions = {}): Promise<PutResult> {
  const target = new URL(url);
  const headers: Record<string, string> = { 'content-length': String(range.length), ...options.headers };
  if (signsHeader(target, 'x-amz-checksum-sha256') && !headers['x-amz-checksum-sha256']) {
    headers['x-amz-checksum-sha256'] = await sha256OfRange(range, 'base64');
  }
  let sent = 0;
  try {
    return await new Promise<PutResult>((resolve, reject) => {
      const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
      const req: ClientRequest = send(target, { method: 'PUT', headers, signal: options.signal }, (response) => {
        collect(response).then((body) => {
          const status = response.statusCode ?? 0;
          if (status >= 200 && status < 300) {
            const etag = response.headers.etag;
            resolve({ etag: typeof etag === 'string' ? etag : undefined });
          } else reject(storageError(status, body));
        }, reject);
      });
      req.setTimeout(options.idleTimeoutMs ?? 120_000, () => {
        req.destroy(Object.assign(new Error('The storage stopped answering.'), { code: 'ETIMEDOUT' }));
      });
      req.on('error', reject);
      if (range.length === 0) {
        req.end();
        return;
      }
      const file = createReadStream(range.path, { start: range.start, end: range.start + range.length - 1 });
      file.on('error', (error) => {
        req.destroy(error);
        reject(error);
      });
      file.on('data', (chunk) => {
        sent += chunk.length;
        options.onBytes?.(chunk.length);
      });
      file.pipe(req);
    });
  } catch (error) {
    if (sent > 0) options.onBytes?.(-sent);
    throw error;
  }
}

function collect(response: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    response.on('data', (chunk: Buffer) => {
      // Error documents are small; never hold more than 64 KiB of an answer.
      if (size < 65_536) chunks.push(chunk);
      size += chunk.length;
    });
    response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    response.on('error', reject);
  });
}

/** S3 error documents: <Error><Code>AccessDenied</Code><Message>Request has expired</Message>…</Error>. */
export function storageError(status: number, body: string): Error {
  const code = /<Code>([^<]*)<\/Code>/.exec(body)?.[1] ?? '';
  const message = /<Message>([^<]*)<\/Message>/.exec(body)?.[1] ?? '';
  if ((status === 403 || status === 400) && (/expired/i.test(message) || code === 'ExpiredToken' || code === 'RequestExpired')) return new UrlExpiredError();
  if (status >= 500 || status === 429 || status === 408 || code === 'SlowDown' || code === 'RequestTimeout') return new StorageTransientError(status, code);
  // A checksum mismatch means bytes changed on the way (or on disk): send them again.
  if (code === 'BadDigest' || code === 'XAmzContentSHA256Mismatch' || code === 'InvalidDigest') return new StorageTransientError(status, code);
  return new GatewayError('storage_refused', `The storage refused the upload (${status}${code ? ` ${code}` : ''}).`);
}

function signsHeader(url: URL, header: string): boolean {
  const signed = url.searchParams.get('X-Amz-SignedHeaders');
  return signed ? signed.split(';').includes(header) : false;
}

export async function sha256OfRange(range: ByteRange, encoding: 'hex' | 'base64' = 'hex'): Promise<string> {
  const hash = createHash('sha256');
  if (range.length > 0) {
    for await (const chunk of createReadStream(range.path, { start: range.start, end: range.start + range.length - 1 })) hash.update(chunk as Buffer);
  }
  return hash.digest(encoding);
}
