/**
 * The engine's decisions (batches, parallel parts, retries, waiting for the
 * network, fresh URLs, resuming) under failures a real network cannot be
 * made to produce on cue. The storage here is a scripted in-memory stand-in
 * that keeps what S3 would keep (objects, multipart parts with ETags); the
 * same engine runs against the real upload API and S3 emulator in
 * test/e2e/upload-engine.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { CreatedUpload, FileSpec, PartUrl, PutRequest, ResumeStore, SavedMultipart, UploadApi } from './engine';
import { UploadEngine, limiter } from './engine';
import type { PickedFile } from './files';
import { TransferError } from './retry';

class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
  ) {
    super(code);
  }
}

interface MultipartState {
  key: string;
  parts: Map<number, { etag: string; bytes: Uint8Array }>;
  partSizeBytes: number;
  partCount: number;
  completed: boolean;
}

/** What the lake's API and S3 would remember, plus hooks to make requests fail. */
class Lake implements UploadApi {
  objects = new Map<string, Uint8Array>();
  multiparts = new Map<string, MultipartState>();
  creates: FileSpec[][] = [];
  partUrlCalls: { uploadId: string; index: number; partNumbers: number[] }[] = [];
  puts: string[] = [];
  inFlight = 0;
  maxInFlight = 0;
  /** Return a TransferError to fail this PUT (by URL), undefined to let it through. */
  failPut: (url: string, attempt: number) => TransferError | undefined = () => undefined;
  failPartUrls: (() => Error | undefined) | undefined;
  private attemptsByUrl = new Map<string, number>();
  private counter = 0;

  constructor(
    private readonly multipartThreshold = 100,
    private readonly partSize = 40,
    private readonly partsUpFront = 1000,
  ) {}

  async createUpload(files: FileSpec[]): Promise<CreatedUpload> {
    this.creates.push(files);
    const uploadId = `up-${++this.counter}`;
    return {
      uploadId,
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
      files: files.map((file, index) => {
        // As the upload API names quarantine objects: upload and file number, never the file's name.
        const key = `incoming/${uploadId}/${index}`;
        if (file.sizeBytes < this.multipartThreshold) return { index, name: file.name, key, method: 'PUT' as const, url: `put:${key}#1`, headers: file.sha256 ? { 'x-amz-checksum-sha256': file.sha256 } : ({} as Record<string, string>) };
        const partCount = Math.ceil(file.sizeBytes / this.partSize);
        this.multiparts.set(`${uploadId}#${index}`, { key, parts: new Map(), partSizeBytes: this.partSize, partCount, completed: false });
        const parts = Array.from({ length: Math.min(partCount, this.partsUpFront) }, (_, i) => ({ partNumber: i + 1, url: `part:${uploadId}#${index}#${i + 1}#1` }));
        return { index, name: file.name, key, method: 'multipart' as const, uploadId: `mp-${uploadId}-${index}`, partSizeBytes: this.partSize, partCount, parts };
      }),
    };
  }

  async partUrls(uploadId: string, index: number, partNumbers: number[]): Promise<PartUrl[]> {
    this.partUrlCalls.push({ uploadId, index, partNumbers });
    const failure = this.failPartUrls?.();
    if (failure) throw failure;
    const state = this.multiparts.get(`${uploadId}#${index}`);
    if (!state) throw new ApiFailure(404, 'upload_not_found');
    if (state.completed) throw new ApiFailure(409, 'upload_completed');
    return partNumbers.map((partNumber) => ({ partNumber, url: `part:${uploadId}#${index}#${partNumber}#${++this.counter}` }));
  }

  async completeFile(uploadId: string, index: number, parts: { partNumber: number; etag: string }[]): Promise<void> {
    const state = this.multiparts.get(`${uploadId}#${index}`);
    if (!state) throw new ApiFailure(404, 'upload_not_found');
    if (parts.length !== state.partCount) throw new ApiFailure(400, 'invalid_parts');
    const chunks = parts.map((p) => {
      const stored = state.parts.get(p.partNumber);
      if (!stored || stored.etag !== p.etag) throw new ApiFailure(400, 'invalid_parts');
      return stored.bytes;
    });
    const whole = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const chunk of chunks) {
      whole.set(chunk, at);
      at += chunk.length;
    }
    this.objects.set(state.key, whole);
    state.completed = true;
  }

  transport = {
    put: async (request: PutRequest) => {
      const attempt = (this.attemptsByUrl.get(request.url) ?? 0) + 1;
      this.attemptsByUrl.set(request.url, attempt);
      this.puts.push(request.url);
      this.inFlight += 1;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      try {
        // Yield so parallel requests overlap, and report progress half-way.
        await new Promise((r) => setTimeout(r, 1));
        request.onProgress(Math.floor(request.body.size / 2));
        await new Promise((r) => setTimeout(r, 1));
        if (request.signal.aborted) throw request.signal.reason;
        const failure = this.failPut(request.url, attempt);
        if (failure) throw failure;
        const bytes = new Uint8Array(await request.body.arrayBuffer());
        request.onProgress(bytes.length);
        if (request.url.startsWith('put:')) {
          this.objects.set(request.url.slice(4).split('#')[0] as string, bytes);
          return { etag: '"single"' };
        }
        const [, uploadId, index, partNumber] = /^part:([^#]+)#(\d+)#(\d+)#/.exec(request.url) ?? [];
        const state = this.multiparts.get(`${uploadId}#${index}`);
        if (!state) throw new TransferError(404, 'no such upload', 'NoSuchUpload');
        const etag = `"etag-${partNumber}-${bytes.length}"`;
        state.parts.set(Number(partNumber), { etag, bytes });
        return { etag };
      } finally {
        this.inFlight -= 1;
      }
    },
  };
}

function memoryStore(): ResumeStore & { all: Map<string, SavedMultipart> } {
  const all = new Map<string, SavedMultipart>();
  return { all, get: (f) => (all.has(f) ? structuredClone(all.get(f)) : undefined), put: (s) => all.set(s.fingerprint, structuredClone(s)), remove: (f) => all.delete(f) };
}

function bytes(length: number, seed = 1): Uint8Array<ArrayBuffer> {
  return Uint8Array.from({ length }, (_, i) => (i * 31 + seed) % 251);
}

function pick(name: string, content: Uint8Array<ArrayBuffer>, lastModified = 1000): PickedFile {
  return { file: new File([content], name.split('/').at(-1) as string, { lastModified }), path: name };
}

const noWait = { wait: async () => undefined, backoff: { baseDelayMs: 100, maxDelayMs: 1_000, random: () => 1 } };

function engineFor(lake: Lake, extra: Partial<ConstructorParameters<typeof UploadEngine>[0]> = {}) {
  return new UploadEngine({ api: lake, transport: lake.transport, store: memoryStore(), ...noWait, ...extra });
}

describe('UploadEngine', () => {
  it('sends small files with single PUTs, declaring their sha256, and counts every byte', async () => {
    const lake = new Lake();
    const engine = engineFor(lake, { hash: async (blob) => `sha-${blob.size}` });
    engine.add([pick('CT/IM1', bytes(30)), pick('CT/IM2', bytes(50, 2))]);
    await engine.idle();
    const snapshot = engine.snapshot();
    expect(snapshot.files.map((f) => f.state)).toEqual(['uploaded', 'uploaded']);
    expect(snapshot.loadedBytes).toBe(80);
    expect(snapshot.totalBytes).toBe(80);
    expect(lake.creates).toEqual([[{ name: 'CT/IM1', sizeBytes: 30, sha256: 'sha-30' }, { name: 'CT/IM2', sizeBytes: 50, sha256: 'sha-50' }]]);
    expect(lake.objects.get('incoming/up-1/1')).toEqual(bytes(50, 2));
    expect(snapshot.files.map((f) => [f.uploadId, f.index])).toEqual([['up-1', 0], ['up-1', 1]]);
  });

  it('splits a large selection into batches by file count and by bytes', async () => {
    const lake = new Lake(10_000);
    const engine = engineFor(lake, { batchMaxFiles: 2, batchMaxBytes: 100 });
    engine.add([pick('a', bytes(10)), pick('b', bytes(10)), pick('c', bytes(90)), pick('d', bytes(20)), pick('e', bytes(5))]);
    await engine.idle();
    expect(lake.creates.map((batch) => batch.map((f) => f.name))).toEqual([['a', 'b'], ['c'], ['d', 'e']]);
    expect(engine.snapshot().counts.uploaded).toBe(5);
    expect(engine.snapshot().uploadIds).toEqual(['up-1', 'up-2', 'up-3']);
  });

  it('sends a large file in parts, several at once but never more than the limit, and completes it with every ETag', async () => {
    const lake = new Lake(100, 40);
    const content = bytes(1_000);
    const engine = engineFor(lake, { concurrency: 3 });
    engine.add([pick('big.zip', content)]);
    await engine.idle();
    expect(engine.snapshot().files[0]).toMatchObject({ state: 'uploaded', multipart: true, loadedBytes: 1_000 });
    expect(lake.objects.get('incoming/up-1/0')).toEqual(content);
    expect(lake.maxInFlight).toBe(3);
    expect(lake.puts).toHaveLength(25);
  });

  it('asks for the part URLs the batch answer did not include, many at a time', async () => {
    const lake = new Lake(100, 40, 2);
    const engine = engineFor(lake, { concurrency: 2 });
    engine.add([pick('big', bytes(400))]);
    await engine.idle();
    expect(engine.snapshot().files[0]?.state).toBe('uploaded');
    expect(lake.partUrlCalls.map((c) => c.partNumbers)).toEqual([[3, 4, 5, 6, 7, 8, 9, 10]]);
  });

  it('retries a transfer that met a network error or a server error, with growing pauses', async () => {
    const lake = new Lake();
    lake.failPut = (_url, attempt) => (attempt === 1 ? new TransferError(0, 'The connection to storage failed.') : attempt === 2 ? new TransferError(503, 'busy', 'SlowDown') : undefined);
    const waits: number[] = [];
    const engine = engineFor(lake, { wait: async (ms) => void waits.push(ms) });
    engine.add([pick('IM1', bytes(20))]);
    await engine.idle();
    expect(engine.snapshot().files[0]).toMatchObject({ state: 'uploaded', retries: 2 });
    expect(waits).toEqual([100, 200]);
  });

  it('gives up after the last try and says why; "retry failed" sends the file again with a new link', async () => {
    const lake = new Lake();
    let broken = true;
    lake.failPut = () => (broken ? new TransferError(500, 'Storage answered 500.') : undefined);
    const engine = engineFor(lake, { attempts: 3 });
    engine.add([pick('IM1', bytes(20))]);
    await engine.idle();
    expect(engine.snapshot().files[0]).toMatchObject({ state: 'failed', message: 'Storage answered 500.', loadedBytes: 0 });
    expect(lake.puts).toHaveLength(3);
    broken = false;
    engine.retryFailed();
    await engine.idle();
    expect(engine.snapshot().files[0]?.state).toBe('uploaded');
    expect(lake.creates).toHaveLength(2);
  });

  it('does not retry what cannot succeed (a refused checksum)', async () => {
    const lake = new Lake();
    lake.failPut = () => new TransferError(400, 'Storage answered 400 (BadDigest).', 'BadDigest');
    const engine = engineFor(lake);
    engine.add([pick('IM1', bytes(20))]);
    await engine.idle();
    expect(engine.snapshot().files[0]).toMatchObject({ state: 'failed', message: 'Storage answered 400 (BadDigest).' });
    expect(lake.puts).toHaveLength(1);
  });

  it('waits for the network to come back without spending its tries', async () => {
    const lake = new Lake();
    let online = false;
    let wakeUp: () => void = () => undefined;
    lake.failPut = () => (online ? undefined : new TransferError(0, 'The connection to storage failed.'));
    const engine = engineFor(lake, {
      attempts: 2,
      connectivity: { online: () => online, waitUntilOnline: () => new Promise<void>((resolve) => (wakeUp = resolve)) },
    });
    engine.add([pick('IM1', bytes(20))]);
    await new Promise((r) => setTimeout(r, 20));
    expect(engine.snapshot().files[0]).toMatchObject({ state: 'waiting-network', message: 'Waiting for the network to come back.' });
    online = true;
    wakeUp();
    await engine.idle();
    expect(engine.snapshot().files[0]).toMatchObject({ state: 'uploaded', retries: 0 });
  });

  it('gets a fresh URL for a part whose link expired', async () => {
    const lake = new Lake(100, 50);
    lake.failPut = (url) => (url === 'part:up-1#0#2#1' ? new TransferError(403, 'Storage answered 403 (AccessDenied).', 'AccessDenied') : undefined);
    const engine = engineFor(lake);
    engine.add([pick('big', bytes(150))]);
    await engine.idle();
    expect(engine.snapshot().files[0]?.state).toBe('uploaded');
    expect(lake.partUrlCalls).toEqual([{ uploadId: 'up-1', index: 0, partNumbers: [2] }]);
  });

  it('reports an expired single-PUT link as such (no URL can be refreshed for it)', async () => {
    const lake = new Lake();
    lake.failPut = () => new TransferError(403, 'Storage answered 403 (AccessDenied).', 'AccessDenied');
    const engine = engineFor(lake);
    engine.add([pick('IM1', bytes(20))]);
    await engine.idle();
    expect(engine.snapshot().files[0]?.message).toMatch(/link expired.*Retry failed/);
  });

  it('stops the other parts of a file when one fails for good, and keeps what S3 already has for later', async () => {
    const lake = new Lake(100, 10);
    lake.failPut = (url) => (url.includes('#0#5#') ? new TransferError(400, 'Storage answered 400 (InvalidArgument).', 'InvalidArgument') : undefined);
    const store = memoryStore();
    const engine = engineFor(lake, { store, concurrency: 2 });
    engine.add([pick('big', bytes(200))]);
    await engine.idle();
    expect(engine.snapshot().files[0]?.state).toBe('failed');
    const saved = [...store.all.values()][0];
    expect(Object.keys(saved?.etags ?? {}).length).toBeGreaterThanOrEqual(4);
    expect(lake.puts.length).toBeLessThan(20);
  });

  it('continues an interrupted multipart upload on a new page: only the missing parts, then completion', async () => {
    const lake = new Lake(100, 10);
    const store = memoryStore();
    const content = bytes(100);
    let sent = 0;
    const first = engineFor(lake, { store, concurrency: 1 });
    lake.failPut = () => {
      sent += 1;
      if (sent === 4) first.cancel();
      return undefined;
    };
    first.add([pick('CT/big.zip', content, 42)]);
    await first.idle();
    expect(first.snapshot().files[0]?.state).toBe('cancelled');
    const saved = [...store.all.values()][0] as SavedMultipart;
    const done = Object.keys(saved.etags).map(Number);
    expect(done.length).toBeGreaterThanOrEqual(3);

    lake.failPut = () => undefined;
    lake.puts = [];
    const second = engineFor(lake, { store });
    second.add([pick('CT/big.zip', content, 42)]);
    await second.idle();
    expect(second.snapshot().files[0]).toMatchObject({ state: 'uploaded', resumed: true, uploadId: 'up-1', index: 0, loadedBytes: 100 });
    expect(lake.creates).toHaveLength(1);
    expect(lake.puts.map((url) => Number(url.split('#')[2])).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].filter((n) => !done.includes(n)));
    expect(lake.objects.get('incoming/up-1/0')).toEqual(content);
    expect(store.all.size).toBe(0);
  });

  it('sends the file anew when the earlier upload can no longer be continued', async () => {
    const lake = new Lake(100, 10);
    const store = memoryStore();
    store.put({ fingerprint: 'CT/big|100|42', uploadId: 'up-old', index: 0, partSizeBytes: 10, partCount: 10, etags: { 1: '"x"' }, createdAtMs: Date.now() });
    lake.failPartUrls = () => (lake.partUrlCalls.length === 1 ? new ApiFailure(410, 'upload_expired') : undefined);
    const engine = engineFor(lake, { store });
    engine.add([pick('CT/big', bytes(100), 42)]);
    await engine.idle();
    expect(engine.snapshot().files[0]).toMatchObject({ state: 'uploaded', resumed: false, uploadId: 'up-1' });
    expect(lake.creates).toHaveLength(1);
  });

  it('forgets saved uploads older than the resume window', async () => {
    const lake = new Lake(100, 10);
    const store = memoryStore();
    store.put({ fingerprint: 'big|100|42', uploadId: 'up-old', index: 0, partSizeBytes: 10, partCount: 10, etags: { 1: '"x"' }, createdAtMs: 0 });
    const engine = engineFor(lake, { store, now: () => 48 * 3600 * 1000 });
    engine.add([pick('big', bytes(100), 42)]);
    await engine.idle();
    expect(lake.partUrlCalls).toEqual([]);
    expect(engine.snapshot().files[0]?.state).toBe('uploaded');
  });

  it('retries API calls that met a server hiccup', async () => {
    const lake = new Lake();
    const create = lake.createUpload.bind(lake);
    let calls = 0;
    lake.createUpload = async (files) => {
      calls += 1;
      if (calls === 1) throw new ApiFailure(503, 'http_503');
      return create(files);
    };
    const engine = engineFor(lake);
    engine.add([pick('IM1', bytes(20))]);
    await engine.idle();
    expect(engine.snapshot().files[0]?.state).toBe('uploaded');
    expect(calls).toBe(2);
  });

  it('fails a batch the API refuses, with the API\'s sentence', async () => {
    const lake = new Lake();
    lake.createUpload = async () => {
      throw Object.assign(new Error('at most 1000 files per upload; split the batch'), { status: 400, code: 'invalid_request' });
    };
    const engine = engineFor(lake);
    engine.add([pick('IM1', bytes(20))]);
    await engine.idle();
    expect(engine.snapshot().files[0]).toMatchObject({ state: 'failed', message: 'at most 1000 files per upload; split the batch' });
  });

  it('does not queue a file twice, but takes a failed one back', async () => {
    const lake = new Lake();
    lake.failPut = (_url, attempt) => (attempt === 1 && lake.creates.length === 1 ? new TransferError(400, 'no', 'InvalidArgument') : undefined);
    const engine = engineFor(lake);
    const file = pick('IM1', bytes(20));
    expect(engine.add([file, file])).toBe(1);
    await engine.idle();
    expect(engine.snapshot().files[0]?.state).toBe('failed');
    expect(engine.add([file])).toBe(1);
    await engine.idle();
    expect(engine.snapshot().files).toHaveLength(1);
    expect(engine.snapshot().files[0]?.state).toBe('uploaded');
  });
});

describe('limiter', () => {
  it('runs at most n tasks at once, in order', async () => {
    const limit = limiter(2);
    let active = 0;
    let peak = 0;
    const order: number[] = [];
    await Promise.all(
      [1, 2, 3, 4, 5].map((n) =>
        limit(async () => {
          active += 1;
          peak = Math.max(peak, active);
          order.push(n);
          await new Promise((r) => setTimeout(r, 2));
          active -= 1;
        }),
      ),
    );
    expect(peak).toBe(2);
    expect(order).toEqual([1, 2, 3, 4, 5]);
  });
});
