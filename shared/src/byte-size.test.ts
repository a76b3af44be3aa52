import { describe, expect, it } from 'vitest';
import { formatBytes } from './byte-size';

describe('formatBytes', () => {
  it.each([
    [0, '0 bytes'],
    [512, '512 bytes'],
    [1024, '1 KiB'],
    [1536, '1.5 KiB'],
    [5 * 1024 * 1024, '5 MiB'],
    [64 * 1024 ** 3, '64 GiB'],
    [3 * 1024 ** 5, '3072 TiB'],
  ])('binary: %d is %s', (bytes, text) => expect(formatBytes(bytes)).toBe(text));

  it.each([
    [0, '0 B'],
    [999, '999 B'],
    [1_500, '1.5 KB'],
    [52_400_000, '52 MB'],
    [3_200_000_000, '3.2 GB'],
  ])('decimal: %d is %s', (bytes, text) => expect(formatBytes(bytes, { units: 'decimal' })).toBe(text));

  it('says nothing for sizes that are not sizes', () => {
    expect(formatBytes(Number.NaN)).toBe('–');
    expect(formatBytes(-1, { units: 'decimal' })).toBe('–');
  });
});
