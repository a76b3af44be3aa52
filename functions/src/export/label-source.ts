/**
 * Where labels.csv comes from. Labels are stored by the annotation work,
 * which adds its source here: `labelsOf` answers the labels of a set of
 * studies when an export is frozen (they are kept with the frozen list, so a
 * resumed or re-run export writes the same labels.csv). While no source is
 * registered, `options.labels` is refused by the API with a readable reason
 * (400 labels_unavailable) instead of producing an empty file.
 */
import type { ExportLabel } from '@medlake/shared/export/labels-csv';
import type { Queryable } from '../adapters/database';

export interface LabelSource {
  /** The labels placed on these studies (and their series and instances). */
  labelsOf(db: Queryable, studyUids: readonly string[]): Promise<ExportLabel[]>;
}

const sources: LabelSource[] = [];

/** Called by the module that stores labels, once, when it is loaded. */
export function registerLabelSource(source: LabelSource): void {
  sources.push(source);
}

export function labelSource(): LabelSource | undefined {
  return sources[0];
}
