/**
 * Multipart uploads of the S3 emulator without holding or copying their
 * bodies. fauxqs keeps every uploaded part in memory until completion, then
 * hashes each part a second time and concatenates them into one buffer that
 * persistence writes again: for a 1 GB export zip, 1 GB of memory, 2 GB of
 * MD5 and 2 GB of copies in the emulator. With the object log
 * (s3-object-log.ts) a part is appended to a segment once; the store keeps its
 * size and ETag only, and completion records the object as the list of its
 * parts' extents.
 *
 * Behaviour stays S3's and fauxqs's: the same checks in the same order
 * (ascending part numbers, each part present with its ETag, every part but
 * the last at least 5 MiB), the same multipart ETag (MD5 of the parts' binary
 * MD5s, "-" count), composite checksums, part boundaries for `partNumber`
 * reads. Only the parts' MD5s come from their ETags instead of a second pass
 * over the bytes.
 */
import { createHash } from 'node:crypto';
import type { LoggedParts, StoredObject, StoredPart } from './s3-object-log';

interface Upload {
  uploadId: string;
  bucket: string;
  key: string;
  contentType: string;
  metadata: Record<string, string>;
  parts: Map<number, StoredPart>;
  contentLanguage?: string;
  contentDisposition?: string;
  cacheControl?: string;
  contentEncoding?: string;
  checksumAlgorithm?: string;
}

interface PartSpec {
  partNumber: number;
  etag: string;
}

/** fauxqs's S3Store, as far as multipart uploads go. */
export interface MultipartStore {
  buckets: Map<string, Map<string, StoredObject>>;
  multipartUploads: Map<string, Upload>;
  multipartUploadsByBucket: Map<string, Set<string>>;
  persistence?: unknown;
  spy?: { addMessage(message: unknown): void };
  uploadPart(uploadId: string, partNumber: number, body: Buffer, checksumValue?: string): { etag: string; checksumValue?: string };
  completeMultipartUpload(uploadId: string, partSpecs: PartSpec[]): StoredObject;
}

export interface MultipartLogDeps {
  /** fauxqs's S3Error (errors answered with S3's codes and statuses). */
  S3Error: new (code: string, message: string, status: number) => Error;
  computeCompositeChecksum(algorithm: string, partChecksums: string[]): string;
}

const minPartBytes = 5 * 1024 * 1024;
const invalidPart =
  "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.";

function isLoggedParts(persistence: unknown): persistence is LoggedParts {
  return typeof (persistence as Partial<LoggedParts> | undefined)?.completeFromParts === 'function';
}

const partSize = (part: StoredPart): number => part.size ?? part.body.length;

/** Replaces the store's uploadPart and completeMultipartUpload; a no-op unless its persistence is the object log. */
export function logMultipartParts(store: MultipartStore, deps: MultipartLogDeps): void {
  const log = store.persistence;
  if (!isLoggedParts(log)) return;
  const uploadPart = store.uploadPart.bind(store);
  const complete = store.completeMultipartUpload.bind(store);

  store.uploadPart = (uploadId, partNumber, body, checksumValue) => {
    const answer = uploadPart(uploadId, partNumber, body, checksumValue);
    // Persisted by now: keep what completion needs, not the bytes.
    const part = store.multipartUploads.get(uploadId)?.parts.get(partNumber);
    if (part && part.body === body) {
      part.size = body.length;
      part.body = Buffer.alloc(0);
    }
    return answer;
  };

  store.completeMultipartUpload = (uploadId, partSpecs) => {
    const upload = store.multipartUploads.get(uploadId);
    if (!upload) return complete(uploadId, partSpecs);
    // A part with a body in memory was written by fauxqs's file layout (data directories of earlier versions): fauxqs completes.
    const fromFiles = partSpecs.some((spec) => {
      const part = upload.parts.get(spec.partNumber);
      return part !== undefined && part.size === undefined;
    });
    if (fromFiles) {
      for (const part of upload.parts.values()) if (part.size !== undefined) part.body = log.readPart(uploadId, part.partNumber);
      return complete(uploadId, partSpecs);
    }
    const objects = store.buckets.get(upload.bucket);
    if (!objects) throw new deps.S3Error('NoSuchBucket', `The specified bucket does not exist: ${upload.bucket}`, 404);
    for (let i = 1; i < partSpecs.length; i++) {
      if ((partSpecs[i] as PartSpec).partNumber <= (partSpecs[i - 1] as PartSpec).partNumber) {
        throw new deps.S3Error('InvalidPartOrder', 'The list of parts was not in ascending order. The parts list must be specified in order by part number.', 400);
      }
    }
    const parts = partSpecs.map((spec, i) => {
      const part = upload.parts.get(spec.partNumber);
      if (!part || spec.etag.replaceAll('"', '') !== part.etag.replaceAll('"', '')) throw new deps.S3Error('InvalidPart', invalidPart, 400);
      if (i < partSpecs.length - 1 && partSize(part) < minPartBytes) throw new deps.S3Error('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size', 400);
      return part;
    });
    const checksums = upload.checksumAlgorithm ? parts.flatMap((part) => (part.checksumValue ? [part.checksumValue] : [])) : [];
    let offset = 0;
    const boundaries = parts.map((part) => {
      const boundary = { partNumber: part.partNumber, offset, length: partSize(part) };
      offset += boundary.length;
      return boundary;
    });
    const digests = Buffer.concat(parts.map((part) => Buffer.from(part.etag.replaceAll('"', ''), 'hex')));
    const obj: StoredObject = {
      key: upload.key,
      body: Buffer.alloc(0),
      contentType: upload.contentType,
      contentLength: offset,
      etag: `"${createHash('md5').update(digests).digest('hex')}-${parts.length}"`,
      lastModified: new Date(),
      metadata: upload.metadata,
      parts: boundaries,
      ...(upload.contentLanguage && { contentLanguage: upload.contentLanguage }),
      ...(upload.contentDisposition && { contentDisposition: upload.contentDisposition }),
      ...(upload.cacheControl && { cacheControl: upload.cacheControl }),
      ...(upload.contentEncoding && { contentEncoding: upload.contentEncoding }),
      ...(upload.checksumAlgorithm &&
        checksums.length > 0 && {
          checksumAlgorithm: upload.checksumAlgorithm,
          checksumValue: deps.computeCompositeChecksum(upload.checksumAlgorithm, checksums),
          checksumType: 'COMPOSITE',
          partChecksums: checksums,
        }),
    };
    log.completeFromParts(uploadId, upload.bucket, obj, parts.map((part) => part.partNumber));
    objects.set(upload.key, obj);
    store.multipartUploads.delete(uploadId);
    store.multipartUploadsByBucket.get(upload.bucket)?.delete(uploadId);
    store.spy?.addMessage({ service: 's3', bucket: upload.bucket, key: upload.key, status: 'uploaded', timestamp: Date.now() });
    return obj;
  };
}
