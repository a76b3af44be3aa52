/** Who is calling, as every handler sees it, whatever way the token arrived. */
import type { Role } from '@medlake/shared/resources';
import { roles } from '@medlake/shared/resources';

export interface Principal {
  sub: string;
  username: string;
  /** Only ID tokens carry the email; access tokens (machine clients) do not. */
  email: string | undefined;
  /** Cognito groups that are medlake roles; none means "pending approval". */
  groups: Role[];
  clientId: string;
  /** A hospital gateway (the gateway app client): uploader actions only. */
  isMachine: boolean;
  tokenUse: 'access' | 'id';
  /** How the token arrived: verified by API Gateway, a Bearer header, or the session cookie. */
  via: 'authorizer' | 'bearer' | 'cookie';
  /**
   * When this token was issued (`iat`, seconds since 1970). Not `auth_time`:
   * Cognito keeps the sign-in time there across refreshes, and a refreshed
   * token is a new token with the groups of its own time.
   */
  issuedAt: number | undefined;
}

export type Claims = Record<string, unknown>;

/**
 * `cognito:groups` as a list, from any of its forms: a JSON array (verified
 * token), or API Gateway's authorizer context string "[admin uploader]"
 * (sometimes comma-separated, sometimes a JSON array in a string).
 */
export function groupsClaim(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  if (typeof value !== 'string') return [];
  const text = value.trim();
  if (text.startsWith('[') && text.endsWith(']')) {
    const inner = text.slice(1, -1).trim();
    if (inner.startsWith('"')) {
      try {
        const parsed: unknown = JSON.parse(text);
        if (Array.isArray(parsed)) return parsed.map(String);
      } catch {
        // not JSON after all: fall through to splitting
      }
    }
    return inner.split(/[\s,]+/).map((g) => g.replace(/^"|"$/g, '')).filter(Boolean);
  }
  return text ? text.split(/[\s,]+/).filter(Boolean) : [];
}

export interface ClientIds {
  web: string | undefined;
  gateway: string | undefined;
}

/** The app client a token was issued to: `client_id` in access tokens, `aud` in ID tokens. */
export function tokenClientId(claims: Claims): string | undefined {
  const tokenUse = claims.token_use;
  const value = tokenUse === 'access' ? claims.client_id : claims.aud;
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
  return undefined;
}

/** Builds the principal from already verified claims; undefined if they are not a usable Cognito token. */
export function principalFromClaims(claims: Claims, clientIds: ClientIds, via: Principal['via']): Principal | undefined {
  const tokenUse = claims.token_use;
  if (tokenUse !== 'access' && tokenUse !== 'id') return undefined;
  const sub = claims.sub;
  const clientId = tokenClientId(claims);
  if (typeof sub !== 'string' || !sub || !clientId) return undefined;
  if (clientId !== clientIds.web && clientId !== clientIds.gateway) return undefined;
  const username = typeof claims['cognito:username'] === 'string' ? claims['cognito:username'] : typeof claims.username === 'string' ? claims.username : sub;
  const email = typeof claims.email === 'string' ? claims.email : undefined;
  const groups = groupsClaim(claims['cognito:groups']).filter((g): g is Role => (roles as readonly string[]).includes(g));
  // API Gateway's authorizer context hands numeric claims over as strings.
  const iat = Number(claims.iat);
  const issuedAt = claims.iat !== undefined && claims.iat !== null && Number.isFinite(iat) ? iat : undefined;
  return { sub, username, email, groups, clientId, isMachine: clientId === clientIds.gateway, tokenUse, via, issuedAt };
}
