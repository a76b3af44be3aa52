import { describe, expect, it } from 'vitest';
import { SqlParameters } from '../query/sql';
import { emptyStudyFilter, parseStudyFilter } from '../query/study-filter';
import type { DicomJson } from '../dicom/dicom-json';
import { exportPercent, isAnnotationSopClass, visibleExportState } from './export-options';
import { exportEstimateSql, selectedStudiesSql } from './export-selection-sql';
import { labelsCsv } from './labels-csv';
import type { ManifestRow } from './manifest';
import { csvField, manifestCsvHeader, manifestCsvRow, manifestJsonHead, manifestJsonRow, manifestJsonTail } from './manifest';
import { exportReadme } from './readme';
import { annotationDocument } from './sr-observations';
import { annotationPath, dicomPath, estimateZipBytes, reportPath, safeSegment } from './zip-layout';

const ids = { patientId: 'MLP-ABCDEFGHIJKL', studyUid: '2.25.1', seriesUid: '2.25.2', sopUid: '2.25.3' };

describe('zip layout', () => {
  it('puts files at patient/study/series or flat by study, from pseudonyms and UIDs only', () => {
    expect(dicomPath('patient/study/series', ids)).toBe('MLP-ABCDEFGHIJKL/2.25.1/2.25.2/2.25.3.dcm');
    expect(dicomPath('study', ids)).toBe('2.25.1/2.25.3.dcm');
    expect(reportPath('patient/study/series', ids)).toBe('MLP-ABCDEFGHIJKL/2.25.1/report.txt');
    expect(reportPath('study', ids)).toBe('2.25.1/report.txt');
    expect(annotationPath('patient/study/series', ids)).toBe('MLP-ABCDEFGHIJKL/2.25.1/annotations/2.25.3.json');
    expect(annotationPath('study', ids)).toBe('2.25.1/annotations/2.25.3.json');
  });

  it('never lets a name climb out of its folder or carry separators', () => {
    for (const [input, output] of [['../../etc', '__.._etc'], ['a/b\\c', 'a_b_c'], ['', '_'], ['..', '_'], ['Ünïcode name', '_n_code_name']] as const) {
      expect(safeSegment(input)).toBe(output);
    }
    expect(dicomPath('study', { ...ids, studyUid: '../x' })).toBe('__x/2.25.3.dcm');
  });

  it('estimates a stored zip as data plus entry overhead', () => {
    const base = estimateZipBytes({ layout: 'patient/study/series', instances: 0, dataBytes: 0, reports: 0, reportBytes: 0, annotations: 0 });
    const one = estimateZipBytes({ layout: 'patient/study/series', instances: 1, dataBytes: 500_000, reports: 0, reportBytes: 0, annotations: 0 });
    expect(one - base).toBeGreaterThan(500_000 + 300);
    expect(one - base).toBeLessThan(500_000 + 2_000);
  });
});

describe('manifest', () => {
  const row: ManifestRow = {
    path: 'MLP-X/2.25.1/2.25.2/2.25.3.dcm', kind: 'dicom', patientId: 'MLP-X', studyInstanceUID: '2.25.1', studyDate: '2020-03-04', seriesInstanceUID: '2.25.2',
    seriesNumber: 3, modality: 'CT', sopInstanceUID: '2.25.3', sopClassUID: '1.2.840.10008.5.1.4.1.1.2', instanceNumber: 7, transferSyntaxUID: '1.2.840.10008.1.2.1',
    sizeBytes: 525_000, sha256: 'ab'.repeat(32), reportVersion: null,
  };

  it('quotes CSV fields only when RFC 4180 needs it', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\r\nlines')).toBe('"two\r\nlines"');
    expect(csvField(' edge')).toBe('" edge"');
    expect(csvField(null)).toBe('');
    expect(csvField(0)).toBe('0');
  });

  it('writes a header and one CRLF line per file, in column order', () => {
    expect(manifestCsvHeader()).toBe('path,kind,patientId,studyInstanceUID,studyDate,seriesInstanceUID,seriesNumber,modality,sopInstanceUID,sopClassUID,instanceNumber,transferSyntaxUID,sizeBytes,sha256,reportVersion\r\n');
    expect(manifestCsvRow(row)).toBe(`MLP-X/2.25.1/2.25.2/2.25.3.dcm,dicom,MLP-X,2.25.1,2020-03-04,2.25.2,3,CT,2.25.3,1.2.840.10008.5.1.4.1.1.2,7,1.2.840.10008.1.2.1,525000,${'ab'.repeat(32)},\r\n`);
  });

  it('streams manifest.json in pieces that join into one JSON document', () => {
    const description = { exportId: 'e', name: null, frozenAt: '2026-01-01T00:00:00.000Z', layout: 'study', compression: 'store', selection: { filterQuery: 'modality=CT', studies: 0 }, counts: { files: 2, dicom: 2, reports: 0, annotations: 0, labels: 0, dataBytes: 1, leftOut: 0 } };
    for (const rows of [[], [row], [row, { ...row, path: 'b', reportVersion: 2 }]]) {
      const text = manifestJsonHead(description) + rows.map((r, i) => manifestJsonRow(r, i === 0)).join('') + manifestJsonTail(rows.length);
      const parsed = JSON.parse(text) as { files: Record<string, unknown>[]; exportId: string };
      expect(parsed.exportId).toBe('e');
      expect(parsed.files).toHaveLength(rows.length);
      if (rows.length) expect(parsed.files[0]).not.toHaveProperty('reportVersion');
    }
  });
});

describe('labels.csv', () => {
  it('lists labels sorted by study, series, instance and label', () => {
    const csv = labelsCsv([
      { studyInstanceUID: '2.25.2', seriesInstanceUID: null, sopInstanceUID: null, label: 'b', value: null, author: null, createdAt: null },
      { studyInstanceUID: '2.25.1', seriesInstanceUID: '2.25.9', sopInstanceUID: null, label: 'grade', value: '3, high', author: 'x@y', createdAt: '2026-01-01T00:00:00.000Z' },
      { studyInstanceUID: '2.25.1', seriesInstanceUID: null, sopInstanceUID: null, label: 'a', value: null, author: null, createdAt: null },
    ]);
    expect(csv.split('\r\n')).toEqual([
      'studyInstanceUID,seriesInstanceUID,sopInstanceUID,label,value,author,createdAt',
      '2.25.1,,,a,,,',
      '2.25.1,2.25.9,,grade,"3, high",x@y,2026-01-01T00:00:00.000Z',
      '2.25.2,,,b,,,',
      '',
    ]);
  });
});

describe('export states and progress', () => {
  it('shows a finished export past its expiry as expired', () => {
    const now = new Date('2026-05-01T00:00:00Z');
    expect(visibleExportState('done', new Date('2026-05-02T00:00:00Z'), now)).toBe('done');
    expect(visibleExportState('done', new Date('2026-04-30T00:00:00Z'), now)).toBe('expired');
    expect(visibleExportState('failed', new Date('2026-04-30T00:00:00Z'), now)).toBe('failed');
  });

  it('counts progress in data bytes, 100 only when done', () => {
    expect(exportPercent('queued', 0, null, 0, null)).toBe(0);
    expect(exportPercent('running', 500, 1000, 1, 10)).toBe(50);
    expect(exportPercent('running', 1000, 1000, 10, 10)).toBe(99);
    expect(exportPercent('running', 0, 0, 3, 6)).toBe(50);
    expect(exportPercent('done', 0, 1000, 0, 10)).toBe(100);
  });

  it('knows the SR family as annotations', () => {
    expect(isAnnotationSopClass('1.2.840.10008.5.1.4.1.1.88.22')).toBe(true);
    expect(isAnnotationSopClass('1.2.840.10008.5.1.4.1.1.88.59')).toBe(true);
    expect(isAnnotationSopClass('1.2.840.10008.5.1.4.1.1.66.4')).toBe(true);
    expect(isAnnotationSopClass('1.2.840.10008.5.1.4.1.1.2')).toBe(false);
    expect(isAnnotationSopClass(null)).toBe(false);
  });
});

describe('selection SQL', () => {
  it('unites the study filter with the listed studies, values as parameters only', () => {
    const params = new SqlParameters();
    const sql = selectedStudiesSql({ filter: parseStudyFilter(new URLSearchParams('modality=CT&dateFrom=2020-01-01')), studies: ["2.25.1'; DROP TABLE studies; --"] }, params);
    expect(sql).toContain('UNION');
    expect(sql).not.toContain('DROP TABLE');
    expect(params.values).toEqual(expect.arrayContaining([['CT'], '2020-01-01', ["2.25.1'; DROP TABLE studies; --"]]));
  });

  it('ignores paging and sorting of the filter, and needs something to select', () => {
    const paged = selectedStudiesSql({ filter: parseStudyFilter(new URLSearchParams('limit=1&offset=3&sort=patientId')), studies: [] }, new SqlParameters());
    expect(paged).not.toMatch(/LIMIT|OFFSET|ORDER BY/);
    expect(() => selectedStudiesSql({ filter: null, studies: [] }, new SqlParameters())).toThrow();
  });

  it('leaves SR and SEG instances out of the estimate when annotations are not exported', () => {
    const without = exportEstimateSql({ filter: emptyStudyFilter(), studies: [] }, { annotations: false, reports: true }, new SqlParameters());
    expect(without).toContain("NOT ((i.sop_class_uid LIKE '1.2.840.10008.5.1.4.1.1.88.%' OR i.sop_class_uid = '1.2.840.10008.5.1.4.1.1.66.4'))");
    const withAll = exportEstimateSql({ filter: emptyStudyFilter(), studies: [] }, { annotations: true, reports: false }, new SqlParameters());
    expect(withAll).not.toContain('NOT ((i.sop_class_uid');
    expect(withAll).toContain('WHERE FALSE AND');
  });
});

const code = (value: string, scheme: string, meaning: string): DicomJson => ({ '00080100': { vr: 'SH', Value: [value] }, '00080102': { vr: 'SH', Value: [scheme] }, '00080104': { vr: 'LO', Value: [meaning] } });

describe('annotation JSON', () => {
  it('flattens an SR content tree into observations with concept paths, values, units and references', () => {
    const sr: DicomJson = {
      '00080016': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.88.22'] },
      '00080018': { vr: 'UI', Value: ['2.25.30'] },
      '0020000D': { vr: 'UI', Value: ['2.25.10'] },
      '0020000E': { vr: 'UI', Value: ['2.25.20'] },
      '0040A491': { vr: 'CS', Value: ['COMPLETE'] },
      '0040A043': { vr: 'SQ', Value: [code('126000', 'DCM', 'Imaging Measurement Report')] },
      '0040A730': {
        vr: 'SQ',
        Value: [{
          '0040A010': { vr: 'CS', Value: ['CONTAINS'] },
          '0040A040': { vr: 'CS', Value: ['CONTAINER'] },
          '0040A043': { vr: 'SQ', Value: [code('126010', 'DCM', 'Imaging Measurements')] },
          '0040A730': {
            vr: 'SQ',
            Value: [
              {
                '0040A010': { vr: 'CS', Value: ['CONTAINS'] },
                '0040A040': { vr: 'CS', Value: ['NUM'] },
                '0040A043': { vr: 'SQ', Value: [code('410668003', 'SCT', 'Length')] },
                '0040A300': { vr: 'SQ', Value: [{ '0040A30A': { vr: 'DS', Value: ['12.5'] }, '004008EA': { vr: 'SQ', Value: [code('mm', 'UCUM', 'mm')] } }] },
                '0040A730': {
                  vr: 'SQ',
                  Value: [{
                    '0040A010': { vr: 'CS', Value: ['INFERRED FROM'] },
                    '0040A040': { vr: 'CS', Value: ['SCOORD'] },
                    '00700023': { vr: 'CS', Value: ['POLYLINE'] },
                    '00700022': { vr: 'FL', Value: [1, 1, 10, 10] },
                    '0040A730': { vr: 'SQ', Value: [{ '0040A010': { vr: 'CS', Value: ['SELECTED FROM'] }, '0040A040': { vr: 'CS', Value: ['IMAGE'] }, '00081199': { vr: 'SQ', Value: [{ '00081150': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.2'] }, '00081155': { vr: 'UI', Value: ['2.25.99'] } }] } }] },
                  }],
                },
              },
              { '0040A010': { vr: 'CS', Value: ['CONTAINS'] }, '0040A040': { vr: 'CS', Value: ['CODE'] }, '0040A043': { vr: 'SQ', Value: [code('121071', 'DCM', 'Finding')] }, '0040A168': { vr: 'SQ', Value: [code('T-1', '99X', 'Nodule')] } },
              { '0040A010': { vr: 'CS', Value: ['CONTAINS'] }, '0040A040': { vr: 'CS', Value: ['TEXT'] }, '0040A043': { vr: 'SQ', Value: [code('112039', 'DCM', 'Tracking Identifier')] }, '0040A160': { vr: 'UT', Value: ['lesion 1'] } },
            ],
          },
        }],
      },
    };
    const doc = annotationDocument(sr);
    expect(doc).toMatchObject({ sopInstanceUID: '2.25.30', studyInstanceUID: '2.25.10', seriesInstanceUID: '2.25.20', title: 'Imaging Measurement Report', completionFlag: 'COMPLETE', dicom: sr });
    expect(doc.observations).toEqual([
      { path: ['Imaging Measurement Report', 'Imaging Measurements', 'Length'], relationship: 'CONTAINS', valueType: 'NUM', value: 12.5, unit: { code: 'mm', scheme: 'UCUM', meaning: 'mm' } },
      { path: ['Imaging Measurement Report', 'Imaging Measurements', 'Length', ''], relationship: 'INFERRED FROM', valueType: 'SCOORD', graphicType: 'POLYLINE', graphicData: [1, 1, 10, 10] },
      { path: ['Imaging Measurement Report', 'Imaging Measurements', 'Length', '', ''], relationship: 'SELECTED FROM', valueType: 'IMAGE', references: [{ sopClassUID: '1.2.840.10008.5.1.4.1.1.2', sopInstanceUID: '2.25.99' }] },
      { path: ['Imaging Measurement Report', 'Imaging Measurements', 'Finding'], relationship: 'CONTAINS', valueType: 'CODE', code: { code: 'T-1', scheme: '99X', meaning: 'Nodule' } },
      { path: ['Imaging Measurement Report', 'Imaging Measurements', 'Tracking Identifier'], relationship: 'CONTAINS', valueType: 'TEXT', value: 'lesion 1' },
    ]);
  });

  it('stops at a depth no real SR reaches', () => {
    let node: DicomJson = { '0040A040': { vr: 'CS', Value: ['TEXT'] }, '0040A160': { vr: 'UT', Value: ['deep'] } };
    for (let i = 0; i < 200; i++) node = { '0040A040': { vr: 'CS', Value: ['CONTAINER'] }, '0040A730': { vr: 'SQ', Value: [node] } };
    expect(annotationDocument({ '0040A730': { vr: 'SQ', Value: [node] } }).observations).toEqual([]);
  });
});

describe('README', () => {
  it('describes the selection, contents, layout, de-identification and the files left out', () => {
    const text = exportReadme({
      exportId: 'e-1', name: 'Cohort A', frozenAt: '2026-01-02T03:04:05.000Z', layout: 'study', compression: 'store', filterQuery: '', listedStudies: 2, rerunOf: 'e-0',
      counts: { patients: 1, studies: 2, dicom: 10, reports: 1, annotations: 1, labels: 0, dataBytes: 5 * 1024 * 1024 },
      deidentification: { patientIdentityRemoved: ['YES'], methods: ['PS3.15 E.1 Basic Application Level Conf. Profile', 'medlake'], codes: [{ code: '113100', scheme: 'DCM', meaning: 'Basic Application Confidentiality Profile' }], longitudinalTemporalInformationModified: ['MODIFIED'], undeclared: 0 },
      leftOut: [{ path: '2.25.1/2.25.3.dcm', code: 'archive_object_missing', message: 'The archive no longer holds this file.' }],
    });
    expect(text).toContain('medlake export e-1 - Cohort A');
    expect(text).toContain('a re-run of export e-0');
    expect(text).toContain('filter:         (every study)');
    expect(text).toContain('{study}/{sop}.dcm');
    expect(text).toContain('5 MiB (5242880 bytes)');
    expect(text).toContain('DCM 113100 Basic Application Confidentiality Profile: names, IDs');
    expect(text).toContain('LEFT OUT (1)');
    expect(text).toContain('2.25.1/2.25.3.dcm: The archive no longer holds this file. [archive_object_missing]');
    expect(text.includes('\n') && !/[^\r]\n/.test(text)).toBe(true);
  });
});
