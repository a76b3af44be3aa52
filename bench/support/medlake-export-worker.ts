/**
 * medlake's export worker in a process of its own, like its Lambda: the local
 * SQS poller on the export queue invoking functions/src/export/handler.ts.
 * Its RSS is the export job's memory, apart from the emulated S3 (which holds
 * multipart parts in memory until completion: S3's memory in AWS, not ours).
 *
 * Input: MEDLAKE_BENCH_STACK (the server's MedlakeServerInfo JSON) in the
 * environment. Prints "ready" once polling; stops on SIGTERM/SIGINT or when
 * stdin closes.
 */
import { join } from 'node:path';
import { SQSClient } from '@aws-sdk/client-sqs';
import { queueDefinition } from '@medlake/shared/resources';
import { defaultFunctionsRoot, localCredentials, region } from '@medlake/local/stack';
import { startQueuePoller } from '@medlake/local/queue-poller';
import type { MedlakeServerInfo } from './medlake-server';

const info = JSON.parse(process.env.MEDLAKE_BENCH_STACK ?? '') as MedlakeServerInfo;
for (const [name, value] of Object.entries(info.env)) process.env[name] = value;
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';

const queue = info.queues.export;
if (!queue) throw new Error('the stack has no export queue');
const sqs = new SQSClient({ endpoint: info.endpoints.aws, region, credentials: localCredentials });
const poller = startQueuePoller({
  id: 'export',
  queueUrl: queue.url,
  queueArn: queue.arn,
  region,
  sqs,
  handlerFile: join(defaultFunctionsRoot, `${queueDefinition('export').handler}.ts`),
  batchSize: queueDefinition('export').batchSize,
  visibilityTimeoutSeconds: queue.visibilityTimeoutSeconds,
  waitTimeSeconds: 1,
  log: (line) => console.error(`[export worker] ${line}`),
});
await poller.ready;
if (poller.status().state !== 'polling') throw new Error(`export handler not loaded: ${poller.status().state}`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await poller.stop(30_000);
  sqs.destroy();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
process.stdin.on('end', () => void stop());
process.stdin.resume();
process.stdout.write('ready\n');
