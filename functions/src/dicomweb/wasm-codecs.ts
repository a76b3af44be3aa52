/**
 * The WebAssembly builds of the reference codecs that decode-frame.ts uses
 * for JPEG-LS (CharLS), JPEG 2000 (OpenJPEG) and HTJ2K (OpenJPH), loaded on
 * first use and then kept for the life of the container: a Lambda serving
 * native or JPEG studies never pays for them at cold start.
 *
 * Each package's JavaScript glue reads its .wasm from its own folder, so the
 * packages are not bundled: the Lambda bundles keep them external and carry
 * the files listed in `wasmCodecFiles` under node_modules/ beside index.mjs
 * (infra/src/processing.ts), where Node finds them as it does here.
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';

export interface FrameInfo {
  width: number;
  height: number;
  bitsPerSample: number;
  componentCount: number;
  isSigned?: boolean;
}

/** The calls the codecs' decoders share (Embind classes over the codec's own memory). */
export interface WasmDecoder {
  /** A view into the codec's memory of `length` bytes, for the encoded frame. */
  getEncodedBuffer(length: number): Uint8Array;
  /** A view into the codec's memory of the decoded samples: copy before the next call. */
  getDecodedBuffer(): Uint8Array;
  decode(): void;
  getFrameInfo(): FrameInfo;
  delete(): void;
}

export interface JpegLsDecoder extends WasmDecoder {
  /** 0: planes one after the other; 1 (line) and 2 (sample): decoded pixel by pixel. */
  getInterleaveMode(): number;
  getNearLossless(): number;
}

export interface CodecModule<Decoder> {
  /** The codec's memory, grown as decoding needs (never shrinks). */
  HEAP8: Int8Array;
  createDecoder(): Decoder;
}

export type WasmCodecName = 'charls' | 'openjpeg' | 'openjph';

/** Spelled out for each codec so that bundlers see which packages these imports name (and leave them external). */
const imports: Record<WasmCodecName, () => Promise<{ default: (module: Record<string, unknown>) => Promise<Record<string, unknown>> }>> = {
  charls: () => import('@cornerstonejs/codec-charls/decodewasmjs'),
  openjpeg: () => import('@cornerstonejs/codec-openjpeg/decodewasmjs'),
  openjph: () => import('@cornerstonejs/codec-openjph/wasmjs'),
};

/** Per codec: its package, the entry its glue is imported from, and the files that entry needs at run time. */
export const wasmCodecFiles: Record<WasmCodecName, { packageName: string; entry: string; files: string[]; decoderClass: string }> = {
  // The decode-only builds where the package has one: smaller to load.
  charls: { packageName: '@cornerstonejs/codec-charls', entry: 'decodewasmjs', files: ['package.json', 'dist/charlswasm_decode.js', 'dist/charlswasm_decode.wasm'], decoderClass: 'JpegLSDecoder' },
  openjpeg: { packageName: '@cornerstonejs/codec-openjpeg', entry: 'decodewasmjs', files: ['package.json', 'dist/openjpegwasm_decode.js', 'dist/openjpegwasm_decode.wasm'], decoderClass: 'J2KDecoder' },
  openjph: { packageName: '@cornerstonejs/codec-openjph', entry: 'wasmjs', files: ['package.json', 'dist/openjphjs.js', 'dist/openjphjs.wasm'], decoderClass: 'HTJ2KDecoder' },
};

/** Where a codec package's files are on this machine (the infra copies them into the bundles from here). */
export function wasmCodecDirectory(name: WasmCodecName): string {
  const { packageName, entry } = wasmCodecFiles[name];
  const entryFile = createRequire(import.meta.url).resolve(`${packageName}/${entry}`);
  // Every entry of these packages is dist/<file>.
  return dirname(dirname(entryFile));
}

/** Above this much memory after a frame, the instance is let go so a huge frame does not pin its memory for the container's life. */
const keptMemoryBytes = 256 * 1024 * 1024;

const loaded = new Map<WasmCodecName, Promise<CodecModule<WasmDecoder>>>();

/** The messages a codec printed while decoding the current frame (OpenJPH and OpenJPEG say why a codestream is refused). */
const printed = new Map<WasmCodecName, string[]>();

async function instantiate(name: WasmCodecName): Promise<CodecModule<WasmDecoder>> {
  const imported = await imports[name]();
  const messages: string[] = [];
  printed.set(name, messages);
  const uncaught = process.listeners('uncaughtException');
  const unhandled = process.listeners('unhandledRejection');
  // A fresh object each time: the glue makes it the module itself. Its output goes to the messages, not to stdout.
  const module = await imported.default({ print: (line: string) => messages.push(line), printErr: (line: string) => messages.push(line) });
  // The glue installs process-wide handlers that rethrow (made for a command-line program); the process keeps its own.
  for (const listener of process.listeners('uncaughtException')) if (!uncaught.includes(listener)) process.off('uncaughtException', listener);
  for (const listener of process.listeners('unhandledRejection')) if (!unhandled.includes(listener)) process.off('unhandledRejection', listener);
  const Decoder = module[wasmCodecFiles[name].decoderClass] as new () => WasmDecoder;
  return {
    get HEAP8() {
      return module.HEAP8 as Int8Array;
    },
    createDecoder: () => new Decoder(),
  };
}

/** The codec, loaded once per container (a failed load is tried again on the next frame). */
function codec(name: WasmCodecName): Promise<CodecModule<WasmDecoder>> {
  let module = loaded.get(name);
  if (!module) {
    module = instantiate(name);
    loaded.set(name, module);
    module.catch(() => loaded.delete(name));
  }
  return module;
}

export class CodecFailure extends Error {}

/**
 * Decodes one frame with a fresh decoder of the codec: the encoded bytes
 * copied in, `inspect` run on the decoder once decoded, the decoder freed.
 * A codec that threw may have left its memory in any state (C++ exceptions
 * cross into JavaScript as bare numbers, without unwinding): that instance
 * is dropped and the next frame gets a new one. Throws CodecFailure with the
 * codec's own last message when it has one.
 */
export async function decodeWith<Decoder extends WasmDecoder, Result>(name: WasmCodecName, bytes: Uint8Array, inspect: (decoder: Decoder) => Result): Promise<Result> {
  const module = (await codec(name)) as CodecModule<Decoder>;
  const messages = printed.get(name) ?? [];
  messages.length = 0;
  let decoder: Decoder;
  try {
    decoder = module.createDecoder();
    decoder.getEncodedBuffer(bytes.length).set(bytes);
    decoder.decode();
  } catch (error) {
    loaded.delete(name);
    const said = messages.filter((line) => /error/i.test(line)).at(-1);
    // Embind errors are Error objects with a message; a C++ exception is only a pointer into the codec's memory.
    const reason = said ?? (error instanceof Error ? error.message : 'damaged or truncated coded data');
    throw new CodecFailure(reason.replace(/^ojph (error|warning) 0x[0-9a-f]+ at [^:]+:\d+:\s*/i, '').trim());
  }
  try {
    return inspect(decoder);
  } finally {
    decoder.delete();
    if (module.HEAP8.length > keptMemoryBytes) loaded.delete(name);
  }
}
