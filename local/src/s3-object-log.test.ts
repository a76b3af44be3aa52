import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { useTestEmulator } from './emulator-test-support';
import { objectMeta } from './s3-object-log';

const bucket = 'object-log-test';
const t = useTestEmulator('object-log', [bucket]);
const body = (key: string) => t.body(bucket, key);
const md5 = (data: Uint8Array) => `"${createHash('md5').update(data).digest('hex')}"`;

describe('object bodies in segments with an index', () => {
  const big = Buffer.alloc(600_000, 7);
  const small = Buffer.from('small object');

  it('stores bodies in segment files, not two files per object, and reads them back', async () => {
    await t.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'studies/a/1.dcm', Body: big, ContentType: 'application/dicom', Metadata: { sha256: 'abc' } }));
    await t.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'studies/a/2.dcm', Body: small }));
    await t.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'empty', Body: Buffer.alloc(0) }));
    expect(await body('studies/a/1.dcm')).toEqual(big);
    expect(await body('studies/a/2.dcm')).toEqual(small);
    expect(await body('empty')).toEqual(Buffer.alloc(0));
    expect(readdirSync(join(t.dir, 's3', 'buckets', bucket, 'objects'))).toEqual([]);
    expect(readdirSync(join(t.dir, 's3', 'segments')).length).toBe(1);
  });

  it('an overwrite answers the new body, a delete answers NoSuchKey', async () => {
    await t.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'studies/a/2.dcm', Body: Buffer.from('second version') }));
    expect((await body('studies/a/2.dcm')).toString()).toBe('second version');
    await t.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'gone', Body: small }));
    await t.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'gone' }));
    await expect(t.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'gone' }))).rejects.toMatchObject({ name: 'NoSuchKey' });
  });

  it('a restart keeps bodies and metadata, drops deleted objects, and reads objects of the earlier file layout', async () => {
    // An object as fauxqs's own file persistence wrote it (data directories of earlier versions).
    const legacy = Buffer.from('written by the file layout');
    const objects = join(t.dir, 's3', 'buckets', bucket, 'objects', 'legacy');
    mkdirSync(objects, { recursive: true });
    writeFileSync(join(objects, 'old.dcm.data'), legacy);
    writeFileSync(join(objects, 'old.dcm.meta.json'), objectMeta({ key: 'legacy/old.dcm', contentType: 'application/dicom', contentLength: legacy.length, etag: md5(legacy), lastModified: new Date(), metadata: {} }));
    await t.restart();
    expect(await body('studies/a/1.dcm')).toEqual(big);
    const head = await t.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'studies/a/1.dcm' }));
    expect(head).toMatchObject({ ContentType: 'application/dicom', ContentLength: big.length, ETag: md5(big), Metadata: { sha256: 'abc' } });
    expect((await body('studies/a/2.dcm')).toString()).toBe('second version');
    await expect(t.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'gone' }))).rejects.toMatchObject({ name: 'NoSuchKey' });
    expect(await body('legacy/old.dcm')).toEqual(legacy);
    // Overwritten in the new layout, deleted: gone after the next restart too.
    await t.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'legacy/old.dcm', Body: small }));
    expect(await body('legacy/old.dcm')).toEqual(small);
    await t.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'legacy/old.dcm' }));
    await t.restart();
    await expect(t.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'legacy/old.dcm' }))).rejects.toMatchObject({ name: 'NoSuchKey' });
  });
});
