/**
 * Limits and tuning of exports, from the environment (read on every use, so
 * a changed setting applies to the next request or run). The defaults fit
 * the export Lambda of infra/ (2 GB, 15 minutes); docs/exports.md lists them.
 */
import { bucketDefinition } from '@medlake/shared/resources';
import { integerSetting, numberSetting, optionalNumberSetting } from '../adapters/settings';

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

export function exportSettings(env: NodeJS.ProcessEnv = process.env): ExportSettings {
  const lifecycleDays = bucketDefinition('exports').expireAfterDays;
  const lifecycleSeconds = lifecycleDays ? lifecycleDays * 24 * 3600 : maxPresignSeconds;
  const emulated = Boolean(env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL);
  const maxRunSeconds = optionalNumberSetting(env, exportEnv.maxRunSeconds, { min: 0.01 });
  return {
    maxActivePerUser: integerSetting(env, exportEnv.maxActivePerUser, { default: 2, min: 1 }),
    linkTtlSeconds: Math.min(integerSetting(env, exportEnv.linkTtlSeconds, { default: 7 * 24 * 3600, min: 1 }), lifecycleSeconds),
    maxBytes: integerSetting(env, exportEnv.maxBytes, { default: 1024 * GiB, min: 1 }),
    maxStudies: integerSetting(env, exportEnv.maxStudies, { default: 10_000, min: 1 }),
    maxItemErrors: integerSetting(env, exportEnv.maxItemErrors, { default: 100, min: 0 }),
    partSizeBytes: integerSetting(env, exportEnv.partSizeBytes, { default: emulated ? emulatorPartSizeBytes : 64 * MiB, min: minPartSizeBytes, max: 5 * GiB }),
    readAheadBytes: integerSetting(env, exportEnv.readAheadBytes, { default: 64 * MiB, min: MiB }),
    readConcurrency: integerSetting(env, exportEnv.readConcurrency, { default: 32, min: 1, max: 128 }),
    uploadConcurrency: integerSetting(env, exportEnv.uploadConcurrency, { default: 4, min: 1, max: 16 }),
    checkpointMarginMs: numberSetting(env, exportEnv.checkpointMarginSeconds, { default: 60, min: 0 }) * 1000,
    maxRunMs: maxRunSeconds === undefined ? undefined : maxRunSeconds * 1000,
  };
}
