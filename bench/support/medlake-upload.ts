/**
 * medlake's ingest workload, as a hospital gateway drives it: batches of
 * files announced with POST /api/uploads, each file PUT to its presigned URL,
 * `clients` batches in parallel; then the wait until every instance is in the
 * index (queryable). Shared by bench/ingest.bench.ts and bench/run.ts; works
 * on a TestStack or on the stack of another process (anything with the same
 * request/env/endpoints/db).
 */
import type pg from 'pg';
import type { RequestInit, TestResponse } from '../../test/support/local-stack';

export interface UploadTarget {
  request(path: string, init?: RequestInit): Promise<TestResponse>;
  env: Record<string, string>;
  endpoints: { aws: string };
}

export interface UploadFile {
  name: string;
  bytes: Buffer;
}

interface PresignedPut {
  index: number;
  method: 'PUT';
  url: string;
  headers?: Record<string, string>;
}

/**
 * Gateways PUT straight to S3 in AWS. Locally presigned URLs name the front
 * door's same-origin /s3 proxy (for browsers); BENCH_VIA_PROXY=1 keeps that
 * hop, by default the PUTs go to the emulator directly, like to S3.
 */
export function direct(stack: Pick<UploadTarget, 'env' | 'endpoints'>, url: string): string {
  const publicEndpoint = stack.env.S3_PUBLIC_ENDPOINT;
  if (process.env.BENCH_VIA_PROXY === '1' || !publicEndpoint || !url.startsWith(publicEndpoint)) return url;
  return stack.endpoints.aws + url.slice(publicEndpoint.length);
}

/** Each client takes the next batch: one POST /api/uploads, then its PUTs one after the other. Returns the upload IDs. */
export async function uploadAll(stack: UploadTarget, token: string | (() => string), files: readonly UploadFile[], options: { clients: number; filesPerUpload: number }): Promise<string[]> {
  const batches: (readonly UploadFile[])[] = [];
  for (let i = 0; i < files.length; i += options.filesPerUpload) batches.push(files.slice(i, i + options.filesPerUpload));
  const uploadIds: string[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: options.clients }, async () => {
    while (next < batches.length) {
      const batch = batches[next++] as readonly UploadFile[];
      const created = await stack.request('/api/uploads', { token: typeof token === 'function' ? token() : token, json: { files: batch.map((f) => ({ name: f.name, sizeBytes: f.bytes.length })) } });
      if (created.status !== 201) throw new Error(`upload creation failed: ${created.status} ${created.text}`);
      const body = created.body as { uploadId: string; files: PresignedPut[] };
      uploadIds.push(body.uploadId);
      for (const file of body.files) {
        const res = await fetch(direct(stack, file.url), { method: 'PUT', body: (batch[file.index] as UploadFile).bytes, headers: file.headers ?? {} });
        if (!res.ok) throw new Error(`PUT failed: ${res.status}`);
        await res.arrayBuffer();
      }
    }
  }));
  return uploadIds;
}

/**
 * Resolves once the index holds `expected` instances and no upload file is
 * waiting or processing; fails at once when every file is done but instances
 * are missing (rejected or held), and after `timeoutMs` otherwise.
 */
export async function waitQueryable(stack: { db: Pick<pg.Pool, 'query'> }, expected: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let settledShort = 0;
  for (;;) {
    const { rows } = await stack.db.query<{ n: string; open: string }>(
      `SELECT (SELECT count(*) FROM instances) AS n, (SELECT count(*) FROM upload_files WHERE state IN ('waiting', 'processing')) AS open`,
    );
    const n = Number(rows[0]?.n);
    const open = Number(rows[0]?.open);
    if (n >= expected && open === 0) return;
    // Files are created 'waiting' before their PUT arrives; a short grace covers the last PUT's event still on its way.
    settledShort = open === 0 ? settledShort + 1 : 0;
    if (settledShort > 50) {
      const { rows: outcome } = await stack.db.query<{ rejected: string; held: string }>(
        'SELECT coalesce(sum(instances_rejected), 0) AS rejected, coalesce(sum(instances_held), 0) AS held FROM upload_files',
      );
      throw new Error(`every upload file is done but only ${n} of ${expected} instances are indexed (${outcome[0]?.rejected} rejected, ${outcome[0]?.held} held)`);
    }
    if (Date.now() > deadline) throw new Error(`only ${n} of ${expected} instances indexed after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
