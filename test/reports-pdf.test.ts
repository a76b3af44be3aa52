/**
 * PDF reports uploaded like text reports: the text layer of a real PDF
 * (printed by Chromium, see fixtures/reports/pdf/README.md) is read in a
 * guarded thread, linked to its study by the accession number in its header
 * and scrubbed like a text report; a scanned PDF (no text layer), a cut-off
 * one and ones over the page, time and memory limits are rejected with a
 * sentence, and the process that read them keeps running.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PdfRejection, defaultPdfLimits, isPdf, pdfText } from '@medlake/functions/reports/pdf-text';
import { isReportObject } from '@medlake/functions/reports/ingest-report-object';
import { phiInstance, phiPart10 } from './fixtures/dicom/phi-instance';
import { allObjects, databaseText, findPlanted, ingestFiles } from './ingest-support';
import type { TestStack, TestUser } from './support/local-stack';
import { startTestStack } from './support/local-stack';

const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`./fixtures/reports/pdf/${name}`, import.meta.url)));
const withText = fixture('report-with-text.pdf');
const scanned = fixture('scanned-report.pdf');
const passwordProtected = fixture('password-report.pdf');
const truncated = withText.subarray(0, Math.floor(withText.length * 0.6));

/** What the PDF prints about the patient and the people around the exam. */
const planted = ['DOEPLANTED', 'JOHNATHAN', 'QUINCY', 'PID-PLANT-4711', '02.07.1958', '15.03.2020', 'Harriet', 'Vance', '555-867-5309'];

async function rejection(promise: Promise<unknown>): Promise<PdfRejection> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(PdfRejection);
  return error as PdfRejection;
}

describe('reading PDF text', () => {
  it('recognises a PDF by its magic bytes, whatever its name', () => {
    expect(isPdf(withText)).toBe(true);
    expect(isReportObject(withText.subarray(0, 512), 'scan0001')).toBe(true);
    expect(isReportObject(withText.subarray(0, 512), 'Befund.PDF')).toBe(true);
    expect(isPdf(new TextEncoder().encode('PDF report follows'))).toBe(false);
  });

  it('reads the text layer of a real PDF; a scanned one has none', async () => {
    const text = await pdfText(withText);
    expect(text).toContain('Accession: ACC-PLANT-77');
    expect(text).toContain('No evidence of pulmonary embolism.');
    expect(await pdfText(scanned)).toBe('');
  });

  it('a cut-off, a damaged, a password-protected PDF and a file that is no PDF are rejected with a reason', async () => {
    expect(await rejection(pdfText(truncated))).toMatchObject({ code: 'incomplete', message: expect.stringMatching(/incomplete/) });
    expect(await rejection(pdfText(new TextEncoder().encode('%PDF-1.7\n1 0 obj garbage endobj\n%%EOF\n')))).toMatchObject({ code: 'unreadable' });
    expect(await rejection(pdfText(passwordProtected))).toMatchObject({ code: 'encrypted', message: expect.stringMatching(/password-protected/) });
    expect(await rejection(pdfText(new TextEncoder().encode('just text')))).toMatchObject({ code: 'not-pdf' });
  });

  it('size, page, time and memory limits stop the reading, not the process', async () => {
    expect(await rejection(pdfText(withText, { ...defaultPdfLimits, maxBytes: 1000 }))).toMatchObject({ code: 'too-large' });
    expect(await rejection(pdfText(withText, { ...defaultPdfLimits, maxPages: 0 }))).toMatchObject({ code: 'too-many-pages', message: 'The PDF has 1 pages; a report may have at most 0.' });
    expect(await rejection(pdfText(withText, { ...defaultPdfLimits, timeoutMs: 1 }))).toMatchObject({ code: 'too-slow' });
    // PDF.js alone needs more than 8 MB of heap: the thread runs out and is ended.
    expect(await rejection(pdfText(withText, { ...defaultPdfLimits, maxHeapMb: 8 }))).toMatchObject({ code: 'too-much-memory' });
    // And this process still reads PDFs.
    expect(await pdfText(withText)).toContain('IMPRESSION');
  });
});

describe('PDF reports through the upload path', () => {
  let stack: TestStack;
  let uploader: TestUser;
  let researcher: TestUser;

  beforeAll(async () => {
    stack = await startTestStack();
    [uploader, researcher] = await Promise.all([stack.createUser({ groups: ['uploader'] }), stack.createUser({ groups: ['researcher'] })]);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('a PDF with a text layer links to its study by the accession in its header, scrubbed', async () => {
    const image = await ingestFiles(stack, uploader, [{ name: 'ct.dcm', bytes: phiPart10(phiInstance({ issuer: 'HOSP-PLANT' })) }]);
    const studyUid = image.files[0]?.studies[0] as string;
    expect(studyUid).toBeTruthy();

    const status = await ingestFiles(stack, uploader, [{ name: 'ct-chest-report.pdf', bytes: withText }]);
    expect(status.files[0]).toMatchObject({ state: 'accepted', reason: 'Report: 1 linked to its study.', studies: [studyUid] });

    const report = await stack.request(`/api/studies/${studyUid}/report`, { token: researcher.idToken });
    expect(report.status).toBe(200);
    const body = report.body as { text: string; source: string; version: number };
    expect(body).toMatchObject({ source: 'text', version: 1 });
    expect(body.text).toContain('Right lower lobe consolidation with air bronchograms.');
    expect(body.text).toContain('IMPRESSION\nRight lower lobe pneumonia.');
    expect(findPlanted(body.text, planted)).toEqual([]);

    const search = await stack.request('/api/reports/search?q=bronchograms', { token: researcher.idToken });
    expect((search.body as { items: { studyInstanceUID: string }[] }).items.map((i) => i.studyInstanceUID)).toEqual([studyUid]);
  });

  it('a scanned PDF and a cut-off PDF are rejected with reasons and stay in quarantine', async () => {
    const status = await ingestFiles(stack, uploader, [{ name: 'scan.pdf', bytes: scanned }, { name: 'cut.pdf', bytes: truncated }]);
    expect(status.files[0]).toMatchObject({ state: 'rejected', reason: expect.stringMatching(/^The PDF has no text layer \(a scanned document\?\)/) });
    expect(status.files[1]).toMatchObject({ state: 'rejected', reason: expect.stringMatching(/^The PDF is incomplete/) });
    const quarantined = await allObjects(stack, stack.buckets.quarantine);
    for (const bytes of [scanned, truncated]) expect(quarantined.some((o) => o.bytes.equals(Buffer.from(bytes)))).toBe(true);
  });

  it('no value the PDF planted is left in any table (the vault ciphertext excepted)', async () => {
    const tables = await databaseText(stack);
    const found = [...tables.entries()].flatMap(([table, text]) => findPlanted(text, planted).map((v) => `${table}: ${v}`));
    expect(found).toEqual([]);
  });
});
