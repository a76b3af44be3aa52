import { describe, expect, it } from 'vitest';
import { TransferError, backoffDelayMs, classifyFailure, sleep } from './retry';

describe('backoffDelayMs', () => {
  it('doubles its ceiling per attempt up to the maximum (full jitter below it)', () => {
    const top = () => 1;
    const options = { baseDelayMs: 500, maxDelayMs: 30_000, random: top };
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((attempt) => backoffDelayMs(attempt, options))).toEqual([500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
    expect(backoffDelayMs(3, { ...options, random: () => 0 })).toBe(0);
    expect(backoffDelayMs(3, { ...options, random: () => 0.5 })).toBe(1_000);
  });
});

describe('classifyFailure', () => {
  it.each([
    [new TransferError(0, 'network'), 'transient'],
    [new TransferError(408, 'timeout'), 'transient'],
    [new TransferError(429, 'slow down'), 'transient'],
    [new TransferError(500, 'oops'), 'transient'],
    [new TransferError(503, 'SlowDown', 'SlowDown'), 'transient'],
    [new TransferError(403, 'expired', 'AccessDenied'), 'expired-url'],
    [new TransferError(403, 'signature', 'SignatureDoesNotMatch'), 'expired-url'],
    [new TransferError(403, 'no body'), 'expired-url'],
    [new TransferError(400, 'checksum', 'BadDigest'), 'permanent'],
    [new TransferError(400, 'timeout', 'RequestTimeout'), 'transient'],
    [new TransferError(404, 'no such upload', 'NoSuchUpload'), 'permanent'],
    [new Error('a bug'), 'permanent'],
  ] as const)('%s is %s', (error, kind) => expect(classifyFailure(error)).toBe(kind));
});

describe('sleep', () => {
  it('stops early when its signal aborts', async () => {
    const controller = new AbortController();
    const waiting = sleep(60_000, controller.signal);
    controller.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow('stop');
  });
});
