/**
 * Filters that live in the URL (a copied link shows the same view): the
 * search parameters, and a way to change some of them at once. An empty or
 * undefined value removes its parameter; a filter change replaces the
 * history entry unless told otherwise (paging adds one, so Back goes back).
 */
import { useCallback } from 'react';
import type { SetURLSearchParams } from 'react-router';
import { useSearchParams } from 'react-router';

export type SearchParamChanges = Record<string, string | undefined>;

/** The parameters with `changes` applied (pure, for the hook and its test). */
export function withSearchParamChanges(params: URLSearchParams, changes: SearchParamChanges): URLSearchParams {
  const next = new URLSearchParams(params);
  for (const [key, value] of Object.entries(changes)) {
    if (value) next.set(key, value);
    else next.delete(key);
  }
  return next;
}

export function useSearchParamUpdate(): [URLSearchParams, (changes: SearchParamChanges, options?: { replace?: boolean }) => void, SetURLSearchParams] {
  const [params, setParams] = useSearchParams();
  const update = useCallback(
    (changes: SearchParamChanges, options: { replace?: boolean } = {}) => setParams((current) => withSearchParamChanges(current, changes), { replace: options.replace ?? true }),
    [setParams],
  );
  return [params, update, setParams];
}
