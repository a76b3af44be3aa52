/**
 * The report inside an ORIGINAL (not yet de-identified) DICOM instance: the
 * Basic Profile removes TextValue and person names from SRs, so the report
 * pipeline reads them before de-identification and scrubs them like any
 * report. Text SRs become text (concept names as headings, TEXT, PNAME,
 * DATE, NUM and CODE items, recursively); an Encapsulated PDF hands back its
 * document bytes. Measurement SRs (TID 1500, what OHIF stores) and SRs
 * without text are not reports: they are annotations.
 */
import type { DicomDataset, DicomElement } from '../dicom/dataset';
import { findElement } from '../dicom/dataset';
import { characterSetFor } from '../dicom/character-set';
import type { CharacterSet } from '../dicom/character-set';
import { parsePart10 } from '../dicom/parse-part10';
import { asciiValue, valueBytes } from '../dicom/values';

/** Tags by keyword, as the SR module names them. */
const T = {
  SOPClassUID: 0x00080016,
  SpecificCharacterSet: 0x00080005,
  CodeMeaning: 0x00080104,
  MeasurementUnitsCodeSequence: 0x004008ea,
  ValueType: 0x0040a040,
  ConceptNameCodeSequence: 0x0040a043,
  DateTime: 0x0040a120,
  Date: 0x0040a121,
  PersonName: 0x0040a123,
  TextValue: 0x0040a160,
  ConceptCodeSequence: 0x0040a168,
  MeasuredValueSequence: 0x0040a300,
  NumericValue: 0x0040a30a,
  ContentTemplateSequence: 0x0040a504,
  ContentSequence: 0x0040a730,
  TemplateIdentifier: 0x0040db00,
  EncapsulatedDocument: 0x00420011,
  MIMETypeOfEncapsulatedDocument: 0x00420012,
} as const;

export const srSopClasses: readonly string[] = [
  '1.2.840.10008.5.1.4.1.1.88.11', // Basic Text SR
  '1.2.840.10008.5.1.4.1.1.88.22', // Enhanced SR
  '1.2.840.10008.5.1.4.1.1.88.33', // Comprehensive SR
  '1.2.840.10008.5.1.4.1.1.88.34', // Comprehensive 3D SR
  '1.2.840.10008.5.1.4.1.1.88.35', // Extensible SR
];
export const encapsulatedPdfSopClass = '1.2.840.10008.5.1.4.1.1.104.1';

export function isReportSopClass(sopClassUid: string): boolean {
  return srSopClasses.includes(sopClassUid) || sopClassUid === encapsulatedPdfSopClass;
}

export type DicomReport =
  | { kind: 'sr'; text: string; personNames: string[] }
  | { kind: 'pdf'; document: Uint8Array };

interface Reader {
  bytes: Uint8Array;
  charset: CharacterSet;
}

function text(reader: Reader, element: DicomElement | undefined): string {
  if (!element || element.valueLength === 0) return '';
  return reader.charset.decode(valueBytes(reader.bytes, element)).replace(/[\0 ]+$/, '').trim();
}

function codeMeaning(reader: Reader, elements: readonly DicomElement[], tag: number): string {
  const item = findElement(elements, tag)?.items?.[0];
  return item ? text(reader, findElement(item.elements, T.CodeMeaning)) : '';
}

/** Formats a DICOM DA (YYYYMMDD) as YYYY-MM-DD so the scrubber shifts it like any written date. */
function readableDate(value: string): string {
  const m = /^(\d{4})(\d{2})(\d{2})/.exec(value);
  return m ? `${m[1]}-${m[2]}-${m[3]}` : value;
}

function contentLines(reader: Reader, elements: readonly DicomElement[], depth: number, out: string[], names: string[]): void {
  const items = findElement(elements, T.ContentSequence)?.items ?? [];
  for (const item of items) {
    const type = asciiValue(reader.bytes, findElement(item.elements, T.ValueType) ?? ({ valueOffset: 0, valueLength: 0 } as DicomElement));
    const concept = codeMeaning(reader, item.elements, T.ConceptNameCodeSequence);
    const label = concept ? `${concept}: ` : '';
    switch (type) {
      case 'CONTAINER':
        if (concept) out.push('', concept.toUpperCase());
        break;
      case 'TEXT': {
        const value = text(reader, findElement(item.elements, T.TextValue));
        if (value) out.push(`${label}${value}`);
        break;
      }
      case 'PNAME': {
        const value = text(reader, findElement(item.elements, T.PersonName));
        if (value) {
          names.push(value);
          out.push(`${label}${value.split('=')[0]?.split('^').filter(Boolean).reverse().join(' ') ?? ''}`);
        }
        break;
      }
      case 'DATE':
      case 'DATETIME': {
        const value = text(reader, findElement(item.elements, type === 'DATE' ? T.Date : T.DateTime));
        if (value) out.push(`${label}${readableDate(value)}`);
        break;
      }
      case 'NUM': {
        const measured = findElement(item.elements, T.MeasuredValueSequence)?.items?.[0];
        if (measured) out.push(`${label}${text(reader, findElement(measured.elements, T.NumericValue))} ${codeMeaning(reader, measured.elements, T.MeasurementUnitsCodeSequence)}`.trimEnd());
        break;
      }
      case 'CODE': {
        const value = codeMeaning(reader, item.elements, T.ConceptCodeSequence);
        if (value) out.push(`${label}${value}`);
        break;
      }
      default:
        break;
    }
    if (depth < 32) contentLines(reader, item.elements, depth + 1, out, names);
  }
}

function isMeasurementReport(reader: Reader, dataset: DicomDataset): boolean {
  const template = findElement(dataset.elements, T.ContentTemplateSequence)?.items?.[0];
  return template ? asciiValue(reader.bytes, findElement(template.elements, T.TemplateIdentifier) ?? ({ valueOffset: 0, valueLength: 0 } as DicomElement)) === '1500' : false;
}

/** The report of an original SR or Encapsulated PDF instance, or undefined when it holds none. */
export function dicomReport(part10: Uint8Array): DicomReport | undefined {
  const parsed = parsePart10(part10);
  const { dataset } = parsed;
  const bytes = dataset.bytes;
  const sopClass = findElement(dataset.elements, T.SOPClassUID);
  const sopClassUid = sopClass ? asciiValue(bytes, sopClass) : '';
  const charsetElement = findElement(dataset.elements, T.SpecificCharacterSet);
  const reader: Reader = { bytes, charset: characterSetFor(charsetElement ? asciiValue(bytes, charsetElement) : undefined) };
  if (sopClassUid === encapsulatedPdfSopClass) {
    const mime = findElement(dataset.elements, T.MIMETypeOfEncapsulatedDocument);
    const document = findElement(dataset.elements, T.EncapsulatedDocument);
    if (!document || (mime && !/pdf/i.test(asciiValue(bytes, mime)))) return undefined;
    let data = valueBytes(bytes, document);
    // OB is padded to even length with a NUL after %%EOF.
    while (data.length > 0 && data[data.length - 1] === 0) data = data.subarray(0, data.length - 1);
    return { kind: 'pdf', document: data };
  }
  if (!srSopClasses.includes(sopClassUid) || isMeasurementReport(reader, dataset)) return undefined;
  const lines: string[] = [];
  const names: string[] = [];
  const title = codeMeaning(reader, dataset.elements, T.ConceptNameCodeSequence);
  if (title) lines.push(title.toUpperCase());
  contentLines(reader, dataset.elements, 0, lines, names);
  const hasText = lines.some((l) => l.trim() !== '' && l !== title.toUpperCase());
  if (!hasText) return undefined;
  return { kind: 'sr', text: lines.join('\n').replace(/\n{3,}/g, '\n\n').trim(), personNames: [...new Set(names)] };
}
