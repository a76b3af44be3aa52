/** GET /api/me: who the caller is and whether an administrator has approved them. */
import { accountState, effectiveRoles } from '@medlake/shared/access/matrix';
import type { Principal } from '../auth/principal';
import { userPoolFromEnv } from '../auth/user-pool';
import { json } from '../http/response';
import type { Route } from '../http/router';
import { requirePrincipal, route } from '../http/router';

export interface MeAnswer {
  sub: string;
  username: string;
  email: string | undefined;
  groups: string[];
  /** The roles in force (a gateway client keeps only uploader). */
  roles: string[];
  clientId: string;
  isMachine: boolean;
  state: 'pending' | 'active';
}

export function describePrincipal(principal: Principal): MeAnswer {
  return {
    sub: principal.sub,
    username: principal.username,
    email: principal.email,
    groups: principal.groups,
    roles: effectiveRoles(principal),
    clientId: principal.clientId,
    isMachine: principal.isMachine,
    state: accountState(principal),
  };
}

export const meRoutes: Route[] = [
  route({
    method: 'GET',
    path: '/api/me',
    action: 'me:read',
    async handle(request) {
      const principal = requirePrincipal(request);
      const answer = describePrincipal(principal);
      // Groups live in the token: a pending user approved since signing in must refresh to act.
      if (answer.state === 'pending' && !principal.isMachine) {
        const groups = await userPoolFromEnv().groupsOf(principal.username).catch(() => []);
        return json(200, { ...answer, refreshRequired: groups.length > 0 });
      }
      return json(200, { ...answer, refreshRequired: false });
    },
  }),
];
