import type { Encoding } from './dataset';
import { hasLongLength } from './dataset';
import type { OutDataset, OutElement } from './deidentify-dataset';
import { Tag } from './tags';

/**
 * Writes preamble + file meta + data set into one buffer allocated once:
 * sizes are computed first, then untouched input ranges (pixel data above
 * all) are copied with a single `set` each and changed elements encoded.
 */

export interface WrittenPart10 {
  bytes: Uint8Array;
  /** Where each top-level copied element landed: output offset of its header by tag. */
  placed: Map<number, number>;
}

function headerSize(vr: string, encoding: Encoding): number {
  return encoding.explicitVr && hasLongLength(vr) ? 12 : 8;
}

function elementSize(element: OutElement, encoding: Encoding): number {
  switch (element.kind) {
    case 'copy':
      return element.source.end - element.source.start;
    case 'value':
      return headerSize(element.vr, encoding) + element.value.length;
    case 'sequence': {
      let size = headerSize('SQ', encoding) + 8; // header + sequence delimiter
      for (const item of element.items) size += 16 + datasetSize(item);
      return size;
    }
  }
}

function datasetSize(dataset: OutDataset): number {
  let size = 0;
  for (const element of dataset.elements) size += elementSize(element, dataset.encoding);
  return size;
}

class Writer {
  readonly bytes: Uint8Array;
  private readonly view: DataView;
  position = 0;

  constructor(size: number) {
    // Uninitialized memory saves zero-filling ~0.5 MB per instance: every byte is written below (the
    // preamble explicitly), and writePart10 checks that the write position lands exactly on the end.
    this.bytes = Buffer.allocUnsafeSlow(size);
    this.bytes.fill(0, 0, 128);
    this.view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
  }

  tag(tag: number, littleEndian: boolean): void {
    this.view.setUint16(this.position, tag >>> 16, littleEndian);
    this.view.setUint16(this.position + 2, tag & 0xffff, littleEndian);
    this.position += 4;
  }

  header(tag: number, vr: string, length: number, encoding: Encoding): void {
    const le = encoding.littleEndian;
    this.tag(tag, le);
    if (!encoding.explicitVr) {
      this.view.setUint32(this.position, length, le);
      this.position += 4;
      return;
    }
    this.bytes[this.position] = vr.charCodeAt(0);
    this.bytes[this.position + 1] = vr.charCodeAt(1);
    if (hasLongLength(vr)) {
      this.view.setUint16(this.position + 2, 0, le);
      this.view.setUint32(this.position + 4, length, le);
      this.position += 8;
    } else {
      if (length > 0xffff) throw new RangeError(`A ${vr} value cannot exceed 65535 bytes`);
      this.view.setUint16(this.position + 2, length, le);
      this.position += 4;
    }
  }

  raw(bytes: Uint8Array): void {
    this.bytes.set(bytes, this.position);
    this.position += bytes.length;
  }

  element(element: OutElement, encoding: Encoding, placed: Map<number, number> | undefined): void {
    switch (element.kind) {
      case 'copy':
        placed?.set(element.tag, this.position);
        this.raw(element.bytes.subarray(element.source.start, element.source.end));
        return;
      case 'value':
        this.header(element.tag, element.vr, element.value.length, encoding);
        this.raw(element.value);
        return;
      case 'sequence':
        this.header(element.tag, element.vr, 0xffffffff, encoding);
        for (const item of element.items) {
          this.tag(Tag.Item, encoding.littleEndian);
          this.view.setUint32(this.position, 0xffffffff, encoding.littleEndian);
          this.position += 4;
          for (const inner of item.elements) this.element(inner, item.encoding, undefined);
          this.tag(Tag.ItemDelimitationItem, encoding.littleEndian);
          this.view.setUint32(this.position, 0, encoding.littleEndian);
          this.position += 4;
        }
        this.tag(Tag.SequenceDelimitationItem, encoding.littleEndian);
        this.view.setUint32(this.position, 0, encoding.littleEndian);
        this.position += 4;
        return;
    }
  }
}

const metaEncoding: Encoding = { littleEndian: true, explicitVr: true };

/** `meta`: group 0002 value elements without the group length, sorted; `dataset`: the de-identified data set. */
export function writePart10(meta: OutElement[], dataset: OutDataset): WrittenPart10 {
  let metaLength = 0;
  for (const element of meta) metaLength += elementSize(element, metaEncoding);
  const total = 128 + 4 + 12 + metaLength + datasetSize(dataset);
  const writer = new Writer(total);
  writer.position = 128;
  writer.raw(Uint8Array.of(0x44, 0x49, 0x43, 0x4d)); // DICM
  writer.header(Tag.FileMetaInformationGroupLength, 'UL', 4, metaEncoding);
  const lengthValue = new Uint8Array(4);
  new DataView(lengthValue.buffer).setUint32(0, metaLength, true);
  writer.raw(lengthValue);
  for (const element of meta) writer.element(element, metaEncoding, undefined);
  const placed = new Map<number, number>();
  for (const element of dataset.elements) writer.element(element, dataset.encoding, placed);
  if (writer.position !== total) throw new Error(`Part 10 writer size mismatch: ${writer.position} != ${total}`);
  // A plain Uint8Array view for callers (no Buffer methods leak into the domain API).
  return { bytes: new Uint8Array(writer.bytes.buffer, writer.bytes.byteOffset, writer.bytes.byteLength), placed };
}
