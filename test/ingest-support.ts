/**
 * Helpers of the ingest tests: upload files through the real front door
 * (POST /api/uploads, presigned PUT or multipart), wait for the worker, read
 * the status; build zips; read archived objects; dump every stored byte.
 */
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import yazl from 'yazl';
import type { TestStack, TestUser } from './support/local-stack';

export interface UploadedFileStatus {
  index: number;
  name: string;
  state: string;
  reason?: string;
  instances: { accepted: number; duplicate: number; rejected: number; held: number };
  studies: string[];
}

export interface UploadStatus {
  uploadId: string;
  totals: Record<string, unknown>;
  files: UploadedFileStatus[];
}

interface PresignedFile {
  index: number;
  method: 'PUT' | 'multipart';
  url?: string;
  headers?: Record<string, string>;
  partSizeBytes?: number;
  partCount?: number;
  parts?: { partNumber: number; url: string }[];
}

/** Uploads files in one batch through the API, waits until ingest is idle, answers the status. */
export async function ingestFiles(stack: TestStack, user: TestUser, files: readonly { name: string; bytes: Uint8Array }[]): Promise<UploadStatus> {
  const uploadId = await uploadFiles(stack, user, files);
  await stack.waitForIngestIdle({ timeoutMs: 120_000 });
  return uploadStatus(stack, user, uploadId);
}

export async function uploadFiles(stack: TestStack, user: TestUser, files: readonly { name: string; bytes: Uint8Array }[]): Promise<string> {
  const created = await stack.request('/api/uploads', { token: user.idToken, json: { files: files.map((f) => ({ name: f.name, sizeBytes: f.bytes.length })) } });
  if (created.status !== 201) throw new Error(`upload creation failed: ${created.status} ${created.text}`);
  const body = created.body as { uploadId: string; files: PresignedFile[] };
  for (const file of body.files) {
    const bytes = files[file.index]?.bytes as Uint8Array;
    if (file.method === 'PUT') {
      const res = await fetch(file.url as string, { method: 'PUT', body: bytes, headers: file.headers ?? {} });
      if (!res.ok) throw new Error(`PUT failed: ${res.status}`);
      continue;
    }
    const size = file.partSizeBytes as number;
    let parts = file.parts ?? [];
    if (parts.length < (file.partCount ?? 0)) {
      const more = await stack.request(`/api/uploads/${body.uploadId}/files/${file.index}/parts`, {
        token: user.idToken, json: { partNumbers: Array.from({ length: file.partCount as number }, (_, i) => i + 1) },
      });
      parts = (more.body as { parts: { partNumber: number; url: string }[] }).parts;
    }
    const etags = [];
    for (const part of parts) {
      const res = await fetch(part.url, { method: 'PUT', body: bytes.subarray((part.partNumber - 1) * size, part.partNumber * size) });
      if (!res.ok) throw new Error(`part PUT failed: ${res.status}`);
      etags.push({ partNumber: part.partNumber, etag: res.headers.get('etag') ?? '' });
    }
    const done = await stack.request(`/api/uploads/${body.uploadId}/files/${file.index}/complete`, { token: user.idToken, json: { parts: etags } });
    if (done.status !== 200) throw new Error(`completion failed: ${done.status} ${done.text}`);
  }
  return body.uploadId;
}

export async function uploadStatus(stack: TestStack, user: TestUser, uploadId: string): Promise<UploadStatus> {
  const res = await stack.request(`/api/uploads/${uploadId}`, { token: user.idToken });
  if (res.status !== 200) throw new Error(`status failed: ${res.status} ${res.text}`);
  return res.body as UploadStatus;
}

export function zipOf(entries: readonly { name: string; bytes?: Uint8Array; compress?: boolean }[]): Promise<Buffer> {
  const archive = new yazl.ZipFile();
  for (const entry of entries) {
    if (entry.bytes === undefined) archive.addEmptyDirectory(entry.name);
    else archive.addBuffer(Buffer.from(entry.bytes), entry.name, { compress: entry.compress ?? true });
  }
  archive.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    archive.outputStream.on('data', (c: Buffer) => chunks.push(c));
    archive.outputStream.once('error', reject);
    archive.outputStream.once('end', () => resolve(Buffer.concat(chunks)));
  });
}

export async function getObject(stack: TestStack, bucket: string, key: string): Promise<Buffer> {
  const answer = await stack.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await answer.Body!.transformToByteArray());
}

/** Every object of a bucket: key and bytes. */
export async function allObjects(stack: TestStack, bucket: string): Promise<{ key: string; bytes: Buffer }[]> {
  const out: { key: string; bytes: Buffer }[] = [];
  let token: string | undefined;
  do {
    const page = await stack.s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    for (const object of page.Contents ?? []) out.push({ key: object.Key as string, bytes: await getObject(stack, bucket, object.Key as string) });
    token = page.NextContinuationToken;
  } while (token);
  return out;
}

/**
 * Every row of every table of the database as text (jsonb included), except
 * the encrypted columns of phi_vault and server timestamps (their digits
 * could match short numeric planted values by chance).
 */
export async function databaseText(stack: TestStack): Promise<Map<string, string>> {
  const tables = await stack.db.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename");
  const out = new Map<string, string>();
  for (const { tablename } of tables.rows) {
    const columns = await stack.db.query<{ column_name: string; data_type: string }>(
      "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1", [tablename],
    );
    const kept = columns.rows
      .filter((c) => !c.data_type.startsWith('timestamp'))
      .filter((c) => !(tablename === 'phi_vault' && ['ciphertext', 'iv', 'auth_tag', 'encrypted_key'].includes(c.column_name)))
      .map((c) => `"${c.column_name}"`);
    if (kept.length === 0) continue;
    const rows = await stack.db.query<{ row: string }>(`SELECT (${kept.map((c) => `coalesce(${c}::text, '')`).join(` || ' | ' || `)}) AS row FROM "${tablename}"`);
    out.set(tablename, rows.rows.map((r) => r.row).join('\n'));
  }
  return out;
}

/**
 * Where a planted value shows up in text; digits-only values only as a whole
 * number. Random UUIDs (ids of uploads, requests…) are masked first: their hex
 * groups could hold a short planted number by chance.
 */
export function findPlanted(text: string, planted: readonly string[]): string[] {
  const masked = text.replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<uuid>');
  const upper = masked.toUpperCase();
  return planted.filter((value) => {
    if (/^[0-9]+$/.test(value)) return new RegExp(`(?<![0-9])${value}(?![0-9])`).test(masked);
    return upper.includes(value.toUpperCase());
  });
}
