import { describe, expect, it } from 'vitest';
import { ApiError, GatewayError, StorageTransientError, UrlExpiredError, isNetworkError, isTransient } from './errors';
import { backoffDelayMs, withRetry } from './retry';
import { storageError } from './storage-put';

describe('S3 answers to a presigned PUT', () => {
  it.each([
    [403, '<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>', UrlExpiredError],
    [503, '<Error><Code>SlowDown</Code></Error>', StorageTransientError],
    [500, '', StorageTransientError],
    [400, '<Error><Code>BadDigest</Code></Error>', StorageTransientError],
    [403, '<Error><Code>SignatureDoesNotMatch</Code></Error>', GatewayError],
  ])('%i %s', (status, body, type) => {
    const error = storageError(status, body);
    expect(error).toBeInstanceOf(type);
    expect(isTransient(error)).toBe(type !== GatewayError);
  });
});

describe('which failures are retried', () => {
  it('network errors, 5xx, 429 and 408 are; other 4xx are not', () => {
    expect(isNetworkError(Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNRESET' } }))).toBe(true);
    expect(isTransient(new ApiError(502, 'x', 'x'))).toBe(true);
    expect(isTransient(new ApiError(429, 'x', 'x'))).toBe(true);
    expect(isTransient(new ApiError(400, 'invalid_request', 'x'))).toBe(false);
    expect(isTransient(new ApiError(403, 'forbidden', 'x'))).toBe(false);
  });
});

describe('backoff', () => {
  it('grows exponentially up to the cap, with full jitter below it', () => {
    expect([1, 2, 3, 4, 10].map((n) => backoffDelayMs(n, 500, 30_000, () => 1))).toEqual([500, 1000, 2000, 4000, 30_000]);
    expect(backoffDelayMs(5, 500, 30_000, () => 0)).toBe(0);
  });

  it('tries again only what is retryable, and gives up after the last attempt', async () => {
    let calls = 0;
    await expect(withRetry(async () => {
      calls += 1;
      throw new ApiError(503, 'down', 'down');
    }, { attempts: 3, baseDelayMs: 1, maxDelayMs: 2, isRetryable: isTransient })).rejects.toThrow('down');
    expect(calls).toBe(3);
    calls = 0;
    await expect(withRetry(async () => {
      calls += 1;
      throw new ApiError(400, 'bad', 'bad');
    }, { attempts: 3, baseDelayMs: 1, maxDelayMs: 2, isRetryable: isTransient })).rejects.toThrow('bad');
    expect(calls).toBe(1);
    expect(await withRetry(async (attempt) => {
      if (attempt < 2) throw new ApiError(500, 'x', 'x');
      return 'ok';
    }, { attempts: 3, baseDelayMs: 1, maxDelayMs: 2, isRetryable: isTransient })).toBe('ok');
  });
});
