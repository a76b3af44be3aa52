/**
 * WADO-RS rendered resources and thumbnails (PS3.18 §10.4.1.1.3, §10.4.1.1.5)
 * as JPEG (jpeg-js) or PNG (pngjs), for instances, frames and series (a
 * series renders its middle image; a study's thumbnail is its first imaging
 * series'). Native pixel data is rendered as stored; JPEG Baseline, JPEG
 * Lossless, RLE, JPEG-LS, JPEG 2000 and HTJ2K frames are decoded first
 * (decode-frame.ts); other compressed syntaxes answer 406 with the reason.
 * Every image is kept in the archive bucket under derived/ after its first
 * render, per archived file: a new version of an instance renders anew.
 */
import jpeg from 'jpeg-js';
import { numberValue, stringValue } from '@medlake/shared/dicom/dicom-json-read';
import { PNG } from 'pngjs';
import type { Queryable } from '../adapters/database';
import { databasePool } from '../adapters/database';
import { badRequest, notFound } from '../http/errors';
import type { HttpRequest } from '../http/router';
import type { HttpResult } from '../http/types';
import { binary } from '../http/response';
import { notAcceptable, parseAccept, typeMatches } from './accept';
import { archiveReader } from './archive-reader';
import { canDecode, decodeFrame } from './decode-frame';
import type { DicomJson } from './dicom-json';
import { readFrames } from './frames';
import type { PixelModule, RenderOptions } from './render-frame';
import { RenderError, renderFrame } from './render-frame';
import { auditStudyAccess } from './study-access';
import { explicitVrBigEndian, isNative, transferSyntaxName } from './transfer-syntax';

/** An archived instance to render: where its file is, its frames and its (de-identified) attributes. */
export interface RenderTarget {
  study_uid: string;
  series_uid: string;
  sop_uid: string;
  transfer_syntax_uid: string;
  archive_key: string;
  frame_ranges: [number, number][];
  /** Per frame, its fragments (offset, length) when a compressed frame spans several. */
  frame_fragments?: [number, number][][] | null;
  attributes: DicomJson;
}

type ImageType = 'image/jpeg' | 'image/png';

export interface RenderRequest {
  type: ImageType;
  options: RenderOptions;
  quality: number;
}

const thumbnailSize = 256;

/** Reads Accept and the viewport/window/quality parameters; 400/406 with reasons. (Exported for tests.) */
export function renderRequestOf(accept: string | undefined, query: URLSearchParams, thumbnail: boolean): RenderRequest {
  let type: ImageType | undefined;
  for (const range of parseAccept(accept)) {
    if (typeMatches(range.type, 'image/jpeg')) type = 'image/jpeg';
    else if (typeMatches(range.type, 'image/png')) type = 'image/png';
    if (type) break;
  }
  if (!type) throw notAcceptable('Rendered images are available as image/jpeg or image/png.');
  const options: RenderOptions = thumbnail ? { viewport: { width: thumbnailSize, height: thumbnailSize } } : {};
  let quality = 90;
  for (const [name, value] of query) {
    if (name === 'viewport') {
      const parts = value.split(',').map((v) => Number(v));
      const [w, h] = parts;
      if (parts.length < 2 || !Number.isInteger(w) || !Number.isInteger(h) || (w as number) < 1 || (h as number) < 1 || (w as number) > 4096 || (h as number) > 4096) {
        throw badRequest('invalid_parameter', 'viewport must be "width,height" in pixels (1-4096); cropping is not supported.');
      }
      if (parts.length > 2) throw badRequest('invalid_parameter', 'viewport cropping (sx,sy,sw,sh) is not supported; give "width,height".');
      options.viewport = { width: w as number, height: h as number };
    } else if (name === 'window') {
      const [center, width, fn] = value.split(',');
      if (!Number.isFinite(Number(center)) || !Number.isFinite(Number(width)) || Number(width) <= 0 || center === '' || width === undefined) {
        throw badRequest('invalid_parameter', 'window must be "center,width[,linear]" with a positive width.');
      }
      if (fn !== undefined && fn.toLowerCase() !== 'linear') throw badRequest('invalid_parameter', 'Only the linear window function is supported.');
      options.window = { center: Number(center), width: Number(width) };
    } else if (name === 'quality') {
      if (!/^\d{1,3}$/.test(value) || Number(value) < 1 || Number(value) > 100) throw badRequest('invalid_parameter', 'quality must be a whole number from 1 to 100.');
      quality = Number(value);
    } else {
      throw badRequest('unknown_parameter', `Unknown parameter "${name}": rendered images take viewport, window and quality.`);
    }
  }
  return { type, options, quality };
}

/** The Image Pixel module of stored attributes. (Exported for tests.) */
export function pixelModuleOf(json: DicomJson, transferSyntaxUid: string): PixelModule {
  const rows = numberValue(json, '00280010');
  const columns = numberValue(json, '00280011');
  if (!rows || !columns) throw new RenderError('The instance has no Rows/Columns.');
  return {
    rows,
    columns,
    bitsAllocated: numberValue(json, '00280100') ?? 16,
    bitsStored: numberValue(json, '00280101') ?? numberValue(json, '00280100') ?? 16,
    pixelRepresentation: numberValue(json, '00280103') ?? 0,
    samplesPerPixel: numberValue(json, '00280002') ?? 1,
    photometricInterpretation: stringValue(json, '00280004') ?? 'MONOCHROME2',
    planarConfiguration: numberValue(json, '00280006') ?? 0,
    rescaleSlope: numberValue(json, '00281053') ?? 1,
    rescaleIntercept: numberValue(json, '00281052') ?? 0,
    windowCenter: numberValue(json, '00281050') ?? undefined,
    windowWidth: numberValue(json, '00281051') ?? undefined,
    bigEndian: transferSyntaxUid === explicitVrBigEndian,
  };
}

function encode(image: ReturnType<typeof renderFrame>, request: RenderRequest): Buffer {
  if (request.type === 'image/png') {
    const png = new PNG({ width: image.width, height: image.height });
    image.data.copy(png.data);
    return PNG.sync.write(png);
  }
  return jpeg.encode({ width: image.width, height: image.height, data: image.data }, request.quality).data;
}

function cacheKey(target: RenderTarget, frame: number, kind: string, request: RenderRequest): string {
  const v = request.options.viewport ? `${request.options.viewport.width}x${request.options.viewport.height}` : 'full';
  const w = request.options.window ? `${request.options.window.center}_${request.options.window.width}` : 'auto';
  const ext = request.type === 'image/png' ? 'png' : `q${request.quality}.jpg`;
  // Per archived file, not per SOP Instance UID: a new version (or another held file) of the instance gets images of its own.
  const file = (target.archive_key.split('/').pop() ?? target.sop_uid).replace(/\.dcm$/, '');
  return `derived/studies/${target.study_uid}/series/${target.series_uid}/instances/${target.sop_uid}/${file}/${kind}/f${frame}-${v}-${w}.${ext}`;
}

/** Whether frames stored in this transfer syntax can be rendered: native, or decoded here. */
export function canRender(transferSyntaxUid: string): boolean {
  return isNative(transferSyntaxUid) || canDecode(transferSyntaxUid);
}

/** 404 for an instance without pixels or a frame it does not have, 406 for compressed pixel data no decoder here reads. */
function assertRenderable(target: RenderTarget, frame: number): void {
  if (target.frame_ranges.length === 0) throw notFound('no_pixel_data', 'This instance has no image to render.');
  if (frame > target.frame_ranges.length) throw notFound('no_such_frame', `Frame ${frame} does not exist: this instance has ${target.frame_ranges.length}.`);
  if (!canRender(target.transfer_syntax_uid)) {
    throw notAcceptable(`This image is stored compressed (${transferSyntaxName(target.transfer_syntax_uid)}), which cannot be rendered here. Fetch its frames instead.`);
  }
}

/**
 * One frame of an archived file as the wanted image (read by byte range,
 * rendered, encoded): what /rendered and /thumbnail answer, and what the
 * review of held instances shows. No audit, no cache: the caller decides.
 */
export async function renderStoredFrame(target: RenderTarget, frame: number, wanted: RenderRequest): Promise<Buffer> {
  assertRenderable(target, frame);
  const [pixels] = await readFrames(
    { studyUid: target.study_uid, seriesUid: target.series_uid, sopUid: target.sop_uid, transferSyntaxUid: target.transfer_syntax_uid, archiveKey: target.archive_key, frameRanges: target.frame_ranges, frameFragments: target.frame_fragments ?? null },
    [frame],
  );
  try {
    const module = pixelModuleOf(target.attributes, target.transfer_syntax_uid);
    const native = isNative(target.transfer_syntax_uid) ? { pixels: pixels as Buffer, module } : await decodeFrame(target.transfer_syntax_uid, pixels as Buffer, module);
    return encode(renderFrame(native.pixels, native.module, wanted.options), wanted);
  } catch (error) {
    if (error instanceof RenderError) throw notAcceptable(`This image cannot be rendered: ${error.message}`);
    throw error;
  }
}

async function renderTarget(request: HttpRequest<unknown>, target: RenderTarget, frame: number, kind: 'rendered' | 'thumbnail'): Promise<HttpResult> {
  const wanted = renderRequestOf(request.header('accept'), request.query, kind === 'thumbnail');
  assertRenderable(target, frame);
  await auditStudyAccess(request, 'retrieve', [target.study_uid]);
  const headers = { 'cache-control': 'private, max-age=86400' };
  const key = cacheKey(target, frame, kind, wanted);
  const reader = archiveReader();
  const cached = await reader.optional(key);
  if (cached) return binary(200, cached, wanted.type, { headers });
  const image = await renderStoredFrame(target, frame, wanted);
  await reader.put(key, image, wanted.type);
  return binary(200, image, wanted.type, { headers });
}

const targetColumns = 'study_uid, series_uid, sop_uid, transfer_syntax_uid, archive_key, frame_ranges, frame_fragments, attributes';

async function instanceTarget(study: string, series: string, instance: string, db: Queryable): Promise<RenderTarget> {
  const row = (await db.query<RenderTarget>(`SELECT ${targetColumns} FROM instances WHERE sop_uid = $1 AND series_uid = $2 AND study_uid = $3`, [instance, series, study])).rows[0];
  if (!row) throw notFound('not_found', 'No such instance in this series and study.');
  return row;
}

/** The middle image of a series (by instance number), as a radiologist would pick it for a card. */
async function seriesTarget(study: string, series: string | undefined, db: Queryable): Promise<RenderTarget> {
  const rows = await db.query<RenderTarget>(
    `WITH candidates AS (
       SELECT ${targetColumns}, instance_number, row_number() OVER (PARTITION BY series_uid ORDER BY instance_number NULLS LAST, sop_uid) AS n,
              count(*) OVER (PARTITION BY series_uid) AS total
       FROM instances
       WHERE study_uid = $1 AND ($2::text IS NULL OR series_uid = $2) AND jsonb_array_length(frame_ranges) > 0
     )
     SELECT c.${targetColumns.split(', ').join(', c.')} FROM candidates c JOIN series se ON se.series_uid = c.series_uid
     WHERE c.n = (c.total + 1) / 2
     ORDER BY se.series_number NULLS LAST, se.series_uid LIMIT 1`,
    [study, series ?? null],
  );
  const row = rows.rows[0];
  if (!row) throw notFound('not_found', series ? 'No image in this series.' : 'No image in this study.');
  return row;
}

export async function answerInstanceRendered(request: HttpRequest<unknown>, kind: 'rendered' | 'thumbnail', db: Queryable = databasePool()): Promise<HttpResult> {
  const { study, series, instance, frames } = request.params as Record<string, string>;
  const target = await instanceTarget(study as string, series as string, instance as string, db);
  let frame = 1;
  if (frames !== undefined) {
    const firstFrame = frames.split(',')[0] ?? '';
    if (!/^\d{1,9}$/.test(firstFrame) || Number(firstFrame) < 1) throw badRequest('invalid_frame_list', 'Frames are numbered from 1.');
    frame = Number(firstFrame);
  }
  return renderTarget(request, target, frame, kind);
}

export async function answerSeriesRendered(request: HttpRequest<unknown>, kind: 'rendered' | 'thumbnail', db: Queryable = databasePool()): Promise<HttpResult> {
  const { study, series } = request.params as Record<string, string>;
  return renderTarget(request, await seriesTarget(study as string, series, db), 1, kind);
}
