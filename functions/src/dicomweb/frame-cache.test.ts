import { describe, expect, it } from 'vitest';
import { ByteRangeCache, frameCacheBudgetBytes } from './frame-cache';

describe('frame byte-range cache', () => {
  it('keeps the most recently used ranges within its budget', () => {
    const cache = new ByteRangeCache(40);
    cache.set('a', Buffer.alloc(10));
    cache.set('b', Buffer.alloc(10));
    cache.set('c', Buffer.alloc(10));
    expect(cache.get('a')).toBeDefined();
    cache.set('d', Buffer.alloc(10));
    cache.set('e', Buffer.alloc(10));
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBeDefined();
    expect(cache.size).toBeLessThanOrEqual(40);
  });
  it('does not keep a range bigger than a quarter of the budget', () => {
    const cache = new ByteRangeCache(40);
    cache.set('big', Buffer.alloc(11));
    expect(cache.get('big')).toBeUndefined();
  });
  it('takes its budget from the environment, else from the Lambda memory', () => {
    expect(frameCacheBudgetBytes({ DICOMWEB_FRAME_CACHE_MB: '0' })).toBe(0);
    expect(frameCacheBudgetBytes({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '2048' })).toBe(512 * 1_048_576);
    expect(frameCacheBudgetBytes({})).toBe(256 * 1_048_576);
  });
});
