import { describe, expect, it } from 'vitest';
import { coalesceCalls } from './coalesce-calls';

describe('coalesceCalls', () => {
  it('answers calls of the same moment with one batched call, each with its own result, in order', async () => {
    const batches: number[][] = [];
    const double = coalesceCalls(async (args: readonly number[]) => {
      batches.push([...args]);
      return args.map((a) => a * 2);
    });
    const results = await Promise.all([double(1), double(2), double(3)]);
    expect(results).toEqual([2, 4, 6]);
    expect(batches).toEqual([[1, 2, 3]]);
    // A later call starts a batch of its own.
    expect(await double(5)).toBe(10);
    expect(batches).toEqual([[1, 2, 3], [5]]);
  });

  it('gathers calls made in microtasks of the same moment (awaits before calling)', async () => {
    const batches: string[][] = [];
    const echo = coalesceCalls(async (args: readonly string[]) => {
      batches.push([...args]);
      return args;
    });
    const later = async (value: string) => {
      await Promise.resolve();
      await Promise.resolve();
      return echo(value);
    };
    expect(await Promise.all([echo('a'), later('b'), later('c')])).toEqual(['a', 'b', 'c']);
    expect(batches).toEqual([['a', 'b', 'c']]);
  });

  it('fails every call of a batch whose batched call fails, and goes on afterwards', async () => {
    let fail = true;
    const call = coalesceCalls(async (args: readonly number[]) => {
      if (fail) throw new Error('database unavailable');
      return args;
    });
    const outcomes = await Promise.allSettled([call(1), call(2)]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    expect(await call(3)).toBe(3);
  });
});
