/**
 * JPEG-LS, JPEG 2000 and HTJ2K frames decoded by the WebAssembly codecs and
 * compared with the uncompressed pixels they were made from: the real
 * fixtures of test/fixtures/dicom/files (dcmtk's dcmcjpls, gdcm, OpenJPEG's
 * opj_compress, OpenJPH's ojph_compress), whose sources test/fixtures/dicom/phantom.ts
 * draws. Lossless syntaxes must give every sample back; lossy ones within bounds.
 * Then what a hostile or broken frame gets: a RenderError with a reason.
 */
import { describe, expect, it } from 'vitest';
import type { SourceKind } from '../../../test/fixtures/dicom/phantom';
import { sourcePixels, sourceSize } from '../../../test/fixtures/dicom/phantom';
import { storedFrame } from '../../../test/fixtures/dicom/stored-frame';
import type { NativeFrame } from './decode-frame';
import { canDecode, decodeFrame } from './decode-frame';
import { maxFrameSamples } from './decode-wasm-frame';
import type { PixelModule } from './render-frame';
import { RenderError, renderFrame } from './render-frame';


/** Sample values, pixel by pixel (colour interleaved), as the module says to read them: masked to Bits Stored, sign-extended when signed. */
function values(pixels: Uint8Array, module: PixelModule, frame = 0): number[] {
  const count = module.rows * module.columns;
  const samples = module.samplesPerPixel;
  const bytes = module.bitsAllocated / 8;
  const view = new DataView(pixels.buffer, pixels.byteOffset, pixels.byteLength);
  const base = frame * count * samples;
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    for (let s = 0; s < samples; s++) {
      const index = base + (module.planarConfiguration === 1 ? s * count + i : i * samples + s);
      let v = bytes === 2 ? view.getUint16(index * 2, !module.bigEndian) : (pixels[index] as number);
      v &= 2 ** module.bitsStored - 1;
      if (module.pixelRepresentation === 1 && v >= 2 ** (module.bitsStored - 1)) v -= 2 ** module.bitsStored;
      out.push(v);
    }
  }
  return out;
}

function sourceValues(kind: SourceKind, frame = 0): number[] {
  const module: PixelModule = {
    ...sourceSize,
    bitsAllocated: kind.bits,
    bitsStored: kind.bits === 8 ? 8 : 12,
    pixelRepresentation: kind.signed ? 1 : 0,
    samplesPerPixel: kind.colour ? 3 : 1,
    photometricInterpretation: kind.colour ? 'RGB' : 'MONOCHROME2',
    planarConfiguration: 0,
    rescaleSlope: 1,
    rescaleIntercept: 0,
  };
  return values(sourcePixels(kind), module, frame);
}

function errors(decoded: NativeFrame, kind: SourceKind, frame = 0): { worst: number; mean: number } {
  const ours = values(decoded.pixels, decoded.module);
  const theirs = sourceValues(kind, frame);
  expect(ours).toHaveLength(theirs.length);
  let worst = 0;
  let sum = 0;
  ours.forEach((v, i) => {
    const d = Math.abs(v - (theirs[i] as number));
    worst = Math.max(worst, d);
    sum += d;
  });
  return { worst, mean: sum / ours.length };
}

const grey16: SourceKind = { bits: 16, frames: 1 };
const rgb: SourceKind = { bits: 8, frames: 1, colour: true };

describe('lossless frames give back every sample of the uncompressed original', () => {
  const cases: { file: string; syntax: string; kind: SourceKind; frame?: number; photometric: string }[] = [
    { file: 'jpeg-ls-lossless.dcm', syntax: '1.2.840.10008.1.2.4.80', kind: grey16, photometric: 'MONOCHROME2' },
    { file: 'jpeg-ls-signed.dcm', syntax: '1.2.840.10008.1.2.4.80', kind: { bits: 16, frames: 1, signed: true }, photometric: 'MONOCHROME2' },
    { file: 'jpeg-ls-rgb.dcm', syntax: '1.2.840.10008.1.2.4.80', kind: rgb, photometric: 'RGB' },
    { file: 'jpeg-ls-rgb-planes.dcm', syntax: '1.2.840.10008.1.2.4.80', kind: rgb, photometric: 'RGB' },
    { file: 'jpeg2000.dcm', syntax: '1.2.840.10008.1.2.4.90', kind: grey16, photometric: 'MONOCHROME2' },
    { file: 'jpeg2000-3frames.dcm', syntax: '1.2.840.10008.1.2.4.90', kind: { bits: 16, frames: 3 }, frame: 2, photometric: 'MONOCHROME2' },
    { file: 'jpeg2000-signed.dcm', syntax: '1.2.840.10008.1.2.4.90', kind: { bits: 16, frames: 1, signed: true }, photometric: 'MONOCHROME2' },
    // YBR_RCT: the decoder undoes the reversible colour transform, the frame is RGB again.
    { file: 'jpeg2000-rgb.dcm', syntax: '1.2.840.10008.1.2.4.90', kind: rgb, photometric: 'RGB' },
    { file: 'htj2k-lossless.dcm', syntax: '1.2.840.10008.1.2.4.201', kind: grey16, photometric: 'MONOCHROME2' },
    { file: 'htj2k-lossless-rpcl.dcm', syntax: '1.2.840.10008.1.2.4.202', kind: grey16, photometric: 'MONOCHROME2' },
    { file: 'htj2k-lossless-rgb.dcm', syntax: '1.2.840.10008.1.2.4.201', kind: rgb, photometric: 'RGB' },
  ];

  it.each(cases)('$file ($syntax)', async ({ file, syntax, kind, frame, photometric }) => {
    const { bytes, module, transferSyntax } = storedFrame(file, frame);
    expect(transferSyntax).toBe(syntax);
    expect(canDecode(syntax)).toBe(true);
    const decoded = await decodeFrame(syntax, bytes, module);
    expect(decoded.module).toMatchObject({ rows: 64, columns: 64, samplesPerPixel: kind.colour ? 3 : 1, photometricInterpretation: photometric, bigEndian: false, pixelRepresentation: kind.signed ? 1 : 0 });
    expect(errors(decoded, kind, frame)).toEqual({ worst: 0, mean: 0 });
    // And it renders: grey through the window, colour as it is.
    const image = renderFrame(decoded.pixels, decoded.module);
    expect([image.width, image.height]).toEqual([64, 64]);
  });
});

describe('lossy frames stay within what their encoder allowed', () => {
  it('JPEG-LS near-lossless (NEAR = 2) is never more than 2 off', async () => {
    const { bytes, module, transferSyntax } = storedFrame('jpeg-ls-near-lossless.dcm');
    expect(transferSyntax).toBe('1.2.840.10008.1.2.4.81');
    const { worst, mean } = errors(await decodeFrame(transferSyntax, bytes, module), grey16);
    expect(worst).toBeLessThanOrEqual(2);
    expect(mean).toBeGreaterThan(0); // lossy for real
  });

  const lossy = [
    // 12-bit grey at 8:1: a few grey levels out of 4096 on average.
    { file: 'jpeg2000-lossy.dcm', syntax: '1.2.840.10008.1.2.4.91', kind: grey16, photometric: 'MONOCHROME2', meanBelow: 8, worstBelow: 160 },
    // YBR_ICT: the decoder undoes the irreversible colour transform.
    { file: 'jpeg2000-rgb-lossy.dcm', syntax: '1.2.840.10008.1.2.4.91', kind: rgb, photometric: 'RGB', meanBelow: 3, worstBelow: 48 },
    { file: 'htj2k-rgb.dcm', syntax: '1.2.840.10008.1.2.4.203', kind: rgb, photometric: 'RGB', meanBelow: 3, worstBelow: 48 },
  ];
  it.each(lossy)('$file ($syntax)', async ({ file, syntax, kind, photometric, meanBelow, worstBelow }) => {
    const { bytes, module, transferSyntax } = storedFrame(file);
    expect(transferSyntax).toBe(syntax);
    const decoded = await decodeFrame(syntax, bytes, module);
    expect(decoded.module.photometricInterpretation).toBe(photometric);
    const { worst, mean } = errors(decoded, kind);
    expect(mean).toBeLessThan(meanBelow);
    expect(worst).toBeLessThan(worstBelow);
  });

  it('an HTJ2K (1.2.840.10008.1.2.4.203) frame may hold a plain JPEG 2000 codestream: OpenJPEG decodes it', async () => {
    const { bytes, module } = storedFrame('jpeg2000.dcm');
    expect(errors(await decodeFrame('1.2.840.10008.1.2.4.203', bytes, module), grey16).worst).toBe(0);
  });
});

describe('broken and hostile frames are refused with a reason', () => {
  const refusal = async (syntax: string, bytes: Uint8Array, module: PixelModule): Promise<string> => {
    const error = await decodeFrame(syntax, bytes, module).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RenderError);
    return (error as RenderError).message;
  };

  const files = [
    { file: 'jpeg-ls-lossless.dcm', kind: grey16 },
    { file: 'jpeg2000.dcm', kind: grey16 },
    { file: 'htj2k-lossless.dcm', kind: grey16 },
    { file: 'htj2k-lossless-rgb.dcm', kind: rgb },
  ];

  it.each(files)('$file cut in half, then the whole frame again: a reason, and the codec still decodes', async ({ file, kind }) => {
    const { bytes, module, transferSyntax } = storedFrame(file);
    for (const length of [Math.floor(bytes.length / 2), 60]) {
      const message = await refusal(transferSyntax, bytes.subarray(0, length), module);
      expect(message).toMatch(/truncated|cannot be decoded/);
    }
    expect(errors(await decodeFrame(transferSyntax, bytes, module), kind).worst).toBe(0);
  });

  it.each(files)('$file with noise in place of its coded data: a reason or a different image, never a crash', async ({ file }) => {
    const { bytes, module, transferSyntax } = storedFrame(file);
    const noisy = Uint8Array.from(bytes);
    let seed = 7;
    // The end marker (EOI, EOC) kept: the codec itself meets the noise.
    const end = noisy.lastIndexOf(0xff);
    for (let i = 200; i < end; i++) noisy[i] = (seed = (seed * 1103515245 + 12345) % 2 ** 31) & 0xff;
    await decodeFrame(transferSyntax, noisy, module).then(
      (decoded) => expect(decoded.pixels.length).toBeGreaterThan(0),
      (error: unknown) => expect(error).toBeInstanceOf(RenderError),
    );
  });

  it('a header claiming a huge image is refused before any codec allocates it', async () => {
    const ls = storedFrame('jpeg-ls-lossless.dcm');
    const bigLs = Uint8Array.from(ls.bytes);
    const sof = Buffer.from(bigLs).indexOf(Buffer.from([0xff, 0xf7]));
    bigLs.set([0xff, 0xff, 0xff, 0xff], sof + 5); // 65535 × 65535
    const huge = { ...ls.module, rows: 65535, columns: 65535 };
    expect(await refusal(ls.transferSyntax, bigLs, huge)).toMatch(new RegExp(`65535 × 65535 × 1 samples, more than the ${maxFrameSamples}`));

    const j2k = storedFrame('htj2k-lossless.dcm');
    const bigJ2k = Uint8Array.from(j2k.bytes);
    new DataView(bigJ2k.buffer).setUint32(8, 100_000); // Xsiz
    new DataView(bigJ2k.buffer).setUint32(12, 100_000); // Ysiz
    expect(await refusal(j2k.transferSyntax, bigJ2k, { ...j2k.module, rows: 100_000, columns: 100_000 })).toMatch(/100000 × 100000 × 1 samples, more than/);
  });

  it('a frame whose size is not the instance’s is refused (the renderer would read it wrongly)', async () => {
    const { bytes, module, transferSyntax } = storedFrame('jpeg2000.dcm');
    expect(await refusal(transferSyntax, bytes, { ...module, rows: 32 })).toMatch(/64 × 64 where the instance says 64 × 32/);
    const ls = storedFrame('jpeg-ls-rgb.dcm');
    expect(await refusal(ls.transferSyntax, ls.bytes, { ...ls.module, samplesPerPixel: 1 })).toMatch(/3 components where the instance has 1 samples per pixel/);
  });

  it('data that is no codestream at all, or a JP2 file in place of one, says so', async () => {
    const module = storedFrame('jpeg2000.dcm').module;
    expect(await refusal('1.2.840.10008.1.2.4.80', Uint8Array.from([1, 2, 3, 4]), module)).toMatch(/does not start with a JPEG start-of-image marker/);
    expect(await refusal('1.2.840.10008.1.2.4.90', Uint8Array.from(Buffer.from('0000000c6a5020200d0a870a', 'hex')), module)).toMatch(/not a JPEG 2000 codestream/);
    expect(await refusal('1.2.840.10008.1.2.4.201', new Uint8Array(0), module)).toMatch(/not a JPEG 2000 codestream/);
  });
});
