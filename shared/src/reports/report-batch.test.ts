import { describe, expect, it } from 'vitest';
import { BatchError, looksLikeReportBatch, parseReportBatch } from './report-batch';
import { decodeReportBytes, looksLikeText } from './report-decoding';
import { textReportKeys } from './report-text-file';

const utf8 = (text: string) => new Uint8Array(Buffer.from(text, 'utf8'));

describe('report batches (CSV)', () => {
  it.each([
    ['UTF-8 with BOM, commas', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('Accession Number,Report\nA1,"Épanchement pleural, modéré"\n', 'utf8')]), 'utf-8-bom', ','],
    ['UTF-8 without BOM, semicolons', Buffer.from('accession;report\nA1;"Épanchement pleural, modéré"\n', 'utf8'), 'utf-8', ';'],
    ['Latin-1 (Excel), tabs', Buffer.from('ACC NO\tBefund\nA1\tÉpanchement pleural, modéré\n', 'latin1'), 'windows-1252', '\t'],
    ['UTF-16 LE with BOM', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('Accession,Text\r\nA1,"Épanchement pleural, modéré"\r\n', 'utf16le')]), 'utf-16le', ','],
  ])('%s', (_name, bytes, encoding, delimiter) => {
    const batch = parseReportBatch(new Uint8Array(bytes));
    expect(batch.encoding).toBe(encoding);
    expect(batch.delimiter).toBe(delimiter);
    expect(batch.rows).toEqual([{ rowNumber: 1, accession: 'A1', text: 'Épanchement pleural, modéré' }]);
  });

  it('reads header variants in English, German and French and joins report sections under their headings', () => {
    const batch = parseReportBatch(utf8('Patienten-ID;Herausgeber;Untersuchungsdatum;Befunde;Beurteilung\n4711;KLINIK;09.03.2021;"Erguss rechts,\nkein Pneumothorax";Pneumonie\n'));
    expect(batch.columns.map((c) => c.field)).toEqual(['patientId', 'issuer', 'studyDate', 'text', 'text']);
    expect(batch.rows[0]).toEqual({ rowNumber: 1, patientId: '4711', issuer: 'KLINIK', studyDate: '2021-03-09', text: 'BEFUNDE:\nErguss rechts,\nkein Pneumothorax\n\nBEURTEILUNG:\nPneumonie' });
    const french = parseReportBatch(utf8('IPP,Date de l\'examen,Compte rendu\n1902384,2021-02-18,Pneumopathie\n'));
    expect(french.rows[0]).toMatchObject({ patientId: '1902384', studyDate: '2021-02-18' });
  });

  it('decides slash dates by the batch, and refuses rows it cannot decide', () => {
    const dayFirst = parseReportBatch(utf8('MRN,Exam Date,Report\n1,25/12/2020,a\n2,03/04/2021,b\n'));
    expect(dayFirst.rows.map((r) => r.studyDate)).toEqual(['2020-12-25', '2021-04-03']);
    const monthFirst = parseReportBatch(utf8('MRN,Exam Date,Report\n1,12/25/2020,a\n2,03/04/2021 10:30,b\n'));
    expect(monthFirst.rows.map((r) => r.studyDate)).toEqual(['2020-12-25', '2021-03-04']);
    const undecided = parseReportBatch(utf8('MRN,Exam Date,Report\n1,03/04/2021,a\n2,20210405,b\n'));
    expect(undecided.rows.map((r) => r.rowNumber)).toEqual([2]);
    expect(undecided.problems).toEqual([{ rowNumber: 1, code: 'ambiguous_date', message: expect.stringMatching(/YYYY-MM-DD/) }]);
  });

  it('reports row problems without the row values', () => {
    const batch = parseReportBatch(utf8('Accession,Patient ID,Study Date,Report\n,SECRET-ID,,text\n,,,text\nSECRET-ACC,,,\n,P1,31.02.2021,text\n'));
    expect(batch.rows).toEqual([]);
    expect(batch.problems.map((p) => p.code)).toEqual(['patient_without_date', 'no_link_key', 'no_text', 'bad_date']);
    expect(JSON.stringify(batch.problems)).not.toMatch(/SECRET|P1/);
  });

  it('refuses files without a text or key column, with a sentence', () => {
    expect(() => parseReportBatch(utf8('Accession,Date\nA1,2021-01-01\n'))).toThrow(BatchError);
    expect(() => parseReportBatch(utf8('Name,Report\nx,y\n'))).toThrow(/No accession number or patient ID column/);
    expect(() => parseReportBatch(utf8(''))).toThrow(/empty/);
  });

  it('recognises batches and text by their content', () => {
    expect(looksLikeReportBatch('Accession Number;Befund\nA1;x')).toBe(true);
    expect(looksLikeReportBatch('CT CHEST\nFindings: none')).toBe(false);
    expect(looksLikeText(utf8('Findings: normal.'))).toBe(true);
    expect(looksLikeText(Uint8Array.of(0x44, 0x49, 0x43, 0x4d, 0, 1, 2))).toBe(false);
    expect(decodeReportBytes(Uint8Array.of(0x4d, 0xfc, 0x6c, 0x6c, 0x65, 0x72)).text).toBe('Müller');
  });
});

describe('plain text report headers', () => {
  it.each([
    ['Patient: DOE, JOHN   MRN: 00123456   Acc: A10001\nExam date: 14.03.2021\n\nFindings…', undefined, { accession: 'A10001', patientId: '00123456', studyDate: '2021-03-14' }],
    ['Auftragsnummer: K20003\nUntersuchung vom 9. März 2021', undefined, { accession: 'K20003', studyDate: '2021-03-09' }],
    ['IPP : 1902384\nIssuer: CHU-SUD\nExamen du 18 février 2021', undefined, { patientId: '1902384', issuer: 'CHU-SUD', studyDate: '2021-02-18' }],
    ['CT chest: no findings.', 'uploads/A10017.txt', { accession: 'A10017' }],
    ['CT chest: no findings.', 'Doe_John.txt', {}],
  ])('%s', (text, fileName, keys) => {
    expect(textReportKeys(text, fileName)).toEqual(keys);
  });
});
