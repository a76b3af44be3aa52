/**
 * GETs of large objects streamed from the object log's segment files. fauxqs
 * answers a GET with the whole body read into one buffer (a synchronous read
 * on the event loop): downloading a 1 GB export zip took 1 GB of memory in the
 * emulator and stalled every other S3 and SQS request while it was read. For
 * objects of at least `minBytes` whose body is in the log, a plain GET (or a
 * single byte range) is answered here from the segments, piece by piece, with
 * the headers fauxqs would send. Anything else — small objects, `partNumber`,
 * conditional requests, several ranges, objects in fauxqs's own file layout —
 * goes on to fauxqs unchanged.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import type { BodyExtent, LoggedBodies, StoredObject } from './s3-object-log';

/** Fastify's preHandler hook, its request and reply, as far as this module uses them. */
export interface StreamingApp {
  addHook(name: 'preHandler', hook: (request: StreamedRequest, reply: StreamedReply) => Promise<unknown>): void;
}

export interface StreamedRequest {
  method: string;
  headers: Record<string, string | string[] | undefined>;
  params?: Record<string, string | undefined>;
  query?: unknown;
}

export interface StreamedReply {
  header(name: string, value: string | number): StreamedReply;
  status(code: number): StreamedReply;
  send(payload: unknown): StreamedReply;
}

/** fauxqs's S3Store, as far as reads go: objects by bucket and key, bodies left empty when persisted. */
export interface ReadableStore {
  buckets: Map<string, Map<string, StoredObject>>;
  persistence?: unknown;
}

export interface StreamedReadsOptions {
  minBytes: number;
  /** fauxqs's name of the header carrying a checksum of an algorithm (x-amz-checksum-crc32, ...). */
  checksumHeaderName(algorithm: string): string;
}

/** Query parameters of a plain GetObject (the SDK names the operation in x-id). */
const plainQuery = new Set(['x-id']);
const conditionalHeaders = ['if-match', 'if-none-match', 'if-modified-since', 'if-unmodified-since'];

function isLoggedBodies(persistence: unknown): persistence is LoggedBodies {
  return typeof (persistence as Partial<LoggedBodies> | undefined)?.extentsOf === 'function';
}

/** A single range `bytes=a-b`, `bytes=a-` or `bytes=-n` within `total` bytes; undefined otherwise (fauxqs answers those). */
export function singleRange(header: string, total: number): { start: number; end: number } | undefined {
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || total === 0) return undefined;
  const [, from = '', to = ''] = match;
  if (from === '' && to === '') return undefined;
  if (from === '') {
    const suffix = Number(to);
    return suffix > 0 ? { start: Math.max(0, total - suffix), end: total - 1 } : undefined;
  }
  const start = Number(from);
  const end = to === '' ? total - 1 : Math.min(Number(to), total - 1);
  return start <= end ? { start, end } : undefined;
}

/** The bytes `start`..`end` (inclusive) of a body made of `extents`, read from their files in order. */
export function extentStream(extents: readonly BodyExtent[], start: number, end: number): Readable {
  async function* pieces(): AsyncGenerator<Buffer> {
    let at = 0;
    for (const extent of extents) {
      const from = Math.max(start, at);
      const to = Math.min(end, at + extent.length - 1);
      if (from <= to) {
        for await (const chunk of createReadStream(extent.path, { start: extent.offset + (from - at), end: extent.offset + (to - at), highWaterMark: 1024 * 1024 })) yield chunk as Buffer;
      }
      at += extent.length;
      if (at > end) return;
    }
  }
  return Readable.from(pieces(), { objectMode: false });
}

function setObjectHeaders(reply: StreamedReply, obj: StoredObject): void {
  reply.header('content-type', obj.contentType);
  reply.header('etag', obj.etag);
  reply.header('last-modified', obj.lastModified.toUTCString());
  for (const [name, value] of Object.entries(obj.metadata)) reply.header(`x-amz-meta-${name}`, value);
  if (obj.contentLanguage) reply.header('content-language', obj.contentLanguage);
  if (obj.contentDisposition) reply.header('content-disposition', obj.contentDisposition);
  if (obj.cacheControl) reply.header('cache-control', obj.cacheControl);
  if (obj.contentEncoding) reply.header('content-encoding', obj.contentEncoding);
}

/** Adds the hook; a no-op unless the store's persistence is the object log. */
export function streamLargeObjectReads(app: StreamingApp, store: ReadableStore, options: StreamedReadsOptions): void {
  const log = store.persistence;
  if (!isLoggedBodies(log)) return;
  app.addHook('preHandler', async (request, reply) => {
    if (request.method !== 'GET') return undefined;
    const bucket = request.params?.bucket;
    const key = request.params?.['*'];
    if (!bucket || !key) return undefined;
    if (Object.keys((request.query ?? {}) as object).some((name) => !plainQuery.has(name))) return undefined;
    if (conditionalHeaders.some((name) => request.headers[name] !== undefined)) return undefined;
    const obj = store.buckets.get(bucket)?.get(key);
    if (!obj || obj.body.length > 0 || obj.contentLength < options.minBytes) return undefined;
    const extents = log.extentsOf(bucket, key);
    if (!extents) return undefined;
    const total = obj.contentLength;
    const rangeHeader = request.headers.range;
    if (rangeHeader !== undefined) {
      const range = typeof rangeHeader === 'string' ? singleRange(rangeHeader, total) : undefined;
      if (!range) return undefined;
      setObjectHeaders(reply, obj);
      reply.header('content-length', range.end - range.start + 1);
      reply.header('content-range', `bytes ${range.start}-${range.end}/${total}`);
      reply.status(206).send(extentStream(extents, range.start, range.end));
      return reply;
    }
    setObjectHeaders(reply, obj);
    const checksumMode = request.headers['x-amz-checksum-mode'];
    if (typeof checksumMode === 'string' && checksumMode.toUpperCase() === 'ENABLED' && obj.checksumAlgorithm && obj.checksumValue) {
      reply.header(options.checksumHeaderName(obj.checksumAlgorithm), obj.checksumValue);
      if (obj.checksumType) reply.header('x-amz-checksum-type', obj.checksumType);
    }
    reply.header('content-length', total);
    reply.status(200).send(extentStream(extents, 0, total - 1));
    return reply;
  });
}
