import { describe, expect, it } from 'vitest';
import type { Me, Role } from '../api/types';
import { can, homePath } from './permissions';

const me = (roles: Role[], isMachine = false): Me => ({ sub: 's', username: 'u', email: 'u@x', groups: roles, roles, clientId: 'c', isMachine, state: roles.length ? 'active' : 'pending' });

describe('role-aware navigation', () => {
  it('offers each role what the access matrix allows it', () => {
    expect(can(me(['uploader']), 'uploads:create')).toBe(true);
    expect(can(me(['uploader']), 'studies:read')).toBe(false);
    expect(can(me(['annotator']), 'studies:read')).toBe(true);
    expect(can(me(['researcher']), 'users:read')).toBe(false);
    expect(can(me(['admin']), 'audit:read')).toBe(true);
    expect(can(undefined, 'studies:read')).toBe(false);
  });

  it('starts each user on the first page their roles open', () => {
    expect(homePath(me(['annotator', 'uploader']))).toBe('/studies');
    expect(homePath(me(['uploader']))).toBe('/upload');
    expect(homePath(me([]))).toBe('/pending');
  });
});
