/**
 * Transfer speed and time left, from samples of bytes done over time: the
 * speed is measured over a sliding window (a few seconds), so it follows the
 * network without jumping at every progress event, and the ETA is the bytes
 * left at that speed.
 */
import { formatBytes as formatByteSize } from '@medlake/shared/byte-size';

export interface MeterSample {
  atMs: number;
  bytesDone: number;
}

export class TransferMeter {
  private samples: MeterSample[] = [];

  constructor(
    private readonly windowMs = 5_000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Total bytes done so far (it may go down when a failed part starts over). */
  record(bytesDone: number): void {
    const atMs = this.now();
    this.samples.push({ atMs, bytesDone });
    const cutoff = atMs - this.windowMs;
    // Keep one sample at or before the window start so the window is always covered.
    while (this.samples.length > 2 && (this.samples[1]?.atMs ?? atMs) <= cutoff) this.samples.shift();
  }

  reset(): void {
    this.samples = [];
  }

  /** Bytes per second over the window; undefined until a second of data exists. */
  bytesPerSecond(): number | undefined {
    const first = this.samples[0];
    const last = this.samples.at(-1);
    if (!first || !last) return undefined;
    const elapsedMs = last.atMs - first.atMs;
    if (elapsedMs < 1_000) return undefined;
    return Math.max(0, (last.bytesDone - first.bytesDone) / (elapsedMs / 1_000));
  }

  /** Seconds left for `bytesLeft` at the current speed; undefined when unknown or stalled. */
  etaSeconds(bytesLeft: number): number | undefined {
    if (bytesLeft <= 0) return 0;
    const speed = this.bytesPerSecond();
    if (!speed) return undefined;
    return bytesLeft / speed;
  }
}

/** Sizes on the pages: decimal units, as browsers and file managers show them. */
export function formatBytes(bytes: number): string {
  return formatByteSize(bytes, { units: 'decimal' });
}

export function formatSpeed(bytesPerSecond: number | undefined): string {
  return bytesPerSecond === undefined ? '–' : `${formatBytes(bytesPerSecond)}/s`;
}

/** "45 s", "3 min 20 s", "1 h 05 min"; "–" when unknown. */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '–';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return `${minutes} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}
