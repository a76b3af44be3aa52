/**
 * Where each file goes inside an export zip. Folder and file names are built
 * from pseudonymous IDs and the lake's remapped UIDs only, so they carry no
 * PHI and never collide; anything else in a name is replaced.
 *
 *   patient/study/series:  {patient}/{study}/{series}/{sop}.dcm
 *                          {patient}/{study}/report.txt
 *                          {patient}/{study}/annotations/{sop}.json
 *   study (flat):          {study}/{sop}.dcm, {study}/report.txt, {study}/annotations/{sop}.json
 *   top level:             README.txt, manifest.csv, manifest.json, labels.csv
 */
import type { ExportLayout } from './export-options';

export const readmePath = 'README.txt';
export const manifestCsvPath = 'manifest.csv';
export const manifestJsonPath = 'manifest.json';
export const labelsCsvPath = 'labels.csv';

export interface InstanceIds {
  patientId: string;
  studyUid: string;
  seriesUid: string;
  sopUid: string;
}

/** A path segment: letters, digits, dot, dash, underscore (UIDs and MLP- pseudonyms pass unchanged). */
export function safeSegment(value: string): string {
  const cleaned = value.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_');
  return cleaned.length > 0 ? cleaned.slice(0, 128) : '_';
}

function studyFolder(layout: ExportLayout, ids: Pick<InstanceIds, 'patientId' | 'studyUid'>): string {
  return layout === 'study' ? safeSegment(ids.studyUid) : `${safeSegment(ids.patientId)}/${safeSegment(ids.studyUid)}`;
}

export function dicomPath(layout: ExportLayout, ids: InstanceIds): string {
  if (layout === 'study') return `${safeSegment(ids.studyUid)}/${safeSegment(ids.sopUid)}.dcm`;
  return `${studyFolder(layout, ids)}/${safeSegment(ids.seriesUid)}/${safeSegment(ids.sopUid)}.dcm`;
}

export function reportPath(layout: ExportLayout, ids: Pick<InstanceIds, 'patientId' | 'studyUid'>): string {
  return `${studyFolder(layout, ids)}/report.txt`;
}

export function annotationPath(layout: ExportLayout, ids: InstanceIds): string {
  return `${studyFolder(layout, ids)}/annotations/${safeSegment(ids.sopUid)}.json`;
}

/** Bytes a zip spends on an entry besides its data: local header, data descriptor, central directory record (ZIP64 extras included). */
export function entryOverheadBytes(pathBytes: number): number {
  return 30 + pathBytes + 20 + 24 + 46 + pathBytes + 28;
}

/** A typical path length of the layout, for estimates before the list is frozen. */
export function typicalPathBytes(layout: ExportLayout): number {
  // MLP- pseudonym (16) and 2.25 UIDs (about 44 characters each), separators and extension.
  return layout === 'study' ? 44 + 1 + 44 + 4 : 16 + 1 + 44 + 1 + 44 + 1 + 44 + 4;
}

export interface ZipEstimateInput {
  layout: ExportLayout;
  instances: number;
  dataBytes: number;
  reports: number;
  reportBytes: number;
  annotations: number;
}

/** Annotation JSON: the SR's header and content tree twice (DICOM JSON and the flattened observations). */
const annotationJsonBytes = 32 * 1024;
/** One row in manifest.csv plus its object in manifest.json. */
const manifestRowBytes = 900;

/** The zip's size with `store` (deflate only shrinks it): data, per-entry overhead, manifests, README. */
export function estimateZipBytes(input: ZipEstimateInput): number {
  const files = input.instances + input.reports + input.annotations;
  const path = typicalPathBytes(input.layout);
  const entries = files + 3;
  return Math.round(
    input.dataBytes + input.reportBytes + input.annotations * annotationJsonBytes + files * manifestRowBytes + 16 * 1024 + entries * entryOverheadBytes(path) + 98,
  );
}
