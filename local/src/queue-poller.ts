/**
 * Lambda's SQS event source mapping, locally: long-polls a queue and invokes
 * the queue's handler module (functions/src/<queue.handler>.ts, export
 * `handler(event, context)`) with an SQSEvent exactly as Lambda builds it.
 * Like Lambda with ReportBatchItemFailures: messages named in
 * `batchItemFailures` stay in the queue (visible again after the visibility
 * timeout), the others are deleted; a thrown error or an invalid response
 * fails the whole batch. Redrive to the dead-letter queue after
 * maxReceiveCount receives is done by the emulator itself (checked by
 * test/local-stack.test.ts), as by SQS in AWS.
 *
 * A handler module that does not exist yet is reported once and its queue is
 * left alone (messages wait) until the file appears; a module that fails to
 * load is reported and retried. A throwing handler never stops the poller.
 */
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { Message } from '@aws-sdk/client-sqs';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';

export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | void | undefined> | SQSBatchResponse | void;

export interface QueuePollerOptions {
  /** Logical queue id (for messages), e.g. "ingest". */
  id: string;
  queueUrl: string;
  queueArn: string;
  region: string;
  sqs: SQSClient;
  /** Absolute path of the handler module. */
  handlerFile: string;
  /** Lambda's batch size (at most 10 per receive, as without a batching window). */
  batchSize: number;
  /** The queue's visibility timeout: the invocation's deadline, as a Lambda timeout ≤ it would be. */
  visibilityTimeoutSeconds: number;
  /** Long-poll wait per receive; lower means faster stop, more requests. */
  waitTimeSeconds?: number;
  log: (line: string) => void;
}

export interface PollerStatus {
  id: string;
  state: 'polling' | 'waiting-for-handler' | 'stopped';
  /** A batch is being handled right now. */
  busy: boolean;
  invocations: number;
  failedMessages: number;
}

export interface QueuePoller {
  status(): PollerStatus;
  /** Settles after the first attempt to load the handler (status() is then meaningful). */
  ready: Promise<void>;
  /** Stops polling; waits for a batch in progress up to `graceMs` (default 10 s), then leaves it (it is delivered again later, as after a Lambda timeout). */
  stop(graceMs?: number): Promise<void>;
}

/** One SQS message as a Lambda SQSRecord. */
export function sqsRecord(message: Message, queueArn: string, region: string): SQSRecord {
  const attributes = message.Attributes ?? {};
  const messageAttributes: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    messageAttributes[name] = {
      ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined ? { binaryValue: Buffer.from(value.BinaryValue).toString('base64') } : {}),
      stringListValues: value.StringListValues ?? [],
      binaryListValues: (value.BinaryListValues ?? []).map((b) => Buffer.from(b).toString('base64')),
      dataType: value.DataType ?? 'String',
    };
  }
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
      SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
      SenderId: attributes.SenderId ?? '000000000000',
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
      ...(attributes.SequenceNumber ? { SequenceNumber: attributes.SequenceNumber } : {}),
      ...(attributes.MessageGroupId ? { MessageGroupId: attributes.MessageGroupId } : {}),
      ...(attributes.MessageDeduplicationId ? { MessageDeduplicationId: attributes.MessageDeduplicationId } : {}),
    },
    messageAttributes,
    md5OfBody: message.MD5OfBody ?? '',
    ...(message.MD5OfMessageAttributes ? { md5OfMessageAttributes: message.MD5OfMessageAttributes } : {}),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

/**
 * The message ids to keep, from a handler's outcome, by Lambda's rules: void or
 * an empty list = all succeeded; an invalid response (unknown or empty
 * itemIdentifier, not a list) = the whole batch failed.
 */
export function failedMessageIds(batch: readonly SQSRecord[], result: unknown): { failed: Set<string>; invalid: boolean } {
  const all = new Set(batch.map((r) => r.messageId));
  if (result === undefined || result === null) return { failed: new Set(), invalid: false };
  const failures = (result as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === undefined || failures === null) return { failed: new Set(), invalid: false };
  if (!Array.isArray(failures)) return { failed: all, invalid: true };
  const failed = new Set<string>();
  for (const failure of failures) {
    const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || !all.has(id)) return { failed: all, invalid: true };
    failed.add(id);
  }
  return { failed, invalid: false };
}

export function startQueuePoller(options: QueuePollerOptions): QueuePoller {
  const { id, log } = options;
  const abort = new AbortController();
  const status: PollerStatus = { id, state: 'polling', busy: false, invocations: 0, failedMessages: 0 };
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  let handler: SqsHandler | undefined;
  let reportedMissing = false;
  let reportedLoadError: string | undefined;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      abort.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      }, { once: true });
    });

  async function loadHandler(): Promise<SqsHandler | undefined> {
    if (!existsSync(options.handlerFile)) {
      status.state = 'waiting-for-handler';
      if (!reportedMissing) log(`queue ${id}: handler ${options.handlerFile} does not exist yet; its messages wait in the queue`);
      reportedMissing = true;
      return undefined;
    }
    try {
      const module = (await import(pathToFileURL(options.handlerFile).href)) as { handler?: unknown };
      if (typeof module.handler !== 'function') throw new Error('it does not export a handler function');
      if (reportedMissing || reportedLoadError) log(`queue ${id}: handler loaded, consuming messages`);
      status.state = 'polling';
      return module.handler as SqsHandler;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      status.state = 'waiting-for-handler';
      if (reportedLoadError !== message) log(`queue ${id}: handler ${options.handlerFile} failed to load: ${message}`);
      reportedLoadError = message;
      return undefined;
    }
  }

  async function invoke(messages: Message[]): Promise<void> {
    const records = messages.map((m) => sqsRecord(m, options.queueArn, options.region));
    const requestId = crypto.randomUUID();
    const deadline = Date.now() + options.visibilityTimeoutSeconds * 1000;
    let result: unknown;
    let failed: Set<string>;
    status.invocations++;
    try {
      result = await (handler as SqsHandler)({ Records: records }, lambdaContext(id, requestId, deadline));
      const outcome = failedMessageIds(records, result);
      if (outcome.invalid) log(`queue ${id}: the handler's batchItemFailures are invalid; the whole batch will be retried`);
      failed = outcome.failed;
    } catch (error) {
      // The message only: errors must not carry PHI, and stacks are noise here.
      log(`queue ${id}: handler failed for a batch of ${records.length}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
      failed = new Set(records.map((r) => r.messageId));
    }
    status.failedMessages += failed.size;
    const done = records.filter((r) => !failed.has(r.messageId));
    if (done.length === 0) return;
    const deleted = await options.sqs.send(
      new DeleteMessageBatchCommand({ QueueUrl: options.queueUrl, Entries: done.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })) }),
    );
    for (const failure of deleted.Failed ?? []) {
      // The visibility timeout ran out during the invocation: the message will be delivered again, as in AWS.
      log(`queue ${id}: could not delete a processed message (${failure.Code ?? 'error'}); it will be delivered again`);
    }
  }

  const loop = (async () => {
    while (!abort.signal.aborted) {
      handler ??= await loadHandler();
      markReady();
      if (!handler) {
        await sleep(2_000);
        continue;
      }
      let messages: Message[];
      try {
        const received = await options.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: options.queueUrl,
            MaxNumberOfMessages: Math.min(Math.max(options.batchSize, 1), 10),
            WaitTimeSeconds: options.waitTimeSeconds ?? 2,
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
          { abortSignal: abort.signal },
        );
        messages = received.Messages ?? [];
      } catch (error) {
        if (abort.signal.aborted) break;
        log(`queue ${id}: receive failed: ${error instanceof Error ? error.message : String(error)}`);
        await sleep(1_000);
        continue;
      }
      if (messages.length === 0) continue;
      status.busy = true;
      try {
        await invoke(messages);
      } catch (error) {
        log(`queue ${id}: ${error instanceof Error ? error.message : String(error)}`);
      } finally {
        status.busy = false;
      }
    }
    status.state = 'stopped';
    markReady();
  })();

  return {
    status: () => ({ ...status }),
    ready,
    async stop(graceMs = 10_000) {
      abort.abort();
      let timer: NodeJS.Timeout | undefined;
      const gaveUp = await Promise.race([loop.then(() => false), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), graceMs)))]);
      clearTimeout(timer);
      if (gaveUp) log(`queue ${id}: stopped while a batch was still being handled; its messages will be delivered again`);
    },
  };
}

function lambdaContext(name: string, requestId: string, deadline: number): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: `medlake-local-${name}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:medlake-local-${name}`,
    memoryLimitInMB: '1024',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/medlake-local-${name}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(deadline - Date.now(), 0),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
