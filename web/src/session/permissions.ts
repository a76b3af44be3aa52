/**
 * What the signed-in user may do, from the same role × action matrix the API
 * enforces (shared/src/access/matrix.ts): the app only offers what will work.
 */
import type { Action } from '@medlake/shared/access/matrix';
import { isAllowed } from '@medlake/shared/access/matrix';
import type { Me } from '../api/types';

export type { Action };

export function can(me: Me | null | undefined, action: Action): boolean {
  if (!me) return false;
  return isAllowed({ groups: me.roles, isMachine: me.isMachine }, action);
}

/** Where a user lands after signing in: the first page their roles open. */
export function homePath(me: Me): string {
  if (me.state === 'pending') return '/pending';
  if (can(me, 'studies:read')) return '/studies';
  if (can(me, 'uploads:create')) return '/upload';
  if (can(me, 'users:read')) return '/admin/users';
  return '/pending';
}
