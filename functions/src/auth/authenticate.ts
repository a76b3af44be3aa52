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

/**
 * Behind CloudFront, DICOMweb reads reach the dicomweb-stream function through
 * its Function URL, which only CloudFront may invoke: CloudFront signs those
 * requests with SigV4 in the Authorization header and Lambda verifies the
 * signature (`requestContext.authorizer.iam`). The caller's own token then
 * travels in this header, put there by CloudFront's viewer-request function
 * (infra/src/edge-functions.ts). It counts nowhere else.
 */
export const forwardedAuthorizationHeader = 'x-medlake-authorization';

/** The caller's Authorization value: the forwarded one on requests CloudFront signed for a Function URL. */
function callerAuthorization(event: HttpEvent): string | undefined {
  if (event.requestContext.authorizer?.iam) return header(event, forwardedAuthorizationHeader);
  return header(event, 'authorization');
}

export async function authenticate(event: HttpEvent, config: TokenConfig = tokenConfigFromEnv()): Promise<Principal> {
  const claims = event.requestContext.authorizer?.jwt?.claims;
  if (claims) {
    const principal = principalFromClaims(claims, config.clientIds, 'authorizer');
    if (!principal) throw unauthorized('invalid_token', 'The access token was not issued to a medlake client.');
    return principal;
  }
  const authorization = callerAuthorization(event);
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
