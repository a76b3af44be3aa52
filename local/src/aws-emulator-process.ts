/**
 * Starts the S3/SQS emulator (aws-emulator-service.ts) in a child process
 * and answers for it: endpoint, pid, the S3 event bridge's count, stop().
 * The child leaves with its parent whatever the way the parent dies (its IPC
 * channel closes), and a failure to start comes back as the same
 * LocalStackError the in-process emulator throws (port in use, Node too old).
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { nodeSupportsEmulator } from './aws-emulator';
import type { LocalStackErrorCode } from './errors';
import { LocalStackError } from './errors';
import { typeScriptEntryArgs } from './processes';
import type { BridgeRoute } from './s3-event-bridge';

export interface EmulatorServiceConfig {
  dir?: string;
  port: number;
  host: string;
  region: string;
  routes: BridgeRoute[];
  /** Buckets that are SSE-KMS encrypted in AWS (opaque ETags). */
  kmsBuckets?: string[];
}

export type EmulatorServiceRequest = { type: 'delivered'; id: number } | { type: 'stop' };
export type EmulatorServiceReply =
  | { type: 'ready'; endpoint: string; port: number }
  | { type: 'failed'; code: LocalStackErrorCode; message: string }
  | { type: 'log'; line: string }
  | { type: 'delivered'; id: number; count: number };

export interface AwsEmulatorProcess {
  /** http://127.0.0.1:<port>, the endpoint SDK clients use (path-style). */
  endpoint: string;
  port: number;
  pid: number;
  /** S3 events the bridge delivered so far: counted in the emulator, asked after every earlier request there was answered. */
  delivered(): Promise<number>;
  stop(): Promise<void>;
}

export interface AwsEmulatorProcessOptions extends EmulatorServiceConfig {
  log?: (line: string) => void;
  /** How long to wait for it to listen (default 30 s). */
  startTimeoutMs?: number;
}

const serviceFile = fileURLToPath(new URL('./aws-emulator-service.ts', import.meta.url));

export async function startAwsEmulatorProcess(options: AwsEmulatorProcessOptions): Promise<AwsEmulatorProcess> {
  if (!nodeSupportsEmulator()) {
    throw new LocalStackError('node_too_old', `The S3/SQS emulator needs Node.js 22.5 or later (this is ${process.versions.node}): run it through npm scripts or npx, which use the project's Node 22.`);
  }
  const log = options.log ?? (() => undefined);
  const config: EmulatorServiceConfig = { ...(options.dir ? { dir: options.dir } : {}), port: options.port, host: options.host, region: options.region, routes: options.routes, ...(options.kmsBuckets ? { kmsBuckets: options.kmsBuckets } : {}) };
  // node:sqlite's experimental notice would be printed at every start.
  const child: ChildProcess = spawn(process.execPath, typeScriptEntryArgs(serviceFile, ['--disable-warning=ExperimentalWarning']), {
    env: { ...process.env, MEDLAKE_EMULATOR_CONFIG: JSON.stringify(config) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let running = true;
  void exited.then(() => {
    running = false;
  });
  let nextId = 0;
  const waiting = new Map<number, (count: number) => void>();
  let ready: ((reply: Extract<EmulatorServiceReply, { type: 'ready' | 'failed' }>) => void) | undefined;
  const started = new Promise<Extract<EmulatorServiceReply, { type: 'ready' | 'failed' }>>((resolve) => (ready = resolve));
  child.on('message', (message: EmulatorServiceReply) => {
    if (message.type === 'log') log(message.line);
    else if (message.type === 'delivered') {
      waiting.get(message.id)?.(message.count);
      waiting.delete(message.id);
    } else ready?.(message);
  });
  child.on('error', (error) => ready?.({ type: 'failed', code: 'emulator_failed', message: error.message }));
  void exited.then((code) => ready?.({ type: 'failed', code: 'emulator_failed', message: `it exited (code ${code ?? 'signal'}) before listening` }));

  const stop = async () => {
    if (!running) return;
    if (child.connected) child.send({ type: 'stop' } satisfies EmulatorServiceRequest);
    else child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };

  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    started,
    new Promise<Extract<EmulatorServiceReply, { type: 'failed' }>>((resolve) => {
      timer = setTimeout(() => resolve({ type: 'failed', code: 'emulator_failed', message: `it did not listen within ${(options.startTimeoutMs ?? 30_000) / 1000} s` }), options.startTimeoutMs ?? 30_000);
    }),
  ]);
  clearTimeout(timer);
  if (outcome.type === 'failed') {
    await stop();
    throw new LocalStackError(outcome.code, outcome.code === 'emulator_failed' ? `The S3/SQS emulator did not start: ${outcome.message}` : outcome.message);
  }
  return {
    endpoint: outcome.endpoint,
    port: outcome.port,
    pid: child.pid as number,
    delivered: () =>
      new Promise<number>((resolve, reject) => {
        if (!child.connected) return reject(new Error('the S3/SQS emulator is not running'));
        const id = nextId++;
        waiting.set(id, resolve);
        child.send({ type: 'delivered', id } satisfies EmulatorServiceRequest);
      }),
    stop,
  };
}
