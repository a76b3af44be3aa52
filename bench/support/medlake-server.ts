/**
 * medlake as the system under test, in its own process (so the benchmark
 * client never shares its event loop, and its CPU and memory are its own):
 * the local stack (startLocalStack via the test helper: temporary data dir,
 * random ports on 127.0.0.1) with the queues' real visibility timeouts, an
 * uploader and a researcher. The export queue has no poller here: the export
 * worker runs in a process of its own (medlake-export-worker.ts), as in its
 * own Lambda, so its memory can be measured alone.
 *
 * Prints one JSON line (MedlakeServerInfo) on stdout once up; stops when its
 * stdin closes or on SIGTERM/SIGINT.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { QueueId } from '@medlake/shared/resources';
import { queues } from '@medlake/shared/resources';
import { startTestStack } from '../../test/support/local-stack';

export interface MedlakeServerInfo {
  url: string;
  env: Record<string, string>;
  endpoints: { aws: string; cognito: string };
  dataDir: string;
  postmasterPid?: number;
  queues: Record<string, { url: string; arn: string; visibilityTimeoutSeconds: number }>;
  users: { uploader: { email: string; password: string }; researcher: { email: string; password: string } };
}

// Lambda-like timeouts (resources.ts), not the test stack's short ones: an export stops before the visibility deadline.
const queueSettings = Object.fromEntries(queues.map((q) => [q.id, { visibilityTimeoutSeconds: q.visibilityTimeoutSeconds }])) as Partial<Record<QueueId, { visibilityTimeoutSeconds: number }>>;

const stack = await startTestStack({ queueHandlers: { export: false }, queueSettings });
let stopping: Promise<void> | undefined;
const stop = () => {
  stopping ??= stack.stop().finally(() => process.exit(0));
  return stopping;
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
process.stdin.on('end', () => void stop());
process.stdin.on('close', () => void stop());
process.stdin.resume();

try {
  const uploader = await stack.createUser({ groups: ['uploader'] });
  const researcher = await stack.createUser({ groups: ['researcher'] });
  const pidFile = join(stack.dataDir, 'postgres', 'postmaster.pid');
  const info: MedlakeServerInfo = {
    url: stack.url,
    env: stack.env,
    endpoints: { aws: stack.endpoints.aws, cognito: stack.endpoints.cognito },
    dataDir: stack.dataDir,
    ...(existsSync(pidFile) ? { postmasterPid: Number(readFileSync(pidFile, 'utf8').split('\n')[0]) } : {}),
    queues: Object.fromEntries(Object.values(stack.queues).map((q) => [q.id, { url: q.url, arn: q.arn, visibilityTimeoutSeconds: q.visibilityTimeoutSeconds }])),
    users: { uploader: { email: uploader.email, password: uploader.password }, researcher: { email: researcher.email, password: researcher.password } },
  };
  process.stdout.write(`${JSON.stringify(info)}\n`);
} catch (error) {
  console.error(error);
  await stop();
}
