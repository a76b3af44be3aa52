import { describe, expect, it } from 'vitest';
import type { Role } from '@medlake/shared/resources';
import { HttpError } from '../http/errors';
import type { AccountChange } from './account-changes';
import { checkAccountStanding } from './account-changes';
import type { Principal } from './principal';

const changedAt = new Date('2026-11-25T10:00:00.600Z');
const changedAtSeconds = Math.floor(changedAt.getTime() / 1000);

function principal(groups: Role[], issuedAt: number | undefined): Principal {
  return { sub: 's', username: 'u', email: 'u@x.test', groups, clientId: 'web', isMachine: false, tokenUse: 'id', via: 'cookie', issuedAt };
}

function refusal(p: Principal, change: AccountChange | null): string | undefined {
  try {
    checkAccountStanding(p, change);
    return undefined;
  } catch (error) {
    if (error instanceof HttpError) return `${error.status} ${error.code}`;
    throw error;
  }
}

describe('a token against its account', () => {
  it.each<[string, Principal, AccountChange | null, string | undefined]>([
    ['no change ever', principal(['researcher'], 100), null, undefined],
    ['disabled, whatever the token', principal(['admin'], changedAtSeconds + 60), { changedAt, disabled: true, groups: null }, '401 account_disabled'],
    ['demoted, token from before', principal(['researcher', 'annotator'], changedAtSeconds - 1), { changedAt, disabled: false, groups: ['annotator'] }, '401 token_stale'],
    ['demoted, token without iat', principal(['researcher'], undefined), { changedAt, disabled: false, groups: ['annotator'] }, '401 token_stale'],
    ['approved, pending token from before', principal([], changedAtSeconds - 30), { changedAt, disabled: false, groups: ['annotator'] }, '401 token_stale'],
    ['changed, token issued after with the new groups', principal(['annotator'], changedAtSeconds + 1), { changedAt, disabled: false, groups: ['annotator'] }, undefined],
    // A refresh in the second of the change, or by a Cognito clock a little behind, carries the new groups: never a 401 loop.
    ['changed, token "before" by the clock but with the new groups', principal(['annotator'], changedAtSeconds - 2), { changedAt, disabled: false, groups: ['annotator'] }, undefined],
    ['changed, token of the same second with the new groups', principal(['annotator'], changedAtSeconds), { changedAt, disabled: false, groups: ['annotator'] }, undefined],
    ['changed, old groups in a token of the same second', principal(['researcher'], changedAtSeconds), { changedAt, disabled: false, groups: ['annotator'] }, '401 token_stale'],
    ['changed, old groups in a token a few seconds after (clock skew)', principal(['researcher'], changedAtSeconds + 5), { changedAt, disabled: false, groups: ['annotator'] }, '401 token_stale'],
    ['groups set in another order', principal(['researcher', 'annotator'], 1), { changedAt, disabled: false, groups: ['annotator', 'researcher'] }, undefined],
    ['enabled again, only the disable recorded', principal(['researcher'], 1), { changedAt, disabled: false, groups: null }, undefined],
    // Groups changed in the Cognito console are not recorded here: a token issued after the last recorded change stands.
    ['token issued well after the change with other groups', principal(['admin'], changedAtSeconds + 6), { changedAt, disabled: false, groups: ['annotator'] }, undefined],
  ])('%s', (_name, p, change, expected) => {
    expect(refusal(p, change)).toBe(expected);
  });
});
