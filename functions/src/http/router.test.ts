import { describe, expect, it } from 'vitest';
import { json } from './response';
import type { Route } from './router';
import { Router } from './router';

const r = (method: Route['method'], path: string): Route => ({ method, path, action: 'health:read', handle: () => json(200, { path }) });

describe('router', () => {
  const router = new Router([r('GET', '/api/users'), r('GET', '/api/users/{username}'), r('GET', '/api/users/pending'), r('POST', '/api/users/{username}/approve'), r('GET', '/dicomweb/studies/{study}/series/{series}/instances/{instance}/frames/{frames}'), r('GET', '/files/{key+}')]);

  it('extracts decoded path parameters', () => {
    const m = router.match('POST', '/api/users/alice%40example.org/approve');
    expect(m).toMatchObject({ kind: 'found', params: { username: 'alice@example.org' } });
  });

  it('prefers literal segments over parameters', () => {
    const m = router.match('GET', '/api/users/pending');
    expect(m.kind === 'found' && m.route.path).toBe('/api/users/pending');
  });

  it('matches deep DICOMweb paths with several parameters', () => {
    expect(router.match('GET', '/dicomweb/studies/1.2/series/3.4/instances/5.6/frames/1,2')).toMatchObject({ params: { study: '1.2', series: '3.4', instance: '5.6', frames: '1,2' } });
  });

  it('matches a greedy tail parameter across slashes', () => {
    expect(router.match('GET', '/files/a/b/c.txt')).toMatchObject({ params: { key: 'a/b/c.txt' } });
  });

  it('tolerates a trailing slash', () => {
    expect(router.match('GET', '/api/users/').kind).toBe('found');
  });

  it('answers HEAD with the GET route', () => {
    expect(router.match('HEAD', '/api/users').kind).toBe('found');
  });

  it('tells a wrong method apart from an unknown path', () => {
    expect(router.match('DELETE', '/api/users')).toEqual({ kind: 'method-not-allowed', allowed: ['GET'] });
    expect(router.match('GET', '/api/nothing')).toEqual({ kind: 'not-found' });
  });

  it('refuses the same route declared twice', () => {
    expect(() => new Router([r('GET', '/a'), r('GET', '/a')])).toThrow(/twice/);
  });
});
