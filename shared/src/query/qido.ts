/**
 * QIDO-RS query parameters (DICOM PS3.18 §8.3.4, PS3.4 C.2.2.2 matching):
 * attribute matches by keyword or hex tag (single value, `*`/`?` wildcards,
 * UID and code lists with `\` or `,`, date/time ranges `A-B`, `-B`, `A-`,
 * empty value = return the attribute), `fuzzymatching`, `includefield`
 * (comma list, repeated, or `all`), `limit` and `offset`. Anything else is a
 * QueryError with a reason, answered 400.
 */
import type { AttributeDefinition } from './attribute-dictionary';
import { lookupAttribute } from './attribute-dictionary';
import { invalidParameter, unknownParameter } from './errors';
import { isRealDate } from './study-filter';

export type QidoLevel = 'study' | 'series' | 'instance';

/**
 * How an attribute's value is compared: `uid` lists, free `text` (case-sensitive,
 * wildcards), person `name` (case-insensitive, wildcards, fuzzy), `code` strings
 * (lists allowed), `codes` held as a set per study (ModalitiesInStudy), `date`
 * and `time` ranges, `integer` values.
 */
export type MatchKind = 'uid' | 'text' | 'name' | 'code' | 'codes' | 'date' | 'time' | 'integer';

export type MatchValue =
  | { type: 'universal' }
  | { type: 'single'; value: string }
  | { type: 'wildcard'; pattern: string }
  | { type: 'list'; values: string[] }
  /** Dates as YYYYMMDD; times as seconds since midnight (the upper bound inclusive to its precision). */
  | { type: 'range'; from?: string | number; to?: string | number };

export interface AttributeMatch {
  tag: string;
  keyword: string;
  vr: string;
  /** The entity the attribute belongs to. */
  level: QidoLevel;
  kind: MatchKind;
  /** True for the attributes the index holds in columns; others match the stored DICOM JSON. */
  indexed: boolean;
  match: MatchValue;
}

export interface QidoQuery {
  level: QidoLevel;
  matches: AttributeMatch[];
  /** `includefield=all`. */
  includeAll: boolean;
  /** Extra attributes to return (tags), beyond the level's defaults and the matched ones. */
  includeFields: string[];
  fuzzy: boolean;
  limit: number;
  offset: number;
  /** The caller asked for more than the server's maximum (answered with a Warning header). */
  limitClamped: boolean;
}

interface Matchable {
  keyword: string;
  level: QidoLevel;
  kind: MatchKind;
}

/** The attributes the index keeps in columns, by level (PS3.18 Table 10.6.1-5 plus the useful extras). */
const indexedAttributes: readonly Matchable[] = [
  { keyword: 'StudyInstanceUID', level: 'study', kind: 'uid' },
  { keyword: 'PatientID', level: 'study', kind: 'text' },
  { keyword: 'PatientName', level: 'study', kind: 'name' },
  { keyword: 'PatientSex', level: 'study', kind: 'code' },
  { keyword: 'PatientBirthDate', level: 'study', kind: 'date' },
  { keyword: 'StudyDate', level: 'study', kind: 'date' },
  { keyword: 'StudyTime', level: 'study', kind: 'time' },
  { keyword: 'AccessionNumber', level: 'study', kind: 'text' },
  { keyword: 'StudyID', level: 'study', kind: 'text' },
  { keyword: 'StudyDescription', level: 'study', kind: 'text' },
  { keyword: 'ReferringPhysicianName', level: 'study', kind: 'name' },
  { keyword: 'ModalitiesInStudy', level: 'study', kind: 'codes' },
  { keyword: 'SeriesInstanceUID', level: 'series', kind: 'uid' },
  { keyword: 'Modality', level: 'series', kind: 'code' },
  { keyword: 'SeriesNumber', level: 'series', kind: 'integer' },
  { keyword: 'SeriesDescription', level: 'series', kind: 'text' },
  { keyword: 'BodyPartExamined', level: 'series', kind: 'code' },
  { keyword: 'SOPInstanceUID', level: 'instance', kind: 'uid' },
  { keyword: 'SOPClassUID', level: 'instance', kind: 'uid' },
  { keyword: 'InstanceNumber', level: 'instance', kind: 'integer' },
];

const levelRank: Record<QidoLevel, number> = { study: 0, series: 1, instance: 2 };

/** The server's page size caps (a Lambda answer must stay under 6 MB). */
export const maxQidoLimit: Record<QidoLevel, number> = { study: 1000, series: 1000, instance: 5000 };

const controlParameters = new Set(['limit', 'offset', 'fuzzymatching', 'includefield']);

const uidPattern = /^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$/;

/**
 * Parses a QIDO-RS query for `level`. Attributes of a lower level than the
 * query's are refused (e.g. Modality on /studies: use ModalitiesInStudy).
 */
export function parseQidoQuery(level: QidoLevel, params: URLSearchParams): QidoQuery {
  const query: QidoQuery = { level, matches: [], includeAll: false, includeFields: [], fuzzy: false, limit: maxQidoLimit[level], offset: 0, limitClamped: false };
  const seenControls = new Set<string>();
  for (const [name, raw] of params) {
    if (controlParameters.has(name)) {
      if (name !== 'includefield' && seenControls.has(name)) throw invalidParameter(name, `"${name}" may be given only once.`);
      seenControls.add(name);
      applyControl(query, name, raw.trim());
      continue;
    }
    const match = parseMatch(level, name, raw);
    if (query.matches.some((m) => m.tag === match.tag)) throw invalidParameter(name, `${match.keyword} is given more than once.`);
    query.matches.push(match);
  }
  return query;
}

function applyControl(query: QidoQuery, name: string, value: string): void {
  switch (name) {
    case 'limit': {
      if (!/^\d{1,9}$/.test(value) || Number(value) < 1) throw invalidParameter(name, '"limit" must be a whole number of at least 1.');
      const limit = Number(value);
      query.limitClamped = limit > maxQidoLimit[query.level];
      query.limit = Math.min(limit, maxQidoLimit[query.level]);
      return;
    }
    case 'offset':
      if (!/^\d{1,9}$/.test(value)) throw invalidParameter(name, '"offset" must be a whole number of at least 0.');
      query.offset = Number(value);
      return;
    case 'fuzzymatching':
      if (value !== 'true' && value !== 'false') throw invalidParameter(name, '"fuzzymatching" must be true or false.');
      query.fuzzy = value === 'true';
      return;
    case 'includefield':
      for (const item of value.split(',')) {
        const field = item.trim();
        if (!field) continue;
        if (field === 'all') {
          query.includeAll = true;
          continue;
        }
        if (field.includes('.')) throw invalidParameter(name, `includefield "${field}": sequence paths are not supported; name the sequence itself.`);
        const attribute = lookupAttribute(field);
        if (!attribute) throw unknownParameter(name, `includefield "${field}" is neither a DICOM keyword nor a tag (8 hex digits).`);
        if (!query.includeFields.includes(attribute.tag)) query.includeFields.push(attribute.tag);
      }
      return;
  }
}

function parseMatch(level: QidoLevel, name: string, raw: string): AttributeMatch {
  if (name.includes('.')) throw invalidParameter(name, `Matching inside sequences ("${name}") is not supported.`);
  const attribute = lookupAttribute(name);
  if (!attribute) {
    throw unknownParameter(name, `Unknown parameter "${name}": use a DICOM keyword (PatientName) or tag (00100010), or limit, offset, fuzzymatching, includefield.`);
  }
  const known = indexedAttributes.find((a) => a.keyword === attribute.keyword);
  if (known && levelRank[known.level] > levelRank[level]) {
    const hint = known.keyword === 'Modality' ? ' (at study level use ModalitiesInStudy)' : '';
    throw invalidParameter(name, `${known.keyword} is a ${known.level}-level attribute and cannot be matched in a ${level}-level query${hint}.`);
  }
  const kind = known?.kind ?? kindOfVr(attribute, name);
  return {
    tag: attribute.tag,
    keyword: attribute.keyword,
    vr: attribute.vr,
    level: known?.level ?? level,
    kind,
    indexed: known !== undefined,
    match: parseValue(name, attribute, kind, raw),
  };
}

function kindOfVr(attribute: AttributeDefinition, name: string): MatchKind {
  switch (attribute.vr) {
    case 'UI': return 'uid';
    case 'PN': return 'name';
    case 'DA': return 'date';
    case 'TM': return 'time';
    case 'CS': return 'code';
    case 'IS': case 'US': case 'UL': case 'SS': case 'SL': return 'integer';
    case 'AE': case 'AS': case 'LO': case 'SH': case 'LT': case 'ST': case 'UT': case 'UC': case 'UR': case 'DS': return 'text';
    default:
      throw invalidParameter(name, `Matching on ${attribute.keyword} (VR ${attribute.vr}) is not supported.`);
  }
}

function parseValue(name: string, attribute: AttributeDefinition, kind: MatchKind, raw: string): MatchValue {
  const value = raw.trim();
  if (value === '' || value === '*') return { type: 'universal' };
  if (/\p{Cc}/u.test(value)) throw invalidParameter(name, `The value of ${attribute.keyword} contains control characters.`);
  if (value.length > 1024) throw invalidParameter(name, `The value of ${attribute.keyword} is too long.`);
  switch (kind) {
    case 'uid': {
      const values = splitList(value);
      for (const uid of values) {
        if (uid.length > 64 || !uidPattern.test(uid)) throw invalidParameter(name, `${attribute.keyword} must be a UID (digits and dots, at most 64) or a list of UIDs separated by "\\" or ","; wildcards are not allowed.`);
      }
      return values.length === 1 ? { type: 'single', value: values[0] as string } : { type: 'list', values };
    }
    case 'date':
      return dateRange(name, attribute.keyword, value);
    case 'time':
      return timeRange(name, attribute.keyword, value);
    case 'integer': {
      const values = splitList(value);
      if (values.some((v) => !/^[+-]?\d{1,10}$/.test(v))) throw invalidParameter(name, `${attribute.keyword} must be a whole number (or a list of them).`);
      const normalized = values.map((v) => String(Number(v)));
      return normalized.length === 1 ? { type: 'single', value: normalized[0] as string } : { type: 'list', values: normalized };
    }
    case 'code':
    case 'codes': {
      if (hasWildcard(value)) return { type: 'wildcard', pattern: value };
      const values = splitList(value);
      return values.length === 1 ? { type: 'single', value: values[0] as string } : { type: 'list', values };
    }
    case 'text':
    case 'name':
      // Backslash separates values in DICOM; a list of names or texts matches any of them.
      if (value.includes('\\')) {
        const values = value.split('\\').map((v) => v.trim()).filter(Boolean);
        if (values.some(hasWildcard)) throw invalidParameter(name, `${attribute.keyword}: wildcards cannot be combined with a list of values.`);
        return { type: 'list', values };
      }
      return hasWildcard(value) ? { type: 'wildcard', pattern: value } : { type: 'single', value };
  }
}

function splitList(value: string): string[] {
  return value.split(/[\\,]/).map((v) => v.trim()).filter(Boolean);
}

function hasWildcard(value: string): boolean {
  return value.includes('*') || value.includes('?');
}

function dateRange(name: string, keyword: string, value: string): MatchValue {
  const parts = value.split('-');
  const bad = () => invalidParameter(name, `${keyword} must be a date YYYYMMDD or a range YYYYMMDD-YYYYMMDD, -YYYYMMDD or YYYYMMDD-.`);
  if (parts.length > 2) throw bad();
  const check = (d: string | undefined) => {
    if (d === undefined || d === '') return undefined;
    const m = /^(\d{4})(\d{2})(\d{2})$/.exec(d);
    if (!m || !isRealDate(Number(m[1]), Number(m[2]), Number(m[3]))) throw bad();
    return d;
  };
  if (parts.length === 1) {
    const day = check(parts[0]);
    return { type: 'range', from: day, to: day };
  }
  const from = check(parts[0]);
  const to = check(parts[1]);
  if (from === undefined && to === undefined) throw bad();
  if (from && to && from > to) throw invalidParameter(name, `${keyword}: the range starts after it ends.`);
  return { type: 'range', ...(from ? { from } : {}), ...(to ? { to } : {}) };
}

/** A DICOM TM (HH, HHMM, HHMMSS, HHMMSS.F…; colons tolerated) → [first second, last instant] of its precision. */
export function timeBounds(value: string): [number, number] | undefined {
  const m = /^(\d{2})(?::?(\d{2})(?::?(\d{2})(?:\.(\d{1,6}))?)?)?$/.exec(value);
  if (!m) return undefined;
  const h = Number(m[1]);
  const min = m[2] === undefined ? undefined : Number(m[2]);
  const s = m[3] === undefined ? undefined : Number(m[3]);
  if (h > 23 || (min ?? 0) > 59 || (s ?? 0) > 60) return undefined;
  const start = h * 3600 + (min ?? 0) * 60 + (s ?? 0) + (m[4] ? Number(`0.${m[4]}`) : 0);
  const span = min === undefined ? 3600 : s === undefined ? 60 : m[4] === undefined ? 1 : 10 ** -m[4].length;
  return [start, start + span - 1e-6];
}

function timeRange(name: string, keyword: string, value: string): MatchValue {
  const bad = () => invalidParameter(name, `${keyword} must be a time HHMMSS (or HH, HHMM, HHMMSS.FFFFFF) or a range A-B, -B, A-.`);
  const parts = value.split('-');
  if (parts.length > 2) throw bad();
  const bounds = parts.map((p) => {
    if (p === '') return undefined;
    const b = timeBounds(p);
    if (!b) throw bad();
    return b;
  });
  if (parts.length === 1) {
    const b = bounds[0] as [number, number];
    return { type: 'range', from: b[0], to: b[1] };
  }
  const [from, to] = bounds;
  if (!from && !to) throw bad();
  if (from && to && from[0] > to[1]) throw invalidParameter(name, `${keyword}: the range starts after it ends.`);
  return { type: 'range', ...(from ? { from: from[0] } : {}), ...(to ? { to: to[1] } : {}) };
}
