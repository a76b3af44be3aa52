/**
 * Compressed frames decoded to native pixels, checked against dcmtk's own
 * decoders (dcmdjpeg, dcmdrle; Debian's dcmtk, as .ci/run installs it) on
 * the real compressed fixtures of test/fixtures/dicom/files.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dicomParser from 'dicom-parser';
import { afterAll, describe, expect, it } from 'vitest';
import { canDecode, decodeFrame } from './decode-frame';
import type { PixelModule } from './render-frame';
import { storedFrame } from '../../../test/fixtures/dicom/stored-frame';

const filesDir = join(import.meta.dirname, '../../../test/fixtures/dicom/files');
const work = mkdtempSync(join(tmpdir(), 'medlake-decode-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The same frame decoded by dcmtk into a native file. */
function referenceFrame(file: string, tool: 'dcmdjpeg' | 'dcmdrle', index: number, module: PixelModule): Uint8Array {
  const out = join(work, `${file}.native.dcm`);
  execFileSync(tool, [join(filesDir, file), out]);
  const data = dicomParser.parseDicom(readFileSync(out));
  const pixel = data.elements.x7fe00010 as dicomParser.Element;
  const frameBytes = module.rows * module.columns * module.samplesPerPixel * (module.bitsAllocated / 8);
  return data.byteArray.subarray(pixel.dataOffset + index * frameBytes, pixel.dataOffset + (index + 1) * frameBytes);
}

function samples(bytes: Uint8Array, bitsAllocated: number, count: number): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: count }, (_, i) => (bitsAllocated === 16 ? view.getUint16(i * 2, true) : (bytes[i] as number)));
}

describe('decodeFrame against dcmtk', () => {
  const cases = [
    { file: 'jpeg-lossless-sv1.dcm', tool: 'dcmdjpeg', frame: 0, tolerance: 0 },
    { file: 'rle.dcm', tool: 'dcmdrle', frame: 0, tolerance: 0 },
    { file: 'rle-3frames.dcm', tool: 'dcmdrle', frame: 2, tolerance: 0 },
    // Lossy: two JPEG decoders may round the inverse DCT differently by a grey level.
    { file: 'jpeg-baseline.dcm', tool: 'dcmdjpeg', frame: 0, tolerance: 2 },
    { file: 'jpeg-baseline-3frames-fragmented.dcm', tool: 'dcmdjpeg', frame: 1, tolerance: 2 },
  ] as const;

  it.each(cases)('$file frame $frame gives the pixels dcmtk gives', async ({ file, tool, frame, tolerance }) => {
    const { bytes, module, transferSyntax } = storedFrame(file, frame);
    expect(canDecode(transferSyntax)).toBe(true);
    const decoded = await decodeFrame(transferSyntax, bytes, module);
    expect(decoded.module).toMatchObject({ rows: module.rows, columns: module.columns, samplesPerPixel: 1, bigEndian: false });
    const count = module.rows * module.columns;
    const ours = samples(decoded.pixels, decoded.module.bitsAllocated, count);
    const theirs = samples(referenceFrame(file, tool, frame, module), module.bitsAllocated, count);
    const worst = Math.max(...ours.map((v, i) => Math.abs(v - (theirs[i] as number))));
    expect(worst).toBeLessThanOrEqual(tolerance);
    // Not a blank image: the fixtures are a gradient with a disc.
    expect(new Set(ours).size).toBeGreaterThan(10);
  });

});

describe('RLE segments', () => {
  const module: PixelModule = { rows: 2, columns: 3, bitsAllocated: 8, bitsStored: 8, pixelRepresentation: 0, samplesPerPixel: 3, photometricInterpretation: 'RGB', planarConfiguration: 0, rescaleSlope: 1, rescaleIntercept: 0 };

  /** A 64-byte RLE header for the given segments, then the segments. */
  function rleFrame(segments: number[][]): Uint8Array {
    const header = Buffer.alloc(64);
    header.writeUInt32LE(segments.length, 0);
    let offset = 64;
    segments.forEach((segment, i) => {
      header.writeUInt32LE(offset, 4 + i * 4);
      offset += segment.length;
    });
    return Buffer.concat([header, ...segments.map((s) => Buffer.from(s))]);
  }

  it('decodes literal and replicate runs, skips the -128 no-op, and gives colour as planes', async () => {
    const red = [0x02, 1, 2, 3, 0x80, 0xfe, 9]; // 3 literals, a no-op, then 9 three times
    const green = [0xfb, 7]; // 7 six times
    const blue = [0x05, 10, 11, 12, 13, 14, 15];
    const decoded = await decodeFrame('1.2.840.10008.1.2.5', rleFrame([red, green, blue]), module);
    expect([...decoded.pixels]).toEqual([1, 2, 3, 9, 9, 9, 7, 7, 7, 7, 7, 7, 10, 11, 12, 13, 14, 15]);
    expect(decoded.module.planarConfiguration).toBe(1);
  });

  it('refuses a frame whose segment count does not fit its pixel module', async () => {
    await expect(decodeFrame('1.2.840.10008.1.2.5', rleFrame([[0x00, 1]]), module)).rejects.toThrow(/1 segments where 3 were expected/);
  });
});

describe('JPEG headers are checked before decoding', () => {
  it.each([['jpeg-baseline.dcm'], ['jpeg-lossless-sv1.dcm']])('%s: a frame larger than the instance says, or not a JPEG, is refused with a reason', async (file) => {
    const { bytes, module, transferSyntax } = storedFrame(file);
    await expect(decodeFrame(transferSyntax, bytes, { ...module, rows: module.rows - 1 })).rejects.toThrow(/where the instance says/);
    await expect(decodeFrame(transferSyntax, bytes, { ...module, samplesPerPixel: module.samplesPerPixel === 1 ? 3 : 1 })).rejects.toThrow(/components where the instance has/);
    await expect(decodeFrame(transferSyntax, bytes.subarray(2), module)).rejects.toThrow(/start-of-image/);
  });
});
