/**
 * End-to-end ingest benchmark: a synthetic CT study goes through the real
 * path — POST /api/uploads, presigned PUTs to the S3 emulator, the S3 → SQS
 * event bridge, the ingest poller and its function instances
 * (de-identification, archive, PostgreSQL index, PHI vault) — with 4 parallel
 * upload clients, timed until every instance is queryable in the index.
 *
 *   npx tsx bench/ingest.bench.ts                     # 2 series x 300 slices (600 instances, ~315 MB)
 *   BENCH_SERIES=7 npx tsx bench/ingest.bench.ts      # the 2,100-instance, 1.1 GB study of the Orthanc baseline
 *   BENCH_CLIENTS=1 BENCH_RUNS=3 npx tsx bench/ingest.bench.ts
 *   BENCH_CORE=0 BENCH_EMULATOR=0 ...                 # end to end only
 *   MEDLAKE_QUEUE_CONCURRENCY=ingest=3 ...            # function instances for the ingest queue (default: one per core)
 *   MEDLAKE_CPU_PROF_DIR=/tmp/prof npx tsx --cpu-prof --cpu-prof-dir=/tmp/prof bench/ingest.bench.ts
 *                                                     # V8 profiles of every Node process; then
 *                                                     # npx tsx bench/tools/cpu-profile-summary.ts /tmp/prof
 *
 * Three measurements (each on a fresh local stack, so every instance is new):
 * - emulator (BENCH_EMULATOR=0 skips): the S3/SQS work of the pipeline alone,
 *   per instance one presigned PUT into quarantine, its S3 event, its receive
 *   and delete, one GET and one archive PUT of the same 0.5 MB object, through
 *   the same adapters the ingest function uses (bench/support/ingest-s3-ceiling.ts):
 *   the ceiling the emulator puts on the end-to-end figure on this machine;
 * - core (BENCH_CORE=0 skips): storeInstance (de-identify, archive PUT, index,
 *   vault) over the files from memory in this process, no upload, no queue;
 * - end to end (BENCH_RUNS, default 1): the upload workload above.
 * Every figure comes with CPU per instance split by process (this process: the
 * upload clients, the front door and the pollers; the emulator; the function
 * instances; PostgreSQL; everything else on the machine, i.e. other people's
 * work), so results stay readable on a shared, busy machine.
 *
 * Data are generated once into bench/data (ignored by git) by
 * bench/tools/gen_dicom.py (needs python3-pydicom and python3-numpy).
 * Compare with Orthanc on the same machine kind: plain ingest ≈ 510 inst/s
 * (4 clients, SQLite index; 247 inst/s with its PostgreSQL index), ingest +
 * anonymize ≈ 125 inst/s.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { closeIngestContext, createIngestContext } from '@medlake/functions/ingest/ingest-context';
import { ingestSettings } from '@medlake/functions/ingest/ingest-settings';
import { storeInstance } from '@medlake/functions/ingest/store-instance';
import { queueConcurrency } from '@medlake/local/stack';
import { startTestStack } from '../test/support/local-stack';
import { measureIngestCeiling } from './support/ingest-s3-ceiling';
import { hostBusySeconds, processTree } from './support/meter';
import { uploadAll, waitQueryable } from './support/medlake-upload';

const root = fileURLToPath(new URL('..', import.meta.url));
const series = Number(process.env.BENCH_SERIES ?? 2);
const slices = Number(process.env.BENCH_SLICES ?? 300);
const clients = Number(process.env.BENCH_CLIENTS ?? 4);
const runs = Number(process.env.BENCH_RUNS ?? 1);
const filesPerUpload = Number(process.env.BENCH_FILES_PER_UPLOAD ?? 50);
const dataDir = join(root, 'bench', 'data', `ct-${series}x${slices}`);

function ensureData(): string[] {
  if (!existsSync(join(dataDir, 'manifest.tsv'))) {
    console.log(`generating ${series} x ${slices} CT slices into ${dataDir} ...`);
    execFileSync('/usr/bin/python3', [join(root, 'bench', 'tools', 'gen_dicom.py'), '--patients', '1', '--series-per-study', String(series), '--slices', String(slices), '--modality', 'CT', '--seed', '11', '--out', dataDir], { stdio: 'inherit' });
  }
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.dcm')) files.push(path);
    }
  };
  walk(dataDir);
  return files;
}

type Part = 'bench process (clients, front door, pollers)' | 'S3/SQS emulator' | 'ingest function instances' | 'other function instances' | 'PostgreSQL' | 'cognito-local' | 'other';
const parts: Part[] = ['bench process (clients, front door, pollers)', 'S3/SQS emulator', 'ingest function instances', 'other function instances', 'PostgreSQL', 'cognito-local', 'other'];

/** What a child process of this one is, from its command line. */
function partOf(commandLine: string): Part {
  if (/aws-emulator-service/.test(commandLine)) return 'S3/SQS emulator';
  if (/lambda-runtime\S* \S*ingest\//.test(commandLine)) return 'ingest function instances';
  if (/lambda-runtime/.test(commandLine)) return 'other function instances';
  if (/postgres/.test(commandLine)) return 'PostgreSQL';
  if (/cognito-local/.test(commandLine)) return 'cognito-local';
  return 'other';
}

function cpuSeconds(pid: number): number {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // utime + stime + cutime + cstime: exited children (PostgreSQL backends, esbuild) count for their parent.
    return (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / 100;
  } catch {
    return 0;
  }
}

/** CPU seconds so far by part: this process, and each subtree of its children classified by the child's command line. */
function cpuByPart(): { byPid: Map<number, { part: Part; cpu: number }>; self: number; host: number } {
  const byPid = new Map<number, { part: Part; cpu: number }>();
  for (const child of processTree([process.pid])) {
    if (child === process.pid) continue;
    let top = child;
    for (let parent = parentOf(top); parent !== process.pid && parent > 1; parent = parentOf(top)) top = parent;
    let commandLine = '';
    try {
      commandLine = readFileSync(`/proc/${top}/cmdline`, 'utf8').replace(/\0/g, ' ');
    } catch {
      continue; // gone meanwhile
    }
    // A process and its exited children: a live descendant counts for itself, so nothing counts twice.
    byPid.set(child, { part: partOf(commandLine), cpu: cpuSeconds(child) });
  }
  const own = process.cpuUsage();
  return { byPid, self: (own.user + own.system) / 1e6, host: hostBusySeconds() };
}

function parentOf(pid: number): number {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return 1;
  }
}

interface CpuSplit {
  /** CPU seconds by part between the two readings. */
  seconds: Record<Part, number>;
  /** Whole machine busy, CPU seconds. */
  host: number;
}

function cpuSplit(before: ReturnType<typeof cpuByPart>, after: ReturnType<typeof cpuByPart>): CpuSplit {
  const seconds = Object.fromEntries(parts.map((p) => [p, 0])) as Record<Part, number>;
  seconds['bench process (clients, front door, pollers)'] = after.self - before.self;
  for (const [pid, { part, cpu }] of after.byPid) seconds[part] += Math.max(0, cpu - (before.byPid.get(pid)?.cpu ?? 0));
  const ours = Object.values(seconds).reduce((a, b) => a + b, 0);
  seconds.other += Math.max(0, after.host - before.host - ours);
  return { seconds, host: after.host - before.host };
}

function describeSplit(split: CpuSplit, instances: number, wallSeconds: number): string {
  const shown = parts.filter((p) => split.seconds[p] >= 0.005).map((p) => `${p === 'other' ? 'others on the machine' : p} ${((split.seconds[p] * 1000) / instances).toFixed(2)}`);
  return `CPU ms per instance: ${shown.join(' | ')}; machine busy ${(split.host / wallSeconds).toFixed(2)} of ${cpus().length} cores, load average ${loadavg()[0]?.toFixed(1)}`;
}

interface Figures { instancesPerSecond: number; mbPerSecond: number; split: CpuSplit }

async function run(files: readonly { name: string; bytes: Buffer }[], totalBytes: number, index: number): Promise<Figures> {
  const stack = await startTestStack();
  try {
    const user = await stack.createUser({ groups: ['uploader'] });
    // Each queue's first function instance is warm before the clock starts (its init is not ingest work); more scale out during the run.
    await Promise.all(Object.values(stack.pollers).map((p) => p.warm));
    const before = cpuByPart();
    const started = performance.now();
    await uploadAll(stack, user.idToken, files, { clients, filesPerUpload });
    const uploaded = performance.now();
    await waitQueryable(stack, files.length, 30 * 60_000);
    const done = performance.now();
    const split = cpuSplit(before, cpuByPart());
    const seconds = (done - started) / 1000;
    const { rows } = await stack.db.query<{ accepted: string; rejected: string; studies: string }>(
      `SELECT (SELECT coalesce(sum(instances_accepted), 0) FROM upload_files) AS accepted, (SELECT coalesce(sum(instances_rejected), 0) FROM upload_files) AS rejected, (SELECT count(*) FROM studies) AS studies`,
    );
    const result = { instancesPerSecond: files.length / seconds, mbPerSecond: totalBytes / 1e6 / seconds, split };
    console.log(`run ${index}: ${files.length} instances (${rows[0]?.accepted} accepted, ${rows[0]?.rejected} rejected, ${rows[0]?.studies} study), `
      + `${seconds.toFixed(2)} s end to end (uploads done after ${((uploaded - started) / 1000).toFixed(2)} s, ${stack.pollers.ingest?.status().instances ?? 0} ingest instances): `
      + `${result.instancesPerSecond.toFixed(0)} inst/s, ${result.mbPerSecond.toFixed(1)} MB/s\n  ${describeSplit(split, files.length, seconds)}`);
    return result;
  } finally {
    await stack.stop();
  }
}

/**
 * The ingest core alone, in this process: storeInstance (de-identify, archive
 * PUT, index transaction, vault) over the files from memory with the same
 * concurrency as the handler, no uploads, no queue. What one ingest Lambda
 * container does once its inputs are read.
 */
async function core(files: readonly { name: string; bytes: Buffer }[], totalBytes: number): Promise<void> {
  const stack = await startTestStack({ queueHandlers: { ingest: false } });
  try {
    const context = await createIngestContext();
    // The other queues' instances initialise first: their init is not ingest work.
    await Promise.all(Object.values(stack.pollers).map((p) => p.warm));
    const before = cpuByPart();
    const started = performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: context.settings.concurrency }, async () => {
      while (next < files.length) {
        const file = files[next++] as { bytes: Buffer };
        const result = await storeInstance(file.bytes, { uploadId: undefined, fileIndex: undefined, via: 'stow' }, context);
        if (result.outcome !== 'accepted') throw new Error(`not accepted: ${result.reason ?? result.outcome}`);
      }
    }));
    const seconds = (performance.now() - started) / 1000;
    const split = cpuSplit(before, cpuByPart());
    console.log(`core (storeInstance x ${context.settings.concurrency} in this process, archive PUTs to the emulator): ${(files.length / seconds).toFixed(0)} inst/s, ${(totalBytes / 1e6 / seconds).toFixed(1)} MB/s\n  ${describeSplit(split, files.length, seconds)}`);
    await context.db.end();
  } finally {
    await closeIngestContext();
    await stack.stop();
  }
}

/** The emulator's share alone: the same S3 and SQS requests per instance, without ingest (bench/support/ingest-s3-ceiling.ts). */
async function emulatorCeiling(files: readonly { name: string; bytes: Buffer }[], totalBytes: number): Promise<void> {
  const stack = await startTestStack({ queueHandlers: { ingest: false, export: false, notify: false } });
  try {
    const consumers = queueConcurrency().ingest;
    const inFlight = ingestSettings().concurrency;
    const before = cpuByPart();
    const result = await measureIngestCeiling({ endpoint: stack.endpoints.aws, quarantineBucket: stack.buckets.quarantine, archiveBucket: stack.buckets.archive, files, clients, consumers, inFlight });
    const split = cpuSplit(before, cpuByPart());
    console.log(`emulator alone (presigned PUT + event per instance, ${clients} uploading: ${result.uploadSeconds.toFixed(1)} s; then receive + GET + archive PUT + delete, ${consumers} x ${inFlight} consuming: ${result.processSeconds.toFixed(1)} s; ${result.files} objects): ${(files.length / result.seconds).toFixed(0)} inst/s, ${(totalBytes / 1e6 / result.seconds).toFixed(1)} MB/s\n  ${describeSplit(split, files.length, result.seconds)}`);
  } finally {
    await stack.stop();
  }
}

const paths = ensureData();
const files = paths.map((path, i) => ({ name: `IM${String(i).padStart(5, '0')}.dcm`, bytes: readFileSync(path) }));
const totalBytes = files.reduce((sum, f) => sum + f.bytes.length, 0);
console.log(`ingest benchmark: ${files.length} CT instances, ${(totalBytes / 1e6).toFixed(0)} MB, ${clients} clients, ${filesPerUpload} files per upload batch, ${runs} run(s)`);
if (process.env.BENCH_EMULATOR !== '0') await emulatorCeiling(files, totalBytes);
if (process.env.BENCH_CORE !== '0') await core(files, totalBytes);
const results: Figures[] = [];
for (let i = 1; i <= runs; i++) results.push(await run(files, totalBytes, i));
if (results.length === 0) process.exit(0);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
const ips = median(results.map((r) => r.instancesPerSecond));
const mbs = median(results.map((r) => r.mbPerSecond));
const medianSplit = Object.fromEntries(parts.map((p) => [p, median(results.map((r) => r.split.seconds[p]))])) as Record<Part, number>;
console.log(`median of ${results.length}: ${ips.toFixed(0)} inst/s, ${mbs.toFixed(1)} MB/s; CPU ms per instance (medians): ${parts.map((p) => `${p === 'other' ? 'others on the machine' : p} ${((medianSplit[p] * 1000) / files.length).toFixed(2)}`).join(' | ')}`);
console.log(`vs Orthanc plain ingest (510 inst/s, 4 clients, SQLite): ${(ips / 510).toFixed(2)}x; vs Orthanc + PostgreSQL (247 inst/s): ${(ips / 247).toFixed(2)}x; vs Orthanc ingest + anonymize (~125 inst/s): ${(ips / 125).toFixed(2)}x`);
process.exit(0);
