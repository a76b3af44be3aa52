/**
 * README.txt of an export zip: what the folders and files are, which
 * studies were asked for, what is inside, and the de-identification the
 * files went through, as their own headers declare it (Patient Identity
 * Removed, De-identification Method and its codes, Longitudinal Temporal
 * Information Modified). Rendered from frozen values only, so a resumed or
 * re-run export writes the same text.
 */
import { formatBytes } from '../byte-size';
import type { ExportCompression, ExportLayout } from './export-options';
import { labelsCsvPath, manifestCsvPath, manifestJsonPath } from './zip-layout';

export interface DeidCode {
  code: string;
  scheme: string;
  meaning: string;
}

/** The distinct de-identification declarations found in the exported instances' headers. */
export interface DeidSummary {
  patientIdentityRemoved: string[];
  methods: string[];
  codes: DeidCode[];
  longitudinalTemporalInformationModified: string[];
  /** Instances whose header declares no de-identification at all (should be 0). */
  undeclared: number;
}

export interface LeftOutFile {
  path: string;
  code: string;
  message: string;
}

export interface ReadmeInput {
  exportId: string;
  name: string | null;
  frozenAt: string;
  layout: ExportLayout;
  compression: ExportCompression;
  filterQuery: string | null;
  listedStudies: number;
  rerunOf: string | null;
  counts: { patients: number; studies: number; dicom: number; reports: number; annotations: number; labels: number; dataBytes: number };
  deidentification: DeidSummary;
  leftOut: LeftOutFile[];
}

/** PS3.16 CID 7050 codes medlake's de-identification writes, explained for readers without the standard at hand. */
const codeExplanations: Record<string, string> = {
  '113100': 'names, IDs, addresses, free-text comments, private attributes and other identifying elements removed or replaced (PS3.15 Annex E)',
  '113101': 'burned-in text in pixel data was checked (images flagged as carrying it are held back from the lake)',
  '113105': 'descriptions kept, cleaned of identifying text',
  '113106': 'real dates kept',
  '113107': 'dates shifted by a fixed, per-patient number of days: intervals between a patient\'s studies are true',
  '113108': 'age, sex, size and weight kept',
  '113109': 'device identity kept',
  '113110': 'UIDs kept',
  '113111': 'safe private attributes kept',
  '113112': 'institution identity kept',
};

/** "5 MiB (5242880 bytes)": readable, and exact for whoever checks the files. */
function sizeLine(bytes: number): string {
  return bytes < 1024 ? `${bytes} bytes` : `${formatBytes(bytes)} (${bytes} bytes)`;
}

function layoutLines(layout: ExportLayout): string[] {
  const study = layout === 'study' ? '{study}' : '{patient}/{study}';
  return [
    ...(layout === 'study'
      ? ['  {study}/{sop}.dcm                     a DICOM file as archived in the lake']
      : ['  {patient}/{study}/{series}/{sop}.dcm  a DICOM file as archived in the lake']),
    `  ${`${study}/report.txt`.padEnd(38)}the study's report (de-identified text)`,
    `  ${`${study}/annotations/{sop}.json`.padEnd(38)}an annotation SR as JSON (its DICOM file is in the series folder)`,
    `  ${manifestCsvPath.padEnd(38)}one row per file: IDs, attributes, size, sha256, path`,
    `  ${manifestJsonPath.padEnd(38)}the same rows as JSON, with this export's description`,
    `  ${labelsCsvPath.padEnd(38)}labels placed on studies, series or instances (when exported)`,
    '',
    '{patient} is the pseudonymous patient ID (MLP-...), {study}, {series} and {sop} are the',
    "lake's Study, Series and SOP Instance UIDs: they were replaced on arrival (2.25.... UIDs",
    'derived with a secret key), so references between files (e.g. an SR to its images) hold.',
  ];
}

export function exportReadme(input: ReadmeInput): string {
  const d = input.deidentification;
  const lines: string[] = [
    `medlake export ${input.exportId}${input.name ? ` - ${input.name}` : ''}`,
    '',
    `File list frozen at ${input.frozenAt}${input.rerunOf ? ` (a re-run of export ${input.rerunOf}: the same file list)` : ''}.`,
    '',
    'SELECTION',
    `  filter:         ${input.filterQuery === null ? '(none)' : input.filterQuery === '' ? '(every study)' : input.filterQuery}`,
    `  listed studies: ${input.listedStudies}`,
    '',
    'CONTENTS',
    `  patients:       ${input.counts.patients}`,
    `  studies:        ${input.counts.studies}`,
    `  DICOM files:    ${input.counts.dicom} (${sizeLine(input.counts.dataBytes)} of data)`,
    `  reports:        ${input.counts.reports}`,
    `  annotation SRs: ${input.counts.annotations}`,
    `  labels:         ${input.counts.labels}`,
    `  compression:    ${input.compression === 'store' ? 'none (files stored as they are)' : 'deflate'}`,
    '',
    'LAYOUT',
    ...layoutLines(input.layout),
    '',
    'INTEGRITY',
    `  Every file's sha256 is in ${manifestCsvPath}; check them with, for example,`,
    `  python3 -c "import csv,hashlib,sys; [print('BAD', r['path']) for r in csv.DictReader(open('${manifestCsvPath}')) if hashlib.sha256(open(r['path'],'rb').read()).hexdigest() != r['sha256']]"`,
    '  The DICOM files are byte for byte the de-identified files of the archive.',
    '',
    'DE-IDENTIFICATION',
    '  Every file was de-identified when it arrived in the lake, before it was stored. As the',
    '  DICOM headers of the exported files declare it:',
    `  Patient Identity Removed (0012,0062):       ${d.patientIdentityRemoved.join(', ') || '(not declared)'}`,
    `  De-identification Method (0012,0063):      ${d.methods.join(' | ') || '(not declared)'}`,
    '  De-identification Method Code Sequence (0012,0064):',
    ...(d.codes.length ? d.codes.map((c) => `    ${c.scheme} ${c.code} ${c.meaning}${codeExplanations[c.code] ? `: ${codeExplanations[c.code]}` : ''}`) : ['    (not declared)']),
    `  Longitudinal Temporal Information Modified (0028,0303): ${d.longitudinalTemporalInformationModified.join(', ') || '(not declared)'}`,
    ...(d.undeclared > 0 ? [`  ${d.undeclared} file(s) declare no de-identification in their header.`] : []),
    '  Patient IDs are keyed pseudonyms: the same patient has the same ID in every export of this',
    '  lake. Reports were scrubbed of names, IDs, dates (shifted like the images), phone numbers',
    '  and addresses before they were stored.',
  ];
  if (input.leftOut.length > 0) {
    lines.push('', `LEFT OUT (${input.leftOut.length})`, ...input.leftOut.map((f) => `  ${f.path}: ${f.message} [${f.code}]`));
  }
  lines.push('');
  return lines.join('\r\n');
}
