/**
 * How the ingest worker copes with SQS and S3 as they really behave:
 * at-least-once delivery (the same event twice), messages that fail every
 * time (dead-letter queue, file marked rejected), objects nobody announced,
 * and two workers storing the same instance at the same moment.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeIngestContext, createIngestContext } from '@medlake/functions/ingest/ingest-context';
import type { IngestContext } from '@medlake/functions/ingest/ingest-context';
import { storeInstance } from '@medlake/functions/ingest/store-instance';
import { unprocessableReason } from '@medlake/functions/ingest/ingest-object';
import { el } from './fixtures/dicom/build-dicom';
import { phiInstance, phiPart10 } from './fixtures/dicom/phi-instance';
import { ingestFiles, uploadStatus } from './ingest-support';
import type { TestStack, TestUser } from './support/local-stack';
import { startTestStack } from './support/local-stack';

let stack: TestStack;
let uploader: TestUser;
let admin: TestUser;
const savedEnv = { ...process.env };

function ct(n: number, extra: Parameters<typeof phiInstance>[0] = {}): Uint8Array {
  return phiPart10(phiInstance({
    studyUid: '1.2.826.0.1.3680043.10.2000.1', seriesUid: '1.2.826.0.1.3680043.10.2000.2', sopUid: `1.2.826.0.1.3680043.10.2000.3.${n}`, ...extra,
  }));
}

/** The event S3 sends for an object (what the bridge sends, built by hand to send it again). */
function s3Event(bucket: string, key: string, size: number): string {
  return JSON.stringify({
    Records: [{
      eventVersion: '2.1', eventSource: 'aws:s3', awsRegion: 'us-east-1', eventTime: new Date().toISOString(), eventName: 'ObjectCreated:Put',
      s3: { s3SchemaVersion: '1.0', configurationId: 'test', bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}` }, object: { key: key.split('/').map(encodeURIComponent).join('/'), size, eTag: 'x', sequencer: '1' } },
    }],
  });
}

async function waitFor<T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  // Failed messages come back after 2 s, so three receives take seconds, not minutes.
  stack = await startTestStack({ queueSettings: { ingest: { visibilityTimeoutSeconds: 2 } } });
  [uploader, admin] = await Promise.all([stack.createUser({ groups: ['uploader'] }), stack.createUser({ groups: ['admin'] })]);
});

afterAll(async () => {
  await closeIngestContext();
  await stack?.stop();
  process.env = savedEnv;
});

describe('delivery', () => {
  it('treats the same event delivered twice as one ingest: the file stays accepted, one instance', async () => {
    const bytes = ct(1);
    const status = await ingestFiles(stack, uploader, [{ name: 'ct.dcm', bytes }]);
    expect(status.files[0]?.state).toBe('accepted');
    const key = (await stack.db.query<{ quarantine_key: string }>('SELECT quarantine_key FROM upload_files WHERE upload_id = $1', [status.uploadId])).rows[0]!.quarantine_key;
    await stack.sqs.send(new SendMessageCommand({ QueueUrl: stack.queues.ingest.url, MessageBody: s3Event(stack.buckets.quarantine, key, bytes.length) }));
    await stack.waitForIngestIdle();
    const again = await uploadStatus(stack, uploader, status.uploadId);
    expect(again.files[0]).toMatchObject({ state: 'accepted', instances: { accepted: 1, duplicate: 0 } });
    const { rows } = await stack.db.query('SELECT count(*)::int AS n FROM instance_versions WHERE upload_id = $1', [status.uploadId]);
    expect(rows[0]).toEqual({ n: 1 });
  });

  it('sends a message that fails on every receive to the dead-letter queue and marks its file rejected', async () => {
    const created = await stack.request('/api/uploads', { token: uploader.idToken, json: { files: [{ name: 'never-put.dcm', sizeBytes: 1000 }] } });
    const { uploadId, files } = created.body as { uploadId: string; files: { key: string }[] };
    // An event for an object that is not there: reading it fails every time.
    await stack.sqs.send(new SendMessageCommand({ QueueUrl: stack.queues.ingest.url, MessageBody: s3Event(stack.buckets.quarantine, files[0]!.key, 1000) }));
    await waitFor(async () => ((await stack.queueDepth('ingest', { deadLetter: true })).visible > 0 ? true : undefined), 'the dead-letter queue');
    const status = await uploadStatus(stack, uploader, uploadId);
    expect(status.files[0]).toMatchObject({ state: 'rejected', reason: unprocessableReason });
  });

  it('processes objects nobody announced, as an upload of their own that admins see', async () => {
    const key = 'incoming/dropped-by-hand/scan 1.dcm';
    const bytes = ct(2);
    await stack.s3.send(new PutObjectCommand({ Bucket: stack.buckets.quarantine, Key: key, Body: bytes }));
    await stack.waitForIngestIdle();
    const { rows } = await stack.db.query<{ upload_id: string; state: string; owner_sub: string }>(
      'SELECT f.upload_id, f.state, u.owner_sub FROM upload_files f JOIN uploads u USING (upload_id) WHERE f.quarantine_key = $1', [key],
    );
    expect(rows[0]).toMatchObject({ state: 'accepted', owner_sub: 'unregistered' });
    const list = await stack.request('/api/uploads?limit=200', { token: admin.idToken });
    expect((list.body as { items: { uploadId: string; owner: string }[] }).items.find((i) => i.uploadId === rows[0]!.upload_id)).toMatchObject({ owner: 'unregistered' });
    expect((await stack.request(`/api/uploads/${rows[0]!.upload_id}`, { token: uploader.idToken })).status).toBe(404);
  });
});

describe('two workers at once', () => {
  let workerA: IngestContext;
  let workerB: IngestContext;

  beforeAll(async () => {
    [workerA, workerB] = await Promise.all([createIngestContext(), createIngestContext()]);
  });

  afterAll(async () => {
    await Promise.all([workerA?.db.end(), workerB?.db.end()]);
  });

  it('store the same instance once: one accepted, one duplicate', async () => {
    const bytes = ct(3);
    const origin = { uploadId: undefined, fileIndex: undefined, via: 'stow' as const };
    const results = await Promise.all([storeInstance(bytes, origin, workerA), storeInstance(bytes, origin, workerB)]);
    expect(results.map((r) => r.outcome).sort()).toEqual(['accepted', 'duplicate']);
    const { rows } = await stack.db.query('SELECT count(*)::int AS n FROM instance_versions WHERE sop_uid = $1', [results[0]!.sopUid]);
    expect(rows[0]).toEqual({ n: 1 });
  });

  it('store two different versions of one instance as versions 1 and 2, counted once in the study', async () => {
    const v1 = ct(4);
    const v2 = ct(4, { extra: [el(0x00181020, 'LO', 'SOFTWARE 3.0')] });
    const origin = { uploadId: undefined, fileIndex: undefined, via: 'stow' as const };
    const results = await Promise.all([storeInstance(v1, origin, workerA), storeInstance(v2, origin, workerB)]);
    expect(results.map((r) => r.outcome)).toEqual(['accepted', 'accepted']);
    expect(results.map((r) => r.version).sort()).toEqual([1, 2]);
    const sop = results[0]!.sopUid;
    const { rows: [row] } = await stack.db.query<{ version: number; archive_key: string }>('SELECT version, archive_key FROM instances WHERE sop_uid = $1', [sop]);
    expect(row?.version).toBe(2);
    const { rows: [study] } = await stack.db.query<{ n: number; counted: number }>(
      'SELECT (SELECT count(*)::int FROM instances WHERE study_uid = s.study_uid) AS n, s.num_instances AS counted FROM studies s WHERE study_uid = $1', [results[0]!.studyUid],
    );
    expect(study?.counted).toBe(study?.n);
  });

  it('keep study counters exact under many concurrent instances', async () => {
    const origin = { uploadId: undefined, fileIndex: undefined, via: 'stow' as const };
    const files = Array.from({ length: 24 }, (_, i) => ct(100 + i));
    await Promise.all(files.map((bytes, i) => storeInstance(bytes, origin, i % 2 ? workerA : workerB)));
    const { rows: [study] } = await stack.db.query<{ n: number; counted: number; series: number; bytes: string; sum: string }>(
      `SELECT (SELECT count(*)::int FROM instances WHERE study_uid = s.study_uid) AS n, s.num_instances AS counted, s.num_series AS series,
              s.size_bytes AS bytes, (SELECT sum(size_bytes) FROM instances WHERE study_uid = s.study_uid) AS sum
       FROM studies s WHERE study_uid = (SELECT study_uid FROM instances ORDER BY created_at DESC LIMIT 1)`,
    );
    expect(study?.counted).toBe(study?.n);
    expect(study?.bytes).toBe(study?.sum);
    expect(study?.series).toBe(1);
  });
});
