/**
 * Reports that arrive as DICOM: called by the ingest with the ORIGINAL
 * Part 10 bytes of an SR or Encapsulated PDF instance once the instance is
 * indexed, so its study exists. The text (read before de-identification
 * removed it) becomes a submission linked to that study and is scrubbed like
 * any report; the SR's person names are added to the names to remove.
 */
import type { DicomReport } from '@medlake/shared/reports/dicom-report-text';
import { dicomReport } from '@medlake/shared/reports/dicom-report-text';
import { PdfRejection, pdfText, pdfWithoutText } from './pdf-text';
import type { ReportContext } from './report-context';
import type { SubmissionOutcome } from './report-intake';
import { submitReport } from './report-intake';

export interface DicomReportOrigin {
  uploadId?: string | undefined;
  fileIndex?: number | undefined;
}

export async function ingestDicomReport(ctx: ReportContext, originalPart10: Uint8Array, studyUid: string, origin: DicomReportOrigin = {}): Promise<SubmissionOutcome | undefined> {
  let report: DicomReport | undefined;
  try {
    report = dicomReport(originalPart10);
  } catch {
    // The instance itself was accepted by the de-identification; a report we cannot read is no reason to fail it.
    return undefined;
  }
  if (!report) return undefined;
  if (report.kind === 'sr') {
    return submitReport(ctx, { source: 'dicom-sr', text: report.text, link: { studyUid }, extraNames: report.personNames, ...origin });
  }
  let text = '';
  try {
    text = await pdfText(report.document);
  } catch (error) {
    // A PDF that cannot be read is kept as a report without text; a thread that could not run is retried.
    if (!(error instanceof PdfRejection)) throw error;
  }
  return submitReport(ctx, { source: 'dicom-pdf', text: text.trim() || pdfWithoutText, link: { studyUid }, ...origin });
}
