/**
 * JPEG-LS, JPEG 2000 and HTJ2K frames made native with the reference codecs
 * (wasm-codecs.ts): CharLS for JPEG-LS lossless and near-lossless, OpenJPH
 * for HTJ2K codestreams, OpenJPEG for JPEG 2000 (and for a codestream of an
 * HTJ2K transfer syntax that uses no HT code-blocks, which 1.2.840.10008.1.2.4.203
 * allows). The codestream's own header is read first: its size must be the
 * instance's Rows × Columns × Samples per Pixel and within `maxFrameSamples`,
 * so a hostile header cannot make a codec allocate gigabytes.
 * Out: little-endian samples in 8 or 16 bits, the JPEG 2000 colour transforms
 * (YBR_RCT, YBR_ICT) already undone by the decoder, so such frames are RGB.
 */
import type { NativeFrame } from './decode-frame';
import type { PixelModule } from './render-frame';
import { RenderError } from './render-frame';
import type { FrameInfo, JpegLsDecoder, WasmCodecName, WasmDecoder } from './wasm-codecs';
import { CodecFailure, decodeWith } from './wasm-codecs';

export const jpegLsSyntaxes = new Set(['1.2.840.10008.1.2.4.80', '1.2.840.10008.1.2.4.81']);
export const jpeg2000Syntaxes = new Set(['1.2.840.10008.1.2.4.90', '1.2.840.10008.1.2.4.91']);
export const htj2kSyntaxes = new Set(['1.2.840.10008.1.2.4.201', '1.2.840.10008.1.2.4.202', '1.2.840.10008.1.2.4.203']);

/** 64 Mi samples (8192 × 8192 grey, 4096 × 4096 × 3 colour...): beyond any single frame of a CT, MR, X-ray or mammogram. */
export const maxFrameSamples = 64 * 1024 * 1024;

/** What a codestream's header says, read before any codec sees it. */
export interface CodestreamSize {
  width: number;
  height: number;
  components: number;
  bitsPerSample: number;
  /** JPEG 2000 only: Rsiz bit 14, the codestream uses HT code-blocks (ISO/IEC 15444-15). */
  highThroughput?: boolean;
}

/** The frame header markers of the JPEG family: SOF55 for JPEG-LS (ISO/IEC 14495-1 C.2.2), SOF0-3 and 5-7 for JPEG (ISO/IEC 10918-1 B.2.2). */
export const jpegLsFrameMarkers: ReadonlySet<number> = new Set([0xf7]);
export const jpegFrameMarkers: ReadonlySet<number> = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7]);

/** A JPEG or JPEG-LS frame's size: its frame header marker segment after SOI and any tables. */
export function jpegFamilySize(bytes: Uint8Array, what: string, frameMarkers: ReadonlySet<number>): CodestreamSize {
  if (bytes[0] !== 0xff || bytes[1] !== 0xd8) throw new RenderError(`the ${what} frame does not start with a JPEG start-of-image marker`);
  let at = 2;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) throw new RenderError(`the ${what} frame has a damaged header`);
    const marker = bytes[at + 1] as number;
    if (marker === 0xff) {
      at++; // fill byte
      continue;
    }
    const length = ((bytes[at + 2] as number) << 8) | (bytes[at + 3] as number);
    if (frameMarkers.has(marker)) {
      if (at + 10 > bytes.length) break;
      return {
        bitsPerSample: bytes[at + 4] as number,
        height: ((bytes[at + 5] as number) << 8) | (bytes[at + 6] as number),
        width: ((bytes[at + 7] as number) << 8) | (bytes[at + 8] as number),
        components: bytes[at + 9] as number,
      };
    }
    if (marker === 0xda || marker === 0xd9) break;
    at += 2 + length;
  }
  throw new RenderError(`the ${what} frame has no frame header`);
}

/** JPEG 2000 (ISO/IEC 15444-1 A.5.1): the SIZ marker segment right after SOC. */
function jpeg2000Size(bytes: Uint8Array, what: string): CodestreamSize {
  if (bytes.length < 2 || bytes[0] !== 0xff || bytes[1] !== 0x4f) {
    throw new RenderError(`the ${what} frame is not a JPEG 2000 codestream (a JP2 file or damaged data)`);
  }
  if (bytes.length < 45 || bytes[2] !== 0xff || bytes[3] !== 0x51) throw new RenderError(`the ${what} frame has a damaged or truncated header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const components = view.getUint16(40);
  if (components < 1 || bytes.length < 42 + 3 * components) throw new RenderError(`the ${what} frame has a damaged or truncated header`);
  let bitsPerSample = 0;
  for (let c = 0; c < components; c++) bitsPerSample = Math.max(bitsPerSample, ((bytes[42 + 3 * c] as number) & 0x7f) + 1);
  return {
    width: view.getUint32(8) - view.getUint32(16),
    height: view.getUint32(12) - view.getUint32(20),
    components,
    bitsPerSample,
    highThroughput: (view.getUint16(6) & 0x4000) !== 0,
  };
}

/** The header must describe the instance's frame, within bounds, before a codec allocates anything. */
export function assertFits(size: CodestreamSize, module: PixelModule, what: string): void {
  if (size.width * size.height * size.components > maxFrameSamples) {
    throw new RenderError(`the ${what} frame is ${size.width} × ${size.height} × ${size.components} samples, more than the ${maxFrameSamples} decoded here`);
  }
  if (size.width !== module.columns || size.height !== module.rows) {
    throw new RenderError(`the ${what} frame is ${size.width} × ${size.height} where the instance says ${module.columns} × ${module.rows}`);
  }
  if (size.components !== module.samplesPerPixel) {
    throw new RenderError(`the ${what} frame has ${size.components} components where the instance has ${module.samplesPerPixel} samples per pixel`);
  }
  if (size.bitsPerSample < 2 || size.bitsPerSample > 16) throw new RenderError(`the ${what} frame has ${size.bitsPerSample}-bit samples; 2 to 16 are decoded here`);
}

interface Decoded {
  pixels: Uint8Array;
  info: FrameInfo;
  /** Colour planes one after the other (JPEG-LS without interleaving) rather than pixel by pixel. */
  planar: boolean;
}

/** The decoded samples copied out of the codec's memory (which the next frame reuses), after checking their count. */
function copyDecoded(decoder: WasmDecoder, module: PixelModule, what: string, planar: boolean): Decoded {
  const info = decoder.getFrameInfo();
  const view = decoder.getDecodedBuffer();
  const bytesPerSample = info.bitsPerSample > 8 ? 2 : 1;
  if (info.width !== module.columns || info.height !== module.rows || info.componentCount !== module.samplesPerPixel || view.length < module.rows * module.columns * module.samplesPerPixel * bytesPerSample) {
    throw new RenderError(`the ${what} frame is truncated or damaged: the codec decoded ${view.length} bytes of a ${module.columns} × ${module.rows} image`);
  }
  return { pixels: view.slice(0, module.rows * module.columns * module.samplesPerPixel * bytesPerSample), info, planar };
}

function nativeOf(decoded: Decoded, module: PixelModule, colour: { photometric: string; signed?: boolean | undefined }): NativeFrame {
  const bitsAllocated = decoded.info.bitsPerSample > 8 ? 16 : 8;
  return {
    pixels: decoded.pixels,
    module: {
      ...module,
      bitsAllocated,
      // The codestream's precision is what the samples hold; a smaller Bits Stored still masks (and sign-extends) them.
      bitsStored: Math.min(module.bitsStored || bitsAllocated, decoded.info.bitsPerSample),
      pixelRepresentation: colour.signed === undefined ? module.pixelRepresentation : colour.signed ? 1 : 0,
      photometricInterpretation: colour.photometric,
      planarConfiguration: module.samplesPerPixel > 1 && decoded.planar ? 1 : 0,
      bigEndian: false,
    },
  };
}

async function decodeCodestream<Decoder extends WasmDecoder>(codec: WasmCodecName, bytes: Uint8Array, what: string, inspect: (decoder: Decoder) => Decoded): Promise<Decoded> {
  try {
    return await decodeWith<Decoder, Decoded>(codec, bytes, inspect);
  } catch (error) {
    if (error instanceof CodecFailure) throw new RenderError(`the ${what} frame cannot be decoded (${error.message})`);
    throw error;
  }
}

/**
 * Whether the stream ends with EOI (after the zero byte that pads a fragment
 * to even length). CharLS, when the coded data stops short of any marker,
 * spends seconds before it gives up: a frame cut short is refused here.
 */
function endsWithEoi(bytes: Uint8Array): boolean {
  let end = bytes.length;
  while (end > 0 && bytes.length - end < 2 && bytes[end - 1] === 0) end--;
  return end >= 2 && bytes[end - 2] === 0xff && bytes[end - 1] === 0xd9;
}

export async function decodeJpegLs(bytes: Uint8Array, module: PixelModule): Promise<NativeFrame> {
  const what = 'JPEG-LS';
  assertFits(jpegFamilySize(bytes, what, jpegLsFrameMarkers), module, what);
  if (!endsWithEoi(bytes)) throw new RenderError('the JPEG-LS frame is truncated: it does not end with an end-of-image marker');
  const decoded = await decodeCodestream<JpegLsDecoder>('charls', bytes, what, (decoder) => copyDecoded(decoder, module, what, decoder.getInterleaveMode() === 0));
  // JPEG-LS keeps the colour space it was given (PS3.5 8.2.3): RGB or YBR_FULL stay so.
  return nativeOf(decoded, module, { photometric: module.photometricInterpretation });
}

/** JPEG 2000 and HTJ2K: by what the codestream says it uses, OpenJPH for HT code-blocks, else OpenJPEG. */
export async function decodeJpeg2000(bytes: Uint8Array, module: PixelModule, transferSyntaxUid: string): Promise<NativeFrame> {
  const what = htj2kSyntaxes.has(transferSyntaxUid) ? 'HTJ2K' : 'JPEG 2000';
  const size = jpeg2000Size(bytes, what);
  assertFits(size, module, what);
  const codec: WasmCodecName = size.highThroughput ? 'openjph' : 'openjpeg';
  const decoded = await decodeCodestream(codec, bytes, what, (decoder) => copyDecoded(decoder, module, what, false));
  // The decoder undoes the reversible (RCT) and irreversible (ICT) component transforms the codestream names.
  const photometric = ['YBR_RCT', 'YBR_ICT'].includes(module.photometricInterpretation.toUpperCase()) ? 'RGB' : module.photometricInterpretation;
  return nativeOf(decoded, module, { photometric, signed: decoded.info.isSigned });
}
