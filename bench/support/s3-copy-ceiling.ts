/**
 * The S3 work of an export without the export: every archived object of a
 * study read (GETs, the export's read concurrency), then as many bytes
 * written as one multipart upload (the export's part size and upload
 * concurrency, CRC-32 checksummed, unsigned payload), with no zip, no hashing
 * and no database. The local S3 emulator serves one request at a time, so
 * reads and writes add up: their sum is the ceiling an export can reach on
 * this machine, and the export row next to it shows how close it comes.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { signPayloadAs, unsignedPayload } from '@medlake/functions/adapters/payload-hash';
import { exportSettings } from '@medlake/functions/export/export-settings';
import { localCredentials, region } from '@medlake/local/stack';
import { runParallel } from './http-client';

export interface CopyCeilingInput {
  endpoint: string;
  archiveBucket: string;
  exportsBucket: string;
  /** Archive keys in the order an export reads them. */
  keys: string[];
  env: Record<string, string>;
}

export interface CopyCeiling {
  /** Reading every object plus writing as many bytes, one after the other (the emulator serves one request at a time). */
  seconds: number;
  readSeconds: number;
  writeSeconds: number;
  bytes: number;
  readConcurrency: number;
  uploadConcurrency: number;
}

export async function measureCopyCeiling(input: CopyCeilingInput): Promise<CopyCeiling> {
  const settings = exportSettings({ ...input.env });
  const s3 = new S3Client({ endpoint: input.endpoint, region, credentials: localCredentials, forcePathStyle: true });
  const key = `bench/copy-ceiling-${Date.now()}.bin`;
  let uploadId: string | undefined;
  try {
    // The reads: every object, bytes drained and counted.
    let bytes = 0;
    const t0 = performance.now();
    await runParallel(input.keys, settings.readConcurrency, async (objectKey) => {
      const answer = await s3.send(new GetObjectCommand({ Bucket: input.archiveBucket, Key: objectKey }));
      for await (const chunk of answer.Body as AsyncIterable<Uint8Array>) bytes += chunk.length;
    });
    const readSeconds = (performance.now() - t0) / 1000;

    // The writes: as many bytes as parts of the export's size (one buffer sent again: no copying on this side).
    const t1 = performance.now();
    uploadId = (await s3.send(new CreateMultipartUploadCommand({ Bucket: input.exportsBucket, Key: key, ChecksumAlgorithm: 'CRC32' }))).UploadId as string;
    const partSize = settings.partSizeBytes;
    const sizes = Array.from({ length: Math.ceil(bytes / partSize) }, (_, i) => Math.min(partSize, bytes - i * partSize));
    const buffer = Buffer.alloc(partSize, 0x5a);
    const parts: { PartNumber: number; ETag: string; ChecksumCRC32?: string }[] = [];
    await runParallel(sizes.map((size, i) => ({ size, i })), settings.uploadConcurrency, async ({ size, i }) => {
      const body = buffer.subarray(0, size);
      const command = new UploadPartCommand({ Bucket: input.exportsBucket, Key: key, UploadId: uploadId, PartNumber: i + 1, Body: body, ContentLength: size, ChecksumAlgorithm: 'CRC32' });
      const answer = await s3.send(signPayloadAs(command, unsignedPayload));
      parts.push({ PartNumber: i + 1, ETag: answer.ETag as string, ...(answer.ChecksumCRC32 ? { ChecksumCRC32: answer.ChecksumCRC32 } : {}) });
    });
    parts.sort((a, b) => a.PartNumber - b.PartNumber);
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: input.exportsBucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } }));
    uploadId = undefined;
    const writeSeconds = (performance.now() - t1) / 1000;
    await s3.send(new DeleteObjectCommand({ Bucket: input.exportsBucket, Key: key }));
    return { seconds: readSeconds + writeSeconds, readSeconds, writeSeconds, bytes, readConcurrency: settings.readConcurrency, uploadConcurrency: settings.uploadConcurrency };
  } finally {
    if (uploadId) await s3.send(new AbortMultipartUploadCommand({ Bucket: input.exportsBucket, Key: key, UploadId: uploadId })).catch(() => undefined);
    s3.destroy();
  }
}
