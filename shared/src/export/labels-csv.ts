/**
 * labels.csv of an export: one row per label currently placed on a study,
 * one of its series or instances (functions/src/annotations/annotation-export.ts
 * answers them in this shape when the export is frozen).
 */
import { csvLine } from './manifest';

export interface ExportLabel {
  studyInstanceUID: string;
  seriesInstanceUID: string | null;
  sopInstanceUID: string | null;
  label: string;
  /** A value the label carries, when it has one (e.g. a grade). */
  value: string | null;
  /** Who placed it (as the lake shows users), when known. */
  author: string | null;
  /** ISO date-time. */
  createdAt: string | null;
}

export const labelColumns = ['studyInstanceUID', 'seriesInstanceUID', 'sopInstanceUID', 'label', 'value', 'author', 'createdAt'] as const satisfies readonly (keyof ExportLabel)[];

export function labelsCsv(labels: readonly ExportLabel[]): string {
  const sorted = [...labels].sort((a, b) =>
    a.studyInstanceUID.localeCompare(b.studyInstanceUID) ||
    (a.seriesInstanceUID ?? '').localeCompare(b.seriesInstanceUID ?? '') ||
    (a.sopInstanceUID ?? '').localeCompare(b.sopInstanceUID ?? '') ||
    a.label.localeCompare(b.label),
  );
  return csvLine(labelColumns) + sorted.map((label) => csvLine(labelColumns.map((column) => label[column]))).join('');
}
