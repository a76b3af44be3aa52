/**
 * The upload API through the front door with real Cognito tokens, the S3
 * emulator and the ingest worker: presigned PUTs and multipart uploads into
 * quarantine, resume, completion, status, listing, ownership and validation.
 * (DICOM content and de-identification: test/ingest*.test.ts.)
 */
import { randomBytes } from 'node:crypto';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestStack, TestUser } from './support/local-stack';
import { startTestStack } from './support/local-stack';

const MiB = 1024 * 1024;

let stack: TestStack;
let uploader: TestUser;
let otherUploader: TestUser;
let admin: TestUser;
let researcher: TestUser;
const savedEnv = { ...process.env };

interface PutFile { index: number; name: string; key: string; method: 'PUT'; url: string; headers: Record<string, string> }
interface MultipartFile { index: number; name: string; key: string; method: 'multipart'; uploadId: string; partSizeBytes: number; partCount: number; parts: { partNumber: number; url: string }[] }
interface Created { uploadId: string; expiresAt: string; files: (PutFile | MultipartFile)[] }
interface FileStatus { index: number; name: string; sizeBytes: number; state: string; reason?: string; instances: Record<string, number>; studies: string[] }
interface Status { uploadId: string; owner: string; totals: Record<string, unknown> & { files: number }; files: FileStatus[] }

beforeAll(async () => {
  // What the local stack needs against the emulator (single PUTs over ~11 MiB are refused): multipart from 10 MiB.
  process.env.UPLOAD_MULTIPART_THRESHOLD_BYTES = String(10 * MiB);
  process.env.UPLOAD_MAX_FILES = '20';
  process.env.UPLOAD_MAX_TOTAL_BYTES = String(100 * MiB);
  stack = await startTestStack();
  [uploader, otherUploader, admin, researcher] = await Promise.all([
    stack.createUser({ groups: ['uploader'] }),
    stack.createUser({ groups: ['uploader'] }),
    stack.createUser({ groups: ['admin'] }),
    stack.createUser({ groups: ['researcher'] }),
  ]);
});

afterAll(async () => {
  await stack?.stop();
  process.env = savedEnv;
});

async function createUpload(user: TestUser, files: { name: string; sizeBytes: number; sha256?: string }[]): Promise<Created> {
  const res = await stack.request('/api/uploads', { token: user.idToken, json: { files } });
  expect(res.status, res.text).toBe(201);
  return res.body as Created;
}

async function status(user: TestUser, uploadId: string): Promise<Status> {
  const res = await stack.request(`/api/uploads/${uploadId}`, { token: user.idToken });
  expect(res.status, res.text).toBe(200);
  return res.body as Status;
}

async function put(url: string, body: Uint8Array, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'PUT', body, headers });
}

describe('creating an upload', () => {
  it('answers presigned PUT URLs under incoming/{upload}/{index} (no file name), expiring as configured', async () => {
    const created = await createUpload(uploader, [{ name: '../../etc/Patient Doe.dcm', sizeBytes: 1234 }, { name: 'b.zip', sizeBytes: 99 }]);
    expect(created.uploadId).toMatch(/^[0-9a-f-]{36}$/);
    const [first, second] = created.files as PutFile[];
    expect(first).toMatchObject({ index: 0, name: '../../etc/Patient Doe.dcm', method: 'PUT', key: `incoming/${created.uploadId}/0` });
    expect(second?.key).toBe(`incoming/${created.uploadId}/1`);
    const url = new URL(first?.url ?? '');
    expect(url.pathname.endsWith(`/incoming/${created.uploadId}/0`)).toBe(true);
    expect(first?.url).not.toMatch(/Doe/i);
    expect(url.searchParams.get('X-Amz-Expires')).toBe('900');
    // The size is part of the signature: S3 refuses any other Content-Length.
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toContain('content-length');
    expect(url.searchParams.get('x-amz-checksum-crc32')).toBeNull();
    expect(Date.parse(created.expiresAt) - Date.now()).toBeGreaterThan(800_000);
  });

  it('binds the declared sha256 to the PUT (header to send, signed)', async () => {
    const bytes = randomBytes(2000);
    const { createHash } = await import('node:crypto');
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const created = await createUpload(uploader, [{ name: 'x.bin', sizeBytes: bytes.length, sha256 }]);
    const file = created.files[0] as PutFile;
    expect(file.headers['x-amz-checksum-sha256']).toBe(Buffer.from(sha256, 'hex').toString('base64'));
    expect(new URL(file.url).searchParams.get('X-Amz-SignedHeaders')).toContain('x-amz-checksum-sha256');
  });

  it('honours UPLOAD_URL_EXPIRES_SECONDS', async () => {
    process.env.UPLOAD_URL_EXPIRES_SECONDS = '60';
    try {
      const created = await createUpload(uploader, [{ name: 'a.dcm', sizeBytes: 10 }]);
      expect(new URL((created.files[0] as PutFile).url).searchParams.get('X-Amz-Expires')).toBe('60');
      expect(Date.parse(created.expiresAt) - Date.now()).toBeLessThanOrEqual(60_000);
    } finally {
      delete process.env.UPLOAD_URL_EXPIRES_SECONDS;
    }
  });

  it.each([
    [{ files: [] }, 'list at least one file'],
    [{ files: [{ name: '', sizeBytes: 1 }] }, 'a file needs a name'],
    [{ files: [{ name: 'a', sizeBytes: 0 }] }, 'empty files cannot be uploaded'],
    [{ files: [{ name: 'a', sizeBytes: 1.5 }] }, 'whole number'],
    [{ files: [{ name: 'a', sizeBytes: 1, sha256: 'abc' }] }, 'sha256 must be 64 hexadecimal digits'],
    [{ files: [{ name: 'a\u0000b', sizeBytes: 1 }] }, 'control characters'],
    [{ files: Array.from({ length: 21 }, (_, i) => ({ name: `f${i}`, sizeBytes: 1 })) }, 'at most 20 files per upload'],
    [{ files: [{ name: 'a', sizeBytes: 60 * MiB }, { name: 'b', sizeBytes: 60 * MiB }] }, 'limited to 100 MiB in total'],
    [{ nothing: true }, 'files'],
  ])('refuses %j with a readable 400', async (body, message) => {
    const res = await stack.request('/api/uploads', { token: uploader.idToken, json: body });
    expect(res.status).toBe(400);
    const error = (res.body as { error: { code: string; message: string } }).error;
    expect(error.code).toBe('invalid_request');
    expect(error.message).toContain(message);
  });

  it('is for uploaders and admins only', async () => {
    expect((await stack.request('/api/uploads', { token: researcher.idToken, json: { files: [{ name: 'a', sizeBytes: 1 }] } })).status).toBe(403);
    expect((await stack.request('/api/uploads', { json: { files: [{ name: 'a', sizeBytes: 1 }] } })).status).toBe(401);
    await createUpload(admin, [{ name: 'a.dcm', sizeBytes: 1 }]);
  });

  it('is audited without file names', async () => {
    const created = await createUpload(uploader, [{ name: 'SECRET-NAME.dcm', sizeBytes: 5 }]);
    const { rows } = await stack.db.query<{ actor_sub: string; details: Record<string, unknown> }>(
      "SELECT actor_sub, details FROM audit_log WHERE action = 'uploads.create' AND resource = $1", [`upload/${created.uploadId}`],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]?.actor_sub).toBe(uploader.username);
    expect(rows[0]?.details).toMatchObject({ files: 1, totalBytes: 5 });
    expect(JSON.stringify(rows[0]?.details)).not.toContain('SECRET');
  });
});

describe('single PUT uploads', () => {
  it('stores the file in quarantine and reports a non-DICOM file as rejected with a reason', async () => {
    // A PNG: binary, neither DICOM nor zip (text files take the report pipeline).
    const bytes = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), randomBytes(3000)]);
    const created = await createUpload(uploader, [{ name: 'photo.png', sizeBytes: bytes.length }]);
    const file = created.files[0] as PutFile;
    expect((await put(file.url, bytes, file.headers)).status).toBe(200);
    await stack.waitForIngestIdle();
    const seen = await status(uploader, created.uploadId);
    expect(seen.files[0]).toMatchObject({ state: 'rejected', reason: 'The file is neither DICOM (Part 10) nor a zip archive of DICOM files.' });
    expect(seen.totals).toMatchObject({ files: 1, rejected: 1, waiting: 0 });
    // The original stays in quarantine.
    const object = await stack.s3.send(new GetObjectCommand({ Bucket: stack.buckets.quarantine, Key: file.key }));
    expect(Buffer.from(await object.Body!.transformToByteArray()).equals(bytes)).toBe(true);
  });

  it('rejects bytes that do not match the declared sha256', async () => {
    const declared = randomBytes(300);
    const { createHash } = await import('node:crypto');
    const created = await createUpload(uploader, [{ name: 'x.dcm', sizeBytes: 300, sha256: createHash('sha256').update(declared).digest('hex') }]);
    const file = created.files[0] as PutFile;
    // The emulator does not verify checksums (S3 does): the worker checks again.
    expect((await put(file.url, randomBytes(300), file.headers)).status).toBe(200);
    await stack.waitForIngestIdle();
    expect((await status(uploader, created.uploadId)).files[0]).toMatchObject({ state: 'rejected', reason: expect.stringContaining('do not match the SHA-256') });
  });

  it('shows files not uploaded yet as waiting', async () => {
    const created = await createUpload(uploader, [{ name: 'a.dcm', sizeBytes: 10 }, { name: 'b.dcm', sizeBytes: 10 }]);
    const seen = await status(uploader, created.uploadId);
    expect(seen.files.map((f) => f.state)).toEqual(['waiting', 'waiting']);
    expect(seen.totals).toMatchObject({ files: 2, waiting: 2, instances: { accepted: 0, duplicate: 0, rejected: 0, held: 0 } });
  });
});

describe('multipart uploads', () => {
  it('uploads a large file in parts, resumes with fresh part URLs, completes, and the worker processes it', async () => {
    const bytes = randomBytes(20 * MiB + 12345);
    const created = await createUpload(uploader, [{ name: 'large.bin', sizeBytes: bytes.length }]);
    const file = created.files[0] as MultipartFile;
    expect(file).toMatchObject({ method: 'multipart', partSizeBytes: 8 * MiB, partCount: 3 });
    expect(file.parts.map((p) => p.partNumber)).toEqual([1, 2, 3]);

    const etags: { partNumber: number; etag: string }[] = [];
    for (const part of file.parts.slice(0, 2)) {
      const res = await put(part.url, bytes.subarray((part.partNumber - 1) * file.partSizeBytes, part.partNumber * file.partSizeBytes));
      expect(res.status).toBe(200);
      etags.push({ partNumber: part.partNumber, etag: res.headers.get('etag') ?? '' });
    }
    // Completing with a part missing is refused before S3 is asked.
    const early = await stack.request(`/api/uploads/${created.uploadId}/files/0/complete`, { token: uploader.idToken, json: { parts: etags } });
    expect(early.status).toBe(400);
    expect((early.body as { error: { code: string } }).error.code).toBe('invalid_parts');

    // Resume: a fresh URL for the last part.
    const fresh = await stack.request(`/api/uploads/${created.uploadId}/files/0/parts`, { token: uploader.idToken, json: { partNumbers: [3] } });
    expect(fresh.status, fresh.text).toBe(200);
    const [part3] = (fresh.body as { parts: { partNumber: number; url: string }[] }).parts;
    const res = await put(part3?.url ?? '', bytes.subarray(2 * file.partSizeBytes));
    etags.push({ partNumber: 3, etag: res.headers.get('etag') ?? '' });

    const beyond = await stack.request(`/api/uploads/${created.uploadId}/files/0/parts`, { token: uploader.idToken, json: { partNumbers: [4] } });
    expect(beyond.status).toBe(400);

    const done = await stack.request(`/api/uploads/${created.uploadId}/files/0/complete`, { token: uploader.idToken, json: { parts: etags } });
    expect(done.status, done.text).toBe(200);
    const head = await stack.s3.send(new HeadObjectCommand({ Bucket: stack.buckets.quarantine, Key: file.key }));
    expect(head.ContentLength).toBe(bytes.length);
    await stack.waitForIngestIdle();
    expect((await status(uploader, created.uploadId)).files[0]).toMatchObject({ state: 'rejected', reason: expect.stringContaining('neither DICOM') });

    // A repeated completion is harmless; parts cannot be asked for any more.
    expect((await stack.request(`/api/uploads/${created.uploadId}/files/0/complete`, { token: uploader.idToken, json: { parts: etags } })).status).toBe(200);
    expect((await stack.request(`/api/uploads/${created.uploadId}/files/0/parts`, { token: uploader.idToken, json: { partNumbers: [1] } })).status).toBe(409);
  });

  it('refuses parts and completion of a single-PUT file', async () => {
    const created = await createUpload(uploader, [{ name: 'small.dcm', sizeBytes: 100 }]);
    const res = await stack.request(`/api/uploads/${created.uploadId}/files/0/parts`, { token: uploader.idToken, json: { partNumbers: [1] } });
    expect(res.status).toBe(409);
    expect((res.body as { error: { code: string } }).error.code).toBe('not_multipart');
  });

  it('cannot be continued after the resume window', async () => {
    process.env.UPLOAD_RESUME_WINDOW_SECONDS = '60';
    try {
      const created = await createUpload(uploader, [{ name: 'big.bin', sizeBytes: 12 * MiB }]);
      await stack.db.query("UPDATE uploads SET created_at = now() - interval '2 minutes' WHERE upload_id = $1", [created.uploadId]);
      const res = await stack.request(`/api/uploads/${created.uploadId}/files/0/parts`, { token: uploader.idToken, json: { partNumbers: [1] } });
      expect(res.status).toBe(410);
      expect((res.body as { error: { code: string } }).error.code).toBe('upload_expired');
    } finally {
      delete process.env.UPLOAD_RESUME_WINDOW_SECONDS;
    }
  });
});

describe('ownership', () => {
  it("hides someone else's upload (404) and lets admins read it", async () => {
    const created = await createUpload(uploader, [{ name: 'big.bin', sizeBytes: 12 * MiB }]);
    const other = await stack.request(`/api/uploads/${created.uploadId}`, { token: otherUploader.idToken });
    expect(other.status).toBe(404);
    expect((other.body as { error: { code: string } }).error.code).toBe('upload_not_found');
    expect((await stack.request(`/api/uploads/${created.uploadId}/files/0/parts`, { token: otherUploader.idToken, json: { partNumbers: [1] } })).status).toBe(404);
    expect((await stack.request(`/api/uploads/${created.uploadId}/files/0/complete`, { token: otherUploader.idToken, json: { parts: [{ partNumber: 1, etag: '"x"' }, { partNumber: 2, etag: '"y"' }] } })).status).toBe(404);
    expect((await status(admin, created.uploadId)).owner).toBe(uploader.email);
    // Only the owner continues an upload, admins included.
    expect((await stack.request(`/api/uploads/${created.uploadId}/files/0/parts`, { token: admin.idToken, json: { partNumbers: [1] } })).status).toBe(403);
    expect((await stack.request('/api/uploads/not-a-uuid', { token: uploader.idToken })).status).toBe(404);
    expect((await stack.request(`/api/uploads/${created.uploadId}`, { token: researcher.idToken })).status).toBe(403);
  });

  it('lists own uploads newest first with paging; admins see everyone', async () => {
    const lister = await stack.createUser({ groups: ['uploader'] });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await createUpload(lister, [{ name: `f${i}.dcm`, sizeBytes: 10 + i }])).uploadId);
    const first = await stack.request('/api/uploads?limit=2', { token: lister.idToken });
    const page1 = first.body as { items: { uploadId: string; totals: { files: number } }[]; next?: string };
    expect(page1.items.map((i) => i.uploadId)).toEqual([ids[2], ids[1]]);
    expect(page1.items[0]?.totals.files).toBe(1);
    const second = await stack.request(`/api/uploads?limit=2&before=${page1.next}`, { token: lister.idToken });
    const page2 = second.body as { items: { uploadId: string }[]; next?: string };
    expect(page2.items.map((i) => i.uploadId)).toEqual([ids[0]]);
    expect(page2.next).toBeUndefined();
    const all = await stack.request('/api/uploads?limit=200', { token: admin.idToken });
    const owners = new Set((all.body as { items: { owner: string }[] }).items.map((i) => i.owner));
    expect(owners.has(lister.email) && owners.has(uploader.email)).toBe(true);
    expect((await stack.request('/api/uploads?limit=0', { token: lister.idToken })).status).toBe(400);
    expect((await stack.request('/api/uploads?before=garbage', { token: lister.idToken })).status).toBe(400);
  });

  it('accepts uploads from the gateway machine client', async () => {
    const tokens = await stack.signIn(uploader.email, uploader.password, 'gateway');
    const res = await stack.request('/api/uploads', { token: tokens.accessToken, json: { files: [{ name: 'gw.dcm', sizeBytes: 10 }] } });
    expect(res.status, res.text).toBe(201);
    const { rows } = await stack.db.query<{ client: string }>('SELECT client FROM uploads WHERE upload_id = $1', [(res.body as Created).uploadId]);
    expect(rows[0]?.client).toBe('gateway');
  });
});
