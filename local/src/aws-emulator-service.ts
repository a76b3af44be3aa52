/**
 * The S3/SQS emulator as a process of its own (started by
 * aws-emulator-process.ts): fauxqs with the S3 → SQS event bridge, as S3 and
 * SQS are services apart from the functions that call them. Its event loop
 * spends its time on HTTP, MD5 ETags and object files, none of which then
 * delays the front door, the pollers or the clients of the parent process.
 *
 * Talks to its parent over the IPC channel: `ready` (endpoint) or `failed`
 * (a LocalStackError's code and sentence) once, `log` lines, and answers
 * `delivered` queries (events sent so far). It stops on `stop`, SIGTERM, or
 * when the channel closes (the parent died), writing pending object files
 * first.
 */
import type { AwsEmulator } from './aws-emulator';
import { startAwsEmulator } from './aws-emulator';
import { LocalStackError } from './errors';
import type { EmulatorServiceConfig, EmulatorServiceReply, EmulatorServiceRequest } from './aws-emulator-process';
import type { S3EventBridge } from './s3-event-bridge';
import { attachS3EventBridge } from './s3-event-bridge';

const send = (message: EmulatorServiceReply) => process.send?.(message);

async function main(): Promise<void> {
  const config = JSON.parse(process.env.MEDLAKE_EMULATOR_CONFIG ?? '{}') as EmulatorServiceConfig;
  const log = (line: string) => send({ type: 'log', line });
  let bridge: S3EventBridge | undefined;
  let emulator: AwsEmulator;
  try {
    emulator = await startAwsEmulator({
      ...(config.dir ? { dir: config.dir } : {}),
      port: config.port,
      host: config.host,
      region: config.region,
      ...(config.kmsBuckets ? { kmsBuckets: config.kmsBuckets } : {}),
      prepare: (parts) => (bridge = attachS3EventBridge(parts, config.routes, log)),
    });
  } catch (error) {
    const e = error as { message?: string };
    send({ type: 'failed', code: error instanceof LocalStackError ? error.code : 'emulator_failed', message: e.message ?? String(error) });
    process.disconnect?.();
    process.exitCode = 1;
    return;
  }
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= emulator.stop().finally(() => process.exit(0)));
  process.on('message', (message: EmulatorServiceRequest) => {
    if (message.type === 'delivered') send({ type: 'delivered', id: message.id, count: bridge?.delivered() ?? 0 });
    else if (message.type === 'stop') void stop();
  });
  process.on('disconnect', () => void stop());
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => undefined); // Ctrl-C in a terminal reaches the whole group: the parent decides when to stop.
  send({ type: 'ready', endpoint: emulator.endpoint, port: emulator.port });
}

void main();
