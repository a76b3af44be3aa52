/**
 * Classification labels for supervised learning: a vocabulary the admins
 * keep (terms with a code, a display name, the levels they apply to and,
 * optionally, the values a label takes, e.g. a grade), and the labels put on
 * a study, a series or an instance, checked against it.
 */

export const labelLevels = ['study', 'series', 'instance'] as const;
export type LabelLevel = (typeof labelLevels)[number];

export interface LabelTerm {
  /** Lower-case identifier used in filters and exports, e.g. `nodule`, `follow-up`. */
  code: string;
  display: string;
  description: string | null;
  /** Where the label may be put. */
  levels: LabelLevel[];
  /** The values the label takes (e.g. `["1","2","3"]`); empty when it takes none. */
  values: string[];
  /** Retired terms stay on the objects that carry them but cannot be put on new ones. */
  active: boolean;
}

export interface LabelAssignment {
  code: string;
  value: string | null;
}

export class LabelError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'LabelError';
  }
}

export const labelCodePattern = /^[a-z0-9][a-z0-9._-]{0,63}$/;
export const maxTermsPerVocabulary = 1000;
export const maxLabelsPerObject = 100;

/** A term as an admin wrote it, checked and normalized (code in lower case, levels and values deduplicated). */
export function normalizeTerm(input: { code: string; display?: string | undefined; description?: string | null | undefined; levels?: readonly string[] | undefined; values?: readonly string[] | undefined; active?: boolean | undefined }): LabelTerm {
  const code = input.code.trim().toLowerCase();
  if (!labelCodePattern.test(code)) throw new LabelError('invalid_label_code', `"${input.code}" is not a label code: lower-case letters, digits, '.', '-' and '_', starting with a letter or digit, at most 64.`);
  const display = (input.display ?? code).trim();
  if (!display || display.length > 120) throw new LabelError('invalid_label_display', `The display name of ${code} must have 1 to 120 characters.`);
  const levels = [...new Set(input.levels ?? labelLevels)] as LabelLevel[];
  if (levels.length === 0 || levels.some((l) => !(labelLevels as readonly string[]).includes(l))) throw new LabelError('invalid_label_levels', `The levels of ${code} are some of ${labelLevels.join(', ')}.`);
  const values = [...new Set((input.values ?? []).map((v) => v.trim()))];
  if (values.some((v) => !v || v.length > 64)) throw new LabelError('invalid_label_values', `The values of ${code} must have 1 to 64 characters each.`);
  const description = input.description?.trim() || null;
  if (description && description.length > 1000) throw new LabelError('invalid_label_description', `The description of ${code} is longer than 1000 characters.`);
  return { code, display, description, levels: labelLevels.filter((l) => levels.includes(l)), values, active: input.active ?? true };
}

/**
 * The labels to store on an object of `level`: every code known, active and
 * allowed at that level, a value exactly when the term has values (one of
 * them), each code once. Sorted by code, so equal sets compare equal.
 */
export function checkAssignments(assignments: readonly { code: string; value?: string | null | undefined }[], level: LabelLevel, vocabulary: ReadonlyMap<string, LabelTerm>): LabelAssignment[] {
  if (assignments.length > maxLabelsPerObject) throw new LabelError('too_many_labels', `An object carries at most ${maxLabelsPerObject} labels.`);
  const out = new Map<string, LabelAssignment>();
  for (const assignment of assignments) {
    const code = assignment.code.trim().toLowerCase();
    const term = vocabulary.get(code);
    if (!term) throw new LabelError('unknown_label', `"${assignment.code}" is not in the label vocabulary.`);
    if (!term.active) throw new LabelError('retired_label', `The label ${code} is retired and cannot be put on objects any more.`);
    if (!term.levels.includes(level)) throw new LabelError('label_not_allowed_here', `The label ${code} is for ${term.levels.join(', ')}, not for a ${level}.`);
    const value = assignment.value?.trim() || null;
    if (term.values.length > 0 && (value === null || !term.values.includes(value))) throw new LabelError('invalid_label_value', `The label ${code} takes one of the values ${term.values.join(', ')}.`);
    if (term.values.length === 0 && value !== null) throw new LabelError('invalid_label_value', `The label ${code} takes no value.`);
    if (out.has(code)) throw new LabelError('duplicate_label', `The label ${code} is given twice.`);
    out.set(code, { code, value });
  }
  return [...out.values()].sort((a, b) => a.code.localeCompare(b.code));
}

export function sameAssignments(a: readonly LabelAssignment[], b: readonly LabelAssignment[]): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
