import { describe, expect, it } from 'vitest';
import type { DicomJson } from './dicom-json';
import { attributeValues, isPersonName, numberValue, numberValues, sequenceItems, stringValue, stringValues } from './dicom-json-read';
import { Tag } from './tags';

const codeItem: DicomJson = { '00080100': { vr: 'SH', Value: ['121071'] }, '00080104': { vr: 'LO', Value: ['Finding'] } };
const json: DicomJson = {
  '00080008': { vr: 'CS', Value: ['ORIGINAL', null, 'PRIMARY', ''] },
  '00080060': { vr: 'CS', Value: ['CT'] },
  '00081030': { vr: 'LO', Value: [''] },
  '00100010': { vr: 'PN', Value: [{ Alphabetic: 'PSEUDO^A1', Ideographic: 'X' }] },
  '00080090': { vr: 'PN', Value: [{ Ideographic: 'only ideographic' }] },
  '0020000D': { vr: 'UI', Value: ['1.2.3'] },
  '00200013': { vr: 'IS', Value: [7] },
  '00280030': { vr: 'DS', Value: ['0.5', 0.75] },
  '00280010': { vr: 'US', Value: [512] },
  '00281050': { vr: 'DS', Value: [40, null, 'x', '', 80] },
  '00101020': { vr: 'DS' },
  '0040A730': { vr: 'SQ', Value: [codeItem, {}] },
};

describe('reading DICOM JSON attributes', () => {
  it.each([
    ['a string value', '00080060', 'CT'],
    ['a UID by its number', Tag.StudyInstanceUID, '1.2.3'],
    ['a number written out', '00200013', '7'],
    ['a person name by its alphabetic group', '00100010', 'PSEUDO^A1'],
    ['a person name without an alphabetic group as null', '00080090', null],
    ['an empty string as null', '00081030', null],
    ['an attribute without a value as null', '00101020', null],
    ['an absent attribute as null', '00100020', null],
    ['a sequence as null', '0040A730', null],
  ])('stringValue reads %s', (_name, tag, expected) => {
    expect(stringValue(json, tag)).toBe(expected);
  });

  it.each([
    ['a JSON number', '00280010', 512],
    ['an IS number', Tag.InstanceNumber, 7],
    ['a DS given as a JSON string', '00280030', 0.5],
    ['a string that is no number as null', '00080060', null],
    ['an absent attribute as null', '00280011', null],
  ])('numberValue reads %s', (_name, tag, expected) => {
    expect(numberValue(json, tag)).toBe(expected);
  });

  it('lists the values of multi-valued attributes, leaving out empty and unreadable ones', () => {
    expect(stringValues(json, '00080008')).toEqual(['ORIGINAL', 'PRIMARY']);
    expect(numberValues(json, '00281050')).toEqual([40, 80]);
    expect(numberValues(json, '00280030')).toEqual([0.5, 0.75]);
    expect(stringValues(json, '00100020')).toEqual([]);
    expect(attributeValues(json, '00081030')).toEqual(['']);
  });

  it('reads the items of a sequence, never person names', () => {
    expect(sequenceItems(json, '0040A730')).toEqual([codeItem, {}]);
    expect(sequenceItems(json, '00100010')).toEqual([]);
    expect(stringValue(sequenceItems(json, '0040A730')[0] ?? {}, '00080104')).toBe('Finding');
    expect(isPersonName({ Phonetic: 'x' })).toBe(true);
    expect(isPersonName(codeItem)).toBe(false);
  });

  it('reads the looser maps DICOMweb answers use', () => {
    const loose: Record<string, { vr: string; Value?: unknown[] }> = { '00080018': { vr: 'UI', Value: ['1.2.840.1'] } };
    expect(stringValue(loose, '00080018')).toBe('1.2.840.1');
  });
});
