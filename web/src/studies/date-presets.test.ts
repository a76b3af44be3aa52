import { describe, expect, it } from 'vitest';
import { isoDay, matchingPreset, presetRange } from './date-presets';

const today = new Date(2026, 10, 25); // 25 Nov 2026, local time

describe('presetRange', () => {
  it.each([
    ['any', {}],
    ['today', { dateFrom: '2026-11-25', dateTo: '2026-11-25' }],
    ['7d', { dateFrom: '2026-11-19', dateTo: '2026-11-25' }],
    ['30d', { dateFrom: '2026-10-27', dateTo: '2026-11-25' }],
    ['1y', { dateFrom: '2025-11-26', dateTo: '2026-11-25' }],
  ] as const)('%s counts back from today, both ends included', (preset, range) => expect(presetRange(preset, today)).toEqual(range));

  it('crosses month and year ends', () => {
    expect(presetRange('7d', new Date(2026, 0, 3))).toEqual({ dateFrom: '2025-12-28', dateTo: '2026-01-03' });
    expect(presetRange('1y', new Date(2028, 1, 29))).toEqual({ dateFrom: '2027-03-01', dateTo: '2028-02-29' });
  });
});

describe('matchingPreset', () => {
  it('recognises a preset written into the URL earlier the same day', () => {
    expect(matchingPreset({ dateFrom: '2026-11-19', dateTo: '2026-11-25' }, today)).toBe('7d');
    expect(matchingPreset({}, today)).toBe('any');
  });

  it('calls any other range custom (a shared link from last week keeps its dates)', () => {
    expect(matchingPreset({ dateFrom: '2026-11-12', dateTo: '2026-11-18' }, today)).toBe('custom');
    expect(matchingPreset({ dateFrom: '2026-11-19' }, today)).toBe('custom');
  });
});

describe('isoDay', () => {
  it('writes the local calendar day', () => expect(isoDay(new Date(2026, 2, 5, 23, 59))).toBe('2026-03-05'));
});
