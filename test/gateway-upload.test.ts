/**
 * `medlake upload` end to end: the CLI as a child process against the real
 * local stack (front door, upload API, fauxqs S3, SQS ingest, PostgreSQL,
 * cognito-local), through a fault-injecting proxy that is also the stack's
 * public URL (so presigned S3 URLs go through it too). The proxy counts
 * upload batches and object PUTs, which is how "not sent again" is checked,
 * and injects the transient failures the retry test needs.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { UploadApi } from '@medlake/gateway/upload-api';
import type { TestStack, TestUser } from './support/local-stack';
import { startTestStack } from './support/local-stack';
import type { FaultProxy } from './gateway-harness';
import { ctInstance, ctSeries, expiredUrlBody, newUid, runCli, startCli, startFaultProxy, writeZip } from './gateway-harness';

interface JsonReport {
  ok: boolean;
  exitCode: number;
  totals: { files: number; skipped: number; sent: number; resumed: number; accepted: number; duplicate: number; rejected: number; held: number; pending: number; failed: number; 'not-sent': number; instances: Record<string, number> };
  uploads: string[];
  files: { path: string; kind: string; transfer: string; state: string; reason?: string; uploadId?: string; instances?: Record<string, number> }[];
  skipped: { displayPath: string; reason: string }[];
}

let stack: TestStack;
let proxy: FaultProxy;
let gateway: TestUser;
let work: string;

beforeAll(async () => {
  proxy = await startFaultProxy();
  stack = await startTestStack({ publicBaseUrl: proxy.url });
  proxy.setTarget(stack.url);
  gateway = await stack.createUser({ groups: ['uploader'] });
  work = mkdtempSync(join(tmpdir(), 'medlake-gateway-upload-'));
});

afterAll(async () => {
  await stack?.stop();
  await proxy?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

afterEach(() => proxy.setFaults(undefined));

function env(overrides: Record<string, string> = {}): Record<string, string> {
  return { MEDLAKE_URL: proxy.url, MEDLAKE_GATEWAY_USER: gateway.email, MEDLAKE_GATEWAY_PASSWORD: gateway.password, ...overrides };
}

function freshDir(name: string): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

function writeSeries(dir: string, count: number): string[] {
  return ctSeries(count).map((bytes, i) => {
    const path = join(dir, `IM${String(i + 1).padStart(4, '0')}.dcm`);
    writeFileSync(path, bytes);
    return path;
  });
}

function parseReport(stdout: string): JsonReport {
  return JSON.parse(stdout) as JsonReport;
}

describe('medlake upload', () => {
  it('uploads a folder of DICOM, a zip and other files: skips what is not DICOM and reports the server verdict per file', async () => {
    const dir = freshDir('mixed');
    mkdirSync(join(dir, 'series'));
    writeSeries(join(dir, 'series'), 3);
    const zipped = ctSeries(2);
    await writeZip(join(dir, 'export.zip'), [{ name: 'DICOM/IM1', bytes: zipped[0] as Buffer }, { name: 'DICOM/IM2', bytes: zipped[1] as Buffer }]);
    writeFileSync(join(dir, 'report.txt'), 'Findings: none.\n');
    writeFileSync(join(dir, 'Thumbs.db'), 'x');
    writeFileSync(join(dir, '.DS_Store'), 'x');
    // Looks like DICOM (DICM magic) but is cut short: the server must reject it, with a reason.
    writeFileSync(join(dir, 'broken.dcm'), ctInstance({ studyUid: newUid(), seriesUid: newUid(), sopUid: newUid() }).subarray(0, 300));

    const batchesBefore = proxy.count('create-upload');
    const result = await runCli(['upload', '.', '--json', '--wait-timeout', '90'], { cwd: dir, env: env() });
    const report = parseReport(result.stdout);

    expect(result.code, result.stderr).toBe(1);
    expect(report.ok).toBe(false);
    expect(report.totals.files).toBe(5);
    expect(report.skipped).toEqual([{ displayPath: 'report.txt', reason: expect.stringMatching(/not DICOM/) }]);
    const byPath = new Map(report.files.map((f) => [f.path, f]));
    for (const name of ['series/IM0001.dcm', 'series/IM0002.dcm', 'series/IM0003.dcm']) expect(byPath.get(name)?.state).toBe('accepted');
    expect(byPath.get('export.zip')).toMatchObject({ kind: 'zip', state: 'accepted', instances: expect.objectContaining({ accepted: 2 }) });
    expect(byPath.get('broken.dcm')).toMatchObject({ state: 'rejected', reason: expect.any(String) });
    expect(report.totals.instances.accepted).toBe(5);
    // One batch for five files, and the server saw them all.
    expect(proxy.count('create-upload') - batchesBefore).toBe(1);
    const status = await stack.request(`/api/uploads/${report.uploads[0]}`, { token: gateway.accessToken });
    expect(status.body).toMatchObject({ totals: expect.objectContaining({ accepted: 4, rejected: 1 }) });
    // The names sent are file names, not the folders around them.
    expect((status.body as { files: { name: string }[] }).files.map((f) => f.name).sort()).toEqual(['IM0001.dcm', 'IM0002.dcm', 'IM0003.dcm', 'broken.dcm', 'export.zip']);

    // Run again: nothing is sent, the verdicts come from the journal.
    const putsBefore = proxy.count('s3-put');
    const again = await runCli(['upload', '.', '--json'], { cwd: dir, env: env() });
    const second = parseReport(again.stdout);
    expect(second.files.every((f) => f.transfer === 'resumed')).toBe(true);
    expect(second.totals).toMatchObject({ accepted: 4, rejected: 1, sent: 0 });
    expect(proxy.count('s3-put')).toBe(putsBefore);
    expect(again.code).toBe(1);
  });

  it('prints a human summary and exits 0 when every file is accepted', async () => {
    const dir = freshDir('clean');
    writeSeries(dir, 2);
    const result = await runCli(['upload', dir, '--wait-timeout', '90'], { cwd: work, env: env() });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/2 file\(s\): 2 sent now/);
    expect(result.stdout).toMatch(/Server results: 2 accepted, 0 duplicate, 0 rejected/);
    // Not a terminal: no progress bars on stderr.
    expect(result.stderr).toBe('');
  });

  it('reports a re-upload of the same images from another folder as duplicate', async () => {
    const first = freshDir('dup-a');
    const second = freshDir('dup-b');
    const series = ctSeries(2);
    series.forEach((bytes, i) => {
      writeFileSync(join(first, `a${i}.dcm`), bytes);
      writeFileSync(join(second, `b${i}.dcm`), bytes);
    });
    expect((await runCli(['upload', first, '--wait-timeout', '90'], { cwd: work, env: env() })).code).toBe(0);
    const again = await runCli(['upload', second, '--json', '--wait-timeout', '90'], { cwd: work, env: env() });
    expect(again.code, again.stderr).toBe(0);
    expect(parseReport(again.stdout).totals).toMatchObject({ duplicate: 2, accepted: 0 });
  });

  it('resumes after being killed mid-way without sending finished files again', async () => {
    const dir = freshDir('resume');
    const files = writeSeries(dir, 24);
    // Slow object PUTs down so the kill lands in the middle of the run.
    proxy.setFaults((request) => (request.kind === 's3-put' ? { type: 'delay', ms: 150 } : { type: 'pass' }));
    const putsAtStart = proxy.count('s3-put');
    const run = startCli(['upload', '.', '--concurrency', '2', '--batch-size', '8', '--json'], { cwd: dir, env: env() });
    const deadline = Date.now() + 60_000;
    while (proxy.count('s3-put', (r) => r.status === 200) - putsAtStart < 8 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    run.child.kill('SIGKILL');
    const killed = await run.done;
    expect(killed.signal).toBe('SIGKILL');
    const firstRunPuts = proxy.count('s3-put') - putsAtStart;
    const firstRunStored = proxy.count('s3-put', (r) => r.status === 200) - putsAtStart;
    expect(firstRunStored).toBeGreaterThanOrEqual(8);
    expect(firstRunStored).toBeLessThan(files.length);

    proxy.setFaults(undefined);
    const putsBeforeRerun = proxy.count('s3-put');
    const rerun = await runCli(['upload', '.', '--json', '--wait-timeout', '90'], { cwd: dir, env: env() });
    const report = parseReport(rerun.stdout);
    expect(rerun.code, rerun.stderr).toBe(0);
    const rerunPuts = proxy.count('s3-put') - putsBeforeRerun;
    // Only what the first run had not finished is sent again (at most the two in flight at the kill, whose answer may have been lost).
    expect(rerunPuts).toBeLessThanOrEqual(files.length - firstRunStored + 2);
    expect(rerunPuts).toBeGreaterThanOrEqual(files.length - firstRunPuts);
    expect(report.totals.resumed).toBeGreaterThanOrEqual(firstRunStored - 2);
    expect(report.totals.accepted + report.totals.duplicate).toBe(files.length);
  });

  it('stops at SIGINT with exit code 130 and a resumable journal', async () => {
    const dir = freshDir('interrupt');
    writeSeries(dir, 10);
    proxy.setFaults((request) => (request.kind === 's3-put' ? { type: 'delay', ms: 200 } : { type: 'pass' }));
    const putsAtStart = proxy.count('s3-put', (r) => r.status === 200);
    const run = startCli(['upload', '.', '--concurrency', '1', '--json'], { cwd: dir, env: env() });
    while (proxy.count('s3-put', (r) => r.status === 200) - putsAtStart < 2) await new Promise((r) => setTimeout(r, 20));
    run.child.kill('SIGINT');
    const stopped = await run.done;
    expect(stopped.code).toBe(130);
    const report = parseReport(stopped.stdout);
    expect(report).toMatchObject({ ok: false, exitCode: 130 });
    expect(report.totals.sent).toBeGreaterThanOrEqual(2);
    expect(report.totals.sent).toBeLessThan(10);

    proxy.setFaults(undefined);
    const putsBefore = proxy.count('s3-put');
    const rerun = await runCli(['upload', '.', '--json', '--wait-timeout', '90'], { cwd: dir, env: env() });
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(proxy.count('s3-put') - putsBefore).toBe(10 - report.totals.sent);
    expect(parseReport(rerun.stdout).totals.resumed).toBe(report.totals.sent);
  });

  it('signs in again before the token expires', async () => {
    const api = new UploadApi({ url: proxy.url, username: gateway.email, password: gateway.password });
    const signInsBefore = proxy.count('sign-in');
    const created = await api.createUpload([{ name: 'later.dcm', sizeBytes: 1000 }]);
    await api.uploadStatus(created.uploadId);
    expect(proxy.count('sign-in') - signInsBefore).toBe(1);
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      // Cognito's tokens live an hour; 56 minutes on, the next call must not carry the old one.
      vi.setSystemTime(Date.now() + 56 * 60_000);
      const status = await api.uploadStatus(created.uploadId);
      expect(status.files[0]).toMatchObject({ name: 'later.dcm', state: 'waiting' });
      expect(proxy.count('sign-in') - signInsBefore).toBe(2);
    } finally {
      vi.useRealTimers();
    }
    expect(proxy.records.filter((r) => r.status === 401)).toHaveLength(0);
  });

  it('retries through transient failures: 503 from the API, dropped connections and 500s from storage, an expired URL', async () => {
    const dir = freshDir('flaky');
    writeSeries(dir, 6);
    proxy.setFaults((request) => {
      if (request.kind === 'create-upload' && request.seq === 0) return { type: 'status', status: 503, body: '{"message":"Service Unavailable"}' };
      if (request.kind === 's3-put' && request.seq === 0) return { type: 'reset' };
      if (request.kind === 's3-put' && request.seq === 1) return { type: 'status', status: 500, contentType: 'application/xml', body: '<Error><Code>InternalError</Code></Error>' };
      if (request.kind === 's3-put' && request.seq === 2) return { type: 'status', status: 403, contentType: 'application/xml', body: expiredUrlBody };
      if (request.kind === 'upload-status' && request.seq === 0) return { type: 'status', status: 502, body: '' };
      return { type: 'pass' };
    });
    const batchesBefore = proxy.count('create-upload');
    const result = await runCli(['upload', '.', '--json', '--verbose', '--wait-timeout', '90'], { cwd: dir, env: env() });
    const report = parseReport(result.stdout);
    expect(result.code, result.stderr).toBe(0);
    expect(report.totals.accepted).toBe(6);
    expect(proxy.records.filter((r) => r.injected)).toHaveLength(5);
    // The failed batch request was retried, and the file whose URL expired went into a new batch.
    expect(proxy.count('create-upload') - batchesBefore).toBe(3);
    expect(result.stderr).toMatch(/retrying create upload/);
    expect(result.stderr).toMatch(/retrying upload/);
  });

  it('sends large files in parts (multipart) and completes them', async () => {
    const previous = process.env.UPLOAD_MULTIPART_THRESHOLD_BYTES;
    process.env.UPLOAD_MULTIPART_THRESHOLD_BYTES = String(6 * 1024 * 1024);
    try {
      const dir = freshDir('large');
      const rows = 2100;
      const big = ctInstance({ studyUid: newUid(), seriesUid: newUid(), sopUid: newUid(), rows, columns: rows });
      expect(big.length).toBeGreaterThan(8 * 1024 * 1024);
      writeFileSync(join(dir, 'large.dcm'), big);
      const result = await runCli(['upload', '.', '--json', '--wait-timeout', '120'], { cwd: dir, env: env() });
      expect(result.code, result.stderr).toBe(0);
      expect(parseReport(result.stdout).files[0]).toMatchObject({ state: 'accepted' });
      expect(proxy.count('s3-part')).toBeGreaterThanOrEqual(2);
      expect(proxy.count('complete')).toBeGreaterThanOrEqual(1);
    } finally {
      if (previous === undefined) delete process.env.UPLOAD_MULTIPART_THRESHOLD_BYTES;
      else process.env.UPLOAD_MULTIPART_THRESHOLD_BYTES = previous;
    }
  });

  it('resumes an interrupted multipart upload from the parts already stored', async () => {
    const previous = process.env.UPLOAD_MULTIPART_THRESHOLD_BYTES;
    process.env.UPLOAD_MULTIPART_THRESHOLD_BYTES = String(6 * 1024 * 1024);
    try {
      const dir = freshDir('large-resume');
      // 2900 × 2900 × 2 bytes ≈ 16 MiB: three parts of 8 MiB.
      writeFileSync(join(dir, 'large.dcm'), ctInstance({ studyUid: newUid(), seriesUid: newUid(), sopUid: newUid(), rows: 2900, columns: 2900 }));
      proxy.setFaults((request) => (request.kind === 's3-part' ? { type: 'delay', ms: 400 } : { type: 'pass' }));
      const partsAtStart = proxy.count('s3-part');
      const run = startCli(['upload', '.', '--json'], { cwd: dir, env: env() });
      // Parts of one file go one after the other: the request for part 2 means part 1 is stored and journaled.
      while (proxy.count('s3-part') - partsAtStart < 2) await new Promise((r) => setTimeout(r, 20));
      run.child.kill('SIGKILL');
      await run.done;

      proxy.setFaults(undefined);
      const partsBefore = proxy.count('s3-part');
      const refreshBefore = proxy.count('parts');
      const rerun = await runCli(['upload', '.', '--json', '--wait-timeout', '120'], { cwd: dir, env: env() });
      expect(rerun.code, rerun.stderr).toBe(0);
      expect(parseReport(rerun.stdout).files[0]).toMatchObject({ state: 'accepted' });
      // Part 1 was stored before the kill: only parts 2 and 3 travel again, with fresh URLs.
      expect(proxy.count('s3-part') - partsBefore).toBe(2);
      expect(proxy.count('parts') - refreshBefore).toBe(1);
    } finally {
      if (previous === undefined) delete process.env.UPLOAD_MULTIPART_THRESHOLD_BYTES;
      else process.env.UPLOAD_MULTIPART_THRESHOLD_BYTES = previous;
    }
  });

  it('--dry-run lists what would be sent and sends nothing', async () => {
    const dir = freshDir('dry');
    writeSeries(dir, 2);
    writeFileSync(join(dir, 'notes.txt'), 'no');
    const before = proxy.records.length;
    const result = await runCli(['upload', '.', '--dry-run', '--json'], { cwd: dir, env: {} });
    expect(result.code, result.stderr).toBe(0);
    const report = parseReport(result.stdout);
    expect(report.totals).toMatchObject({ files: 2, skipped: 1, 'not-sent': 2 });
    expect(proxy.records.length).toBe(before);
  });

  it('exits 2 with a readable message on wrong credentials, missing configuration or an open config file', async () => {
    const dir = freshDir('config');
    writeSeries(dir, 1);
    const wrong = await runCli(['upload', '.'], { cwd: dir, env: env({ MEDLAKE_GATEWAY_PASSWORD: 'not-the-password-1A!' }) });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/sign-in refused/i);

    const missing = await runCli(['upload', '.'], { cwd: dir, env: { MEDLAKE_URL: proxy.url } });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/MEDLAKE_GATEWAY_USER/);

    const configPath = join(dir, 'gateway.json');
    writeFileSync(configPath, JSON.stringify({ url: proxy.url, username: gateway.email, password: gateway.password }));
    chmodSync(configPath, 0o644);
    const open = await runCli(['upload', 'IM0001.dcm', '--config', configPath], { cwd: dir, env: {} });
    expect(open.code).toBe(2);
    expect(open.stderr).toMatch(/chmod 600/);
    chmodSync(configPath, 0o600);
    const ok = await runCli(['upload', 'IM0001.dcm', '--config', configPath, '--wait-timeout', '90'], { cwd: dir, env: {} });
    expect(ok.code, ok.stderr).toBe(0);

    const usage = await runCli(['upload', '--concurrency', 'zero', '.'], { cwd: dir, env: env() });
    expect(usage.code).toBe(2);
  });
});
