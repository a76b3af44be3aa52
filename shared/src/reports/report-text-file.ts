/**
 * A report uploaded as a plain text file: its study is named in the first
 * lines, the way report systems print their header ("Accession: A123",
 * "MRN: 4711  Exam date: 14.03.2021", "Auftragsnummer: …", "IPP : …"), or by
 * the file name when it is an accession number ("A10001.txt"). The header
 * lines stay in the text; they are scrubbed like the rest.
 */
import { findDates, isoDate } from './report-dates';

export interface TextReportKeys {
  accession?: string;
  patientId?: string;
  issuer?: string;
  /** YYYY-MM-DD (original, not shifted). */
  studyDate?: string;
}

const headerLines = 20;
const idValue = String.raw`([A-Za-z0-9][A-Za-z0-9\-/.]*[A-Za-z0-9]|[0-9])`;

const labels: Record<'accession' | 'patientId' | 'issuer', string> = {
  accession: String.raw`Acc(?:ession)?\.?(?:\s*(?:No\.?|Nr\.?|Number|#))?|Auftrags(?:nummer|-Nr\.?)|Anforderungsnummer|N°\s*d['’]examen|Num[ée]ro\s+d['’]examen`,
  patientId: String.raw`MRN|Patient\s*ID|Pat(?:ient)?\.?-?\s*(?:ID|Nr\.?|No\.?)|PID|Patientennummer|Patienten-?ID|IPP|N°\s*(?:de\s+)?(?:dossier|patient)`,
  issuer: String.raw`Issuer(?:\s+of\s+Patient\s+ID)?|Assigning\s+authority`,
};
const dateLabel = String.raw`(?:Study|Exam(?:ination)?)\s*date|Date\s+of\s+(?:service|exam(?:ination)?|study)|Untersuchungsdatum|Untersuchung\s+vom|Examen\s+du|Date\s+(?:de\s+l['’])?examen|Exam(?:ination)?(?=\s*[:\d])`;

export function textReportKeys(text: string, fileName?: string): TextReportKeys {
  const head = text.split(/\r?\n/).slice(0, headerLines).join('\n');
  const keys: TextReportKeys = {};
  for (const field of ['accession', 'patientId', 'issuer'] as const) {
    const m = new RegExp(String.raw`(?<![\p{L}])(?:${labels[field]})\s*[:#]?\s*${field === 'issuer' ? '([^\\s,;]+)' : idValue}`, 'iu').exec(head);
    const value = m?.[1];
    if (value && (field === 'issuer' || /\d/.test(value))) keys[field] = value;
  }
  const label = new RegExp(String.raw`(?<![\p{L}])(?:${dateLabel})\s*[:]?\s*`, 'giu');
  let m: RegExpExecArray | null;
  while (!keys.studyDate && (m = label.exec(head))) {
    const after = m.index + m[0].length;
    const mention = findDates(head.slice(after, after + 40)).find((d) => d.start <= 2 && d.precision === 'day');
    if (mention) keys.studyDate = isoDate(mention.date);
  }
  if (!keys.accession && fileName) {
    const stem = fileName.replace(/^.*[\\/]/, '').replace(/\.[^.]*$/, '').replace(/^(?:acc(?:ession)?[-_ ]?)/i, '');
    if (/^[A-Za-z0-9][A-Za-z0-9-]{2,19}$/.test(stem) && /\d/.test(stem)) keys.accession = stem;
  }
  return keys;
}
