import { describe, expect, it } from 'vitest';
import { scrubReport } from './scrub-report';
import { normalizeReportQuery, reportSearchText } from './search-text';

const replacements = { patientName: 'MLP-AAAA', patientId: 'MLP-AAAA', accessionNumber: 'MLA-BBBB', dateShiftDays: -10, referenceYear: 2021 };
const scrub = (text: string, known = {}) => scrubReport(text, known, replacements).text;

describe('scrubbing known identifiers', () => {
  const known = { patientNames: ['Müller^Hans-Peter'], patientIds: ['004711'], accessionNumbers: ['K-20003'], birthDates: ['19550318'], physicianNames: ['Vogel^Katrin'], institutionNames: ["St. Mary's Hospital"] };
  it.each([
    ['Hans-Peter Müller', 'MLP-AAAA'],
    ['MUELLER, HANS-PETER', 'MLP-AAAA'],
    ['Herr Muller', 'Herr MLP-AAAA'],
    ['H. Müller', 'MLP-AAAA'],
    ['Hans-Peter klagt', 'MLP-AAAA klagt'],
    ['PID 4711 and 00-4711', 'PID MLP-AAAA and MLP-AAAA'],
    ['Auftrag K20003', 'Auftrag MLA-BBBB'],
    ['geb. 18.03.1955', 'geb. 08.03.1955'],
    ['Katrin Vogel', '[NAME]'],
    ['seen at Saint Mary’s Hospital', 'seen at [INSTITUTION]'],
  ])('%s', (text, expected) => {
    expect(scrub(text, known)).toBe(expected);
  });

  it('keeps ordinary words that are also name parts, unless capitalised', () => {
    const text = 'A small mass in the left lobe. Mrs. Mass was informed.';
    expect(scrubReport(text, { patientNames: ['Mass^Ingrid'] }, replacements).text).toBe('A small mass in the left lobe. Mrs. MLP-AAAA was informed.');
  });
});

describe('pattern rules', () => {
  it.each([
    ['Call 555-867-5309 or (555) 201-7788 or +49 30 1234567.', 'Call [PHONE] or [PHONE] or [PHONE].'],
    ['Tél : 01 23 45 67 89', 'Tél : [PHONE]'],
    ['Write to jane.roe@example.org', 'Write to [EMAIL]'],
    ['MRN: 8842210, Fallnummer 88812345', 'MRN: [ID], Fallnummer [ID]'],
    ['lives at 42 Baker Street, Springfield, MA 02115', 'lives at [ADDRESS], [POSTCODE]'],
    ['Lindenstraße 12, 20095 Hamburg', '[ADDRESS], [POSTCODE]'],
    ['14 rue des Lilas, 69003 Lyon', '[ADDRESS], [POSTCODE]'],
    ['cc: Dr. Lisa Cuddy, Wilson and Chase', 'cc: Dr. [NAME], [NAME] and [NAME]'],
    ['Electronically signed by Priya Raman, MD', 'Electronically signed by [NAME], MD'],
    ['Her son Geoffrey came along', 'Her son [NAME] came along'],
    ['Befundet von: Prof. Dr. med. Jörg Lehmann', 'Befundet von: Prof. Dr. med. [NAME]'],
    ['Seen at Klinikum Rechts der Isar.', 'Seen at [INSTITUTION].'],
    ['Exam 14.03.2021, prior March 3, 2020.', 'Exam 04.03.2021, prior February 22, 2020.'],
  ])('%s', (text, expected) => {
    expect(scrub(text)).toBe(expected);
  });

  it('keeps the clinical content', () => {
    const text = 'FINDINGS: 2.3 x 1.5 cm mass in the RUL (series 3, image 47). No pneumothorax. L4/5 disc herniation. Lung-RADS 4A. 120 kVp, CTDIvol 8.2 mGy.';
    expect(scrub(text)).toBe(text);
  });

  it('counts replacements per kind, never values', () => {
    const result = scrubReport('Dr. Jane Roe, 555-867-5309, 12.03.2021', {}, replacements);
    expect(result.counts).toEqual({ name: 1, phone: 1, date: 1 });
  });
});

describe('search text', () => {
  it('folds case and accents, rewrites shorthand, pairs abbreviations with their expansion', () => {
    expect(reportSearchText('CT w/o contrast: GGO, Épanchement, Pleuraerguß, oedema')).toBe('ct computed tomography without contrast: ggo, ground glass opacity epanchement, pleuraerguss, edema');
    expect(reportSearchText('small ground-glass opacity')).toBe('small groundglass ground glass opacity ggo');
    expect(normalizeReportQuery('"Pleural Effusion" -Pneumothorax w/o')).toBe('"pleural effusion" -pneumothorax without');
  });
});
