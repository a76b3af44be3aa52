import type { CharacterSet } from './character-set';
import type { DicomElement, Encoding } from './dataset';
import type { OutDataset, OutElement } from './deidentify-dataset';
import type { DicomJson, DicomJsonAttribute, DicomJsonPersonName } from './dicom-json-model';
import { tagHex } from './dictionary/data-dictionary';
import { Tag } from './tags';
import { binaryNumbers } from './values';

export type { DicomJson, DicomJsonAttribute, DicomJsonPersonName } from './dicom-json-model';

/** Binary values up to this size are inlined (base64); larger ones and pixel data become bulk data placeholders. */
export const inlineBinaryLimitBytes = 1024;

const latin1 = new TextDecoder('latin1');
const asciiVrs = new Set(['AE', 'AS', 'CS', 'DA', 'DT', 'TM', 'UI', 'UR', 'IS', 'DS']);
const characterSetVrs = new Set(['LO', 'LT', 'SH', 'ST', 'UC', 'UT', 'PN']);
const singleValueVrs = new Set(['LT', 'ST', 'UT', 'UR']);
const binaryVrs = new Set(['US', 'SS', 'UL', 'SL', 'FL', 'FD', 'UV', 'SV']);
const bulkVrs = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'UN']);
const pixelTags = new Set<number>([Tag.PixelData, Tag.FloatPixelData, Tag.DoubleFloatPixelData]);
const wordSizes: Record<string, number> = { OW: 2, OF: 4, OL: 4, OD: 8, OV: 8 };

interface Value {
  bytes: Uint8Array;
  element?: DicomElement;
}

function valueOf(element: OutElement): Value {
  if (element.kind === 'copy') {
    const source = element.source;
    return { bytes: element.bytes.subarray(source.valueOffset, source.valueOffset + source.valueLength), element: source };
  }
  if (element.kind === 'value') return { bytes: element.value };
  return { bytes: new Uint8Array(0) };
}

/** Trailing padding (space, or NUL for UI) is not part of the value. */
function stripPadding(text: string): string {
  return text.replace(/[\0 ]+$/, '');
}

function splitValues(text: string, vr: string): string[] {
  if (singleValueVrs.has(vr)) return [text];
  return text.split('\\').map((part) => (vr === 'UI' ? part.replace(/\0/g, '').trim() : part.trim()));
}

function personName(text: string): DicomJsonPersonName | null {
  if (text === '') return null;
  const [alphabetic = '', ideographic = '', phonetic = ''] = text.split('=');
  const out: DicomJsonPersonName = {};
  if (alphabetic.trim() !== '') out.Alphabetic = alphabetic.trim();
  if (ideographic.trim() !== '') out.Ideographic = ideographic.trim();
  if (phonetic.trim() !== '') out.Phonetic = phonetic.trim();
  return out;
}

function numberOrNull(text: string): number | null {
  if (text === '') return null;
  const value = Number(text);
  return Number.isFinite(value) ? value : null;
}

/** Byte-swaps words of a Big Endian OW/OF/OD/OL/OV value: InlineBinary is always little endian. */
function littleEndianWords(bytes: Uint8Array, vr: string, encoding: Encoding): Uint8Array {
  const size = wordSizes[vr];
  if (encoding.littleEndian || !size) return bytes;
  const out = new Uint8Array(bytes.length);
  for (let at = 0; at + size <= bytes.length; at += size) for (let i = 0; i < size; i++) out[at + i] = bytes[at + size - 1 - i] as number;
  return out;
}

function attributeOf(element: OutElement, encoding: Encoding, characterSet: CharacterSet, pixelRepresentation: number): DicomJsonAttribute {
  let vr = element.vr;
  if (vr === 'US|SS') vr = pixelRepresentation === 1 ? 'SS' : 'US';
  if (vr === 'OB|OW') vr = 'OW';
  if (element.kind === 'sequence') {
    const attribute: DicomJsonAttribute = { vr: 'SQ' };
    if (element.items.length > 0) attribute.Value = element.items.map((item) => datasetToJson(item));
    return attribute;
  }
  const { bytes, element: source } = valueOf(element);
  if (pixelTags.has(element.tag) || (bulkVrs.has(vr) && bytes.length > inlineBinaryLimitBytes) || source?.fragments) {
    return { vr, BulkDataURI: '' };
  }
  if (bytes.length === 0) return { vr };
  if (bulkVrs.has(vr)) return { vr, InlineBinary: Buffer.from(littleEndianWords(bytes, vr, encoding)).toString('base64') };
  if (binaryVrs.has(vr)) {
    const values = binaryNumbers(bytes, { tag: element.tag, vr, start: 0, valueOffset: 0, valueLength: bytes.length, end: bytes.length, undefinedLength: false }, vr, encoding);
    return { vr, Value: values };
  }
  if (vr === 'AT') {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const values: string[] = [];
    for (let at = 0; at + 4 <= bytes.length; at += 4) {
      values.push(tagHex(((view.getUint16(at, encoding.littleEndian) << 16) | view.getUint16(at + 2, encoding.littleEndian)) >>> 0));
    }
    return { vr, Value: values };
  }
  const text = stripPadding(characterSetVrs.has(vr) ? characterSet.decode(bytes) : latin1.decode(bytes));
  if (text === '') return { vr };
  const parts = splitValues(text, vr);
  if (vr === 'PN') return { vr, Value: parts.map(personName) };
  if (vr === 'IS' || vr === 'DS') return { vr, Value: parts.map(numberOrNull) };
  if (asciiVrs.has(vr) || characterSetVrs.has(vr)) return { vr, Value: parts.map((part) => (part === '' ? null : part)) };
  return { vr, Value: parts };
}

/** The de-identified data set as DICOM JSON (bulk data as `BulkDataURI: ''` placeholders). */
export function datasetToJson(dataset: OutDataset): DicomJson {
  const json: DicomJson = {};
  let pixelRepresentation = 0;
  for (const element of dataset.elements) {
    if (element.tag === Tag.PixelRepresentation && element.kind !== 'sequence') {
      const { bytes } = valueOf(element);
      if (bytes.length >= 2) pixelRepresentation = new DataView(bytes.buffer, bytes.byteOffset, 2).getUint16(0, dataset.encoding.littleEndian);
    }
  }
  for (const element of dataset.elements) {
    json[tagHex(element.tag)] = attributeOf(element, dataset.encoding, dataset.characterSet, pixelRepresentation);
  }
  return json;
}
