/**
 * ETags of the emulator's SSE-KMS buckets as S3 gives them: not an MD5 of
 * the data. In AWS every medlake data bucket is encrypted with the stack's
 * KMS key (infra/src/storage.ts), and S3 documents that objects written with
 * SSE-KMS "have ETags that are not an MD5 digest of their object data" (each
 * write is encrypted under its own data key, so the same bytes written twice
 * get two ETags). fauxqs computes an MD5 of every body it receives, the
 * largest single cost of the local S3 (every upload, archive copy and export
 * part); for these buckets the ETag is an opaque 128-bit value per write
 * instead, as there. Other buckets keep fauxqs's MD5 ETags (plain S3).
 *
 * Replaces the store's putObject and uploadPart for those buckets with
 * fauxqs's own code minus the MD5 (same object fields, persistence, spy).
 */
import { randomBytes } from 'node:crypto';
import type { StoredObject, StoredPart } from './s3-object-log';

interface SystemMetadata {
  contentLanguage?: string;
  contentDisposition?: string;
  cacheControl?: string;
  contentEncoding?: string;
}

interface ChecksumData {
  algorithm: string;
  value: string;
  type: string;
  partChecksums?: string[];
}

/** fauxqs's S3Store, as far as writes go. */
export interface WritingStore {
  buckets: Map<string, Map<string, StoredObject>>;
  multipartUploads: Map<string, { bucket: string; parts: Map<number, StoredPart> }>;
  persistence?: { upsertObject(bucket: string, obj: StoredObject): void; upsertMultipartPart(uploadId: string, part: StoredPart): void };
  spy?: { addMessage(message: unknown): void };
  putObject(bucket: string, key: string, body: Buffer, contentType?: string, metadata?: Record<string, string>, systemMetadata?: SystemMetadata, checksumData?: ChecksumData): StoredObject;
  uploadPart(uploadId: string, partNumber: number, body: Buffer, checksumValue?: string): { etag: string; checksumValue?: string };
}

export interface S3ErrorClass {
  new (code: string, message: string, status: number): Error;
}

/** An SSE-KMS ETag: 32 hex digits, new for every write. */
export const opaqueEtag = (): string => `"${randomBytes(16).toString('hex')}"`;

export function kmsEtags(store: WritingStore, kmsBuckets: readonly string[], S3Error: S3ErrorClass): void {
  const encrypted = new Set(kmsBuckets);
  if (encrypted.size === 0) return;
  const putObject = store.putObject.bind(store);
  const uploadPart = store.uploadPart.bind(store);

  store.putObject = (bucket, key, body, contentType, metadata, systemMetadata, checksumData) => {
    if (!encrypted.has(bucket)) return putObject(bucket, key, body, contentType, metadata, systemMetadata, checksumData);
    const objects = store.buckets.get(bucket);
    if (!objects) throw new S3Error('NoSuchBucket', `The specified bucket does not exist: ${bucket}`, 404);
    const obj: StoredObject = {
      key,
      body,
      contentType: contentType ?? 'application/octet-stream',
      contentLength: body.length,
      etag: opaqueEtag(),
      lastModified: new Date(),
      metadata: metadata ?? {},
      ...(systemMetadata?.contentLanguage && { contentLanguage: systemMetadata.contentLanguage }),
      ...(systemMetadata?.contentDisposition && { contentDisposition: systemMetadata.contentDisposition }),
      ...(systemMetadata?.cacheControl && { cacheControl: systemMetadata.cacheControl }),
      ...(systemMetadata?.contentEncoding && { contentEncoding: systemMetadata.contentEncoding }),
      ...(checksumData && {
        checksumAlgorithm: checksumData.algorithm,
        checksumValue: checksumData.value,
        checksumType: checksumData.type,
        ...(checksumData.partChecksums && { partChecksums: checksumData.partChecksums }),
      }),
    };
    store.persistence?.upsertObject(bucket, obj);
    // With persistence, only metadata stays in memory; the body is read on demand.
    objects.set(key, store.persistence ? { ...obj, body: Buffer.alloc(0) } : obj);
    store.spy?.addMessage({ service: 's3', bucket, key, status: 'uploaded', timestamp: Date.now() });
    return obj;
  };

  store.uploadPart = (uploadId, partNumber, body, checksumValue) => {
    const upload = store.multipartUploads.get(uploadId);
    if (!upload || !encrypted.has(upload.bucket)) return uploadPart(uploadId, partNumber, body, checksumValue);
    const part: StoredPart = { partNumber, body, etag: opaqueEtag(), lastModified: new Date(), ...(checksumValue && { checksumValue }) };
    upload.parts.set(partNumber, part);
    store.persistence?.upsertMultipartPart(uploadId, part);
    return { etag: part.etag, ...(checksumValue && { checksumValue }) };
  };
}
