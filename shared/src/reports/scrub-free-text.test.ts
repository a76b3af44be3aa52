import { describe, expect, it } from 'vitest';
import { scrubFreeText } from './scrub-free-text';

describe('free text outside reports', () => {
  it.each([
    ['Dr. Hollis follow-up, call 555-867-5309 before 2021-03-15', 'Dr. [NAME] follow-up, call [PHONE] before [DATE]'],
    ['Liver lesions, second read', 'Liver lesions, second read'],
    ['MRN 8842210 cohort (jane.roe@example.org)', 'MRN [ID] cohort ([EMAIL])'],
    ['reviewed 15.03.2021 with Mrs. Quincy', 'reviewed [DATE] with Mrs. [NAME]'],
  ])('pattern rules alone, dates removed: %s', (text, expected) => {
    expect(scrubFreeText(text).text).toBe(expected);
  });

  it('with a study: its patient by name, dates shifted like its images', () => {
    const study = { known: { patientNames: ['DOEPLANTED^JOHNATHAN'] }, replacements: { patientName: 'MLP-AAAA', patientId: 'MLP-AAAA', dateShiftDays: -10 } };
    expect(scrubFreeText('Johnathan Doeplanted nodule, seen 2021-03-15', study).text).toBe('MLP-AAAA nodule, seen 2021-03-05');
  });
});
