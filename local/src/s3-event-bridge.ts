/**
 * S3 → SQS event notifications for the emulator. fauxqs accepts
 * PutBucketNotificationConfiguration but delivers nothing, so this bridge does
 * what S3 does: for every successful PutObject, PostObject, CopyObject and
 * CompleteMultipartUpload on a bucket with a matching notification (prefix /
 * suffix from shared/src/resources.ts), it sends one message holding one
 * standard event record (eventVersion 2.1) to the configured queue, so
 * handlers see exactly what AWS sends them.
 *
 * Hook: the emulator's S3 store writes (`putObject`, `completeMultipartUpload`)
 * are wrapped to capture the written object (size, ETag) and the HTTP request
 * that caused it (tracked with AsyncLocalStorage from fauxqs's Fastify
 * `onRequest` hook) tells Put from Post from Copy. The message is enqueued in
 * the `onSend` hook, after the operation succeeded and BEFORE the client gets
 * its answer: once a PUT returns, its event is in the queue (tests and
 * waitForIngestIdle rely on that).
 *
 * Not emulated: the s3:TestEvent S3 sends when a configuration is saved,
 * ObjectRemoved:* events (no notification asks for them) and versionId (fauxqs
 * has no versioning).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import type { EmulatedObject, EmulatorParts, EmulatorRequest } from './aws-emulator';

export type ObjectCreatedEventName = 'ObjectCreated:Put' | 'ObjectCreated:Post' | 'ObjectCreated:Copy' | 'ObjectCreated:CompleteMultipartUpload';

/** One notification, with physical names. */
export interface BridgeRoute {
  bucket: string;
  queueName: string;
  prefix: string;
  suffix?: string;
  /** The configuration's id, echoed in s3.configurationId. */
  configurationId: string;
}

/** The standard S3 event record (the shape of aws-lambda's S3EventRecord). */
export interface S3EventRecordShape {
  eventVersion: '2.1';
  eventSource: 'aws:s3';
  awsRegion: string;
  eventTime: string;
  eventName: ObjectCreatedEventName;
  userIdentity: { principalId: string };
  requestParameters: { sourceIPAddress: string };
  responseElements: { 'x-amz-request-id': string; 'x-amz-id-2': string };
  s3: {
    s3SchemaVersion: '1.0';
    configurationId: string;
    bucket: { name: string; ownerIdentity: { principalId: string }; arn: string };
    object: { key: string; size: number; eTag: string; sequencer: string };
  };
}

/**
 * An object key as S3 writes it into event records: URL-encoded form style
 * (space → '+', '/' kept, everything but letters, digits and `*-._` as %XX of
 * its UTF-8 bytes). Handlers decode with decodeURIComponent(key.replace(/\+/g, ' ')).
 */
export function encodeS3EventKey(key: string): string {
  let out = '';
  for (const byte of Buffer.from(key, 'utf8')) {
    const char = String.fromCharCode(byte);
    if (/[A-Za-z0-9*\-._/]/.test(char)) out += char;
    else if (char === ' ') out += '+';
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export function routeMatches(route: BridgeRoute, bucket: string, key: string): boolean {
  return route.bucket === bucket && key.startsWith(route.prefix) && (!route.suffix || key.endsWith(route.suffix));
}

let sequence = 0n;
/**
 * S3's sequencer: a hex string that grows for successive events on a key
 * (compared after left-padding). Time-based so it keeps growing across restarts.
 */
export function nextSequencer(now = Date.now()): string {
  sequence = (sequence + 1n) % 1_000_000n;
  return (BigInt(now) * 1_000_000n + sequence).toString(16).toUpperCase().padStart(18, '0');
}

export interface RecordInput {
  eventName: ObjectCreatedEventName;
  region: string;
  bucket: string;
  key: string;
  size: number;
  /** With or without the quotes S3 puts around ETags in headers. */
  eTag: string;
  sourceIp: string;
  requestId: string;
  configurationId: string;
  time?: Date;
}

export function s3EventRecord(input: RecordInput): S3EventRecordShape {
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: input.region,
    eventTime: (input.time ?? new Date()).toISOString(),
    eventName: input.eventName,
    userIdentity: { principalId: 'AWS:LOCAL' },
    requestParameters: { sourceIPAddress: input.sourceIp },
    responseElements: { 'x-amz-request-id': input.requestId, 'x-amz-id-2': randomBytes(24).toString('base64') },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: input.configurationId,
      bucket: { name: input.bucket, ownerIdentity: { principalId: 'LOCAL' }, arn: `arn:aws:s3:::${input.bucket}` },
      object: { key: encodeS3EventKey(input.key), size: input.size, eTag: input.eTag.replace(/"/g, ''), sequencer: nextSequencer() },
    },
  };
}

interface Write {
  eventName: ObjectCreatedEventName;
  bucket: string;
  object: EmulatedObject;
}

export interface S3EventBridge {
  /** Events delivered so far (for the startup banner and tests). */
  delivered(): number;
}

/** Wires the bridge into an emulator before it listens. `log` hears about routes whose queue is missing. */
export function attachS3EventBridge(emulator: EmulatorParts, routes: readonly BridgeRoute[], log: (line: string) => void = () => undefined): S3EventBridge {
  const current = new AsyncLocalStorage<EmulatorRequest>();
  const pending = new WeakMap<EmulatorRequest, Write[]>();
  let delivered = 0;

  const deliver = (write: Write, request: EmulatorRequest | undefined) => {
    for (const route of routes) {
      if (!routeMatches(route, write.bucket, write.object.key)) continue;
      const queue = emulator.sqs.getQueueByName(route.queueName);
      if (!queue) {
        log(`S3 event for ${route.bucket} not delivered: queue ${route.queueName} does not exist`);
        continue;
      }
      const record = s3EventRecord({
        eventName: write.eventName,
        region: emulator.region,
        bucket: write.bucket,
        key: write.object.key,
        size: write.object.contentLength,
        eTag: write.object.etag,
        sourceIp: request?.ip ?? '127.0.0.1',
        requestId: request?.id ?? randomBytes(8).toString('hex').toUpperCase(),
        configurationId: route.configurationId,
      });
      queue.enqueue(emulator.createMessage(JSON.stringify({ Records: [record] })));
      delivered++;
    }
  };

  const record = (write: Write) => {
    const request = current.getStore();
    if (!request) return deliver(write, undefined);
    const list = pending.get(request) ?? [];
    list.push(write);
    pending.set(request, list);
  };

  // Every request runs inside its own context, so the store wrappers below know which request wrote.
  emulator.app.addHook('onRequest', (request, _reply, done) => current.run(request, done));
  emulator.app.addHook('onSend', async (request, reply, payload) => {
    const writes = pending.get(request);
    if (writes) {
      pending.delete(request);
      if (reply.statusCode < 300) for (const write of writes) deliver(write, request);
    }
    return payload;
  });

  const store = emulator.s3;
  const putObject = store.putObject.bind(store);
  store.putObject = (bucket: string, key: string, ...rest: unknown[]) => {
    const object = putObject(bucket, key, ...rest);
    const request = current.getStore();
    const eventName: ObjectCreatedEventName = request?.method === 'POST' ? 'ObjectCreated:Post' : request?.headers['x-amz-copy-source'] ? 'ObjectCreated:Copy' : 'ObjectCreated:Put';
    record({ eventName, bucket, object });
    return object;
  };
  const complete = store.completeMultipartUpload.bind(store);
  store.completeMultipartUpload = (uploadId: string, ...rest: unknown[]) => {
    const object = complete(uploadId, ...rest);
    const bucket = current.getStore()?.params?.bucket;
    if (bucket) record({ eventName: 'ObjectCreated:CompleteMultipartUpload', bucket, object });
    return object;
  };
  return { delivered: () => delivered };
}
