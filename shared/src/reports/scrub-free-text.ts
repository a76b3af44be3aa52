/**
 * Short free texts people type besides reports — names of annotation sets
 * and saved searches, messages of annotation and label versions — go
 * through the report scrubber before they are stored: they are shown to
 * other users, exported, and a saved search's name is emailed. Where the
 * text belongs to a study, the study's known identifiers and its patient's
 * date shift apply (names become the pseudonym, dates are shifted like the
 * images'); elsewhere the pattern rules alone (names after titles, phones,
 * e-mail addresses, IDs, addresses; dates removed).
 */
import type { KnownIdentifiers, ScrubReplacements, ScrubResult } from './scrub-report';
import { placeholders, scrubReport } from './scrub-report';

/** What a study's texts are scrubbed with (functions/src/reports/study-scrubbing.ts gathers it). */
export interface StudyScrubbing {
  known: KnownIdentifiers;
  replacements: ScrubReplacements;
}

/** No study, no patient: pattern rules only, dates removed. */
const patternOnly: StudyScrubbing = { known: {}, replacements: { patientName: placeholders.name, patientId: placeholders.id, dateShiftDays: null } };

export function scrubFreeText(text: string, study: StudyScrubbing = patternOnly): ScrubResult {
  return scrubReport(text, study.known, study.replacements);
}
