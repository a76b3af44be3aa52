import { describe, expect, it } from 'vitest';
import { ByteBudget } from './byte-budget';

describe('byte budget', () => {
  it('lets work in while it fits and queues the rest in order', async () => {
    const budget = new ByteBudget(100);
    const order: string[] = [];
    const a = await budget.acquire(60);
    const b = budget.acquire(50).then((release) => { order.push('b'); return release; });
    const c = budget.acquire(10).then((release) => { order.push('c'); return release; });
    await new Promise((r) => setTimeout(r, 5));
    expect(order).toEqual([]);
    a();
    const releaseB = await b;
    const releaseC = await c;
    expect(order).toEqual(['b', 'c']);
    releaseB();
    releaseC();
  });

  it('runs an item larger than the budget alone', async () => {
    const budget = new ByteBudget(100);
    const huge = await budget.acquire(1000);
    let small = false;
    const pending = budget.acquire(1).then((release) => { small = true; return release; });
    await new Promise((r) => setTimeout(r, 5));
    expect(small).toBe(false);
    huge();
    (await pending)();
    expect(small).toBe(true);
  });
});
