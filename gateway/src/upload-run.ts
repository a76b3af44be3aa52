/**
 * One upload run: hash the files, skip what an earlier run already sent,
 * send the rest in batches through presigned URLs (single PUT or multipart,
 * as the server decides) with bounded parallelism and retries, then wait for
 * the server's verdict on every file. The CLI and the DICOM gateway both run
 * their files through here.
 */
import { stat } from 'node:fs/promises';
import pLimit from 'p-limit';
import type { LocalFile } from './collect-files';
import { uploadName } from './collect-files';
import { assertSecureTransport } from './config';
import { ApiError, GatewayError, UrlExpiredError, describeError, isTransient } from './errors';
import { defaultRetry, sleep, withRetry } from './retry';
import { putToPresignedUrl, sha256OfRange } from './storage-put';
import type { CreatedUpload, InstanceCounts, PartUrl, PresignedFile, UploadApi, UploadFileSpec } from './upload-api';
import { finalStates } from './upload-api';
import type { CompletedPart, UploadState } from './upload-state';
import { fileKey } from './upload-state';

/** What became of one file. `pending` = sent, no verdict before the wait ended. */
export type OutcomeState = 'accepted' | 'duplicate' | 'rejected' | 'held' | 'pending' | 'failed' | 'not-sent';

export interface FileOutcome {
  file: LocalFile;
  sha256?: string;
  /** sent: in this run; resumed: by an earlier run (not sent again). */
  transfer: 'sent' | 'resumed' | 'none';
  state: OutcomeState;
  reason?: string;
  uploadId?: string;
  index?: number;
  instances?: InstanceCounts;
  studies?: string[];
}

export interface UploadEvents {
  /** Files and bytes this run has to send (after skipping what was sent before). */
  onPlan?(plan: { files: number; bytes: number; resumed: number }): void;
  onBytes?(delta: number): void;
  onFileSent?(file: LocalFile): void;
  onPhase?(phase: 'hashing' | 'uploading' | 'waiting'): void;
  onRetry?(what: string, error: unknown, attempt: number): void;
}

export interface UploadRunOptions {
  api: UploadApi;
  state: UploadState;
  /** Files (or parts of one file) in flight at once. */
  concurrency: number;
  /** Most files per upload batch (one POST /api/uploads). */
  batchFiles?: number;
  /** Most bytes per upload batch, so URLs are used well before they expire. */
  batchBytes?: number;
  hideNames?: boolean;
  /** How long to wait for the server's verdicts after sending; 0 = do not wait. */
  waitTimeoutMs: number;
  pollIntervalMs?: number;
  signal?: AbortSignal;
  events?: UploadEvents;
}

const defaultBatchFiles = 100;
const defaultBatchBytes = 2 * 1024 ** 3;
/** A URL with less life left than this is not started: it would expire mid-way. */
const urlSafetyMarginMs = 60_000;
/** New batches for files whose URLs expired, before giving up on them. */
const maxRequeues = 3;
/** Part URLs asked for at once (the API allows up to 1000). */
const partUrlsPerCall = 100;

interface Pending {
  file: LocalFile;
  sha256: string;
  key: string;
  position: number;
  requeues: number;
}

export async function runUpload(files: readonly LocalFile[], options: UploadRunOptions): Promise<FileOutcome[]> {
  const { api, state, events } = options;
  const server = api.baseUrl;
  const outcomes: FileOutcome[] = files.map((file) => ({ file, transfer: 'none', state: 'not-sent' }));

  events?.onPhase?.('hashing');
  const hashLimit = pLimit(Math.max(2, Math.min(options.concurrency, 8)));
  await Promise.all(files.map((file, i) => hashLimit(async () => {
    if (options.signal?.aborted) return;
    try {
      (outcomes[i] as FileOutcome).sha256 = await sha256OfRange({ path: file.path, start: 0, length: file.sizeBytes });
    } catch (error) {
      Object.assign(outcomes[i] as FileOutcome, { state: 'failed', reason: `cannot read the file (${describeError(error)})` });
    }
  })));

  const pending: Pending[] = [];
  const resumable: { pending: Pending; uploadId: string; index: number; partSizeBytes: number; parts: CompletedPart[] }[] = [];
  files.forEach((file, position) => {
    const outcome = outcomes[position] as FileOutcome;
    if (!outcome.sha256 || outcome.state === 'failed') return;
    const key = fileKey({ path: file.path, sizeBytes: file.sizeBytes, mtimeMs: file.mtimeMs, sha256: outcome.sha256 });
    const entry = state.get(key, server);
    const item = { file, sha256: outcome.sha256, key, position, requeues: 0 };
    if (entry?.phase === 'final' && entry.result) {
      Object.assign(outcome, { transfer: 'resumed', uploadId: entry.uploadId, index: entry.index, ...entry.result });
    } else if (entry?.phase === 'uploaded') {
      Object.assign(outcome, { transfer: 'resumed', state: 'pending', uploadId: entry.uploadId, index: entry.index });
    } else if (entry?.phase === 'sending' && entry.parts?.length && entry.partSizeBytes) {
      resumable.push({ pending: item, uploadId: entry.uploadId, index: entry.index, partSizeBytes: entry.partSizeBytes, parts: entry.parts });
    } else pending.push(item);
  });

  const resumedCount = outcomes.filter((o) => o.transfer === 'resumed').length;
  const toSend = [...pending, ...resumable.map((r) => r.pending)];
  events?.onPlan?.({ files: toSend.length, bytes: toSend.reduce((sum, p) => sum + p.file.sizeBytes, 0), resumed: resumedCount });
  events?.onPhase?.('uploading');

  const limit = pLimit(Math.max(1, options.concurrency));
  const retryOptions = {
    ...defaultRetry,
    signal: options.signal,
    isRetryable: (error: unknown) => isTransient(error) && !(error instanceof UrlExpiredError),
    onRetry: (error: unknown, attempt: number) => events?.onRetry?.('upload', error, attempt),
  };

  const markSent = (item: Pending, uploadId: string, index: number) => {
    state.recordUploaded(item.key, server, uploadId, index);
    Object.assign(outcomes[item.position] as FileOutcome, { transfer: 'sent', state: 'pending', uploadId, index });
    events?.onFileSent?.(item.file);
  };
  const markFailed = (item: Pending, error: unknown) => {
    Object.assign(outcomes[item.position] as FileOutcome, { state: 'failed', reason: describeError(error) });
  };

  /** The bytes on disk must still be those we hashed, or the server would get a file we never checksummed. */
  const assertUnchanged = async (item: Pending) => {
    const info = await stat(item.file.path);
    if (info.size !== item.file.sizeBytes || Math.trunc(info.mtimeMs) !== Math.trunc(item.file.mtimeMs)) {
      throw new GatewayError('file_changed', 'The file changed while it was being uploaded; run again to send the new version.');
    }
  };

  const sendParts = async (item: Pending, uploadId: string, index: number, partSizeBytes: number, urls: PartUrl[], done: CompletedPart[]) => {
    const completed = new Map(done.map((p) => [p.partNumber, p]));
    const partCount = Math.max(1, Math.ceil(item.file.sizeBytes / partSizeBytes));
    const urlByPart = new Map(urls.map((p) => [p.partNumber, p.url]));
    for (let partNumber = 1; partNumber <= partCount; partNumber += 1) {
      if (completed.has(partNumber)) continue;
      const start = (partNumber - 1) * partSizeBytes;
      const length = Math.min(partSizeBytes, item.file.sizeBytes - start);
      let refreshed = 0;
      for (;;) {
        let url = urlByPart.get(partNumber);
        if (!url) {
          // Ask for the URLs of this and the next missing parts in one call.
          const wanted: number[] = [];
          for (let n = partNumber; n <= partCount && wanted.length < partUrlsPerCall; n += 1) if (!completed.has(n) && (n === partNumber || !urlByPart.has(n))) wanted.push(n);
          const fresh = await api.refreshPartUrls(uploadId, index, wanted, options.signal);
          for (const p of fresh) urlByPart.set(p.partNumber, p.url);
          url = urlByPart.get(partNumber);
          if (!url) throw new GatewayError('part_url_missing', `The server gave no URL for part ${partNumber}.`);
        }
        assertSecureTransport(url);
        try {
          const { etag } = await withRetry(() => putToPresignedUrl(url as string, { path: item.file.path, start, length }, { signal: options.signal, onBytes: events?.onBytes }), retryOptions);
          if (!etag) throw new GatewayError('etag_missing', 'The storage did not return an ETag for a part (is ETag exposed?).');
          const part = { partNumber, etag };
          completed.set(partNumber, part);
          state.recordPart(item.key, server, uploadId, index, partSizeBytes, part);
          break;
        } catch (error) {
          if (!(error instanceof UrlExpiredError) || refreshed >= maxRequeues) throw error;
          // Part URLs can be renewed without starting over.
          refreshed += 1;
          urlByPart.delete(partNumber);
        }
      }
    }
    await assertUnchanged(item);
    await api.completeMultipart(uploadId, index, [...completed.values()].sort((a, b) => a.partNumber - b.partNumber), options.signal);
  };

  const sendFile = async (item: Pending, upload: CreatedUpload, presigned: PresignedFile): Promise<'sent' | 'requeue'> => {
    if (Date.parse(upload.expiresAt) - Date.now() < urlSafetyMarginMs && presigned.method === 'PUT') return 'requeue';
    if (presigned.method === 'PUT') {
      assertSecureTransport(presigned.url);
      try {
        await withRetry(() => putToPresignedUrl(presigned.url, { path: item.file.path, start: 0, length: item.file.sizeBytes }, { headers: presigned.headers, signal: options.signal, onBytes: events?.onBytes }), retryOptions);
      } catch (error) {
        if (error instanceof UrlExpiredError) return 'requeue';
        throw error;
      }
      await assertUnchanged(item);
    } else {
      await sendParts(item, upload.uploadId, presigned.index, presigned.partSizeBytes, presigned.parts, []);
    }
    markSent(item, upload.uploadId, presigned.index);
    return 'sent';
  };

  const tasks: Promise<void>[] = [];

  // Multipart uploads interrupted part-way continue where they stopped.
  for (const resume of resumable) {
    tasks.push(limit(async () => {
      if (options.signal?.aborted) return;
      try {
        await sendParts(resume.pending, resume.uploadId, resume.index, resume.partSizeBytes, [], resume.parts);
        markSent(resume.pending, resume.uploadId, resume.index);
      } catch (error) {
        if (options.signal?.aborted) return;
        // The parts were all sent and completed before the interruption.
        if (error instanceof ApiError && error.code === 'upload_completed') {
          markSent(resume.pending, resume.uploadId, resume.index);
          return;
        }
        // The server let the old upload expire, or S3 forgot it: start this file afresh.
        if (error instanceof ApiError && (error.status === 404 || error.status === 409 || error.status === 410)) {
          state.forget(resume.pending.key, server);
          pending.push(resume.pending);
        } else markFailed(resume.pending, error);
      }
    }));
  }
  await Promise.all(tasks.splice(0));

  let queue = pending;
  while (queue.length > 0 && !options.signal?.aborted) {
    const requeued: Pending[] = [];
    for (const batch of batches(queue, options.batchFiles ?? defaultBatchFiles, options.batchBytes ?? defaultBatchBytes)) {
      if (options.signal?.aborted) break;
      // Let the previous batch drain first, so these URLs are fresh when used.
      while (limit.pendingCount > 0) await sleep(25, options.signal).catch(() => undefined);
      if (options.signal?.aborted) break;
      const specs: UploadFileSpec[] = batch.map((item) => ({ name: uploadName(item.file, item.position, options.hideNames ?? false), sizeBytes: item.file.sizeBytes, sha256: item.sha256 }));
      let upload: CreatedUpload;
      try {
        upload = await api.createUpload(specs, options.signal);
      } catch (error) {
        if (options.signal?.aborted) break;
        for (const item of batch) markFailed(item, error);
        if (error instanceof GatewayError && error.options.exitCode === 2) throw error;
        continue;
      }
      const byIndex = new Map(upload.files.map((f) => [f.index, f]));
      batch.forEach((item, i) => {
        const presigned = byIndex.get(i);
        if (!presigned) {
          markFailed(item, new GatewayError('url_missing', 'The server did not give an upload URL for this file.'));
          return;
        }
        tasks.push(limit(async () => {
          if (options.signal?.aborted) return;
          try {
            if ((await sendFile(item, upload, presigned)) === 'requeue') {
              item.requeues += 1;
              if (item.requeues > maxRequeues) markFailed(item, new UrlExpiredError());
              else requeued.push(item);
            }
          } catch (error) {
            if (!options.signal?.aborted) markFailed(item, error);
          }
        }));
      });
    }
    await Promise.all(tasks.splice(0));
    queue = requeued;
  }

  if (options.waitTimeoutMs > 0 && !options.signal?.aborted) {
    events?.onPhase?.('waiting');
    await awaitVerdicts(outcomes, options);
  }
  return outcomes;
}

/** Polls every upload that holds one of our files until each has a final state or the wait ends. */
async function awaitVerdicts(outcomes: FileOutcome[], options: UploadRunOptions): Promise<void> {
  const { api, state } = options;
  const deadline = Date.now() + options.waitTimeoutMs;
  let interval = options.pollIntervalMs ?? 1000;
  for (;;) {
    const open = new Map<string, FileOutcome[]>();
    for (const outcome of outcomes) {
      if (outcome.state !== 'pending' || !outcome.uploadId) continue;
      open.set(outcome.uploadId, [...(open.get(outcome.uploadId) ?? []), outcome]);
    }
    if (open.size === 0) return;
    for (const [uploadId, waiting] of open) {
      if (options.signal?.aborted) return;
      let status;
      try {
        status = await api.uploadStatus(uploadId, options.signal);
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) {
          // The server no longer knows this upload: forget it, the next run sends the files again.
          for (const outcome of waiting) {
            Object.assign(outcome, { state: 'failed', reason: 'The server no longer knows this upload; run again to send the file anew.' });
            if (outcome.sha256) state.forget(fileKey({ path: outcome.file.path, sizeBytes: outcome.file.sizeBytes, mtimeMs: outcome.file.mtimeMs, sha256: outcome.sha256 }), api.baseUrl);
          }
          continue;
        }
        if (isTransient(error)) continue;
        throw error;
      }
      const byIndex = new Map(status.files.map((f) => [f.index, f]));
      for (const outcome of waiting) {
        const remote = byIndex.get(outcome.index as number);
        if (!remote || !finalStates.has(remote.state)) continue;
        const result = { state: remote.state, ...(remote.reason ? { reason: remote.reason } : {}), ...(remote.instances ? { instances: remote.instances } : {}) };
        Object.assign(outcome, result, remote.studies ? { studies: remote.studies } : {});
        if (outcome.sha256) state.recordFinal(fileKey({ path: outcome.file.path, sizeBytes: outcome.file.sizeBytes, mtimeMs: outcome.file.mtimeMs, sha256: outcome.sha256 }), api.baseUrl, outcome.uploadId as string, outcome.index as number, result);
      }
    }
    if (!outcomes.some((o) => o.state === 'pending' && o.uploadId)) return;
    if (Date.now() + interval > deadline) return;
    await sleep(interval, options.signal).catch(() => undefined);
    interval = Math.min(interval * 1.5, 5000);
  }
}

function* batches(items: Pending[], maxFiles: number, maxBytes: number): Generator<Pending[]> {
  let current: Pending[] = [];
  let bytes = 0;
  for (const item of items) {
    if (current.length > 0 && (current.length >= maxFiles || bytes + item.file.sizeBytes > maxBytes)) {
      yield current;
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += item.file.sizeBytes;
  }
  if (current.length > 0) yield current;
}

/** Counts by outcome, for summaries and exit codes. */
export function tally(outcomes: readonly FileOutcome[]): Record<OutcomeState, number> & { sent: number; resumed: number } {
  const counts = { accepted: 0, duplicate: 0, rejected: 0, held: 0, pending: 0, failed: 0, 'not-sent': 0, sent: 0, resumed: 0 };
  for (const outcome of outcomes) {
    counts[outcome.state] += 1;
    if (outcome.transfer === 'sent') counts.sent += 1;
    if (outcome.transfer === 'resumed') counts.resumed += 1;
  }
  return counts;
}
