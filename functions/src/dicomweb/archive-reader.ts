/**
 * Reading the archive bucket: whole files as streams (WADO-RS retrieve) and
 * byte ranges (frames, bulk data) at the offsets recorded at ingest, so
 * nothing is ever re-parsed to serve pixels.
 */
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { bucketName, s3Client } from '../adapters/aws-clients';

export class ArchiveReader {
  constructor(readonly bucket: string, private readonly s3: S3Client) {}

  /** Bytes [offset, offset + length) of an object. */
  async range(key: string, offset: number, length: number): Promise<Buffer> {
    if (length <= 0) return Buffer.alloc(0);
    const answer = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: `bytes=${offset}-${offset + length - 1}` }));
    const bytes = Buffer.from(await (answer.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
    if (bytes.length !== length) throw new Error(`archive range read returned ${bytes.length} of ${length} bytes`);
    return bytes;
  }

  async whole(key: string): Promise<Buffer> {
    const answer = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    return Buffer.from(await (answer.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
  }

  /** The object as a stream of chunks (for answers that do not fit in memory). */
  async *chunks(key: string): AsyncGenerator<Uint8Array> {
    const answer = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    for await (const chunk of answer.Body as AsyncIterable<Uint8Array>) yield chunk;
  }

  /** The object, or undefined when there is none (cached derived images). */
  async optional(key: string): Promise<Buffer | undefined> {
    try {
      return await this.whole(key);
    } catch (error) {
      const name = (error as { name?: string }).name;
      if (name === 'NoSuchKey' || name === 'NotFound') return undefined;
      throw error;
    }
  }

  async put(key: string, body: Uint8Array, contentType: string): Promise<void> {
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType, ContentLength: body.length }));
  }
}

let reader: ArchiveReader | undefined;
export function archiveReader(): ArchiveReader {
  const bucket = bucketName('archive');
  if (!reader || reader.bucket !== bucket) reader = new ArchiveReader(bucket, s3Client());
  return reader;
}
