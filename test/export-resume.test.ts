/**
 * Exports that outlive one run, on the real local stack with about 40 MB of
 * CT ingested the real way and 5 MiB parts: continuation before the deadline
 * across several invocations, a worker process killed (SIGKILL) mid-way and
 * resumed by the next delivery of its message from the recorded parts, a
 * second delivery refused while a run holds the export, and a running export
 * cancelled at its next checkpoint. Each time the zip is checked entry by
 * entry: valid, nothing missing, nothing twice, every file's sha256 as
 * archived.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ListObjectsV2Command, UploadPartCommand } from '@aws-sdk/client-s3';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { QueuePoller } from '@medlake/local/queue-poller';
import type { TestStack, TestUser } from './support/local-stack';
import { startTestStack } from './support/local-stack';
import { generateDicom, uploadAndIngest } from './fixtures/dicomweb/lake';
import type { ExportAnswer, ZipEntry } from './export-support';
import { downloadZip, exportHandlerFile, parseManifestCsv, readZip, startExportPoller, unzipTest, waitForExport } from './export-support';

const visibilitySeconds = 20;
const partSize = 5 * 1024 * 1024;
const workerScript = fileURLToPath(new URL('./export-worker-process.ts', import.meta.url));

let stack: TestStack;
let researcher: TestUser;
let dir: string;
let poller: QueuePoller | undefined;
let child: ChildProcess | undefined;
let studyUids: string[];

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

beforeAll(async () => {
  stack = await startTestStack({ queueHandlers: { export: false }, queueSettings: { export: { visibilityTimeoutSeconds: visibilitySeconds } } });
  const uploader = await stack.createUser({ groups: ['uploader'] });
  researcher = await stack.createUser({ groups: ['researcher'] });
  dir = mkdtempSync(join(tmpdir(), 'medlake-export-resume-'));
  // 2 CT studies, 2 series of 20 slices of 512×512: about 40 MB, eight parts of 5 MiB.
  const source = generateDicom(dir, { patients: 2, seriesPerStudy: 2, slices: 20, modality: 'CT', seed: 41 });
  await uploadAndIngest(stack, uploader.idToken, source.map((s) => s.path));
  studyUids = (await stack.db.query<{ study_uid: string }>('SELECT study_uid FROM studies ORDER BY study_uid')).rows.map((r) => r.study_uid);
  expect(studyUids).toHaveLength(2);
}, 600_000);

afterEach(async () => {
  child?.kill('SIGKILL');
  child = undefined;
  await poller?.stop();
  poller = undefined;
  for (const name of ['EXPORT_PART_SIZE_BYTES', 'EXPORT_MAX_RUN_SECONDS', 'EXPORT_UPLOAD_CONCURRENCY', 'EXPORT_READ_CONCURRENCY']) delete process.env[name];
});

afterAll(async () => {
  await stack?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function create(body: unknown): Promise<string> {
  const res = await stack.request('/api/exports', { token: researcher.idToken, json: body });
  expect(res.status, res.text).toBe(202);
  return (res.body as ExportAnswer).exportId;
}

/** The zip is whole: Info-ZIP and yauzl read it, every name once, every file as the index and archive have it. */
async function checkZip(exportId: string): Promise<ZipEntry[]> {
  const { zip } = await downloadZip(stack, researcher.idToken, exportId);
  expect(unzipTest(zip)).toMatch(/No errors detected/);
  const entries = await readZip(zip);
  const names = entries.map((e) => e.name);
  expect(new Set(names).size).toBe(names.length);
  const index = await stack.db.query<{ sop_uid: string; sha256: string }>('SELECT sop_uid, sha256 FROM instances WHERE study_uid = ANY($1)', [studyUids]);
  const dicom = entries.filter((e) => e.name.endsWith('.dcm'));
  expect(dicom).toHaveLength(index.rowCount ?? 0);
  for (const row of index.rows) {
    const entry = dicom.find((e) => e.name.endsWith(`/${row.sop_uid}.dcm`));
    expect(entry, row.sop_uid).toBeDefined();
    expect(sha256((entry as ZipEntry).bytes)).toBe(row.sha256);
  }
  const manifest = parseManifestCsv((entries.find((e) => e.name === 'manifest.csv') as ZipEntry).bytes.toString('utf8'));
  expect(manifest.map((r) => r.path).sort()).toEqual(names.filter((n) => !['manifest.csv', 'manifest.json', 'README.txt'].includes(n)).sort());
  return entries;
}

async function parts(exportId: string): Promise<{ part_number: number; etag: string; uploaded_at: Date }[]> {
  return (await stack.db.query<{ part_number: number; etag: string; uploaded_at: Date }>('SELECT part_number, etag, uploaded_at FROM export_parts WHERE export_id = $1 ORDER BY part_number', [exportId])).rows;
}

async function waitForParts(exportId: string, count: number, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await parts(exportId)).length < count) {
    const state = (await stack.db.query<{ state: string }>('SELECT state FROM exports WHERE export_id = $1', [exportId])).rows[0]?.state;
    if (state !== 'queued' && state !== 'running') throw new Error(`the export ended (${state}) before ${count} parts were uploaded`);
    if (Date.now() > deadline) throw new Error(`fewer than ${count} parts after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function startWorkerProcess(): { child: ChildProcess; output: () => string } {
  let output = '';
  const started = spawn(process.execPath, ['--import', 'tsx', workerScript, String(visibilitySeconds), stack.queues.export.arn], {
    env: { ...process.env, EXPORT_PART_SIZE_BYTES: String(partSize), EXPORT_UPLOAD_CONCURRENCY: '1', EXPORT_READ_CONCURRENCY: '2', POWERTOOLS_LOG_LEVEL: 'SILENT' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  started.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { child: started, output: () => output };
}

describe('an export longer than one run', () => {
  it('checkpoints before the deadline and continues in the next invocations, to the same zip entries as one run', async () => {
    process.env.EXPORT_PART_SIZE_BYTES = String(partSize);
    poller = startExportPoller(stack);
    const single = await waitForExport(stack, researcher.idToken, await create({ studies: studyUids }));
    expect(single).toMatchObject({ state: 'done', runs: 1 });
    // Each run may work 0.05 s, then (once it has stored a part) checkpoints and sends the next message.
    // The poller starts new function instances, which take the environment as it is then (as a Lambda's configuration).
    await poller.stop();
    process.env.EXPORT_MAX_RUN_SECONDS = '0.05';
    // One part at a time: a run then stores about one part before its checkpoint, so the export takes several runs.
    process.env.EXPORT_UPLOAD_CONCURRENCY = '1';
    process.env.EXPORT_READ_CONCURRENCY = '2';
    poller = startExportPoller(stack);
    const split = await waitForExport(stack, researcher.idToken, await create({ studies: studyUids }));
    expect(split.state).toBe('done');
    expect(split.runs).toBeGreaterThan(2);
    const [one, many] = [await checkZip(single.exportId), await checkZip(split.exportId)];
    expect(many.map((e) => e.name)).toEqual(one.map((e) => e.name));
    for (const [i, entry] of many.entries()) if (!['manifest.json', 'README.txt'].includes(entry.name)) expect(entry.bytes.equals((one[i] as ZipEntry).bytes), entry.name).toBe(true);
    expect((await parts(split.exportId)).map((p) => p.part_number)).toEqual(Array.from({ length: Math.ceil((split.zip?.bytes ?? 0) / partSize) }, (_, i) => i + 1));
  });

  it('resumes after its worker process is killed mid-way: recorded parts stay, the rest follows, no file lost or doubled', async () => {
    const exportId = await create({ studies: studyUids, name: 'killed and resumed' });
    const worker = startWorkerProcess();
    child = worker.child;
    await waitForParts(exportId, 2).catch((error: Error) => {
      throw new Error(`${error.message}; worker process said: ${worker.output()}`);
    });
    child.kill('SIGKILL');
    await new Promise((resolve) => child?.once('exit', resolve));
    child = undefined;
    expect(worker.output()).toContain('received');
    expect(worker.output()).not.toContain('handled');
    const before = await parts(exportId);
    expect(before.length).toBeGreaterThanOrEqual(2);
    // The message was never deleted: it comes back after its visibility timeout, to the poller.
    poller = startExportPoller(stack);
    const done = await waitForExport(stack, researcher.idToken, exportId, ['done', 'failed', 'cancelled'], 120_000);
    expect(done.state, JSON.stringify(done.failure)).toBe('done');
    expect(done.runs).toBe(2);
    const after = await parts(exportId);
    // The parts stored before the kill were not uploaded again: the run went on from the next part.
    const stored = before.filter((p, i) => p.part_number === i + 1 && i < before.length);
    for (const part of stored) {
      const same = after.find((p) => p.part_number === part.part_number);
      expect(same?.etag).toBe(part.etag);
      expect(same?.uploaded_at.getTime(), `part ${part.part_number}`).toBe(part.uploaded_at.getTime());
    }
    expect(after.length).toBeGreaterThan(stored.length);
    await checkZip(exportId);
  }, 180_000);

  it('refuses a second delivery while a run holds the export (the message comes back later)', async () => {
    const exportId = await create({ studies: studyUids });
    const worker = startWorkerProcess();
    child = worker.child;
    await waitForParts(exportId, 1);
    const { handler } = (await import(exportHandlerFile)) as { handler: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> };
    const record = {
      messageId: 'duplicate-1', receiptHandle: 'x', body: JSON.stringify({ exportId, run: 0 }), attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 'x', ApproximateFirstReceiveTimestamp: '0' },
      messageAttributes: {}, md5OfBody: '', eventSource: 'aws:sqs', eventSourceARN: stack.queues.export.arn, awsRegion: 'us-east-1',
    };
    const context = { awsRequestId: 'duplicate', getRemainingTimeInMillis: () => 8_000 } as unknown as Context;
    const answer = await handler({ Records: [record] }, context);
    expect(answer.batchItemFailures).toEqual([{ itemIdentifier: 'duplicate-1' }]);
    // The first run goes on undisturbed.
    await new Promise((resolve) => child?.once('exit', resolve));
    expect(worker.output()).toContain('handled');
    child = undefined;
    const done = await waitForExport(stack, researcher.idToken, exportId);
    expect(done).toMatchObject({ state: 'done', runs: 1 });
    await checkZip(exportId);
  }, 120_000);

  it('stops a running export at its next checkpoint when cancelled, and aborts its upload', async () => {
    process.env.EXPORT_PART_SIZE_BYTES = String(partSize);
    process.env.EXPORT_UPLOAD_CONCURRENCY = '1';
    poller = startExportPoller(stack);
    const exportId = await create({ studies: studyUids });
    await waitForParts(exportId, 1);
    const upload = (await stack.db.query<{ multipart_upload_id: string; object_key: string }>('SELECT multipart_upload_id, object_key FROM exports WHERE export_id = $1', [exportId])).rows[0];
    const cancelled = await stack.request(`/api/exports/${exportId}`, { method: 'DELETE', token: researcher.idToken });
    expect(cancelled.status, cancelled.text).toBe(202);
    const deadline = Date.now() + 60_000;
    while ((await stack.db.query<{ id: string | null }>('SELECT multipart_upload_id AS id FROM exports WHERE export_id = $1', [exportId])).rows[0]?.id) {
      if (Date.now() > deadline) throw new Error('the running export did not stop');
      await new Promise((r) => setTimeout(r, 50));
    }
    expect((await waitForExport(stack, researcher.idToken, exportId)).state).toBe('cancelled');
    expect((await parts(exportId)).length).toBeLessThan(8);
    // S3 no longer knows the upload, and no zip was made.
    await expect(stack.s3.send(new UploadPartCommand({ Bucket: stack.buckets.exports, Key: upload?.object_key, UploadId: upload?.multipart_upload_id, PartNumber: 99, Body: Buffer.alloc(8) }))).rejects.toThrow();
    expect((await stack.s3.send(new ListObjectsV2Command({ Bucket: stack.buckets.exports, Prefix: `${exportId}/` }))).KeyCount ?? 0).toBe(0);
  });
});
