/**
 * Recently served byte ranges of archived files, kept in the container's
 * memory (least recently used out first) within a byte budget: a series
 * scrolled by several viewers, or re-read after a viewer drops its cache, is
 * served without going back to S3 (Orthanc keeps a storage cache for the
 * same reason). Archived objects never change under a key (a new version of
 * an instance gets a new key), so nothing can go stale.
 * Budget: DICOMWEB_FRAME_CACHE_MB, else a quarter of the Lambda's memory
 * (AWS_LAMBDA_FUNCTION_MEMORY_SIZE), else 256 MB.
 */
import { integerSetting, numberSetting } from '../adapters/settings';

export class ByteRangeCache {
  private readonly entries = new Map<string, Buffer>();
  private bytes = 0;

  constructor(readonly budgetBytes: number) {}

  get(key: string): Buffer | undefined {
    const hit = this.entries.get(key);
    if (hit) {
      // Map keeps insertion order: re-inserting marks it most recently used.
      this.entries.delete(key);
      this.entries.set(key, hit);
    }
    return hit;
  }

  set(key: string, value: Buffer): void {
    if (value.length > this.budgetBytes / 4) return;
    const old = this.entries.get(key);
    if (old) {
      this.bytes -= old.length;
      this.entries.delete(key);
    }
    this.entries.set(key, value);
    this.bytes += value.length;
    for (const [oldest, buffer] of this.entries) {
      if (this.bytes <= this.budgetBytes) break;
      this.entries.delete(oldest);
      this.bytes -= buffer.length;
    }
  }

  get size(): number {
    return this.bytes;
  }
}

export function frameCacheBudgetBytes(env: NodeJS.ProcessEnv = process.env): number {
  const lambdaMb = integerSetting(env, 'AWS_LAMBDA_FUNCTION_MEMORY_SIZE', { default: 1024, min: 1 });
  return Math.floor(numberSetting(env, 'DICOMWEB_FRAME_CACHE_MB', { default: Math.floor(lambdaMb / 4), min: 0 }) * 1_048_576);
}

let shared: ByteRangeCache | undefined;
export function frameCache(): ByteRangeCache {
  shared ??= new ByteRangeCache(frameCacheBudgetBytes());
  return shared;
}
