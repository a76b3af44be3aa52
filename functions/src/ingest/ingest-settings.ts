/**
 * Limits and tuning of the ingest worker, from the environment (defaults fit
 * a Lambda with 2-3 GB of memory and 10 GB of /tmp).
 */
import { integerSetting } from '../adapters/settings';
import type { ZipLimits } from './zip-entries';

export const ingestEnv = {
  memoryLimitBytes: 'INGEST_MEMORY_LIMIT_BYTES',
  memoryBudgetBytes: 'INGEST_MEMORY_BUDGET_BYTES',
  maxInstanceBytes: 'INGEST_MAX_INSTANCE_BYTES',
  zipMaxEntries: 'INGEST_ZIP_MAX_ENTRIES',
  zipMaxTotalBytes: 'INGEST_ZIP_MAX_TOTAL_BYTES',
  zipMaxRatio: 'INGEST_ZIP_MAX_RATIO',
  zipMaxDepth: 'INGEST_ZIP_MAX_DEPTH',
  concurrency: 'INGEST_CONCURRENCY',
  batchSize: 'INGEST_INDEX_BATCH_SIZE',
  deidOptions: 'DEID_OPTIONS',
} as const;

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

export interface IngestSettings {
  /** Objects up to this size are read into memory, larger ones into a temporary file. */
  memoryLimitBytes: number;
  /** Bytes of objects and zip entries held in memory at once, over all records of a batch. */
  memoryBudgetBytes: number;
  /** One DICOM instance (a file, or a zip entry) larger than this is rejected. */
  maxInstanceBytes: number;
  zip: ZipLimits;
  /** Files (SQS records) processed at the same time within one batch. */
  concurrency: number;
  /** Instances written to the index in one transaction at most. */
  indexBatchSize: number;
}

export function ingestSettings(env: NodeJS.ProcessEnv = process.env): IngestSettings {
  return {
    memoryLimitBytes: integerSetting(env, ingestEnv.memoryLimitBytes, { default: 256 * MiB, min: 1 }),
    memoryBudgetBytes: integerSetting(env, ingestEnv.memoryBudgetBytes, { default: 1 * GiB, min: MiB }),
    maxInstanceBytes: integerSetting(env, ingestEnv.maxInstanceBytes, { default: 1 * GiB, min: 1024 }),
    zip: {
      maxEntries: integerSetting(env, ingestEnv.zipMaxEntries, { default: 100_000, min: 1 }),
      maxTotalBytes: integerSetting(env, ingestEnv.zipMaxTotalBytes, { default: 64 * GiB, min: 1 }),
      maxEntryBytes: integerSetting(env, ingestEnv.maxInstanceBytes, { default: 1 * GiB, min: 1024 }),
      // Deflate tops out near 1032:1; real DICOM rarely passes 20:1, masks of zeros can reach a few hundred.
      maxRatio: integerSetting(env, ingestEnv.zipMaxRatio, { default: 500, min: 2 }),
      ratioFloorBytes: MiB,
      maxDepth: integerSetting(env, ingestEnv.zipMaxDepth, { default: 2, min: 1 }),
    },
    concurrency: integerSetting(env, ingestEnv.concurrency, { default: 8, min: 1 }),
    indexBatchSize: integerSetting(env, ingestEnv.batchSize, { default: 32, min: 1 }),
  };
}
