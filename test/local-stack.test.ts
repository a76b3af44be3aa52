/**
 * The local stack's AWS stand-ins behave like AWS where handlers can tell:
 * S3 ObjectCreated events arrive at the queue handler as standard records
 * through the poller (Put, Post, Copy, CompleteMultipartUpload; prefix filter),
 * Lambda's SQS batch rules hold (partial failures, throwing handlers, the
 * dead-letter queue after maxReceiveCount), and browsers upload through the
 * front door's same-origin S3 path with presigned URLs.
 */
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { CompleteMultipartUploadCommand, CopyObjectCommand, CreateMultipartUploadCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import { AdminConfirmSignUpCommand, ForgotPasswordCommand, SignUpCommand } from '@aws-sdk/client-cognito-identity-provider';
import { ReceiveMessageCommand, SendMessageBatchCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { S3Event, SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { presigningS3Client, s3Client } from '@medlake/functions/adapters/aws-clients';
import { mailerFromEnv } from '@medlake/functions/adapters/mailer';
import { recordedInvocations } from './support/handlers/recording-handler';
import type { TestStack } from './support/local-stack';
import { startTestStack } from './support/local-stack';

const recordingHandler = fileURLToPath(new URL('./support/handlers/recording-handler.ts', import.meta.url));
let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({
    queueHandlers: { ingest: recordingHandler, export: false, notify: false },
    // Failed messages come back after one second, so retries and the DLQ are quick to observe.
    queueSettings: { ingest: { visibilityTimeoutSeconds: 1 } },
    // Two function instances at most, whatever the machine's cores (the scaling test below).
    queueConcurrency: { ingest: 2 },
  });
});

afterAll(async () => {
  await stack?.stop();
});

const md5 = (data: Uint8Array | string) => createHash('md5').update(data).digest('hex');

function deliveredRecords(): SQSRecord[] {
  return recordedInvocations().flatMap((i) => i.event.Records);
}

function s3Records(key: string): { sqs: SQSRecord; s3: S3Event['Records'][number] }[] {
  return deliveredRecords()
    .map((sqs) => ({ sqs, body: JSON.parse(sqs.body) as Partial<S3Event> }))
    .filter(({ body }) => Array.isArray(body.Records))
    .flatMap(({ sqs, body }) => (body.Records ?? []).map((s3) => ({ sqs, s3 })))
    .filter(({ s3 }) => decodeURIComponent(s3.s3.object.key.replace(/\+/g, ' ')) === key);
}

async function eventFor(key: string) {
  await stack.waitForIngestIdle({ queues: ['ingest'], timeoutMs: 20_000 });
  const found = s3Records(key);
  expect(found, `events for ${key}`).toHaveLength(1);
  return found[0] as { sqs: SQSRecord; s3: S3Event['Records'][number] };
}

describe('the dev stack', () => {
  it('answers GET /api/health with db, s3, sqs and cognito ok', async () => {
    const res = await stack.request('/api/health');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'ok', components: { db: { state: 'ok' }, s3: { state: 'ok' }, sqs: { state: 'ok' }, cognito: { state: 'ok' } } });
  });

  it('has applied every migration and generated 32-byte key files readable by the owner only', async () => {
    const { rows } = await stack.db.query<{ name: string }>('SELECT name FROM pgmigrations ORDER BY run_on, id');
    expect(rows.map((r) => r.name)).toContain('0001_init');
    const { statSync } = await import('node:fs');
    for (const file of [stack.env.DEID_KEY_FILE, stack.env.PHI_VAULT_MASTER_KEY_FILE]) {
      const stats = statSync(file as string);
      expect(stats.size).toBe(32);
      expect(stats.mode & 0o777).toBe(0o600);
    }
  });
});

/** Local addresses listening on `port`, from the kernel's socket tables. */
async function listeningAddresses(port: number): Promise<string[]> {
  const { readFileSync } = await import('node:fs');
  const found: string[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (!local || state !== '0A') continue; // 0A = LISTEN
      const [address = '', portHex = ''] = local.split(':');
      if (parseInt(portHex, 16) !== port) continue;
      found.push(address.length === 8 ? address.match(/../g)?.reverse().map((b) => parseInt(b, 16)).join('.') ?? address : address);
    }
  }
  return found;
}

describe('network exposure', () => {
  it('the emulators, PostgreSQL and the front door listen on 127.0.0.1 only', async () => {
    const ports = [new URL(stack.endpoints.aws).port, new URL(stack.endpoints.cognito).port, new URL(stack.env.DATABASE_URL as string).port, new URL(stack.url).port].map(Number);
    for (const port of ports) expect(await listeningAddresses(port), `port ${port}`).toEqual(['127.0.0.1']);
  });
});

describe('S3 → SQS → handler', () => {
  it('a PUT under incoming/ of the quarantine bucket reaches the ingest handler as an AWS S3 event in an SQS record', async () => {
    const key = 'incoming/upload 1/CT (1)+ü.dcm';
    const body = Buffer.from('DICM-ish test bytes');
    const put = await stack.s3.send(new PutObjectCommand({ Bucket: stack.buckets.quarantine, Key: key, Body: body }));
    const { sqs, s3 } = await eventFor(key);
    // The quarantine bucket is SSE-KMS in AWS: its ETags are opaque, not the MD5 of the data.
    expect(put.ETag).toMatch(/^"[0-9a-f]{32}"$/);
    expect(put.ETag).not.toBe(`"${md5(body)}"`);

    expect(sqs).toMatchObject({
      eventSource: 'aws:sqs',
      eventSourceARN: stack.queues.ingest.arn,
      awsRegion: 'us-east-1',
      md5OfBody: md5(sqs.body),
      messageAttributes: {},
      attributes: { ApproximateReceiveCount: '1', SenderId: expect.any(String), SentTimestamp: expect.stringMatching(/^\d+$/), ApproximateFirstReceiveTimestamp: expect.stringMatching(/^\d+$/) },
    });
    expect(sqs.messageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(sqs.receiptHandle).toBeTruthy();
    expect(s3).toMatchObject({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: 'us-east-1',
      eventName: 'ObjectCreated:Put',
      s3: {
        s3SchemaVersion: '1.0',
        bucket: { name: stack.buckets.quarantine, arn: `arn:aws:s3:::${stack.buckets.quarantine}` },
        // URL-encoded as S3 does: spaces as '+', '/' kept, the rest percent-encoded UTF-8.
        object: { key: 'incoming/upload+1/CT+%281%29%2B%C3%BC.dcm', size: body.length, eTag: put.ETag?.replaceAll('"', ''), sequencer: expect.stringMatching(/^[0-9A-F]{18}$/) },
      },
    });
    expect(new Date(s3.eventTime).getTime()).toBeGreaterThan(Date.now() - 60_000);
  });

  it('an upload through the API names no file in its object key, presigned URL, S3 event or SQS message', async () => {
    const uploader = await stack.createUser({ groups: ['uploader'] });
    const name = 'DOE^JOHN 1957-03-04 MRN 8675309.dcm';
    const body = Buffer.from('bytes of a scan');
    const created = await stack.request('/api/uploads', { token: uploader.idToken, json: { files: [{ name, sizeBytes: body.length }] } });
    expect(created.status, created.text).toBe(201);
    const { uploadId, files } = created.body as { uploadId: string; files: { key: string; url: string; name: string }[] };
    const key = `incoming/${uploadId}/0`;
    expect(files[0]).toMatchObject({ key, name });
    expect(files[0]?.url).not.toMatch(/DOE|JOHN|1957|8675309/);
    expect((await fetch(files[0]?.url as string, { method: 'PUT', body })).status).toBe(200);
    const { sqs, s3 } = await eventFor(key);
    expect(s3.s3.object.key).toBe(key);
    expect(sqs.body).not.toMatch(/DOE|JOHN|1957|8675309/);
    // The name stays with the upload's record, for its owner's status page.
    const status = await stack.request(`/api/uploads/${uploadId}`, { token: uploader.idToken });
    expect((status.body as { files: { name: string }[] }).files[0]?.name).toBe(name);
  });

  it('objects outside the notification prefix, or in other buckets, produce no event', async () => {
    await stack.s3.send(new PutObjectCommand({ Bucket: stack.buckets.quarantine, Key: 'held/not-an-upload.dcm', Body: 'x' }));
    await stack.s3.send(new PutObjectCommand({ Bucket: stack.buckets.archive, Key: 'incoming/in-the-archive.dcm', Body: 'x' }));
    await stack.waitForIngestIdle({ queues: ['ingest'] });
    expect(s3Records('held/not-an-upload.dcm')).toHaveLength(0);
    expect(s3Records('incoming/in-the-archive.dcm')).toHaveLength(0);
  });

  it('CopyObject into incoming/ is ObjectCreated:Copy', async () => {
    await stack.s3.send(new PutObjectCommand({ Bucket: stack.buckets.quarantine, Key: 'staging/source.dcm', Body: 'copy me' }));
    await stack.s3.send(new CopyObjectCommand({ Bucket: stack.buckets.quarantine, Key: 'incoming/copied.dcm', CopySource: `${stack.buckets.quarantine}/staging/source.dcm` }));
    const { s3 } = await eventFor('incoming/copied.dcm');
    expect(s3.eventName).toBe('ObjectCreated:Copy');
    const copied = await stack.s3.send(new HeadObjectCommand({ Bucket: stack.buckets.quarantine, Key: 'incoming/copied.dcm' }));
    expect(s3.s3.object).toMatchObject({ size: 7, eTag: copied.ETag?.replaceAll('"', '') });
  });

  it('a browser form POST upload is ObjectCreated:Post', async () => {
    const form = new FormData();
    form.append('key', 'incoming/posted-${filename}');
    form.append('file', new Blob(['posted bytes']), 'form.dcm');
    const res = await fetch(`${stack.endpoints.aws}/${stack.buckets.quarantine}`, { method: 'POST', body: form });
    expect(res.status).toBeLessThan(300);
    const { s3 } = await eventFor('incoming/posted-form.dcm');
    expect(s3.eventName).toBe('ObjectCreated:Post');
    expect(s3.s3.object.size).toBe('posted bytes'.length);
  });

  it('a failed request produces no event', async () => {
    const before = await stack.bridge.delivered();
    await expect(stack.s3.send(new CopyObjectCommand({ Bucket: stack.buckets.quarantine, Key: 'incoming/from-nowhere.dcm', CopySource: `${stack.buckets.quarantine}/staging/missing.dcm` }))).rejects.toThrow();
    expect(await stack.bridge.delivered()).toBe(before);
  });

  it('events of successive writes to one key carry growing sequencers', async () => {
    const key = 'incoming/rewritten.dcm';
    await stack.s3.send(new PutObjectCommand({ Bucket: stack.buckets.quarantine, Key: key, Body: 'one' }));
    await stack.s3.send(new PutObjectCommand({ Bucket: stack.buckets.quarantine, Key: key, Body: 'two' }));
    await stack.waitForIngestIdle({ queues: ['ingest'] });
    const [first, second] = s3Records(key).map((r) => r.s3.s3.object.sequencer);
    expect(first && second && second > first).toBe(true);
  });
});

describe('SQS batches, as Lambda handles them', () => {
  const sentBodies = (tag: string) =>
    deliveredRecords()
      .filter((r) => r.body.includes(tag))
      .map((r) => ({ tag: (JSON.parse(r.body) as { tag: string }).tag, receiveCount: r.attributes.ApproximateReceiveCount }));

  it('a partial batch failure redelivers only the failed message', async () => {
    await stack.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: stack.queues.ingest.url,
        Entries: [
          { Id: 'a', MessageBody: JSON.stringify({ tag: 'partial-a' }) },
          { Id: 'b', MessageBody: JSON.stringify({ tag: 'partial-b', fail: 'first' }) },
          { Id: 'c', MessageBody: JSON.stringify({ tag: 'partial-c' }) },
        ],
      }),
    );
    await stack.waitForIngestIdle({ queues: ['ingest'], timeoutMs: 20_000 });
    const seen = sentBodies('partial-');
    expect(seen.filter((s) => s.tag === 'partial-a')).toEqual([{ tag: 'partial-a', receiveCount: '1' }]);
    expect(seen.filter((s) => s.tag === 'partial-c')).toEqual([{ tag: 'partial-c', receiveCount: '1' }]);
    expect(seen.filter((s) => s.tag === 'partial-b')).toEqual([
      { tag: 'partial-b', receiveCount: '1' },
      { tag: 'partial-b', receiveCount: '2' },
    ]);
    // The three arrived in one batch (batch size 10).
    const batch = recordedInvocations().find((i) => i.event.Records.some((r) => r.body.includes('partial-a')));
    expect(batch?.event.Records).toHaveLength(3);
    expect(batch?.remainingMs).toBeGreaterThan(0);
  });

  it('a poison message lands in the dead-letter queue after maxReceiveCount receives, and a throwing handler does not stop the poller', async () => {
    await stack.sqs.send(new SendMessageCommand({ QueueUrl: stack.queues.ingest.url, MessageBody: JSON.stringify({ tag: 'poison', throw: true }) }));
    await stack.waitForIngestIdle({ queues: ['ingest'], timeoutMs: 30_000 });
    expect(sentBodies('poison').map((s) => s.receiveCount)).toEqual(['1', '2', '3']);
    expect(stack.queues.ingest.maxReceiveCount).toBe(3);
    const dead = await stack.sqs.send(new ReceiveMessageCommand({ QueueUrl: stack.queues.ingest.deadLetter.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    expect(dead.Messages?.map((m) => JSON.parse(m.Body ?? '{}') as { tag: string })).toEqual([{ tag: 'poison', throw: true }]);
    // Still consuming after the failures.
    await stack.sqs.send(new SendMessageCommand({ QueueUrl: stack.queues.ingest.url, MessageBody: JSON.stringify({ tag: 'after-poison' }) }));
    await stack.waitForIngestIdle({ queues: ['ingest'] });
    expect(sentBodies('after-poison')).toEqual([{ tag: 'after-poison', receiveCount: '1' }]);
  });

  it('a function instance that dies fails its batch; the message comes back and a new instance handles it', async () => {
    await stack.sqs.send(new SendMessageCommand({ QueueUrl: stack.queues.ingest.url, MessageBody: JSON.stringify({ tag: 'crashing', crash: 'first' }) }));
    await stack.waitForIngestIdle({ queues: ['ingest'], timeoutMs: 30_000 });
    expect(sentBodies('crashing').map((s) => s.receiveCount)).toEqual(['1', '2']);
    const [first, second] = recordedInvocations().filter((i) => i.event.Records.some((r) => r.body.includes('crashing')));
    expect(first?.pid).not.toBe(second?.pid);
    expect(stack.pollers.ingest?.status()).toMatchObject({ state: 'polling', instances: 1 });
  });

  it('a backlog scales out to a second function instance (a process of its own) and batches run at once, each message once', async () => {
    expect(stack.pollers.ingest?.status()).toMatchObject({ instances: 1, inFlight: 0 });
    const tags = Array.from({ length: 60 }, (_, i) => `backlog-${i}`);
    for (let i = 0; i < tags.length; i += 10) {
      await stack.sqs.send(new SendMessageBatchCommand({
        QueueUrl: stack.queues.ingest.url,
        Entries: tags.slice(i, i + 10).map((tag, j) => ({ Id: String(j), MessageBody: JSON.stringify({ tag, holdMs: 400 }) })),
      }));
    }
    await stack.waitForIngestIdle({ queues: ['ingest'], timeoutMs: 30_000 });
    expect(sentBodies('backlog-').map((s) => s.tag).sort()).toEqual([...tags].sort());
    expect(sentBodies('backlog-').every((s) => s.receiveCount === '1')).toBe(true);
    const batches = recordedInvocations().filter((i) => i.event.Records.some((r) => r.body.includes('backlog-')));
    const pids = new Set(batches.map((b) => b.pid));
    expect(pids.size).toBe(2);
    expect(pids.has(process.pid)).toBe(false);
    // Two batches in flight at the same moment: one started before the other's hold was over.
    const starts = batches.map((b) => b.startedAt).sort((a, b) => a - b);
    expect(starts.some((start, i) => i > 0 && start - (starts[i - 1] as number) < 400)).toBe(true);
    expect(stack.pollers.ingest?.status().instances).toBe(2);
    expect(stack.processIds().functions.filter((f) => f.queue === 'ingest')).toHaveLength(2);
  });
});

describe('uploads through the front door (S3_PUBLIC_ENDPOINT)', () => {
  it('presigned URLs point at the front door /s3 path', async () => {
    expect(stack.env.S3_PUBLIC_ENDPOINT).toBe(`${stack.url}/s3`);
    const url = await getSignedUrl(presigningS3Client(), new PutObjectCommand({ Bucket: stack.buckets.quarantine, Key: 'incoming/x.dcm' }), { expiresIn: 600 });
    expect(url.startsWith(`${stack.url}/s3/${stack.buckets.quarantine}/incoming/x.dcm?`)).toBe(true);
    expect(new URL(url).searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('a presigned PUT from a browser stores the object, exposes its ETag and triggers the event', async () => {
    const key = 'incoming/browser/presigned.dcm';
    const body = new Uint8Array(70_000).map((_, i) => i % 251);
    const url = await getSignedUrl(presigningS3Client(), new PutObjectCommand({ Bucket: stack.buckets.quarantine, Key: key }), { expiresIn: 600 });
    const res = await fetch(url, { method: 'PUT', body, headers: { origin: stack.url } });
    expect(res.status).toBe(200);
    const stored = await s3Client().send(new GetObjectCommand({ Bucket: stack.buckets.quarantine, Key: key }));
    expect(res.headers.get('etag')).toMatch(/^"[0-9a-f]{32}"$/);
    expect(res.headers.get('etag')).toBe(stored.ETag);
    expect(Buffer.from(await (stored.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray())).toEqual(Buffer.from(body));
    const { s3 } = await eventFor(key);
    expect(s3.eventName).toBe('ObjectCreated:Put');
  });

  it('multipart: presigned part URLs through the front door, ETags read from the answers, completion produces the event', async () => {
    const key = 'incoming/browser/large.zip';
    const partSize = 5 * 1024 * 1024;
    const data = Buffer.alloc(partSize + 123_456, 7);
    const started = await s3Client().send(new CreateMultipartUploadCommand({ Bucket: stack.buckets.quarantine, Key: key }));
    const uploadId = started.UploadId as string;
    const parts: { PartNumber: number; ETag: string }[] = [];
    for (const [index, chunk] of [data.subarray(0, partSize), data.subarray(partSize)].entries()) {
      const url = await getSignedUrl(presigningS3Client(), new UploadPartCommand({ Bucket: stack.buckets.quarantine, Key: key, UploadId: uploadId, PartNumber: index + 1 }), { expiresIn: 600 });
      expect(url.startsWith(`${stack.url}/s3/`)).toBe(true);
      const res = await fetch(url, { method: 'PUT', body: chunk });
      expect(res.status).toBe(200);
      const etag = res.headers.get('etag');
      expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
      parts.push({ PartNumber: index + 1, ETag: etag as string });
    }
    await s3Client().send(new CompleteMultipartUploadCommand({ Bucket: stack.buckets.quarantine, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } }));
    const { s3 } = await eventFor(key);
    expect(s3.eventName).toBe('ObjectCreated:CompleteMultipartUpload');
    const multipartEtag = `${md5(Buffer.concat(parts.map((p) => Buffer.from(p.ETag.replace(/"/g, ''), 'hex'))))}-2`;
    expect(s3.s3.object).toMatchObject({ size: data.length, eTag: multipartEtag });
  });

  it('the /s3 path checks presigned URLs as S3 does: unsigned, tampered and expired requests get 403', async () => {
    const key = 'incoming/guarded.dcm';
    const url = await getSignedUrl(presigningS3Client(), new PutObjectCommand({ Bucket: stack.buckets.quarantine, Key: key }), { expiresIn: 600 });
    const unsigned = await fetch(`${stack.url}/s3/${stack.buckets.archive}/studies/`, { method: 'GET' });
    expect(unsigned.status).toBe(403);
    expect(await unsigned.text()).toContain('<Code>AccessDenied</Code>');
    const tampered = await fetch(url.replace('guarded.dcm', 'other.dcm'), { method: 'PUT', body: 'x' });
    expect(tampered.status).toBe(403);
    expect(await tampered.text()).toContain('<Code>SignatureDoesNotMatch</Code>');
    const signedAnHourAgo = await getSignedUrl(presigningS3Client(), new PutObjectCommand({ Bucket: stack.buckets.quarantine, Key: key }), { expiresIn: 60, signingDate: new Date(Date.now() - 3_600_000) });
    const expired = await fetch(signedAnHourAgo, { method: 'PUT', body: 'x' });
    expect(expired.status).toBe(403);
    expect(await expired.text()).toContain('Request has expired');
    const before = await stack.bridge.delivered();
    expect((await fetch(url, { method: 'PUT', body: 'x' })).status).toBe(200);
    await stack.waitForIngestIdle({ queues: ['ingest'] });
    expect(await stack.bridge.delivered()).toBe(before + 1);
  });

  it('a presigned GET through the front door downloads (export links)', async () => {
    await stack.s3.send(new PutObjectCommand({ Bucket: stack.buckets.exports, Key: 'exports/e1.zip', Body: 'zip bytes' }));
    const url = await getSignedUrl(presigningS3Client(), new GetObjectCommand({ Bucket: stack.buckets.exports, Key: 'exports/e1.zip', ResponseContentDisposition: 'attachment; filename="e1.zip"' }), { expiresIn: 600 });
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="e1.zip"');
    expect(await res.text()).toBe('zip bytes');
  });

  it('a single PUT over 11 MiB is refused with 413 by the emulator (clients use multipart above 10 MiB)', async () => {
    const url = await getSignedUrl(presigningS3Client(), new PutObjectCommand({ Bucket: stack.buckets.quarantine, Key: 'incoming/too-big.bin' }), { expiresIn: 600 });
    const res = await fetch(url, { method: 'PUT', body: new Uint8Array(11 * 1024 * 1024 + 1) });
    expect(res.status).toBe(413);
    expect(await res.text()).toContain('multipart');
    // The front door draws the emulator's own line: 10 MiB passes, over 11 MiB does not even directly.
    await expect(stack.s3.send(new PutObjectCommand({ Bucket: stack.buckets.quarantine, Key: 'incoming/too-big.bin', Body: new Uint8Array(11 * 1024 * 1024 + 1) }))).rejects.toThrow();
    await stack.s3.send(new PutObjectCommand({ Bucket: stack.buckets.quarantine, Key: 'incoming/just-fits.bin', Body: new Uint8Array(10 * 1024 * 1024) }));
  });
});

describe('the mail outbox', () => {
  it('verification and reset codes Cognito would email land in the outbox as emails', async () => {
    const email = 'outbox.reader@hospital.test';
    const clientId = stack.env.WEB_CLIENT_ID as string;
    await stack.cognito.send(new SignUpCommand({ ClientId: clientId, Username: email, Password: 'Reader-pass-1!', UserAttributes: [{ Name: 'email', Value: email }] }));
    const verify = await stack.waitForMail((m) => m.to.includes(email) && /Verify/.test(m.subject));
    expect(verify.subject).toBe('Verify your email address for medlake');
    expect(verify.text).toContain(`Your medlake verification code is: ${stack.confirmationCode}`);
    expect(verify.text).toContain(stack.url);

    await stack.cognito.send(new AdminConfirmSignUpCommand({ UserPoolId: stack.env.USER_POOL_ID, Username: email }));
    await stack.cognito.send(new ForgotPasswordCommand({ ClientId: clientId, Username: email }));
    const reset = await stack.waitForMail((m) => m.to.includes(email) && /Reset/.test(m.subject));
    expect(reset.subject).toBe('Reset your medlake password');
    expect(reset.text).toContain(stack.confirmationCode);
  });

  it("handlers' Mailer.send writes into MAIL_OUTBOX_DIR", async () => {
    expect(stack.env.MAIL_OUTBOX_DIR).toBe(stack.outboxDir);
    await mailerFromEnv().send({ to: 'researcher@hospital.test', subject: 'Your export is ready', text: 'Download: http://localhost/exports/1', html: '<a href="http://localhost/exports/1">Download</a>' });
    const mail = await stack.waitForMail((m) => m.subject === 'Your export is ready');
    expect(mail).toMatchObject({ to: ['researcher@hospital.test'], text: 'Download: http://localhost/exports/1', html: '<a href="http://localhost/exports/1">Download</a>' });
  });
});

describe('a stack that cannot start', () => {
  it('reports the failing component in a sentence and leaves no process behind', async () => {
    const { mkdtempSync, readdirSync, readFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { startLocalStack } = await import('@medlake/local/stack');
    const componentChildren = () =>
      readdirSync('/proc')
        .filter((entry) => /^\d+$/.test(entry))
        .filter((pid) => {
          try {
            const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
            return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === process.pid && /cognito-local|aws-emulator-service/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
          } catch {
            return false;
          }
        });
    const before = componentChildren();
    const dir = mkdtempSync(join(tmpdir(), 'medlake-broken-'));
    try {
      // The database fails while the emulators are starting: they must be stopped, not orphaned.
      await expect(
        startLocalStack({ dataDir: dir, port: 0, componentPorts: { aws: 0, cognito: 0 }, databaseUrl: 'postgres://nobody:nothing@127.0.0.1:1/none', setProcessEnv: false }),
      ).rejects.toMatchObject({ name: 'LocalStackError', code: 'database_unreachable', message: expect.stringMatching(/^The PostgreSQL in DATABASE_URL cannot be reached/) });
      expect(componentChildren()).toEqual(before);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
