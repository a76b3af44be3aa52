/**
 * What a local file is, from its first bytes: DICOM (Part 10 with its
 * "DICM" magic, a meta without preamble, or a bare data set as some
 * modalities and old archives write them), a zip, or something else
 * (reports, spreadsheets, viewer executables on CDs), which the gateway does
 * not send. The sniffers are the ingest's own (shared/src/dicom), so the
 * gateway skips exactly what the server would refuse as not DICOM.
 */
import { open } from 'node:fs/promises';
import { isZip, looksLikeDicom } from '@medlake/shared/dicom/parse-part10';

export type FileKind = 'dicom' | 'zip' | 'other';

/** Bytes read to decide: the preamble, "DICM" and the first element header. */
export const sniffBytes = 256;

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
