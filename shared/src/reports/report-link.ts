/**
 * How a report finds its study: through the same keyed pseudonyms as the
 * images. The accession number becomes the accession pseudonym; the patient
 * ID (with its issuer) the patient pseudonym, and the study date is moved by
 * that patient's date shift, so (pseudonym, shifted date) is what the index
 * holds for the study. Nothing here is kept in clear.
 */
import { accessionPseudonym, dateShiftDays, patientPseudonym } from '../dicom/pseudonym';
import { isoDate, parseIsoOrDicomDate, shiftCalendarDate } from './report-dates';

export interface ReportLinkInput {
  accession?: string | undefined;
  patientId?: string | undefined;
  issuer?: string | undefined;
  /** YYYY-MM-DD or YYYYMMDD, as the hospital knows it (not shifted). */
  studyDate?: string | undefined;
}

export interface ReportLinkKeys {
  accession?: string;
  patientId?: string;
  /** YYYY-MM-DD, shifted by the patient's offset. */
  studyDate?: string;
}

export function reportLinkKeys(key: Uint8Array, dateShiftRangeDays: number, input: ReportLinkInput): ReportLinkKeys {
  const keys: ReportLinkKeys = {};
  const accession = input.accession?.trim();
  if (accession) keys.accession = accessionPseudonym(key, accession);
  const patientId = input.patientId?.trim();
  if (patientId) {
    keys.patientId = patientPseudonym(key, input.issuer?.trim() || undefined, patientId);
    const date = input.studyDate ? parseIsoOrDicomDate(input.studyDate) : undefined;
    if (date) keys.studyDate = isoDate(shiftCalendarDate(date, dateShiftDays(key, keys.patientId, dateShiftRangeDays)));
  }
  return keys;
}
