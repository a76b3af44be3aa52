/**
 * A real browser (Chromium) uploads the way the SPA does: same-origin PUTs
 * of presigned URLs under the front door's /s3 path, single and multipart,
 * reading each part's ETag from the answer (no CORS involved), and the
 * upload reaches the ingest queue as an S3 event.
 */
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { CompleteMultipartUploadCommand, CreateMultipartUploadCommand, GetObjectCommand, PutObjectCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { S3Event } from 'aws-lambda';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { presigningS3Client, s3Client } from '@medlake/functions/adapters/aws-clients';
import { recordedInvocations } from '../support/handlers/recording-handler';
import type { TestStack } from '../support/local-stack';
import { startTestStack } from '../support/local-stack';
import { launchChromium } from './support/browser';

let stack: TestStack;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  stack = await startTestStack({ queueHandlers: { ingest: fileURLToPath(new URL('../support/handlers/recording-handler.ts', import.meta.url)), export: false, notify: false } });
  browser = await launchChromium();
  page = await browser.newPage();
  // Any page of the front door's origin: the uploads below are same-origin requests from it.
  await page.goto(`${stack.url}/api/health`);
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

/** PUT from the page, as the SPA's upload engine does. */
function browserPut(url: string, size: number, seed: number): Promise<{ status: number; etag: string | null }> {
  return page.evaluate(
    async ({ url, size, seed }) => {
      const bytes = new Uint8Array(size).map((_, i) => (i * 31 + seed) % 256);
      const res = await fetch(url, { method: 'PUT', body: new Blob([bytes]) });
      return { status: res.status, etag: res.headers.get('ETag') };
    },
    { url, size, seed },
  );
}

const expectedSha256 = (size: number, seed: number) => createHash('sha256').update(new Uint8Array(size).map((_, i) => (i * 31 + seed) % 256)).digest('hex');
/** The quarantine bucket is SSE-KMS in AWS: its ETags are opaque (not an MD5 of the data), as the emulator answers them. */
const opaqueEtag = /^"[0-9a-f]{32}"$/;

function eventKeys(): string[] {
  return recordedInvocations()
    .flatMap((i) => i.event.Records)
    .flatMap((r) => (JSON.parse(r.body) as Partial<S3Event>).Records ?? [])
    .map((r) => `${r.eventName} ${decodeURIComponent(r.s3.object.key.replace(/\+/g, ' '))}`);
}

describe('browser uploads through the front door', () => {
  it('a presigned PUT from the page succeeds and its ETag is readable', async () => {
    const key = 'incoming/browser-session/scan 1.dcm';
    const url = await getSignedUrl(presigningS3Client(), new PutObjectCommand({ Bucket: stack.buckets.quarantine, Key: key }), { expiresIn: 600 });
    expect(new URL(url).origin).toBe(new URL(stack.url).origin);
    const answer = await browserPut(url, 200_000, 1);
    expect(answer.status).toBe(200);
    expect(answer.etag).toMatch(opaqueEtag);
    // The ETag the page read is the stored object's, and the object holds exactly the bytes the page sent.
    const stored = await s3Client().send(new GetObjectCommand({ Bucket: stack.buckets.quarantine, Key: key }));
    expect(stored.ETag).toBe(answer.etag);
    const bytes = await (stored.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray();
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(expectedSha256(200_000, 1));
    await stack.waitForIngestIdle({ queues: ['ingest'] });
    expect(eventKeys()).toContain(`ObjectCreated:Put ${key}`);
  });

  it('multipart parts PUT from the page expose their ETags, and completion produces the event', async () => {
    const key = 'incoming/browser-session/series.zip';
    const { UploadId } = await s3Client().send(new CreateMultipartUploadCommand({ Bucket: stack.buckets.quarantine, Key: key }));
    const sizes = [5 * 1024 * 1024, 300_000];
    const parts = [];
    for (const [i, size] of sizes.entries()) {
      const url = await getSignedUrl(presigningS3Client(), new UploadPartCommand({ Bucket: stack.buckets.quarantine, Key: key, UploadId, PartNumber: i + 1 }), { expiresIn: 600 });
      const answer = await browserPut(url, size, i + 7);
      expect(answer.status).toBe(200);
      expect(answer.etag).toMatch(opaqueEtag);
      parts.push({ PartNumber: i + 1, ETag: answer.etag as string });
    }
    // S3 refuses a completion whose ETags are not the ones it answered: completing proves the page read them right.
    await s3Client().send(new CompleteMultipartUploadCommand({ Bucket: stack.buckets.quarantine, Key: key, UploadId, MultipartUpload: { Parts: parts } }));
    const stored = await s3Client().send(new GetObjectCommand({ Bucket: stack.buckets.quarantine, Key: key }));
    const bytes = await (stored.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray();
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(
      createHash('sha256').update(Buffer.concat(sizes.map((size, i) => new Uint8Array(size).map((_, j) => (j * 31 + i + 7) % 256)))).digest('hex'),
    );
    await stack.waitForIngestIdle({ queues: ['ingest'] });
    expect(eventKeys()).toContain(`ObjectCreated:CompleteMultipartUpload ${key}`);
  });
});
