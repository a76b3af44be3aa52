/**
 * GET /api/health (public): each component the API depends on, probed
 * concurrently with a time limit: 200 when all are ok, 503 otherwise.
 * Answers carry states and latencies only, never resource names or errors'
 * details beyond their kind.
 */
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { bucketName, queueUrl, s3Client, sqsClient } from '../adapters/aws-clients';
import { databasePool } from '../adapters/database';
import { userPoolFromEnv } from '../auth/user-pool';
import { json } from '../http/response';
import type { Route } from '../http/router';
import { route } from '../http/router';

export type ComponentName = 'db' | 's3' | 'sqs' | 'cognito';

export interface ComponentHealth {
  state: 'ok' | 'error';
  latencyMs: number;
  /** The error's kind (e.g. ECONNREFUSED, NoSuchBucket), when not ok. */
  error?: string;
}

export type Probe = () => Promise<unknown>;

const probeTimeoutMs = 3_000;

export const probes: Record<ComponentName, Probe> = {
  db: () => databasePool().query('SELECT 1'),
  s3: () => s3Client().send(new HeadBucketCommand({ Bucket: bucketName('archive') })),
  sqs: () => sqsClient().send(new GetQueueAttributesCommand({ QueueUrl: queueUrl('ingest'), AttributeNames: ['ApproximateNumberOfMessages'] })),
  cognito: () => userPoolFromEnv().describe(),
};

export async function checkComponent(probe: Probe, timeoutMs = probeTimeoutMs): Promise<ComponentHealth> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      Promise.resolve().then(probe),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(Object.assign(new Error('timed out'), { name: 'Timeout' })), timeoutMs);
      }),
    ]);
    return { state: 'ok', latencyMs: Math.round(performance.now() - started) };
  } catch (error) {
    const kind = (error as { code?: unknown }).code ?? (error instanceof Error ? error.name : 'Error');
    return { state: 'error', latencyMs: Math.round(performance.now() - started), error: String(kind) };
  } finally {
    clearTimeout(timer);
  }
}

export async function checkHealth(components: Record<ComponentName, Probe> = probes): Promise<{ status: 'ok' | 'degraded'; components: Record<ComponentName, ComponentHealth> }> {
  const names = Object.keys(components) as ComponentName[];
  const results = await Promise.all(names.map((name) => checkComponent(components[name])));
  const report = Object.fromEntries(names.map((name, i) => [name, results[i]])) as Record<ComponentName, ComponentHealth>;
  return { status: results.every((r) => r.state === 'ok') ? 'ok' : 'degraded', components: report };
}

export const healthRoutes: Route[] = [
  route({
    method: 'GET',
    path: '/api/health',
    action: 'health:read',
    async handle() {
      const report = await checkHealth();
      return json(report.status === 'ok' ? 200 : 503, report);
    },
  }),
];
