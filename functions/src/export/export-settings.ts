/**
 * Limits and tuning of exports, from the environment (read on every use, so
 * a changed setting applies to the next request or run). The defaults fit
 * the export Lambda of infra/ (2 GB, 15 minutes); docs/exports.md lists them.
 */
import { bucketDefinition } from '@medlake/shared/resources';

export const exportEnv = {
  maxActivePerUser: 'EXPORT_MAX_ACTIVE_PER_USER',
  linkTtlSeconds: 'EXPORT_LINK_TTL_SECONDS',
  maxBytes: 'EXPORT_MAX_BYTES',
  maxStudies: 'EXPORT_MAX_STUDIES',
  maxItemErrors: 'EXPORT_MAX_ITEM_ERRORS',
  partSizeBytes: 'EXPORT_PART_SIZE_BYTES',
  readAheadBytes: 'EXPORT_READ_AHEAD_BYTES',
  readConcurrency: 'EXPORT_READ_CONCURRENCY',
  uploadConcurrency: 'EXPORT_UPLOAD_CONCURRENCY',
  checkpointMarginSeconds: 'EXPORT_CHECKPOINT_MARGIN_SECONDS',
  maxRunSeconds: 'EXPORT_MAX_RUN_SECONDS',
} as const;

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** S3's smallest part (all but the last) and its largest part count. */
export const minPartSizeBytes = 5 * MiB;
export const maxPartCount = 10_000;
/** S3 refuses presigned URLs valid for longer than 7 days (SigV4). */
export const maxPresignSeconds = 7 * 24 * 3600;
/** The local S3 emulator answers 413 to request bodies above 11 MiB: parts stay below. */
const emulatorPartSizeBytes = 10 * MiB;

export interface ExportSettings {
  maxActivePerUser: number;
  /** A finished zip stays downloadable this long (capped by the bucket lifecycle and the presign limit). */
  linkTtlSeconds: number;
  maxBytes: number;
  maxStudies: number;
  maxItemErrors: number;
  partSizeBytes: number;
  readAheadBytes: number;
  readConcurrency: number;
  uploadConcurrency: number;
  checkpointMarginMs: number;
  /** Stop a run after this long even with time left (tests of continuation); undefined: only the deadline counts. */
  maxRunMs: number | undefined;
}

function numberFrom(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) throw new Error(`${name} must be a number from ${min} to ${max}`);
  return value;
}

export function exportSettings(env: NodeJS.ProcessEnv = process.env): ExportSettings {
  const lifecycleDays = bucketDefinition('exports').expireAfterDays;
  const lifecycleSeconds = lifecycleDays ? lifecycleDays * 24 * 3600 : maxPresignSeconds;
  const emulated = Boolean(env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL);
  const maxRunSeconds = env[exportEnv.maxRunSeconds] ? numberFrom(env, exportEnv.maxRunSeconds, 0, 0.01) : undefined;
  return {
    maxActivePerUser: Math.floor(numberFrom(env, exportEnv.maxActivePerUser, 2, 1)),
    linkTtlSeconds: Math.min(Math.floor(numberFrom(env, exportEnv.linkTtlSeconds, 7 * 24 * 3600, 1)), lifecycleSeconds),
    maxBytes: numberFrom(env, exportEnv.maxBytes, 1024 * GiB, 1),
    maxStudies: Math.floor(numberFrom(env, exportEnv.maxStudies, 10_000, 1)),
    maxItemErrors: Math.floor(numberFrom(env, exportEnv.maxItemErrors, 100, 0)),
    partSizeBytes: Math.floor(numberFrom(env, exportEnv.partSizeBytes, emulated ? emulatorPartSizeBytes : 64 * MiB, minPartSizeBytes, 5 * GiB)),
    readAheadBytes: Math.floor(numberFrom(env, exportEnv.readAheadBytes, 64 * MiB, MiB)),
    readConcurrency: Math.floor(numberFrom(env, exportEnv.readConcurrency, 8, 1, 64)),
    uploadConcurrency: Math.floor(numberFrom(env, exportEnv.uploadConcurrency, 2, 1, 16)),
    checkpointMarginMs: numberFrom(env, exportEnv.checkpointMarginSeconds, 60, 0) * 1000,
    maxRunMs: maxRunSeconds === undefined ? undefined : maxRunSeconds * 1000,
  };
}
