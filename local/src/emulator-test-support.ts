/**
 * The S3 emulator for tests of its storage: started in a temporary data
 * directory with its buckets, restartable on the same directory (what
 * survives a restart is what these tests are about), removed at the end.
 * Registers vitest's beforeAll/afterAll; call it at the top of a test file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll } from 'vitest';
import type { AwsEmulator } from './aws-emulator';
import { startAwsEmulator } from './aws-emulator';

export interface TestEmulator {
  /** Its data directory. */
  readonly dir: string;
  readonly emulator: AwsEmulator;
  readonly s3: S3Client;
  /** Stops it and starts it again on the same data directory. */
  restart(): Promise<void>;
  /** An object's bytes. */
  body(bucket: string, key: string, partNumber?: number): Promise<Buffer>;
}

export function useTestEmulator(name: string, buckets: readonly string[], options: { kmsBuckets?: readonly string[] } = {}): TestEmulator {
  const dir = mkdtempSync(join(tmpdir(), `medlake-${name}-`));
  let emulator: AwsEmulator | undefined;
  let s3: S3Client | undefined;
  const start = async () => {
    emulator = await startAwsEmulator({ dir, port: 0, region: 'us-east-1', ...(options.kmsBuckets ? { kmsBuckets: options.kmsBuckets } : {}) });
    s3?.destroy();
    s3 = new S3Client({ endpoint: emulator.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  };
  beforeAll(async () => {
    await start();
    for (const bucket of buckets) await s3?.send(new CreateBucketCommand({ Bucket: bucket }));
  });
  afterAll(async () => {
    s3?.destroy();
    await emulator?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the test emulator is not started (use it inside tests)');
    return value;
  };
  return {
    dir,
    get emulator() {
      return started(emulator);
    },
    get s3() {
      return started(s3);
    },
    async restart() {
      await emulator?.stop();
      await start();
    },
    async body(bucket, key, partNumber) {
      const answer = await started(s3).send(new GetObjectCommand({ Bucket: bucket, Key: key, ...(partNumber ? { PartNumber: partNumber } : {}) }));
      return Buffer.from(await (answer.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
    },
  };
}
