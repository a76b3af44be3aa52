/**
 * Annotation sets and their versions as the annotation API answers them
 * (functions/src/api/annotations.ts, docs/annotations.md): the wire shapes
 * the store builds and the web app reads.
 */

export interface Author {
  sub: string;
  name: string | null;
}

/** viewer: saved from the viewer (STOW-RS); api: written as JSON; restore: an old version again; upload: an SR or SEG uploaded for a study of the lake. */
export type VersionSource = 'viewer' | 'api' | 'restore' | 'upload';

/** What a set's versions are: measurement reports (TID 1500 SRs) or segmentations (DICOM SEG). */
export type AnnotationKind = 'measurements' | 'segmentation';

export interface VersionSummary {
  version: number;
  parentVersion: number | null;
  restoredFrom: number | null;
  source: VersionSource;
  /** Viewer saves: the versioning rule that placed the save in this set. */
  rule: string | null;
  author: Author;
  message: string | null;
  createdAt: string;
  sopInstanceUID: string;
  seriesInstanceUID: string;
  sopClassUID: string;
  measurementCount: number;
  /** Segments of a segmentation version (0 for measurement reports). */
  segmentCount: number;
  /** Measurement labels, or a segmentation's segment labels. */
  labels: string[];
}

export interface AnnotationSetSummary {
  setId: string;
  studyInstanceUID: string;
  /** The image series the set is about, when it was given. */
  seriesInstanceUID: string | null;
  kind: AnnotationKind;
  name: string;
  author: Author;
  currentVersion: number;
  createdAt: string;
  updatedAt: string;
  latest: VersionSummary;
}

/** A version of a set the viewer shows this user instead of the latest, until it expires. */
export interface ViewerSelection {
  setId: string;
  version: number;
  expiresAt: string;
}
