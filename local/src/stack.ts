/**
 * The whole of medlake on one machine, in one process tree, speaking the AWS
 * wire protocols: PostgreSQL (embedded, or DATABASE_URL) with the migrations,
 * the S3/SQS emulator with the buckets, queues and dead-letter queues of
 * shared/src/resources.ts and its S3 → SQS event bridge, cognito-local with
 * the pool, clients, groups and a first admin, key files, the mail outbox, the
 * front door serving the SPA, the viewer, /api, /dicomweb and /s3, and the
 * pollers feeding the queue handlers. Everything persists under `dataDir`.
 * It sets process.env for the handlers, as Lambda's configuration would.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient, SetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import pg from 'pg';
import type { BucketId, QueueDefinition, QueueId } from '@medlake/shared/resources';
import { buckets, envNames, nameFor, notifications, queueDefinition, queues } from '@medlake/shared/resources';
import { migrateDatabase } from '@medlake/functions/adapters/migrate';
import { OutboxMailer } from '@medlake/functions/adapters/mailer';
import { emulatorMaxBodyBytes } from './aws-emulator';
import type { AwsEmulatorProcess } from './aws-emulator-process';
import { startAwsEmulatorProcess } from './aws-emulator-process';
import type { CodeDelivery, CognitoLocal } from './cognito';
import { ensureUser, provisionUserPool, startCognitoLocal } from './cognito';
import { LocalStackError } from './errors';
import type { FrontDoor } from './front-door';
import { startFrontDoor } from './front-door';
import { ensureKeyFile } from './key-files';
import type { PostgresServer } from './postgres';
import { startPostgres, stopStalePostmaster } from './postgres';
import { freePort, isAlive, portInUse } from './processes';
import type { QueuePoller } from './queue-poller';
import { startQueuePoller } from './queue-poller';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const defaultFunctionsRoot = join(repoRoot, 'functions', 'src');
export const defaultWebRoot = join(repoRoot, 'web', 'dist');
export const region = 'us-east-1';
/** The credentials of everything local: the emulators accept any, the front door's /s3 path checks presigned URLs against these. */
export const localCredentials = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

export interface QueueSettings {
  visibilityTimeoutSeconds?: number;
  maxReceiveCount?: number;
}

export interface LocalStackOptions {
  /** Everything the stack keeps: database, objects, queues, users, keys, outbox, logs. */
  dataDir: string;
  /** Front door port (default 3000); 0 picks a free one. */
  port?: number;
  /** Front door address (default 127.0.0.1). */
  host?: string;
  /**
   * Component ports. Default: the three ports after the front door's
   * (3001 S3/SQS, 3002 Cognito, 3003 PostgreSQL), stable across restarts so
   * sessions survive; random when the front door's port is 0.
   */
  componentPorts?: { aws?: number; cognito?: number; postgres?: number };
  /** Use this PostgreSQL instead of starting one (never wiped by reset). */
  databaseUrl?: string;
  /** Wipe dataDir first. */
  reset?: boolean;
  /** Progress and component messages, one line each; silent when absent. */
  log?: (line: string) => void;
  /** Per-request lines from the front door. */
  requestLog?: (line: string) => void;
  /** Stage in physical names (medlake-<stage>-archive); default "local". */
  stage?: string;
  /** Where handler modules live (default functions/src): api/handler.ts, <queue.handler>.ts. */
  functionsRoot?: string;
  /** Per queue: a handler module file replacing <functionsRoot>/<queue.handler>.ts, or false for no poller. */
  queueHandlers?: Partial<Record<QueueId, string | false>>;
  /** Per queue overrides of resources.ts (tests shorten visibility timeouts). */
  queueSettings?: Partial<Record<QueueId, QueueSettings>>;
  /** Long-poll wait of the pollers (default 2 s). */
  pollWaitSeconds?: number;
  /**
   * Batches a queue's handler runs at once at most (Lambda's MaximumConcurrency), each in a function
   * instance of its own. Default: MEDLAKE_QUEUE_CONCURRENCY ("ingest=2,export=1"), else the ingest
   * queue one per core (at most 4), the others 1.
   */
  queueConcurrency?: Partial<Record<QueueId, number>>;
  /** The first admin; default: MEDLAKE_ADMIN_EMAIL/MEDLAKE_ADMIN_PASSWORD, else generated once and kept in dataDir. */
  admin?: { email: string; password: string };
  /** Every Cognito code is this value (tests). */
  fixedConfirmationCode?: string;
  webRoot?: string;
  viewerRoot?: string;
  /** The URL users reach the front door at (links in emails, presigned URLs); default its own URL. */
  publicBaseUrl?: string;
  /** Set process.env for in-process handlers (default true); the previous values come back on stop(). */
  setProcessEnv?: boolean;
}

export interface QueueInfo {
  id: QueueId;
  name: string;
  url: string;
  arn: string;
  deadLetter: { name: string; url: string; arn: string };
  visibilityTimeoutSeconds: number;
  maxReceiveCount: number;
}

export interface AdminCredentials {
  email: string;
  /** Known only when generated or given by the environment/option. */
  password: string;
  /** Generated by this start (print it once). */
  generated: boolean;
  /** Where a generated password is kept. */
  file?: string;
}

export interface LocalStack {
  /** The front door, e.g. http://localhost:3000. */
  url: string;
  dataDir: string;
  outboxDir: string;
  /** Variables handlers read (also set on process.env unless setProcessEnv is false). */
  env: Record<string, string>;
  admin: AdminCredentials;
  /** This start created the data directory (first start, or after --reset). */
  firstStart: boolean;
  endpoints: { aws: string; cognito: string; database: string; databaseExternal: boolean };
  buckets: Record<BucketId, string>;
  queues: Record<QueueId, QueueInfo>;
  pollers: Partial<Record<QueueId, QueuePoller>>;
  /** The S3 → SQS event bridge (inside the emulator's process). */
  bridge: { delivered(): Promise<number> };
  /** Process ids of the components (CPU accounting in benchmarks): the emulator, cognito-local, PostgreSQL's postmaster, the function instances. */
  processIds(): { emulator: number; cognito?: number; postgres?: number; functions: { queue: QueueId; pid: number }[] };
  /** Recovery notes (e.g. a stale PostgreSQL was stopped). */
  notes: string[];
  stop(): Promise<void>;
}

/** An SQS queue ARN in the emulator's account. */
export function queueArn(name: string): string {
  return `arn:aws:sqs:${region}:000000000000:${name}`;
}

function adminFromEnv(): { email: string; password: string } | undefined {
  const email = process.env.MEDLAKE_ADMIN_EMAIL;
  const password = process.env.MEDLAKE_ADMIN_PASSWORD;
  return email && password ? { email, password } : undefined;
}

/** A password Cognito's default policy accepts (upper, lower, digit, symbol, ≥ 8). */
export function generatePassword(): string {
  return `Ml-${randomBytes(12).toString('base64url')}-9a`;
}

function resolveAdmin(dataDir: string, given: { email: string; password: string } | undefined): AdminCredentials {
  if (given) return { ...given, generated: false };
  const file = join(dataDir, 'admin-credentials.json');
  if (existsSync(file)) {
    const stored = JSON.parse(readFileSync(file, 'utf8')) as { email: string; password: string };
    return { ...stored, generated: false, file };
  }
  const created = { email: 'admin@medlake.localhost', password: generatePassword() };
  writeFileSync(file, `${JSON.stringify(created, null, 2)}\n`, { mode: 0o600 });
  return { ...created, generated: true, file };
}

/** The email cognito-local would have sent, for the outbox. */
export function codeEmail(delivery: CodeDelivery, publicBaseUrl: string): { to: string; subject: string; text: string } {
  const reasons: Record<string, { subject: string; action: string }> = {
    SignUp: { subject: 'Verify your email address for medlake', action: 'confirm your email address and finish signing up' },
    ResendConfirmationCode: { subject: 'Verify your email address for medlake', action: 'confirm your email address and finish signing up' },
    ForgotPassword: { subject: 'Reset your medlake password', action: 'choose a new password' },
    AdminResetUserPassword: { subject: 'Reset your medlake password', action: 'choose a new password' },
    AdminCreateUser: { subject: 'Your medlake account', action: 'sign in for the first time' },
  };
  const reason = reasons[delivery.operation] ?? { subject: 'Your medlake verification code', action: 'verify your email address' };
  return {
    to: delivery.destination,
    subject: reason.subject,
    text: `Hello,\n\nYour medlake verification code is: ${delivery.code}\n\nEnter it at ${publicBaseUrl} to ${reason.action}.\nIf you did not ask for this, ignore this email.\n\n-- medlake\n`,
  };
}

async function pickPort(wanted: number | undefined, fallback: number | undefined, what: string, host = '127.0.0.1'): Promise<number> {
  const port = wanted ?? fallback;
  if (port === undefined || port === 0) return freePort(host);
  if (await portInUse(port, host)) throw new LocalStackError('port_in_use', `Port ${port} (${what}) is already in use: stop the other server or set a different PORT.`);
  return port;
}

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const log = options.log ?? (() => undefined);
  const dataDir = resolve(options.dataDir);
  const notes: string[] = [];

  const release = claimDataDir(dataDir);
  try {
    return await startClaimed(options, dataDir, notes, log, release);
  } catch (error) {
    release();
    throw error;
  }
}

/**
 * One stack per data directory: a lock file names the process using it. A
 * live owner means "already running"; a dead one means its PostgreSQL, if
 * still up, is stale and may be stopped.
 */
function claimDataDir(dataDir: string): () => void {
  const lock = join(dataDir, 'stack.pid');
  if (existsSync(lock)) {
    const owner = Number(readFileSync(lock, 'utf8').trim());
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner) && isNodeProcess(owner)) {
      throw new LocalStackError('data_dir_in_use', `medlake is already running from ${dataDir} (pid ${owner}): stop it first, or use another MEDLAKE_DATA_DIR.`);
    }
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  writeFileSync(lock, `${process.pid}\n`);
  return () => {
    try {
      if (readFileSync(lock, 'utf8').trim() === String(process.pid)) rmSync(lock, { force: true });
    } catch {
      // Already gone (reset, or the directory was removed).
    }
  };
}

function isNodeProcess(pid: number): boolean {
  try {
    return /node|tsx/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
  } catch {
    return true; // No /proc: trust the pid.
  }
}

async function startClaimed(options: LocalStackOptions, dataDir: string, notes: string[], log: (line: string) => void, release: () => void): Promise<LocalStack> {
  const stage = options.stage ?? 'local';
  const host = options.host ?? '127.0.0.1';
  // A PostgreSQL left running by a killed previous run holds the data files and its port.
  const stale = await stopStalePostmaster(join(dataDir, 'postgres'));
  if (stale !== undefined) notes.push(`stopped a PostgreSQL server left running by a previous run (pid ${stale})`);
  if (options.reset && options.databaseUrl) notes.push('--reset leaves the database in DATABASE_URL as it is');
  if (options.reset && existsSync(dataDir)) {
    for (const entry of readdirSync(dataDir)) if (entry !== 'stack.pid') rmSync(join(dataDir, entry), { recursive: true, force: true });
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  for (const dir of ['logs', 'outbox', 'keys']) mkdirSync(join(dataDir, dir), { recursive: true, mode: 0o700 });
  const outboxDir = join(dataDir, 'outbox');
  const deidKeyFile = join(dataDir, 'keys', 'deid.key');
  const vaultKeyFile = join(dataDir, 'keys', 'phi-vault-master.key');
  // The de-identification key is the lake's identity: without it, this is a new lake.
  const firstStart = !existsSync(deidKeyFile);
  if (ensureKeyFile(deidKeyFile).created) log(`created the de-identification key ${deidKeyFile}`);
  if (ensureKeyFile(vaultKeyFile).created) log(`created the PHI vault master key ${vaultKeyFile}`);
  const admin = resolveAdmin(dataDir, options.admin ?? adminFromEnv());

  const frontPort = options.port ?? 3000;
  // Fail fast on a taken front door port, before starting anything.
  if (frontPort !== 0 && (await portInUse(frontPort, host))) {
    throw new LocalStackError('port_in_use', `Port ${frontPort} is already in use on ${host}: stop the other server or start with PORT=<another port>.`);
  }
  const derived = (offset: number) => (frontPort === 0 ? undefined : frontPort + offset);
  const ports = options.componentPorts ?? {};
  const awsPort = await pickPort(ports.aws, derived(1), 'S3/SQS emulator');
  const cognitoPort = await pickPort(ports.cognito, derived(2), 'Cognito');
  const postgresPort = options.databaseUrl ? 0 : await pickPort(ports.postgres, derived(3), 'PostgreSQL');

  const stoppers: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stoppers.splice(0).reverse()) await stop().catch((error: unknown) => log(`stopping: ${error instanceof Error ? error.message : String(error)}`));
  };
  const savedEnv: Record<string, string | undefined> = {};
  try {
    let publicBaseUrl = options.publicBaseUrl ?? '';
    const mailer = new OutboxMailer(outboxDir);
    const onCode = (delivery: CodeDelivery) => {
      void mailer
        .send(codeEmail(delivery, publicBaseUrl || `http://localhost:${frontPort}`))
        .then(() => log(`email to ${delivery.destination} written to the outbox`))
        .catch((error: unknown) => log(`could not write an email to the outbox: ${error instanceof Error ? error.message : String(error)}`));
    };

    // Physical names are known up front: the bridge must be wired before the emulator listens.
    const bucketNames = Object.fromEntries(buckets.map((b) => [b.id, nameFor(stage, b.name)])) as Record<BucketId, string>;
    const routes = notifications.map((n, i) => ({
      bucket: bucketNames[n.bucket],
      queueName: nameFor(stage, queueDefinition(n.queue).name),
      prefix: n.prefix,
      ...(n.suffix ? { suffix: n.suffix } : {}),
      configurationId: `${n.bucket}-to-${n.queue}-${i + 1}`,
    }));

    // Settled, not Promise.all: when one component fails, the others must finish starting so they can be stopped.
    const stopLater = <T extends { stop(): Promise<void> }>(component: T): T => {
      stoppers.push(() => component.stop());
      return component;
    };
    const [databaseResult, emulatorResult, cognitoResult] = await Promise.allSettled([
      startDatabase(options, dataDir, postgresPort, log, stoppers, notes),
      // Every data bucket is SSE-KMS in AWS (infra/src/storage.ts): ETags as S3 gives them there.
      startAwsEmulatorProcess({ dir: join(dataDir, 'aws'), port: awsPort, host: '127.0.0.1', region, routes, kmsBuckets: Object.values(bucketNames), log }).then(stopLater),
      startCognitoLocal({ dir: join(dataDir, 'cognito'), port: cognitoPort, logFile: join(dataDir, 'logs', 'cognito-local.log'), onCode, ...(options.fixedConfirmationCode ? { fixedCode: options.fixedConfirmationCode } : {}) }).then(stopLater),
    ]);
    for (const result of [databaseResult, emulatorResult, cognitoResult]) if (result.status === 'rejected') throw result.reason;
    const database = (databaseResult as PromiseFulfilledResult<{ databaseUrl: string }>).value;
    const emulator = (emulatorResult as PromiseFulfilledResult<AwsEmulatorProcess>).value;
    const cognito = (cognitoResult as PromiseFulfilledResult<CognitoLocal>).value;

    const s3 = new S3Client({ endpoint: emulator.endpoint, region, forcePathStyle: true, credentials: localCredentials });
    const sqs = new SQSClient({ endpoint: emulator.endpoint, region, credentials: localCredentials });
    stoppers.push(async () => {
      s3.destroy();
      sqs.destroy();
    });
    await provisionBuckets(s3, bucketNames);
    const queueInfos = await provisionQueues(sqs, emulator, stage, options.queueSettings ?? {});
    const pool = await provisionIdentity(cognito, admin);

    const functionsRoot = options.functionsRoot ?? defaultFunctionsRoot;
    const webRoot = options.webRoot ?? defaultWebRoot;
    const door: FrontDoor = await startFrontDoor({
      port: frontPort,
      host,
      webRoot,
      viewerRoot: options.viewerRoot ?? join(webRoot, 'viewer'),
      functionsRoot,
      s3Proxy: { prefix: '/s3', target: emulator.endpoint, credentials: localCredentials, maxBodyBytes: emulatorMaxBodyBytes },
      ...(options.requestLog ? { log: options.requestLog } : {}),
    }).catch((error: unknown) => {
      if (error instanceof Error && /already in use/.test(error.message)) throw new LocalStackError('port_in_use', error.message);
      throw error;
    });
    stoppers.push(() => door.close());
    publicBaseUrl ||= door.url;

    const issuer = `${cognito.endpoint}/${pool.userPoolId}`;
    const env: Record<string, string> = {
      [envNames.stage]: stage,
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      AWS_ACCESS_KEY_ID: localCredentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: localCredentials.secretAccessKey,
      AWS_ENDPOINT_URL_S3: emulator.endpoint,
      AWS_ENDPOINT_URL_SQS: emulator.endpoint,
      AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER: cognito.endpoint,
      ...Object.fromEntries(buckets.map((b) => [envNames.bucket(b.id), bucketNames[b.id]])),
      ...Object.fromEntries(queues.map((q) => [envNames.queueUrl(q.id), queueInfos[q.id].url])),
      [envNames.databaseUrl]: database.databaseUrl,
      [envNames.userPoolId]: pool.userPoolId,
      [envNames.webClientId]: pool.webClientId,
      [envNames.gatewayClientId]: pool.gatewayClientId,
      [envNames.jwtIssuer]: issuer,
      [envNames.jwksUrl]: `${issuer}/.well-known/jwks.json`,
      [envNames.s3PublicEndpoint]: `${publicBaseUrl}/s3`,
      [envNames.publicBaseUrl]: publicBaseUrl,
      [envNames.deidKeyFile]: deidKeyFile,
      [envNames.phiVaultMasterKeyFile]: vaultKeyFile,
      [envNames.mailOutboxDir]: outboxDir,
      // Above this size the upload API hands out multipart URLs: locally below the emulator's 11 MiB request limit.
      UPLOAD_MULTIPART_THRESHOLD_BYTES: process.env.UPLOAD_MULTIPART_THRESHOLD_BYTES || String(10 * 1024 * 1024),
    };
    if (options.setProcessEnv !== false) {
      for (const [name, value] of Object.entries(env)) {
        savedEnv[name] = process.env[name];
        process.env[name] = value;
      }
      // Real credentials of the developer's shell must never reach AWS from the local stack.
      for (const name of ['AWS_SESSION_TOKEN', 'AWS_PROFILE']) {
        savedEnv[name] = process.env[name];
        delete process.env[name];
      }
      stoppers.unshift(async () => {
        for (const [name, value] of Object.entries(savedEnv)) {
          if (value === undefined) delete process.env[name];
          else process.env[name] = value;
        }
      });
    }

    const pollers: Partial<Record<QueueId, QueuePoller>> = {};
    const concurrency = queueConcurrency(options.queueConcurrency);
    for (const queue of queues) {
      const override = options.queueHandlers?.[queue.id];
      if (override === false) continue;
      const info = queueInfos[queue.id];
      const poller = startQueuePoller({
        id: queue.id,
        queueUrl: info.url,
        queueArn: info.arn,
        region,
        sqs,
        handlerFile: override ?? join(functionsRoot, `${queue.handler}.ts`),
        batchSize: queue.batchSize,
        visibilityTimeoutSeconds: info.visibilityTimeoutSeconds,
        waitTimeSeconds: options.pollWaitSeconds ?? 2,
        maxConcurrency: concurrency[queue.id],
        log,
      });
      pollers[queue.id] = poller;
      stoppers.push(() => poller.stop());
    }
    // Missing or broken handler modules are reported before the stack says it is up.
    await Promise.all(Object.values(pollers).map((p) => p.ready));

    let stopped: Promise<void> | undefined;
    return {
      url: door.url,
      dataDir,
      outboxDir,
      env,
      admin,
      firstStart,
      endpoints: { aws: emulator.endpoint, cognito: cognito.endpoint, database: redact(database.databaseUrl), databaseExternal: Boolean(options.databaseUrl) },
      buckets: bucketNames,
      queues: queueInfos,
      pollers,
      bridge: { delivered: () => emulator.delivered() },
      processIds: () => ({
        emulator: emulator.pid,
        ...(cognito.pid ? { cognito: cognito.pid } : {}),
        ...postmasterPid(dataDir, options.databaseUrl),
        functions: Object.entries(pollers).flatMap(([queue, poller]) => poller.instancePids().map((pid) => ({ queue: queue as QueueId, pid }))),
      }),
      notes,
      stop: () => (stopped ??= stopAll().finally(release)),
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** Per queue, the batches handled at once: options, else MEDLAKE_QUEUE_CONCURRENCY ("ingest=2,notify=1"), else the defaults. */
export function queueConcurrency(given: Partial<Record<QueueId, number>> = {}, spec = process.env.MEDLAKE_QUEUE_CONCURRENCY ?? ''): Record<QueueId, number> {
  const fromEnv: Partial<Record<string, number>> = {};
  for (const part of spec.split(',').map((p) => p.trim()).filter(Boolean)) {
    const [name, value] = part.split('=');
    const n = Number(value);
    if (!name || !Number.isInteger(n) || n < 1) throw new LocalStackError('invalid_setting', `MEDLAKE_QUEUE_CONCURRENCY: "${part}" is not queue=number (a whole number of at least 1).`);
    fromEnv[name.trim()] = n;
  }
  // Ingest is the CPU-bound queue (de-identification, hashing): one instance per core, at most 4. Each instance
  // waits on S3 and PostgreSQL part of the time, so on 2 cores 2 instances ingest faster than 1 (npm run bench,
  // 2,100 CT instances: 159-167 inst/s against 126-142; 3 instances: 144).
  const defaults = (id: QueueId) => (id === 'ingest' ? Math.min(Math.max(availableParallelism(), 1), 4) : 1);
  return Object.fromEntries(queues.map((q) => [q.id, given[q.id] ?? fromEnv[q.id] ?? defaults(q.id)])) as Record<QueueId, number>;
}

function postmasterPid(dataDir: string, external: string | undefined): { postgres?: number } {
  if (external) return {};
  try {
    const pid = Number(readFileSync(join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? { postgres: pid } : {};
  } catch {
    return {};
  }
}

function redact(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return 'postgres://…';
  }
}

async function startDatabase(options: LocalStackOptions, dataDir: string, port: number, log: (line: string) => void, stoppers: (() => Promise<void>)[], notes: string[]): Promise<{ databaseUrl: string }> {
  let databaseUrl: string;
  if (options.databaseUrl) {
    databaseUrl = options.databaseUrl;
    const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5_000 });
    try {
      await client.connect();
    } catch (error) {
      throw new LocalStackError('database_unreachable', `The PostgreSQL in DATABASE_URL cannot be reached: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      await client.end().catch(() => undefined);
    }
  } else {
    const server: PostgresServer = await startPostgres({ dir: join(dataDir, 'postgres'), port, log });
    stoppers.push(() => server.stop());
    if (server.recovered) notes.push(server.recovered);
    databaseUrl = server.databaseUrl;
  }
  try {
    // Out-of-order files are fine on a developer's database (see migrate.ts).
    await migrateDatabase(databaseUrl, { allowOutOfOrder: true, log });
  } catch (error) {
    throw new LocalStackError('migration_failed', `Applying the database migrations failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  return { databaseUrl };
}

async function provisionBuckets(s3: S3Client, names: Record<BucketId, string>): Promise<void> {
  // CreateBucket is idempotent in the emulator (as for the owner in us-east-1).
  for (const name of Object.values(names)) await s3.send(new CreateBucketCommand({ Bucket: name }));
}

function queueAttributes(queue: QueueDefinition, settings: QueueSettings, deadLetterArn: string): Record<string, string> {
  return {
    VisibilityTimeout: String(settings.visibilityTimeoutSeconds ?? queue.visibilityTimeoutSeconds),
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: deadLetterArn, maxReceiveCount: settings.maxReceiveCount ?? queue.maxReceiveCount }),
  };
}

async function ensureQueue(sqs: SQSClient, name: string, attributes: Record<string, string>): Promise<string> {
  try {
    const found = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
    if (!found.QueueUrl) throw new Error(`no URL for queue ${name}`);
    // Kept from a previous run: bring its settings up to date with resources.ts.
    if (Object.keys(attributes).length) await sqs.send(new SetQueueAttributesCommand({ QueueUrl: found.QueueUrl, Attributes: attributes }));
    return found.QueueUrl;
  } catch (error) {
    if ((error as { name?: string }).name !== 'QueueDoesNotExist' && (error as { name?: string }).name !== 'AWS.SimpleQueueService.NonExistentQueue') throw error;
  }
  const created = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  if (!created.QueueUrl) throw new LocalStackError('emulator_failed', `The emulator did not create queue ${name}.`);
  return created.QueueUrl;
}

/**
 * The queue URL on the emulator's own endpoint: fauxqs answers AWS-style
 * `sqs.<region>.localhost` hosts, which need wildcard DNS, and finds queues by
 * name whatever the host.
 */
function localQueueUrl(endpoint: string, name: string): string {
  return `${endpoint}/000000000000/${name}`;
}

async function provisionQueues(sqs: SQSClient, emulator: { endpoint: string }, stage: string, settings: Partial<Record<QueueId, QueueSettings>>): Promise<Record<QueueId, QueueInfo>> {
  const infos = {} as Record<QueueId, QueueInfo>;
  for (const queue of queues) {
    const deadLetterName = nameFor(stage, queue.deadLetterName);
    // Dead letters are kept 14 days, the SQS maximum, so nothing is lost before someone looks.
    const deadLetterUrl = localQueueUrl(emulator.endpoint, deadLetterName);
    await ensureQueue(sqs, deadLetterName, { MessageRetentionPeriod: '1209600' });
    const name = nameFor(stage, queue.name);
    const own = settings[queue.id] ?? {};
    await ensureQueue(sqs, name, queueAttributes(queue, own, queueArn(deadLetterName)));
    const url = localQueueUrl(emulator.endpoint, name);
    const attributes = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
    infos[queue.id] = {
      id: queue.id,
      name,
      url,
      arn: attributes.Attributes?.QueueArn ?? queueArn(name),
      deadLetter: { name: deadLetterName, url: deadLetterUrl, arn: queueArn(deadLetterName) },
      visibilityTimeoutSeconds: own.visibilityTimeoutSeconds ?? queue.visibilityTimeoutSeconds,
      maxReceiveCount: own.maxReceiveCount ?? queue.maxReceiveCount,
    };
  }
  return infos;
}

async function provisionIdentity(cognito: CognitoLocal, admin: AdminCredentials) {
  const pool = await provisionUserPool(cognito.client);
  await ensureUser(cognito.client, pool.userPoolId, { email: admin.email, password: admin.password, groups: ['admin'] });
  return pool;
}
