/**
 * One function instance, locally: what Lambda's runtime does in its
 * execution environment. Started by function-instance.ts as a child process
 * with the function's environment; loads the handler module once (the init
 * phase), then runs one invocation at a time as its parent asks, and answers
 * with the handler's result or error (name and message only: stacks are
 * noise there and messages are written to carry no PHI). An unhandled
 * rejection or a crash ends the process, as it ends a Lambda instance; the
 * parent then fails the invocation and starts a new instance when needed.
 */
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';

export interface InvokeRequest {
  type: 'invoke';
  id: number;
  event: unknown;
  context: { functionName: string; awsRequestId: string; deadline: number; memoryLimitInMB: string };
}

export type RuntimeReply =
  | { type: 'ready' }
  | { type: 'init-failed'; message: string }
  | { type: 'result'; id: number; result: unknown }
  | { type: 'error'; id: number; error: { name: string; message: string } };

type Handler = (event: unknown, context: Context) => unknown;

const send = (reply: RuntimeReply) => process.send?.(reply);

function lambdaContext(info: InvokeRequest['context']): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: info.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${info.functionName}`,
    memoryLimitInMB: info.memoryLimitInMB,
    awsRequestId: info.awsRequestId,
    logGroupName: `/aws/lambda/${info.functionName}`,
    logStreamName: `local/${process.pid}`,
    getRemainingTimeInMillis: () => Math.max(info.deadline - Date.now(), 0),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

async function main(): Promise<void> {
  const file = process.env.MEDLAKE_FUNCTION_HANDLER ?? '';
  let handler: Handler;
  try {
    const module = (await import(pathToFileURL(file).href)) as { handler?: unknown };
    if (typeof module.handler !== 'function') throw new Error('it does not export a handler function');
    handler = module.handler as Handler;
  } catch (error) {
    send({ type: 'init-failed', message: error instanceof Error ? error.message : String(error) });
    process.disconnect?.();
    return;
  }
  process.on('message', (request: InvokeRequest) => {
    if (request.type !== 'invoke') return;
    void (async () => {
      try {
        const result = await handler(request.event, lambdaContext(request.context));
        send({ type: 'result', id: request.id, result: result ?? null });
      } catch (error) {
        const e = error instanceof Error ? error : new Error(String(error));
        send({ type: 'error', id: request.id, error: { name: e.name, message: e.message } });
      }
    })();
  });
  // The parent went away (stopped or died): so does the instance.
  process.on('disconnect', () => process.exit(0));
  // Ctrl-C in a terminal reaches the whole process group: the parent stops its instances itself, after their batches.
  process.on('SIGINT', () => undefined);
  send({ type: 'ready' });
}

void main();
