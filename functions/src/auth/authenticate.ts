/**
 * The one way a handler learns who is calling. Claims already verified by API
 * Gateway's JWT authorizer are trusted as they are; otherwise the handler
 * verifies the Bearer token or the session cookie itself (cookie requests pass
 * the authorizer untouched, and the local front door behaves the same).
 */
import type { HttpEvent } from '../http/types';
import { cookies, header } from '../http/request';
import { HttpError, unauthorized } from '../http/errors';
import { accountChangesFromEnv } from './account-changes';
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

/** Checks a principal against its account as it stands now (functions/src/auth/account-changes.ts). */
export interface AccountStanding {
  check(principal: Principal): Promise<void>;
}

/**
 * What the HTTP pipeline runs: the token, then the account behind it
 * (disabled since, or given other groups since the token was issued: 401).
 */
export async function authenticateCurrent(event: HttpEvent, config: TokenConfig = tokenConfigFromEnv(), accounts: AccountStanding = accountChangesFromEnv()): Promise<Principal> {
  const principal = await authenticate(event, config);
  await accounts.check(principal);
  return principal;
}

/** authenticateCurrent for public routes: a caller whose token or account does not hold is nobody. */
export async function authenticateCurrentIfPresent(event: HttpEvent, config?: TokenConfig, accounts?: AccountStanding): Promise<Principal | undefined> {
  const principal = await authenticateIfPresent(event, config);
  if (!principal) return undefined;
  try {
    await (accounts ?? accountChangesFromEnv()).check(principal);
    return principal;
  } catch (error) {
    if (error instanceof HttpError && error.status === 401) return undefined;
    throw error;
  }
}
