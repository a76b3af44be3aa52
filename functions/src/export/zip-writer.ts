/**
 * Writes zip entries to a byte sink, one after the other, and answers each
 * entry's central directory values (offset, CRC-32, sizes), which the caller
 * keeps: the central directory is written from those records at the end,
 * possibly by another process. Deterministic: the same entries with the
 * same plan give the same bytes, which is what lets a resumed export
 * regenerate an entry and skip the part already uploaded.
 *
 * Whole entries (bytes in hand) carry CRC and sizes in their local header;
 * streamed ones (larger files, the manifests) use a data descriptor.
 * CRC-32 by zlib.crc32 (native, Node ≥ 22.2), never a JavaScript loop.
 */
import { once } from 'node:events';
import { promisify } from 'node:util';
import { crc32, createDeflateRaw, deflateRaw } from 'node:zlib';
import type { CentralEntry, DosTimestamp, ZipMethod } from './zip-records';
import { centralHeader, dataDescriptor, endOfCentralDirectory, localHeader, needsZip64Sizes, ZipMethod as Method } from './zip-records';

const deflateRawAsync = promisify(deflateRaw);

/** Where the zip's bytes go. */
export interface ByteSink {
  write(data: Buffer): Promise<void>;
}

/**
 * The zip's bytes from `position` on, of which those before `resumeAt` are
 * already stored (uploaded parts of an earlier run): they are counted and
 * dropped, the rest go to `target`.
 */
export class ResumingSink implements ByteSink {
  constructor(
    private position: number,
    private readonly resumeAt: number,
    private readonly target: ByteSink,
  ) {}

  async write(data: Buffer): Promise<void> {
    const end = this.position + data.length;
    if (end <= this.resumeAt) {
      this.position = end;
      return;
    }
    const skip = Math.max(this.resumeAt - this.position, 0);
    this.position = end;
    await this.target.write(skip > 0 ? data.subarray(skip) : data);
  }
}

export interface WrittenEntry extends CentralEntry {
  /** First byte after the entry (descriptor included). */
  end: number;
  zip64: boolean;
}

export interface EntryOptions {
  method: ZipMethod;
  deflateLevel: number;
}

/** Input of deflate streams is cut into blocks of this size, so the compressed bytes never depend on how the network chunked the data. */
const deflateBlockBytes = 1024 * 1024;

async function* fixedBlocks(chunks: AsyncIterable<Buffer>, size: number): AsyncIterable<Buffer> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const chunk of chunks) {
    let rest = chunk;
    while (rest.length > 0) {
      const take = Math.min(size - pendingBytes, rest.length);
      pending.push(rest.subarray(0, take));
      pendingBytes += take;
      rest = rest.subarray(take);
      if (pendingBytes === size) {
        yield Buffer.concat(pending, size);
        pending = [];
        pendingBytes = 0;
      }
    }
  }
  if (pendingBytes > 0) yield Buffer.concat(pending, pendingBytes);
}

export class ZipWriter {
  constructor(
    private readonly sink: ByteSink,
    /** Offset of the next byte written (where the first entry of this run starts). */
    public position: number,
    private readonly timestamp: DosTimestamp,
    private readonly forceZip64 = false,
  ) {}

  private async emit(data: Buffer): Promise<void> {
    this.position += data.length;
    await this.sink.write(data);
  }

  /** An entry whose bytes are all in hand: CRC and sizes in the local header, no descriptor. */
  async addWhole(path: string, chunks: readonly Buffer[], options: EntryOptions): Promise<WrittenEntry> {
    let crc = 0;
    let uncompressedSize = 0;
    for (const chunk of chunks) {
      crc = crc32(chunk, crc);
      uncompressedSize += chunk.length;
    }
    const data = options.method === Method.Deflate ? [await deflateRawAsync(Buffer.concat(chunks, uncompressedSize), { level: options.deflateLevel })] : chunks;
    const compressedSize = data.reduce((n, c) => n + c.length, 0);
    const zip64 = this.forceZip64 || needsZip64Sizes(uncompressedSize, options.method);
    const offset = this.position;
    await this.emit(localHeader({ path, method: options.method, timestamp: this.timestamp, descriptor: false, zip64, crc32: crc, compressedSize, uncompressedSize }));
    for (const chunk of data) await this.emit(chunk);
    return { path, method: options.method, timestamp: this.timestamp, descriptor: false, zip64, crc32: crc, compressedSize, uncompressedSize, offset, end: this.position };
  }

  /**
   * An entry streamed from `chunks`: CRC and sizes in a data descriptor after
   * the data. `maxUncompressedBytes` decides whether its sizes need ZIP64.
   */
  async addStream(path: string, chunks: AsyncIterable<Buffer>, options: EntryOptions & { maxUncompressedBytes: number }): Promise<WrittenEntry> {
    const zip64 = this.forceZip64 || needsZip64Sizes(options.maxUncompressedBytes, options.method);
    const offset = this.position;
    await this.emit(localHeader({ path, method: options.method, timestamp: this.timestamp, descriptor: true, zip64, crc32: 0, compressedSize: 0, uncompressedSize: 0 }));
    let crc = 0;
    let uncompressedSize = 0;
    let compressedSize = 0;
    if (options.method === Method.Store) {
      for await (const chunk of chunks) {
        crc = crc32(chunk, crc);
        uncompressedSize += chunk.length;
        await this.emit(chunk);
      }
      compressedSize = uncompressedSize;
    } else {
      const deflate = createDeflateRaw({ level: options.deflateLevel });
      const stopFeeding = new AbortController();
      let feedError: unknown;
      const feed = (async () => {
        for await (const block of fixedBlocks(chunks, deflateBlockBytes)) {
          if (stopFeeding.signal.aborted) return;
          crc = crc32(block, crc);
          uncompressedSize += block.length;
          if (!deflate.write(block)) await once(deflate, 'drain', { signal: stopFeeding.signal });
        }
        deflate.end();
      })().catch((error: unknown) => {
        if (stopFeeding.signal.aborted) return;
        feedError = error;
        deflate.destroy(error as Error);
      });
      try {
        for await (const out of deflate as AsyncIterable<Buffer>) {
          compressedSize += out.length;
          await this.emit(out);
        }
      } catch (error) {
        // The sink failed (or the feed did): stop the feed where it waits, then report.
        if (feedError === undefined) stopFeeding.abort();
        await feed;
        throw feedError ?? error;
      }
      await feed;
      if (feedError !== undefined) throw feedError;
    }
    await this.emit(dataDescriptor({ crc32: crc, compressedSize, uncompressedSize, zip64 }));
    return { path, method: options.method, timestamp: this.timestamp, descriptor: true, zip64, crc32: crc, compressedSize, uncompressedSize, offset, end: this.position };
  }

  /** The central directory from the entries' records (in pages), then the end records. */
  async finish(pages: AsyncIterable<readonly CentralEntry[]>): Promise<{ entries: number; directoryOffset: number; directorySize: number; zipBytes: number }> {
    const directoryOffset = this.position;
    let entries = 0;
    for await (const page of pages) {
      if (page.length === 0) continue;
      await this.emit(Buffer.concat(page.map((entry) => centralHeader(entry, this.forceZip64))));
      entries += page.length;
    }
    const directorySize = this.position - directoryOffset;
    await this.emit(endOfCentralDirectory({ entries, directoryOffset, directorySize, forceZip64: this.forceZip64 }));
    return { entries, directoryOffset, directorySize, zipBytes: this.position };
  }
}
