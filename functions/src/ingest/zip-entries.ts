/**
 * Reading uploaded zip archives entry by entry with yauzl, nothing extracted
 * to disk. Before any entry is inflated, the whole central directory is
 * checked against zip-bomb limits (entry count, total uncompressed size,
 * compression ratio); yauzl then verifies while inflating that no entry
 * yields more bytes than it declared, so the declared sizes can be trusted.
 * Nested archives are opened from memory up to a depth limit, sharing the
 * same budget. Entry names are read only to skip folders, DICOMDIR and
 * system files and to refuse absolute or `..` paths: they are never stored
 * or logged (they often hold patient names).
 */
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';
import type { Entry, ZipFile } from 'yauzl';
import { formatBytes } from '@medlake/shared/byte-size';

export interface ZipLimits {
  maxEntries: number;
  maxTotalBytes: number;
  maxEntryBytes: number;
  /** Uncompressed / compressed, for entries of at least `ratioFloorBytes`. */
  maxRatio: number;
  ratioFloorBytes: number;
  /** 1 = no archives inside archives. */
  maxDepth: number;
}

/** The archive as a whole cannot be processed; the reason is shown to the uploader. */
export class ZipRejection extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'ZipRejection';
  }
}

export type ZipEntryVisit =
  | { kind: 'file'; number: number; bytes: Buffer; depth: number }
  | { kind: 'rejected'; number: number; reason: string }
  | { kind: 'skipped'; number: number; why: 'folder' | 'dicomdir' | 'system-file' };

export type ZipSource = { path: string } | { buffer: Buffer };

interface Budget {
  entries: number;
  bytes: number;
  next: number;
}

function open(source: ZipSource): Promise<ZipFile> {
  const options = { lazyEntries: true, autoClose: false, decodeStrings: false as const, validateEntrySizes: true, strictFileNames: false };
  return new Promise((resolve, reject) => {
    const done = (error: Error | null, zip?: ZipFile) => (error || !zip ? reject(new ZipRejection(`The zip archive cannot be read (${describe(error)}).`)) : resolve(zip));
    if ('path' in source) yauzl.open(source.path, options, done);
    else yauzl.fromBuffer(source.buffer, options, done);
  });
}

function describe(error: Error | null | undefined): string {
  // yauzl's messages describe the structure ("invalid central directory file header signature"), never content.
  return error?.message.replace(/[^\x20-\x7e]/g, '').slice(0, 120) ?? 'unknown error';
}

function centralDirectory(zip: ZipFile): Promise<Entry[]> {
  return new Promise((resolve, reject) => {
    const entries: Entry[] = [];
    zip.on('entry', (entry: Entry) => {
      entries.push(entry);
      zip.readEntry();
    });
    zip.once('end', () => resolve(entries));
    zip.once('error', (error: Error) => reject(new ZipRejection(`The zip archive is damaged (${describe(error)}).`)));
    zip.readEntry();
  });
}

/** CP437 and UTF-8 names both keep `/`, `\`, `.` and ASCII letters where they are: latin1 is enough to check paths. */
function entryName(entry: Entry): string {
  const raw = entry.fileName as unknown as Buffer | string;
  if (typeof raw === 'string') return raw;
  return (entry.generalPurposeBitFlag & 0x800) !== 0 ? raw.toString('utf8') : raw.toString('latin1');
}

function isUnsafePath(name: string): boolean {
  return name.startsWith('/') || name.startsWith('\\') || /^[A-Za-z]:/.test(name) || name.split(/[\\/]/).includes('..');
}

function basename(name: string): string {
  return name.split(/[\\/]/).filter(Boolean).pop() ?? '';
}

function skipReason(name: string): 'folder' | 'dicomdir' | 'system-file' | undefined {
  if (name.endsWith('/') || name.endsWith('\\')) return 'folder';
  const base = basename(name);
  if (base.toUpperCase() === 'DICOMDIR') return 'dicomdir';
  if (name.split(/[\\/]/).includes('__MACOSX') || base === '.DS_Store' || base === 'Thumbs.db' || base === 'desktop.ini') return 'system-file';
  return undefined;
}

function readEntry(zip: ZipFile, entry: Entry): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (error, stream?: Readable) => {
      if (error || !stream) return reject(error ?? new Error('no stream'));
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.once('error', reject);
      stream.once('end', () => resolve(Buffer.concat(chunks)));
    });
  });
}

function isZipBytes(bytes: Buffer): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && ((bytes[2] === 0x03 && bytes[3] === 0x04) || (bytes[2] === 0x05 && bytes[3] === 0x06));
}

/**
 * Visits every entry in order (entries of nested archives in place). The
 * visitor's promise is awaited before the next entry is inflated, which
 * bounds memory; it may itself run work in the background.
 */
export async function visitZipEntries(source: ZipSource, limits: ZipLimits, visit: (entry: ZipEntryVisit) => Promise<void>): Promise<{ entries: number }> {
  const budget: Budget = { entries: 0, bytes: 0, next: 1 };
  await visitArchive(source, limits, visit, budget, 1);
  return { entries: budget.next - 1 };
}

async function visitArchive(source: ZipSource, limits: ZipLimits, visit: (entry: ZipEntryVisit) => Promise<void>, budget: Budget, depth: number): Promise<void> {
  const zip = await open(source);
  try {
    if (zip.entryCount + budget.entries > limits.maxEntries) {
      throw new ZipRejection(`The archive holds more than ${limits.maxEntries} entries; split it into smaller archives.`);
    }
    const entries = await centralDirectory(zip);
    budget.entries += entries.length;
    let declared = 0;
    for (const entry of entries) {
      declared += entry.uncompressedSize;
      if (entry.uncompressedSize >= limits.ratioFloorBytes && entry.uncompressedSize > limits.maxRatio * Math.max(entry.compressedSize, 1)) {
        throw new ZipRejection(`An entry of the archive expands more than ${limits.maxRatio} times (a zip bomb?); the archive was not processed.`);
      }
    }
    if (budget.bytes + declared > limits.maxTotalBytes) {
      throw new ZipRejection(`The archive expands to more than ${formatBytes(limits.maxTotalBytes)}; the archive was not processed.`);
    }
    budget.bytes += declared;

    for (const entry of entries) {
      const number = budget.next++;
      const name = entryName(entry);
      const skip = skipReason(name);
      if (skip) {
        await visit({ kind: 'skipped', number, why: skip });
        continue;
      }
      if (isUnsafePath(name)) {
        await visit({ kind: 'rejected', number, reason: 'The entry has an absolute path or ".." in its path; it was not read.' });
        continue;
      }
      if ((entry.generalPurposeBitFlag & 0x1) !== 0) {
        await visit({ kind: 'rejected', number, reason: 'The entry is encrypted; upload archives without a password.' });
        continue;
      }
      if (entry.uncompressedSize > limits.maxEntryBytes) {
        await visit({ kind: 'rejected', number, reason: `The entry is larger than ${formatBytes(limits.maxEntryBytes)}, the limit for one file.` });
        continue;
      }
      let bytes: Buffer;
      try {
        bytes = await readEntry(zip, entry);
      } catch (error) {
        await visit({ kind: 'rejected', number, reason: `The entry cannot be decompressed (${describe(error as Error)}).` });
        continue;
      }
      if (isZipBytes(bytes)) {
        if (depth >= limits.maxDepth) {
          await visit({ kind: 'rejected', number, reason: 'The entry is an archive nested deeper than allowed; it was not opened.' });
          continue;
        }
        try {
          await visitArchive({ buffer: bytes }, limits, visit, budget, depth + 1);
        } catch (error) {
          if (!(error instanceof ZipRejection)) throw error;
          await visit({ kind: 'rejected', number, reason: `Nested archive: ${error.reason}` });
        }
        continue;
      }
      await visit({ kind: 'file', number, bytes, depth });
    }
  } finally {
    zip.close();
  }
}

