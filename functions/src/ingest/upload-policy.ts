/**
 * How an upload batch is laid out in the quarantine bucket: limits, object
 * keys, when a file goes multipart and in how many parts. Pure and
 * configuration-driven (environment variables, read per call so tests and the
 * local stack can set them).
 */
import { createHash } from 'node:crypto';
import { integerSetting } from '../adapters/settings';

export const uploadEnv = {
  urlExpiresSeconds: 'UPLOAD_URL_EXPIRES_SECONDS',
  multipartThresholdBytes: 'UPLOAD_MULTIPART_THRESHOLD_BYTES',
  partSizeBytes: 'UPLOAD_PART_SIZE_BYTES',
  maxFiles: 'UPLOAD_MAX_FILES',
  maxFileBytes: 'UPLOAD_MAX_FILE_BYTES',
  maxTotalBytes: 'UPLOAD_MAX_TOTAL_BYTES',
  resumeWindowSeconds: 'UPLOAD_RESUME_WINDOW_SECONDS',
} as const;

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
/** S3's hard limits for multipart uploads. */
export const maxPartsPerUpload = 10_000;
const s3MinPartBytes = 5 * MiB;
const s3MaxPartBytes = 5 * GiB;

export interface UploadSettings {
  urlExpiresSeconds: number;
  /** Files of at least this size are uploaded in parts (fauxqs refuses single PUTs over ~11 MiB: the local stack lowers it). */
  multipartThresholdBytes: number;
  /** Smallest part size handed out; grows for files that would otherwise need more than 10,000 parts. */
  partSizeBytes: number;
  maxFiles: number;
  maxFileBytes: number;
  maxTotalBytes: number;
  /** How long after creation a multipart file may still get fresh part URLs and be completed. */
  resumeWindowSeconds: number;
  /** Part URLs handed out with the batch, over all files (the rest through the parts call): keeps answers far below 6 MB. */
  partUrlBudget: number;
}

export function uploadSettings(env: NodeJS.ProcessEnv = process.env): UploadSettings {
  return {
    urlExpiresSeconds: integerSetting(env, uploadEnv.urlExpiresSeconds, { default: 15 * 60, min: 1, max: 7 * 24 * 3600 }),
    multipartThresholdBytes: integerSetting(env, uploadEnv.multipartThresholdBytes, { default: 64 * MiB, min: 1, max: s3MaxPartBytes }),
    partSizeBytes: integerSetting(env, uploadEnv.partSizeBytes, { default: 8 * MiB, min: s3MinPartBytes, max: s3MaxPartBytes }),
    maxFiles: integerSetting(env, uploadEnv.maxFiles, { default: 1000, min: 1, max: 100_000 }),
    maxFileBytes: integerSetting(env, uploadEnv.maxFileBytes, { default: 50 * GiB, min: 1, max: 5 * 1024 * GiB }),
    maxTotalBytes: integerSetting(env, uploadEnv.maxTotalBytes, { default: 200 * GiB, min: 1, max: Number.MAX_SAFE_INTEGER }),
    resumeWindowSeconds: integerSetting(env, uploadEnv.resumeWindowSeconds, { default: 24 * 3600, min: 60, max: 30 * 24 * 3600 }),
    partUrlBudget: 2000,
  };
}

export interface PartPlan {
  partSizeBytes: number;
  partCount: number;
}

/** Parts of at least the configured size, whole MiB, never more than 10,000 of them. */
export function planParts(sizeBytes: number, minPartBytes: number): PartPlan {
  const needed = Math.ceil(sizeBytes / maxPartsPerUpload);
  const partSizeBytes = Math.max(minPartBytes, Math.ceil(needed / MiB) * MiB);
  return { partSizeBytes, partCount: Math.max(1, Math.ceil(sizeBytes / partSizeBytes)) };
}

const incomingPrefix = 'incoming/';

/**
 * Where a file of an upload lands in the quarantine bucket:
 * `incoming/{uploadId}/{index}`. No part of the file's name: names often
 * hold patient names, and keys travel far (S3 access logs, S3 events, SQS
 * messages, the dead-letter queue, CloudTrail). The name stays in
 * `upload_files`, for its owner's status page only.
 */
export function quarantineKey(uploadId: string, fileIndex: number): string {
  return `${incomingPrefix}${uploadId}/${fileIndex}`;
}

/**
 * The upload an object that no upload batch announced is recorded under:
 * derived from its key, so a redelivered event finds the same record.
 */
export function unregisteredUploadId(bucket: string, key: string): string {
  const hex = createHash('sha256').update(`${bucket}\u0000${key}`).digest('hex');
  // RFC 4122 layout, version nibble 5 (name-based), variant 10xx.
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${((parseInt(hex.slice(16, 18), 16) & 0x3f) | 0x80).toString(16)}${hex.slice(18, 20)}-${hex.slice(20, 32)}`;
}

/** The sha256 of a file as S3's checksum header wants it (base64), from the hex the client declared. */
export function sha256HexToBase64(hex: string): string {
  return Buffer.from(hex, 'hex').toString('base64');
}
