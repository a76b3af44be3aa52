/**
 * The web app's upload engine (web/src/upload/engine.ts) against the real
 * lake: the upload API, presigned URLs into the S3 emulator through the front
 * door, multipart parts, completion and ingest. Network trouble is made real
 * by cutting requests off while they are on the wire.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CreatedUpload, PartUrl, PutRequest, ResumeStore, SavedMultipart, Transport, UploadApi } from '../../web/src/upload/engine';
import { UploadEngine } from '../../web/src/upload/engine';
import { TransferError } from '../../web/src/upload/retry';
import { phiInstance, phiPart10 } from '../fixtures/dicom/phi-instance';
import type { TestStack, TestUser } from '../support/local-stack';
import { startTestStack } from '../support/local-stack';

const MiB = 1024 * 1024;

let stack: TestStack;
let uploader: TestUser;
const savedEnv = { part: process.env.UPLOAD_PART_SIZE_BYTES };

class HttpFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The API as the browser calls it (here with the uploader's Bearer token instead of the cookie). */
function lakeApi(token: string): UploadApi & { partCalls: number[][] } {
  const call = async <T>(path: string, json: unknown): Promise<T> => {
    const answer = await stack.request(path, { token, json });
    if (answer.status >= 300) {
      const error = (answer.body as { error?: { code: string; message: string } }).error;
      throw new HttpFailure(answer.status, error?.code ?? `http_${answer.status}`, error?.message ?? answer.text);
    }
    return answer.body as T;
  };
  const partCalls: number[][] = [];
  return {
    partCalls,
    createUpload: (files) => call<CreatedUpload>('/api/uploads', { files }),
    partUrls: async (uploadId, index, partNumbers) => {
      partCalls.push(partNumbers);
      return (await call<{ parts: PartUrl[] }>(`/api/uploads/${uploadId}/files/${index}/parts`, { partNumbers })).parts;
    },
    completeFile: async (uploadId, index, parts) => {
      await call(`/api/uploads/${uploadId}/files/${index}/complete`, { parts });
    },
  };
}

/** PUT with fetch; `cut` aborts chosen requests mid-flight, the way a dropped connection ends them. */
function fetchTransport(cut: (url: string) => boolean = () => false): Transport & { sent: string[] } {
  const sent: string[] = [];
  return {
    sent,
    async put(request: PutRequest) {
      sent.push(new URL(request.url).pathname + new URL(request.url).search.replace(/X-Amz-[^&]*&?/g, ''));
      const wire = new AbortController();
      const stop = () => wire.abort();
      request.signal.addEventListener('abort', stop, { once: true });
      if (cut(request.url)) setTimeout(() => wire.abort(), 1);
      try {
        const response = await fetch(request.url, { method: 'PUT', body: request.body, headers: request.headers, signal: wire.signal });
        const text = await response.text();
        if (!response.ok) throw new TransferError(response.status, `Storage answered ${response.status}.`, /<Code>([^<]+)<\/Code>/.exec(text)?.[1]);
        request.onProgress(request.body.size);
        return { etag: response.headers.get('etag') ?? undefined };
      } catch (error) {
        if (error instanceof TransferError) throw error;
        if (request.signal.aborted) throw request.signal.reason;
        throw new TransferError(0, 'The connection to storage failed.');
      } finally {
        request.signal.removeEventListener('abort', stop);
      }
    },
  };
}

function memoryStore(): ResumeStore & { all: Map<string, SavedMultipart> } {
  const all = new Map<string, SavedMultipart>();
  return { all, get: (f) => (all.has(f) ? structuredClone(all.get(f)) : undefined), put: (s) => all.set(s.fingerprint, structuredClone(s)), remove: (f) => all.delete(f) };
}

const quick = { backoff: { baseDelayMs: 20, maxDelayMs: 100 } };

function dicomFile(name: string, n: number, options: { rows?: number; columns?: number; frames?: number } = {}): File {
  const instance = phiInstance({
    patientId: `ENGINE-${n}`,
    studyUid: `1.2.826.0.1.3680043.10.1000.611.${n}`,
    seriesUid: `1.2.826.0.1.3680043.10.1000.612.${n}`,
    sopUid: `1.2.826.0.1.3680043.10.1000.613.${n}`,
    ...options,
  });
  return new File([phiPart10(instance) as Uint8Array<ArrayBuffer>], name, { lastModified: 1_700_000_000_000 + n });
}

async function ingestOf(uploadId: string) {
  await stack.waitForIngestIdle({ timeoutMs: 60_000 });
  const answer = await stack.request(`/api/uploads/${uploadId}`, { token: uploader.idToken });
  expect(answer.status).toBe(200);
  return answer.body as { files: { index: number; name: string; state: string; reason?: string }[] };
}

describe('the web upload engine against the lake', () => {
  beforeAll(async () => {
    stack = await startTestStack();
    uploader = await stack.createUser({ groups: ['uploader'] });
    // Small parts, so a 16 MiB file goes in four (read by the API at request time).
    process.env.UPLOAD_PART_SIZE_BYTES = String(5 * MiB);
  });

  afterAll(async () => {
    if (savedEnv.part === undefined) delete process.env.UPLOAD_PART_SIZE_BYTES;
    else process.env.UPLOAD_PART_SIZE_BYTES = savedEnv.part;
    await stack?.stop();
  });

  it('sends files with presigned PUTs declaring their sha256, survives a dropped connection, and every file is ingested', async () => {
    let dropped = 0;
    const transport = fetchTransport(() => dropped++ === 1);
    const { createHash } = await import('node:crypto');
    const engine = new UploadEngine({
      api: lakeApi(uploader.idToken),
      transport,
      store: memoryStore(),
      hash: async (blob) => createHash('sha256').update(new Uint8Array(await blob.arrayBuffer())).digest('hex'),
      ...quick,
    });
    engine.add([1, 2, 3].map((n) => ({ file: dicomFile(`IM000${n}.dcm`, n), path: `CT/IM000${n}.dcm` })));
    await engine.idle();
    const snapshot = engine.snapshot();
    expect(snapshot.files.map((f) => f.state)).toEqual(['uploaded', 'uploaded', 'uploaded']);
    expect(snapshot.files.reduce((n, f) => n + f.retries, 0)).toBe(1);
    expect(transport.sent).toHaveLength(4);
    const status = await ingestOf(snapshot.uploadIds[0] as string);
    expect(status.files.map((f) => [f.name, f.state])).toEqual([['CT/IM0001.dcm', 'accepted'], ['CT/IM0002.dcm', 'accepted'], ['CT/IM0003.dcm', 'accepted']]);
  });

  it('a large file goes in parallel parts; stopped half-way, a new page continues it with fresh part URLs and the lake ingests it whole', async () => {
    const big = dicomFile('multiframe.dcm', 9, { rows: 1024, columns: 1024, frames: 8 });
    expect(big.size).toBeGreaterThan(15 * MiB);
    const store = memoryStore();
    const api = lakeApi(uploader.idToken);
    let puts = 0;
    const first = new UploadEngine({
      api,
      transport: {
        async put(request) {
          const answer = await fetchTransport().put(request);
          if (++puts === 2) first.cancel();
          return answer;
        },
      },
      store,
      concurrency: 1,
      ...quick,
    });
    first.add([{ file: big, path: 'MF/multiframe.dcm' }]);
    await first.idle();
    expect(first.snapshot().files[0]).toMatchObject({ state: 'cancelled', multipart: true });
    const saved = [...store.all.values()][0] as SavedMultipart;
    expect(saved.partCount).toBe(4);
    expect(Object.keys(saved.etags).map(Number).sort()).toEqual([1, 2]);

    // A new page: the same file given again continues the same upload.
    const transport = fetchTransport();
    const second = new UploadEngine({ api, transport, store, concurrency: 2, ...quick });
    second.add([{ file: big, path: 'MF/multiframe.dcm' }]);
    await second.idle();
    expect(second.snapshot().files[0]).toMatchObject({ state: 'uploaded', resumed: true, uploadId: saved.uploadId, loadedBytes: big.size });
    expect(transport.sent.map((path) => /partNumber=(\d+)/.exec(path)?.[1]).sort()).toEqual(['3', '4']);
    expect(api.partCalls).toEqual([[3, 4]]);
    expect(store.all.size).toBe(0);
    const status = await ingestOf(saved.uploadId);
    expect(status.files[0]).toMatchObject({ name: 'MF/multiframe.dcm', state: 'accepted' });
  });
});
