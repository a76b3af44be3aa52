import { describe, expect, it } from 'vitest';
import { defaultDeidOptions, resolveDeidOptions } from '../options';
import { ConfidentialityProfile, resolveBasicCell } from './confidentiality-profile';

const basicOnly = resolveDeidOptions({ retainLongitudinalModifiedDates: false, retainPatientCharacteristics: false, cleanDescriptors: false });

describe('Table E.1-1 resolved for an option set', () => {
  const profile = new ConfidentialityProfile(defaultDeidOptions);
  const basic = new ConfidentialityProfile(basicOnly);

  // One row per action kind (and per combined code), read from the table itself.
  const cases: Array<[string, number, 'default' | 'basic', string, string]> = [
    ['X: Other Patient IDs removed', 0x00101000, 'basic', 'X', 'X'],
    ['Z: Study ID emptied', 0x00200010, 'basic', 'Z', 'Z'],
    ['D: Person Name replaced by a dummy', 0x0040a123, 'basic', 'D', 'D'],
    ['K under Retain Patient Characteristics: Patient Sex kept', 0x00100040, 'default', 'K', 'K'],
    ['Z without the option: Patient Sex emptied', 0x00100040, 'basic', 'Z', 'Z'],
    ['C under Modified Dates: Study Date shifted', 0x00080020, 'default', 'C', 'C'],
    ['C under Clean Descriptors: Study Description cleaned', 0x00081030, 'default', 'C', 'C'],
    ['X without Clean Descriptors: Study Description removed', 0x00081030, 'basic', 'X', 'X'],
    ['U: Frame of Reference UID remapped', 0x00200052, 'basic', 'U', 'U'],
    ['X/Z → X: Referenced Study Sequence', 0x00081110, 'basic', 'X/Z', 'X'],
    ['X/Z → Z when Type 2: Acquisition Context Sequence', 0x00400555, 'basic', 'X/Z', 'Z'],
    ['X/Z/D → X: Institution Name', 0x00080080, 'basic', 'X/Z/D', 'X'],
    ['X/Z/D → D when Type 1: Device Serial Number', 0x00181000, 'basic', 'X/Z/D', 'D'],
    ['Z/D → D: Patient ID (becomes the pseudonym)', 0x00100020, 'basic', 'Z/D', 'D'],
    ['Z/D → Z: Content Creator Name', 0x00700084, 'basic', 'Z/D', 'Z'],
    ['X/D → X: Detector ID', 0x0018700a, 'basic', 'X/D', 'X'],
    ['X/Z/U* → U: Referenced Image Sequence kept, UIDs remapped', 0x00081140, 'basic', 'X/Z/U*', 'U'],
    ['C wins over K when two options apply: Allergies', 0x00102110, 'default', 'C', 'C'],
  ];
  for (const [name, tag, which, cell, action] of cases) {
    it(name, () => {
      const rule = (which === 'default' ? profile : basic).ruleFor(tag);
      expect(rule?.cell).toBe(cell);
      expect(rule?.action).toBe(action);
    });
  }

  it('matches the wildcard rows by their regular expressions: curves, overlays, private', () => {
    expect(profile.ruleFor(0x50023000)).toMatchObject({ action: 'X', wildcard: 'curve' });
    expect(profile.ruleFor(0x60023000)).toMatchObject({ action: 'X', wildcard: 'overlay-data' });
    expect(profile.ruleFor(0x601e4000)).toMatchObject({ action: 'X', wildcard: 'overlay-comments' });
    expect(profile.ruleFor(0x60020010)).toBeUndefined(); // Overlay Rows: not listed (the whole plane goes with its data)
    expect(profile.ruleFor(0x00291010)).toMatchObject({ action: 'X', wildcard: 'private' });
    expect(new ConfidentialityProfile({ ...defaultDeidOptions, retainSafePrivate: true }).ruleFor(0x00291010)).toMatchObject({ action: 'C', option: 'retainSafePrivate' });
  });

  it('leaves unlisted attributes to the caller', () => {
    expect(profile.ruleFor(0x00280010)).toBeUndefined(); // Rows
    expect(profile.ruleFor(0x00080016)).toBeUndefined(); // SOP Class UID
  });

  it('knows every action code of the table', () => {
    for (const cell of ['X', 'Z', 'D', 'K', 'C', 'U', 'X/Z', 'X/D', 'Z/D', 'X/Z/D', 'X/Z/U*']) expect(() => resolveBasicCell(cell, 0)).not.toThrow();
    expect(() => resolveBasicCell('Q', 0)).toThrow();
  });
});
