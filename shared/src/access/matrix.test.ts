import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { roles } from '../resources';
import { accessMatrix, accountState, actions, effectiveRoles, isAllowed, renderAccessMatrix } from './matrix';

describe('access matrix', () => {
  it('docs/access-matrix.md starts with the rendering of the matrix in code', () => {
    const docs = readFileSync(new URL('../../../docs/access-matrix.md', import.meta.url), 'utf8');
    expect(docs.startsWith(renderAccessMatrix().trimEnd())).toBe(true);
  });

  it('renders endpoints with the roles their action allows', () => {
    expect(renderAccessMatrix([{ method: 'GET', path: '/api/users', action: 'users:read' }])).toContain('| `GET /api/users` | `users:read` | admin |');
  });

  it('a user without groups (pending) may only do signed-in and public actions', () => {
    const pending = { groups: [], isMachine: false };
    expect(accountState(pending)).toBe('pending');
    const allowed = actions.filter((a) => isAllowed(pending, a));
    expect(allowed.sort()).toEqual(actions.filter((a) => accessMatrix[a].allowed.some((x) => x === 'public' || x === 'signed-in')).sort());
    expect(allowed).toContain('me:read');
  });

  it('anonymous callers may only do public actions', () => {
    expect(actions.filter((a) => isAllowed(undefined, a)).sort()).toEqual(['account:sign-up', 'health:read', 'session:manage', 'subscriptions:unsubscribe']);
  });

  it('a machine client keeps only the uploader role, whatever its groups', () => {
    const gateway = { groups: [...roles], isMachine: true };
    expect(effectiveRoles(gateway)).toEqual(['uploader']);
    expect(isAllowed(gateway, 'uploads:create')).toBe(true);
    expect(isAllowed(gateway, 'studies:read')).toBe(false);
    expect(isAllowed(gateway, 'users:manage')).toBe(false);
    expect(accountState({ groups: ['admin'], isMachine: true })).toBe('pending');
  });

  it.each(actions)('%s: each role is allowed exactly as the table says', (action) => {
    for (const role of roles) {
      const listed = (accessMatrix[action].allowed as readonly string[]).some((a) => a === role || a === 'public' || a === 'signed-in');
      expect(isAllowed({ groups: [role], isMachine: false }, action)).toBe(listed);
    }
  });

  it('only admins manage users, read the audit log and re-identify', () => {
    for (const action of ['users:manage', 'users:read', 'audit:read', 'phi:reidentify'] as const) {
      expect(roles.filter((role) => isAllowed({ groups: [role], isMachine: false }, action))).toEqual(['admin']);
    }
  });
});
