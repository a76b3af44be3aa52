/**
 * The upload engine: files go straight from the browser to S3 with the
 * presigned URLs the lake hands out (`POST /api/uploads`), in batches, a few
 * transfers at a time. Large files go in parts, several in parallel; a
 * failed transfer is retried with backoff, waits for the network to come
 * back, or gets a fresh URL when its link expired. The state of every
 * multipart file is saved after each part, so a new page (after a crash or
 * a closed laptop) continues where it stopped when the same files are given
 * again. Plain TypeScript with its I/O behind ports, so it is tested without
 * a browser.
 */
import type { PickedFile } from './picked-file';
import { fileFingerprint } from './picked-file';
import type { BackoffOptions } from './retry';
import { TransferError, backoffDelayMs, classifyFailure, defaultBackoff, sleep } from './retry';

// ---- ports -------------------------------------------------------------------

export interface FileSpec {
  name: string;
  sizeBytes: number;
  sha256?: string;
}

export interface PartUrl {
  partNumber: number;
  url: string;
}

export type PlannedFile =
  | { index: number; name: string; key: string; method: 'PUT'; url: string; headers?: Record<string, string> }
  | { index: number; name: string; key: string; method: 'multipart'; uploadId: string; partSizeBytes: number; partCount?: number; parts: PartUrl[] };

export interface CreatedUpload {
  uploadId: string;
  expiresAt: string;
  files: PlannedFile[];
}

/** The lake's upload API (functions/src/api/uploads.ts). */
export interface UploadApi {
  createUpload(files: FileSpec[]): Promise<CreatedUpload>;
  partUrls(uploadId: string, index: number, partNumbers: number[]): Promise<PartUrl[]>;
  completeFile(uploadId: string, index: number, parts: { partNumber: number; etag: string }[]): Promise<void>;
}

export interface PutRequest {
  url: string;
  body: Blob;
  headers: Record<string, string>;
  signal: AbortSignal;
  /** Bytes of this request's body sent so far. */
  onProgress(loadedBytes: number): void;
}

/** One HTTP PUT to S3; fails with a TransferError (status 0 when the network failed). */
export interface Transport {
  put(request: PutRequest): Promise<{ etag: string | undefined }>;
}

export interface Connectivity {
  online(): boolean;
  /** Resolves when the browser says the network is back. */
  waitUntilOnline(signal: AbortSignal): Promise<void>;
}

/** What is kept of a multipart file between page loads. */
export interface SavedMultipart {
  fingerprint: string;
  uploadId: string;
  index: number;
  partSizeBytes: number;
  partCount: number;
  /** ETags of the parts S3 has, by part number. */
  etags: Record<number, string>;
  createdAtMs: number;
}

export interface ResumeStore {
  get(fingerprint: string): SavedMultipart | undefined;
  put(saved: SavedMultipart): void;
  remove(fingerprint: string): void;
}

// ---- state -------------------------------------------------------------------

export type TransferState = 'queued' | 'preparing' | 'uploading' | 'retrying' | 'waiting-network' | 'uploaded' | 'failed' | 'cancelled';

export interface FileProgress {
  id: string;
  name: string;
  path: string;
  sizeBytes: number;
  loadedBytes: number;
  state: TransferState;
  /** Why it failed, or what it is waiting for, in a sentence. */
  message?: string;
  /** The lake's upload and file number, once the file has them (for its ingest status). */
  uploadId?: string;
  index?: number;
  multipart: boolean;
  /** Continued from an earlier page. */
  resumed: boolean;
  retries: number;
}

export interface EngineSnapshot {
  files: readonly FileProgress[];
  totalBytes: number;
  loadedBytes: number;
  uploadIds: readonly string[];
  running: boolean;
  counts: Record<TransferState, number>;
}

export interface EngineOptions {
  api: UploadApi;
  transport: Transport;
  store: ResumeStore;
  connectivity?: Connectivity;
  /** sha256 (hex) of a file, sent so S3 checks the bytes of single PUTs; files above `hashMaxBytes` are not hashed. */
  hash?: (file: Blob) => Promise<string>;
  hashMaxBytes?: number;
  /** Transfers in flight at once. */
  concurrency?: number;
  /** Files and bytes per `POST /api/uploads`: URLs are handed out shortly before use, so they do not expire waiting. */
  batchMaxFiles?: number;
  batchMaxBytes?: number;
  /** Tries per transfer (network waits do not count). */
  attempts?: number;
  backoff?: BackoffOptions;
  /** How long after its creation a saved multipart upload is worth continuing. */
  resumeWindowMs?: number;
  now?: () => number;
  wait?: (ms: number, signal: AbortSignal) => Promise<void>;
}

interface Work {
  progress: FileProgress;
  picked: PickedFile;
  fingerprint: string;
  /** Bytes loaded per part in flight or done (multipart), or of the single PUT (key 0). */
  partLoaded: Map<number, number>;
}

const alwaysOnline: Connectivity = { online: () => true, waitUntilOnline: () => Promise.resolve() };
const MiB = 1024 * 1024;

function isTransientApiFailure(error: unknown): boolean {
  const status = (error as { status?: unknown })?.status;
  return typeof status === 'number' && (status === 0 || status === 429 || status >= 500);
}

function apiCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' ? code : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : 'The transfer failed.';
}

class Aborted extends Error {
  constructor() {
    super('cancelled');
    this.name = 'AbortError';
  }
}

export class UploadEngine {
  private readonly work: Work[] = [];
  private readonly listeners = new Set<() => void>();
  private readonly uploadIds: string[] = [];
  private controller = new AbortController();
  private running: Promise<void> | undefined;
  private nextId = 1;
  private readonly options: Required<Omit<EngineOptions, 'hash'>> & Pick<EngineOptions, 'hash'>;
  private snapshotCache: EngineSnapshot | undefined;

  constructor(options: EngineOptions) {
    this.options = {
      connectivity: alwaysOnline,
      hashMaxBytes: 64 * MiB,
      concurrency: 4,
      batchMaxFiles: 200,
      batchMaxBytes: 2 * 1024 * MiB,
      attempts: 6,
      backoff: defaultBackoff,
      resumeWindowMs: 23 * 3600 * 1000,
      now: () => Date.now(),
      wait: sleep,
      ...options,
    };
  }

  // ---- observing ---------------------------------------------------------------

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  snapshot(): EngineSnapshot {
    if (this.snapshotCache) return this.snapshotCache;
    const counts: Record<TransferState, number> = { queued: 0, preparing: 0, uploading: 0, retrying: 0, 'waiting-network': 0, uploaded: 0, failed: 0, cancelled: 0 };
    let totalBytes = 0;
    let loadedBytes = 0;
    const files = this.work.map((w) => {
      counts[w.progress.state] += 1;
      totalBytes += w.progress.sizeBytes;
      loadedBytes += w.progress.loadedBytes;
      return { ...w.progress };
    });
    this.snapshotCache = { files, totalBytes, loadedBytes, uploadIds: [...this.uploadIds], running: this.running !== undefined, counts };
    return this.snapshotCache;
  }

  private changed(): void {
    this.snapshotCache = undefined;
    for (const listener of this.listeners) listener();
  }

  private update(work: Work, changes: Partial<FileProgress>): void {
    Object.assign(work.progress, changes);
    this.changed();
  }

  private setLoaded(work: Work, part: number, bytes: number): void {
    work.partLoaded.set(part, bytes);
    let sum = 0;
    for (const value of work.partLoaded.values()) sum += value;
    work.progress.loadedBytes = Math.min(sum, work.progress.sizeBytes);
    this.changed();
  }

  // ---- commands ----------------------------------------------------------------

  /** Queues files and starts (or keeps) uploading. Files already queued or done are not added twice. */
  add(files: readonly PickedFile[]): number {
    const known = new Map(this.work.map((w) => [w.fingerprint, w]));
    let added = 0;
    for (const picked of files) {
      const fingerprint = fileFingerprint(picked.file, picked.path);
      const existing = known.get(fingerprint);
      if (existing) {
        // Given again after failing or stopping: back in the queue (a saved multipart upload continues).
        if (existing.progress.state === 'failed' || existing.progress.state === 'cancelled') {
          this.requeue(existing, picked);
          added += 1;
        }
        continue;
      }
      const work: Work = {
        picked,
        fingerprint,
        partLoaded: new Map(),
        progress: { id: String(this.nextId++), name: picked.file.name, path: picked.path, sizeBytes: picked.file.size, loadedBytes: 0, state: 'queued', multipart: false, resumed: false, retries: 0 },
      };
      this.work.push(work);
      known.set(fingerprint, work);
      added += 1;
    }
    this.changed();
    this.start();
    return added;
  }

  private requeue(work: Work, picked: PickedFile = work.picked): void {
    work.picked = picked;
    work.partLoaded.clear();
    Object.assign(work.progress, { state: 'queued', loadedBytes: 0, message: undefined, uploadId: undefined, index: undefined });
  }

  /** Puts failed and cancelled files back in the queue (with new upload links). */
  retryFailed(): void {
    for (const w of this.work) if (w.progress.state === 'failed' || w.progress.state === 'cancelled') this.requeue(w);
    this.changed();
    this.start();
  }

  /** Stops every transfer; multipart files keep their saved state and can be resumed later. */
  cancel(): void {
    this.controller.abort(new Aborted());
    for (const w of this.work) {
      if (!['uploaded', 'failed', 'cancelled'].includes(w.progress.state)) Object.assign(w.progress, { state: 'cancelled', message: 'Stopped.' });
    }
    this.changed();
  }

  /** Resolves when the queue is empty (for tests and for "all sent" messages). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private start(): void {
    if (this.running) return;
    if (this.controller.signal.aborted) this.controller = new AbortController();
    this.running = this.drain().finally(() => {
      this.running = undefined;
      // Files added while a stopped run was winding down.
      if (!this.controller.signal.aborted && this.work.some((w) => w.progress.state === 'queued')) this.start();
      this.changed();
    });
    this.changed();
  }

  private async drain(): Promise<void> {
    const signal = this.controller.signal;
    for (;;) {
      if (signal.aborted) return;
      const queued = this.work.filter((w) => w.progress.state === 'queued');
      if (queued.length === 0) return;
      // One limiter for everything in flight: resumed files and the next batch share the connections.
      const limit = limiter(this.options.concurrency);
      const resumable = queued.filter((w) => this.savedFor(w));
      const batch = this.nextBatch(queued.filter((w) => !resumable.includes(w)));
      await Promise.all([...resumable.map((w) => this.resume(w, limit, signal)), batch.length ? this.sendBatch(batch, limit, signal) : Promise.resolve()]);
    }
  }

  private savedFor(work: Work): SavedMultipart | undefined {
    const saved = this.options.store.get(work.fingerprint);
    if (!saved) return undefined;
    if (this.options.now() - saved.createdAtMs > this.options.resumeWindowMs) {
      this.options.store.remove(work.fingerprint);
      return undefined;
    }
    return saved;
  }

  private nextBatch(queued: Work[]): Work[] {
    const batch: Work[] = [];
    let bytes = 0;
    for (const w of queued) {
      if (batch.length >= this.options.batchMaxFiles) break;
      if (batch.length > 0 && bytes + w.progress.sizeBytes > this.options.batchMaxBytes) break;
      batch.push(w);
      bytes += w.progress.sizeBytes;
    }
    return batch;
  }

  // ---- a batch -----------------------------------------------------------------

  private async sendBatch(batch: Work[], limit: Limiter, signal: AbortSignal): Promise<void> {
    for (const w of batch) this.update(w, { state: 'preparing', message: undefined });
    let created: CreatedUpload;
    try {
      const specs = await this.specs(batch, signal);
      created = await this.callApi(() => this.options.api.createUpload(specs), signal);
    } catch (error) {
      if (signal.aborted) return;
      for (const w of batch) this.update(w, { state: 'failed', message: messageOf(error) });
      return;
    }
    this.uploadIds.push(created.uploadId);
    const jobs: Promise<void>[] = [];
    for (const planned of created.files) {
      const w = batch[planned.index];
      if (!w) continue;
      this.update(w, { uploadId: created.uploadId, index: planned.index, multipart: planned.method === 'multipart' });
      if (planned.method === 'PUT') {
        jobs.push(limit(() => this.putWhole(w, planned, signal)));
      } else {
        const partCount = planned.partCount ?? Math.max(1, Math.ceil(w.progress.sizeBytes / planned.partSizeBytes));
        const saved: SavedMultipart = { fingerprint: w.fingerprint, uploadId: created.uploadId, index: planned.index, partSizeBytes: planned.partSizeBytes, partCount, etags: {}, createdAtMs: this.options.now() };
        this.options.store.put(saved);
        jobs.push(this.sendParts(w, saved, new Map(planned.parts.map((p) => [p.partNumber, p.url])), limit, signal));
      }
    }
    await Promise.all(jobs);
  }

  private async specs(batch: Work[], signal: AbortSignal): Promise<FileSpec[]> {
    const hash = this.options.hash;
    const out: FileSpec[] = [];
    for (const w of batch) {
      if (signal.aborted) throw new Aborted();
      const spec: FileSpec = { name: w.progress.path.slice(-255), sizeBytes: w.progress.sizeBytes };
      if (hash && w.progress.sizeBytes <= this.options.hashMaxBytes) spec.sha256 = await hash(w.picked.file);
      out.push(spec);
    }
    return out;
  }

  private async putWhole(work: Work, planned: Extract<PlannedFile, { method: 'PUT' }>, signal: AbortSignal): Promise<void> {
    try {
      await this.transfer(work, 0, () => Promise.resolve(planned.url), work.picked.file, planned.headers ?? {}, signal, undefined);
      this.update(work, { state: 'uploaded', message: undefined });
    } catch (error) {
      this.fail(work, error, signal);
    }
  }

  // ---- multipart ---------------------------------------------------------------

  private async resume(work: Work, limit: Limiter, signal: AbortSignal): Promise<void> {
    const saved = this.savedFor(work);
    if (!saved) {
      this.update(work, { state: 'queued' });
      return;
    }
    if (!this.uploadIds.includes(saved.uploadId)) this.uploadIds.push(saved.uploadId);
    this.update(work, { state: 'preparing', uploadId: saved.uploadId, index: saved.index, multipart: true, resumed: true, message: 'Continuing an earlier upload.' });
    for (const [part, etag] of Object.entries(saved.etags)) if (etag) this.setLoaded(work, Number(part), this.partSize(saved, Number(part), work.progress.sizeBytes));
    await this.sendParts(work, saved, new Map(), limit, signal, true);
  }

  private partSize(saved: SavedMultipart, partNumber: number, sizeBytes: number): number {
    const start = (partNumber - 1) * saved.partSizeBytes;
    return Math.max(0, Math.min(saved.partSizeBytes, sizeBytes - start));
  }

  private async sendParts(work: Work, saved: SavedMultipart, urls: Map<number, string>, limit: Limiter, outer: AbortSignal, resuming = false): Promise<void> {
    const missing = Array.from({ length: saved.partCount }, (_, i) => i + 1).filter((n) => !saved.etags[n]);
    // When one part fails for good, the file's other parts stop too.
    const fileStop = new AbortController();
    const signal = AbortSignal.any([outer, fileStop.signal]);
    try {
      if (resuming && missing.length > 0) {
        // Proves the saved upload is still open before sending anything.
        await this.fetchUrls(saved, missing.slice(0, 100), urls, signal);
      }
      this.update(work, { state: 'uploading', message: resuming ? 'Continuing an earlier upload.' : undefined });
      const urlFor = (partNumber: number) => this.urlFor(saved, partNumber, missing, urls, signal);
      await Promise.all(
        missing.map((partNumber) =>
          limit(async () => {
            const start = (partNumber - 1) * saved.partSizeBytes;
            const body = work.picked.file.slice(start, start + saved.partSizeBytes);
            const { etag } = await this.transfer(work, partNumber, urlFor, body, {}, signal, async () => {
              urls.delete(partNumber);
              await this.fetchUrls(saved, [partNumber], urls, signal);
            });
            if (!etag) throw new TransferError(0, 'S3 did not show the ETag of a part (the bucket must expose the ETag header to browsers).');
            saved.etags[partNumber] = etag;
            this.options.store.put(saved);
          }),
        ),
      );
      const parts = Array.from({ length: saved.partCount }, (_, i) => ({ partNumber: i + 1, etag: saved.etags[i + 1] ?? '' }));
      await this.callApi(() => this.options.api.completeFile(saved.uploadId, saved.index, parts), signal);
      this.options.store.remove(saved.fingerprint);
      this.update(work, { state: 'uploaded', message: undefined, loadedBytes: work.progress.sizeBytes });
    } catch (error) {
      fileStop.abort(new Aborted());
      if (outer.aborted) return;
      const code = apiCode(error);
      if (resuming && (code === 'upload_expired' || code === 'multipart_not_found' || code === 'upload_not_found' || code === 'not_upload_owner')) {
        // The earlier upload cannot be continued: send the file again from the start.
        this.options.store.remove(saved.fingerprint);
        work.partLoaded.clear();
        this.update(work, { state: 'queued', loadedBytes: 0, resumed: false, uploadId: undefined, index: undefined, message: 'The earlier upload expired; sending again.' });
        return;
      }
      if (code === 'upload_completed') {
        this.options.store.remove(saved.fingerprint);
        this.update(work, { state: 'uploaded', loadedBytes: work.progress.sizeBytes, message: undefined });
        return;
      }
      this.fail(work, error, outer);
    }
  }

  /** URLs for parts not handed out yet, asked for 100 at a time (one call serves the parts that follow). */
  private async urlFor(saved: SavedMultipart, partNumber: number, missing: number[], urls: Map<number, string>, signal: AbortSignal): Promise<string> {
    const known = urls.get(partNumber);
    if (known) return known;
    const from = missing.indexOf(partNumber);
    const wanted = (from >= 0 ? missing.slice(from, from + 100) : [partNumber]).filter((n) => !urls.has(n));
    await this.fetchUrls(saved, wanted, urls, signal);
    const url = urls.get(partNumber);
    if (!url) throw new TransferError(0, `The lake gave no URL for part ${partNumber}.`);
    return url;
  }

  private async fetchUrls(saved: SavedMultipart, partNumbers: number[], urls: Map<number, string>, signal: AbortSignal): Promise<void> {
    if (partNumbers.length === 0) return;
    const fresh = await this.callApi(() => this.options.api.partUrls(saved.uploadId, saved.index, partNumbers), signal);
    for (const part of fresh) urls.set(part.partNumber, part.url);
  }

  // ---- one transfer with retries -----------------------------------------------------

  private async transfer(
    work: Work,
    part: number,
    url: (part: number) => Promise<string>,
    body: Blob,
    headers: Record<string, string>,
    signal: AbortSignal,
    refreshUrl: (() => Promise<void>) | undefined,
  ): Promise<{ etag: string | undefined }> {
    const { connectivity, attempts, backoff, wait } = this.options;
    for (let attempt = 1; ; ) {
      if (signal.aborted) throw new Aborted();
      try {
        if (work.progress.state !== 'uploading') this.update(work, { state: 'uploading', message: undefined });
        const answer = await this.options.transport.put({ url: await url(part), body, headers, signal, onProgress: (loaded) => this.setLoaded(work, part, loaded) });
        this.setLoaded(work, part, body.size);
        return answer;
      } catch (error) {
        this.setLoaded(work, part, 0);
        if (signal.aborted) throw new Aborted();
        const kind = classifyFailure(error);
        if (kind === 'transient' && !connectivity.online()) {
          // Offline: wait for the network without spending a try.
          this.update(work, { state: 'waiting-network', message: 'Waiting for the network to come back.' });
          await connectivity.waitUntilOnline(signal);
          continue;
        }
        if (attempt >= attempts || kind === 'permanent' || (kind === 'expired-url' && !refreshUrl)) throw error;
        work.progress.retries += 1;
        if (kind === 'expired-url' && refreshUrl) {
          this.update(work, { state: 'retrying', message: 'The upload link expired; getting a new one.' });
          await refreshUrl();
        } else {
          const delayMs = backoffDelayMs(attempt, backoff);
          this.update(work, { state: 'retrying', message: `${messageOf(error)} Trying again in ${Math.ceil(delayMs / 1000)} s.` });
          await wait(delayMs, signal);
        }
        attempt += 1;
      }
    }
  }

  /** An API call, retried like a transfer when the network or the server hiccups. */
  private async callApi<T>(call: () => Promise<T>, signal: AbortSignal): Promise<T> {
    const { connectivity, attempts, backoff, wait } = this.options;
    for (let attempt = 1; ; ) {
      if (signal.aborted) throw new Aborted();
      try {
        return await call();
      } catch (error) {
        if (signal.aborted) throw new Aborted();
        if (!isTransientApiFailure(error)) throw error;
        if (!connectivity.online()) {
          await connectivity.waitUntilOnline(signal);
          continue;
        }
        if (attempt >= attempts) throw error;
        await wait(backoffDelayMs(attempt, backoff), signal);
        attempt += 1;
      }
    }
  }

  private fail(work: Work, error: unknown, signal: AbortSignal): void {
    if (signal.aborted) return;
    const expired = classifyFailure(error) === 'expired-url';
    this.update(work, { state: 'failed', message: expired ? 'The upload link expired before the file was sent. Use "Retry failed" to send it with a new link.' : messageOf(error) });
  }
}

// ---- a small concurrency limiter ------------------------------------------------------

export type Limiter = <T>(task: () => Promise<T>) => Promise<T>;

/** Runs at most `concurrency` tasks at once, in the order they were given. */
export function limiter(concurrency: number): Limiter {
  let active = 0;
  const waiting: (() => void)[] = [];
  const next = () => {
    active -= 1;
    waiting.shift()?.();
  };
  return <T>(task: () => Promise<T>) =>
    new Promise<T>((resolve, reject) => {
      const run = () => {
        active += 1;
        task().then(resolve, reject).finally(next);
      };
      if (active < concurrency) run();
      else waiting.push(run);
    });
}
