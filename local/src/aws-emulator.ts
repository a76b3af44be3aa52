/**
 * The S3 + SQS emulator of the local stack: fauxqs, assembled here rather than
 * through its `startFauxqs()`/CLI because those listen on 0.0.0.0 (every
 * network interface, PHI included) and hide the stores the S3 → SQS event
 * bridge hooks into. Same assembly as fauxqs's own startFauxqs: stores, SQLite
 * persistence for queues and messages, fauxqs's file persistence for buckets
 * and multipart uploads under <dir>/s3 (bodies in the object log), then `buildApp` — listening on
 * 127.0.0.1 only. Two changes of speed, not of behaviour: the queue database commits without an
 * fsync per message (WAL with synchronous=NORMAL), and object bodies are
 * appended to segment files with an index instead of two new files per
 * object (s3-object-log.ts; creating files was the emulator's largest cost);
 * multipart parts go there too and completing an upload copies nothing
 * (s3-multipart-log.ts); GETs of large objects stream from there instead of
 * reading the whole body into memory (s3-streamed-reads.ts).
 * Writing files through the thread pool (fs/promises) was measured too and
 * cost more CPU: the emulator is CPU-bound, not waiting on the disk. The
 * local stack runs this in a process of its own (aws-emulator-process.ts), as
 * S3 and SQS are services apart from Lambda.
 *
 * Known fauxqs limits: single requests are capped at 11 MiB (413 above: clients
 * upload larger files with multipart, parts ≤ 10 MiB); SigV4 signatures are not
 * checked; bucket notifications are stored but never delivered (see
 * s3-event-bridge.ts); without a data directory, multipart parts are held in
 * memory until completion (fauxqs's own behaviour).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { LocalStackError } from './errors';
import type { FileS3PersistenceBase } from './s3-object-log';
import { objectLogPersistence } from './s3-object-log';
import { kmsEtags } from './s3-kms-etags';
import type { WritingStore } from './s3-kms-etags';
import type { MultipartLogDeps, MultipartStore } from './s3-multipart-log';
import { logMultipartParts } from './s3-multipart-log';
import type { ReadableStore, StreamedReadsOptions, StreamingApp } from './s3-streamed-reads';
import { streamLargeObjectReads } from './s3-streamed-reads';

/** The parts of fauxqs's stores the local stack uses (fauxqs ships no public types for them). */
export interface EmulatedObject {
  key: string;
  contentLength: number;
  etag: string;
  lastModified: Date;
}

export interface EmulatedS3Store {
  putObject(bucket: string, key: string, ...rest: unknown[]): EmulatedObject;
  completeMultipartUpload(uploadId: string, ...rest: unknown[]): EmulatedObject;
  hasBucket(name: string): boolean;
}

export interface EmulatedQueue {
  name: string;
  arn: string;
  url: string;
  enqueue(message: unknown): void;
}

export interface EmulatedSqsStore {
  getQueueByName(name: string): EmulatedQueue | undefined;
}

interface SqsStoreClass {
  new (): EmulatedSqsStore & { host?: string; region?: string; persistence?: unknown; allQueues(): Iterable<{ persistence?: unknown }> };
  createMessage(body: string, attributes?: Record<string, unknown>): unknown;
}

/** Fastify's hook API, as far as the bridge needs it. */
export interface EmulatorApp {
  addHook(name: 'onRequest', hook: (request: EmulatorRequest, reply: unknown, done: () => void) => void): void;
  addHook(name: 'onSend', hook: (request: EmulatorRequest, reply: { statusCode: number }, payload: unknown) => Promise<unknown>): void;
  listen(options: { port: number; host: string }): Promise<string>;
  close(): Promise<void>;
}

export interface EmulatorRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  ip: string;
  id: string;
  /** Route parameters once routed (S3 routes: `bucket`, `*` = key). */
  params?: Record<string, string | undefined>;
}

/** The emulator's insides, for extensions wired in before it listens (the S3 event bridge). */
export interface EmulatorParts {
  region: string;
  app: EmulatorApp;
  s3: EmulatedS3Store;
  sqs: EmulatedSqsStore;
  /** Builds an SQS message for `EmulatedQueue.enqueue` exactly as SendMessage would. */
  createMessage(body: string): unknown;
}

export interface AwsEmulator extends EmulatorParts {
  /** http://127.0.0.1:<port>, the endpoint SDK clients use (path-style). */
  endpoint: string;
  port: number;
  stop(): Promise<void>;
}

export interface AwsEmulatorOptions {
  /** Where queues/messages (SQLite) and objects (files) persist; in memory when absent. */
  dir?: string;
  port: number;
  host?: string;
  region: string;
  /** Called before the server listens (Fastify takes no hooks afterwards). */
  prepare?: (parts: EmulatorParts) => void;
  /** Buckets that are SSE-KMS encrypted in AWS: their ETags are not MD5s of the data (s3-kms-etags.ts). */
  kmsBuckets?: readonly string[];
}

/** Objects from this size are streamed from the object log on GET (s3-streamed-reads.ts); smaller ones are read at once, as fauxqs does. */
export const streamedReadMinBytes = 8 * 1024 * 1024;

/** fauxqs's request body limit (its Fastify bodyLimit): larger single PUTs get 413. */
export const emulatorMaxBodyBytes = 11 * 1024 * 1024;

export function nodeSupportsEmulator(version = process.versions.node): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major > 22 || (major === 22 && minor >= 5);
}

export async function startAwsEmulator(options: AwsEmulatorOptions): Promise<AwsEmulator> {
  if (!nodeSupportsEmulator()) {
    throw new LocalStackError('node_too_old', `The S3/SQS emulator needs Node.js 22.5 or later (this is ${process.versions.node}): run it through npm scripts or npx, which use the project's Node 22.`);
  }
  const host = options.host ?? '127.0.0.1';
  const appUrl = import.meta.resolve('fauxqs');
  const internal = async <T>(path: string): Promise<T> => (await import(new URL(path, appUrl).href)) as T;
  const [{ buildApp }, { SqsStore }, { SnsStore }, { S3Store }, { PersistenceManager }, { FileS3Persistence }, { S3Error }, { computeCompositeChecksum, checksumHeaderName }] = await Promise.all([
    internal<{ buildApp(options: Record<string, unknown>): EmulatorApp }>('./app.js'),
    internal<{ SqsStore: SqsStoreClass }>('./sqs/sqsStore.js'),
    internal<{ SnsStore: new () => { region?: string; persistence?: unknown } }>('./sns/snsStore.js'),
    internal<{ S3Store: new () => EmulatedS3Store & MultipartStore & WritingStore }>('./s3/s3Store.js'),
    internal<{ PersistenceManager: new (dir: string) => { db: { exec(sql: string): void }; loadSqsAndSns(sqs: unknown, sns: unknown): void; close(): void } }>('./persistence.js'),
    internal<{ FileS3Persistence: new (dir: string) => FileS3PersistenceBase }>('./s3/fileS3Persistence.js'),
    internal<Pick<MultipartLogDeps, 'S3Error'>>('./common/errors.js'),
    internal<Pick<MultipartLogDeps, 'computeCompositeChecksum'> & Pick<StreamedReadsOptions, 'checksumHeaderName'>>('./s3/checksum.js'),
  ]);
  // Loaded here, not at the top: on a Node without node:sqlite the check above answers first.
  const { DatabaseSync } = await import('node:sqlite');

  const sqsStore = new SqsStore();
  sqsStore.region = options.region;
  const snsStore = new SnsStore();
  snsStore.region = options.region;
  const s3Store = new S3Store();
  kmsEtags(s3Store, options.kmsBuckets ?? [], S3Error);
  const closers: (() => void)[] = [];
  if (options.dir) {
    const stateDir = join(options.dir, 'state');
    const objectsDir = join(options.dir, 's3');
    mkdirSync(stateDir, { recursive: true });
    mkdirSync(objectsDir, { recursive: true });
    // Load before wiring persistence into the stores, as fauxqs does, so restoring does not write back.
    const queues = new PersistenceManager(stateDir);
    // WAL with NORMAL: no fsync per message (fauxqs leaves FULL: one fsync per send, receive and delete, ~2 ms each
    // on the event loop). The database stays consistent; a power cut, not a crash, may lose the last messages.
    queues.db.exec('PRAGMA synchronous = NORMAL');
    const ObjectLog = objectLogPersistence(FileS3Persistence, DatabaseSync);
    const objects = new ObjectLog(objectsDir);
    queues.loadSqsAndSns(sqsStore, snsStore);
    objects.loadS3(s3Store);
    sqsStore.persistence = queues;
    snsStore.persistence = queues;
    for (const queue of sqsStore.allQueues()) queue.persistence = queues;
    s3Store.persistence = objects;
    logMultipartParts(s3Store, { S3Error, computeCompositeChecksum });
    closers.push(() => queues.close(), () => objects.close());
  }

  const app = buildApp({ logger: false, defaultRegion: options.region, stores: { sqsStore, snsStore, s3Store } });
  streamLargeObjectReads(app as unknown as StreamingApp, s3Store as unknown as ReadableStore, { minBytes: streamedReadMinBytes, checksumHeaderName });
  const parts: EmulatorParts = { region: options.region, app, s3: s3Store, sqs: sqsStore, createMessage: (body) => SqsStore.createMessage(body, {}) };
  let port: number;
  try {
    options.prepare?.(parts);
    const address = await app.listen({ port: options.port, host });
    port = Number(new URL(address).port);
  } catch (error) {
    await app.close().catch(() => undefined);
    for (const close of closers) close();
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new LocalStackError('port_in_use', `The S3/SQS emulator cannot listen on ${host}:${options.port}: the port is already in use.`);
    }
    throw error;
  }
  let stopped = false;
  return {
    endpoint: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    ...parts,
    async stop() {
      if (stopped) return;
      stopped = true;
      // Fastify's preClose hook shuts the SQS store down (long polls answered) before persistence closes.
      await app.close();
      for (const close of closers) close();
    },
  };
}
