import { inflateRawSync, inflateSync } from 'node:zlib';
import { type DicomDataset, type DicomElement, type Encoding, explicitLittleEndian, findElement, implicitLittleEndian, parseDataset, parseMetaElements } from './dataset';
import { DicomRejection } from './rejection';
import { Tag } from './tags';
import { type TransferSyntax, TransferSyntaxUid, transferSyntaxOf } from './transfer-syntax';
import { asciiValue } from './values';

export interface ParsedPart10 {
  /** How the input was laid out: a Part 10 file, a meta without preamble, or a bare data set. */
  layout: 'part10' | 'meta-without-preamble' | 'dataset-only';
  /** File meta elements (offsets into `input`); empty for a bare data set. */
  meta: DicomElement[];
  input: Uint8Array;
  transferSyntax: TransferSyntax;
  /** The data set; its `bytes` are the input, or the inflated stream for Deflated Explicit VR LE. */
  dataset: DicomDataset;
}

/** A deflated data set larger than this is treated as a decompression bomb. */
const maxInflatedBytes = 2 ** 31 - 1;

function hasMagicAt(bytes: Uint8Array, offset: number): boolean {
  return bytes.length >= offset + 4 && bytes[offset] === 0x44 && bytes[offset + 1] === 0x49 && bytes[offset + 2] === 0x43 && bytes[offset + 3] === 0x4d;
}

function isUpperAscii(byte: number | undefined): boolean {
  return byte !== undefined && byte >= 0x41 && byte <= 0x5a;
}

/** Group 0002 element with an explicit VR at offset 0: a meta whose preamble was stripped. */
function startsWithMeta(bytes: Uint8Array): boolean {
  return bytes.length >= 12 && bytes[0] === 0x02 && bytes[1] === 0x00 && bytes[3] === 0x00 && isUpperAscii(bytes[4]) && isUpperAscii(bytes[5]);
}

/**
 * A bare data set (no preamble, no meta), as written by old modalities: it
 * must start with a group 0008 element, (0008,0000)..(0008,0018) being the
 * usual first ones. Explicit VR when two upper-case letters follow the tag.
 */
function bareDatasetEncoding(bytes: Uint8Array): Encoding | undefined {
  if (bytes.length < 16 || bytes[0] !== 0x08 || bytes[1] !== 0x00 || (bytes[3] ?? 0xff) !== 0x00) return undefined;
  const element = (bytes[2] as number) | ((bytes[3] as number) << 8);
  if (element > 0x0018) return undefined;
  if (isUpperAscii(bytes[4]) && isUpperAscii(bytes[5])) return explicitLittleEndian;
  const length = (bytes[4] as number) | ((bytes[5] as number) << 8) | ((bytes[6] as number) << 16) | ((bytes[7] as number) * 0x1000000);
  return length < 1024 ? implicitLittleEndian : undefined;
}

/** Quick check on the first bytes only: could this be DICOM worth a full parse? */
export function looksLikeDicom(bytes: Uint8Array): boolean {
  return hasMagicAt(bytes, 128) || hasMagicAt(bytes, 0) || startsWithMeta(bytes) || bareDatasetEncoding(bytes) !== undefined;
}

/** Zip local file header, empty archive or spanned archive signatures. */
export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && ((bytes[2] === 0x03 && bytes[3] === 0x04) || (bytes[2] === 0x05 && bytes[3] === 0x06) || (bytes[2] === 0x07 && bytes[3] === 0x08));
}

function inflate(deflated: Uint8Array): Uint8Array {
  try {
    return inflateRawSync(deflated, { maxOutputLength: maxInflatedBytes });
  } catch {
    // Some writers wrap the stream in a zlib header although PS3.5 A.5 says raw deflate.
    try {
      return inflateSync(deflated, { maxOutputLength: maxInflatedBytes });
    } catch {
      throw new DicomRejection('malformed', 'The deflated data set cannot be inflated.');
    }
  }
}

/**
 * Parses a DICOM Part 10 file (or a bare Implicit/Explicit VR LE data set)
 * once: element offsets for the whole tree, no value copied.
 */
export function parsePart10(input: Uint8Array): ParsedPart10 {
  let metaOffset: number | undefined;
  let layout: ParsedPart10['layout'] = 'part10';
  if (hasMagicAt(input, 128)) metaOffset = 132;
  else if (hasMagicAt(input, 0)) { metaOffset = 4; layout = 'meta-without-preamble'; }
  else if (startsWithMeta(input)) { metaOffset = 0; layout = 'meta-without-preamble'; }

  if (metaOffset === undefined) {
    const encoding = bareDatasetEncoding(input);
    if (!encoding) throw new DicomRejection('not-dicom', 'The file is not DICOM: no Part 10 header and no recognizable data set.');
    let dataset: DicomDataset;
    try {
      dataset = parseDataset(input, 0, encoding);
    } catch (error) {
      // Without a header we only accept what parses cleanly: anything else was never DICOM.
      if (error instanceof DicomRejection) throw new DicomRejection('not-dicom', 'The file is not DICOM: no Part 10 header and the content does not parse as a data set.');
      throw error;
    }
    if (!findElement(dataset.elements, Tag.SOPClassUID) || !findElement(dataset.elements, Tag.SOPInstanceUID)) {
      throw new DicomRejection('not-dicom', 'The file has no Part 10 header and no SOP Class/Instance UID: it is not a DICOM object.');
    }
    const uid = encoding.explicitVr ? TransferSyntaxUid.ExplicitVrLittleEndian : TransferSyntaxUid.ImplicitVrLittleEndian;
    return { layout: 'dataset-only', meta: [], input, transferSyntax: transferSyntaxOf(uid), dataset };
  }

  if (metaOffset + 8 > input.length) throw new DicomRejection('truncated', 'The file ends inside its DICOM header (truncated upload?).');
  const { elements: meta, next } = parseMetaElements(input, metaOffset);
  const tsElement = findElement(meta, Tag.TransferSyntaxUID);
  if (!tsElement) throw new DicomRejection('missing-attribute', 'The file meta information has no Transfer Syntax UID.');
  const transferSyntax = transferSyntaxOf(asciiValue(input, tsElement));
  if (transferSyntax.deflated) {
    const inflated = inflate(input.subarray(next));
    return { layout, meta, input, transferSyntax, dataset: parseDataset(inflated, 0, explicitLittleEndian) };
  }
  const encoding: Encoding = { littleEndian: transferSyntax.littleEndian, explicitVr: transferSyntax.explicitVr };
  return { layout, meta, input, transferSyntax, dataset: parseDataset(input, next, encoding) };
}
