/**
 * medlake as the benchmark drives it from outside: the stack in a child
 * process (medlake-server.ts), the export worker in another
 * (medlake-export-worker.ts), and here the client side — tokens of an uploader
 * and a researcher (renewed through Cognito), a pool on the stack's database
 * (to know when ingest is done), the DICOMweb client, the ingest workload
 * (medlake-upload.ts), the export workload, and the mapping from the
 * generated data's identifiers to the pseudonyms and UIDs medlake stored
 * (the same keyed functions the de-identification uses).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { CognitoIdentityProviderClient, InitiateAuthCommand } from '@aws-sdk/client-cognito-identity-provider';
import pg from 'pg';
import { loadDeidKey } from '@medlake/functions/adapters/deid-key';
import { patientPseudonym } from '@medlake/shared/dicom/pseudonym';
import { remapUid } from '@medlake/shared/dicom/uid';
import { localCredentials, region, repoRoot } from '@medlake/local/stack';
import type { RequestInit, TestResponse } from '../../test/support/local-stack';
import { HttpClient } from './http-client';
import type { MedlakeServerInfo } from './medlake-server';
import type { UploadFile } from './medlake-upload';
import { direct, uploadAll, waitQueryable } from './medlake-upload';

export interface MedlakeOptions {
  /** Write V8 CPU profiles of the server and the export worker here (--cpu-prof). */
  profileDir?: string;
  log: (line: string) => void;
}

export interface MedlakeSystem {
  info: MedlakeServerInfo;
  /** Roots of medlake's process trees: server (with its PostgreSQL) and export worker. */
  pids: number[];
  exportWorkerPid: number;
  db: pg.Pool;
  /** DICOMweb root with the researcher's token. */
  dicomweb: HttpClient;
  postgresVersion: string;
  /** Renews both tokens (call before each workload: ID tokens live an hour). */
  refreshTokens(): Promise<void>;
  ingest(files: readonly UploadFile[], options: { clients: number; filesPerUpload: number; expectedTotal: number; timeoutMs: number }): Promise<void>;
  exportStudy(studyUid: string): Promise<ExportOutcome>;
  /** The identifier medlake stored for an original UID / Patient ID of the generated data. */
  uid(original: string): string;
  patientId(original: string): string;
  stop(): Promise<void>;
}

export interface ExportOutcome {
  /** POST /api/exports until the export reads `done`. */
  jobSeconds: number;
  downloadSeconds: number;
  zipBytes: number;
  files: number;
  /** First bytes of the zip (PK\x03\x04...). */
  head: Buffer;
}

function startChild(file: string, options: MedlakeOptions, env: NodeJS.ProcessEnv = process.env): ChildProcess {
  // Through NODE_OPTIONS the processes these start (emulator, function instances) write profiles too.
  const profiling = options.profileDir ? { NODE_OPTIONS: `${env.NODE_OPTIONS ?? ''} --cpu-prof --cpu-prof-dir=${options.profileDir}`.trim() } : {};
  return spawn(process.execPath, ['--import', 'tsx', file], { cwd: repoRoot, env: { ...env, ...profiling }, stdio: ['pipe', 'pipe', 'inherit'] });
}

function firstLine(child: ChildProcess, what: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    const timer = setTimeout(() => reject(new Error(`${what} did not start within ${timeoutMs / 1000} s`)), timeoutMs);
    lines.once('line', (line) => {
      clearTimeout(timer);
      resolve(line);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code}) before it was ready`));
    });
  });
}

async function stopChild(child: ChildProcess, ms: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.stdin?.end(); // the child stops when its stdin closes (and on SIGTERM)
  const timer = setTimeout(() => child.kill('SIGTERM'), ms);
  const hard = setTimeout(() => child.kill('SIGKILL'), ms * 2);
  await exited;
  clearTimeout(timer);
  clearTimeout(hard);
}

export async function startMedlake(options: MedlakeOptions): Promise<MedlakeSystem> {
  const server = startChild(new URL('./medlake-server.ts', import.meta.url).pathname, options);
  let worker: ChildProcess | undefined;
  let db: pg.Pool | undefined;
  const stop = async () => {
    await db?.end().catch(() => undefined);
    if (worker) await stopChild(worker, 30_000);
    await stopChild(server, 60_000);
  };
  try {
    const info = JSON.parse(await firstLine(server, 'the medlake stack', 300_000)) as MedlakeServerInfo;
    worker = startChild(new URL('./medlake-export-worker.ts', import.meta.url).pathname, options, { ...process.env, MEDLAKE_BENCH_STACK: JSON.stringify(info) });
    const ready = await firstLine(worker, 'the export worker', 120_000);
    if (ready.trim() !== 'ready') throw new Error(`export worker: ${ready}`);
    const pool = new pg.Pool({ connectionString: info.env.DATABASE_URL, max: 2 });
    pool.on('error', () => undefined);
    db = pool;
    const postgresVersion = (await pool.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]?.v ?? '?';
    const key = await loadDeidKey(info.env);
    const cognito = new CognitoIdentityProviderClient({ endpoint: info.endpoints.cognito, region, credentials: localCredentials });
    const tokens = { uploader: '', researcher: '' };
    const signIn = async (user: { email: string; password: string }) => {
      const auth = await cognito.send(new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: info.env.WEB_CLIENT_ID, AuthParameters: { USERNAME: user.email, PASSWORD: user.password } }));
      const token = auth.AuthenticationResult?.IdToken;
      if (!token) throw new Error(`sign-in of ${user.email} returned no token`);
      return token;
    };
    const dicomweb = new HttpClient(`${info.url}/dicomweb`, {});
    const refreshTokens = async () => {
      tokens.uploader = await signIn(info.users.uploader);
      tokens.researcher = await signIn(info.users.researcher);
      dicomweb.setHeader('authorization', `Bearer ${tokens.researcher}`);
    };
    await refreshTokens();

    const request = async (path: string, init: RequestInit = {}): Promise<TestResponse> => {
      const headers: Record<string, string> = { ...init.headers };
      if (init.token) headers.authorization = `Bearer ${init.token}`;
      let body: string | Uint8Array | undefined = init.body;
      if (init.json !== undefined) {
        headers['content-type'] ??= 'application/json';
        body = JSON.stringify(init.json);
      }
      const res = await fetch(`${info.url}${path}`, { method: init.method ?? (body === undefined ? 'GET' : 'POST'), headers, ...(body !== undefined ? { body } : {}) });
      const text = await res.text();
      let parsed: unknown = text;
      if (/json/.test(res.headers.get('content-type') ?? '') && text) parsed = JSON.parse(text);
      return { status: res.status, headers: res.headers, body: parsed, text };
    };
    const stack = { request, env: info.env, endpoints: { aws: info.endpoints.aws }, db: pool };

    const exportStudy = async (studyUid: string): Promise<ExportOutcome> => {
      const t0 = performance.now();
      const created = await request('/api/exports', {
        token: tokens.researcher,
        json: { name: 'benchmark', studies: [studyUid], options: { reports: false, annotations: false, compression: 'store' } },
      });
      if (created.status !== 202) throw new Error(`POST /api/exports answered ${created.status}: ${created.text.slice(0, 300)}`);
      const { exportId } = created.body as { exportId: string };
      let state = '';
      let files = 0;
      while (state !== 'done') {
        await new Promise((r) => setTimeout(r, 100));
        const current = await request(`/api/exports/${exportId}`, { token: tokens.researcher });
        const body = current.body as { state: string; failure?: { code: string; message: string } | null; zip?: { files: number } | null };
        state = body.state;
        files = body.zip?.files ?? 0;
        if (state === 'failed' || state === 'cancelled') throw new Error(`export ${state}: ${body.failure?.code ?? ''} ${body.failure?.message ?? ''}`);
        if (performance.now() - t0 > 1_800_000) throw new Error(`export still ${state} after 30 min`);
      }
      const jobSeconds = (performance.now() - t0) / 1000;
      const link = await request(`/api/exports/${exportId}/download?redirect=false`, { token: tokens.researcher });
      if (link.status !== 200) throw new Error(`download link: HTTP ${link.status} ${link.text.slice(0, 200)}`);
      const url = new URL(direct(stack, (link.body as { url: string }).url));
      const t1 = performance.now();
      const download = new HttpClient(url.origin);
      const answer = await download.drain('GET', url.pathname + url.search);
      download.close();
      if (answer.status !== 200) throw new Error(`zip download: HTTP ${answer.status}`);
      return { jobSeconds, downloadSeconds: (performance.now() - t1) / 1000, zipBytes: answer.bytes, files, head: answer.head };
    };

    const exportWorker = worker;
    return {
      info,
      pids: [server.pid as number, ...(info.postmasterPid ? [info.postmasterPid] : []), exportWorker.pid as number],
      exportWorkerPid: exportWorker.pid as number,
      db: pool,
      dicomweb,
      postgresVersion,
      refreshTokens,
      async ingest(files, ingestOptions) {
        await uploadAll(stack, () => tokens.uploader, files, ingestOptions);
        await waitQueryable(stack, ingestOptions.expectedTotal, ingestOptions.timeoutMs);
      },
      exportStudy,
      uid: (original) => remapUid(key, original),
      patientId: (original) => patientPseudonym(key, undefined, original),
      async stop() {
        dicomweb.close();
        cognito.destroy();
        await stop();
      },
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
