/**
 * The local stack for integration tests: the same components as `npm run dev`
 * (local/src/stack.ts) in a temporary directory on random ports, plus what
 * tests need — users with groups and their tokens, an HTTP client for the
 * front door, S3/SQS/Cognito clients, a pg pool, waitForIngestIdle(), the mail
 * outbox — and stop(), which tears everything down and removes the directory.
 *
 *   let stack: TestStack;
 *   beforeAll(async () => { stack = await startTestStack(); });
 *   afterAll(() => stack?.stop());
 *
 * Differences from dev, all deliberate: every Cognito code is
 * `testConfirmationCode`; queues' visibility timeouts are 30 s (so a failed
 * message comes back within a test) unless `queueSettings` says otherwise;
 * handler logs are silent (POWERTOOLS_LOG_LEVEL=SILENT) unless
 * MEDLAKE_TEST_LOG=1, which also prints the stack's own log lines.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdminAddUserToGroupCommand, CognitoIdentityProviderClient, InitiateAuthCommand } from '@aws-sdk/client-cognito-identity-provider';
import { S3Client } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import pg from 'pg';
import type { QueueId, Role } from '@medlake/shared/resources';
import { queues } from '@medlake/shared/resources';
import type { LocalStack, LocalStackOptions } from '@medlake/local/stack';
import { generatePassword, startLocalStack } from '@medlake/local/stack';
import { ensureUser } from '@medlake/local/cognito';
import type { OutboxMail } from './mail-outbox';
import { readOutbox } from './mail-outbox';

export type { OutboxMail } from './mail-outbox';

export const testConfirmationCode = '246810';
export const testAdmin = { email: 'admin@medlake.test', password: 'Admin-pass-1!' } as const;

export interface TestStackOptions extends Partial<Omit<LocalStackOptions, 'dataDir'>> {
  /** Keep the temporary directory after stop() (to inspect a failure). */
  keepDataDir?: boolean;
  /** Use this directory instead of a new temporary one (restart tests); never removed by stop(). */
  dataDir?: string;
}

export interface Tokens {
  idToken: string;
  accessToken: string;
  refreshToken: string;
}

export interface TestUser extends Tokens {
  email: string;
  password: string;
  /** Cognito username (the user's sub). */
  username: string;
  groups: Role[];
}

export interface TestResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON when the answer is JSON, the text otherwise ('' when empty). */
  body: unknown;
  text: string;
}

export interface RequestInit {
  method?: string;
  /** Sent as `Authorization: Bearer <token>` (an ID or access token). */
  token?: string;
  /** Sent as JSON (content-type application/json). */
  json?: unknown;
  /** A raw body (with its own content-type header). */
  body?: string | Uint8Array;
  headers?: Record<string, string>;
}

export interface QueueDepth {
  visible: number;
  inFlight: number;
  delayed: number;
}

export interface TestStack extends LocalStack {
  s3: S3Client;
  sqs: SQSClient;
  cognito: CognitoIdentityProviderClient;
  /** A pool on the stack's database (closed by stop()). */
  db: pg.Pool;
  confirmationCode: string;
  /** A confirmed user with a permanent password, in `groups`, signed in with the web client. */
  createUser(user?: { email?: string; password?: string; groups?: readonly Role[] }): Promise<TestUser>;
  /** USER_PASSWORD_AUTH with the web (default) or gateway client. */
  signIn(email: string, password: string, client?: 'web' | 'gateway'): Promise<Tokens>;
  /** A request to the front door. */
  request(path: string, init?: RequestInit): Promise<TestResponse>;
  /** Resolves once every queue with a running handler is empty and no batch is in flight. */
  waitForIngestIdle(options?: { timeoutMs?: number; queues?: readonly QueueId[] }): Promise<void>;
  queueDepth(id: QueueId, options?: { deadLetter?: boolean }): Promise<QueueDepth>;
  /** Every email written so far, oldest first. */
  outbox(): Promise<OutboxMail[]>;
  /** Waits for an email matching `predicate` (e.g. by recipient). */
  waitForMail(predicate: (mail: OutboxMail) => boolean, timeoutMs?: number): Promise<OutboxMail>;
}

let userCounter = 0;

export async function startTestStack(options: TestStackOptions = {}): Promise<TestStack> {
  const { keepDataDir, dataDir: givenDir, ...rest } = options;
  const dataDir = givenDir ?? mkdtempSync(join(tmpdir(), 'medlake-test-'));
  const verbose = Boolean(process.env.MEDLAKE_TEST_LOG);
  process.env.POWERTOOLS_LOG_LEVEL ??= verbose ? 'DEBUG' : 'SILENT';
  const queueSettings = Object.fromEntries(queues.map((q) => [q.id, { visibilityTimeoutSeconds: 30, ...rest.queueSettings?.[q.id] }]));
  let local: LocalStack;
  try {
    local = await startLocalStack({
      port: 0,
      componentPorts: { aws: 0, cognito: 0, postgres: 0 },
      fixedConfirmationCode: testConfirmationCode,
      admin: { ...testAdmin },
      pollWaitSeconds: 1,
      ...(verbose ? { log: (line: string) => console.error(`[stack] ${line}`) } : {}),
      ...rest,
      queueSettings,
      dataDir,
    });
  } catch (error) {
    if (!givenDir && !keepDataDir) rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }

  const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
  const region = local.env.AWS_REGION ?? 'us-east-1';
  const s3 = new S3Client({ endpoint: local.endpoints.aws, region, forcePathStyle: true, credentials });
  const sqs = new SQSClient({ endpoint: local.endpoints.aws, region, credentials });
  const cognito = new CognitoIdentityProviderClient({ endpoint: local.endpoints.cognito, region, credentials });
  const db = new pg.Pool({ connectionString: local.env.DATABASE_URL, max: 4 });
  db.on('error', () => undefined);
  const poolId = local.env.USER_POOL_ID as string;
  const clientIds = { web: local.env.WEB_CLIENT_ID as string, gateway: local.env.GATEWAY_CLIENT_ID as string };

  const signIn = async (email: string, password: string, client: 'web' | 'gateway' = 'web'): Promise<Tokens> => {
    const auth = await cognito.send(new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: clientIds[client], AuthParameters: { USERNAME: email, PASSWORD: password } }));
    const result = auth.AuthenticationResult;
    if (!result?.IdToken || !result.AccessToken || !result.RefreshToken) throw new Error(`sign-in of ${email} returned no tokens`);
    return { idToken: result.IdToken, accessToken: result.AccessToken, refreshToken: result.RefreshToken };
  };

  const queueDepth = async (id: QueueId, depthOptions: { deadLetter?: boolean } = {}): Promise<QueueDepth> => {
    const info = local.queues[id];
    const url = depthOptions.deadLetter ? info.deadLetter.url : info.url;
    const { Attributes: a = {} } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'] }),
    );
    return { visible: Number(a.ApproximateNumberOfMessages ?? 0), inFlight: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0), delayed: Number(a.ApproximateNumberOfMessagesDelayed ?? 0) };
  };

  const isIdle = async (ids: readonly QueueId[]): Promise<string | undefined> => {
    for (const id of ids) {
      const poller = local.pollers[id];
      if (!poller || poller.status().state !== 'polling') continue;
      if (poller.status().busy) return `${id}: a batch is being handled`;
      const depth = await queueDepth(id);
      if (depth.visible + depth.inFlight + depth.delayed > 0) return `${id}: ${depth.visible} waiting, ${depth.inFlight} in flight, ${depth.delayed} delayed`;
      if (poller.status().busy) return `${id}: a batch is being handled`;
    }
    return undefined;
  };

  const stack: TestStack = {
    ...local,
    s3,
    sqs,
    cognito,
    db,
    confirmationCode: testConfirmationCode,
    signIn,
    async createUser(user = {}) {
      userCounter++;
      const email = user.email ?? `user-${process.pid}-${userCounter}@medlake.test`;
      const password = user.password ?? generatePassword();
      const groups = [...(user.groups ?? [])];
      const { username } = await ensureUser(cognito, poolId, { email, password, groups: [] });
      for (const group of groups) await cognito.send(new AdminAddUserToGroupCommand({ UserPoolId: poolId, Username: username, GroupName: group }));
      return { email, password, username, groups, ...(await signIn(email, password)) };
    },
    async request(path, init = {}) {
      const headers: Record<string, string> = { ...init.headers };
      if (init.token) headers.authorization = `Bearer ${init.token}`;
      let body: string | Uint8Array | undefined = init.body;
      if (init.json !== undefined) {
        headers['content-type'] ??= 'application/json';
        body = JSON.stringify(init.json);
      }
      const res = await fetch(`${local.url}${path}`, { method: init.method ?? (body === undefined ? 'GET' : 'POST'), headers, ...(body !== undefined ? { body } : {}) });
      const text = await res.text();
      const isJson = /json/.test(res.headers.get('content-type') ?? '');
      let parsed: unknown = text;
      if (isJson && text) {
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = text;
        }
      }
      return { status: res.status, headers: res.headers, body: parsed, text };
    },
    async waitForIngestIdle(waitOptions = {}) {
      const ids = waitOptions.queues ?? queues.map((q) => q.id);
      const deadline = Date.now() + (waitOptions.timeoutMs ?? 120_000);
      let calmChecks = 0;
      let lastReason = '';
      // Two idle readings in a row: a message between receive and hand-over is never missed.
      while (calmChecks < 2) {
        const reason = await isIdle(ids);
        if (reason) {
          calmChecks = 0;
          lastReason = reason;
          if (Date.now() > deadline) throw new Error(`queues not idle after ${waitOptions.timeoutMs ?? 120_000} ms (${lastReason})`);
        } else {
          calmChecks++;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    queueDepth,
    outbox: () => readOutbox(local.outboxDir),
    async waitForMail(predicate, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = (await readOutbox(local.outboxDir)).find(predicate);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no matching email in ${local.outboxDir} after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      s3.destroy();
      sqs.destroy();
      cognito.destroy();
      await db.end().catch(() => undefined);
      await local.stop();
      if (!givenDir && !keepDataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return stack;
}
