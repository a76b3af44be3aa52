/**
 * End-to-end ingest benchmark: a synthetic CT study goes through the real
 * path — POST /api/uploads, presigned PUTs to the S3 emulator, the S3 → SQS
 * event bridge, the ingest poller and handler (de-identification, archive,
 * PostgreSQL index, PHI vault) — with 4 parallel upload clients, timed until
 * every instance is queryable in the index.
 *
 *   npx tsx bench/ingest.bench.ts                     # 2 series x 300 slices (600 instances, ~315 MB)
 *   BENCH_SERIES=7 npx tsx bench/ingest.bench.ts      # the 2,100-instance, 1.1 GB study of the Orthanc baseline
 *   BENCH_CLIENTS=1 BENCH_RUNS=3 npx tsx bench/ingest.bench.ts
 *
 * Data are generated once into bench/data (ignored by git) by
 * bench/tools/gen_dicom.py (needs python3-pydicom and python3-numpy). Each run
 * uses a fresh local stack, so every instance is new to the lake.
 * Compare with Orthanc on the same machine kind: plain ingest ≈ 510 inst/s
 * (4 clients, SQLite index; 247 inst/s with its PostgreSQL index), ingest +
 * anonymize ≈ 125 inst/s.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { closeIngestContext, createIngestContext } from '@medlake/functions/ingest/ingest-context';
import { storeInstance } from '@medlake/functions/ingest/store-instance';
import { startTestStack } from '../test/support/local-stack';
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

/** CPU seconds (user + system) of PostgreSQL: the postmaster, its live backends and those that exited. */
function postgresCpuSeconds(dataDir: string): number {
  const pidFile = join(dataDir, 'postgres', 'postmaster.pid');
  if (!existsSync(pidFile)) return 0;
  const postmaster = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  const ticks = 100;
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const pid = Number(entry);
    const ppid = Number(fields[1]);
    if (pid === postmaster) total += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    else if (ppid === postmaster) total += Number(fields[11]) + Number(fields[12]);
  }
  return total / ticks;
}

async function run(files: readonly { name: string; bytes: Buffer }[], totalBytes: number, index: number): Promise<{ instancesPerSecond: number; mbPerSecond: number; uploadSeconds: number; totalSeconds: number }> {
  const stack = await startTestStack();
  try {
    const user = await stack.createUser({ groups: ['uploader'] });
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    const pgBefore = postgresCpuSeconds(stack.dataDir);
    await uploadAll(stack, user.idToken, files, { clients, filesPerUpload });
    const uploaded = performance.now();
    await waitQueryable(stack, files.length, 30 * 60_000);
    const done = performance.now();
    const cpu = process.cpuUsage(cpuBefore);
    const nodeCpuMs = (cpu.user + cpu.system) / 1000;
    const pgCpuMs = (postgresCpuSeconds(stack.dataDir) - pgBefore) * 1000;
    const seconds = (done - started) / 1000;
    const { rows } = await stack.db.query<{ accepted: string; rejected: string; studies: string }>(
      `SELECT (SELECT coalesce(sum(instances_accepted), 0) FROM upload_files) AS accepted, (SELECT coalesce(sum(instances_rejected), 0) FROM upload_files) AS rejected, (SELECT count(*) FROM studies) AS studies`,
    );
    const result = { instancesPerSecond: files.length / seconds, mbPerSecond: totalBytes / 1e6 / seconds, uploadSeconds: (uploaded - started) / 1000, totalSeconds: seconds };
    console.log(`run ${index}: ${files.length} instances (${rows[0]?.accepted} accepted, ${rows[0]?.rejected} rejected, ${rows[0]?.studies} study), `
      + `${result.totalSeconds.toFixed(2)} s end to end (uploads done after ${result.uploadSeconds.toFixed(2)} s): `
      + `${result.instancesPerSecond.toFixed(0)} inst/s, ${result.mbPerSecond.toFixed(1)} MB/s; `
      + `CPU per instance: ${(nodeCpuMs / files.length).toFixed(1)} ms in the Node process (clients, front door, S3/SQS emulator, pollers, ingest), ${(pgCpuMs / files.length).toFixed(1)} ms in PostgreSQL; load average ${loadavg()[0]?.toFixed(1)}`);
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
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    const pgBefore = postgresCpuSeconds(stack.dataDir);
    let next = 0;
    await Promise.all(Array.from({ length: context.settings.concurrency }, async () => {
      while (next < files.length) {
        const file = files[next++] as { bytes: Buffer };
        const result = await storeInstance(file.bytes, { uploadId: undefined, fileIndex: undefined, via: 'stow' }, context);
        if (result.outcome !== 'accepted') throw new Error(`not accepted: ${result.reason ?? result.outcome}`);
      }
    }));
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const pgCpuMs = (postgresCpuSeconds(stack.dataDir) - pgBefore) * 1000;
    console.log(`core (storeInstance x ${context.settings.concurrency} in one process, archive PUTs to the emulator): ${(files.length / seconds).toFixed(0)} inst/s, ${(totalBytes / 1e6 / seconds).toFixed(1)} MB/s; `
      + `CPU per instance ${((cpu.user + cpu.system) / 1000 / files.length).toFixed(1)} ms Node (emulator's PUT handling included), ${(pgCpuMs / files.length).toFixed(1)} ms PostgreSQL; load average ${loadavg()[0]?.toFixed(1)}`);
    await context.db.end();
  } finally {
    await closeIngestContext();
    await stack.stop();
  }
}

const paths = ensureData();
const files = paths.map((path, i) => ({ name: `IM${String(i).padStart(5, '0')}.dcm`, bytes: readFileSync(path) }));
const totalBytes = files.reduce((sum, f) => sum + f.bytes.length, 0);
console.log(`ingest benchmark: ${files.length} CT instances, ${(totalBytes / 1e6).toFixed(0)} MB, ${clients} clients, ${filesPerUpload} files per upload batch, ${runs} run(s)`);
if (process.env.BENCH_CORE !== '0') await core(files, totalBytes);
const results = [];
for (let i = 1; i <= runs; i++) results.push(await run(files, totalBytes, i));
if (results.length === 0) process.exit(0);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
const ips = median(results.map((r) => r.instancesPerSecond));
const mbs = median(results.map((r) => r.mbPerSecond));
console.log(`median: ${ips.toFixed(0)} inst/s, ${mbs.toFixed(1)} MB/s`);
console.log(`vs Orthanc plain ingest (510 inst/s, 4 clients, SQLite): ${(ips / 510).toFixed(2)}x; vs Orthanc + PostgreSQL (247 inst/s): ${(ips / 247).toFixed(2)}x; vs Orthanc ingest + anonymize (~125 inst/s): ${(ips / 125).toFixed(2)}x`);
process.exit(0);
