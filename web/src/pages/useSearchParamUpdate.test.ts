import { describe, expect, it } from 'vitest';
import { withSearchParamChanges } from './useSearchParamUpdate';

describe('withSearchParamChanges', () => {
  it('sets given values, removes empty or undefined ones and keeps the others', () => {
    const before = new URLSearchParams('state=all&reason=Secondary+Capture&upload=abc');
    const after = withSearchParamChanges(before, { state: 'released', reason: undefined, upload: '', since: '2026-01-01T00:00:00.000Z' });
    expect(after.toString()).toBe('state=released&since=2026-01-01T00%3A00%3A00.000Z');
    expect(before.toString()).toBe('state=all&reason=Secondary+Capture&upload=abc');
  });

  it('changes nothing for no changes', () => {
    expect(withSearchParamChanges(new URLSearchParams('trail=1,2'), {}).toString()).toBe('trail=1%2C2');
  });
});
