/** Annotation sets, their versions, the viewer selection and labels (functions/src/api/annotations.ts, labels.ts; docs/annotations.md). */
import type { DocumentDiff } from '@medlake/shared/annotations/annotation-diff';
import type { AnnotationSetSummary, Author, VersionSummary, ViewerSelection } from '@medlake/shared/annotations/annotation-views';
import type { LabelTerm } from '@medlake/shared/annotations/label-vocabulary';
import type { SegmentationDiff } from '@medlake/shared/annotations/segmentation-document';
import { api } from './http';

export type { AnnotationSetSummary, LabelTerm, VersionSummary };

/** What changed between two versions of a set (the API's diffDocuments, or diffSegmentations for a segmentation), with the two versions compared. */
export type AnnotationDiff = { setId: string; from: VersionSummary; to: VersionSummary } & (({ kind: 'measurements' } & DocumentDiff) | ({ kind: 'segmentation' } & SegmentationDiff));

export interface LabelSet {
  version: number;
  labels: { code: string; value: string | null; display: string }[];
  author?: Author;
  updatedAt?: string;
}

const studyPath = (study: string) => `/api/studies/${encodeURIComponent(study)}`;
const setPath = (study: string, setId: string) => `${studyPath(study)}/annotations/${encodeURIComponent(setId)}`;

export const fetchAnnotationSets = (study: string, signal?: AbortSignal) =>
  api<{ items: AnnotationSetSummary[] }>(`${studyPath(study)}/annotations`, { signal }).then((answer) => answer.items);

export const fetchAnnotationVersions = (study: string, setId: string, signal?: AbortSignal) =>
  api<{ versions: VersionSummary[] }>(`${setPath(study, setId)}/versions`, { signal }).then((answer) => answer.versions);

export const fetchAnnotationDiff = (study: string, setId: string, from: number, to: number, signal?: AbortSignal) =>
  api<AnnotationDiff>(`${setPath(study, setId)}/diff`, { query: { from, to }, signal });

/** A new version repeating version `version`; `parentVersion` is the latest the user saw (409 if another was saved since). */
export const restoreAnnotationVersion = (study: string, setId: string, version: number, parentVersion: number) =>
  api<VersionSummary>(`${setPath(study, setId)}/versions/${version}/restore`, { method: 'POST', body: { parentVersion, message: `Restored version ${version}` } });

/** The stored SR of a version, as a download link (same origin, the session cookie authorizes it). */
export const annotationSrUrl = (study: string, setId: string, version: number) => `${setPath(study, setId)}/versions/${version}/dicom`;

export const fetchViewerSelection = (study: string, signal?: AbortSignal) =>
  api<{ versions: ViewerSelection[] }>(`${studyPath(study)}/annotations/viewer-selection`, { signal }).then((answer) => answer.versions);

/** The viewer shows this version of the set to this user (for a while) instead of the latest. */
export const selectViewerVersion = (study: string, setId: string, version: number) =>
  api<{ versions: ViewerSelection[] }>(`${studyPath(study)}/annotations/viewer-selection`, { method: 'PUT', body: { versions: [{ setId, version }] } });

export const clearViewerSelection = (study: string) => api<void>(`${studyPath(study)}/annotations/viewer-selection`, { method: 'DELETE' });

export const fetchLabelVocabulary = (signal?: AbortSignal) => api<{ terms: LabelTerm[] }>('/api/labels/vocabulary', { signal }).then((answer) => answer.terms);

export const fetchStudyLabels = (study: string, signal?: AbortSignal) => api<LabelSet>(`${studyPath(study)}/labels`, { signal });

export const fetchStudyLabelVersions = (study: string, signal?: AbortSignal) =>
  api<{ versions: (LabelSet & { createdAt: string; message: string | null })[] }>(`${studyPath(study)}/labels/versions`, { signal }).then((answer) => answer.versions);

/** A new version of the study's own labels, based on `parentVersion` (0 when it had none). */
export const saveStudyLabels = (study: string, labels: { code: string; value: string | null }[], parentVersion: number) =>
  api<LabelSet & { changed: boolean }>(`${studyPath(study)}/labels`, { method: 'PUT', body: { labels, parentVersion } });
