/**
 * Reports inside DICOM: the text of an SR (read from the original, before
 * de-identification removes it) and of an Encapsulated PDF becomes the
 * study's report, scrubbed; measurement SRs are not reports; a scanned PDF
 * is stored as "PDF without extractable text".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dicomReport } from '@medlake/shared/reports/dicom-report-text';
import { ingestDicomReport } from '@medlake/functions/reports/ingest-dicom-report';
import { pdfText, pdfWithoutText } from '@medlake/functions/reports/pdf-text';
import type { ReportContext } from '@medlake/functions/reports/report-context';
import { ReportStore } from '@medlake/functions/reports/report-store';
import { comprehensiveSr, minimalPdf, pdfInstance, textSr } from './fixtures/reports/dicom-reports';
import type { ReportHeader } from './fixtures/reports/dicom-reports';
import { indexStudy, reportTestContext } from './fixtures/reports/lake';
import type { TestDatabase } from './support/test-database';
import { startTestDatabase } from './support/test-database';

const h: ReportHeader = {
  patientName: 'Lefèvre^Hélène', patientId: '55012345', issuer: 'HOSP-SR', birthDate: '19610214', accession: 'SR7788', studyDate: '20220310',
  studyUid: '1.2.826.0.1.3680043.99.1.1', referringPhysician: 'Okonkwo^Chidi', institution: 'Saint Luc Imaging Center',
};
const srItems = [
  { type: 'TEXT', concept: 'Clinical history', value: 'Mme Hélène Lefèvre, born 14.02.1961, cough since 03.03.2022.' },
  { type: 'TEXT', concept: 'Findings', value: 'Consolidation of the left lower lobe, consistent with pneumonia. Discussed with Dr. Okonkwo.' },
  { type: 'PNAME', concept: 'Verifying Observer Name', value: 'Vasquez^Ramona' },
  { type: 'DATE', concept: 'Observation date', value: '20220310' },
] as const;

describe('reading reports from original DICOM', () => {
  it('an SR gives its headings, texts, names and dates', () => {
    const report = dicomReport(textSr(h, '1.2.826.0.1.3680043.99.2.1', srItems));
    expect(report?.kind).toBe('sr');
    if (report?.kind !== 'sr') return;
    expect(report.text).toContain('DIAGNOSTIC IMAGING REPORT');
    expect(report.text).toContain('Clinical history: Mme Hélène Lefèvre, born 14.02.1961');
    expect(report.text).toContain('Verifying Observer Name: Ramona Vasquez');
    expect(report.text).toContain('Observation date: 2022-03-10');
    expect(report.personNames).toEqual(['Vasquez^Ramona']);
  });

  it('a measurement SR (TID 1500) is an annotation, not a report', () => {
    expect(dicomReport(textSr(h, '1.2.826.0.1.3680043.99.2.2', srItems, { template: '1500', sopClassUid: comprehensiveSr }))).toBeUndefined();
  });

  it('the text layer of a PDF is extracted; a PDF without one gives no text', async () => {
    const report = dicomReport(pdfInstance(h, '1.2.826.0.1.3680043.99.2.3', minimalPdf([['IMPRESSION: pulmonary embolism in the right lower lobe.', 'Patient Helene Lefevre, MRN 55012345.']])));
    expect(report?.kind).toBe('pdf');
    if (report?.kind !== 'pdf') return;
    const text = await pdfText(report.document);
    expect(text).toContain('IMPRESSION: pulmonary embolism in the right lower lobe.');
    expect(await pdfText(minimalPdf([[]]))).toBe('');
  });
});

describe('DICOM reports into the lake', () => {
  let database: TestDatabase;
  let ctx: ReportContext;
  let store: ReportStore;

  beforeAll(async () => {
    database = await startTestDatabase();
    ctx = reportTestContext(database.pool);
    store = new ReportStore(database.pool);
  });
  afterAll(async () => {
    await database?.stop();
  });

  const patient = { name: h.patientName, id: h.patientId, issuer: h.issuer, birthDate: h.birthDate, sex: 'F' as const };
  const study = { accession: h.accession, date: h.studyDate, modality: 'SR', description: 'REPORT', referringPhysician: h.referringPhysician, institution: h.institution };

  it('an SR becomes the report of its study, scrubbed (its observer too)', async () => {
    const indexed = await indexStudy(ctx, patient, study);
    const outcome = await ingestDicomReport(ctx, textSr({ ...h }, '1.2.826.0.1.3680043.99.3.1', srItems), indexed.studyUid);
    expect(outcome).toMatchObject({ state: 'linked', version: 1 });
    const stored = (await store.version(indexed.studyUid))?.text ?? '';
    expect(stored).toContain('consistent with pneumonia');
    for (const value of ['Hélène', 'Lefèvre', 'Okonkwo', 'Vasquez', 'Ramona', '14.02.1961', '03.03.2022', '2022-03-10']) expect(stored).not.toContain(value);
    expect(stored).toContain(indexed.patientId);
    expect((await store.versions(indexed.studyUid))[0]?.source).toBe('dicom-sr');
  });

  it('an Encapsulated PDF becomes the report; a scanned one says it has no text', async () => {
    const withText = await indexStudy(ctx, patient, { ...study, accession: 'SR7789' });
    await ingestDicomReport(ctx, pdfInstance(h, '1.2.826.0.1.3680043.99.3.2', minimalPdf([['IMPRESSION: pulmonary embolism.', 'Patient Helene Lefevre, MRN 55012345, phone 555-201-3344.']])), withText.studyUid);
    const stored = (await store.version(withText.studyUid))?.text ?? '';
    expect(stored).toContain('IMPRESSION: pulmonary embolism.');
    for (const value of ['Helene', 'Lefevre', '55012345', '555-201-3344']) expect(stored).not.toContain(value);
    const scanned = await indexStudy(ctx, patient, { ...study, accession: 'SR7790' });
    await ingestDicomReport(ctx, pdfInstance(h, '1.2.826.0.1.3680043.99.3.3', minimalPdf([[]])), scanned.studyUid);
    expect((await store.version(scanned.studyUid))?.text).toBe(pdfWithoutText);
  });
});
