import { createHash } from 'node:crypto';
import { CompleteMultipartUploadCommand, CreateMultipartUploadCommand, HeadObjectCommand, PutObjectCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { useTestEmulator } from './emulator-test-support';

const encrypted = 'kms-etags-encrypted';
const plain = 'kms-etags-plain';
const t = useTestEmulator('kms-etags', [encrypted, plain], { kmsBuckets: [encrypted] });
const md5 = (data: Uint8Array) => `"${createHash('md5').update(data).digest('hex')}"`;

describe('ETags of SSE-KMS buckets', () => {
  const data = Buffer.from('the same bytes, written twice');

  it('are 32 hex digits, not the MD5 of the data, and new for every write (S3 with SSE-KMS); plain buckets keep MD5 ETags', async () => {
    const first = await t.s3.send(new PutObjectCommand({ Bucket: encrypted, Key: 'a', Body: data, ContentType: 'application/dicom', Metadata: { sha256: 'x' } }));
    const second = await t.s3.send(new PutObjectCommand({ Bucket: encrypted, Key: 'a', Body: data }));
    for (const etag of [first.ETag, second.ETag]) {
      expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
      expect(etag).not.toBe(md5(data));
    }
    expect(second.ETag).not.toBe(first.ETag);
    expect((await t.s3.send(new HeadObjectCommand({ Bucket: encrypted, Key: 'a' }))).ETag).toBe(second.ETag);
    expect(await t.body(encrypted, 'a')).toEqual(data);
    expect((await t.s3.send(new PutObjectCommand({ Bucket: plain, Key: 'a', Body: data }))).ETag).toBe(md5(data));
  });

  it('keeps what a write carries: content type, metadata, checksum', async () => {
    const sha256 = createHash('sha256').update(data).digest('base64');
    await t.s3.send(new PutObjectCommand({ Bucket: encrypted, Key: 'b', Body: data, ContentType: 'application/dicom', Metadata: { sha256: 'hex' }, ChecksumSHA256: sha256 }));
    const head = await t.s3.send(new HeadObjectCommand({ Bucket: encrypted, Key: 'b', ChecksumMode: 'ENABLED' }));
    expect(head).toMatchObject({ ContentType: 'application/dicom', ContentLength: data.length, Metadata: { sha256: 'hex' }, ChecksumSHA256: sha256 });
  });

  it('multipart uploads complete with part ETags of the same kind, into the parts in order', async () => {
    const parts = [Buffer.alloc(5 * 1024 * 1024, 1), Buffer.from('tail')];
    const { UploadId } = await t.s3.send(new CreateMultipartUploadCommand({ Bucket: encrypted, Key: 'c' }));
    const uploaded = [];
    for (const [i, part] of parts.entries()) {
      const answer = await t.s3.send(new UploadPartCommand({ Bucket: encrypted, Key: 'c', UploadId, PartNumber: i + 1, Body: part }));
      expect(answer.ETag).toMatch(/^"[0-9a-f]{32}"$/);
      expect(answer.ETag).not.toBe(md5(part));
      uploaded.push({ PartNumber: i + 1, ETag: answer.ETag as string });
    }
    const done = await t.s3.send(new CompleteMultipartUploadCommand({ Bucket: encrypted, Key: 'c', UploadId, MultipartUpload: { Parts: uploaded } }));
    expect(done.ETag).toMatch(/^"[0-9a-f]{32}-2"$/);
    expect(await t.body(encrypted, 'c')).toEqual(Buffer.concat(parts));
  });
});
