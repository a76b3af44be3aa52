/**
 * Annotation sets and their versions as the annotation API answers them
 * (functions/src/api/annotations.ts, docs/annotations.md): the wire shapes
 * the store builds and the web app reads.
 */

export interface Author {
  sub: string;
  name: string | null;
}

export type VersionSource = 'viewer' | 'api' | 'restore';

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
  labels: string[];
}

export interface AnnotationSetSummary {
  setId: string;
  studyInstanceUID: string;
  /** The image series the set is about, when it was given. */
  seriesInstanceUID: string | null;
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
