import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AwsEmulator } from './aws-emulator';
import { startAwsEmulator } from './aws-emulator';

const dir = mkdtempSync(join(tmpdir(), 'medlake-kms-etags-'));
const encrypted = 'kms-etags-encrypted';
const plain = 'kms-etags-plain';
let emulator: AwsEmulator;
let s3: S3Client;

const md5 = (data: Uint8Array) => `"${createHash('md5').update(data).digest('hex')}"`;

async function body(bucket: string, key: string): Promise<Buffer> {
  const answer = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await (answer.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
}

beforeAll(async () => {
  emulator = await startAwsEmulator({ dir, port: 0, region: 'us-east-1', kmsBuckets: [encrypted] });
  s3 = new S3Client({ endpoint: emulator.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  for (const bucket of [encrypted, plain]) await s3.send(new CreateBucketCommand({ Bucket: bucket }));
});

afterAll(async () => {
  s3?.destroy();
  await emulator?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('ETags of SSE-KMS buckets', () => {
  const data = Buffer.from('the same bytes, written twice');

  it('are 32 hex digits, not the MD5 of the data, and new for every write (S3 with SSE-KMS); plain buckets keep MD5 ETags', async () => {
    const first = await s3.send(new PutObjectCommand({ Bucket: encrypted, Key: 'a', Body: data, ContentType: 'application/dicom', Metadata: { sha256: 'x' } }));
    const second = await s3.send(new PutObjectCommand({ Bucket: encrypted, Key: 'a', Body: data }));
    for (const etag of [first.ETag, second.ETag]) {
      expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
      expect(etag).not.toBe(md5(data));
    }
    expect(second.ETag).not.toBe(first.ETag);
    expect((await s3.send(new HeadObjectCommand({ Bucket: encrypted, Key: 'a' }))).ETag).toBe(second.ETag);
    expect(await body(encrypted, 'a')).toEqual(data);
    expect((await s3.send(new PutObjectCommand({ Bucket: plain, Key: 'a', Body: data }))).ETag).toBe(md5(data));
  });

  it('keeps what a write carries: content type, metadata, checksum', async () => {
    const sha256 = createHash('sha256').update(data).digest('base64');
    await s3.send(new PutObjectCommand({ Bucket: encrypted, Key: 'b', Body: data, ContentType: 'application/dicom', Metadata: { sha256: 'hex' }, ChecksumSHA256: sha256 }));
    const head = await s3.send(new HeadObjectCommand({ Bucket: encrypted, Key: 'b', ChecksumMode: 'ENABLED' }));
    expect(head).toMatchObject({ ContentType: 'application/dicom', ContentLength: data.length, Metadata: { sha256: 'hex' }, ChecksumSHA256: sha256 });
  });

  it('multipart uploads complete with part ETags of the same kind, into the parts in order', async () => {
    const parts = [Buffer.alloc(5 * 1024 * 1024, 1), Buffer.from('tail')];
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: encrypted, Key: 'c' }));
    const uploaded = [];
    for (const [i, part] of parts.entries()) {
      const answer = await s3.send(new UploadPartCommand({ Bucket: encrypted, Key: 'c', UploadId, PartNumber: i + 1, Body: part }));
      expect(answer.ETag).toMatch(/^"[0-9a-f]{32}"$/);
      expect(answer.ETag).not.toBe(md5(part));
      uploaded.push({ PartNumber: i + 1, ETag: answer.ETag as string });
    }
    const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: encrypted, Key: 'c', UploadId, MultipartUpload: { Parts: uploaded } }));
    expect(done.ETag).toMatch(/^"[0-9a-f]{32}-2"$/);
    expect(await body(encrypted, 'c')).toEqual(Buffer.concat(parts));
  });
});
