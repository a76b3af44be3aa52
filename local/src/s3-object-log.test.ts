import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AwsEmulator } from './aws-emulator';
import { startAwsEmulator } from './aws-emulator';
import { objectMeta } from './s3-object-log';

const dir = mkdtempSync(join(tmpdir(), 'medlake-object-log-'));
const bucket = 'object-log-test';
let emulator: AwsEmulator | undefined;
let s3: S3Client;

async function start(): Promise<void> {
  emulator = await startAwsEmulator({ dir, port: 0, region: 'us-east-1' });
  s3?.destroy();
  s3 = new S3Client({ endpoint: emulator.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
}

async function body(key: string): Promise<Buffer> {
  const answer = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await (answer.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
}

const md5 = (data: Uint8Array) => `"${createHash('md5').update(data).digest('hex')}"`;

beforeAll(async () => {
  await start();
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
});

afterAll(async () => {
  s3?.destroy();
  await emulator?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('object bodies in segments with an index', () => {
  const big = Buffer.alloc(600_000, 7);
  const small = Buffer.from('small object');

  it('stores bodies in segment files, not two files per object, and reads them back', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'studies/a/1.dcm', Body: big, ContentType: 'application/dicom', Metadata: { sha256: 'abc' } }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'studies/a/2.dcm', Body: small }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'empty', Body: Buffer.alloc(0) }));
    expect(await body('studies/a/1.dcm')).toEqual(big);
    expect(await body('studies/a/2.dcm')).toEqual(small);
    expect(await body('empty')).toEqual(Buffer.alloc(0));
    expect(readdirSync(join(dir, 's3', 'buckets', bucket, 'objects'))).toEqual([]);
    expect(readdirSync(join(dir, 's3', 'segments')).length).toBe(1);
  });

  it('an overwrite answers the new body, a delete answers NoSuchKey', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'studies/a/2.dcm', Body: Buffer.from('second version') }));
    expect((await body('studies/a/2.dcm')).toString()).toBe('second version');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'gone', Body: small }));
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'gone' }));
    await expect(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'gone' }))).rejects.toMatchObject({ name: 'NoSuchKey' });
  });

  it('a restart keeps bodies and metadata, drops deleted objects, and reads objects of the earlier file layout', async () => {
    // An object as fauxqs's own file persistence wrote it (data directories of earlier versions).
    const legacy = Buffer.from('written by the file layout');
    const objects = join(dir, 's3', 'buckets', bucket, 'objects', 'legacy');
    mkdirSync(objects, { recursive: true });
    writeFileSync(join(objects, 'old.dcm.data'), legacy);
    writeFileSync(join(objects, 'old.dcm.meta.json'), objectMeta({ key: 'legacy/old.dcm', contentType: 'application/dicom', contentLength: legacy.length, etag: md5(legacy), lastModified: new Date(), metadata: {} }));
    await emulator?.stop();
    await start();
    expect(await body('studies/a/1.dcm')).toEqual(big);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'studies/a/1.dcm' }));
    expect(head).toMatchObject({ ContentType: 'application/dicom', ContentLength: big.length, ETag: md5(big), Metadata: { sha256: 'abc' } });
    expect((await body('studies/a/2.dcm')).toString()).toBe('second version');
    await expect(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'gone' }))).rejects.toMatchObject({ name: 'NoSuchKey' });
    expect(await body('legacy/old.dcm')).toEqual(legacy);
    // Overwritten in the new layout, deleted: gone after the next restart too.
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'legacy/old.dcm', Body: small }));
    expect(await body('legacy/old.dcm')).toEqual(small);
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'legacy/old.dcm' }));
    await emulator?.stop();
    await start();
    await expect(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'legacy/old.dcm' }))).rejects.toMatchObject({ name: 'NoSuchKey' });
  });
});
