/**
 * The export manifests: one row per file in the zip, with the indexed
 * attributes of its instance, its size and sha256 and its path. manifest.csv
 * (RFC 4180, CRLF) and manifest.json carry the same rows; both are written
 * row by row (the worker streams them from the frozen list), so these
 * functions render pieces: a header, a row, a tail.
 */

export const manifestKinds = ['dicom', 'report', 'annotation', 'labels'] as const;
export type ManifestKind = (typeof manifestKinds)[number];

export interface ManifestRow {
  path: string;
  kind: ManifestKind;
  patientId: string | null;
  studyInstanceUID: string | null;
  /** YYYY-MM-DD, shifted as stored. */
  studyDate: string | null;
  seriesInstanceUID: string | null;
  seriesNumber: number | null;
  modality: string | null;
  sopInstanceUID: string | null;
  sopClassUID: string | null;
  instanceNumber: number | null;
  transferSyntaxUID: string | null;
  sizeBytes: number;
  sha256: string;
  reportVersion: number | null;
}

/** Column order of manifest.csv (and key order of manifest.json rows). */
export const manifestColumns = [
  'path', 'kind', 'patientId', 'studyInstanceUID', 'studyDate', 'seriesInstanceUID', 'seriesNumber', 'modality',
  'sopInstanceUID', 'sopClassUID', 'instanceNumber', 'transferSyntaxUID', 'sizeBytes', 'sha256', 'reportVersion',
] as const satisfies readonly (keyof ManifestRow)[];

/** An RFC 4180 field: quoted when it holds a comma, quote, line break or edge spaces. */
export function csvField(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvLine(values: readonly (string | number | boolean | null | undefined)[]): string {
  return `${values.map(csvField).join(',')}\r\n`;
}

export function manifestCsvHeader(): string {
  return csvLine(manifestColumns);
}

export function manifestCsvRow(row: ManifestRow): string {
  return csvLine(manifestColumns.map((column) => row[column]));
}

export interface ManifestDescription {
  exportId: string;
  name: string | null;
  /** When the file list was frozen (ISO). */
  frozenAt: string;
  layout: string;
  compression: string;
  selection: { filterQuery: string | null; studies: number };
  counts: { files: number; dicom: number; reports: number; annotations: number; labels: number; dataBytes: number; leftOut: number };
}

/** manifest.json up to the opening of the `files` array. */
export function manifestJsonHead(description: ManifestDescription): string {
  const head = JSON.stringify({ ...description, files: [] }, null, 2);
  // Everything but the closing "[]\n}" of the empty files list: rows follow, then manifestJsonTail().
  return `${head.slice(0, head.lastIndexOf('[]'))}[\n`;
}

/** One row of manifest.json's `files` (null attributes left out); `first` is the first row of the list. */
export function manifestJsonRow(row: ManifestRow, first: boolean): string {
  const compact: Record<string, unknown> = {};
  for (const column of manifestColumns) if (row[column] !== null) compact[column] = row[column];
  return `${first ? '' : ',\n'}    ${JSON.stringify(compact)}`;
}

export function manifestJsonTail(rows: number): string {
  return `${rows > 0 ? '\n' : ''}  ]\n}\n`;
}
