/**
 * The one study filter: the study browser keeps it in its URL, /api/studies
 * runs it, exports and subscriptions store it as JSON. Parsed from URL query
 * parameters with readable errors, and written back to a canonical query
 * string (defaults left out), so a filter survives every round trip.
 */
import { QueryError, invalidParameter, unknownParameter } from './errors';

export const studySorts = ['studyDate', 'patientId', 'modalities', 'description', 'numInstances'] as const;
export type StudySort = (typeof studySorts)[number];
export type SortOrder = 'asc' | 'desc';
export const patientSexes = ['F', 'M', 'O'] as const;
export type PatientSex = (typeof patientSexes)[number];

export interface StudyFilter {
  /** Pseudonymous patient ID (exact). */
  patientId?: string;
  sex?: PatientSex;
  /** Age at the study, in whole years (from PatientAge), inclusive bounds. */
  ageMin?: number;
  ageMax?: number;
  /** Study date (shifted, as stored), ISO `YYYY-MM-DD`, inclusive bounds. */
  dateFrom?: string;
  dateTo?: string;
  /** Studies holding any of these modalities. */
  modalities: string[];
  /** Studies holding any of these body parts. */
  bodyParts: string[];
  /** Words that must all appear in the study or one of its series descriptions (case-insensitive). */
  q?: string;
  /** Studies carrying all these labels (labels arrive with annotations). */
  labels: string[];
  /** Only studies with (true) or without (false) a report (reports arrive later). */
  hasReport?: boolean;
  sort: StudySort;
  order: SortOrder;
  limit: number;
  offset: number;
}

export const studyFilterDefaults = { sort: 'studyDate', order: 'desc', limit: 50, offset: 0 } as const satisfies Partial<StudyFilter>;
export const maxStudyLimit = 500;
const maxAge = 150;
const maxTextLength = 200;

/** Query parameter names, in the order the canonical query string writes them. */
const parameterNames = ['patientId', 'sex', 'ageMin', 'ageMax', 'dateFrom', 'dateTo', 'modality', 'bodyPart', 'q', 'label', 'hasReport', 'sort', 'order', 'limit', 'offset'] as const;
type ParameterName = (typeof parameterNames)[number];
const repeatable = new Set<ParameterName>(['modality', 'bodyPart', 'label']);

/** A DICOM code string (CS): upper-case letters, digits, space, underscore; at most 16 characters. */
const codeString = /^[A-Z0-9_ ]{1,16}$/;
const isoDate = /^(\d{4})-(\d{2})-(\d{2})$/;

export function emptyStudyFilter(): StudyFilter {
  return { modalities: [], bodyParts: [], labels: [], ...studyFilterDefaults };
}

/** Reads a filter from URL query parameters; throws QueryError naming the bad parameter. */
export function parseStudyFilter(params: URLSearchParams): StudyFilter {
  const filter = emptyStudyFilter();
  const seen = new Set<string>();
  for (const [name, raw] of params) {
    if (!(parameterNames as readonly string[]).includes(name)) {
      throw unknownParameter(name, `Unknown filter "${name}". Known filters: ${parameterNames.join(', ')}.`);
    }
    const key = name as ParameterName;
    if (seen.has(key) && !repeatable.has(key)) throw invalidParameter(key, `"${key}" may be given only once.`);
    seen.add(key);
    const value = raw.trim();
    switch (key) {
      case 'patientId':
        filter.patientId = text(key, value, 64);
        break;
      case 'sex':
        if (!(patientSexes as readonly string[]).includes(value.toUpperCase())) throw invalidParameter(key, `"sex" must be one of ${patientSexes.join(', ')}.`);
        filter.sex = value.toUpperCase() as PatientSex;
        break;
      case 'ageMin':
      case 'ageMax':
        filter[key] = integer(key, value, 0, maxAge);
        break;
      case 'dateFrom':
      case 'dateTo':
        filter[key] = date(key, value);
        break;
      case 'modality':
      case 'bodyPart':
        for (const part of value.split(',')) {
          const code = part.trim().toUpperCase();
          if (!codeString.test(code)) throw invalidParameter(key, `"${key}" must be a DICOM code such as ${key === 'modality' ? 'CT or MR' : 'CHEST or HEAD'} (letters, digits, underscore; up to 16).`);
          const list = key === 'modality' ? filter.modalities : filter.bodyParts;
          if (!list.includes(code)) list.push(code);
        }
        break;
      case 'q':
        filter.q = text(key, value, maxTextLength);
        break;
      case 'label': {
        const label = text(key, value, 64);
        if (!filter.labels.includes(label)) filter.labels.push(label);
        break;
      }
      case 'hasReport':
        if (value !== 'true' && value !== 'false') throw invalidParameter(key, '"hasReport" must be true or false.');
        filter.hasReport = value === 'true';
        break;
      case 'sort':
        if (!(studySorts as readonly string[]).includes(value)) throw invalidParameter(key, `"sort" must be one of ${studySorts.join(', ')}.`);
        filter.sort = value as StudySort;
        break;
      case 'order':
        if (value !== 'asc' && value !== 'desc') throw invalidParameter(key, '"order" must be asc or desc.');
        filter.order = value;
        break;
      case 'limit':
        filter.limit = integer(key, value, 1, maxStudyLimit);
        break;
      case 'offset':
        filter.offset = integer(key, value, 0, Number.MAX_SAFE_INTEGER);
        break;
    }
  }
  if (filter.ageMin !== undefined && filter.ageMax !== undefined && filter.ageMin > filter.ageMax) {
    throw invalidParameter('ageMin', '"ageMin" must not be greater than "ageMax".');
  }
  if (filter.dateFrom && filter.dateTo && filter.dateFrom > filter.dateTo) {
    throw invalidParameter('dateFrom', '"dateFrom" must not be after "dateTo".');
  }
  return filter;
}

/** The canonical query string of a filter (defaults and empty values left out). */
export function studyFilterToSearchParams(filter: StudyFilter): URLSearchParams {
  const out = new URLSearchParams();
  const put = (name: ParameterName, value: string | number | boolean | undefined) => {
    if (value !== undefined && value !== '') out.append(name, String(value));
  };
  put('patientId', filter.patientId);
  put('sex', filter.sex);
  put('ageMin', filter.ageMin);
  put('ageMax', filter.ageMax);
  put('dateFrom', filter.dateFrom);
  put('dateTo', filter.dateTo);
  for (const m of filter.modalities) put('modality', m);
  for (const b of filter.bodyParts) put('bodyPart', b);
  put('q', filter.q);
  for (const l of filter.labels) put('label', l);
  put('hasReport', filter.hasReport);
  if (filter.sort !== studyFilterDefaults.sort) put('sort', filter.sort);
  if (filter.order !== studyFilterDefaults.order) put('order', filter.order);
  if (filter.limit !== studyFilterDefaults.limit) put('limit', filter.limit);
  if (filter.offset !== studyFilterDefaults.offset) put('offset', filter.offset);
  return out;
}

export function studyFilterToQueryString(filter: StudyFilter): string {
  return studyFilterToSearchParams(filter).toString();
}

/**
 * A filter stored as JSON (exports, subscriptions), validated by the same
 * rules as the query string: what was stored is what the URL would say.
 */
export function studyFilterFromJson(value: unknown): StudyFilter {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalidParameter('filter', 'The filter must be a JSON object.');
  const params = new URLSearchParams();
  const record = value as Record<string, unknown>;
  const arrays: Record<string, ParameterName> = { modalities: 'modality', bodyParts: 'bodyPart', labels: 'label' };
  for (const [key, item] of Object.entries(record)) {
    const asParam = arrays[key];
    if (asParam) {
      if (!Array.isArray(item) || item.some((v) => typeof v !== 'string')) throw invalidParameter(key, `"${key}" must be a list of strings.`);
      for (const v of item as string[]) params.append(asParam, v);
      continue;
    }
    if (item === undefined || item === null) continue;
    if (!['string', 'number', 'boolean'].includes(typeof item)) throw invalidParameter(key, `"${key}" must be a string, number or boolean.`);
    params.append(key, String(item));
  }
  return parseStudyFilter(params);
}

/** The filter as plain JSON (what exports and subscriptions store). */
export function studyFilterToJson(filter: StudyFilter): Record<string, unknown> {
  return JSON.parse(JSON.stringify(filter)) as Record<string, unknown>;
}

function text(name: string, value: string, max: number): string {
  if (!value) throw invalidParameter(name, `"${name}" must not be empty.`);
  if (value.length > max) throw invalidParameter(name, `"${name}" is longer than ${max} characters.`);
  // Control characters have no place in a search and would only confuse logs.
  if (/\p{Cc}/u.test(value)) throw invalidParameter(name, `"${name}" contains control characters.`);
  return value;
}

function integer(name: string, value: string, min: number, max: number): number {
  if (!/^\d{1,16}$/.test(value)) throw invalidParameter(name, `"${name}" must be a whole number.`);
  const n = Number(value);
  if (n < min || n > max) throw invalidParameter(name, `"${name}" must be between ${min} and ${max}.`);
  return n;
}

function date(name: string, value: string): string {
  const m = isoDate.exec(value);
  if (!m || !isRealDate(Number(m[1]), Number(m[2]), Number(m[3]))) throw invalidParameter(name, `"${name}" must be a date written YYYY-MM-DD.`);
  return value;
}

export function isRealDate(year: number, month: number, day: number): boolean {
  if (year < 1 || month < 1 || month > 12 || day < 1) return false;
  const d = new Date(Date.UTC(year, month - 1, day));
  return d.getUTCFullYear() === year && d.getUTCMonth() === month - 1 && d.getUTCDate() === day;
}

export { QueryError };
