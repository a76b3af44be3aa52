/**
 * Export benchmark: the 1.1 GB CT study (1 patient, 7 series x 300 slices of
 * 512x512, bench/tools/gen_dicom.py --seed 11) ingested through the real path
 * (POST /api/uploads, presigned PUTs, the ingest worker), then exported with
 * POST /api/exports by the export handler in a function instance of its own
 * (a child process, as its Lambda), timed from the invocation until the zip
 * is complete in S3 and the export reads done. Next to it, in the same run,
 * `zip -0` of the same archived files laid out the same way on local disk.
 * Prints MB/s of DICOM data for both and their ratio, and the export
 * process's memory: peak RSS and RSS at each quarter of the export (flat
 * means independent of the export's size).
 *
 *   npx tsx bench/export.bench.ts                       # the 1.1 GB study
 *   BENCH_QUICK=1 npx tsx bench/export.bench.ts         # its first series (160 MB)
 *   BENCH_COMPRESSION=deflate BENCH_RUNS=2 npx tsx bench/export.bench.ts
 *   BENCH_PROFILE_DIR=/tmp/prof BENCH_QUICK=1 npx tsx bench/export.bench.ts   # + a CPU profile of the export process
 *
 * The S3/SQS emulator runs in its own process and keeps multipart parts in
 * memory until completion (S3's memory in AWS, not the export's): it is not
 * counted in the export's RSS. Reads come from the emulator's files (warm
 * page cache after ingest), as zip -0 reads its files (just written).
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { startFunctionInstance } from '@medlake/local/function-instance';
import { sqsRecord } from '@medlake/local/queue-poller';
import { startTestStack } from '../test/support/local-stack';
import type { TestStack } from '../test/support/local-stack';
import { ctStudySpec, ensureDataset, totalBytes } from './support/datasets';
import { uploadAll, waitQueryable } from './support/medlake-upload';
import { metered } from './support/meter';
import type { MeterFields } from './support/results';

const quick = process.env.BENCH_QUICK === '1';
const runs = Number(process.env.BENCH_RUNS ?? 1);
const compression = process.env.BENCH_COMPRESSION === 'deflate' ? 'deflate' : 'store';
const handlerFile = fileURLToPath(new URL('../functions/src/export/handler.ts', import.meta.url));

function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    return Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

const mb = (bytes: number) => bytes / 1e6;

/** Which part of the local stack a process is, by its command line. */
function classify(commandLine: string): string {
  if (/aws-emulator-service/.test(commandLine)) return 'S3/SQS emulator';
  if (/lambda-runtime\S* \S*export\/handler/.test(commandLine)) return 'export function';
  if (/lambda-runtime/.test(commandLine)) return 'other functions';
  if (/postgres/.test(commandLine)) return 'PostgreSQL';
  return 'bench process (front door, pollers)';
}

function describeCpu(fields: MeterFields): string {
  const parts = Object.entries(fields.serverCpuByPart ?? {}).sort((a, b) => b[1] - a[1]).map(([part, cpu]) => `${part} ${cpu.toFixed(2)}`);
  return `CPU s: ${parts.join(', ')}; others on the machine ${fields.otherCpuS.toFixed(2)}`;
}

interface ExportFigures {
  meter: MeterFields;
  seconds: number;
  zipBytes: number;
  peakRssMb: number;
  baseRssMb: number;
  rssByQuarter: number[];
  runs: number;
}

async function runExport(stack: TestStack, token: string, studyUid: string): Promise<ExportFigures> {
  const created = await stack.request('/api/exports', { token, json: { studies: [studyUid], options: { compression, reports: false } } });
  if (created.status !== 202) throw new Error(`POST /api/exports answered ${created.status}: ${created.text}`);
  const exportId = (created.body as { exportId: string }).exportId;
  // BENCH_PROFILE_DIR: a V8 CPU profile of the export process (bench/tools/cpu-profile-summary.ts reads it).
  const profile = process.env.BENCH_PROFILE_DIR ? { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --cpu-prof --cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`.trim() } : {};
  const instance = startFunctionInstance(handlerFile, { ...process.env, POWERTOOLS_LOG_LEVEL: 'SILENT', ...profile });
  const initFailure = await instance.ready;
  if (initFailure) throw new Error(`the export handler did not load: ${initFailure}`);
  const baseRssMb = statusKb(instance.pid, 'VmRSS') / 1024;
  const queue = stack.queues.export;
  const received = await stack.sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.url, MaxNumberOfMessages: 1, WaitTimeSeconds: 10, MessageSystemAttributeNames: ['All'], VisibilityTimeout: 900 }));
  const message = received.Messages?.[0];
  if (!message) throw new Error('no export message');
  const event: SQSEvent = { Records: [sqsRecord(message, queue.arn, stack.env.AWS_REGION ?? 'us-east-1')] };
  // RSS against progress: one sample per 50 ms, with the bytes written by then.
  const samples: { bytes: number; rssMb: number }[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const rssMb = statusKb(instance.pid, 'VmRSS') / 1024;
      const row = (await stack.db.query<{ bytes_done: string; total_bytes: string | null }>('SELECT bytes_done, total_bytes FROM exports WHERE export_id = $1', [exportId])).rows[0];
      samples.push({ bytes: Number(row?.bytes_done ?? 0) / Math.max(Number(row?.total_bytes ?? 1), 1), rssMb });
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const started = performance.now();
  let meter: MeterFields;
  try {
    meter = (await metered({ serverPids: [process.pid], classify }, async () => {
      const result = (await instance.invoke(event, { functionName: 'medlake-bench-export', awsRequestId: randomUUID(), deadline: Date.now() + 900_000, memoryLimitInMB: '2048' })) as { batchItemFailures?: unknown[] } | undefined;
      if (result?.batchItemFailures?.length) throw new Error('the export invocation failed');
    })).fields;
  } finally {
    sampling = false;
    await sampler;
  }
  const seconds = (performance.now() - started) / 1000;
  const peakRssMb = statusKb(instance.pid, 'VmHWM') / 1024;
  await instance.stop();
  await stack.sqs.send(new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: message.ReceiptHandle }));
  const record = (await stack.db.query<{ state: string; zip_bytes: string; object_key: string; runs: number }>('SELECT state, zip_bytes, object_key, runs FROM exports WHERE export_id = $1', [exportId])).rows[0];
  if (record?.state !== 'done') throw new Error(`the export ended ${record?.state}`);
  const head = await stack.s3.send(new HeadObjectCommand({ Bucket: stack.buckets.exports, Key: record.object_key }));
  if (head.ContentLength !== Number(record.zip_bytes)) throw new Error('the zip in S3 is not the size recorded');
  const rssByQuarter = [0.25, 0.5, 0.75, 1].map((q) => samples.find((s) => s.bytes >= q)?.rssMb ?? samples[samples.length - 1]?.rssMb ?? 0);
  return { meter, seconds, zipBytes: Number(record.zip_bytes), peakRssMb, baseRssMb, rssByQuarter, runs: record.runs };
}

/** The archived files in the export's layout on local disk, then `zip -0 -r` of them, timed (writing the files is not). */
async function zipZero(stack: TestStack, studyUid: string): Promise<{ seconds: number; zipBytes: number; dataBytes: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'medlake-export-bench-'));
  try {
    const rows = (await stack.db.query<{ archive_key: string; path: string }>(
      `SELECT i.archive_key, s.patient_id || '/' || s.study_uid || '/' || i.series_uid || '/' || i.sop_uid || '.dcm' AS path
       FROM instances i JOIN studies s ON s.study_uid = i.study_uid WHERE i.study_uid = $1`,
      [studyUid],
    )).rows;
    const tree = join(dir, 'tree');
    let dataBytes = 0;
    for (const row of rows) {
      const object = await stack.s3.send(new GetObjectCommand({ Bucket: stack.buckets.archive, Key: row.archive_key }));
      const bytes = await object.Body!.transformToByteArray();
      mkdirSync(dirname(join(tree, row.path)), { recursive: true });
      writeFileSync(join(tree, row.path), bytes);
      dataBytes += bytes.length;
    }
    const out = join(dir, 'out.zip');
    const started = performance.now();
    execFileSync('zip', ['-0', '-q', '-r', out, '.'], { cwd: tree });
    const seconds = (performance.now() - started) / 1000;
    return { seconds, zipBytes: statSync(out).size, dataBytes };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const dataset = ensureDataset(ctStudySpec(quick));
  const bytes = totalBytes(dataset.rows);
  console.log(`export benchmark: ${dataset.rows.length} instances, ${mb(bytes).toFixed(0)} MB (${dataset.spec.name}), compression ${compression}, ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  const stack = await startTestStack({ queueHandlers: { export: false } });
  try {
    const [uploader, researcher] = await Promise.all([stack.createUser({ groups: ['uploader'] }), stack.createUser({ groups: ['researcher'] })]);
    const files = dataset.rows.map((row) => ({ name: row.sopUid, bytes: readFileSync(row.file) }));
    const ingestStarted = performance.now();
    await uploadAll(stack, uploader.idToken, files, { clients: 4, filesPerUpload: 50 });
    await waitQueryable(stack, files.length, 60 * 60_000);
    console.log(`ingested through uploads in ${((performance.now() - ingestStarted) / 1000).toFixed(1)} s`);
    const studyUid = (await stack.db.query<{ study_uid: string }>('SELECT study_uid FROM studies')).rows[0]?.study_uid as string;
    for (let run = 1; run <= runs; run++) {
      const exported = await runExport(stack, researcher.idToken, studyUid);
      const zip = await zipZero(stack, studyUid);
      const exportMbps = mb(zip.dataBytes) / exported.seconds;
      const zipMbps = mb(zip.dataBytes) / zip.seconds;
      console.log(
        `run ${run}: export ${exportMbps.toFixed(1)} MB/s (${exported.seconds.toFixed(2)} s, ${mb(exported.zipBytes).toFixed(0)} MB zip, ${exported.runs} invocation${exported.runs === 1 ? '' : 's'})`
        + ` | zip -0 ${zipMbps.toFixed(1)} MB/s (${zip.seconds.toFixed(2)} s, ${mb(zip.zipBytes).toFixed(0)} MB zip)`
        + ` | ratio ${((exportMbps / zipMbps) * 100).toFixed(0)} % of zip -0`
        + `\n  export process RSS: ${exported.baseRssMb.toFixed(0)} MB after init, peak ${exported.peakRssMb.toFixed(0)} MB; at 25/50/75/100 % of the data: ${exported.rssByQuarter.map((r) => r.toFixed(0)).join(' / ')} MB`
        + `; load average ${loadavg()[0]?.toFixed(1)}`
        + `\n  export ${describeCpu(exported.meter)}`,
      );
    }
  } finally {
    await stack.stop();
  }
}

await main();
