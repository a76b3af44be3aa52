/**
 * What a cohort export holds and how its zip is laid out: the options of
 * `POST /api/exports`, their defaults, and the states an export goes through.
 * The API validates the wire form (zod) into these values; the worker and
 * the zip layout read them.
 */
import { segmentationSopClass } from '../annotations/segmentation-document';

export const exportLayouts = ['patient/study/series', 'study'] as const;
export type ExportLayout = (typeof exportLayouts)[number];

export const exportCompressions = ['store', 'deflate'] as const;
export type ExportCompression = (typeof exportCompressions)[number];

export interface ExportOptions {
  /** The latest de-identified report of each study, as text. */
  reports: boolean;
  /** Annotation SRs: as DICOM in their series folder and as JSON; false leaves SR instances out. */
  annotations: boolean;
  /** labels.csv, once labels are stored in the lake (a label source exists). */
  labels: boolean;
  layout: ExportLayout;
  /** `store` copies files as they are (DICOM pixel data barely deflates); `deflate` compresses every entry. */
  compression: ExportCompression;
  /** Refuse (or fail) an export whose size passes this. */
  maxSizeBytes: number | null;
}

export const defaultExportOptions: ExportOptions = {
  reports: true,
  annotations: true,
  labels: false,
  layout: 'patient/study/series',
  compression: 'store',
  maxSizeBytes: null,
};

/** States stored in the database; `expired` is only ever derived (a done export past its expiry). */
export const storedExportStates = ['queued', 'running', 'done', 'failed', 'cancelled'] as const;
export type StoredExportState = (typeof storedExportStates)[number];
export type ExportState = StoredExportState | 'expired';

export function isActiveExportState(state: StoredExportState): boolean {
  return state === 'queued' || state === 'running';
}

/** The state a user sees: a finished export whose link has passed its expiry is `expired`. */
export function visibleExportState(state: StoredExportState, expiresAt: Date | null, now: Date = new Date()): ExportState {
  if (state === 'done' && expiresAt && expiresAt.getTime() <= now.getTime()) return 'expired';
  return state;
}

/**
 * Progress in whole percent: data bytes of the entries written so far over
 * all data bytes; 100 only once the zip is complete, 0 before the list is frozen.
 */
export function exportPercent(state: StoredExportState, bytesDone: number, totalBytes: number | null, filesDone: number, totalFiles: number | null): number {
  if (state === 'done') return 100;
  if (totalBytes === null || totalFiles === null) return 0;
  const fraction = totalBytes > 0 ? bytesDone / totalBytes : totalFiles > 0 ? filesDone / totalFiles : 0;
  return Math.max(0, Math.min(99, Math.floor(fraction * 100)));
}

/**
 * SOP classes of the SR family (PS3.4 Annex O, "1.2.840.10008.5.1.4.1.1.88.x"):
 * measurement reports saved by the viewer, key object selections, CAD results;
 * and segmentations (SEG), which the viewer saves as annotations too.
 */
export function isAnnotationSopClass(sopClassUid: string | null | undefined): boolean {
  return typeof sopClassUid === 'string' && (sopClassUid.startsWith('1.2.840.10008.5.1.4.1.1.88.') || sopClassUid === segmentationSopClass);
}

/** The same test in SQL over a column. */
export function annotationSopClassSql(column: string): string {
  return `(${column} LIKE '1.2.840.10008.5.1.4.1.1.88.%' OR ${column} = '${segmentationSopClass}')`;
}
