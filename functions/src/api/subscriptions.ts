/**
 * Subscriptions: a user saves a search of the study browser (the one study
 * filter) and is emailed a digest when ingest adds matching studies
 * (functions/src/notify). `/api/subscriptions` CRUD for the owner
 * (subscriptions:manage), and the unsubscribe link of the emails, which works
 * without signing in: its signed token names the one subscription it stops.
 * Opening the link (GET, HEAD) only asks, on a small page whose button POSTs
 * the token; the POST unsubscribes. Mail security scanners that fetch every
 * link therefore unsubscribe nobody; mail clients' own unsubscribe buttons
 * POST to the same link (List-Unsubscribe-Post, RFC 8058).
 */
import { z } from 'zod';
import { QueryError } from '@medlake/shared/query/errors';
import type { StudyFilter } from '@medlake/shared/query/study-filter';
import { studyFilterWhere } from '@medlake/shared/query/study-filter-sql';
import { SqlParameters } from '@medlake/shared/query/sql';
import { browserLinks, savedSearchFilter, savedSearchFromJson, savedSearchQuery, subscriptionName } from '@medlake/shared/subscriptions/saved-search';
import { scrubFreeText } from '@medlake/shared/reports/scrub-free-text';
import { escapeHtml } from '@medlake/shared/subscriptions/digest-email';
import { verifyUnsubscribeToken } from '@medlake/shared/subscriptions/unsubscribe-token';
import { AuditLog } from '../adapters/audit-log';
import { databasePool } from '../adapters/database';
import type { SubscriptionChange, SubscriptionRecord } from '../adapters/subscription-store';
import { SubscriptionStore } from '../adapters/subscription-store';
import { audit } from '../auth/audit-trail';
import { HttpError, badRequest, conflict, notFound } from '../http/errors';
import { json, noContent } from '../http/response';
import type { HttpRequest, Route } from '../http/router';
import { requirePrincipal, route } from '../http/router';
import type { HttpResult } from '../http/types';
import { unsubscribeKeyFromEnv } from '../notify/unsubscribe-key';

/** Enough for any real use; a bound on what one account can make the digest job do. */
export const maxSubscriptionsPerUser = 50;

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const store = () => new SubscriptionStore(databasePool());

export interface SubscriptionView {
  id: string;
  name: string;
  /** The saved search as canonical StudyFilter JSON. */
  filter: Record<string, unknown>;
  /** The same as the study browser's query string. */
  query: string;
  /** The study browser showing the saved search (a path on this site). */
  browserPath: string;
  active: boolean;
  /** Why an inactive subscription sends nothing: paused, unsubscribed, account_disabled, access_removed. */
  inactiveReason: string | null;
  /** Studies first indexed from then on are news. */
  watchingSince: string;
  lastDigestAt: string | null;
  studiesSent: number;
  createdAt: string;
  updatedAt: string;
}

function view(record: SubscriptionRecord): SubscriptionView {
  const filter = savedSearchFromJson(record.filter);
  return {
    id: record.subscriptionId,
    name: record.name,
    filter: record.filter,
    query: savedSearchQuery(filter),
    browserPath: browserLinks.search('', filter),
    active: record.active,
    inactiveReason: record.inactiveReason,
    watchingSince: record.watchFrom.toISOString(),
    lastDigestAt: record.lastDigestAt?.toISOString() ?? null,
    studiesSent: record.studiesSent,
    createdAt: record.createdAt.toISOString(),
    updatedAt: record.updatedAt.toISOString(),
  };
}

/** A user's filter as a saved search, refused (400, naming the parameter) when it could not run. */
function searchOf(input: { filter?: unknown; query?: string }): StudyFilter {
  try {
    const filter = savedSearchFilter(input);
    // Runs the filter's SQL builder once: a filter that exists but cannot run yet (labels) is refused now, not at digest time.
    studyFilterWhere(filter, new SqlParameters());
    return filter;
  } catch (error) {
    if (error instanceof QueryError) throw badRequest(error.code, error.message, { parameter: error.parameter });
    throw error;
  }
}

/** The name as stored: checked, then scrubbed by the pattern rules (it is emailed, in every digest's subject). */
function nameOf(value: string): string {
  try {
    return scrubFreeText(subscriptionName(value)).text;
  } catch (error) {
    if (error instanceof QueryError) throw badRequest('invalid_request', error.message, { parameter: 'name' });
    throw error;
  }
}

function idOf(request: HttpRequest<unknown>): string {
  const id = (request.params.id ?? '').toLowerCase();
  if (!uuid.test(id)) throw notFound('not_found', 'No such subscription.');
  return id;
}

const searchFields = { filter: z.record(z.string(), z.unknown()).optional(), query: z.string().max(4000).optional() };

const createBody = z.object({ name: z.string().max(500), ...searchFields }).strict();
const changeBody = z.object({ name: z.string().max(500).optional(), ...searchFields, active: z.boolean().optional() }).strict();

export const subscriptionRoutes: Route[] = [
  route({
    method: 'GET',
    path: '/api/subscriptions',
    action: 'subscriptions:manage',
    async handle(request) {
      const owner = requirePrincipal(request);
      return json(200, { items: (await store().listOwned(owner.sub)).map(view) });
    },
  }),
  route({
    method: 'POST',
    path: '/api/subscriptions',
    action: 'subscriptions:manage',
    body: createBody,
    async handle(request) {
      const owner = requirePrincipal(request);
      if (!owner.email) throw badRequest('email_unknown', 'Digests are sent by email, and this sign-in does not say your address: sign in through the web app.');
      const name = nameOf(request.body.name);
      const filter = searchOf(request.body);
      const subscriptions = store();
      if ((await subscriptions.countOwned(owner.sub)) >= maxSubscriptionsPerUser) {
        throw conflict('too_many_subscriptions', `You have ${maxSubscriptionsPerUser} subscriptions, the most an account may have: delete one first.`);
      }
      const created = await subscriptions.create({ ownerSub: owner.sub, ownerEmail: owner.email, name, filter });
      await audit(request, 'subscriptions.create', { resource: `subscription/${created.subscriptionId}` });
      return json(201, view(created), { headers: { location: `/api/subscriptions/${created.subscriptionId}` } });
    },
  }),
  route({
    method: 'GET',
    path: '/api/subscriptions/unsubscribe',
    action: 'subscriptions:unsubscribe',
    handle: (request) => confirmUnsubscribe(request),
  }),
  route({
    method: 'POST',
    path: '/api/subscriptions/unsubscribe',
    action: 'subscriptions:unsubscribe',
    handle: (request) => unsubscribe(request),
  }),
  route({
    method: 'GET',
    path: '/api/subscriptions/{id}',
    action: 'subscriptions:manage',
    async handle(request) {
      const found = await store().getOwned(idOf(request), requirePrincipal(request).sub);
      if (!found) throw notFound('not_found', 'No such subscription.');
      return json(200, view(found));
    },
  }),
  route({
    method: 'PATCH',
    path: '/api/subscriptions/{id}',
    action: 'subscriptions:manage',
    body: changeBody,
    async handle(request) {
      const owner = requirePrincipal(request);
      const { name, filter, query, active } = request.body;
      const change: SubscriptionChange = {
        ...(name !== undefined ? { name: nameOf(name) } : {}),
        ...(filter !== undefined || query !== undefined ? { filter: searchOf({ filter, query }) } : {}),
        ...(active !== undefined ? { active } : {}),
      };
      const id = idOf(request);
      const updated = await store().update(id, owner.sub, change);
      if (!updated) throw notFound('not_found', 'No such subscription.');
      await audit(request, 'subscriptions.update', { resource: `subscription/${id}`, details: { changed: Object.keys(change).sort(), active: updated.active } });
      return json(200, view(updated));
    },
  }),
  route({
    method: 'DELETE',
    path: '/api/subscriptions/{id}',
    action: 'subscriptions:manage',
    async handle(request) {
      const id = idOf(request);
      if (!(await store().delete(id, requirePrincipal(request).sub))) throw notFound('not_found', 'No such subscription.');
      await audit(request, 'subscriptions.delete', { resource: `subscription/${id}` });
      return noContent();
    },
  }),
];

/** JSON for API clients that ask for it, a small page for people clicking the link in their mail. */
function wantsJson(request: HttpRequest<unknown>): boolean {
  const accept = request.header('accept') ?? '';
  return /application\/json/.test(accept) && !/text\/html/.test(accept);
}

/** The unsubscribe page's own form: no script, posts the token back to this same path. */
interface PageForm {
  token: string;
  button: string;
}

function page(status: number, title: string, sentence: string, form?: PageForm): HttpResult {
  const formHtml = form
    ? `<form method="post" action="/api/subscriptions/unsubscribe"><input type="hidden" name="token" value="${escapeHtml(form.token)}"><button type="submit">${escapeHtml(form.button)}</button></form>`
    : '';
  const body = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)} · medlake</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;line-height:1.5;color:#222}h1{font-size:1.4rem}a{color:#1c5fb8}button{font:inherit;padding:.5rem 1.2rem;border:0;border-radius:.3rem;background:#1c5fb8;color:#fff;cursor:pointer}</style></head>
<body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(sentence)}</p>${formHtml}<p><a href="/subscriptions">Manage your subscriptions</a> (sign-in needed)</p></body></html>
`;
  return {
    statusCode: status,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      // The token is in this page's URL: never send it on as a Referer.
      'referrer-policy': 'no-referrer',
      // No script at all; the one form may only post here.
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
      'x-content-type-options': 'nosniff',
    },
    body,
  };
}

const invalidTokenSentence = 'The unsubscribe link is incomplete or has been changed. Open it again from the email, or manage your subscriptions in medlake.';
const deletedSentence = 'This subscription has been deleted: it sends no more emails.';

/**
 * The token of an unsubscribe request: in the link's query (the email's link,
 * a mail client's one-click POST to it), or in the page's form body.
 */
function tokenOf(request: HttpRequest<unknown>): string {
  const inQuery = request.query.get('token');
  if (inQuery) return inQuery;
  if (request.method !== 'POST' || request.rawBody.length === 0 || request.rawBody.length > 4096) return '';
  const type = request.header('content-type')?.split(';')[0]?.trim().toLowerCase();
  if (type === 'application/x-www-form-urlencoded') return new URLSearchParams(request.rawBody.toString('utf8')).get('token') ?? '';
  if (type === 'application/json') {
    try {
      const parsed = JSON.parse(request.rawBody.toString('utf8')) as { token?: unknown };
      return typeof parsed.token === 'string' ? parsed.token : '';
    } catch {
      return '';
    }
  }
  return '';
}

/** The subscription a token names, or the answer that it names none usable (400 invalid, 404 deleted). */
async function subscriptionOf(request: HttpRequest<unknown>): Promise<{ token: string; id: string } | { answer: HttpResult }> {
  const asJson = wantsJson(request);
  const token = tokenOf(request);
  const id = token ? verifyUnsubscribeToken(await unsubscribeKeyFromEnv(), token) : undefined;
  if (id) return { token, id };
  if (asJson) throw new HttpError(400, 'invalid_token', invalidTokenSentence);
  return { answer: page(400, 'This link does not work', invalidTokenSentence) };
}

/** GET (and HEAD): says what the link would do, changes nothing; the page's button POSTs the token. */
async function confirmUnsubscribe(request: HttpRequest<unknown>): Promise<HttpResult> {
  const asJson = wantsJson(request);
  const named = await subscriptionOf(request);
  if ('answer' in named) return named.answer;
  const record = await store().get(named.id);
  if (!record) {
    if (asJson) throw new HttpError(404, 'not_found', deletedSentence);
    return page(404, 'Subscription not found', deletedSentence);
  }
  const unsubscribed = !record.active && record.inactiveReason === 'unsubscribed';
  if (asJson) return json(200, { subscriptionId: named.id, name: record.name, active: record.active, inactiveReason: record.inactiveReason });
  if (unsubscribed) return page(200, 'Already unsubscribed', `You were already unsubscribed from "${record.name}": it sends no emails.`);
  return page(200, 'Unsubscribe?', `Stop the emails of your saved search "${record.name}"? The search itself is kept: you can subscribe again in medlake.`, { token: named.token, button: 'Unsubscribe' });
}

/** POST: unsubscribes (once; again is harmless), audited. The signed token is the authority: no sign-in, no CSRF cookie. */
async function unsubscribe(request: HttpRequest<unknown>): Promise<HttpResult> {
  const asJson = wantsJson(request);
  const named = await subscriptionOf(request);
  if ('answer' in named) return named.answer;
  const { id } = named;
  const found = await store().unsubscribe(id);
  if (!found) {
    if (asJson) throw new HttpError(404, 'not_found', deletedSentence);
    return page(404, 'Subscription not found', deletedSentence);
  }
  const { outcome, record } = found;
  if (outcome === 'unsubscribed') {
    await new AuditLog(databasePool()).record({
      actorSub: record.ownerSub,
      actorName: record.ownerEmail,
      action: 'subscriptions.unsubscribe',
      resource: `subscription/${id}`,
      details: { via: request.query.get('token') ? 'email link' : 'unsubscribe page' },
      sourceIp: request.sourceIp,
      correlationId: request.correlationId,
    });
  }
  const sentence = outcome === 'unsubscribed'
    ? `You will get no more emails for "${record.name}". The saved search is kept: you can subscribe again in medlake.`
    : `You were already unsubscribed from "${record.name}": it sends no emails.`;
  if (asJson) return json(200, { subscriptionId: id, name: record.name, outcome, active: record.active });
  return page(200, outcome === 'unsubscribed' ? 'Unsubscribed' : 'Already unsubscribed', sentence);
}
