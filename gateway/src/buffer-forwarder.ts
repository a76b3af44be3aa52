/**
 * The background loop that empties the gateway's buffer into medlake: it
 * waits briefly for a batch to gather, uploads through the same code as
 * `medlake upload` (so retries, resume and verdicts behave the same), and
 * deletes a buffered instance only once the server has it (accepted,
 * duplicate or held for review); a refused one moves to rejected/ with the
 * reason. Anything else stays, and is tried again with growing pauses, so an
 * acknowledged instance is never lost, across outages and restarts.
 */
import { stat } from 'node:fs/promises';
import type { LocalFile } from './collect-files';
import { describeError } from './errors';
import type { GatewayLog } from './gateway-log';
import type { InstanceBuffer } from './instance-buffer';
import { backoffDelayMs, sleep } from './retry';
import type { UploadApi } from './upload-api';
import type { FileOutcome } from './upload-run';
import { runUpload, tally } from './upload-run';
import type { UploadState } from './upload-state';
import { fileKey } from './upload-state';

export interface ForwarderOptions {
  buffer: InstanceBuffer;
  api: UploadApi;
  state: UploadState;
  log: GatewayLog;
  concurrency: number;
  /** Most instances per upload batch. */
  batchSize: number;
  /** Wait this long after the last arrival for a batch to fill. */
  flushMs: number;
  /** How long one cycle waits for the server's verdicts before moving on (they are polled again next cycle). */
  verdictWaitMs?: number;
  /** Pause bounds after a failed cycle. */
  retryBaseMs?: number;
  retryMaxMs?: number;
}

export interface ForwarderCounters {
  cycles: number;
  sent: number;
  accepted: number;
  duplicate: number;
  held: number;
  rejected: number;
  failed: number;
}

export class BufferForwarder {
  readonly counters: ForwarderCounters = { cycles: 0, sent: 0, accepted: 0, duplicate: 0, held: 0, rejected: 0, failed: 0 };
  private stopping = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private lastArrival = 0;
  private phase: 'idle' | 'hashing' | 'uploading' | 'waiting' = 'idle';
  private controller = new AbortController();

  constructor(private readonly options: ForwarderOptions) {}

  start(): void {
    this.loop ??= this.run();
  }

  /** A new instance reached the buffer. */
  notify(): void {
    this.lastArrival = Date.now();
    this.wake?.();
  }

  /**
   * Finishes the transfers under way (up to graceMs), then stops. Waiting for
   * verdicts is cut short at once: those files are polled again after restart.
   */
  async stop(graceMs = 20_000): Promise<void> {
    this.stopping = true;
    this.wake?.();
    if (this.phase === 'waiting' || this.phase === 'idle' || this.phase === 'hashing') this.controller.abort(new Error('stopping'));
    const timer = setTimeout(() => this.controller.abort(new Error('stopping')), graceMs);
    try {
      await this.loop;
    } finally {
      clearTimeout(timer);
    }
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      const waiting = await this.options.buffer.pending();
      if (waiting.length === 0) {
        await this.idle();
        continue;
      }
      // Let a study that is still arriving fill the batch.
      const quietFor = Date.now() - this.lastArrival;
      if (waiting.length < this.options.batchSize && quietFor < this.options.flushMs) {
        await this.idle(this.options.flushMs - quietFor);
        continue;
      }
      let ok: boolean;
      try {
        ok = await this.cycle(waiting.slice(0, this.options.batchSize * 10));
      } catch (error) {
        if (this.stopping) break;
        this.options.log.warn('upload cycle failed; instances stay buffered', { error: describeError(error) });
        ok = false;
      }
      failures = ok ? 0 : failures + 1;
      if (failures > 0 && !this.stopping) {
        const pauseMs = Math.max(1000, backoffDelayMs(Math.min(failures, 10), this.options.retryBaseMs ?? 5000, this.options.retryMaxMs ?? 300_000));
        this.options.log.info('pausing uploads before the next try', { seconds: Math.round(pauseMs / 1000), failures });
        await this.idle(pauseMs);
      }
    }
    this.phase = 'idle';
  }

  /** One batch: upload, wait for verdicts, settle each file. True when nothing failed. */
  private async cycle(paths: string[]): Promise<boolean> {
    this.counters.cycles += 1;
    const files: LocalFile[] = [];
    for (const path of paths) {
      try {
        const info = await stat(path);
        files.push({ path, displayPath: path, sizeBytes: info.size, mtimeMs: info.mtimeMs, kind: 'dicom' });
      } catch {
        // Gone since listing (settled by an earlier cycle).
      }
    }
    if (this.controller.signal.aborted) this.controller = new AbortController();
    const outcomes = await runUpload(files, {
      api: this.options.api,
      state: this.options.state,
      concurrency: this.options.concurrency,
      batchFiles: this.options.batchSize,
      hideNames: true,
      waitTimeoutMs: this.options.verdictWaitMs ?? 120_000,
      signal: this.controller.signal,
      events: { onPhase: (phase) => {
        this.phase = phase;
        if (this.stopping && phase === 'waiting') this.controller.abort(new Error('stopping'));
      } },
    });
    this.phase = 'idle';
    for (const outcome of outcomes) await this.settle(outcome);
    const counts = tally(outcomes);
    this.counters.sent += counts.sent;
    this.counters.accepted += counts.accepted;
    this.counters.duplicate += counts.duplicate;
    this.counters.held += counts.held;
    this.counters.rejected += counts.rejected;
    this.counters.failed += counts.failed;
    this.options.log.info('upload cycle', {
      files: outcomes.length, sent: counts.sent, accepted: counts.accepted, duplicate: counts.duplicate, held: counts.held,
      rejected: counts.rejected, processing: counts.pending, failed: counts.failed, notSent: counts['not-sent'],
    });
    const firstFailure = outcomes.find((o) => o.state === 'failed');
    if (firstFailure) this.options.log.warn('some instances could not be uploaded; they stay buffered', { count: counts.failed, reason: firstFailure.reason });
    return counts.failed === 0 && counts['not-sent'] === 0;
  }

  private async settle(outcome: FileOutcome): Promise<void> {
    const { buffer, state, api } = this.options;
    const forget = () => {
      if (outcome.sha256) state.forget(fileKey({ path: outcome.file.path, sizeBytes: outcome.file.sizeBytes, mtimeMs: outcome.file.mtimeMs, sha256: outcome.sha256 }), api.baseUrl);
    };
    if (outcome.state === 'accepted' || outcome.state === 'duplicate' || outcome.state === 'held') {
      await buffer.remove(outcome.file.path);
      forget();
    } else if (outcome.state === 'rejected') {
      await buffer.reject(outcome.file.path, { reason: outcome.reason ?? 'no reason given', ...(outcome.uploadId ? { uploadId: outcome.uploadId } : {}) });
      forget();
      this.options.log.warn('instance rejected by the server; kept in rejected/', { file: outcome.file.path.split('/').pop(), reason: outcome.reason });
    }
  }

  private idle(ms?: number): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = ms === undefined ? undefined : setTimeout(done, ms);
      this.wake = done;
    }).then(() => sleep(0));
  }
}
