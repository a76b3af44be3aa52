/**
 * Subscriptions: a user saves a search of the study browser (the one study
 * filter) and is emailed a digest when ingest adds matching studies
 * (functions/src/notify). `/api/subscriptions` CRUD for the owner
 * (subscriptions:manage), and the unsubscribe link of the emails, which works
 * without signing in: its signed token names the one subscription it stops.
 */
import { z } from 'zod';
import { QueryError } from '@medlake/shared/query/errors';
import type { StudyFilter } from '@medlake/shared/query/study-filter';
import { studyFilterWhere } from '@medlake/shared/query/study-filter-sql';
import { SqlParameters } from '@medlake/shared/query/sql';
import { browserLinks, savedSearchFilter, savedSearchFromJson, savedSearchQuery, subscriptionName } from '@medlake/shared/subscriptions/saved-search';
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

function nameOf(value: string): string {
  try {
    return subscriptionName(value);
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

function page(status: number, title: string, sentence: string): HttpResult {
  const body = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)} · medlake</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;line-height:1.5;color:#222}h1{font-size:1.4rem}a{color:#1c5fb8}</style></head>
<body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(sentence)}</p><p><a href="/subscriptions">Manage your subscriptions</a> (sign-in needed)</p></body></html>
`;
  return {
    statusCode: status,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      // The token is in this page's URL: never send it on as a Referer.
      'referrer-policy': 'no-referrer',
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
      'x-content-type-options': 'nosniff',
    },
    body,
  };
}

async function unsubscribe(request: HttpRequest<unknown>): Promise<HttpResult> {
  const asJson = wantsJson(request);
  const fail = (status: number, code: string, title: string, sentence: string): HttpResult => {
    if (asJson) throw new HttpError(status, code, sentence);
    return page(status, title, sentence);
  };
  const token = request.query.get('token') ?? '';
  const id = token ? verifyUnsubscribeToken(await unsubscribeKeyFromEnv(), token) : undefined;
  if (!id) return fail(400, 'invalid_token', 'This link does not work', 'The unsubscribe link is incomplete or has been changed. Open it again from the email, or manage your subscriptions in medlake.');
  // Link checkers probe with HEAD: only a real visit unsubscribes.
  if (request.method === 'HEAD') return asJson ? json(200, { subscriptionId: id }) : page(200, 'Unsubscribe', 'Open this link to stop the emails of this subscription.');
  const found = await store().unsubscribe(id);
  if (!found) return fail(404, 'not_found', 'Subscription not found', 'This subscription has been deleted: it sends no more emails.');
  const { outcome, record } = found;
  if (outcome === 'unsubscribed') {
    await new AuditLog(databasePool()).record({
      actorSub: record.ownerSub,
      actorName: record.ownerEmail,
      action: 'subscriptions.unsubscribe',
      resource: `subscription/${id}`,
      details: { via: 'email link' },
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
