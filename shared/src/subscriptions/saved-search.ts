/**
 * A subscription's saved search: the one study filter (query/study-filter.ts)
 * of the study browser, stored as its canonical JSON. Paging means nothing to
 * a subscription (every new match counts, not one page of them), so limit and
 * offset are kept at their defaults; sort and order are kept, so the link back
 * to the browser shows the search as it was saved.
 */
import { invalidParameter } from '../query/errors';
import type { StudyFilter } from '../query/study-filter';
import { parseStudyFilter, studyFilterDefaults, studyFilterFromJson, studyFilterToJson, studyFilterToQueryString } from '../query/study-filter';

export const maxSubscriptionNameLength = 100;

/** Either the filter as JSON (what /api/studies filters look like stored) or the browser's query string. */
export interface SavedSearchInput {
  filter?: unknown;
  query?: string;
}

/** The filter a subscription stores; throws QueryError (parameter named) when it is not a valid study filter. */
export function savedSearchFilter(input: SavedSearchInput): StudyFilter {
  if ((input.filter === undefined) === (input.query === undefined)) {
    throw invalidParameter('filter', 'Give the search either as "filter" (JSON) or as "query" (the study browser\'s query string), not both.');
  }
  const filter = input.query !== undefined ? parseStudyFilter(new URLSearchParams(input.query.replace(/^\?/, ''))) : studyFilterFromJson(input.filter);
  return { ...filter, limit: studyFilterDefaults.limit, offset: studyFilterDefaults.offset };
}

/** Canonical JSON of a saved search (what the database holds). */
export function savedSearchJson(filter: StudyFilter): Record<string, unknown> {
  return studyFilterToJson({ ...filter, limit: studyFilterDefaults.limit, offset: studyFilterDefaults.offset });
}

/** The stored JSON back as a filter (validated again: what was stored is what the URL would say). */
export function savedSearchFromJson(value: unknown): StudyFilter {
  return studyFilterFromJson(value);
}

/** The study browser's query string for the saved search. */
export function savedSearchQuery(filter: StudyFilter): string {
  return studyFilterToQueryString(filter);
}

/** A name a user can recognize in a list and in an email subject: one line, no control characters. */
export function subscriptionName(value: string): string {
  const name = value.replace(/\s+/g, ' ').trim();
  if (!name) throw invalidParameter('name', 'Give the subscription a name.');
  if (name.length > maxSubscriptionNameLength) throw invalidParameter('name', `The name is longer than ${maxSubscriptionNameLength} characters.`);
  if (/\p{Cc}/u.test(name)) throw invalidParameter('name', 'The name contains control characters.');
  return name;
}

/** Links into the study browser (the web app's routes), from the public base URL. */
export const browserLinks = {
  search: (baseUrl: string, filter: StudyFilter) => {
    const query = savedSearchQuery(filter);
    return `${trimSlash(baseUrl)}/studies${query ? `?${query}` : ''}`;
  },
  study: (baseUrl: string, studyUid: string) => `${trimSlash(baseUrl)}/studies/${encodeURIComponent(studyUid)}`,
  subscriptions: (baseUrl: string) => `${trimSlash(baseUrl)}/subscriptions`,
  unsubscribe: (baseUrl: string, token: string) => `${trimSlash(baseUrl)}/api/subscriptions/unsubscribe?token=${encodeURIComponent(token)}`,
};

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
