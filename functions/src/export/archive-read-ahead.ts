/**
 * Archive objects fetched ahead of the zip writer: parallel S3 GETs (at most
 * `concurrency`), started in the order the writer will need them, holding at
 * most `budgetBytes` fetched-but-not-yet-written bytes (one object larger
 * than the budget is still fetched, alone). Objects up to
 * `wholeObjectMaxBytes` come in one GET; larger ones in ranged GETs of
 * `rangeBytes`, so a big file streams through without ever being whole in
 * memory. The writer releases each piece once written.
 *
 * Starting strictly in order is what makes the budget safe: the piece the
 * writer waits for is always the oldest one not yet released, so it is
 * either running or first in line.
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';

export interface ReadAheadOptions {
  s3: S3Client;
  bucket: string;
  budgetBytes: number;
  concurrency: number;
  wholeObjectMaxBytes: number;
  rangeBytes: number;
}

/** What one GET brought. */
export interface FetchedPiece {
  /** The bytes as they arrived (no concatenation). */
  chunks: Buffer[];
  /**
   * Hex SHA-256 of the whole object as S3 stores it, when S3 keeps one
   * (objects stored with a full-object SHA-256 checksum): the SDK has then
   * checked these bytes against it while reading them (checksum mode on).
   */
  verifiedSha256: string | undefined;
}

/** One GET: the whole object or a byte range of it. */
export interface Piece {
  readonly bytes: Promise<FetchedPiece>;
  readonly sizeBytes: number;
  /** Frees its share of the budget; call once the bytes are written. */
  release(): void;
}

/** An object to be read: its pieces in order. */
export interface ObjectRead {
  key: string;
  sizeBytes: number;
  /** More than one piece: the object streams (its CRC is known only after the data). */
  pieces: Piece[];
}

interface PieceTask {
  key: string;
  start: number;
  end: number;
  size: number;
  whole: boolean;
  started: boolean;
  released: boolean;
  resolve: (piece: FetchedPiece) => void;
  reject: (error: unknown) => void;
}

export class ArchiveReadAhead {
  private readonly waiting: PieceTask[] = [];
  private running = 0;
  private heldBytes = 0;
  private readonly abort = new AbortController();

  constructor(private readonly options: ReadAheadOptions) {}

  /** Queues an object; its pieces start as budget and concurrency allow. */
  add(key: string, sizeBytes: number): ObjectRead {
    const whole = sizeBytes <= this.options.wholeObjectMaxBytes;
    const ranges: [number, number][] = [];
    if (whole) ranges.push([0, sizeBytes]);
    else for (let start = 0; start < sizeBytes; start += this.options.rangeBytes) ranges.push([start, Math.min(start + this.options.rangeBytes, sizeBytes)]);
    const pieces = ranges.map(([start, end]): Piece => {
      let task!: PieceTask;
      const bytes = new Promise<FetchedPiece>((resolve, reject) => {
        task = { key, start, end, size: end - start, whole, started: false, released: false, resolve, reject };
      });
      // A piece nobody awaits any more (a stopped run) must not surface as an unhandled rejection.
      bytes.catch(() => undefined);
      this.waiting.push(task);
      return {
        bytes,
        sizeBytes: end - start,
        release: () => {
          if (task.released) return;
          task.released = true;
          if (task.started) this.heldBytes -= task.size;
          this.pump();
        },
      };
    });
    this.pump();
    return { key, sizeBytes, pieces };
  }

  /** Bytes fetched or being fetched and not yet released. */
  get heldBytesNow(): number {
    return this.heldBytes;
  }

  /** Cancels every GET (a stopping run). */
  close(): void {
    this.abort.abort();
    for (const task of this.waiting.splice(0)) task.reject(new Error('read-ahead closed'));
  }

  private pump(): void {
    while (this.waiting.length > 0 && this.running < this.options.concurrency) {
      const next = this.waiting[0] as PieceTask;
      if (next.released) {
        this.waiting.shift();
        continue;
      }
      if (this.heldBytes > 0 && this.heldBytes + next.size > this.options.budgetBytes) return;
      this.waiting.shift();
      this.start(next);
    }
  }

  private start(task: PieceTask): void {
    task.started = true;
    this.running++;
    this.heldBytes += task.size;
    this.fetch(task)
      .then(task.resolve, task.reject)
      .finally(() => {
        this.running--;
        this.pump();
      });
  }

  private async fetch(task: PieceTask): Promise<FetchedPiece> {
    const answer = await this.options.s3.send(
      new GetObjectCommand({
        Bucket: this.options.bucket,
        Key: task.key,
        // Whole objects: S3 answers its stored checksum and the SDK checks the bytes against it as they stream.
        ...(task.whole ? { ChecksumMode: 'ENABLED' as const } : { Range: `bytes=${task.start}-${task.end - 1}` }),
      }),
      { abortSignal: this.abort.signal },
    );
    const body = answer.Body as AsyncIterable<Uint8Array> | undefined;
    if (!body) throw new Error('S3 answered a GET without a body');
    const chunks: Buffer[] = [];
    let received = 0;
    try {
      for await (const chunk of body) {
        const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        chunks.push(buffer);
        received += buffer.length;
      }
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('Checksum mismatch')) throw new ArchiveObjectChanged(task.key, 'its bytes do not match the checksum S3 stores');
      throw error;
    }
    if (received !== task.size) throw new ArchiveObjectChanged(task.key, `it has ${received} bytes where ${task.size} were expected`);
    const stored = answer.ChecksumSHA256;
    const fullObject = task.whole && stored !== undefined && !stored.includes('-') && answer.ChecksumType !== 'COMPOSITE';
    return { chunks, verifiedSha256: fullObject ? Buffer.from(stored, 'base64').toString('hex') : undefined };
  }
}

/** The archive answered other bytes than the frozen object's (size, or S3's own checksum): not the file frozen. */
export class ArchiveObjectChanged extends Error {
  constructor(readonly key: string, reason: string) {
    super(`the archive object is not the one frozen: ${reason}`);
    this.name = 'ArchiveObjectChanged';
  }
}

/** S3's "no such key" in any of its SDK shapes. */
export function isMissingObject(error: unknown): boolean {
  const e = error as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } } | null;
  return e?.name === 'NoSuchKey' || e?.Code === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}
