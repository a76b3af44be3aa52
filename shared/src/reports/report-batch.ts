/**
 * A CSV batch of reports: one row per report, with the accession number
 * and/or the patient ID (+ issuer) and the study date, and the text. Header
 * names are matched loosely (case, accents, spaces, punctuation ignored; the
 * English, German and French names of docs/reports.md), the delimiter is
 * detected (comma, semicolon as Excel writes in Europe, tab), quoted fields
 * may span lines, and the encoding is detected (report-decoding.ts).
 * Several text columns (findings, impression…) are joined under their
 * headings. Problems are per row, as sentences without the row's values.
 */
import { parse } from 'csv-parse/sync';
import { foldForSearch } from './fold-text';
import type { CalendarDate } from './report-dates';
import { isValidDate } from './report-dates';
import type { ReportEncoding } from './report-decoding';
import { decodeReportBytes } from './report-decoding';

export type BatchField = 'accession' | 'patientId' | 'issuer' | 'studyDate' | 'text';

/** Accepted header names per field, folded (lower case, no accents, letters and digits only). */
export const batchHeaderNames: Record<Exclude<BatchField, 'text'>, readonly string[]> = {
  accession: ['accession', 'accessionnumber', 'accessionno', 'accessionnr', 'accno', 'acc', 'accnumber', 'accession#', 'auftragsnummer', 'auftragsnr', 'anforderungsnummer', 'untersuchungsnummer', 'numeroaccession', 'numerodaccession', 'numerodexamen', 'numeroexamen', 'nexamen'],
  patientId: ['patientid', 'patid', 'pid', 'mrn', 'medicalrecordnumber', 'patientnumber', 'patientno', 'patientnr', 'patientennummer', 'patientenid', 'patientennr', 'idpatient', 'ipp', 'numeropatient', 'npatient', 'identifiantpatient'],
  issuer: ['issuer', 'issuerofpatientid', 'patientidissuer', 'assigningauthority', 'issuerofpatient', 'herausgeber', 'emetteur'],
  studyDate: ['studydate', 'examdate', 'examinationdate', 'dateofexam', 'dateofstudy', 'studydatetime', 'untersuchungsdatum', 'datumderuntersuchung', 'untersuchungstag', 'dateexamen', 'datedelexamen', 'datedexamen', 'date', 'datum'],
};

/** Text columns, in the order they are joined when several are present. */
export const batchTextHeaderNames: readonly string[] = [
  'report', 'reporttext', 'text', 'fulltext', 'body', 'befund', 'befundtext', 'bericht', 'compterendu', 'cr', 'texte', 'rapport',
  'history', 'clinicalhistory', 'indication', 'anamnese', 'fragestellung', 'indicationclinique',
  'technique', 'technik',
  'findings', 'befunde', 'resultat', 'resultats',
  'impression', 'conclusion', 'beurteilung', 'zusammenfassung', 'summary',
];

export function foldHeader(name: string): string {
  return foldForSearch(name).replace(/#/g, 'no').replace(/[^a-z0-9]/g, '').replace(/^n(?=o?(patient|examen))/, 'n');
}

export interface BatchRow {
  /** 1 = the first row after the header. */
  rowNumber: number;
  accession?: string;
  patientId?: string;
  issuer?: string;
  /** YYYY-MM-DD */
  studyDate?: string;
  text: string;
}

export interface BatchProblem {
  rowNumber: number;
  code: 'no_text' | 'no_link_key' | 'bad_date' | 'ambiguous_date' | 'patient_without_date';
  message: string;
}

export interface ParsedBatch {
  encoding: ReportEncoding;
  delimiter: string;
  columns: { field: BatchField; header: string }[];
  rows: BatchRow[];
  problems: BatchProblem[];
}

export class BatchError extends Error {
  constructor(readonly code: 'not_csv' | 'no_text_column' | 'no_key_column' | 'empty', message: string) {
    super(message);
    this.name = 'BatchError';
  }
}

function detectDelimiter(text: string): string {
  const firstLine = text.split(/\r?\n/, 1)[0] ?? '';
  const counts = [',', ';', '\t', '|'].map((d) => ({ d, n: firstLine.split(d).length - 1 }));
  counts.sort((a, b) => b.n - a.n);
  return counts[0] && counts[0].n > 0 ? counts[0].d : ',';
}

function fieldOf(header: string): BatchField | undefined {
  const folded = foldHeader(header);
  for (const field of Object.keys(batchHeaderNames) as Exclude<BatchField, 'text'>[]) {
    if (batchHeaderNames[field].includes(folded)) return field;
  }
  return batchTextHeaderNames.includes(folded) ? 'text' : undefined;
}

/** Whether a decoded file's first line looks like a report batch header. */
export function looksLikeReportBatch(text: string): boolean {
  const delimiter = detectDelimiter(text);
  const headers = (text.replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0] ?? '').split(delimiter).map((h) => h.trim().replace(/^"|"$/g, ''));
  const fields = headers.map(fieldOf);
  return fields.includes('text') && (fields.includes('accession') || fields.includes('patientId'));
}

type DateCandidate = { kind: 'fixed'; date: CalendarDate } | { kind: 'slashed'; a: number; b: number; year: number } | { kind: 'invalid' };

function dateCandidate(value: string): DateCandidate {
  const v = value.trim().replace(/\s+\d{1,2}:\d{2}(:\d{2})?(\.\d+)?$/, '').replace(/T\d{2}:?\d{2}.*$/, '');
  let m = /^(\d{4})-?(\d{2})-?(\d{2})$/.exec(v) ?? /^(\d{4})[./](\d{1,2})[./](\d{1,2})$/.exec(v);
  if (m) return { kind: 'fixed', date: { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) } };
  m = /^(\d{1,2})\.(\d{1,2})\.(\d{4}|\d{2})$/.exec(v);
  if (m) return { kind: 'fixed', date: { year: fullYear(m[3] as string), month: Number(m[2]), day: Number(m[1]) } };
  m = /^(\d{1,2})[/-](\d{1,2})[/-](\d{4}|\d{2})$/.exec(v);
  if (m) return { kind: 'slashed', a: Number(m[1]), b: Number(m[2]), year: fullYear(m[3] as string) };
  return { kind: 'invalid' };
}

function fullYear(written: string): number {
  if (written.length === 4) return Number(written);
  const yy = Number(written);
  return yy >= 30 ? 1900 + yy : 2000 + yy;
}

const iso = (d: CalendarDate) => `${String(d.year).padStart(4, '0')}-${String(d.month).padStart(2, '0')}-${String(d.day).padStart(2, '0')}`;

export function parseReportBatch(bytes: Uint8Array): ParsedBatch {
  const { text, encoding } = decodeReportBytes(bytes);
  if (text.trim() === '') throw new BatchError('empty', 'The CSV file is empty.');
  const delimiter = detectDelimiter(text);
  let records: string[][];
  try {
    records = parse(text, { delimiter, relax_column_count: true, relax_quotes: true, skip_empty_lines: true, bom: true, trim: false }) as string[][];
  } catch (error) {
    throw new BatchError('not_csv', `The file could not be read as CSV (${error instanceof Error ? error.message.replace(/:.*$/s, '') : 'unknown error'}).`);
  }
  const [header, ...data] = records;
  if (!header) throw new BatchError('empty', 'The CSV file has no header row.');
  const columns = header.map((h, index) => ({ index, header: h.trim(), field: fieldOf(h) }));
  const textColumns = columns.filter((c) => c.field === 'text').sort((a, b) => batchTextHeaderNames.indexOf(foldHeader(a.header)) - batchTextHeaderNames.indexOf(foldHeader(b.header)));
  if (textColumns.length === 0) throw new BatchError('no_text_column', `No report text column: name one of ${['report', 'text', 'findings', 'impression', 'Befund', 'compte rendu'].join(', ')} (see docs/reports.md).`);
  const column = (field: BatchField) => columns.find((c) => c.field === field);
  if (!column('accession') && !column('patientId')) throw new BatchError('no_key_column', 'No accession number or patient ID column: reports cannot be linked to their studies (see docs/reports.md).');

  // Slash dates are day-first unless some row proves month-first (or the other way round).
  const dateColumn = column('studyDate');
  const candidates = data.map((row) => (dateColumn && (row[dateColumn.index] ?? '').trim() ? dateCandidate(row[dateColumn.index] as string) : undefined));
  const dayFirstSeen = candidates.some((c) => c?.kind === 'slashed' && c.a > 12);
  const monthFirstSeen = candidates.some((c) => c?.kind === 'slashed' && c.b > 12);

  const rows: BatchRow[] = [];
  const problems: BatchProblem[] = [];
  data.forEach((record, i) => {
    const rowNumber = i + 1;
    const value = (field: BatchField) => {
      const c = column(field);
      const v = c ? (record[c.index] ?? '').trim() : '';
      return v === '' ? undefined : v;
    };
    const parts = textColumns
      .map((c) => ({ header: c.header, value: (record[c.index] ?? '').trim() }))
      .filter((p) => p.value !== '');
    const reportText = parts.length === 1 ? (parts[0] as { value: string }).value : parts.map((p) => `${p.header.toUpperCase()}:\n${p.value}`).join('\n\n');
    if (!reportText) {
      problems.push({ rowNumber, code: 'no_text', message: `Row ${rowNumber} has no report text.` });
      return;
    }
    const accession = value('accession');
    const patientId = value('patientId');
    if (!accession && !patientId) {
      problems.push({ rowNumber, code: 'no_link_key', message: `Row ${rowNumber} has neither an accession number nor a patient ID.` });
      return;
    }
    let studyDate: string | undefined;
    const candidate = candidates[i];
    if (candidate) {
      let date: CalendarDate | undefined;
      if (candidate.kind === 'fixed') date = candidate.date;
      else if (candidate.kind === 'slashed') {
        const unambiguous = candidate.a > 12 || candidate.b > 12 || candidate.a === candidate.b;
        if (!unambiguous && dayFirstSeen === monthFirstSeen) {
          problems.push({ rowNumber, code: 'ambiguous_date', message: `Row ${rowNumber}: the study date could be day/month or month/day; write dates as YYYY-MM-DD.` });
          return;
        }
        const dayFirst = candidate.a > 12 || (candidate.b <= 12 && dayFirstSeen);
        date = { year: candidate.year, month: dayFirst ? candidate.b : candidate.a, day: dayFirst ? candidate.a : candidate.b };
      }
      if (!date || !isValidDate(date)) {
        problems.push({ rowNumber, code: 'bad_date', message: `Row ${rowNumber}: the study date is not a date (use YYYY-MM-DD, YYYYMMDD or DD.MM.YYYY).` });
        return;
      }
      studyDate = iso(date);
    }
    if (!accession && !studyDate) {
      problems.push({ rowNumber, code: 'patient_without_date', message: `Row ${rowNumber} has a patient ID but no study date: give the study date or the accession number.` });
      return;
    }
    const issuer = value('issuer');
    rows.push({ rowNumber, text: reportText, ...(accession ? { accession } : {}), ...(patientId ? { patientId } : {}), ...(issuer ? { issuer } : {}), ...(studyDate ? { studyDate } : {}) });
  });
  return { encoding, delimiter, columns: columns.filter((c) => c.field).map((c) => ({ field: c.field as BatchField, header: c.header })), rows, problems };
}
