/**
 * User administration (admin only): list users and pending sign-ups, approve
 * with groups, change groups, disable, enable. Every change is audited, and
 * recorded in `account_changes` (functions/src/auth/account-changes.ts): a
 * disabled user's tokens stop working at once, and tokens issued before a
 * change of groups answer 401 `token_stale` until the session is refreshed.
 */
import { z } from 'zod';
import { isAllowed } from '@medlake/shared/access/matrix';
import { roles } from '@medlake/shared/resources';
import type { Role } from '@medlake/shared/resources';
import { databasePool } from '../adapters/database';
import { SubscriptionStore } from '../adapters/subscription-store';
import { accountChangesFromEnv } from '../auth/account-changes';
import { audit } from '../auth/audit-trail';
import type { Principal } from '../auth/principal';
import type { PoolUser } from '../auth/user-pool';
import { userPoolFromEnv } from '../auth/user-pool';
import { badRequest, conflict } from '../http/errors';
import { json } from '../http/response';
import type { HttpRequest, Route } from '../http/router';
import { requirePrincipal, route } from '../http/router';

const roleList = z.array(z.enum(roles as [Role, ...Role[]])).max(roles.length).transform((list) => [...new Set(list)]);
const states = ['unconfirmed', 'pending', 'active', 'disabled'] as const;

const admin = (request: HttpRequest<unknown>): Principal => requirePrincipal(request);

function isSelf(principal: Principal, user: PoolUser): boolean {
  return principal.sub === user.sub || principal.username === user.username;
}

/**
 * What follows a change of an account: requests check it (recorded in
 * account_changes), and subscriptions, which email study data, stop when the
 * account is disabled or loses the roles that may read studies, and resume
 * when that is undone.
 */
async function followAccess(user: PoolUser, change: { disabled: boolean } | { groups: readonly Role[] }): Promise<void> {
  const owner = user.sub;
  if (!owner) return;
  // After Cognito has the change: a token issued from now on carries it already.
  const accounts = accountChangesFromEnv();
  if ('disabled' in change) await accounts.recordDisabled(owner, change.disabled);
  else await accounts.recordGroups(owner, change.groups);
  const subscriptions = new SubscriptionStore(databasePool());
  if ('disabled' in change) {
    if (change.disabled) await subscriptions.suspendOwner(owner, 'account_disabled');
    else await subscriptions.resumeOwner(owner, 'account_disabled');
    return;
  }
  if (isAllowed({ groups: change.groups, isMachine: false }, 'subscriptions:manage')) await subscriptions.resumeOwner(owner, 'access_removed');
  else await subscriptions.suspendOwner(owner, 'access_removed');
}

async function auditChange(request: HttpRequest<unknown>, action: string, user: PoolUser, details: Record<string, unknown>): Promise<void> {
  await audit(request, action, { resource: `user/${user.username}`, details });
}

export const userRoutes: Route[] = [
  route({
    method: 'GET',
    path: '/api/users',
    action: 'users:read',
    async handle(request) {
      const state = request.query.get('state');
      if (state && !(states as readonly string[]).includes(state)) throw badRequest('invalid_request', `state must be one of ${states.join(', ')}.`);
      const users = await userPoolFromEnv().listUsers();
      return json(200, { users: state ? users.filter((u) => u.state === state) : users });
    },
  }),
  route({
    method: 'GET',
    path: '/api/users/{username}',
    action: 'users:read',
    async handle(request) {
      return json(200, await userPoolFromEnv().requireUser(request.params.username ?? ''));
    },
  }),
  route({
    method: 'POST',
    path: '/api/users/{username}/approve',
    action: 'users:manage',
    body: z.object({ groups: roleList.refine((l) => l.length > 0, 'choose at least one group') }),
    async handle(request) {
      const pool = userPoolFromEnv();
      const user = await pool.requireUser(request.params.username ?? '');
      if (user.state === 'unconfirmed') throw conflict('email_not_verified', 'This user has not confirmed their email address yet.');
      if (user.state === 'disabled') throw conflict('account_disabled', 'This account is disabled; enable it first.');
      const before = await pool.setGroups(user.username, request.body.groups);
      await auditChange(request, 'users.approve', user, { before, after: request.body.groups });
      await followAccess(user, { groups: request.body.groups });
      return json(200, await pool.requireUser(user.username));
    },
  }),
  route({
    method: 'PUT',
    path: '/api/users/{username}/groups',
    action: 'users:manage',
    body: z.object({ groups: roleList }),
    async handle(request) {
      const pool = userPoolFromEnv();
      const user = await pool.requireUser(request.params.username ?? '');
      if (isSelf(admin(request), user) && !request.body.groups.includes('admin')) throw conflict('cannot_demote_self', 'You cannot remove your own admin role; ask another administrator.');
      const before = await pool.setGroups(user.username, request.body.groups);
      await auditChange(request, 'users.groups', user, { before, after: request.body.groups });
      await followAccess(user, { groups: request.body.groups });
      return json(200, await pool.requireUser(user.username));
    },
  }),
  route({
    method: 'POST',
    path: '/api/users/{username}/disable',
    action: 'users:manage',
    async handle(request) {
      const pool = userPoolFromEnv();
      const user = await pool.requireUser(request.params.username ?? '');
      if (isSelf(admin(request), user)) throw conflict('cannot_disable_self', 'You cannot disable your own account.');
      await pool.disable(user.username);
      await auditChange(request, 'users.disable', user, {});
      await followAccess(user, { disabled: true });
      return json(200, await pool.requireUser(user.username));
    },
  }),
  route({
    method: 'POST',
    path: '/api/users/{username}/enable',
    action: 'users:manage',
    async handle(request) {
      const pool = userPoolFromEnv();
      const user = await pool.requireUser(request.params.username ?? '');
      await pool.enable(user.username);
      await auditChange(request, 'users.enable', user, {});
      await followAccess(user, { disabled: false });
      return json(200, await pool.requireUser(user.username));
    },
  }),
];
