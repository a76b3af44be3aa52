/**
 * The records of a ZIP file (PKWARE APPNOTE 6.3.10: 4.3.7 local file header,
 * 4.3.9 data descriptor, 4.3.12 central directory header, 4.3.14-16 ZIP64
 * end of central directory record and locator, 4.5.3 ZIP64 extended
 * information), encoded from plain values. The export worker writes them
 * itself rather than through yazl or archiver because its zip outlives one
 * process: the central directory is rebuilt from entry records kept in
 * PostgreSQL, and a resumed run must be able to start writing at any entry
 * of a half-uploaded file, which neither library's writer state allows.
 */

export const ZipMethod = { Store: 0, Deflate: 8 } as const;
export type ZipMethod = (typeof ZipMethod)[keyof typeof ZipMethod];

const u16max = 0xffff;
const u32max = 0xffffffff;
/** bit 3: sizes and CRC follow the data; bit 11: names are UTF-8. */
const flagDescriptor = 0x0008;
const flagUtf8 = 0x0800;
const versionDeflate = 20;
const versionZip64 = 45;
/** Made by: UNIX (3), APPNOTE 4.5, so that external attributes carry file permissions. */
const versionMadeBy = (3 << 8) | versionZip64;
/** -rw-r--r-- regular file. */
const externalAttributes = (0o100644 << 16) >>> 0;

export interface DosTimestamp {
  time: number;
  date: number;
}

/** MS-DOS date and time (2-second resolution) of a moment, read in UTC so the same moment gives the same bytes anywhere. */
export function dosTimestamp(at: Date): DosTimestamp {
  const year = Math.min(Math.max(at.getUTCFullYear(), 1980), 2107);
  return {
    time: (at.getUTCHours() << 11) | (at.getUTCMinutes() << 5) | Math.floor(at.getUTCSeconds() / 2),
    date: ((year - 1980) << 9) | ((at.getUTCMonth() + 1) << 5) | at.getUTCDate(),
  };
}

/** What the local header says about an entry before its data. */
export interface LocalEntry {
  path: string;
  method: ZipMethod;
  timestamp: DosTimestamp;
  /** Sizes and CRC follow the data in a data descriptor (they are not known yet). */
  descriptor: boolean;
  /** ZIP64 sizes: in the local header's extra field, and 8-byte sizes in the descriptor. */
  zip64: boolean;
  /** Known values (ignored with a descriptor). */
  crc32: number;
  compressedSize: number;
  uncompressedSize: number;
}

/** A finished entry, as the central directory needs it. */
export interface CentralEntry {
  path: string;
  method: ZipMethod;
  timestamp: DosTimestamp;
  descriptor: boolean;
  crc32: number;
  compressedSize: number;
  uncompressedSize: number;
  /** Offset of the local file header. */
  offset: number;
}

export function localHeader(entry: LocalEntry): Buffer {
  const name = Buffer.from(entry.path, 'utf8');
  const extra = entry.zip64 ? zip64Extra([entry.descriptor ? 0 : entry.uncompressedSize, entry.descriptor ? 0 : entry.compressedSize]) : Buffer.alloc(0);
  const header = Buffer.alloc(30);
  header.writeUInt32LE(0x04034b50, 0);
  header.writeUInt16LE(entry.zip64 ? versionZip64 : versionDeflate, 4);
  header.writeUInt16LE(flagUtf8 | (entry.descriptor ? flagDescriptor : 0), 6);
  header.writeUInt16LE(entry.method, 8);
  header.writeUInt16LE(entry.timestamp.time, 10);
  header.writeUInt16LE(entry.timestamp.date, 12);
  header.writeUInt32LE(entry.descriptor ? 0 : entry.crc32 >>> 0, 14);
  header.writeUInt32LE(entry.zip64 ? u32max : entry.descriptor ? 0 : entry.compressedSize, 18);
  header.writeUInt32LE(entry.zip64 ? u32max : entry.descriptor ? 0 : entry.uncompressedSize, 22);
  header.writeUInt16LE(name.length, 26);
  header.writeUInt16LE(extra.length, 28);
  return Buffer.concat([header, name, extra]);
}

export function dataDescriptor(values: { crc32: number; compressedSize: number; uncompressedSize: number; zip64: boolean }): Buffer {
  const out = Buffer.alloc(values.zip64 ? 24 : 16);
  out.writeUInt32LE(0x08074b50, 0);
  out.writeUInt32LE(values.crc32 >>> 0, 4);
  if (values.zip64) {
    out.writeBigUInt64LE(BigInt(values.compressedSize), 8);
    out.writeBigUInt64LE(BigInt(values.uncompressedSize), 16);
  } else {
    out.writeUInt32LE(values.compressedSize, 8);
    out.writeUInt32LE(values.uncompressedSize, 12);
  }
  return out;
}

/** Bytes of the descriptor after an entry's data. */
export function descriptorBytes(descriptor: boolean, zip64: boolean): number {
  return descriptor ? (zip64 ? 24 : 16) : 0;
}

/** The ZIP64 extended information extra field (0x0001) holding these 8-byte values in order. */
function zip64Extra(values: readonly number[]): Buffer {
  const out = Buffer.alloc(4 + 8 * values.length);
  out.writeUInt16LE(0x0001, 0);
  out.writeUInt16LE(8 * values.length, 2);
  values.forEach((value, i) => out.writeBigUInt64LE(BigInt(value), 4 + 8 * i));
  return out;
}

export function centralHeader(entry: CentralEntry, forceZip64 = false): Buffer {
  const name = Buffer.from(entry.path, 'utf8');
  // Only the values that do not fit go to the ZIP64 field, in the order APPNOTE 4.5.3 gives.
  const bigUncompressed = forceZip64 || entry.uncompressedSize >= u32max;
  const bigCompressed = forceZip64 || entry.compressedSize >= u32max;
  const bigOffset = forceZip64 || entry.offset >= u32max;
  const zip64Values = [...(bigUncompressed ? [entry.uncompressedSize] : []), ...(bigCompressed ? [entry.compressedSize] : []), ...(bigOffset ? [entry.offset] : [])];
  const extra = zip64Values.length ? zip64Extra(zip64Values) : Buffer.alloc(0);
  const header = Buffer.alloc(46);
  header.writeUInt32LE(0x02014b50, 0);
  header.writeUInt16LE(versionMadeBy, 4);
  header.writeUInt16LE(zip64Values.length ? versionZip64 : versionDeflate, 6);
  header.writeUInt16LE(flagUtf8 | (entry.descriptor ? flagDescriptor : 0), 8);
  header.writeUInt16LE(entry.method, 10);
  header.writeUInt16LE(entry.timestamp.time, 12);
  header.writeUInt16LE(entry.timestamp.date, 14);
  header.writeUInt32LE(entry.crc32 >>> 0, 16);
  header.writeUInt32LE(bigCompressed ? u32max : entry.compressedSize, 20);
  header.writeUInt32LE(bigUncompressed ? u32max : entry.uncompressedSize, 24);
  header.writeUInt16LE(name.length, 28);
  header.writeUInt16LE(extra.length, 30);
  header.writeUInt16LE(0, 32); // comment length
  header.writeUInt16LE(0, 34); // disk number start
  header.writeUInt16LE(0, 36); // internal attributes
  header.writeUInt32LE(externalAttributes, 38);
  header.writeUInt32LE(bigOffset ? u32max : entry.offset, 42);
  return Buffer.concat([header, name, extra]);
}

/** Size of a central directory header for a path (without writing it). */
export function centralHeaderBytes(entry: Pick<CentralEntry, 'path' | 'uncompressedSize' | 'compressedSize' | 'offset'>, forceZip64 = false): number {
  const big = [forceZip64 || entry.uncompressedSize >= u32max, forceZip64 || entry.compressedSize >= u32max, forceZip64 || entry.offset >= u32max].filter(Boolean).length;
  return 46 + Buffer.byteLength(entry.path, 'utf8') + (big ? 4 + 8 * big : 0);
}

/**
 * The end of the archive: ZIP64 end of central directory record and locator
 * when the entry count, the directory's size or its offset need them (or
 * when forced), then the classic end of central directory record.
 */
export function endOfCentralDirectory(values: { entries: number; directoryOffset: number; directorySize: number; forceZip64?: boolean }): Buffer {
  const { entries, directoryOffset, directorySize } = values;
  const needs64 = values.forceZip64 === true || entries >= u16max || directoryOffset >= u32max || directorySize >= u32max;
  const parts: Buffer[] = [];
  if (needs64) {
    const record = Buffer.alloc(56);
    record.writeUInt32LE(0x06064b50, 0);
    record.writeBigUInt64LE(44n, 4); // size of the rest of this record
    record.writeUInt16LE(versionMadeBy, 12);
    record.writeUInt16LE(versionZip64, 14);
    record.writeUInt32LE(0, 16); // this disk
    record.writeUInt32LE(0, 20); // disk with the central directory
    record.writeBigUInt64LE(BigInt(entries), 24);
    record.writeBigUInt64LE(BigInt(entries), 32);
    record.writeBigUInt64LE(BigInt(directorySize), 40);
    record.writeBigUInt64LE(BigInt(directoryOffset), 48);
    const locator = Buffer.alloc(20);
    locator.writeUInt32LE(0x07064b50, 0);
    locator.writeUInt32LE(0, 4);
    locator.writeBigUInt64LE(BigInt(directoryOffset + directorySize), 8);
    locator.writeUInt32LE(1, 16); // total disks
    parts.push(record, locator);
  }
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(0, 4);
  end.writeUInt16LE(0, 6);
  end.writeUInt16LE(needs64 && entries >= u16max ? u16max : entries, 8);
  end.writeUInt16LE(needs64 && entries >= u16max ? u16max : entries, 10);
  end.writeUInt32LE(needs64 && directorySize >= u32max ? u32max : directorySize, 12);
  end.writeUInt32LE(needs64 && (directoryOffset >= u32max || values.forceZip64) ? u32max : directoryOffset, 16);
  end.writeUInt16LE(0, 20); // comment length
  parts.push(end);
  return Buffer.concat(parts);
}

/**
 * Whether an entry's local header needs ZIP64 sizes: its data may reach 4 GiB
 * (deflate can grow incompressible data by a few bytes per 16 KiB block).
 */
export function needsZip64Sizes(uncompressedSize: number, method: ZipMethod): boolean {
  const worst = method === ZipMethod.Deflate ? uncompressedSize + Math.ceil(uncompressedSize / 16384) * 5 + 64 : uncompressedSize;
  return worst >= u32max;
}
