import type { DicomElement } from './dataset';
import { DicomRejection } from './rejection';

/** [offset, length] of bytes inside the written file. */
export type ByteRange = [offset: number, length: number];

export interface FrameLayout {
  /**
   * One range per frame. Native: the frame's slice of the pixel data value.
   * Encapsulated with one fragment per frame: the fragment's value. A frame
   * made of several fragments: the span from its first fragment's value to
   * its last one's end, item headers included; `frameFragments` then lists
   * the value ranges to concatenate.
   */
  frames: ByteRange[];
  /** Present when at least one frame spans several fragments: per frame, its fragment value ranges. */
  frameFragments?: ByteRange[][];
  /** The pixel data value: native bytes, or all items of encapsulated data (sequence delimiter excluded). */
  pixelData: { offset: number; length: number };
}

export interface ImagePixelDescription {
  numberOfFrames: number;
  rows: number;
  columns: number;
  samplesPerPixel: number;
  bitsAllocated: number;
  photometricInterpretation: string;
  /** Extended Offset Table (7FE0,0001) and Lengths (7FE0,0002) when present. */
  extendedOffsets?: number[];
  littleEndian: boolean;
}

function mismatch(reason: string): DicomRejection {
  return new DicomRejection('pixel-data-mismatch', reason);
}

function nativeFrames(element: DicomElement, outputStart: number, image: ImagePixelDescription): ByteRange[] {
  const valueStart = outputStart + (element.valueOffset - element.start);
  // 4:2:2 subsampled YBR stores two samples per pixel on average (PS3.3 C.7.6.3.1.2).
  const samples = image.photometricInterpretation.endsWith('_422') ? 2 : image.samplesPerPixel;
  const frameBits = image.rows * image.columns * samples * image.bitsAllocated;
  if (frameBits <= 0) throw mismatch('The image pixel description (rows, columns, bits allocated) is missing or zero.');
  const frames: ByteRange[] = [];
  for (let index = 0; index < image.numberOfFrames; index++) {
    // Single-bit frames need not be byte aligned: each range covers the bytes holding the frame's bits.
    const first = Math.floor((index * frameBits) / 8);
    const end = Math.ceil(((index + 1) * frameBits) / 8);
    if (end > element.valueLength) throw mismatch('The pixel data is shorter than rows × columns × samples × frames: the file is truncated or inconsistent.');
    frames.push([valueStart + first, end - first]);
  }
  return frames;
}

function startsFrame(bytes: Uint8Array, offset: number, length: number): boolean {
  if (length < 2) return false;
  const b0 = bytes[offset];
  const b1 = bytes[offset + 1];
  // JPEG / JPEG-LS SOI (FFD8), JPEG 2000 / HTJ2K codestream SOC (FF4F) or JP2 box signature.
  if (b0 === 0xff && (b1 === 0xd8 || b1 === 0x4f)) return true;
  return length >= 8 && bytes[offset + 4] === 0x6a && bytes[offset + 5] === 0x50 && bytes[offset + 6] === 0x20 && bytes[offset + 7] === 0x20;
}

function groupFragments(element: DicomElement, bytes: Uint8Array, image: ImagePixelDescription): Array<Array<[number, number]>> {
  const fragments = element.fragments ?? [];
  const bot = fragments[0];
  const data = fragments.slice(1);
  const frameCount = image.numberOfFrames;
  if (data.length === 0) return [];
  const firstItemStart = (data[0] as [number, number])[0] - 8;
  const byOffsets = (offsets: number[]): Array<Array<[number, number]>> | undefined => {
    if (offsets.length !== frameCount) return undefined;
    const groups: Array<Array<[number, number]>> = offsets.map(() => []);
    let frame = -1;
    for (const fragment of data) {
      const itemStart = fragment[0] - 8 - firstItemStart;
      while (frame + 1 < offsets.length && itemStart >= (offsets[frame + 1] as number)) frame++;
      if (frame < 0) return undefined;
      (groups[frame] as Array<[number, number]>).push(fragment);
    }
    return groups.every((group) => group.length > 0) ? groups : undefined;
  };
  if (image.extendedOffsets) {
    const groups = byOffsets(image.extendedOffsets);
    if (groups) return groups;
  }
  if (bot && bot[1] >= 4 && bot[1] % 4 === 0) {
    const view = new DataView(bytes.buffer, bytes.byteOffset + bot[0], bot[1]);
    const offsets: number[] = [];
    for (let at = 0; at < bot[1]; at += 4) offsets.push(view.getUint32(at, true));
    const groups = byOffsets(offsets);
    if (groups) return groups;
  }
  if (data.length === frameCount) return data.map((fragment) => [fragment]);
  if (frameCount === 1) return [data];
  // No usable offset table: a frame starts at each fragment that begins with a codestream marker.
  const groups: Array<Array<[number, number]>> = [];
  for (const fragment of data) {
    if (groups.length === 0 || startsFrame(bytes, fragment[0], fragment[1])) groups.push([fragment]);
    else (groups[groups.length - 1] as Array<[number, number]>).push(fragment);
  }
  if (groups.length === frameCount) return groups;
  throw mismatch(`The encapsulated pixel data has ${data.length} fragments for ${frameCount} frames and no usable offset table: frames cannot be located.`);
}

/** Frame byte ranges inside the output, given where the pixel data element was written. */
export function frameLayout(element: DicomElement, bytes: Uint8Array, outputStart: number, image: ImagePixelDescription): FrameLayout {
  const shift = outputStart - element.start;
  const pixelData = { offset: element.valueOffset + shift, length: element.valueLength };
  if (!element.fragments) return { frames: nativeFrames(element, outputStart, image), pixelData };
  const groups = groupFragments(element, bytes, image);
  if (groups.length !== image.numberOfFrames) {
    throw mismatch(`The encapsulated pixel data holds ${groups.length} frames but Number of Frames says ${image.numberOfFrames}.`);
  }
  const frames: ByteRange[] = [];
  let fragmented = false;
  for (const group of groups) {
    const first = group[0] as [number, number];
    const last = group[group.length - 1] as [number, number];
    if (group.length > 1) fragmented = true;
    frames.push([first[0] + shift, last[0] + last[1] - first[0]]);
  }
  const layout: FrameLayout = { frames, pixelData };
  if (fragmented) layout.frameFragments = groups.map((group) => group.map(([offset, length]): ByteRange => [offset + shift, length]));
  return layout;
}
