/**
 * The part of jpeg-lossless-decoder-js (whose package names a declaration
 * file it does not ship) that decode-frame.ts uses.
 */
declare module 'jpeg-lossless-decoder-js' {
  export class Decoder {
    /** Decodes the JPEG Lossless stream at `offset` (`length` bytes) into samples of `numBytes` bytes each (1 or 2). */
    decode(buffer: ArrayBuffer, offset?: number, length?: number, numBytes?: number): Uint8Array | Uint16Array;
  }
}
