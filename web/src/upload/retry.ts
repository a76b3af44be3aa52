/**
 * Retrying transfers: exponential backoff with full jitter (many browsers
 * coming back after the same outage must not retry in lockstep), and which
 * failures are worth another try.
 */

export interface BackoffOptions {
  baseDelayMs: number;
  maxDelayMs: number;
  random?: () => number;
}

export const defaultBackoff: BackoffOptions = { baseDelayMs: 500, maxDelayMs: 30_000 };

/** The wait before retry number `attempt` (1 = first retry): uniform in [0, min(max, base·2^(attempt-1))]. */
export function backoffDelayMs(attempt: number, options: BackoffOptions = defaultBackoff): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round((options.random ?? Math.random)() * ceiling);
}

/** A failed HTTP transfer: `status` 0 means the network failed (no answer at all). */
export class TransferError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** S3's error code from an XML error body, when there was one (e.g. `AccessDenied`, `RequestExpired`). */
    readonly s3Code?: string,
  ) {
    super(message);
    this.name = 'TransferError';
  }
}

export type FailureKind =
  /** No answer, a timeout, throttling or a server error: try again after a pause. */
  | 'transient'
  /** The presigned URL expired or its signature no longer holds: get a fresh URL, then try again. */
  | 'expired-url'
  /** Anything else: retrying would fail the same way. */
  | 'permanent';

export function classifyFailure(error: unknown): FailureKind {
  if (!(error instanceof TransferError)) return 'permanent';
  const { status, s3Code } = error;
  if (status === 0 || status === 408 || status === 429 || status >= 500) return 'transient';
  // S3 answers 403 for an expired presigned URL (AccessDenied "Request has expired") and for a signature
  // that no longer matches; a fresh URL is the cure for both.
  if (status === 403 && (!s3Code || s3Code === 'AccessDenied' || s3Code === 'RequestExpired' || s3Code === 'ExpiredToken' || s3Code === 'SignatureDoesNotMatch')) return 'expired-url';
  if (status === 400 && (s3Code === 'ExpiredToken' || s3Code === 'RequestTimeout')) return s3Code === 'RequestTimeout' ? 'transient' : 'expired-url';
  return 'permanent';
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
