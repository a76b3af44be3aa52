/**
 * Study cards and previews of JPEG-LS, JPEG 2000 and HTJ2K studies, end to
 * end: each real fixture of test/fixtures/dicom/files goes through upload,
 * ingest and de-identification into the archive, then GET /rendered through
 * the local front door must show what the uncompressed original shows (the
 * phantom the fixture was encoded from, rendered with the same window):
 * the same pixels for lossless syntaxes, close ones for lossy.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PixelModule } from '@medlake/functions/dicomweb/render-frame';
import { renderFrame } from '@medlake/functions/dicomweb/render-frame';
import type { SourceKind } from './fixtures/dicom/phantom';
import { sourcePixels, sourceSize } from './fixtures/dicom/phantom';
import { ingestFiles } from './ingest-support';
import type { TestStack, TestUser } from './support/local-stack';
import { startTestStack } from './support/local-stack';

let stack: TestStack;
let uploader: TestUser;
let researcher: TestUser;

beforeAll(async () => {
  stack = await startTestStack();
  [uploader, researcher] = await Promise.all([stack.createUser({ groups: ['uploader'] }), stack.createUser({ groups: ['researcher'] })]);
}, 600_000);

afterAll(async () => {
  await stack?.stop();
});

interface IndexedInstance {
  sop_uid: string;
  series_uid: string;
  study_uid: string;
  number_of_frames: number;
  transfer_syntax_uid: string;
}

async function ingested(file: string): Promise<IndexedInstance> {
  const bytes = readFileSync(fileURLToPath(new URL(`./fixtures/dicom/files/${file}`, import.meta.url)));
  const status = await ingestFiles(stack, uploader, [{ name: file, bytes }]);
  expect(status.files[0], status.files[0]?.reason).toMatchObject({ state: 'accepted' });
  const { rows } = await stack.db.query<IndexedInstance>(
    'SELECT sop_uid, series_uid, study_uid, number_of_frames, transfer_syntax_uid FROM instances WHERE sop_uid IN (SELECT sop_uid FROM instance_versions WHERE upload_id = $1)',
    [status.uploadId],
  );
  expect(rows).toHaveLength(1);
  return rows[0]!;
}

/** The uncompressed original's frame as the renderer sees it (the fixtures' sources carry Rescale Intercept -1024 when grey). */
function original(kind: SourceKind, frame: number): { pixels: Uint8Array; module: PixelModule } {
  const samples = kind.colour ? 3 : 1;
  const frameBytes = sourceSize.rows * sourceSize.columns * samples * (kind.bits / 8);
  const module: PixelModule = {
    ...sourceSize,
    bitsAllocated: kind.bits,
    bitsStored: kind.bits === 8 ? 8 : 12,
    pixelRepresentation: kind.signed ? 1 : 0,
    samplesPerPixel: samples,
    photometricInterpretation: kind.colour ? 'RGB' : 'MONOCHROME2',
    planarConfiguration: 0,
    rescaleSlope: 1,
    rescaleIntercept: kind.colour ? 0 : -1024,
  };
  return { pixels: sourcePixels(kind).subarray(frame * frameBytes, (frame + 1) * frameBytes), module };
}

/** A window over the original's whole range of rescaled values, so every grey level of it shows. */
function windowOf({ pixels, module }: ReturnType<typeof original>): { center: number; width: number } {
  const view = new DataView(pixels.buffer, pixels.byteOffset, pixels.byteLength);
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < module.rows * module.columns; i++) {
    const raw = module.bitsAllocated === 16 ? (module.pixelRepresentation ? view.getInt16(i * 2, true) : view.getUint16(i * 2, true)) : (pixels[i] as number);
    const v = raw + module.rescaleIntercept;
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  return { center: (min + max) / 2, width: max - min + 1 };
}

const grey16: SourceKind = { bits: 16, frames: 1 };
const signed: SourceKind = { bits: 16, frames: 1, signed: true };
const rgb: SourceKind = { bits: 8, frames: 1, colour: true };

const cases: { file: string; kind: SourceKind; worst: number; mean: number }[] = [
  { file: 'jpeg-ls-lossless.dcm', kind: grey16, worst: 0, mean: 0 },
  { file: 'jpeg-ls-signed.dcm', kind: signed, worst: 0, mean: 0 },
  { file: 'jpeg-ls-rgb.dcm', kind: rgb, worst: 0, mean: 0 },
  { file: 'jpeg-ls-rgb-planes.dcm', kind: rgb, worst: 0, mean: 0 },
  // NEAR = 2 grey values of 436 shown over 255 levels: at most 2 levels off.
  { file: 'jpeg-ls-near-lossless.dcm', kind: grey16, worst: 2, mean: 1 },
  { file: 'jpeg2000.dcm', kind: grey16, worst: 0, mean: 0 },
  { file: 'jpeg2000-3frames.dcm', kind: { bits: 16, frames: 3 }, worst: 0, mean: 0 },
  { file: 'jpeg2000-signed.dcm', kind: signed, worst: 0, mean: 0 },
  { file: 'jpeg2000-rgb.dcm', kind: rgb, worst: 0, mean: 0 },
  { file: 'jpeg2000-lossy.dcm', kind: grey16, worst: 64, mean: 4 },
  { file: 'jpeg2000-rgb-lossy.dcm', kind: rgb, worst: 64, mean: 3 },
  { file: 'htj2k-lossless.dcm', kind: grey16, worst: 0, mean: 0 },
  { file: 'htj2k-lossless-rpcl.dcm', kind: grey16, worst: 0, mean: 0 },
  { file: 'htj2k-lossless-rgb.dcm', kind: rgb, worst: 0, mean: 0 },
  { file: 'htj2k-rgb.dcm', kind: rgb, worst: 64, mean: 3 },
];

/** The instance each fixture became, by file name (the cases run in order). */
const instances = new Map<string, IndexedInstance>();

describe('GET /rendered of JPEG-LS, JPEG 2000 and HTJ2K instances', () => {
  it.each(cases)('$file shows what its uncompressed original shows', async ({ file, kind, worst, mean }) => {
    const instance = await ingested(file);
    instances.set(file, instance);
    const frame = instance.number_of_frames; // the last frame: its byte range is found among the others
    const source = original(kind, frame - 1);
    const window = windowOf(source);
    const path = `/dicomweb/studies/${instance.study_uid}/series/${instance.series_uid}/instances/${instance.sop_uid}/frames/${frame}/rendered`;
    const res = await fetch(`${stack.url}${path}?window=${window.center},${window.width}`, { headers: { authorization: `Bearer ${researcher.idToken}`, accept: 'image/png' } });
    const body = Buffer.from(await res.arrayBuffer());
    expect(res.status, body.toString()).toBe(200);
    const png = PNG.sync.read(body);
    const expected = renderFrame(source.pixels, source.module, { window });
    expect([png.width, png.height]).toEqual([expected.width, expected.height]);
    let worstSeen = 0;
    let sum = 0;
    let samples = 0;
    for (let i = 0; i < png.data.length; i++) {
      if (i % 4 === 3) continue; // alpha: opaque on both sides
      const d = Math.abs((png.data[i] as number) - (expected.data[i] as number));
      worstSeen = Math.max(worstSeen, d);
      sum += d;
      samples++;
    }
    expect(worstSeen).toBeLessThanOrEqual(worst);
    expect(sum / samples).toBeLessThanOrEqual(mean);
    // Not a blank image on either side.
    expect(new Set(expected.data).size).toBeGreaterThan(10);
  });

  it('the thumbnail of an HTJ2K instance is its image (64 × 64 fits the 256-pixel box as it is)', async () => {
    // The last colour fixture ingested above: the current version of the colour instance.
    const instance = instances.get('htj2k-rgb.dcm');
    expect(instance?.transfer_syntax_uid).toBe('1.2.840.10008.1.2.4.203');
    const res = await fetch(`${stack.url}/dicomweb/studies/${instance!.study_uid}/series/${instance!.series_uid}/instances/${instance!.sop_uid}/thumbnail`, {
      headers: { authorization: `Bearer ${researcher.idToken}`, accept: 'image/png' },
    });
    expect(res.status).toBe(200);
    const png = PNG.sync.read(Buffer.from(await res.arrayBuffer()));
    const expected = renderFrame(original(rgb, 0).pixels, original(rgb, 0).module);
    expect([png.width, png.height]).toEqual([64, 64]);
    let sum = 0;
    for (let i = 0; i < png.data.length; i++) sum += Math.abs((png.data[i] as number) - (expected.data[i] as number));
    expect(sum / png.data.length).toBeLessThanOrEqual(3);
  });
});
