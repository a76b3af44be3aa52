/**
 * Limits and tuning of the ingest worker, from the environment (defaults fit
 * a Lambda with 2-3 GB of memory and 10 GB of /tmp).
 */
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

function numberFrom(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min) throw new Error(`${name} must be a number of at least ${min}`);
  return Math.floor(value);
}

export function ingestSettings(env: NodeJS.ProcessEnv = process.env): IngestSettings {
  return {
    memoryLimitBytes: numberFrom(env, ingestEnv.memoryLimitBytes, 256 * MiB, 1),
    memoryBudgetBytes: numberFrom(env, ingestEnv.memoryBudgetBytes, 1 * GiB, MiB),
    maxInstanceBytes: numberFrom(env, ingestEnv.maxInstanceBytes, 1 * GiB, 1024),
    zip: {
      maxEntries: numberFrom(env, ingestEnv.zipMaxEntries, 100_000, 1),
      maxTotalBytes: numberFrom(env, ingestEnv.zipMaxTotalBytes, 64 * GiB, 1),
      maxEntryBytes: numberFrom(env, ingestEnv.maxInstanceBytes, 1 * GiB, 1024),
      // Deflate tops out near 1032:1; real DICOM rarely passes 20:1, masks of zeros can reach a few hundred.
      maxRatio: numberFrom(env, ingestEnv.zipMaxRatio, 500, 2),
      ratioFloorBytes: MiB,
      maxDepth: numberFrom(env, ingestEnv.zipMaxDepth, 2, 1),
    },
    concurrency: numberFrom(env, ingestEnv.concurrency, 8, 1),
    indexBatchSize: numberFrom(env, ingestEnv.batchSize, 32, 1),
  };
}
