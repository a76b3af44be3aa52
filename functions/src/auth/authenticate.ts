/**
 * The one way a handler learns who is calling. Claims already verified by API
 * Gateway's JWT authorizer are trusted as they are; otherwise the handler
 * verifies the Bearer token or the session cookie itself (cookie requests pass
 * the authorizer untouched, and the local front door behaves the same).
 */
import type { HttpEvent } from '../http/types';
import { cookies, header } from '../http/request';
import { unauthorized } from '../http/errors';
import type { Principal } from './principal';
import { principalFromClaims } from './principal';
import type { TokenConfig } from './token-verifier';
import { tokenConfigFromEnv, verifyPrincipal } from './token-verifier';
import { sessionCookie } from './session-cookies';

export async function authenticate(event: HttpEvent, config: TokenConfig = tokenConfigFromEnv()): Promise<Principal> {
  const claims = event.requestContext.authorizer?.jwt?.claims;
  if (claims) {
    const principal = principalFromClaims(claims, config.clientIds, 'authorizer');
    if (!principal) throw unauthorized('invalid_token', 'The access token was not issued to a medlake client.');
    return principal;
  }
  const authorization = header(event, 'authorization');
  if (authorization) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match?.[1]) throw unauthorized('invalid_token', 'Send the token as "Authorization: Bearer <token>".');
    return verifyPrincipal(match[1], config, 'bearer');
  }
  const session = cookies(event)[sessionCookie];
  if (session) return verifyPrincipal(session, config, 'cookie');
  throw unauthorized('unauthenticated', 'Sign in to continue.');
}

/** Like authenticate, but an anonymous or invalid caller is simply nobody (for public routes). */
export async function authenticateIfPresent(event: HttpEvent, config?: TokenConfig): Promise<Principal | undefined> {
  try {
    return await authenticate(event, config);
  } catch {
    return undefined;
  }
}
