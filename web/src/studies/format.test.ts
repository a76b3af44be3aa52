import { describe, expect, it } from 'vitest';
import { formatAge, formatSex, formatStudyDate, formatStudyTime, shortId } from './format';

describe('study formatting', () => {
  it.each([
    ['045Y', '45 y'],
    ['006M', '6 mo'],
    ['003W', '3 wk'],
    ['010D', '10 d'],
    [null, '–'],
    ['odd', 'odd'],
  ])('formatAge(%s) = %s', (age, text) => expect(formatAge(age)).toBe(text));

  it('formats dates and times from ISO or DICOM forms', () => {
    expect(formatStudyDate('2026-11-25')).toBe('2026-11-25');
    expect(formatStudyDate('20261125')).toBe('2026-11-25');
    expect(formatStudyDate(null)).toBe('–');
    expect(formatStudyTime('093015.123')).toBe('09:30');
    expect(formatStudyTime('09:30:15')).toBe('09:30');
    expect(formatStudyTime(null)).toBe('');
  });

  it('names sexes and shortens long pseudonyms', () => {
    expect(formatSex('f')).toBe('Female');
    expect(formatSex('M', true)).toBe('M');
    expect(formatSex(undefined)).toBe('–');
    expect(shortId('abcdefghijklmnopqrstuvwxyz')).toBe('abcdefghijkl…');
    expect(shortId('short')).toBe('short');
  });
});
