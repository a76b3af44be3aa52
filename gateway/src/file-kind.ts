/**
 * What a local file is, from its first bytes: DICOM Part 10 (the "DICM"
 * magic after the 128-byte preamble), a bare DICOM data set without
 * preamble (as some modalities and old archives write them), a zip, or
 * something else (reports, spreadsheets, viewer executables on CDs), which
 * the gateway does not send.
 */
import { open } from 'node:fs/promises';

export type FileKind = 'dicom' | 'zip' | 'other';

/** Bytes read to decide: the preamble, "DICM" and the first element header. */
export const sniffBytes = 140;

export async function sniffFile(path: string): Promise<FileKind> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(sniffBytes);
    const { bytesRead } = await handle.read(head, 0, sniffBytes, 0);
    return classifyHead(head.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
}

export function classifyHead(head: Uint8Array): FileKind {
  if (isZip(head)) return 'zip';
  if (looksLikeDicom(head)) return 'dicom';
  return 'other';
}

/** Local file header, or the end-of-central-directory record of an empty zip. */
export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && ((bytes[2] === 0x03 && bytes[3] === 0x04) || (bytes[2] === 0x05 && bytes[3] === 0x06));
}

const explicitVrs = new Set([
  'AE', 'AS', 'AT', 'CS', 'DA', 'DS', 'DT', 'FL', 'FD', 'IS', 'LO', 'LT', 'OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'PN', 'SH', 'SL', 'SQ', 'SS', 'ST', 'SV', 'TM', 'UC', 'UI', 'UL', 'UN', 'UR', 'US', 'UT', 'UV',
]);

export function looksLikeDicom(bytes: Uint8Array): boolean {
  if (bytes.length >= 132 && bytes[128] === 0x44 && bytes[129] === 0x49 && bytes[130] === 0x43 && bytes[131] === 0x4d) return true;
  return looksLikeBareDataset(bytes);
}

/**
 * A data set without preamble starts with a low group (0002 meta, 0008
 * identification) in little endian, then either an explicit VR or an
 * implicit 32-bit length that fits a header element.
 */
function looksLikeBareDataset(bytes: Uint8Array): boolean {
  if (bytes.length < 8) return false;
  const group = bytes[0]! | (bytes[1]! << 8);
  if (group !== 0x0002 && group !== 0x0008) return false;
  const element = bytes[2]! | (bytes[3]! << 8);
  if (element > 0x0020 && group === 0x0002) return false;
  const vr = String.fromCharCode(bytes[4]!, bytes[5]!);
  if (explicitVrs.has(vr)) return true;
  const implicitLength = (bytes[4]! | (bytes[5]! << 8) | (bytes[6]! << 16)) + bytes[7]! * 0x1000000;
  return implicitLength > 0 && implicitLength < 1024;
}
