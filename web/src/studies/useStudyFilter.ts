/**
 * The study browser's filter lives in the URL, with the same parameter names
 * as /api/studies (shared/src/query/study-filter.ts), so a copied link shows
 * the same view. Any change of the filter goes back to the first page.
 */
import type { StudyFilter } from '@medlake/shared/query/study-filter';
import { emptyStudyFilter, parseStudyFilter, studyFilterToSearchParams } from '@medlake/shared/query/study-filter';
import { useCallback, useMemo } from 'react';
import { useSearchParams } from 'react-router';

export interface StudyFilterState {
  filter: StudyFilter;
  /** The URL held a filter we cannot read (shown, and the defaults used). */
  error: string | undefined;
  /** Changes filters (back to page 1). */
  change(changes: Partial<StudyFilter>): void;
  /** Changes the page or page size only. */
  page(changes: Pick<Partial<StudyFilter>, 'offset' | 'limit'>): void;
  reset(): void;
}

export function useStudyFilter(): StudyFilterState {
  const [params, setParams] = useSearchParams();
  const key = params.toString();
  const { filter, error } = useMemo(() => {
    try {
      return { filter: parseStudyFilter(new URLSearchParams(key)), error: undefined };
    } catch (failure) {
      return { filter: emptyStudyFilter(), error: failure instanceof Error ? failure.message : 'The filter in this link cannot be read.' };
    }
  }, [key]);

  const write = useCallback((next: StudyFilter, replace: boolean) => setParams(studyFilterToSearchParams(next), { replace }), [setParams]);
  const change = useCallback((changes: Partial<StudyFilter>) => write({ ...filter, ...changes, offset: 0 }, true), [filter, write]);
  const page = useCallback((changes: Pick<Partial<StudyFilter>, 'offset' | 'limit'>) => write({ ...filter, ...changes }, false), [filter, write]);
  const reset = useCallback(() => write({ ...emptyStudyFilter(), limit: filter.limit }, false), [filter.limit, write]);
  return { filter, error, change, page, reset };
}

/** How many filters narrow the list (sorting and paging aside). */
export function activeFilterCount(filter: StudyFilter): number {
  let count = 0;
  if (filter.patientId) count += 1;
  if (filter.sex) count += 1;
  if (filter.ageMin !== undefined || filter.ageMax !== undefined) count += 1;
  if (filter.dateFrom || filter.dateTo) count += 1;
  if (filter.modalities.length) count += 1;
  if (filter.bodyParts.length) count += 1;
  if (filter.q) count += 1;
  if (filter.labels.length) count += 1;
  if (filter.hasReport !== undefined) count += 1;
  return count;
}
