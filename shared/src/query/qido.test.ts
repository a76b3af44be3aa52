import { describe, expect, it } from 'vitest';
import { QueryError } from './errors';
import type { QidoLevel } from './qido';
import { parseQidoQuery, timeBounds } from './qido';
import { qidoSql } from './qido-sql';

const parse = (level: QidoLevel, qs: string) => parseQidoQuery(level, new URLSearchParams(qs));
const matchOf = (level: QidoLevel, qs: string) => parse(level, qs).matches[0];

describe('QIDO-RS parameters: matching', () => {
  const cases: [string, QidoLevel, string, Record<string, unknown>][] = [
    ['keyword', 'study', 'PatientID=ABC', { tag: '00100020', keyword: 'PatientID', match: { type: 'single', value: 'ABC' } }],
    ['hex tag, lower case', 'study', '00100020=ABC', { keyword: 'PatientID', match: { type: 'single', value: 'ABC' } }],
    ['hex tag, mixed case', 'study', '0020000d=1.2.3', { keyword: 'StudyInstanceUID', match: { type: 'single', value: '1.2.3' } }],
    ['wildcard *', 'study', 'PatientName=DOE*', { kind: 'name', match: { type: 'wildcard', pattern: 'DOE*' } }],
    ['wildcard ?', 'study', 'AccessionNumber=A?C', { match: { type: 'wildcard', pattern: 'A?C' } }],
    ['lone * is universal', 'study', 'StudyDescription=*', { match: { type: 'universal' } }],
    ['empty value is universal (return only)', 'study', 'PatientBirthDate=', { match: { type: 'universal' } }],
    ['UID list with backslash', 'study', 'StudyInstanceUID=1.2.3\\1.2.4', { match: { type: 'list', values: ['1.2.3', '1.2.4'] } }],
    ['UID list with comma', 'study', 'StudyInstanceUID=1.2.3,1.2.4', { match: { type: 'list', values: ['1.2.3', '1.2.4'] } }],
    ['single date', 'study', 'StudyDate=20200101', { match: { type: 'range', from: '20200101', to: '20200101' } }],
    ['closed date range', 'study', 'StudyDate=20200101-20201231', { match: { type: 'range', from: '20200101', to: '20201231' } }],
    ['open start', 'study', 'StudyDate=-20201231', { match: { type: 'range', to: '20201231' } }],
    ['open end', 'study', 'StudyDate=20200101-', { match: { type: 'range', from: '20200101' } }],
    ['time range', 'study', 'StudyTime=0800-1030', { match: { type: 'range', from: 8 * 3600, to: 10 * 3600 + 31 * 60 - 1e-6 } }],
    ['modalities list', 'study', 'ModalitiesInStudy=CT\\MR', { kind: 'codes', match: { type: 'list', values: ['CT', 'MR'] } }],
    ['modality at series level', 'series', 'Modality=CT', { level: 'series', kind: 'code', indexed: true }],
    ['study attribute at series level', 'series', 'StudyDate=20200101', { level: 'study' }],
    ['series number', 'series', 'SeriesNumber=002', { match: { type: 'single', value: '2' } }],
    ['instance number', 'instance', 'InstanceNumber=7', { kind: 'integer', match: { type: 'single', value: '7' } }],
    ['SOP class list', 'instance', 'SOPClassUID=1.2.840.10008.5.1.4.1.1.2,1.2.840.10008.5.1.4.1.1.88.22', { match: { type: 'list' } }],
    ['body part', 'series', 'BodyPartExamined=CHEST', { match: { type: 'single', value: 'CHEST' } }],
    ['attribute without a column matches stored JSON', 'series', 'ProtocolName=Routine*', { indexed: false, level: 'series', kind: 'text' }],
  ];
  it.each(cases)('%s', (_name, level, qs, expected) => {
    expect(matchOf(level, qs)).toMatchObject(expected);
  });
});

describe('QIDO-RS parameters: control parameters', () => {
  it('reads includefield as a comma list and repeated, by keyword or tag', () => {
    const q = parse('study', 'includefield=00081030,00080060&includefield=StudyID&includefield=00081030');
    expect(q.includeFields).toEqual(['00081030', '00080060', '00200010']);
    expect(q.includeAll).toBe(false);
  });
  it('reads includefield=all', () => {
    expect(parse('series', 'includefield=all').includeAll).toBe(true);
  });
  it('reads limit, offset and fuzzymatching', () => {
    expect(parse('study', 'limit=101&offset=20&fuzzymatching=true')).toMatchObject({ limit: 101, offset: 20, fuzzy: true, limitClamped: false });
    expect(parse('study', 'fuzzymatching=false').fuzzy).toBe(false);
  });
  it('caps the limit at the server maximum and says so', () => {
    expect(parse('study', 'limit=100000')).toMatchObject({ limit: 1000, limitClamped: true });
    expect(parse('study', '')).toMatchObject({ limit: 1000, offset: 0, limitClamped: false });
  });
  it('accepts what OHIF v3 sends for its study list', () => {
    const q = parse('study', 'PatientName=*doe*&00100020=&AccessionNumber=*12*&StudyDescription=*chest*&ModalitiesInStudy=CT&limit=101&offset=0&fuzzymatching=false&includefield=00081030%2C00080060&StudyDate=20200101-20201231');
    expect(q.matches.map((m) => m.keyword)).toEqual(['PatientName', 'PatientID', 'AccessionNumber', 'StudyDescription', 'ModalitiesInStudy', 'StudyDate']);
  });
});

describe('QIDO-RS parameters: refused with a reason', () => {
  const refused: [string, QidoLevel, string, string, RegExp][] = [
    ['unknown parameter', 'study', 'foo=bar', 'foo', /Unknown parameter/],
    ['unknown hex tag', 'study', '7FE1FFFF=1', '7FE1FFFF', /Unknown parameter/],
    ['series attribute at study level', 'study', 'Modality=CT', 'Modality', /ModalitiesInStudy/],
    ['instance attribute at series level', 'series', 'SOPInstanceUID=1.2', 'SOPInstanceUID', /instance-level/],
    ['wildcard in a UID', 'study', 'StudyInstanceUID=1.2.*', 'StudyInstanceUID', /wildcards are not allowed/],
    ['malformed UID', 'study', 'StudyInstanceUID=1.02.3', 'StudyInstanceUID', /UID/],
    ['malformed date', 'study', 'StudyDate=2020-01-01', 'StudyDate', /YYYYMMDD/],
    ['impossible date', 'study', 'StudyDate=20200230', 'StudyDate', /YYYYMMDD/],
    ['reversed date range', 'study', 'StudyDate=20201231-20200101', 'StudyDate', /starts after it ends/],
    ['empty range', 'study', 'StudyDate=-', 'StudyDate', /range/],
    ['malformed time', 'study', 'StudyTime=25', 'StudyTime', /HHMMSS/],
    ['non-numeric series number', 'series', 'SeriesNumber=two', 'SeriesNumber', /whole number/],
    ['bad limit', 'study', 'limit=0', 'limit', /at least 1/],
    ['negative offset', 'study', 'offset=-5', 'offset', /offset/],
    ['bad fuzzymatching', 'study', 'fuzzymatching=yes', 'fuzzymatching', /true or false/],
    ['unknown includefield', 'study', 'includefield=Nope', 'includefield', /neither a DICOM keyword/],
    ['sequence path in includefield', 'study', 'includefield=00081032.00080100', 'includefield', /sequence paths/],
    ['sequence matching', 'series', 'RequestAttributeSequence.ScheduledProcedureStepID=1', 'RequestAttributeSequence.ScheduledProcedureStepID', /sequences/],
    ['attribute given twice (keyword and tag)', 'study', 'PatientID=a&00100020=b', '00100020', /more than once/],
    ['limit given twice', 'study', 'limit=1&limit=2', 'limit', /only once/],
    ['wildcard inside a list', 'study', 'PatientName=A*\\B', 'PatientName', /wildcards cannot be combined/],
  ];
  it.each(refused)('%s', (_name, level, qs, parameter, reason) => {
    let error: unknown;
    try {
      parse(level, qs);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(QueryError);
    expect(error).toMatchObject({ parameter });
    expect((error as Error).message).toMatch(reason);
  });
});

describe('DICOM times', () => {
  it.each([
    ['10', [36000, 36000 + 3600 - 1e-6]],
    ['1030', [37800, 37800 + 60 - 1e-6]],
    ['103015', [37815, 37816 - 1e-6]],
    ['103015.5', [37815.5, 37815.6 - 1e-6]],
    ['10:30:15', [37815, 37816 - 1e-6]],
  ] as const)('%s spans its precision', (tm, [from, to]) => {
    const bounds = timeBounds(tm);
    expect(bounds?.[0]).toBeCloseTo(from, 6);
    expect(bounds?.[1]).toBeCloseTo(to, 6);
  });
});

describe('QIDO-RS SQL', () => {
  it('carries values as parameters only, with LIKE metacharacters escaped', () => {
    const q = parse('study', "PatientName=O'Br%_ien*&PatientID=x');DROP TABLE studies;--&StudyDate=20200101-&ModalitiesInStudy=CT\\MR");
    const { page, count } = qidoSql(q);
    expect(page.text).not.toMatch(/O'Br|DROP|'CT'|\bMR\b|2020/);
    expect(page.values).toEqual(expect.arrayContaining(["O'Br\\%\\_ien%", "x');DROP TABLE studies;--", '2020-01-01', ['CT', 'MR']]));
    expect(count.values).toHaveLength(page.values.length - 2);
  });
  it('fixes the scope from the path and joins the study for series at the root', () => {
    const scoped = qidoSql(parse('series', 'Modality=CT'), { studyUid: '1.2.3' });
    expect(scoped.page.values.slice(0, 2)).toEqual(['1.2.3', 'CT']);
    expect(scoped.page.text).not.toContain('s.num_series');
    expect(qidoSql(parse('series', '')).page.text).toContain('s.num_series');
  });
  it('reads counts from the index counters, taken again only where the caller picked annotation versions', () => {
    const anonymous = qidoSql(parse('study', 'PatientID=X'));
    expect(anonymous.page.text).toContain('s.num_instances');
    expect(anonymous.page.text).not.toContain('medlake_study_shown_instances');
    for (const [level, fn] of [['study', 'medlake_study_shown_instances'], ['series', 'medlake_series_shown_instances']] as const) {
      const { page, count } = qidoSql(parse(level, 'PatientID=X'), {}, 'viewer-sub');
      expect(page.text).toContain(fn);
      expect(page.text).toContain('annotation_view_selections');
      expect(page.values).toContain('viewer-sub');
      // The total needs no counts: its query carries exactly the parameters it uses.
      expect(count.text).not.toContain(fn);
      expect(Math.max(...[...count.text.matchAll(/\$(\d+)/g)].map((m) => Number(m[1])))).toBe(count.values.length);
    }
  });
  it('matches fuzzy names word by word on the folded name', () => {
    const { page } = qidoSql(parse('study', 'PatientName=jo%20sm&fuzzymatching=true'));
    expect(page.text).toContain('p.patient_name_fold');
    expect(page.values).toEqual(expect.arrayContaining(['jo', 'sm']));
  });
});
