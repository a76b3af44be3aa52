import { describe, expect, it } from 'vitest';
import { findDates, shiftDatesInText } from './report-dates';

describe('dates in report text, shifted in their written style', () => {
  it.each([
    ['2021-03-12', '2021-02-10'],
    ['20210312', '20210210'],
    ['12.03.2021', '10.02.2021'],
    ['12. 3. 21', '10. 2. 21'],
    ['3/14/2021', '2/12/2021'],
    ['14/03/2021', '12/02/2021'],
    ['12 March 2021', '10 February 2021'],
    ['12th of March 2021', '10th of February 2021'],
    ['12. März 2021', '10. Februar 2021'],
    ['1er mars 2021', '30e janvier 2021'],
    ['12-Mar-2021', '10-Feb-2021'],
    ['March 12, 2021', 'February 10, 2021'],
    ['MARCH 2, 2021', 'JANUARY 31, 2021'],
    ['in March 2021', 'in February 2021'],
    ['03/2021', '02/2021'],
    ['am 12.03. um', 'am 10.02. um'],
    ['on 12 March', 'on 10 February'],
  ])('%s', (written, shifted) => {
    expect(shiftDatesInText(written, -30, { referenceYear: 2021 })).toBe(shifted);
  });

  it('leaves numbers that are not dates', () => {
    const text = 'Nodule 12.5 x 3.2 cm at L4/5, T2 signal, 120 kVp, DLP 1234.5, may 5 lesions, in 2019, series 3/45.';
    expect(findDates(text)).toEqual([]);
  });

  it('reads ambiguous slash dates as the report\'s other dates do', () => {
    expect(shiftDatesInText('seen 12/25/2020 and 03/04/2021', 1)).toBe('seen 12/26/2020 and 03/05/2021');
    expect(shiftDatesInText('seen 25/12/2020 and 03/04/2021', 1)).toBe('seen 26/12/2020 and 04/04/2021');
  });
});
