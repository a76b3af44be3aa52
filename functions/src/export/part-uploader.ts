/**
 * The zip's bytes into an S3 multipart upload: written bytes collect until a
 * part is full, then go up as UploadPart (CRC-32 checksummed, so S3 checks
 * what it received) while the next part fills. At most `concurrency` parts
 * are in flight; a writer waits beyond that (backpressure), so memory stays
 * at about (concurrency + 1) parts whatever the size of the export. Every
 * uploaded part is handed to `onUploaded` (which records it) before its slot
 * frees up.
 */
import { UploadPartCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { signPayloadAs, unsignedPayload } from '../adapters/payload-hash';

export interface UploadedPart {
  partNumber: number;
  etag: string;
  checksumCrc32: string | undefined;
  sizeBytes: number;
}

export interface MultipartTarget {
  s3: S3Client;
  bucket: string;
  key: string;
  uploadId: string;
}

export class PartUploader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Part buffers whose upload finished, filled again instead of allocating (no garbage of part size per part). */
  private readonly spare: Buffer[] = [];
  private readonly inflight = new Set<Promise<void>>();
  private failure: unknown;
  private nextPartNumber: number;

  constructor(
    private readonly target: MultipartTarget,
    private readonly partSizeBytes: number,
    firstPartNumber: number,
    private readonly concurrency: number,
    private readonly onUploaded: (part: UploadedPart) => Promise<void>,
    private readonly signal?: AbortSignal,
  ) {
    this.nextPartNumber = firstPartNumber;
  }

  /** Bytes written but not yet in a part. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  async write(data: Buffer): Promise<void> {
    this.throwIfFailed();
    if (data.length === 0) return;
    this.chunks.push(data);
    this.buffered += data.length;
    while (this.buffered >= this.partSizeBytes) await this.upload(this.take(this.partSizeBytes));
  }

  /** Uploads what is left as the last part (S3 allows it to be small) and waits for every part. Answers the last part number. */
  async finish(): Promise<number> {
    this.throwIfFailed();
    if (this.buffered > 0) await this.upload(this.take(this.buffered));
    await this.drain();
    return this.nextPartNumber - 1;
  }

  /** Waits for the parts in flight; rethrows the first upload failure. */
  async drain(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
    this.throwIfFailed();
  }

  /** Forgets the bytes not yet in a part (a checkpoint: the next run writes them again). */
  discardBuffered(): void {
    this.chunks = [];
    this.buffered = 0;
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }

  /** The first `length` buffered bytes as one buffer; the rest stays buffered. */
  private take(length: number): Buffer {
    const out = length === this.partSizeBytes ? (this.spare.pop() ?? Buffer.allocUnsafe(length)) : Buffer.allocUnsafe(length);
    let filled = 0;
    while (filled < length) {
      const chunk = this.chunks[0] as Buffer;
      const wanted = length - filled;
      if (chunk.length <= wanted) {
        chunk.copy(out, filled);
        filled += chunk.length;
        this.chunks.shift();
      } else {
        chunk.copy(out, filled, 0, wanted);
        this.chunks[0] = chunk.subarray(wanted);
        filled += wanted;
      }
    }
    this.buffered -= length;
    return out;
  }

  private async upload(body: Buffer): Promise<void> {
    while (this.inflight.size >= this.concurrency) await Promise.race(this.inflight);
    this.throwIfFailed();
    const partNumber = this.nextPartNumber++;
    const task = (async () => {
      const command = new UploadPartCommand({
        Bucket: this.target.bucket,
        Key: this.target.key,
        UploadId: this.target.uploadId,
        PartNumber: partNumber,
        Body: body,
        ContentLength: body.length,
        ChecksumAlgorithm: 'CRC32',
      });
      // The part's CRC-32 travels with it and S3 checks it: the signature need not hash the part again.
      const answer = await this.target.s3.send(signPayloadAs(command, unsignedPayload), this.signal ? { abortSignal: this.signal } : {});
      if (!answer.ETag) throw new Error(`S3 answered part ${partNumber} without an ETag`);
      if (body.length === this.partSizeBytes && this.spare.length < this.concurrency) this.spare.push(body);
      await this.onUploaded({ partNumber, etag: answer.ETag, checksumCrc32: answer.ChecksumCRC32, sizeBytes: body.length });
    })().catch((error: unknown) => {
      this.failure ??= error;
    });
    const tracked = task.finally(() => this.inflight.delete(tracked));
    this.inflight.add(tracked);
  }
}
