/** The de-identification option set (PS3.15 E.3 options plus medlake's date shift range). */
export interface DeidOptions {
  /** Retain Longitudinal Temporal Information with Modified Dates Option (DCM 113107): dates shifted per patient. */
  retainLongitudinalModifiedDates: boolean;
  /** Retain Patient Characteristics Option (DCM 113108): sex, age, size, weight... kept. */
  retainPatientCharacteristics: boolean;
  /** Clean Descriptors Option (DCM 113105): descriptions kept, identifying values inside removed. */
  cleanDescriptors: boolean;
  /** Retain Safe Private Option (DCM 113111): private elements of PS3.15 Table E.3.10-1 kept. */
  retainSafePrivate: boolean;
  /** Dates move back by 1..dateShiftRangeDays whole days (one offset per pseudonymous patient). */
  dateShiftRangeDays: number;
}

export const defaultDeidOptions: Readonly<DeidOptions> = Object.freeze({
  retainLongitudinalModifiedDates: true,
  retainPatientCharacteristics: true,
  cleanDescriptors: true,
  retainSafePrivate: false,
  dateShiftRangeDays: 365,
});

const booleanKeys = ['retainLongitudinalModifiedDates', 'retainPatientCharacteristics', 'cleanDescriptors', 'retainSafePrivate'] as const;

/** Defaults overridden by a partial option set; throws RangeError on a wrong type or range. */
export function resolveDeidOptions(overrides: Partial<DeidOptions> | undefined): DeidOptions {
  const options: DeidOptions = { ...defaultDeidOptions, ...(overrides ?? {}) };
  for (const key of booleanKeys) {
    if (typeof options[key] !== 'boolean') throw new RangeError(`De-identification option ${key} must be true or false`);
  }
  if (!Number.isInteger(options.dateShiftRangeDays) || options.dateShiftRangeDays < 1 || options.dateShiftRangeDays > 36_500) {
    throw new RangeError('De-identification option dateShiftRangeDays must be a whole number of days between 1 and 36500');
  }
  return options;
}

/** Parses DEID_OPTIONS (JSON of a partial option set); unknown keys are refused so typos do not silently weaken the profile. */
export function parseDeidOptions(json: string | undefined): DeidOptions {
  if (json === undefined || json.trim() === '') return resolveDeidOptions(undefined);
  const parsed: unknown = JSON.parse(json);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new RangeError('DEID_OPTIONS must be a JSON object');
  const known = new Set<string>([...booleanKeys, 'dateShiftRangeDays']);
  for (const key of Object.keys(parsed)) if (!known.has(key)) throw new RangeError(`DEID_OPTIONS has an unknown option ${key}`);
  return resolveDeidOptions(parsed as Partial<DeidOptions>);
}

