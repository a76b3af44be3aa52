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
 * Concurrency as Lambda scales an SQS mapping, up to `maxConcurrency` (the
 * mapping's MaximumConcurrency): one poller and one warm function instance
 * to begin with; while receives come back full (a backlog), another poller
 * with its own instance joins, so several batches are handled at once. Each
 * instance is a child process (function-instance.ts) running one batch at a
 * time, so batches run on every core. An instance is ready (its module
 * loaded) before its poller receives, so initialisation never eats a
 * message's visibility timeout.
 *
 * A handler module that does not exist yet is reported once and its queue is
 * left alone (messages wait) until the file appears; a module that fails to
 * load is reported and retried. A throwing or crashing handler never stops
 * the poller.
 */
import { existsSync } from 'node:fs';
import type { Message } from '@aws-sdk/client-sqs';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';
import type { FunctionInstance } from './function-instance';
import { startFunctionInstance } from './function-instance';

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
  /** Batches handled at once at most (Lambda's MaximumConcurrency of the mapping); default 1. */
  maxConcurrency?: number;
  /** The functions' environment (default: process.env when an instance starts). */
  env?: NodeJS.ProcessEnv;
  log: (line: string) => void;
}

export interface PollerStatus {
  id: string;
  state: 'polling' | 'waiting-for-handler' | 'stopped';
  /** A batch is being handled right now. */
  busy: boolean;
  /** Batches being handled right now. */
  inFlight: number;
  /** Function instances running (warm or busy). */
  instances: number;
  invocations: number;
  failedMessages: number;
}

export interface QueuePoller {
  status(): PollerStatus;
  /** Settles once the handler module was looked for (status() then says whether it exists). */
  ready: Promise<void>;
  /** Settles after the first instance's attempt to load the module (status() then also tells a module that fails to load). */
  warm: Promise<void>;
  /** Process ids of the running function instances. */
  instancePids(): number[];
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
  const maxConcurrency = Math.max(1, Math.floor(options.maxConcurrency ?? 1));
  const batchSize = Math.min(Math.max(options.batchSize, 1), 10);
  const status = { id, state: 'polling' as PollerStatus['state'], invocations: 0, failedMessages: 0 };
  const instances = new Set<FunctionInstance>();
  let inFlight = 0;
  let polling = 0;
  let pollers = 0;
  let reportedMissing = false;
  let reportedLoadError: string | undefined;
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  let markWarm: () => void = () => undefined;
  const warm = new Promise<void>((resolve) => (markWarm = resolve));

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      abort.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      }, { once: true });
    });

  function handlerExists(): boolean {
    if (existsSync(options.handlerFile)) return true;
    status.state = 'waiting-for-handler';
    if (!reportedMissing) log(`queue ${id}: handler ${options.handlerFile} does not exist yet; its messages wait in the queue`);
    reportedMissing = true;
    return false;
  }

  /** A warm instance for a poller: its own while it lives, a new one otherwise (undefined while the module is missing or broken). */
  async function instanceFor(current: FunctionInstance | undefined): Promise<FunctionInstance | undefined> {
    if (current?.alive()) return current;
    if (current) instances.delete(current);
    if (!handlerExists()) return undefined;
    const instance = startFunctionInstance(options.handlerFile, options.env ?? process.env);
    instances.add(instance);
    const failure = await instance.ready;
    if (failure !== undefined || abort.signal.aborted) {
      instances.delete(instance);
      await instance.stop();
      if (failure !== undefined && !abort.signal.aborted) {
        status.state = 'waiting-for-handler';
        if (reportedLoadError !== failure) log(`queue ${id}: handler ${options.handlerFile} failed to load: ${failure}`);
        reportedLoadError = failure;
      }
      return undefined;
    }
    if (reportedMissing || reportedLoadError) log(`queue ${id}: handler loaded, consuming messages`);
    reportedMissing = false;
    reportedLoadError = undefined;
    status.state = 'polling';
    return instance;
  }

  async function invoke(instance: FunctionInstance, messages: Message[]): Promise<void> {
    const records = messages.map((m) => sqsRecord(m, options.queueArn, options.region));
    const deadline = Date.now() + options.visibilityTimeoutSeconds * 1000;
    let failed: Set<string>;
    status.invocations++;
    try {
      const event: SQSEvent = { Records: records };
      const result = await instance.invoke(event, { functionName: `medlake-local-${id}`, awsRequestId: crypto.randomUUID(), deadline, memoryLimitInMB: '1024' });
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

  async function poll(first: boolean): Promise<void> {
    let instance: FunctionInstance | undefined;
    if (first) {
      handlerExists();
      markReady();
    }
    while (!abort.signal.aborted) {
      instance = await instanceFor(instance);
      if (first) markWarm();
      if (abort.signal.aborted) break;
      if (!instance) {
        await sleep(2_000);
        continue;
      }
      let messages: Message[];
      polling++;
      try {
        const received = await options.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: options.queueUrl,
            MaxNumberOfMessages: batchSize,
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
      } finally {
        polling--;
      }
      if (messages.length === 0) continue;
      // A full batch while no other poller waits: there is a backlog, scale out by one (as Lambda adds pollers).
      if (messages.length >= batchSize && polling === 0 && pollers < maxConcurrency) startPoller(false);
      inFlight++;
      try {
        await invoke(instance, messages);
      } catch (error) {
        log(`queue ${id}: ${error instanceof Error ? error.message : String(error)}`);
      } finally {
        inFlight--;
      }
    }
  }

  const loops: Promise<void>[] = [];
  function startPoller(first: boolean): void {
    pollers++;
    loops.push(poll(first));
  }
  startPoller(true);

  const settled = async () => {
    // Pollers started while waiting are waited for too.
    for (let seen = 0; seen < loops.length; seen = loops.length) await Promise.all(loops.slice(seen));
  };

  return {
    status: () => ({ ...status, state: abort.signal.aborted ? 'stopped' : status.state, busy: inFlight > 0, inFlight, instances: [...instances].filter((i) => i.alive()).length }),
    ready,
    warm,
    instancePids: () => [...instances].filter((i) => i.alive()).map((i) => i.pid),
    async stop(graceMs = 10_000) {
      abort.abort();
      let timer: NodeJS.Timeout | undefined;
      const gaveUp = await Promise.race([settled().then(() => false), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), graceMs)))]);
      clearTimeout(timer);
      if (gaveUp) log(`queue ${id}: stopped while a batch was still being handled; its messages will be delivered again`);
      await Promise.all([...instances].map((i) => i.stop()));
      instances.clear();
    },
  };
}
