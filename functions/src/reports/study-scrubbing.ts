/**
 * What free text about a study is scrubbed with (shared/src/reports/
 * scrub-report.ts): the identifiers the PHI vault sealed for its patient and
 * the study itself, and what the images use instead (the patient's
 * pseudonym, the pseudonymous accession number, the patient's date shift).
 * Used for reports and their correction reasons, and for the names and
 * messages users give annotation sets and label versions. Reads the vault:
 * callers run where the vault may be opened for patients and studies.
 */
import { dateShiftDays } from '@medlake/shared/dicom/pseudonym';
import { knownIdentifiersFrom } from '@medlake/shared/reports/known-identifiers';
import { parseIsoOrDicomDate, shiftCalendarDate } from '@medlake/shared/reports/report-dates';
import type { StudyScrubbing } from '@medlake/shared/reports/scrub-free-text';
import { scrubFreeText } from '@medlake/shared/reports/scrub-free-text';
import type { DeidOptions } from '@medlake/shared/dicom/options';
import type { Queryable } from '../adapters/database';
import type { PhiVault } from '../adapters/phi-vault';
import type { ReportContext } from './report-context';
import { reportContextFromEnv } from './report-context';

export interface ScrubbingKeys {
  key: Uint8Array;
  deidOptions: DeidOptions;
  vault: PhiVault;
}

/**
 * The study's scrubbing: its vault records plus `extra` records (what an
 * uploader gave with a report); throws when the study is not in the index.
 */
export async function studyScrubbing(ctx: ScrubbingKeys, db: Queryable, studyUid: string, extra: readonly (Record<string, unknown> | undefined)[] = []): Promise<StudyScrubbing> {
  const study = await db.query<{ patient_id: string; accession_number: string | null; study_date: string | null; patient_name: string }>(
    `SELECT s.patient_id, s.accession_number, to_char(s.study_date, 'YYYY-MM-DD') AS study_date, p.patient_name
     FROM studies s JOIN patients p ON p.patient_id = s.patient_id WHERE s.study_uid = $1`,
    [studyUid],
  );
  const row = study.rows[0];
  if (!row) throw new Error('a study to scrub text for is not in the index');
  const [patientRecord, studyRecord] = await Promise.all([ctx.vault.revealIdentifiers(db, 'patient', row.patient_id), ctx.vault.revealIdentifiers(db, 'study', studyUid)]);
  const shift = typeof patientRecord?.dateShiftDays === 'number' ? patientRecord.dateShiftDays : dateShiftDays(ctx.key, row.patient_id, ctx.deidOptions.dateShiftRangeDays);
  const shiftedDate = row.study_date ? parseIsoOrDicomDate(row.study_date) : undefined;
  return {
    known: knownIdentifiersFrom([patientRecord, studyRecord, ...extra]),
    replacements: {
      patientName: row.patient_name,
      patientId: row.patient_id,
      accessionNumber: row.accession_number ?? undefined,
      dateShiftDays: shift,
      referenceYear: shiftedDate ? shiftCalendarDate(shiftedDate, -shift).year : undefined,
    },
  };
}

let keys: Promise<ReportContext> | undefined;

/**
 * Texts users wrote about a study (an annotation set's name, a version's
 * message), scrubbed with what is known of the study; nulls stay null. One
 * vault read for all of them.
 */
export async function scrubStudyTexts(db: Queryable, studyUid: string, texts: readonly (string | null)[]): Promise<(string | null)[]> {
  if (texts.every((text) => text === null || text.trim() === '')) return [...texts];
  keys ??= reportContextFromEnv().catch((error: unknown) => {
    keys = undefined;
    throw error;
  });
  const scrubbing = await studyScrubbing(await keys, db, studyUid);
  return texts.map((text) => (text === null ? null : scrubFreeText(text, scrubbing).text));
}
