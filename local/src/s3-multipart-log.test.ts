import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { useTestEmulator } from './emulator-test-support';
import type { MultipartStore } from './s3-multipart-log';
import type { LoggedParts } from './s3-object-log';

const bucket = 'multipart-log-test';
const t = useTestEmulator('multipart-log', [bucket]);
const body = (key: string, partNumber?: number) => t.body(bucket, key, partNumber);

async function createUpload(key: string): Promise<string> {
  const created = await t.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: 'application/zip', ChecksumAlgorithm: 'CRC32' }));
  return created.UploadId as string;
}

async function uploadPart(key: string, uploadId: string, partNumber: number, data: Buffer): Promise<{ PartNumber: number; ETag: string; ChecksumCRC32?: string }> {
  const answer = await t.s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: partNumber, Body: data, ChecksumAlgorithm: 'CRC32' }));
  return { PartNumber: partNumber, ETag: answer.ETag as string, ...(answer.ChecksumCRC32 ? { ChecksumCRC32: answer.ChecksumCRC32 } : {}) };
}

/** S3's multipart ETag: MD5 of the parts' binary MD5s, "-" part count. */
function multipartEtag(parts: Buffer[]): string {
  const digests = Buffer.concat(parts.map((part) => createHash('md5').update(part).digest()));
  return `"${createHash('md5').update(digests).digest('hex')}-${parts.length}"`;
}

const store = () => t.emulator.s3 as unknown as MultipartStore;
const log = () => store().persistence as LoggedParts;

describe('multipart uploads in the object log', () => {
  const mib = 1024 * 1024;
  const parts = [randomBytes(5 * mib), randomBytes(5 * mib + 17), randomBytes(1000)];

  it('keeps no part body in memory or in part files, and completes into the concatenation with S3 ETag and part boundaries', async () => {
    const key = 'exports/a.zip';
    const uploadId = await createUpload(key);
    const uploaded = [];
    for (const [i, data] of parts.entries()) uploaded.push(await uploadPart(key, uploadId, i + 1, data));
    const held = [...(store().multipartUploads.get(uploadId)?.parts.values() ?? [])];
    expect(held.map((part) => [part.body.length, part.size])).toEqual(parts.map((data) => [0, data.length]));
    // fauxqs's own layout would hold <part>.data files here; the upload's folder keeps only its .upload.json.
    expect(readdirSync(join(t.dir, 's3', '_multipart', uploadId, 'parts'))).toEqual([]);
    expect(existsSync(join(t.dir, 's3', '_multipart', uploadId, '.upload.json'))).toBe(true);

    const done = await t.s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: uploaded } }));
    expect(done.ETag).toBe(multipartEtag(parts));
    expect(done.ChecksumCRC32).toMatch(/-3$/);
    expect(await body(key)).toEqual(Buffer.concat(parts));
    expect(await body(key, 2)).toEqual(parts[1]);
    const head = await t.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    expect(head).toMatchObject({ ContentLength: parts.reduce((sum, data) => sum + data.length, 0), ContentType: 'application/zip', ETag: multipartEtag(parts) });
    expect(existsSync(join(t.dir, 's3', '_multipart', uploadId))).toBe(false);
  });

  it('answers S3 errors: a wrong ETag is InvalidPart, a small middle part EntityTooSmall, parts out of order InvalidPartOrder', async () => {
    const key = 'exports/bad.zip';
    const uploadId = await createUpload(key);
    const first = await uploadPart(key, uploadId, 1, Buffer.from('too small to be a middle part'));
    const second = await uploadPart(key, uploadId, 2, parts[2] as Buffer);
    const complete = (list: { PartNumber: number; ETag: string }[]) =>
      t.s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: list } }));
    await expect(complete([{ ...first, ETag: '"0123456789abcdef0123456789abcdef"' }])).rejects.toMatchObject({ name: 'InvalidPart' });
    await expect(complete([first, second])).rejects.toMatchObject({ name: 'EntityTooSmall' });
    await expect(complete([second, first])).rejects.toMatchObject({ name: 'InvalidPartOrder' });
    await t.s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
    await expect(complete([first])).rejects.toMatchObject({ name: 'NoSuchUpload' });
  });

  it('an upload survives a restart of the emulator halfway, and the completed object survives the next one', async () => {
    const key = 'exports/resumed.zip';
    const uploadId = await createUpload(key);
    const uploaded = [await uploadPart(key, uploadId, 1, parts[0] as Buffer)];
    await t.restart();
    uploaded.push(await uploadPart(key, uploadId, 2, parts[1] as Buffer), await uploadPart(key, uploadId, 3, parts[2] as Buffer));
    const done = await t.s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: uploaded } }));
    expect(done.ETag).toBe(multipartEtag(parts));
    await t.restart();
    expect(await body(key)).toEqual(Buffer.concat(parts));
    expect(await body('exports/a.zip')).toEqual(Buffer.concat(parts));
  });

  it('an abort removes the logged parts, and the upload is gone after a restart', async () => {
    const key = 'exports/aborted.zip';
    const uploadId = await createUpload(key);
    await uploadPart(key, uploadId, 1, parts[2] as Buffer);
    expect(log().readPart(uploadId, 1)).toEqual(parts[2]);
    await t.s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
    expect(() => log().readPart(uploadId, 1)).toThrow(/not in the log/);
    await t.restart();
    expect(store().multipartUploads.has(uploadId)).toBe(false);
    await expect(uploadPart(key, uploadId, 2, parts[2] as Buffer)).rejects.toMatchObject({ name: 'NoSuchUpload' });
  });

  it("completes an upload whose parts are partly in fauxqs's file layout (a data directory of an earlier version) and partly in the log", async () => {
    const key = 'exports/mixed.zip';
    const uploadId = await createUpload(key);
    const first = await uploadPart(key, uploadId, 1, parts[0] as Buffer);
    await t.emulator.stop();
    // Part 2 as fauxqs's own persistence writes it: a .data file and its .meta.json next to the upload's .upload.json.
    const partsDir = join(t.dir, 's3', '_multipart', uploadId, 'parts');
    mkdirSync(partsDir, { recursive: true });
    const etag = `"${createHash('md5').update(parts[1] as Buffer).digest('hex')}"`;
    writeFileSync(join(partsDir, '2.data'), parts[1] as Buffer);
    writeFileSync(join(partsDir, '2.meta.json'), JSON.stringify({ partNumber: 2, etag, lastModified: new Date().toISOString() }));
    await t.restart();
    const restored = store().multipartUploads.get(uploadId)?.parts;
    expect([restored?.get(1)?.size, restored?.get(2)?.body.length]).toEqual([parts[0]?.length, parts[1]?.length]);
    const third = await uploadPart(key, uploadId, 3, parts[2] as Buffer);
    const done = await t.s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: [first, { PartNumber: 2, ETag: etag }, third] } }));
    expect(done.ETag).toBe(multipartEtag(parts));
    expect(await body(key)).toEqual(Buffer.concat(parts));
    await t.restart();
    expect(await body(key)).toEqual(Buffer.concat(parts));
    expect(existsSync(join(t.dir, 's3', '_multipart', uploadId))).toBe(false);
  });
});
