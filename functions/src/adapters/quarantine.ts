/**
 * The quarantine bucket: raw uploads (PHI!) land here through presigned URLs
 * and are read by the ingest worker. Originals are never modified or deleted
 * by medlake; the bucket's lifecycle rule expires them.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  CompleteMultipartUploadCommand, CreateMultipartUploadCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { bucketName, presigningS3Client, s3Client } from './aws-clients';

export interface PresignedPut {
  url: string;
  /** Headers the client must send with the PUT (they are part of the signature). */
  headers: Record<string, string>;
}

/** A quarantined object, in memory when small, in a temporary file when large. */
export type QuarantinedObject =
  | { kind: 'memory'; bytes: Buffer; sizeBytes: number; sha256: string }
  | { kind: 'file'; path: string; sizeBytes: number; sha256: string; dispose(): Promise<void> };

/** The stored object does not match the checksum it was uploaded with (S3 refuses such uploads; emulators may not). */
export class ChecksumMismatch extends Error {
  constructor() {
    super('the object does not match its stored checksum');
    this.name = 'ChecksumMismatch';
  }
}

function checksumFailure(error: unknown): boolean {
  return error instanceof Error && /checksum mismatch/i.test(error.message);
}

export class Quarantine {
  constructor(
    readonly bucket: string,
    private readonly s3: S3Client,
    private readonly presigner: S3Client,
  ) {}

  /**
   * A PUT URL bound to the exact size (S3 refuses another Content-Length) and,
   * when the client declared it, to the SHA-256 (S3 refuses other bytes).
   */
  async presignPut(key: string, sizeBytes: number, expiresInSeconds: number, sha256Base64?: string): Promise<PresignedPut> {
    const command = new PutObjectCommand({ Bucket: this.bucket, Key: key, ContentLength: sizeBytes, ...(sha256Base64 ? { ChecksumSHA256: sha256Base64 } : {}) });
    const url = await getSignedUrl(this.presigner, command, {
      expiresIn: expiresInSeconds,
      signableHeaders: new Set(['content-length', ...(sha256Base64 ? ['x-amz-checksum-sha256'] : [])]),
      // A header, not a query parameter: S3 checks the body against it.
      unhoistableHeaders: new Set(sha256Base64 ? ['x-amz-checksum-sha256'] : []),
    });
    return { url, headers: sha256Base64 ? { 'x-amz-checksum-sha256': sha256Base64 } : {} };
  }

  async createMultipart(key: string): Promise<string> {
    const answer = await this.s3.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key }));
    if (!answer.UploadId) throw new Error('S3 returned no multipart upload id');
    return answer.UploadId;
  }

  presignPart(key: string, multipartUploadId: string, partNumber: number, expiresInSeconds: number): Promise<string> {
    return getSignedUrl(this.presigner, new UploadPartCommand({ Bucket: this.bucket, Key: key, UploadId: multipartUploadId, PartNumber: partNumber }), { expiresIn: expiresInSeconds });
  }

  async completeMultipart(key: string, multipartUploadId: string, parts: readonly { partNumber: number; etag: string }[]): Promise<void> {
    await this.s3.send(new CompleteMultipartUploadCommand({
      Bucket: this.bucket,
      Key: key,
      UploadId: multipartUploadId,
      MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
    }));
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  /**
   * Reads an object: into memory up to `memoryLimitBytes`, otherwise streamed
   * into a temporary file (Lambda's /tmp), hashing as it goes either way.
   */
  async read(bucket: string, key: string, memoryLimitBytes: number): Promise<QuarantinedObject> {
    try {
      return await this.readUnchecked(bucket, key, memoryLimitBytes);
    } catch (error) {
      if (checksumFailure(error)) throw new ChecksumMismatch();
      throw error;
    }
  }

  private async readUnchecked(bucket: string, key: string, memoryLimitBytes: number): Promise<QuarantinedObject> {
    const answer = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const body = answer.Body as Readable | undefined;
    if (!body) throw new Error('S3 returned no body');
    const declared = answer.ContentLength ?? 0;
    const hash = createHash('sha256');
    if (declared <= memoryLimitBytes) {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of body) {
        const bytes = chunk as Buffer;
        hash.update(bytes);
        chunks.push(bytes);
        size += bytes.length;
      }
      return { kind: 'memory', bytes: Buffer.concat(chunks, size), sizeBytes: size, sha256: hash.digest('hex') };
    }
    const dir = await mkdtemp(join(tmpdir(), 'medlake-ingest-'));
    const path = join(dir, 'object');
    let size = 0;
    try {
      await pipeline(body, async function* (source: AsyncIterable<Buffer>) {
        for await (const chunk of source) {
          hash.update(chunk);
          size += chunk.length;
          yield chunk;
        }
      }, createWriteStream(path));
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
    return { kind: 'file', path, sizeBytes: size, sha256: hash.digest('hex'), dispose: () => rm(dir, { recursive: true, force: true }) };
  }
}

export function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  return e?.name === 'NotFound' || e?.name === 'NoSuchKey' || e?.$metadata?.httpStatusCode === 404;
}

export function quarantineFromEnv(env: NodeJS.ProcessEnv = process.env): Quarantine {
  return new Quarantine(bucketName('quarantine', env), s3Client(env), presigningS3Client(env));
}
