import { describe, expect, it } from 'vitest';
import type { HttpEvent } from '../http/types';
import { clearedSessionCookies, csrfMatches, secureCookies, sessionCookies } from './session-cookies';

const event = (host: string, proto: string) => ({ headers: { host, 'x-forwarded-proto': proto }, requestContext: { domainName: host } }) as unknown as HttpEvent;

describe('session cookies', () => {
  it('are HttpOnly, SameSite=Strict and Secure behind https', () => {
    const [session, csrf, refresh] = sessionCookies(event('medlake.example.org', 'https'), { idToken: 'id.tok.en', refreshToken: 'refresh' }, 'c1');
    expect(session).toBe('medlake_session=id.tok.en; Path=/; SameSite=Strict; HttpOnly; Secure');
    expect(csrf).toBe('medlake_csrf=c1; Path=/; SameSite=Strict; Secure');
    expect(refresh).toBe('medlake_refresh=refresh; Path=/api/session; SameSite=Strict; HttpOnly; Secure');
  });

  it('drop Secure only for plain http on localhost', () => {
    expect(secureCookies(event('localhost:3000', 'http'))).toBe(false);
    expect(secureCookies(event('127.0.0.1:3000', 'http'))).toBe(false);
    expect(secureCookies(event('medlake.example.org', 'http'))).toBe(true);
    expect(secureCookies(event('localhost:3000', 'https'))).toBe(true);
  });

  it('are cleared with Max-Age=0 on sign-out', () => {
    expect(clearedSessionCookies(event('localhost', 'http')).every((c) => c.includes('Max-Age=0'))).toBe(true);
  });

  it('CSRF double submit needs both values, equal', () => {
    expect(csrfMatches('abc', 'abc')).toBe(true);
    expect(csrfMatches('abc', 'abd')).toBe(false);
    expect(csrfMatches('abc', undefined)).toBe(false);
    expect(csrfMatches(undefined, undefined)).toBe(false);
    expect(csrfMatches('abc', 'abcd')).toBe(false);
  });
});
