import { describe, expect, it } from 'vitest';
import { groupsClaim, principalFromClaims } from './principal';

const clients = { web: 'web-id', gateway: 'gateway-id' };

describe('groups claim', () => {
  it.each([
    [['admin', 'uploader'], ['admin', 'uploader']],
    ['[admin uploader]', ['admin', 'uploader']],
    ['[admin]', ['admin']],
    ['[]', []],
    ['["admin","researcher"]', ['admin', 'researcher']],
    ['[admin, researcher]', ['admin', 'researcher']],
    ['annotator', ['annotator']],
    ['', []],
    [undefined, []],
    [42, []],
  ])('%j reads as %j', (value, expected) => {
    expect(groupsClaim(value)).toEqual(expected);
  });
});

describe('principal from verified claims', () => {
  it('reads an ID token: username, email, client from aud', () => {
    const p = principalFromClaims({ sub: 's1', token_use: 'id', aud: 'web-id', 'cognito:username': 'u1', email: 'a@b.org', 'cognito:groups': ['researcher'] }, clients, 'bearer');
    expect(p).toMatchObject({ sub: 's1', username: 'u1', email: 'a@b.org', groups: ['researcher'], clientId: 'web-id', isMachine: false, tokenUse: 'id' });
  });

  it('reads an access token of the gateway client as a machine client', () => {
    const p = principalFromClaims({ sub: 's2', token_use: 'access', client_id: 'gateway-id', username: 'gw', 'cognito:groups': '[uploader]' }, clients, 'authorizer');
    expect(p).toMatchObject({ username: 'gw', email: undefined, groups: ['uploader'], isMachine: true, tokenUse: 'access' });
  });

  it('ignores groups that are not medlake roles', () => {
    expect(principalFromClaims({ sub: 's', token_use: 'id', aud: 'web-id', 'cognito:groups': '[admin us-east-1_Google]' }, clients, 'cookie')?.groups).toEqual(['admin']);
  });

  it.each([
    ['another app client', { sub: 's', token_use: 'id', aud: 'elsewhere' }],
    ['a refresh or unknown token use', { sub: 's', token_use: 'refresh', aud: 'web-id' }],
    ['no subject', { token_use: 'id', aud: 'web-id' }],
    ['an access token with only aud', { sub: 's', token_use: 'access', aud: 'web-id' }],
  ])('refuses %s', (_name, claims) => {
    expect(principalFromClaims(claims, clients, 'bearer')).toBeUndefined();
  });
});
