/**
 * The digest email of a subscription: how many new studies match the saved
 * search, a short list with links into the study browser, and an
 * unsubscribe link that works without signing in.
 *
 * Email leaves the lake's protection (mail servers, inboxes, forwards), so it
 * carries less than the browser shows: shifted study dates, modalities, body
 * parts and counts only. No patient pseudonym, accession number or free text
 * (descriptions, the search's own words); the links lead to the rest after
 * sign-in.
 */
import type { StudyFilter } from '../query/study-filter';
import { browserLinks } from './saved-search';

export interface DigestStudy {
  studyInstanceUID: string;
  /** ISO date, shifted as stored. */
  studyDate: string | null;
  modalities: readonly string[];
  bodyParts: readonly string[];
  numSeries: number;
  numInstances: number;
}

export interface DigestEmailInput {
  subscriptionName: string;
  filter: StudyFilter;
  /** The studies to list (the first `maxListedStudies` are shown). */
  studies: readonly DigestStudy[];
  /** All new matches, which may be more than those listed. */
  totalCount: number;
  /** PUBLIC_BASE_URL: where users open medlake. */
  baseUrl: string;
  unsubscribeToken: string;
}

export interface DigestEmail {
  subject: string;
  text: string;
  html: string;
  /**
   * `List-Unsubscribe` with the link and `List-Unsubscribe-Post:
   * List-Unsubscribe=One-Click` (RFC 8058): mail clients offer their own
   * unsubscribe button, which POSTs to the link (a GET of it only asks).
   */
  headers: Record<string, string>;
}

export const maxListedStudies = 25;

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

function studyLine(study: DigestStudy): string {
  const parts = [
    study.studyDate ?? 'no date',
    study.modalities.join('/') || 'no modality',
    study.bodyParts.length ? study.bodyParts.join(', ').toLowerCase() : undefined,
    `${plural(study.numSeries, 'series', 'series')}, ${plural(study.numInstances, 'image', 'images')}`,
  ].filter(Boolean);
  return parts.join(' · ');
}

/** Text as HTML content or attribute value (also used by the unsubscribe page). */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

export function renderDigestEmail(input: DigestEmailInput): DigestEmail {
  const listed = input.studies.slice(0, maxListedStudies);
  const more = input.totalCount - listed.length;
  const searchUrl = browserLinks.search(input.baseUrl, input.filter);
  const manageUrl = browserLinks.subscriptions(input.baseUrl);
  const unsubscribeUrl = browserLinks.unsubscribe(input.baseUrl, input.unsubscribeToken);
  const headline = `${plural(input.totalCount, 'new study matches', 'new studies match')} your saved search "${input.subscriptionName}".`;
  const subject = `medlake: ${plural(input.totalCount, 'new study', 'new studies')} for "${input.subscriptionName}"`;

  const text = [
    'Hello,',
    '',
    headline,
    '',
    ...listed.flatMap((study) => [`- ${studyLine(study)}`, `  ${browserLinks.study(input.baseUrl, study.studyInstanceUID)}`]),
    ...(more > 0 ? [`- and ${plural(more, 'more study', 'more studies')}`] : []),
    '',
    `Open the search: ${searchUrl}`,
    `Manage your subscriptions: ${manageUrl}`,
    '',
    `Stop these emails for "${input.subscriptionName}": ${unsubscribeUrl}`,
    '',
    '-- medlake',
    '',
  ].join('\n');

  const rows = listed
    .map((study) => `<li><a href="${escapeHtml(browserLinks.study(input.baseUrl, study.studyInstanceUID))}">${escapeHtml(studyLine(study))}</a></li>`)
    .join('\n');
  const html = [
    '<!doctype html>',
    '<html><body style="font-family: sans-serif; line-height: 1.4">',
    '<p>Hello,</p>',
    `<p>${escapeHtml(headline)}</p>`,
    `<ul>\n${rows}${more > 0 ? `\n<li>and ${escapeHtml(plural(more, 'more study', 'more studies'))}</li>` : ''}\n</ul>`,
    `<p><a href="${escapeHtml(searchUrl)}">Open the search</a> · <a href="${escapeHtml(manageUrl)}">Manage your subscriptions</a></p>`,
    `<p style="font-size: smaller; color: #666">You receive this because you subscribed to "${escapeHtml(input.subscriptionName)}". <a href="${escapeHtml(unsubscribeUrl)}">Unsubscribe</a></p>`,
    '</body></html>',
    '',
  ].join('\n');

  return { subject, text, html, headers: { 'List-Unsubscribe': `<${unsubscribeUrl}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' } };
}
