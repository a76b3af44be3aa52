/**
 * Compressed frames made native for /rendered and /thumbnail (study cards,
 * previews of held images): the archive keeps every file as it arrived, so
 * a JPEG or RLE study needs its frame decoded before it can be windowed and
 * encoded. Supported here, with pure-JavaScript decoders:
 * - JPEG Baseline (Process 1) and the 8-bit JPEG Extended files: jpeg-js,
 *   colour converted to RGB as the JPEG says;
 * - JPEG Lossless (Process 14, and its first-order prediction SV1), 2 to 16
 *   bits: jpeg-lossless-decoder-js;
 * - RLE Lossless (PS3.5 Annex G): below, a byte-segment PackBits decoder;
 * - JPEG-LS (lossless, near-lossless), JPEG 2000 (lossless, lossy) and
 *   HTJ2K (all three syntaxes): the WebAssembly builds of CharLS, OpenJPEG
 *   and OpenJPH (decode-wasm-frame.ts), loaded on the first such frame.
 * Other compressed syntaxes (MPEG, HEVC, deflated image frames...) answer
 * 406 with the reason; viewers fetch those frames from /frames.
 * Pure: the frame's bytes and its pixel module in, native pixels and the
 * pixel module they now follow out.
 */
import jpeg from 'jpeg-js';
import { Decoder as JpegLosslessDecoder } from 'jpeg-lossless-decoder-js';
import { assertFits, decodeJpeg2000, decodeJpegLs, htj2kSyntaxes, jpeg2000Syntaxes, jpegFamilySize, jpegFrameMarkers, jpegLsSyntaxes, maxFrameSamples } from './decode-wasm-frame';
import type { PixelModule } from './render-frame';
import { RenderError } from './render-frame';

export interface NativeFrame {
  pixels: Uint8Array;
  module: PixelModule;
}

const jpegBaseline = new Set(['1.2.840.10008.1.2.4.50', '1.2.840.10008.1.2.4.51']);
const jpegLossless = new Set(['1.2.840.10008.1.2.4.57', '1.2.840.10008.1.2.4.70']);
const rleLossless = '1.2.840.10008.1.2.5';

/** Whether a frame in this transfer syntax can be decoded here. */
export function canDecode(transferSyntaxUid: string): boolean {
  return (
    jpegBaseline.has(transferSyntaxUid) ||
    jpegLossless.has(transferSyntaxUid) ||
    transferSyntaxUid === rleLossless ||
    jpegLsSyntaxes.has(transferSyntaxUid) ||
    jpeg2000Syntaxes.has(transferSyntaxUid) ||
    htj2kSyntaxes.has(transferSyntaxUid)
  );
}

export async function decodeFrame(transferSyntaxUid: string, bytes: Uint8Array, module: PixelModule): Promise<NativeFrame> {
  if (jpegBaseline.has(transferSyntaxUid)) return decodeJpegBaseline(bytes, module);
  if (jpegLossless.has(transferSyntaxUid)) return decodeJpegLossless(bytes, module);
  if (transferSyntaxUid === rleLossless) return decodeRle(bytes, module);
  if (jpegLsSyntaxes.has(transferSyntaxUid)) return decodeJpegLs(bytes, module);
  if (jpeg2000Syntaxes.has(transferSyntaxUid) || htj2kSyntaxes.has(transferSyntaxUid)) return decodeJpeg2000(bytes, module, transferSyntaxUid);
  throw new RenderError(`frames in transfer syntax ${transferSyntaxUid} cannot be decoded here`);
}

function decodeJpegBaseline(bytes: Uint8Array, module: PixelModule): NativeFrame {
  // The header must describe the instance's frame, within bounds, before the decoder allocates anything.
  assertFits(jpegFamilySize(bytes, 'JPEG', jpegFrameMarkers), module, 'JPEG');
  let image: { width: number; height: number; data: Uint8Array };
  try {
    // RGB out (grey repeated in the three channels, YCbCr converted as the JPEG says).
    image = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false, maxResolutionInMP: maxFrameSamples / 1e6, maxMemoryUsageInMB: 512 });
  } catch (error) {
    throw new RenderError(`the JPEG frame cannot be decoded (${error instanceof Error ? error.message : String(error)})`);
  }
  const frame = { ...module, rows: image.height, columns: image.width, bitsAllocated: 8, bitsStored: 8, planarConfiguration: 0, bigEndian: false };
  if (module.samplesPerPixel === 1) {
    // Grey stays grey: its window and MONOCHROME1 inversion still apply.
    const grey = new Uint8Array(image.width * image.height);
    for (let i = 0; i < grey.length; i++) grey[i] = image.data[i * 3] as number;
    return { pixels: grey, module: { ...frame, samplesPerPixel: 1 } };
  }
  return { pixels: image.data, module: { ...frame, samplesPerPixel: 3, pixelRepresentation: 0, photometricInterpretation: 'RGB' } };
}

function decodeJpegLossless(bytes: Uint8Array, module: PixelModule): NativeFrame {
  assertFits(jpegFamilySize(bytes, 'JPEG Lossless', jpegFrameMarkers), module, 'JPEG Lossless');
  const bytesPerSample = module.bitsAllocated <= 8 ? 1 : 2;
  let decoded: Uint8Array | Uint16Array;
  try {
    decoded = new JpegLosslessDecoder().decode(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength, bytesPerSample);
  } catch (error) {
    throw new RenderError(`the JPEG Lossless frame cannot be decoded (${error instanceof Error ? error.message : String(error)})`);
  }
  // Samples come interleaved, in this machine's byte order (little endian, as native DICOM pixels here).
  const pixels = new Uint8Array(decoded.buffer, decoded.byteOffset, decoded.byteLength);
  if (pixels.length < module.rows * module.columns * module.samplesPerPixel * bytesPerSample) throw new RenderError('the JPEG Lossless frame is smaller than its rows × columns');
  return { pixels, module: { ...module, planarConfiguration: 0, bigEndian: false } };
}

/**
 * RLE Lossless (PS3.5 G.3): a 64-byte header (segment count, then up to 15
 * segment offsets), each segment one byte plane PackBits-encoded: for every
 * sample, its most significant byte first. Out: native little-endian
 * samples, colour as separate planes (planar configuration 1).
 */
function decodeRle(bytes: Uint8Array, module: PixelModule): NativeFrame {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 64) throw new RenderError('the RLE frame is shorter than its header');
  const segments = view.getUint32(0, true);
  const bytesPerSample = Math.ceil(module.bitsAllocated / 8);
  const expected = module.samplesPerPixel * bytesPerSample;
  if (segments !== expected) throw new RenderError(`the RLE frame has ${segments} segments where ${expected} were expected`);
  const count = module.rows * module.columns;
  const out = new Uint8Array(count * expected);
  for (let segment = 0; segment < segments; segment++) {
    const start = view.getUint32(4 + segment * 4, true);
    const end = segment + 1 < segments ? view.getUint32(8 + segment * 4, true) : bytes.length;
    if (start < 64 || end > bytes.length || end < start) throw new RenderError('the RLE frame has a segment outside its bytes');
    const sample = Math.floor(segment / bytesPerSample);
    // Segment k of a sample holds its k-th most significant byte; little endian puts that byte at the end.
    const byteInSample = bytesPerSample - 1 - (segment % bytesPerSample);
    const plane = unpackBits(bytes.subarray(start, end), count);
    const base = sample * count * bytesPerSample;
    for (let i = 0; i < count; i++) out[base + i * bytesPerSample + byteInSample] = plane[i] as number;
  }
  return { pixels: out, module: { ...module, planarConfiguration: module.samplesPerPixel > 1 ? 1 : 0, bigEndian: false } };
}

/** One PackBits-encoded byte plane of `length` bytes (a short plane ends in zeros). */
function unpackBits(data: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let i = 0;
  let o = 0;
  while (i < data.length && o < length) {
    const n = (data[i++] as number) << 24 >> 24;
    if (n >= 0) {
      const run = Math.min(n + 1, length - o, data.length - i);
      out.set(data.subarray(i, i + run), o);
      i += n + 1;
      o += run;
    } else if (n !== -128) {
      const run = Math.min(1 - n, length - o);
      out.fill(data[i++] as number, o, o + run);
      o += run;
    }
  }
  return out;
}
