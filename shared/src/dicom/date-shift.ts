/**
 * Date shifting for the Retain Longitudinal Temporal Information with
 * Modified Dates option. Whole days only: time-of-day parts (TM, and the time
 * and UTC offset of DT) are kept as they are, so a shift never crosses
 * midnight and every interval between two dates or date-times of a patient
 * is preserved exactly.
 */

const msPerDay = 86_400_000;

/** Shifts a date of precision YYYY, YYYYMM or YYYYMMDD (optionally with dots, as ACR-NEMA wrote it); undefined if invalid. */
function shiftDatePart(date: string, days: number): string | undefined {
  const dotted = /^(\d{4})\.(\d{2})\.(\d{2})$/.exec(date);
  const compact = dotted ? `${dotted[1]}${dotted[2]}${dotted[3]}` : date;
  if (!/^\d{4}(\d{2}(\d{2})?)?$/.test(compact)) return undefined;
  const year = Number(compact.slice(0, 4));
  const month = compact.length >= 6 ? Number(compact.slice(4, 6)) : 1;
  const day = compact.length === 8 ? Number(compact.slice(6, 8)) : 1;
  if (month < 1 || month > 12 || day < 1 || day > 31) return undefined;
  const time = Date.UTC(year, month - 1, day);
  const check = new Date(time);
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) return undefined;
  const shifted = new Date(time + days * msPerDay);
  const y = shifted.getUTCFullYear();
  if (y < 1 || y > 9999) return undefined;
  const yyyy = String(y).padStart(4, '0');
  const mm = String(shifted.getUTCMonth() + 1).padStart(2, '0');
  const dd = String(shifted.getUTCDate()).padStart(2, '0');
  const out = compact.length === 4 ? yyyy : compact.length === 6 ? `${yyyy}${mm}` : `${yyyy}${mm}${dd}`;
  return dotted ? `${out.slice(0, 4)}.${out.slice(4, 6)}.${out.slice(6, 8)}` : out;
}

/** A range `A-B`, `-B` or `A-` (query style, also found in values): each side shifted. */
function shiftRange(value: string, shiftOne: (single: string) => string | undefined, split: (value: string) => [string, string] | undefined): string | undefined {
  const single = shiftOne(value);
  if (single !== undefined) return single;
  const parts = split(value);
  if (!parts) return undefined;
  const [from, to] = parts;
  const shiftedFrom = from === '' ? '' : shiftOne(from);
  const shiftedTo = to === '' ? '' : shiftOne(to);
  if (shiftedFrom === undefined || shiftedTo === undefined || (from === '' && to === '')) return undefined;
  return `${shiftedFrom}-${shiftedTo}`;
}

function splitAtDash(value: string): [string, string] | undefined {
  const at = value.indexOf('-');
  if (at < 0 || value.indexOf('-', at + 1) >= 0) return undefined;
  return [value.slice(0, at).trim(), value.slice(at + 1).trim()];
}

/**
 * Shifts a DA value (multi-valued with `\`, ranges, partial dates); returns
 * undefined when a component is not a date (the caller then empties it).
 */
export function shiftDaValue(value: string, days: number): string | undefined {
  const out: string[] = [];
  for (const component of value.split('\\')) {
    const trimmed = component.trim();
    if (trimmed === '') { out.push(''); continue; }
    const shifted = shiftRange(trimmed, (one) => shiftDatePart(one, days), splitAtDash);
    if (shifted === undefined) return undefined;
    out.push(shifted);
  }
  return out.join('\\');
}

const dtPattern = /^(\d{4}(?:\d{2}(?:\d{2})?)?)(\d{2}(?:\d{2}(?:\d{2}(?:\.\d{1,6})?)?)?)?([+-]\d{4})?$/;

function shiftOneDt(value: string, days: number): string | undefined {
  const match = dtPattern.exec(value);
  if (!match) return undefined;
  const [, date = '', time = '', zone = ''] = match;
  // A time part only makes sense after a complete date.
  if (time !== '' && date.length !== 8) return undefined;
  const shifted = shiftDatePart(date, days);
  return shifted === undefined ? undefined : `${shifted}${time}${zone}`;
}

/** DT ranges: the dash that separates A and B is the one not followed by a UTC offset ending the value. */
function splitDtRange(value: string): [string, string] | undefined {
  for (let at = value.indexOf('-'); at >= 0; at = value.indexOf('-', at + 1)) {
    const from = value.slice(0, at).trim();
    const to = value.slice(at + 1).trim();
    if ((from === '' || dtPattern.test(from)) && (to === '' || dtPattern.test(to))) return [from, to];
  }
  return undefined;
}

/** Shifts a DT value: the date part moves by whole days, time and UTC offset are kept. */
export function shiftDtValue(value: string, days: number): string | undefined {
  const out: string[] = [];
  for (const component of value.split('\\')) {
    const trimmed = component.trim();
    if (trimmed === '') { out.push(''); continue; }
    const shifted = shiftRange(trimmed, (one) => shiftOneDt(one, days), splitDtRange);
    if (shifted === undefined) return undefined;
    out.push(shifted);
  }
  return out.join('\\');
}

/** YYYYMMDD (or YYYY.MM.DD) to a UTC day number; undefined for partial or invalid dates. */
export function dayNumber(date: string): number | undefined {
  const compact = date.replace(/\./g, '');
  if (!/^\d{8}$/.test(compact)) return undefined;
  const year = Number(compact.slice(0, 4));
  const month = Number(compact.slice(4, 6));
  const day = Number(compact.slice(6, 8));
  const time = Date.UTC(year, month - 1, day);
  const check = new Date(time);
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) return undefined;
  return time / msPerDay;
}

/** YYYYMMDD → YYYY-MM-DD (PostgreSQL date), undefined for partial or invalid dates. */
export function isoDate(date: string | undefined): string | undefined {
  if (!date) return undefined;
  const days = dayNumber(date);
  if (days === undefined) return undefined;
  return new Date(days * msPerDay).toISOString().slice(0, 10);
}
