/**
 * `npm run dev` as a developer runs it (local/src/dev.ts in its own process):
 * it starts, prints where to click and the first admin once, keeps data across
 * restarts, recovers from a killed run, wipes everything with --reset, stops
 * every child on Ctrl-C and explains a taken port in one line.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:net';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { isAlive, portInUse, waitForExit } from '@medlake/local/processes';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'medlake-dev-'));
const running: ChildProcess[] = [];

afterAll(async () => {
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  // A PostgreSQL orphaned by a failed test must not outlive the file.
  const pidFile = join(dataDir, 'postgres', 'postmaster.pid');
  if (existsSync(pidFile)) {
    const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
    if (pid > 0 && isAlive(pid)) {
      process.kill(pid, 'SIGINT');
      await waitForExit(pid, 10_000);
    }
  }
  rmSync(dataDir, { recursive: true, force: true });
});

/** A front door port whose three successors (the components) are free too. */
async function freePortBlock(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 40_000);
    const taken = await Promise.all([0, 1, 2, 3].map((i) => portInUse(base + i)));
    if (!taken.some(Boolean)) return base;
  }
  throw new Error('no free block of 4 ports');
}

interface Dev {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function startDev(port: number, args: string[] = []): Dev {
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/src/dev.ts', ...args], {
    cwd: repoRoot,
    env: { ...process.env, PORT: String(port), MEDLAKE_DATA_DIR: dataDir, MEDLAKE_SKIP_WEB_BUILD: '1', MEDLAKE_ADMIN_EMAIL: '', MEDLAKE_ADMIN_PASSWORD: '', DATABASE_URL: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.push(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function waitForOutput(dev: Dev, pattern: RegExp, timeoutMs = 60_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = dev.output().match(pattern);
    if (match) return match;
    if (dev.child.exitCode !== null) throw new Error(`dev exited (${dev.child.exitCode}) before printing ${pattern}:\n${dev.output()}`);
    if (Date.now() > deadline) throw new Error(`dev did not print ${pattern} within ${timeoutMs} ms:\n${dev.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function signIn(url: string, email: string, password: string): Promise<number> {
  const res = await fetch(`${url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
  await res.arrayBuffer();
  return res.status;
}

function s3For(port: number): S3Client {
  return new S3Client({ endpoint: `http://127.0.0.1:${port + 1}`, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
}

async function stopWithCtrlC(dev: Dev): Promise<number | null> {
  dev.child.kill('SIGINT');
  return dev.exited;
}

describe('npm run dev', () => {
  let port: number;
  let admin: { email: string; password: string };
  const quarantine = 'medlake-local-quarantine';

  it('starts everything, prints the URL, the first admin once, the outbox and the endpoints; health is ok; Ctrl-C stops every process', async () => {
    port = await freePortBlock();
    const dev = startDev(port);
    await waitForOutput(dev, /Press Ctrl-C to stop/);
    const out = dev.output();
    expect(out).toContain(`medlake is running: http://localhost:${port}`);
    const email = /email\s+(\S+)/.exec(out)?.[1];
    const password = /password\s+(\S+)/.exec(out)?.[1];
    expect(email && password).toBeTruthy();
    admin = { email: email as string, password: password as string };
    expect(out).toMatch(/Mail\s+\S*outbox\/ /);
    expect(out).toContain(`S3 + SQS    http://127.0.0.1:${port + 1}`);
    expect(out).toContain(`Cognito     http://127.0.0.1:${port + 2}`);
    expect(out).toMatch(new RegExp(`PostgreSQL  postgres://postgres:\\*\\*\\*@127\\.0\\.0\\.1:${port + 3}/`));

    const health = await fetch(`http://localhost:${port}/api/health`);
    expect(health.status).toBe(200);
    expect(await signIn(`http://localhost:${port}`, admin.email, admin.password)).toBe(200);
    await s3For(port).send(new PutObjectCommand({ Bucket: quarantine, Key: 'kept/across-restarts.txt', Body: 'still here' }));

    const postgresPid = Number(readFileSync(join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
    expect(isAlive(postgresPid)).toBe(true);
    expect(await stopWithCtrlC(dev)).toBe(0);
    expect(dev.output()).toContain('Stopped.');
    expect(await waitForExit(postgresPid, 5_000)).toBe(true);
    for (const offset of [0, 1, 2, 3]) expect(await portInUse(port + offset), `port ${port + offset} released`).toBe(false);
  });

  it('a restart keeps objects, users and the database, and does not print the password again', async () => {
    const dev = startDev(port);
    await waitForOutput(dev, /Press Ctrl-C to stop/);
    expect(dev.output()).not.toContain(admin.password);
    expect(dev.output()).toContain(`Admin       ${admin.email} (password in`);
    const object = await s3For(port).send(new GetObjectCommand({ Bucket: quarantine, Key: 'kept/across-restarts.txt' }));
    expect(await object.Body?.transformToString()).toBe('still here');
    // The sign-in of the first run is still in the audit log.
    const db = new pg.Client({ connectionString: `postgres://postgres:postgres@127.0.0.1:${port + 3}/postgres` });
    await db.connect();
    const { rows } = await db.query<{ n: string }>("SELECT count(*) AS n FROM audit_log WHERE action = 'session.sign-in' AND outcome = 'ok'");
    await db.end();
    expect(Number(rows[0]?.n)).toBeGreaterThanOrEqual(1);
    expect(await signIn(`http://localhost:${port}`, admin.email, admin.password)).toBe(200);
    dev.child.kill('SIGKILL');
    await dev.exited;
  });

  it('after the dev process was killed, the next start stops the PostgreSQL it left behind and comes up', async () => {
    const pidFile = join(dataDir, 'postgres', 'postmaster.pid');
    const orphan = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
    expect(isAlive(orphan)).toBe(true);
    const dev = startDev(port);
    await waitForOutput(dev, /Press Ctrl-C to stop/);
    expect(dev.output()).toContain(`stopped a PostgreSQL server left running by a previous run (pid ${orphan})`);
    expect(isAlive(orphan)).toBe(false);
    expect(await signIn(`http://localhost:${port}`, admin.email, admin.password)).toBe(200);
    expect(await stopWithCtrlC(dev)).toBe(0);
  });

  it('--reset wipes the data: objects and users are gone and a new admin is printed', async () => {
    const dev = startDev(port, ['--reset']);
    await waitForOutput(dev, /Press Ctrl-C to stop/);
    const password = /password\s+(\S+)/.exec(dev.output())?.[1];
    expect(password).toBeTruthy();
    expect(password).not.toBe(admin.password);
    await expect(s3For(port).send(new GetObjectCommand({ Bucket: quarantine, Key: 'kept/across-restarts.txt' }))).rejects.toMatchObject({ name: 'NoSuchKey' });
    expect(await signIn(`http://localhost:${port}`, admin.email, admin.password)).toBe(401);
    expect(await signIn(`http://localhost:${port}`, admin.email, password as string)).toBe(200);
    expect(await stopWithCtrlC(dev)).toBe(0);
  });

  it('a second start on the same data directory is refused while the first runs', async () => {
    const first = startDev(port);
    await waitForOutput(first, /Press Ctrl-C to stop/);
    const other = await freePortBlock();
    const second = startDev(other);
    expect(await second.exited).toBe(1);
    expect(second.output()).toMatch(/^medlake: medlake is already running from .* \(pid \d+\): stop it first, or use another MEDLAKE_DATA_DIR\.$/m);
    // The first one was not disturbed.
    expect((await fetch(`http://localhost:${port}/api/health`)).status).toBe(200);
    expect(await stopWithCtrlC(first)).toBe(0);
  });

  it('a port already in use is one clear line, not a stack trace', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    try {
      const dev = startDev(port);
      expect(await dev.exited).toBe(1);
      const lines = dev.output().trim().split('\n').filter((l) => l.startsWith('medlake:'));
      expect(lines).toEqual([`medlake: Port ${port} is already in use on 127.0.0.1: stop the other server or start with PORT=<another port>.`]);
      expect(dev.output()).not.toMatch(/^\s+at /m);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
