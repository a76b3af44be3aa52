/**
 * The browser session: `medlake_session` (HttpOnly) holds the Cognito ID
 * token, `medlake_refresh` (HttpOnly, sent only to /api/session) the refresh
 * token, and `medlake_csrf` (readable by the page) a random value the SPA
 * echoes in `X-CSRF-Token` on state-changing calls (double submit). All
 * SameSite=Strict; Secure everywhere except plain http on localhost.
 * Two cookies rather than one: Cognito's tokens together pass the 4 KB limit.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { HttpEvent } from '../http/types';
import { header } from '../http/request';

export const sessionCookie = 'medlake_session';
export const refreshCookie = 'medlake_refresh';
export const csrfCookie = 'medlake_csrf';
export const csrfHeader = 'x-csrf-token';
const refreshPath = '/api/session';

export interface SessionTokens {
  idToken: string;
  refreshToken?: string;
}

/** Plain http is allowed only for a browser talking to this machine. */
export function secureCookies(event: HttpEvent): boolean {
  const host = (header(event, 'host') ?? event.requestContext.domainName ?? '').replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  const proto = header(event, 'x-forwarded-proto') ?? 'https';
  const local = host === 'localhost' || host === '127.0.0.1' || host === '::1' || host.endsWith('.localhost');
  return !(local && proto === 'http');
}

function cookie(name: string, value: string, options: { httpOnly: boolean; path: string; secure: boolean; maxAgeSeconds?: number }): string {
  const parts = [`${name}=${value}`, `Path=${options.path}`, 'SameSite=Strict'];
  if (options.httpOnly) parts.push('HttpOnly');
  if (options.secure) parts.push('Secure');
  if (options.maxAgeSeconds !== undefined) parts.push(`Max-Age=${options.maxAgeSeconds}`);
  return parts.join('; ');
}

export function newCsrfToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Set-Cookie values that start (or renew) a session. */
export function sessionCookies(event: HttpEvent, tokens: SessionTokens, csrfToken: string): string[] {
  const secure = secureCookies(event);
  const out = [cookie(sessionCookie, tokens.idToken, { httpOnly: true, path: '/', secure }), cookie(csrfCookie, csrfToken, { httpOnly: false, path: '/', secure })];
  if (tokens.refreshToken) out.push(cookie(refreshCookie, tokens.refreshToken, { httpOnly: true, path: refreshPath, secure }));
  return out;
}

export function clearedSessionCookies(event: HttpEvent): string[] {
  const secure = secureCookies(event);
  return [
    cookie(sessionCookie, '', { httpOnly: true, path: '/', secure, maxAgeSeconds: 0 }),
    cookie(csrfCookie, '', { httpOnly: false, path: '/', secure, maxAgeSeconds: 0 }),
    cookie(refreshCookie, '', { httpOnly: true, path: refreshPath, secure, maxAgeSeconds: 0 }),
  ];
}

/** Double submit: the header must equal the cookie; both must be present. */
export function csrfMatches(cookieValue: string | undefined, headerValue: string | undefined): boolean {
  if (!cookieValue || !headerValue) return false;
  const a = Buffer.from(cookieValue);
  const b = Buffer.from(headerValue);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function isStateChanging(method: string): boolean {
  return !['GET', 'HEAD', 'OPTIONS'].includes(method.toUpperCase());
}
