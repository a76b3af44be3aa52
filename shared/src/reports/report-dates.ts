/**
 * Dates written in report text, in the many ways people write them, found
 * and shifted by a patient's date offset while keeping the way they were
 * written ("12.03.2021" stays dotted, "March 12, 2021" stays spelled out), so
 * intervals inside the report stay true and the report matches its images.
 *
 * Forms understood (day D, month M, year Y or YY; English, German, French):
 * YYYY-MM-DD, YYYY/MM/DD, YYYYMMDD, D.M.YYYY, D.M.YY, D/M/YYYY or M/D/YYYY
 * (order decided by values, then by the text's other dates, then day first),
 * D-M-YYYY, "12 March 2021", "12th of March 2021", "12. März 2021",
 * "12 mars 2021", "12-Mar-2021", "March 12, 2021", "Mar 12 2021", month and
 * year ("March 2021", "03/2021": the middle of the month is shifted), day and
 * month without a year ("12.03.", "12 March", "March 12": the reference year
 * is assumed). A year alone is left as it is.
 */

export interface CalendarDate {
  year: number;
  /** 1–12 */
  month: number;
  /** 1–31 */
  day: number;
}

export interface DateMention {
  start: number;
  end: number;
  date: CalendarDate;
  /** Which parts the text wrote; a shifted mention writes the same parts. */
  precision: 'day' | 'month' | 'day-no-year';
  /** Writes a date in the mention's original style. */
  format(date: CalendarDate): string;
}

type Language = 'en' | 'de' | 'fr';

interface MonthName {
  month: number;
  language: Language;
  /** Folded spelling as matched. */
  name: string;
  full: boolean;
}

const fullMonthNames: Record<Language, string[]> = {
  en: ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'],
  de: ['januar', 'februar', 'märz', 'april', 'mai', 'juni', 'juli', 'august', 'september', 'oktober', 'november', 'dezember'],
  fr: ['janvier', 'février', 'mars', 'avril', 'mai', 'juin', 'juillet', 'août', 'septembre', 'octobre', 'novembre', 'décembre'],
};

const shortMonthNames: Record<Language, string[][]> = {
  en: [['jan'], ['feb'], ['mar'], ['apr'], [], ['jun'], ['jul'], ['aug'], ['sep', 'sept'], ['oct'], ['nov'], ['dec']],
  de: [['jan', 'jän'], ['feb'], ['mär', 'mrz'], ['apr'], [], ['jun'], ['jul'], ['aug'], ['sep', 'sept'], ['okt'], ['nov'], ['dez']],
  fr: [['janv'], ['févr', 'fév'], [], ['avr'], [], [], ['juil'], [], ['sept'], ['oct'], ['nov'], ['déc']],
};

const monthNames: MonthName[] = [];
for (const language of ['en', 'de', 'fr'] as Language[]) {
  fullMonthNames[language].forEach((name, i) => monthNames.push({ month: i + 1, language, name, full: true }));
  shortMonthNames[language].forEach((names, i) => names.forEach((name) => monthNames.push({ month: i + 1, language, name, full: false })));
}
monthNames.push({ month: 3, language: 'de', name: 'maerz', full: true }, { month: 1, language: 'de', name: 'jänner', full: true });

const monthAlternation = [...new Set(monthNames.map((m) => m.name))]
  .sort((a, b) => b.length - a.length)
  .map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
  .join('|');

function lookupMonth(written: string): MonthName | undefined {
  const key = written.toLowerCase().replace(/\.$/, '');
  return monthNames.find((m) => m.name === key) ?? monthNames.find((m) => m.name.normalize('NFD').replace(/[\u0300-\u036f]/g, '') === key.normalize('NFD').replace(/[\u0300-\u036f]/g, ''));
}

/** Writes a month name in the same language, length and letter case as the original. */
function monthWriter(original: string): (month: number) => string {
  const found = lookupMonth(original);
  const language = found?.language ?? 'en';
  const full = found?.full ?? true;
  const dotted = original.endsWith('.');
  const core = original.replace(/\.$/, '');
  const upper = core === core.toUpperCase();
  const capitalised = !upper && core[0] === core[0]?.toUpperCase();
  return (month) => {
    let name = full ? (fullMonthNames[language][month - 1] as string) : (shortMonthNames[language][month - 1]?.[0] ?? (fullMonthNames[language][month - 1] as string).slice(0, 3));
    if (!full && name.length >= (fullMonthNames[language][month - 1] as string).length) name = fullMonthNames[language][month - 1] as string;
    if (upper) name = name.toUpperCase();
    else if (capitalised) name = (name[0] as string).toUpperCase() + name.slice(1);
    const isShort = !full && name.length < (fullMonthNames[language][month - 1] as string).length;
    return dotted && isShort ? `${name}.` : name;
  };
}

export function isValidDate(date: CalendarDate): boolean {
  if (date.month < 1 || date.month > 12 || date.day < 1) return false;
  const probe = new Date(Date.UTC(date.year, date.month - 1, date.day));
  return probe.getUTCFullYear() === date.year && probe.getUTCMonth() === date.month - 1 && probe.getUTCDate() === date.day;
}

export function shiftCalendarDate(date: CalendarDate, days: number): CalendarDate {
  const shifted = new Date(Date.UTC(date.year, date.month - 1, date.day) + days * 86_400_000);
  return { year: shifted.getUTCFullYear(), month: shifted.getUTCMonth() + 1, day: shifted.getUTCDate() };
}

/** `YYYYMMDD` (DICOM DA) or `YYYY-MM-DD`. */
export function parseIsoOrDicomDate(value: string): CalendarDate | undefined {
  const m = /^(\d{4})-?(\d{2})-?(\d{2})$/.exec(value.trim());
  if (!m) return undefined;
  const date = { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) };
  return isValidDate(date) ? date : undefined;
}

export function isoDate(date: CalendarDate): string {
  return `${String(date.year).padStart(4, '0')}-${pad(date.month, 2)}-${pad(date.day, 2)}`;
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

const fullYear = (written: string): number => {
  if (written.length === 4) return Number(written);
  const yy = Number(written);
  // Two-digit years in reports are recent studies or birth dates: 30–99 → 19xx.
  return yy >= 30 ? 1900 + yy : 2000 + yy;
};

const writeYear = (year: number, width: number) => (width === 2 ? pad(year % 100, 2) : pad(year, 4));
const writeNumber = (value: number, original: string) => (original.length === 2 ? pad(value, 2) : String(value));

interface Candidate {
  start: number;
  end: number;
  build(order: 'dmy' | 'mdy'): { date: CalendarDate; format(d: CalendarDate): string } | undefined;
  precision: DateMention['precision'];
  /** Slash dates whose first two numbers are both ≤ 12. */
  ambiguous?: boolean;
  /** Day-first decided by the values themselves (first > 12) or month-first (second > 12). */
  decides?: 'dmy' | 'mdy';
}

const ordinal = String.raw`(?:st|nd|rd|th|er|e|ème)?`;
const yearPart = String.raw`(\d{4}|'\d{2})`;

/**
 * Every date mention, left to right, without overlaps. `referenceYear`
 * completes day-and-month mentions that have no year.
 */
export function findDates(text: string, options: { referenceYear?: number; slashOrder?: 'dmy' | 'mdy' } = {}): DateMention[] {
  const candidates: Candidate[] = [];
  const push = (c: Candidate) => candidates.push(c);
  const referenceYear = options.referenceYear ?? new Date().getUTCFullYear();
  let m: RegExpExecArray | null;

  // YYYY-MM-DD, YYYY/MM/DD, YYYY.MM.DD
  const iso = /(?<![\d.])(\d{4})([-/.])(\d{1,2})\2(\d{1,2})(?![\d])/g;
  while ((m = iso.exec(text))) {
    const [all, y, sep, mo, d] = m as unknown as [string, string, string, string, string];
    const start = m.index;
    push({ start, end: start + all.length, precision: 'day', build: () => ({ date: { year: Number(y), month: Number(mo), day: Number(d) }, format: (x) => `${pad(x.year, 4)}${sep}${writeNumber(x.month, mo)}${sep}${writeNumber(x.day, d)}` }) });
  }
  // YYYYMMDD (DICOM): only plausible years so long numbers stay numbers.
  const compact = /(?<![\d.])((?:19|20)\d{2})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?![\d])/g;
  while ((m = compact.exec(text))) {
    const [all, y, mo, d] = m as unknown as [string, string, string, string];
    push({ start: m.index, end: m.index + all.length, precision: 'day', build: () => ({ date: { year: Number(y), month: Number(mo), day: Number(d) }, format: (x) => `${pad(x.year, 4)}${pad(x.month, 2)}${pad(x.day, 2)}` }) });
  }
  // D.M.YYYY, D.M.YY (day first, as everywhere dots are used); a space after the dots is common in German.
  const dotted = /(?<![\d.])(\d{1,2})\.( ?)(\d{1,2})\.( ?)(\d{4}|\d{2})(?![\d]|\.\d)/g;
  while ((m = dotted.exec(text))) {
    const [all, d, s1, mo, s2, y] = m as unknown as [string, string, string, string, string, string];
    push({ start: m.index, end: m.index + all.length, precision: 'day', build: () => ({ date: { year: fullYear(y), month: Number(mo), day: Number(d) }, format: (x) => `${writeNumber(x.day, d)}.${s1}${writeNumber(x.month, mo)}.${s2}${writeYear(x.year, y.length)}` }) });
  }
  // D/M/Y or M/D/Y, and D-M-YYYY
  const slashed = /(?<![\d/.])(\d{1,2})([/-])(\d{1,2})\2(\d{4}|\d{2})(?![\d/])/g;
  while ((m = slashed.exec(text))) {
    const [all, a, sep, b, y] = m as unknown as [string, string, string, string, string];
    if (sep === '-' && y.length === 2) continue; // "3-4-12" reads as a range more often than a date
    const first = Number(a);
    const second = Number(b);
    const decides = first > 12 ? 'dmy' : second > 12 ? 'mdy' : undefined;
    push({
      start: m.index, end: m.index + all.length, precision: 'day', ambiguous: decides === undefined, ...(decides ? { decides } : {}),
      build: (order) => {
        const dayFirst = decides ? decides === 'dmy' : order === 'dmy';
        const date = { year: fullYear(y), month: dayFirst ? second : first, day: dayFirst ? first : second };
        return { date, format: (x) => (dayFirst ? `${writeNumber(x.day, a)}${sep}${writeNumber(x.month, b)}${sep}${writeYear(x.year, y.length)}` : `${writeNumber(x.month, a)}${sep}${writeNumber(x.day, b)}${sep}${writeYear(x.year, y.length)}`) };
      },
    });
  }
  // 12 March 2021, 12th of March 2021, 12. März 2021, 12-Mar-2021, 1er mars 2021
  const dayMonthYear = new RegExp(String.raw`(?<![\p{L}\d])(\d{1,2})(${ordinal})(\.?)(\s*(?:of\s+)?|-)(${monthAlternation})(\.?)(,?\s*|-)${yearPart}(?![\d])`, 'giu');
  while ((m = dayMonthYear.exec(text))) {
    const [all, d, ord, dot, gap1, mon, mdot, gap2, y] = m as unknown as string[] as [string, string, string, string, string, string, string, string, string];
    if (!lookupMonth(mon)) continue;
    const writeMonth = monthWriter(mon + mdot);
    const yearText = y.replace("'", '');
    push({ start: m.index, end: m.index + all.length, precision: 'day', build: () => ({ date: { year: fullYear(yearText), month: (lookupMonth(mon) as MonthName).month, day: Number(d) }, format: (x) => `${writeNumber(x.day, d)}${ordinalFor(ord, x.day)}${dot}${gap1}${writeMonth(x.month)}${gap2}${y.startsWith("'") ? "'" : ''}${writeYear(x.year, yearText.length)}` }) });
  }
  // March 12, 2021 / Mar 12 2021 / March 12th, 2021
  const monthDayYear = new RegExp(String.raw`(?<![\p{L}\d])(${monthAlternation})(\.?)(\s+)(\d{1,2})(${ordinal})(,?\s+)${yearPart}(?![\d])`, 'giu');
  while ((m = monthDayYear.exec(text))) {
    const [all, mon, mdot, gap1, d, ord, gap2, y] = m as unknown as [string, string, string, string, string, string, string, string];
    if (!lookupMonth(mon)) continue;
    const writeMonth = monthWriter(mon + mdot);
    const yearText = y.replace("'", '');
    push({ start: m.index, end: m.index + all.length, precision: 'day', build: () => ({ date: { year: fullYear(yearText), month: (lookupMonth(mon) as MonthName).month, day: Number(d) }, format: (x) => `${writeMonth(x.month)}${gap1}${writeNumber(x.day, d)}${ordinalFor(ord, x.day)}${gap2}${y.startsWith("'") ? "'" : ''}${writeYear(x.year, yearText.length)}` }) });
  }
  // March 2021, März 2021, mars 2021 (no day): the middle of the month is shifted.
  const monthYear = new RegExp(String.raw`(?<![\p{L}\d]|\d\.?\s)(${monthAlternation})(\.?)(\s+|-|/)(\d{4})(?![\d])`, 'giu');
  while ((m = monthYear.exec(text))) {
    const [all, mon, mdot, gap, y] = m as unknown as [string, string, string, string, string];
    const month = lookupMonth(mon);
    if (!month) continue;
    const writeMonth = monthWriter(mon + mdot);
    push({ start: m.index, end: m.index + all.length, precision: 'month', build: () => ({ date: { year: Number(y), month: month.month, day: 15 }, format: (x) => `${writeMonth(x.month)}${gap}${pad(x.year, 4)}` }) });
  }
  // MM/YYYY, MM.YYYY
  const numericMonthYear = /(?<![\d/.])(0?[1-9]|1[0-2])([/.])((?:19|20)\d{2})(?![\d/.])/g;
  while ((m = numericMonthYear.exec(text))) {
    const [all, mo, sep, y] = m as unknown as [string, string, string, string];
    push({ start: m.index, end: m.index + all.length, precision: 'month', build: () => ({ date: { year: Number(y), month: Number(mo), day: 15 }, format: (x) => `${writeNumber(x.month, mo)}${sep}${pad(x.year, 4)}` }) });
  }
  // 12.03. (German, no year): two digits each so decimals stay decimals.
  const dayMonthDots = /(?<![\d.])(0[1-9]|[12]\d|3[01])\.(0[1-9]|1[0-2])\.(?!\d)/g;
  while ((m = dayMonthDots.exec(text))) {
    const [all, d, mo] = m as unknown as [string, string, string];
    push({ start: m.index, end: m.index + all.length, precision: 'day-no-year', build: () => ({ date: { year: referenceYear, month: Number(mo), day: Number(d) }, format: (x) => `${pad(x.day, 2)}.${pad(x.month, 2)}.` }) });
  }
  // 12 March / 12. März / 12 mars (no year); the month must be written out or capitalised.
  const dayMonth = new RegExp(String.raw`(?<![\p{L}\d])(\d{1,2})(${ordinal})(\.?)(\s*(?:of\s+)?)(${monthAlternation})(\.?)(?![\p{L}\d])`, 'giu');
  while ((m = dayMonth.exec(text))) {
    const [all, d, ord, dot, gap, mon, mdot] = m as unknown as [string, string, string, string, string, string, string];
    const month = lookupMonth(mon);
    if (!month || !plausibleBareMonth(mon, month)) continue;
    const writeMonth = monthWriter(mon + mdot);
    push({ start: m.index, end: m.index + all.length, precision: 'day-no-year', build: () => ({ date: { year: referenceYear, month: month.month, day: Number(d) }, format: (x) => `${writeNumber(x.day, d)}${ordinalFor(ord, x.day)}${dot}${gap}${writeMonth(x.month)}` }) });
  }
  // March 12 / March 12th (no year)
  const monthDay = new RegExp(String.raw`(?<![\p{L}\d])(${monthAlternation})(\.?)(\s+)(\d{1,2})(${ordinal})(?![\p{L}\d]|[.,]\d|\s*(?:mm|cm|x)\b)`, 'giu');
  while ((m = monthDay.exec(text))) {
    const [all, mon, mdot, gap, d, ord] = m as unknown as [string, string, string, string, string, string];
    const month = lookupMonth(mon);
    if (!month || !plausibleBareMonth(mon, month)) continue;
    const writeMonth = monthWriter(mon + mdot);
    push({ start: m.index, end: m.index + all.length, precision: 'day-no-year', build: () => ({ date: { year: referenceYear, month: month.month, day: Number(d) }, format: (x) => `${writeMonth(x.month)}${gap}${writeNumber(x.day, d)}${ordinalFor(ord, x.day)}` }) });
  }

  // Slash dates whose order the values do not decide follow the text's other slash dates, else day first.
  const votes = candidates.filter((c) => c.decides).map((c) => c.decides);
  const order = options.slashOrder ?? (votes.includes('mdy') && !votes.includes('dmy') ? 'mdy' : 'dmy');

  // Longest candidates first, then left to right; a position is used once.
  candidates.sort((a, b) => b.end - b.start - (a.end - a.start) || a.start - b.start);
  const taken: DateMention[] = [];
  for (const c of candidates) {
    if (taken.some((t) => c.start < t.end && t.start < c.end)) continue;
    const built = c.build(order);
    if (!built || !isValidDate(built.date) || built.date.year < 1850 || built.date.year > 2200) continue;
    taken.push({ start: c.start, end: c.end, date: built.date, precision: c.precision, format: built.format });
  }
  return taken.sort((a, b) => a.start - b.start);
}

/** "May", "Mai", "mars" are also words: alone with a day they count only when capitalised or abbreviated with a dot. */
function plausibleBareMonth(written: string, month: MonthName): boolean {
  const ambiguous = ['may', 'mai', 'mars', 'mar', 'jun', 'jul', 'dec', 'oct', 'sept', 'sep', 'nov', 'aug', 'jan', 'feb', 'apr'];
  if (!ambiguous.includes(written.toLowerCase())) return true;
  return month.full ? /^[A-ZÀ-Þ]/.test(written) : /^[A-ZÀ-Þ]/.test(written);
}

function ordinalFor(original: string, day: number): string {
  if (!original) return '';
  const lower = original.toLowerCase();
  if (['st', 'nd', 'rd', 'th'].includes(lower)) {
    const suffix = day % 10 === 1 && day !== 11 ? 'st' : day % 10 === 2 && day !== 12 ? 'nd' : day % 10 === 3 && day !== 13 ? 'rd' : 'th';
    return original === original.toUpperCase() ? suffix.toUpperCase() : suffix;
  }
  // French: "1er" for the first, "2e"/"2ème" otherwise.
  if (lower === 'er') return day === 1 ? original : 'e';
  return day === 1 ? 'er' : original;
}

/** Shifts every date mention of `text` by `days`, keeping each one's style. */
export function shiftDatesInText(text: string, days: number, options: { referenceYear?: number } = {}): string {
  const mentions = findDates(text, options);
  let out = '';
  let at = 0;
  for (const mention of mentions) {
    out += text.slice(at, mention.start) + mention.format(shiftCalendarDate(mention.date, days));
    at = mention.end;
  }
  return out + text.slice(at);
}
