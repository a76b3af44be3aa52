/**
 * The browser session: sign in with email + password (Cognito
 * USER_PASSWORD_AUTH), refresh, sign out. Tokens live in HttpOnly cookies
 * (see auth/session-cookies); the JSON answers never contain them.
 */
import { decodeJwt } from 'jose';
import { z } from 'zod';
import { auditLogFromEnv } from '../adapters/audit-log';
import { authenticateIfPresent } from '../auth/authenticate';
import type { Principal } from '../auth/principal';
import { principalFromClaims } from '../auth/principal';
import {
  clearedSessionCookies, csrfCookie, csrfHeader, csrfMatches, newCsrfToken, refreshCookie, sessionCookie, sessionCookies,
} from '../auth/session-cookies';
import { tokenConfigFromEnv } from '../auth/token-verifier';
import type { SignedInTokens } from '../auth/user-pool';
import { userPoolFromEnv, usernameOf } from '../auth/user-pool';
import { HttpError, forbidden, unauthorized } from '../http/errors';
import { json, noContent } from '../http/response';
import type { HttpRequest, Route } from '../http/router';
import { route } from '../http/router';
import { describePrincipal } from './me';

const credentials = z.object({
  email: z.string().trim().min(3).max(254),
  password: z.string().min(1).max(256),
});

/** The principal of tokens Cognito just issued (verified by the next request anyway). */
function principalOf(tokens: SignedInTokens): Principal {
  const principal = principalFromClaims(decodeJwt(tokens.idToken), tokenConfigFromEnv().clientIds, 'cookie');
  if (!principal) throw new HttpError(500, 'misconfigured_client', 'The sign-in service issued a token for an unknown app client.');
  return principal;
}

async function refuseDisabled(request: HttpRequest<unknown>, tokens: SignedInTokens, action: string): Promise<void> {
  // cognito-local lets disabled users sign in; Cognito does not. Check either way.
  const pool = userPoolFromEnv();
  const user = await pool.getUser(usernameOf(tokens));
  if (user && !user.enabled) {
    if (tokens.refreshToken) await pool.revoke(tokens.refreshToken);
    await auditLogFromEnv().record({ actorSub: user.sub, actorName: user.email, action, outcome: 'denied', details: { reason: 'account_disabled' }, sourceIp: request.sourceIp, correlationId: request.correlationId });
    throw forbidden('account_disabled', 'This account is disabled. Ask an administrator.');
  }
}

export const sessionRoutes: Route[] = [
  route({
    method: 'POST',
    path: '/api/session',
    action: 'session:manage',
    body: credentials,
    async handle(request) {
      const { email, password } = request.body;
      let tokens: SignedInTokens;
      try {
        tokens = await userPoolFromEnv().signIn(email, password);
      } catch (error) {
        if (error instanceof HttpError) {
          await auditLogFromEnv().record({ actorName: email, action: 'session.sign-in', outcome: 'denied', details: { reason: error.code }, sourceIp: request.sourceIp, correlationId: request.correlationId });
        }
        throw error;
      }
      await refuseDisabled(request, tokens, 'session.sign-in');
      const principal = principalOf(tokens);
      await auditLogFromEnv().record({ actorSub: principal.sub, actorName: principal.email ?? principal.username, action: 'session.sign-in', sourceIp: request.sourceIp, correlationId: request.correlationId });
      return json(200, describePrincipal(principal), { cookies: sessionCookies(request.event, tokens, newCsrfToken()) });
    },
  }),
  route({
    method: 'POST',
    path: '/api/session/refresh',
    action: 'session:manage',
    async handle(request) {
      const refreshToken = request.cookies[refreshCookie];
      if (!refreshToken) throw unauthorized('session_expired', 'Your session has expired. Sign in again.');
      if (!csrfMatches(request.cookies[csrfCookie], request.header(csrfHeader))) {
        throw forbidden('csrf_failed', 'The request lacks the X-CSRF-Token header matching this session. Reload the page and try again.');
      }
      const tokens = await userPoolFromEnv().refresh(refreshToken);
      await refuseDisabled(request, tokens, 'session.refresh');
      const csrf = request.cookies[csrfCookie] ?? newCsrfToken();
      return json(200, describePrincipal(principalOf(tokens)), { cookies: sessionCookies(request.event, tokens, csrf) });
    },
  }),
  route({
    method: 'DELETE',
    path: '/api/session',
    action: 'session:manage',
    async handle(request) {
      if (request.cookies[sessionCookie] && !csrfMatches(request.cookies[csrfCookie], request.header(csrfHeader))) {
        throw forbidden('csrf_failed', 'The request lacks the X-CSRF-Token header matching this session. Reload the page and try again.');
      }
      const principal = request.principal ?? (await authenticateIfPresent(request.event));
      const refreshToken = request.cookies[refreshCookie];
      if (refreshToken) await userPoolFromEnv().revoke(refreshToken);
      if (principal) await auditLogFromEnv().record({ actorSub: principal.sub, actorName: principal.email ?? principal.username, action: 'session.sign-out', sourceIp: request.sourceIp, correlationId: request.correlationId });
      return noContent({ cookies: clearedSessionCookies(request.event) });
    },
  }),
];
