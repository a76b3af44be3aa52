/**
 * What the list endpoints share: who sees everybody's items (admins, never
 * through a gateway token), the page size (`limit`), and the cursor of
 * newest-first paging (`before`): the last item's creation time and id,
 * opaque to clients.
 */
import type { Principal } from '../auth/principal';
import { badRequest } from '../http/errors';
import type { HttpRequest } from '../http/router';
import { requirePrincipal } from '../http/router';

export const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A DICOM UID: digits in dot-separated components. */
export const uidPattern = /^[0-9]+(\.[0-9]+)*$/;

/** An administrator acting as one (a gateway's token never does, whatever groups its user holds). */
export function isAdmin(principal: Principal): boolean {
  return !principal.isMachine && principal.groups.includes('admin');
}

/** `limit` of a list request: 50 unless asked, 1 to 200. */
export function pageLimit(request: HttpRequest<unknown>, defaults: { default: number; max: number } = { default: 50, max: 200 }): number {
  const text = request.query.get('limit');
  const limit = text === null ? defaults.default : Number(text);
  if (!Number.isInteger(limit) || limit < 1 || limit > defaults.max) throw badRequest('invalid_limit', `limit must be a whole number from 1 to ${defaults.max}.`);
  return limit;
}

export interface PagePosition {
  createdAt: Date;
  id: string;
}

export function encodePageCursor(position: PagePosition): string {
  return Buffer.from(`${position.createdAt.toISOString()}|${position.id}`, 'utf8').toString('base64url');
}

/** The position a `before` cursor names; 400 for anything this API did not hand out (ids must match `idPattern`). */
export function decodePageCursor(cursor: string, idPattern: RegExp = uuidPattern): PagePosition {
  const [at, id, ...rest] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(at ?? '');
  if (!id || rest.length > 0 || !idPattern.test(id) || Number.isNaN(createdAt.getTime())) throw badRequest('invalid_cursor', 'The paging cursor is not valid; start again from the first page.');
  return { createdAt, id };
}

/** One page of a newest-first list fetched with `limit + 1` rows: the items, and the cursor of the next page when there is one. */
export function pageOf<T>(rows: readonly T[], limit: number, position: (item: T) => PagePosition): { items: T[]; next?: string } {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return rows.length > limit && last !== undefined ? { items, next: encodePageCursor(position(last)) } : { items };
}

/**
 * A page of a list of owned items (uploads, exports), newest first: the
 * caller's own, or everybody's for an admin unless `mine=true`; `limit` and
 * `before` from the request. `list` fetches one more row than the page, so
 * the answer knows whether a next page exists.
 */
export async function ownedItemsPage<T>(
  request: HttpRequest<unknown>,
  list: (query: { ownerSub: string | undefined; limit: number; before: PagePosition | undefined }) => Promise<T[]>,
  position: (item: T) => PagePosition,
): Promise<{ items: T[]; next?: string }> {
  const principal = requirePrincipal(request);
  const limit = pageLimit(request);
  const cursor = request.query.get('before');
  const everybody = isAdmin(principal) && request.query.get('mine') !== 'true';
  const rows = await list({ ownerSub: everybody ? undefined : principal.sub, limit: limit + 1, before: cursor ? decodePageCursor(cursor) : undefined });
  return pageOf(rows, limit, position);
}
