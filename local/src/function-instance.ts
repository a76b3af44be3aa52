/**
 * A Lambda execution environment, locally: a child process running
 * lambda-runtime.ts with one handler module and the function's environment
 * (a copy of process.env when it starts, as Lambda's configuration is fixed
 * for an instance). Separate processes make concurrent invocations use
 * every core (de-identification and hashing in parallel), keep each
 * instance's memory and module state its own as in Lambda, and let the
 * benchmarks count each one's CPU.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { InvokeRequest, RuntimeReply } from './lambda-runtime';
import { typeScriptEntryArgs } from './processes';

const runtimeFile = fileURLToPath(new URL('./lambda-runtime.ts', import.meta.url));

export interface FunctionInstance {
  pid: number;
  /** Settles when init finished: undefined when ready, the reason when it failed (the process then exits). */
  ready: Promise<string | undefined>;
  /** Running (not exited). */
  alive(): boolean;
  /** One invocation; rejects with the handler's error, or when the instance dies meanwhile. */
  invoke(event: unknown, context: InvokeRequest['context']): Promise<unknown>;
  stop(): Promise<void>;
}

/** The error of a failed invocation, as the handler threw it (name and message). */
export class InvocationError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

export function startFunctionInstance(handlerFile: string, env: NodeJS.ProcessEnv = process.env): FunctionInstance {
  // The handler file is also an argument: `ps` and the benchmarks' CPU meters tell instances apart by it.
  const child: ChildProcess = spawn(process.execPath, [...typeScriptEntryArgs(runtimeFile), handlerFile], {
    env: { ...env, MEDLAKE_FUNCTION_HANDLER: handlerFile },
    // Handler logs (JSON lines) go where the stack's own output goes, as Lambda's go to CloudWatch.
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let running = true;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => {
    running = false;
    for (const call of calls.values()) call.reject(new Error('the function instance exited during the invocation'));
    calls.clear();
  });
  const calls = new Map<number, { resolve(result: unknown): void; reject(error: Error): void }>();
  let nextId = 0;
  const ready = new Promise<string | undefined>((resolve) => {
    child.on('message', (reply: RuntimeReply) => {
      if (reply.type === 'ready') resolve(undefined);
      else if (reply.type === 'init-failed') resolve(reply.message);
      else {
        const call = calls.get(reply.id);
        calls.delete(reply.id);
        if (reply.type === 'result') call?.resolve(reply.result);
        else call?.reject(new InvocationError(reply.error.name, reply.error.message));
      }
    });
    child.once('error', (error) => resolve(error.message));
    void exited.then(() => resolve('the function instance exited during init'));
  });
  return {
    pid: child.pid ?? 0,
    ready,
    alive: () => running,
    invoke(event, context) {
      return new Promise((resolve, reject) => {
        if (!running || !child.connected) return reject(new Error('the function instance is not running'));
        const id = nextId++;
        calls.set(id, { resolve, reject });
        child.send({ type: 'invoke', id, event, context } satisfies InvokeRequest);
      });
    },
    async stop() {
      if (!running) return;
      // Closing the channel ends the runtime (it exits on disconnect); a stuck one is killed.
      if (child.connected) child.disconnect();
      else child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
