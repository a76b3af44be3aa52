/**
 * WADO-RS frames (PS3.18 §10.4.1.1.4): one or several frames of an instance
 * as multipart/related, read from the archive by byte range at the offsets
 * recorded at ingest. Frames go out as stored, never transcoded: native
 * pixels as application/octet-stream (Explicit VR Little Endian), compressed
 * ones in their codec's media type; `transfer-syntax=*` takes them as stored.
 */
import type { Queryable } from '../adapters/database';
import { databasePool } from '../adapters/database';
import { badRequest, notFound } from '../http/errors';
import type { HttpRequest } from '../http/router';
import type { HttpResult } from '../http/types';
import { notAcceptable, parseAccept, typeMatches } from './accept';
import { archiveReader } from './archive-reader';
import { frameCache } from './frame-cache';
import { binary } from '../http/response';
import { buildMultipart, newBoundary } from './multipart';
import { auditStudyAccess } from './study-access';
import { canonicalMediaType, explicitVrLittleEndian, frameMediaType, isLittleEndianNative, isNative, transferSyntaxName } from './transfer-syntax';

export interface FrameSource {
  studyUid: string;
  seriesUid: string;
  sopUid: string;
  transferSyntaxUid: string;
  archiveKey: string;
  /** [offset, length] of each frame inside the archived file (spanning its fragments, item headers included). */
  frameRanges: [number, number][];
  /** Per frame, its fragments' value ranges when a compressed frame spans several; null when each frame is one range. */
  frameFragments?: [number, number][][] | null;
}

/** What one answer part will say it is. */
export interface FrameRendition {
  /** The part's media type, e.g. `application/octet-stream`. */
  mediaType: string;
  /** The transfer syntax the bytes are in, as labelled on the parts. */
  transferSyntaxUid: string;
}

/**
 * Chooses how to send frames stored in `stored` for this Accept header, or
 * explains in a 406 why it cannot. (Exported for tests.)
 */
export function negotiateFrames(accept: string | undefined, stored: string): FrameRendition {
  const storedType = frameMediaType(stored);
  const asStored: FrameRendition = { mediaType: storedType, transferSyntaxUid: isLittleEndianNative(stored) ? explicitVrLittleEndian : stored };
  for (const range of parseAccept(accept)) {
    if (range.type === '*/*') return asStored;
    if (range.type !== 'multipart/related' && range.type !== 'multipart/*') continue;
    const partType = canonicalMediaType(range.params.type?.toLowerCase() ?? 'application/octet-stream');
    const wantedSyntax = range.params['transfer-syntax'];
    if (wantedSyntax === '*') {
      // "Any transfer syntax": OHIF's request. The stored bytes, labelled with what they are.
      if (typeMatches(partType, 'application/octet-stream')) return { mediaType: 'application/octet-stream', transferSyntaxUid: asStored.transferSyntaxUid };
      if (typeMatches(partType, storedType)) return asStored;
      continue;
    }
    if (partType === 'application/octet-stream') {
      // Without a transfer-syntax parameter, octet-stream means Explicit VR Little Endian pixels.
      if (isLittleEndianNative(stored) && (wantedSyntax === undefined || wantedSyntax === explicitVrLittleEndian)) return asStored;
      if (wantedSyntax === stored) return { mediaType: 'application/octet-stream', transferSyntaxUid: stored };
      continue;
    }
    if (typeMatches(partType, storedType) && !isNative(stored) && (wantedSyntax === undefined || wantedSyntax === stored)) return asStored;
  }
  throw notAcceptable(
    `These frames are stored as ${transferSyntaxName(stored)} (${stored}) and are sent only as stored; transcoding is not supported. ` +
      `Ask for multipart/related; type="${storedType}"${isNative(stored) ? '' : `; transfer-syntax=${stored}`}, or transfer-syntax=*.`,
  );
}

/** "1,3,5" → [1, 3, 5] (1-based), each within the instance's frames. */
export function parseFrameList(text: string, numberOfFrames: number): number[] {
  const items = text.split(',').map((s) => s.trim());
  const frames: number[] = [];
  for (const item of items) {
    if (!/^\d{1,9}$/.test(item) || Number(item) < 1) throw badRequest('invalid_frame_list', 'Frames are numbered from 1: give one number or a comma-separated list (e.g. 1,2,3).');
    const n = Number(item);
    if (n > numberOfFrames) throw notFound('no_such_frame', `Frame ${n} does not exist: this instance has ${numberOfFrames} frame${numberOfFrames === 1 ? '' : 's'}.`);
    frames.push(n);
  }
  return frames;
}

/**
 * Frame sources of a series, cached per container: a viewer asks for every
 * frame of a series in turn, so one query serves them all. Entries are
 * dropped after a minute (a re-ingested instance may move its frames).
 */
const cache = new Map<string, { at: number; source: FrameSource }>();
const cacheMs = 60_000;

export async function frameSource(studyUid: string, seriesUid: string, sopUid: string, db: Queryable = databasePool()): Promise<FrameSource> {
  const hit = cache.get(sopUid);
  if (hit && Date.now() - hit.at < cacheMs && hit.source.seriesUid === seriesUid && hit.source.studyUid === studyUid) return hit.source;
  const rows = await db.query<{ sop_uid: string; transfer_syntax_uid: string; archive_key: string; frame_ranges: [number, number][]; frame_fragments: [number, number][][] | null }>(
    `SELECT sop_uid, transfer_syntax_uid, archive_key, frame_ranges, frame_fragments FROM instances WHERE series_uid = $1 AND study_uid = $2`,
    [seriesUid, studyUid],
  );
  if (cache.size > 50_000) cache.clear();
  const now = Date.now();
  let found: FrameSource | undefined;
  for (const row of rows.rows) {
    const source: FrameSource = { studyUid, seriesUid, sopUid: row.sop_uid, transferSyntaxUid: row.transfer_syntax_uid, archiveKey: row.archive_key, frameRanges: row.frame_ranges, frameFragments: row.frame_fragments };
    cache.set(row.sop_uid, { at: now, source });
    if (row.sop_uid === sopUid) found = source;
  }
  if (!found) throw notFound('not_found', 'No such instance in this series and study.');
  return found;
}

/** Reads frames with as few range requests as possible: neighbouring frames share one read. */
export async function readFrames(source: FrameSource, frames: readonly number[]): Promise<Buffer[]> {
  const ranges = frames.map((n) => source.frameRanges[n - 1] as [number, number]);
  const order = ranges.map((r, i) => ({ r, i })).sort((a, b) => a.r[0] - b.r[0]);
  const out: Buffer[] = new Array<Buffer>(frames.length);
  const reader = archiveReader();
  const cache = frameCache();
  const maxGapBytes = 64 * 1024;
  let group: typeof order = [];
  const flush = async () => {
    if (!group.length) return;
    const start = group[0]?.r[0] as number;
    const end = Math.max(...group.map((g) => g.r[0] + g.r[1]));
    const cacheKey = `${source.archiveKey}|${start}|${end - start}`;
    let bytes = cache.get(cacheKey);
    if (!bytes) {
      bytes = await reader.range(source.archiveKey, start, end - start);
      cache.set(cacheKey, bytes);
    }
    for (const g of group) {
      const fragments = source.frameFragments?.[(frames[g.i] as number) - 1];
      // A frame in several fragments is their values put together, without the item headers between them.
      out[g.i] = fragments && fragments.length > 1
        ? Buffer.concat(fragments.map(([offset, length]) => bytes.subarray(offset - start, offset - start + length)))
        : bytes.subarray(g.r[0] - start, g.r[0] - start + g.r[1]);
    }
    group = [];
  };
  for (const item of order) {
    const last = group[group.length - 1];
    if (last && item.r[0] > last.r[0] + last.r[1] + maxGapBytes) await flush();
    group.push(item);
  }
  await flush();
  return out;
}

export async function answerFrames(request: HttpRequest<unknown>): Promise<HttpResult> {
  const { study, series, instance, frames: frameText } = request.params as Record<string, string>;
  const source = await frameSource(study as string, series as string, instance as string);
  if (source.frameRanges.length === 0) throw notFound('no_pixel_data', 'This instance has no pixel data frames.');
  const frames = parseFrameList(frameText as string, source.frameRanges.length);
  const rendition = negotiateFrames(request.header('accept'), source.transferSyntaxUid);
  const [bodies] = await Promise.all([readFrames(source, frames), auditStudyAccess(request, 'retrieve', [source.studyUid])]);
  const boundary = newBoundary();
  const partType = `${rendition.mediaType}; transfer-syntax=${rendition.transferSyntaxUid}`;
  const body = buildMultipart(boundary, bodies.map((b, i) => ({ contentType: partType, headers: { 'Content-Location': `${request.path.replace(/\/frames\/[^/]*$/, '')}/frames/${frames[i]}` }, body: b })));
  return binary(200, body, `multipart/related; type="${rendition.mediaType}"; transfer-syntax=${rendition.transferSyntaxUid}; boundary=${boundary}`, {
    headers: { 'cache-control': 'private, max-age=3600' },
  });
}
