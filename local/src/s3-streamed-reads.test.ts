import { randomBytes } from 'node:crypto';
import { CompleteMultipartUploadCommand, CreateMultipartUploadCommand, GetObjectCommand, PutObjectCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { streamedReadMinBytes } from './aws-emulator';
import { useTestEmulator } from './emulator-test-support';
import { singleRange } from './s3-streamed-reads';

const bucket = 'streamed-reads-test';
const t = useTestEmulator('streamed-reads', [bucket]);
const mib = 1024 * 1024;

/** Counts fauxqs's whole-body reads (the path large GETs no longer take). */
function countBodyReads(): { count: () => number; restore: () => void } {
  const persistence = (t.emulator.s3 as unknown as { persistence: { readBody: (bucket: string, key: string) => Buffer } }).persistence;
  const original = persistence.readBody;
  let count = 0;
  persistence.readBody = function counted(this: unknown, b: string, k: string) {
    count++;
    return original.call(this, b, k);
  };
  return { count: () => count, restore: () => void (persistence.readBody = original) };
}

async function get(key: string, extra: { Range?: string; ChecksumMode?: 'ENABLED' } = {}) {
  const answer = await t.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...extra }));
  const bytes = Buffer.from(await (answer.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
  return { answer, bytes };
}

describe('large objects are streamed from the object log', () => {
  const parts = [randomBytes(5 * mib), randomBytes(5 * mib), randomBytes(3 * mib + 5)];
  const whole = Buffer.concat(parts);
  const multipartKey = 'exports/big.zip';

  it('a multipart object: the whole body, ranges across part boundaries and the checksum, without reading it into memory', async () => {
    const created = await t.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: multipartKey, ContentType: 'application/zip', Metadata: { origin: 'test' }, ChecksumAlgorithm: 'CRC32' }));
    const uploaded = [];
    for (const [i, data] of parts.entries()) {
      const answer = await t.s3.send(new UploadPartCommand({ Bucket: bucket, Key: multipartKey, UploadId: created.UploadId, PartNumber: i + 1, Body: data, ChecksumAlgorithm: 'CRC32' }));
      uploaded.push({ PartNumber: i + 1, ETag: answer.ETag as string, ChecksumCRC32: answer.ChecksumCRC32 as string });
    }
    const done = await t.s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: multipartKey, UploadId: created.UploadId, MultipartUpload: { Parts: uploaded } }));

    const reads = countBodyReads();
    try {
      const full = await get(multipartKey, { ChecksumMode: 'ENABLED' });
      expect(full.bytes.equals(whole)).toBe(true);
      expect(full.answer).toMatchObject({ ContentLength: whole.length, ContentType: 'application/zip', ETag: done.ETag, Metadata: { origin: 'test' }, ChecksumCRC32: done.ChecksumCRC32 });
      const across = await get(multipartKey, { Range: `bytes=${5 * mib - 10}-${10 * mib + 9}` });
      expect(across.bytes.equals(whole.subarray(5 * mib - 10, 10 * mib + 10))).toBe(true);
      expect(across.answer).toMatchObject({ ContentLength: 5 * mib + 20, ContentRange: `bytes ${5 * mib - 10}-${10 * mib + 9}/${whole.length}` });
      const tail = await get(multipartKey, { Range: 'bytes=-7' });
      expect(tail.bytes.equals(whole.subarray(whole.length - 7))).toBe(true);
      const open = await get(multipartKey, { Range: `bytes=${whole.length - 3}-` });
      expect(open.bytes.equals(whole.subarray(whole.length - 3))).toBe(true);
      expect(reads.count()).toBe(0);
    } finally {
      reads.restore();
    }
  });

  it('small objects, part reads and unsatisfiable ranges are still answered by fauxqs', async () => {
    const small = randomBytes(1000);
    await t.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'small.bin', Body: small }));
    const reads = countBodyReads();
    try {
      expect((await get('small.bin')).bytes.equals(small)).toBe(true);
      expect(reads.count()).toBe(1);
      expect(await t.body(bucket, multipartKey, 2)).toEqual(parts[1]);
      expect(reads.count()).toBe(2);
      await expect(get(multipartKey, { Range: `bytes=${whole.length}-` })).rejects.toMatchObject({ name: 'InvalidRange' });
    } finally {
      reads.restore();
    }
  });

  it('a single PUT object at the threshold streams too', async () => {
    const body = randomBytes(streamedReadMinBytes);
    await t.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'threshold.bin', Body: body }));
    const reads = countBodyReads();
    try {
      expect((await get('threshold.bin')).bytes.equals(body)).toBe(true);
      expect(reads.count()).toBe(0);
    } finally {
      reads.restore();
    }
  });
});

describe('singleRange', () => {
  it('reads the forms S3 accepts for one range and leaves the rest to fauxqs', () => {
    expect(singleRange('bytes=0-9', 100)).toEqual({ start: 0, end: 9 });
    expect(singleRange('bytes=90-', 100)).toEqual({ start: 90, end: 99 });
    expect(singleRange('bytes=-10', 100)).toEqual({ start: 90, end: 99 });
    expect(singleRange('bytes=95-200', 100)).toEqual({ start: 95, end: 99 });
    expect(singleRange('bytes=100-', 100)).toBeUndefined();
    expect(singleRange('bytes=0-1,5-6', 100)).toBeUndefined();
    expect(singleRange('bytes=-0', 100)).toBeUndefined();
    expect(singleRange('items=0-1', 100)).toBeUndefined();
  });
});
