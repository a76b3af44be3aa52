/**
 * Administrators' changes to accounts, as requests see them. Tokens carry a
 * user's groups for up to an hour; without this, a disabled or demoted user
 * kept their access until then. `functions/src/api/users.ts` records each
 * disable, enable and change of groups in `account_changes`; every
 * authenticated request is then checked against the account's row:
 * - disabled → 401 `account_disabled`;
 * - the token carries other groups than the last change of groups set, and
 *   was issued (`iat`, whole seconds) before that change or within a few
 *   seconds after it (clocks of Cognito and the database differ a little, and
 *   a token minted while the change was on its way still has the old groups)
 *   → 401 `token_stale`. The web app refreshes its session on any 401 and
 *   retries: the new token has the new groups (the refresh checks the
 *   account too), so it is never stale. Comparing the groups as well as the
 *   time is what makes a refresh always end the 401s; groups changed in the
 *   Cognito console (not through the API) are not seen here.
 * Each container caches the rows (most accounts have none) for a few
 * seconds in a bounded LRU: a request costs a map lookup, a miss one
 * primary-key query; concurrent misses for one account share it. A change
 * made through this container is seen at once, elsewhere within the TTL.
 */
import { LRUCache } from 'lru-cache';
import type pg from 'pg';
import type { Role } from '@medlake/shared/resources';
import { roles } from '@medlake/shared/resources';
import type { Queryable } from '../adapters/database';
import { databasePool } from '../adapters/database';
import { unauthorized } from '../http/errors';
import type { Principal } from './principal';

export interface AccountChange {
  changedAt: Date;
  disabled: boolean;
  /** The groups the last change of groups set; null when only disabled or enabled. */
  groups: readonly Role[] | null;
}

export interface AccountChangesOptions {
  /** How long a row (or its absence) is trusted in this container. */
  ttlMs?: number;
  /** Accounts remembered at most (least recently used out first). */
  maxEntries?: number;
  /** Milliseconds of a monotonic clock (tests step it). */
  clock?: () => number;
}

interface ChangeRow {
  changed_at: Date;
  disabled: boolean;
  groups: string[] | null;
}

/** A cache entry: the row, or that there is none (lru-cache keeps no undefined values). */
interface Cached {
  change: AccountChange | null;
}

function sameGroups(a: readonly string[], b: readonly string[]): boolean {
  const left = [...new Set(a)].sort();
  const right = [...new Set(b)].sort();
  return left.length === right.length && left.every((g, i) => g === right[i]);
}

/** Tokens issued up to this long after a change of groups are still checked against it. */
export const changeSkewSeconds = 5;

/** 401 for a token its account no longer backs (see the module comment); nothing otherwise. */
export function checkAccountStanding(principal: Principal, change: AccountChange | null): void {
  if (!change) return;
  if (change.disabled) throw unauthorized('account_disabled', 'This account is disabled. Ask an administrator.');
  if (change.groups === null) return;
  const changedAtSeconds = Math.floor(change.changedAt.getTime() / 1000);
  const issuedBefore = principal.issuedAt === undefined || principal.issuedAt <= changedAtSeconds + changeSkewSeconds;
  if (issuedBefore && !sameGroups(principal.groups, change.groups)) {
    throw unauthorized('token_stale', 'Your roles have changed since you signed in: refresh your session (the web app does it by itself) to continue.');
  }
}

export class AccountChanges {
  private readonly cache: LRUCache<string, Cached>;

  constructor(
    private readonly db: Queryable,
    options: AccountChangesOptions = {},
  ) {
    this.cache = new LRUCache<string, Cached>({
      max: options.maxEntries ?? 10_000,
      ttl: options.ttlMs ?? 5_000,
      // A given clock is read on every check (no caching of the time between checks).
      ...(options.clock ? { perf: { now: options.clock }, ttlResolution: 0 } : {}),
      fetchMethod: async (sub) => ({ change: await this.load(sub) }),
    });
  }

  /** The account's last recorded change, or null (cached for a few seconds). */
  async latest(sub: string): Promise<AccountChange | null> {
    return (await this.cache.fetch(sub))?.change ?? null;
  }

  /** Throws 401 when the account of this token was disabled, or its groups changed since the token was issued. */
  async check(principal: Principal): Promise<void> {
    checkAccountStanding(principal, await this.latest(principal.sub));
  }

  async recordGroups(sub: string, groups: readonly Role[]): Promise<void> {
    await this.db.query(
      `INSERT INTO account_changes (sub, changed_at, groups) VALUES ($1, now(), $2)
       ON CONFLICT (sub) DO UPDATE SET changed_at = now(), groups = EXCLUDED.groups`,
      [sub, [...new Set(groups)].sort()],
    );
    this.cache.delete(sub);
  }

  async recordDisabled(sub: string, disabled: boolean): Promise<void> {
    await this.db.query(
      `INSERT INTO account_changes (sub, changed_at, disabled) VALUES ($1, now(), $2)
       ON CONFLICT (sub) DO UPDATE SET changed_at = now(), disabled = EXCLUDED.disabled`,
      [sub, disabled],
    );
    this.cache.delete(sub);
  }

  private async load(sub: string): Promise<AccountChange | null> {
    const row = (await this.db.query<ChangeRow>('SELECT changed_at, disabled, groups FROM account_changes WHERE sub = $1', [sub])).rows[0];
    if (!row) return null;
    return {
      changedAt: row.changed_at,
      disabled: row.disabled,
      groups: row.groups === null ? null : row.groups.filter((g): g is Role => (roles as readonly string[]).includes(g)),
    };
  }
}

let shared: { pool: pg.Pool; changes: AccountChanges } | undefined;

/** The container's account changes, on its database pool (one cache for every request it serves). */
export function accountChangesFromEnv(): AccountChanges {
  const pool = databasePool();
  if (shared?.pool !== pool) shared = { pool, changes: new AccountChanges(pool) };
  return shared.changes;
}
