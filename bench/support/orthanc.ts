/**
 * The reference system: Orthanc from Debian (orthanc, orthanc-dicomweb,
 * orthanc-postgresql) with its SQLite index or a PostgreSQL index in its own
 * cluster, configured as in the baseline (defaults except storage, ports,
 * DICOMweb on, no authentication). Ported from the planning notes' tool
 * shared/tools/orthanc_server.sh (the baseline's server script).
 *
 * Orthanc 1.10 has no bind address and listens on every interface, so it
 * only runs inside a private network namespace whose one interface is `lo`
 * (run.ts re-executes itself under `unshare --net`); there the fixed ports
 * (HTTP 8042, DICOM 4242, PostgreSQL 5433) clash with nobody.
 */
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HttpClient } from './http-client';

export type OrthancIndex = 'sqlite' | 'postgres';

export const orthancPackages = ['orthanc', 'orthanc-dicomweb', 'orthanc-postgresql', 'postgresql'] as const;
/** The generator and the zip reference need these too. */
export const benchPackages = [...orthancPackages, 'python3-pydicom', 'python3-numpy', 'zip'] as const;

const httpPort = 8042;
const postgresPort = 5433;

/** Installs the Debian packages that are missing (apt-get, as root). */
export function ensureDebianPackages(packages: readonly string[], log: (line: string) => void): void {
  const missing = packages.filter((name) => {
    try {
      return !execFileSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).includes('install ok installed');
    } catch {
      return true;
    }
  });
  if (missing.length === 0) return;
  log(`installing ${missing.join(', ')} with apt-get ...`);
  // policy-rc.d (where present) keeps the packages' own services from starting; they would not clash anyway.
  execFileSync('apt-get', ['update'], { stdio: 'inherit' });
  execFileSync('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

/** True inside a network namespace whose only interface is the loopback. */
export function inPrivateNetwork(): boolean {
  // /proc/net is the calling process's namespace (/sys/class/net would show the namespace /sys was mounted in).
  const interfaces = readFileSync('/proc/net/dev', 'utf8').split('\n').slice(2).map((line) => line.split(':')[0]?.trim()).filter(Boolean);
  return interfaces.length > 0 && interfaces.every((name) => name === 'lo');
}

function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a)) : [];
  if (!versions[0]) throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql (Debian package postgresql)');
  return join(root, versions[0], 'bin');
}

export function postgresServerVersion(): string {
  return execFileSync(join(postgresBin(), 'postgres'), ['--version'], { encoding: 'utf8' }).trim();
}

export interface OrthancServer {
  index: OrthancIndex;
  /** REST root, e.g. http://127.0.0.1:8042. */
  url: string;
  /** DICOMweb root. */
  dicomwebUrl: string;
  /** Orthanc, and the postmaster with PostgreSQL: the roots whose CPU is the server's. */
  pids: number[];
  orthancPid: number;
  /** "Orthanc 1.10.1; plugins: dicom-web 1.7, postgresql-index 4.0" */
  description: string;
  stop(): Promise<void>;
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

async function waitPidExit(pid: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A fresh Orthanc (empty storage and index) under `workDir`, answering on loopback. */
export async function startOrthanc(index: OrthancIndex, workDir: string, log: (line: string) => void): Promise<OrthancServer> {
  if (!inPrivateNetwork()) throw new Error('Orthanc listens on every interface: start it inside the private network namespace (bench/run.ts does)');
  const dir = join(workDir, `orthanc-${index}`);
  // Each run starts empty: storage, index and PostgreSQL cluster of an earlier run go.
  rmSync(dir, { recursive: true, force: true });
  rmSync(join(workDir, 'pg'), { recursive: true, force: true });
  for (const sub of ['config', 'storage', 'index']) mkdirSync(join(dir, sub), { recursive: true });
  const plugins = ['/usr/share/orthanc/plugins/libOrthancDicomWeb.so'];
  let postmasterPid: number | undefined;
  const stoppers: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of stoppers.reverse()) await s().catch(() => undefined);
    stoppers.length = 0;
  };
  try {
    if (index === 'postgres') {
      plugins.push('/usr/share/orthanc/plugins/libOrthancPostgreSQLIndex.so');
      const pgDir = join(workDir, 'pg');
      mkdirSync(join(pgDir, 'sock'), { recursive: true });
      // PostgreSQL refuses to run as root: the cluster belongs to the postgres user, who must reach it.
      chmodSync(workDir, 0o755);
      execFileSync('chown', ['-R', 'postgres:postgres', pgDir]);
      const bin = postgresBin();
      const asPostgres = (args: string[]) => execFileSync('runuser', ['-u', 'postgres', '--', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      asPostgres([join(bin, 'initdb'), '-D', join(pgDir, 'data'), '-U', 'postgres', '--auth=trust', '-E', 'UTF8']);
      asPostgres([join(bin, 'pg_ctl'), '-D', join(pgDir, 'data'), '-l', join(pgDir, 'server.log'), '-w', '-o', `-c listen_addresses=127.0.0.1 -c port=${postgresPort} -c unix_socket_directories=${join(pgDir, 'sock')}`, 'start']);
      postmasterPid = Number(readFileSync(join(pgDir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
      const pid = postmasterPid;
      stoppers.push(async () => {
        process.kill(pid, 'SIGINT'); // fast shutdown
        await waitPidExit(pid, 30_000);
      });
      asPostgres([join(bin, 'createdb'), '-h', '127.0.0.1', '-p', String(postgresPort), '-U', 'postgres', 'orthanc']);
      writeFileSync(join(dir, 'config', 'postgresql.json'), JSON.stringify({
        PostgreSQL: { EnableIndex: true, EnableStorage: false, Host: '127.0.0.1', Port: postgresPort, Database: 'orthanc', Username: 'postgres', Password: '', Lock: true },
      }, null, 2));
    }
    writeFileSync(join(dir, 'config', 'orthanc.json'), JSON.stringify({
      Name: `medlake-bench-${index}`,
      StorageDirectory: join(dir, 'storage'),
      IndexDirectory: join(dir, 'index'),
      Plugins: plugins,
      HttpServerEnabled: true,
      HttpPort: httpPort,
      RemoteAccessAllowed: false,
      AuthenticationEnabled: false,
      DicomServerEnabled: true,
      DicomPort: 4242,
      DicomAet: 'ORTHANC',
      DicomCheckCalledAet: false,
      DicomWeb: { Enable: true, Root: '/dicom-web/', EnableWado: true, WadoRoot: '/wado', Host: `127.0.0.1:${httpPort}`, Ssl: false },
    }, null, 2));
    const logFd = openSync(join(dir, 'orthanc.log'), 'a');
    const orthanc = spawn('Orthanc', [join(dir, 'config')], { stdio: ['ignore', logFd, logFd] });
    stoppers.push(async () => {
      orthanc.kill('SIGTERM');
      if (!(await waitExit(orthanc, 30_000))) orthanc.kill('SIGKILL');
    });
    const url = `http://127.0.0.1:${httpPort}`;
    const client = new HttpClient(url);
    let system: { Version?: string } | undefined;
    for (let i = 0; i < 240 && !system; i++) {
      if (orthanc.exitCode !== null) throw new Error(`Orthanc exited at start (see ${join(dir, 'orthanc.log')})`);
      try {
        const answer = await client.request('GET', '/system');
        if (answer.status === 200) system = JSON.parse(answer.body.toString('utf8')) as { Version?: string };
      } catch {
        // not listening yet
      }
      if (!system) await new Promise((r) => setTimeout(r, 250));
    }
    if (!system) throw new Error('Orthanc did not answer within 60 s');
    const pluginIds = JSON.parse((await client.request('GET', '/plugins')).body.toString('utf8')) as string[];
    const versions: string[] = [];
    for (const id of pluginIds.filter((p) => !p.includes('.'))) {
      const info = JSON.parse((await client.request('GET', `/plugins/${id}`)).body.toString('utf8')) as { Version?: string };
      versions.push(`${id} ${info.Version ?? '?'}`);
    }
    client.close();
    log(`orthanc-${index}: pid ${orthanc.pid}${postmasterPid ? `, postmaster ${postmasterPid}` : ''}`);
    return {
      index,
      url,
      dicomwebUrl: `${url}/dicom-web`,
      pids: [orthanc.pid as number, ...(postmasterPid ? [postmasterPid] : [])],
      orthancPid: orthanc.pid as number,
      description: `Orthanc ${system.Version ?? '?'}; plugins: ${versions.join(', ')}`,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Orthanc's own study ID for a Study Instance UID. */
export async function orthancStudyId(client: HttpClient, studyUid: string): Promise<string> {
  const answer = await client.request('POST', '/tools/lookup', { body: studyUid });
  const hits = answer.status === 200 ? (JSON.parse(answer.body.toString('utf8')) as { Type: string; ID: string }[]) : [];
  const study = hits.find((h) => h.Type === 'Study');
  if (!study) throw new Error(`Orthanc does not know study ${studyUid} (HTTP ${answer.status})`);
  return study.ID;
}
