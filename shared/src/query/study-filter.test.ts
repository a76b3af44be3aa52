import { describe, expect, it } from 'vitest';
import { QueryError } from './errors';
import { emptyStudyFilter, parseStudyFilter, studyFilterFromJson, studyFilterToJson, studyFilterToQueryString } from './study-filter';
import { studyFilterSql } from './study-filter-sql';

const parse = (qs: string) => parseStudyFilter(new URLSearchParams(qs));

describe('study filter: parsing', () => {
  const accepted: [string, string, Record<string, unknown>][] = [
    ['empty query gives the defaults', '', { sort: 'studyDate', order: 'desc', limit: 50, offset: 0, modalities: [], bodyParts: [], labels: [] }],
    ['patient id kept as given', 'patientId=PAT-0001', { patientId: 'PAT-0001' }],
    ['sex upper-cased', 'sex=f', { sex: 'F' }],
    ['age bounds', 'ageMin=40&ageMax=65', { ageMin: 40, ageMax: 65 }],
    ['date bounds', 'dateFrom=2020-01-01&dateTo=2020-12-31', { dateFrom: '2020-01-01', dateTo: '2020-12-31' }],
    ['repeated modality', 'modality=CT&modality=mr', { modalities: ['CT', 'MR'] }],
    ['comma list of modalities, duplicates dropped', 'modality=CT,MR,CT', { modalities: ['CT', 'MR'] }],
    ['body parts', 'bodyPart=CHEST&bodyPart=HEAD', { bodyParts: ['CHEST', 'HEAD'] }],
    ['text search trimmed', 'q=%20lung%20nodule%20', { q: 'lung nodule' }],
    ['labels', 'label=nodule&label=follow-up', { labels: ['nodule', 'follow-up'] }],
    ['hasReport', 'hasReport=true', { hasReport: true }],
    ['sort and order', 'sort=numInstances&order=asc', { sort: 'numInstances', order: 'asc' }],
    ['paging', 'limit=10&offset=30', { limit: 10, offset: 30 }],
  ];
  it.each(accepted)('%s', (_name, qs, expected) => {
    expect(parse(qs)).toMatchObject(expected);
  });

  const refused: [string, string, string, string][] = [
    ['unknown parameter', 'colour=red', 'colour', 'unknown_parameter'],
    ['bad sex', 'sex=X', 'sex', 'invalid_parameter'],
    ['negative age', 'ageMin=-1', 'ageMin', 'invalid_parameter'],
    ['age over 150', 'ageMax=151', 'ageMax', 'invalid_parameter'],
    ['ageMin above ageMax', 'ageMin=70&ageMax=60', 'ageMin', 'invalid_parameter'],
    ['DICOM date instead of ISO', 'dateFrom=20200101', 'dateFrom', 'invalid_parameter'],
    ['impossible date', 'dateTo=2021-02-30', 'dateTo', 'invalid_parameter'],
    ['dateFrom after dateTo', 'dateFrom=2021-01-02&dateTo=2021-01-01', 'dateFrom', 'invalid_parameter'],
    ['modality with punctuation', 'modality=C;T', 'modality', 'invalid_parameter'],
    ['empty patient id', 'patientId=', 'patientId', 'invalid_parameter'],
    ['patient id given twice', 'patientId=a&patientId=b', 'patientId', 'invalid_parameter'],
    ['unknown sort', 'sort=patientName', 'sort', 'invalid_parameter'],
    ['bad order', 'order=up', 'order', 'invalid_parameter'],
    ['limit zero', 'limit=0', 'limit', 'invalid_parameter'],
    ['limit too large', 'limit=501', 'limit', 'invalid_parameter'],
    ['offset not a number', 'offset=ten', 'offset', 'invalid_parameter'],
    ['hasReport not boolean', 'hasReport=yes', 'hasReport', 'invalid_parameter'],
    ['overlong search text', `q=${'a'.repeat(201)}`, 'q', 'invalid_parameter'],
  ];
  it.each(refused)('refuses %s with a reason naming the parameter', (_name, qs, parameter, code) => {
    let error: unknown;
    try {
      parse(qs);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(QueryError);
    expect(error).toMatchObject({ parameter, code });
    expect((error as Error).message).toMatch(/\.$/);
  });
});

describe('study filter: round trips', () => {
  const cases = [
    '',
    'patientId=P1&sex=M&ageMin=1&ageMax=99&dateFrom=2019-01-01&dateTo=2019-06-30&modality=CT&modality=MR&bodyPart=CHEST&q=lung+nodule&sort=description&order=asc&limit=25&offset=50',
    'modality=US',
  ];
  it.each(cases)('query string %j survives parse → serialize → parse', (qs) => {
    const filter = parse(qs);
    const again = parse(studyFilterToQueryString(filter));
    expect(again).toEqual(filter);
    expect(studyFilterToQueryString(again)).toBe(studyFilterToQueryString(filter));
  });

  it('leaves defaults out of the canonical query string', () => {
    expect(studyFilterToQueryString(emptyStudyFilter())).toBe('');
    expect(studyFilterToQueryString(parse('sort=studyDate&order=desc&limit=50&offset=0&modality=ct'))).toBe('modality=CT');
  });

  it('stores as JSON and reads back through the same validation', () => {
    const filter = parse('patientId=P1&modality=CT&dateFrom=2020-01-01&hasReport=false');
    const stored = JSON.parse(JSON.stringify(studyFilterToJson(filter))) as unknown;
    expect(studyFilterFromJson(stored)).toEqual(filter);
    expect(() => studyFilterFromJson({ modalities: 'CT' })).toThrow(/list of strings/);
    expect(() => studyFilterFromJson({ dateFrom: 'yesterday' })).toThrow(/YYYY-MM-DD/);
    expect(() => studyFilterFromJson([])).toThrow(/JSON object/);
  });
});

describe('study filter: SQL', () => {
  it('carries every value as a parameter, never in the text', () => {
    const filter = parse("patientId=P'1;DROP&sex=F&ageMin=40&ageMax=60&dateFrom=2020-01-01&modality=CT&bodyPart=CHEST&q=50%25_off");
    const { page, count } = studyFilterSql(filter);
    expect(page.text).not.toContain("P'1");
    expect(page.text).not.toContain('DROP');
    expect(page.text).not.toContain('CHEST');
    expect(page.values).toEqual(expect.arrayContaining(["P'1;DROP", 'F', 40, 61, '2020-01-01', ['CT'], ['CHEST'], '%50\\%\\_off%']));
    expect(count.values).toHaveLength(page.values.length - 2);
    expect(page.text).toMatch(/ORDER BY s\.study_date DESC NULLS LAST, s\.study_uid DESC/);
  });

  it('filters by labels as a parameter (every label required, compared in lower case)', () => {
    const { page } = studyFilterSql(parse('label=Nodule&label=follow-up'));
    expect(page.text).toContain('label_versions');
    expect(page.values).toEqual(expect.arrayContaining([['nodule', 'follow-up']]));
  });
});
