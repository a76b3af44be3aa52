import { describe, expect, it } from 'vitest';
import { shiftDaValue, shiftDtValue } from './date-shift';
import { patientAgeAt } from './patient-age';
import { dateShiftDays, patientPseudonym } from './pseudonym';
import { remapUid } from './uid';

describe('date shifting by whole days', () => {
  const cases: Array<[string, 'DA' | 'DT', string, number, string | undefined]> = [
    ['a date', 'DA', '20200301', -1, '20200229'],
    ['across a year', 'DA', '20200105', -10, '20191226'],
    ['multiple values', 'DA', '20200101\\20200201', -1, '20191231\\20200131'],
    ['a range', 'DA', '20200101-20200131', -31, '20191201-20191231'],
    ['an open range', 'DA', '-20200131', -31, '-20191231'],
    ['a partial date (year and month)', 'DA', '202003', -1, '202002'],
    ['an ACR-NEMA dotted date', 'DA', '2020.03.01', -1, '2020.02.29'],
    ['not a date', 'DA', 'UNKNOWN', -1, undefined],
    ['an impossible date', 'DA', '20200231', -1, undefined],
    ['a date-time keeps its time and offset', 'DT', '20200301235959.123456-0500', -1, '20200229235959.123456-0500'],
    ['a date-time with only hours', 'DT', '2020030123', -366, '2019030123'],
    ['a date-time range', 'DT', '20200101000000+0100-20200102000000+0100', -1, '20191231000000+0100-20200101000000+0100'],
    ['a partial date-time', 'DT', '2020', -1, '2019'],
  ];
  for (const [name, vr, input, days, expected] of cases) {
    it(`shifts ${name}`, () => {
      expect(vr === 'DA' ? shiftDaValue(input, days) : shiftDtValue(input, days)).toBe(expected);
    });
  }
});

describe('keyed identities', () => {
  const key = new Uint8Array(32).fill(3);

  it('remaps a UID to 2.25 + 128 bits of HMAC-SHA256, deterministically', () => {
    const uid = remapUid(key, '1.2.3.4');
    expect(uid).toBe(remapUid(key, '1.2.3.4'));
    expect(uid).toMatch(/^2\.25\.[1-9]\d{0,38}$/);
    expect(BigInt(uid.slice(5)) < 2n ** 128n).toBe(true);
    expect(remapUid(key, '1.2.3.5')).not.toBe(uid);
  });

  it('derives one date offset per patient within the range', () => {
    const pseudonym = patientPseudonym(key, 'A', '1');
    const days = dateShiftDays(key, pseudonym, 30);
    expect(days).toBe(dateShiftDays(key, pseudonym, 30));
    const spread = new Set(Array.from({ length: 200 }, (_, index) => dateShiftDays(key, patientPseudonym(key, 'A', String(index)), 30)));
    expect([...spread].every((value) => value >= -30 && value <= -1)).toBe(true);
    expect(spread.size).toBeGreaterThan(20);
  });
});

describe('patient age', () => {
  it('writes days, months or years as modalities do', () => {
    expect(patientAgeAt('20200101', '20200115')).toBe('014D');
    expect(patientAgeAt('20190115', '20200114')).toBe('011M');
    expect(patientAgeAt('19610203', '20200315')).toBe('059Y');
    expect(patientAgeAt('19610203', '20210202')).toBe('059Y');
    expect(patientAgeAt('19610203', '20210203')).toBe('060Y');
    expect(patientAgeAt('2020', '20200315')).toBeUndefined();
    expect(patientAgeAt('20200316', '20200315')).toBeUndefined();
  });
});
