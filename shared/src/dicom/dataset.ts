import { dictionaryVr } from './dictionary/data-dictionary';
import { DicomRejection } from './rejection';
import { Tag } from './tags';

/** How a data set (or a sequence item) is encoded. */
export interface Encoding {
  littleEndian: boolean;
  explicitVr: boolean;
}

export const implicitLittleEndian: Encoding = { littleEndian: true, explicitVr: false };
export const explicitLittleEndian: Encoding = { littleEndian: true, explicitVr: true };

/**
 * One element as found in the input: offsets only, values are read on demand
 * from the shared byte array (nothing is copied while parsing).
 */
export interface DicomElement {
  tag: number;
  /** Explicit VR, or the dictionary VR for Implicit VR data ('UN' when unknown). */
  vr: string;
  /** Offset of the element's first header byte. */
  start: number;
  valueOffset: number;
  /** Bytes of the value; for undefined length, up to (not including) the delimiter. */
  valueLength: number;
  /** Offset just after the element (after the sequence delimiter for undefined length). */
  end: number;
  undefinedLength: boolean;
  /** Items of a sequence (SQ, or UN of undefined length, which is Implicit VR LE inside). */
  items?: DicomItem[];
  /** Encapsulated pixel data: item values [offset, length]; the first is the Basic Offset Table. */
  fragments?: Array<[number, number]>;
}

export interface DicomItem {
  start: number;
  end: number;
  encoding: Encoding;
  elements: DicomElement[];
}

export interface DicomDataset {
  bytes: Uint8Array;
  encoding: Encoding;
  elements: DicomElement[];
}

const longLengthVrs = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
const knownVrs = new Set(['AE', 'AS', 'AT', 'CS', 'DA', 'DS', 'DT', 'FD', 'FL', 'IS', 'LO', 'LT', 'OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'PN', 'SH', 'SL', 'SQ', 'SS', 'ST', 'SV', 'TM', 'UC', 'UI', 'UL', 'UN', 'UR', 'US', 'UT', 'UV']);
const undefinedLength = 0xffffffff;
/** Deeper nesting than this is no real data set; refuse rather than recurse without bound. */
const maxDepth = 64;

export function hasLongLength(vr: string): boolean {
  return longLengthVrs.has(vr);
}

/** VR used to write an element under Implicit VR or to describe it in JSON. */
function implicitVr(tag: number): string {
  const vr = dictionaryVr(tag);
  if (vr === 'OB|OW' || vr === 'US|SS|OW') return 'OW';
  return vr;
}

class Reader {
  readonly view: DataView;
  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  u16(offset: number, littleEndian: boolean): number {
    return this.view.getUint16(offset, littleEndian);
  }
  u32(offset: number, littleEndian: boolean): number {
    return this.view.getUint32(offset, littleEndian);
  }
  tag(offset: number, littleEndian: boolean): number {
    return ((this.view.getUint16(offset, littleEndian) << 16) | this.view.getUint16(offset + 2, littleEndian)) >>> 0;
  }
}

function truncated(): DicomRejection {
  return new DicomRejection('truncated', 'The file ends in the middle of a DICOM element (truncated upload?).');
}

function malformed(what: string): DicomRejection {
  return new DicomRejection('malformed', `The DICOM data set is malformed: ${what}.`);
}

/**
 * Parses the elements in [offset, end) of one data set or item. With
 * `untilItemDelimiter`, stops after an Item Delimitation Item and returns the
 * offset after it.
 */
function parseElements(reader: Reader, offset: number, end: number, encoding: Encoding, depth: number, untilItemDelimiter: boolean): { elements: DicomElement[]; next: number } {
  if (depth > maxDepth) throw new DicomRejection('too-deep', 'Sequences are nested deeper than any real data set.');
  const elements: DicomElement[] = [];
  const le = encoding.littleEndian;
  let position = offset;
  while (position < end) {
    if (position + 8 > end) throw truncated();
    const tag = reader.tag(position, le);
    if (tag === Tag.ItemDelimitationItem) {
      if (!untilItemDelimiter) throw malformed('an item delimiter appears outside of an item');
      return { elements, next: position + 8 };
    }
    if (tag === Tag.SequenceDelimitationItem || tag === Tag.Item) {
      throw malformed('a sequence delimiter or item appears where an element was expected');
    }
    let vr: string;
    let length: number;
    let header: number;
    if (encoding.explicitVr) {
      const c0 = reader.bytes[position + 4] as number;
      const c1 = reader.bytes[position + 5] as number;
      vr = String.fromCharCode(c0, c1);
      if (!knownVrs.has(vr)) throw malformed('an element has an unknown value representation');
      if (longLengthVrs.has(vr)) {
        if (position + 12 > end) throw truncated();
        length = reader.u32(position + 8, le);
        header = 12;
      } else {
        length = reader.u16(position + 6, le);
        header = 8;
      }
    } else {
      vr = implicitVr(tag);
      length = reader.u32(position + 4, le);
      header = 8;
    }
    const valueOffset = position + header;
    if (length === undefinedLength) {
      if (vr === 'SQ' || vr === 'UN' || (!encoding.explicitVr)) {
        // UN of undefined length is a sequence encoded as Implicit VR LE (PS3.5 6.2.2).
        const inner = vr === 'SQ' ? encoding : implicitLittleEndian;
        const { items, next, valueEnd } = parseUndefinedSequence(reader, valueOffset, end, inner, depth + 1);
        elements.push({ tag, vr: vr === 'UN' && encoding.explicitVr ? 'UN' : 'SQ', start: position, valueOffset, valueLength: valueEnd - valueOffset, end: next, undefinedLength: true, items });
        position = next;
      } else if (vr === 'OB' || vr === 'OW') {
        const { fragments, next, valueEnd } = parseFragments(reader, valueOffset, end, le);
        elements.push({ tag, vr, start: position, valueOffset, valueLength: valueEnd - valueOffset, end: next, undefinedLength: true, fragments });
        position = next;
      } else {
        throw malformed('an element that cannot have an undefined length has one');
      }
      continue;
    }
    const valueEnd = valueOffset + length;
    if (valueEnd > end) throw truncated();
    const element: DicomElement = { tag, vr, start: position, valueOffset, valueLength: length, end: valueEnd, undefinedLength: false };
    if (vr === 'SQ') element.items = parseDefinedSequence(reader, valueOffset, valueEnd, encoding, depth + 1);
    elements.push(element);
    position = valueEnd;
  }
  if (untilItemDelimiter) throw truncated();
  return { elements, next: position };
}

function parseItem(reader: Reader, position: number, end: number, encoding: Encoding, depth: number): DicomItem {
  const le = encoding.littleEndian;
  const length = reader.u32(position + 4, le);
  if (length === undefinedLength) {
    const { elements, next } = parseElements(reader, position + 8, end, encoding, depth, true);
    return { start: position, end: next, encoding, elements };
  }
  const itemEnd = position + 8 + length;
  if (itemEnd > end) throw truncated();
  const { elements } = parseElements(reader, position + 8, itemEnd, encoding, depth, false);
  return { start: position, end: itemEnd, encoding, elements };
}

function parseDefinedSequence(reader: Reader, offset: number, end: number, encoding: Encoding, depth: number): DicomItem[] {
  const items: DicomItem[] = [];
  let position = offset;
  while (position < end) {
    if (position + 8 > end) throw truncated();
    const tag = reader.tag(position, encoding.littleEndian);
    if (tag === Tag.SequenceDelimitationItem) return items; // tolerated inside a defined length
    if (tag !== Tag.Item) throw malformed('a sequence contains something other than items');
    const item = parseItem(reader, position, end, encoding, depth);
    items.push(item);
    position = item.end;
  }
  return items;
}

function parseUndefinedSequence(reader: Reader, offset: number, end: number, encoding: Encoding, depth: number): { items: DicomItem[]; next: number; valueEnd: number } {
  const items: DicomItem[] = [];
  let position = offset;
  for (;;) {
    if (position + 8 > end) throw truncated();
    const tag = reader.tag(position, encoding.littleEndian);
    if (tag === Tag.SequenceDelimitationItem) return { items, next: position + 8, valueEnd: position };
    if (tag !== Tag.Item) throw malformed('a sequence contains something other than items');
    const item = parseItem(reader, position, end, encoding, depth);
    items.push(item);
    position = item.end;
  }
}

function parseFragments(reader: Reader, offset: number, end: number, littleEndian: boolean): { fragments: Array<[number, number]>; next: number; valueEnd: number } {
  const fragments: Array<[number, number]> = [];
  let position = offset;
  for (;;) {
    if (position + 8 > end) throw truncated();
    const tag = reader.tag(position, littleEndian);
    const length = reader.u32(position + 4, littleEndian);
    if (tag === Tag.SequenceDelimitationItem) return { fragments, next: position + 8, valueEnd: position };
    if (tag !== Tag.Item || length === undefinedLength) throw malformed('encapsulated pixel data contains something other than fragments');
    if (position + 8 + length > end) throw truncated();
    fragments.push([position + 8, length]);
    position += 8 + length;
  }
}

/** Parses a whole data set that fills bytes[offset, end). */
export function parseDataset(bytes: Uint8Array, offset: number, encoding: Encoding, end = bytes.length): DicomDataset {
  const reader = new Reader(bytes);
  const { elements } = parseElements(reader, offset, end, encoding, 0, false);
  return { bytes, encoding, elements };
}

/** Parses elements while they belong to group 0002 (the file meta is always Explicit VR LE). */
export function parseMetaElements(bytes: Uint8Array, offset: number): { elements: DicomElement[]; next: number } {
  const reader = new Reader(bytes);
  const elements: DicomElement[] = [];
  let position = offset;
  while (position + 8 <= bytes.length && reader.u16(position, true) === 0x0002) {
    const { elements: one, next } = parseOneExplicitLe(reader, position, bytes.length);
    elements.push(...one);
    position = next;
  }
  if (position + 8 > bytes.length && position !== bytes.length) throw truncated();
  return { elements, next: position };
}

function parseOneExplicitLe(reader: Reader, position: number, end: number): { elements: DicomElement[]; next: number } {
  const tag = reader.tag(position, true);
  const vr = String.fromCharCode(reader.bytes[position + 4] as number, reader.bytes[position + 5] as number);
  if (!knownVrs.has(vr)) throw malformed('the file meta information has an unknown value representation');
  let length: number;
  let header: number;
  if (longLengthVrs.has(vr)) {
    if (position + 12 > end) throw truncated();
    length = reader.u32(position + 8, true);
    header = 12;
  } else {
    length = reader.u16(position + 6, true);
    header = 8;
  }
  if (length === undefinedLength) throw malformed('a file meta element has an undefined length');
  const valueEnd = position + header + length;
  if (valueEnd > end) throw truncated();
  return { elements: [{ tag, vr, start: position, valueOffset: position + header, valueLength: length, end: valueEnd, undefinedLength: false }], next: valueEnd };
}

/** Finds an element by tag (linear: inputs are not trusted to be sorted, and lists are short). */
export function findElement(elements: readonly DicomElement[], tag: number): DicomElement | undefined {
  for (const element of elements) if (element.tag === tag) return element;
  return undefined;
}
