/**
 * Verifies a Cognito JWT the way API Gateway's JWT authorizer does: RS256
 * signature against the pool's JWKS, issuer, expiry, and the app client
 * (`aud` of ID tokens, `client_id` of access tokens). Both token uses are
 * accepted: browsers hold the ID token (it names the user's email), machine
 * clients usually send the access token. `jose` rather than aws-jwt-verify,
 * which refuses the emulator's pool id and its plain-http JWKS URL.
 */
import { createRemoteJWKSet, errors, jwtVerify } from 'jose';
import { envNames } from '@medlake/shared/resources';
import { unauthorized } from '../http/errors';
import type { Claims, ClientIds, Principal } from './principal';
import { principalFromClaims } from './principal';

export interface TokenConfig {
  issuer: string;
  jwksUrl: string;
  clientIds: ClientIds;
}

export function tokenConfigFromEnv(env: NodeJS.ProcessEnv = process.env): TokenConfig {
  const issuer = env[envNames.jwtIssuer];
  const jwksUrl = env[envNames.jwksUrl] ?? (issuer ? `${issuer}/.well-known/jwks.json` : undefined);
  if (!issuer || !jwksUrl) throw new Error(`${envNames.jwtIssuer} (and ${envNames.jwksUrl}) must be set to verify tokens`);
  return { issuer, jwksUrl, clientIds: { web: env[envNames.webClientId], gateway: env[envNames.gatewayClientId] } };
}

const keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

function keySet(url: string): ReturnType<typeof createRemoteJWKSet> {
  let set = keySets.get(url);
  if (!set) {
    set = createRemoteJWKSet(new URL(url), { cooldownDuration: 30_000, cacheMaxAge: 10 * 60_000 });
    keySets.set(url, set);
  }
  return set;
}

/** Returns the verified claims, or throws a 401 HttpError (`token_expired` or `invalid_token`). */
export async function verifyToken(token: string, config: TokenConfig): Promise<Claims> {
  try {
    const { payload } = await jwtVerify(token, keySet(config.jwksUrl), {
      issuer: config.issuer,
      algorithms: ['RS256'],
      requiredClaims: ['exp', 'sub', 'token_use'],
      clockTolerance: 5,
    });
    return payload as Claims;
  } catch (error) {
    if (error instanceof errors.JWTExpired) throw unauthorized('token_expired', 'Your session has expired. Sign in again.');
    if (error instanceof errors.JOSEError) throw unauthorized('invalid_token', 'The access token is not valid.');
    throw error;
  }
}

export async function verifyPrincipal(token: string, config: TokenConfig, via: Principal['via']): Promise<Principal> {
  const claims = await verifyToken(token, config);
  const principal = principalFromClaims(claims, config.clientIds, via);
  if (!principal) throw unauthorized('invalid_token', 'The access token was not issued to a medlake client.');
  return principal;
}
