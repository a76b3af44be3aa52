/**
 * Subscriptions in PostgreSQL: a user's saved searches, whether each one is
 * active (and why not), and how many studies each has sent. Owners see and
 * change only their own; the digest job (functions/src/notify) reads them all.
 */
import { randomUUID } from 'node:crypto';
import type { StudyFilter } from '@medlake/shared/query/study-filter';
import { savedSearchJson } from '@medlake/shared/subscriptions/saved-search';
import type { Queryable } from './database';

export type InactiveReason = 'paused' | 'unsubscribed' | 'account_disabled' | 'access_removed';

export interface SubscriptionRecord {
  subscriptionId: string;
  ownerSub: string;
  ownerEmail: string;
  name: string;
  /** Canonical StudyFilter JSON. */
  filter: Record<string, unknown>;
  active: boolean;
  inactiveReason: InactiveReason | null;
  watchFrom: Date;
  lastDigestAt: Date | null;
  studiesSent: number;
  createdAt: Date;
  updatedAt: Date;
}

interface Row {
  subscription_id: string;
  owner_sub: string;
  owner_email: string;
  name: string;
  filter: Record<string, unknown>;
  active: boolean;
  inactive_reason: InactiveReason | null;
  watch_from: Date;
  last_digest_at: Date | null;
  studies_sent: number;
  created_at: Date;
  updated_at: Date;
}

const columns = `s.subscription_id, s.owner_sub, s.owner_email, s.name, s.filter, s.active, s.inactive_reason, s.watch_from, s.last_digest_at, s.created_at, s.updated_at,
  (SELECT count(*)::int FROM subscription_studies ss WHERE ss.subscription_id = s.subscription_id) AS studies_sent`;

function record(row: Row): SubscriptionRecord {
  return {
    subscriptionId: row.subscription_id,
    ownerSub: row.owner_sub,
    ownerEmail: row.owner_email,
    name: row.name,
    filter: row.filter,
    active: row.active,
    inactiveReason: row.inactive_reason,
    watchFrom: row.watch_from,
    lastDigestAt: row.last_digest_at,
    studiesSent: row.studies_sent,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export interface SubscriptionChange {
  name?: string;
  filter?: StudyFilter;
  /** false pauses; true resumes (watching from now on). */
  active?: boolean;
}

export class SubscriptionStore {
  constructor(private readonly db: Queryable) {}

  async countOwned(ownerSub: string): Promise<number> {
    const result = await this.db.query<{ n: number }>('SELECT count(*)::int AS n FROM subscriptions WHERE owner_sub = $1', [ownerSub]);
    return result.rows[0]?.n ?? 0;
  }

  async create(input: { ownerSub: string; ownerEmail: string; name: string; filter: StudyFilter }): Promise<SubscriptionRecord> {
    const id = randomUUID();
    await this.db.query('INSERT INTO subscriptions (subscription_id, owner_sub, owner_email, name, filter) VALUES ($1, $2, $3, $4, $5)', [
      id, input.ownerSub, input.ownerEmail, input.name, JSON.stringify(savedSearchJson(input.filter)),
    ]);
    return (await this.get(id)) as SubscriptionRecord;
  }

  async listOwned(ownerSub: string): Promise<SubscriptionRecord[]> {
    const result = await this.db.query<Row>(`SELECT ${columns} FROM subscriptions s WHERE s.owner_sub = $1 ORDER BY s.created_at, s.subscription_id`, [ownerSub]);
    return result.rows.map(record);
  }

  async get(subscriptionId: string): Promise<SubscriptionRecord | undefined> {
    const result = await this.db.query<Row>(`SELECT ${columns} FROM subscriptions s WHERE s.subscription_id = $1`, [subscriptionId]);
    return result.rows[0] ? record(result.rows[0]) : undefined;
  }

  /** The subscription if `ownerSub` owns it (others' are as good as absent). */
  async getOwned(subscriptionId: string, ownerSub: string): Promise<SubscriptionRecord | undefined> {
    const found = await this.get(subscriptionId);
    return found?.ownerSub === ownerSub ? found : undefined;
  }

  /**
   * Applies a change. A new filter, or resuming, starts watching from now:
   * studies that already existed are not news. Studies already sent stay sent.
   */
  async update(subscriptionId: string, ownerSub: string, change: SubscriptionChange): Promise<SubscriptionRecord | undefined> {
    const sets: string[] = ['updated_at = now()'];
    const values: unknown[] = [subscriptionId, ownerSub];
    const set = (sql: string, value: unknown) => {
      values.push(value);
      sets.push(sql.replace('?', `$${values.length}`));
    };
    if (change.name !== undefined) set('name = ?', change.name);
    const restart = 'watch_from = now(), checked_through = NULL, pending_since = NULL';
    if (change.filter !== undefined) {
      set('filter = ?', JSON.stringify(savedSearchJson(change.filter)));
      sets.push(restart);
    }
    if (change.active === false) sets.push("active = false, inactive_reason = 'paused'");
    if (change.active === true) {
      sets.push('active = true, inactive_reason = NULL');
      // Resuming a paused subscription: what arrived meanwhile is not sent (the right-hand sides read the old row).
      if (change.filter === undefined) sets.push('watch_from = CASE WHEN active THEN watch_from ELSE now() END', 'checked_through = CASE WHEN active THEN checked_through END', 'pending_since = CASE WHEN active THEN pending_since END');
    }
    const result = await this.db.query(`UPDATE subscriptions SET ${sets.join(', ')} WHERE subscription_id = $1 AND owner_sub = $2`, values);
    return result.rowCount ? this.get(subscriptionId) : undefined;
  }

  async delete(subscriptionId: string, ownerSub: string): Promise<boolean> {
    const result = await this.db.query('DELETE FROM subscriptions WHERE subscription_id = $1 AND owner_sub = $2', [subscriptionId, ownerSub]);
    return (result.rowCount ?? 0) > 0;
  }

  /** The email link: deactivates; answers the state it found (undefined: no such subscription). */
  async unsubscribe(subscriptionId: string): Promise<{ outcome: 'unsubscribed' | 'already'; record: SubscriptionRecord } | undefined> {
    const changed = await this.db.query(
      "UPDATE subscriptions SET active = false, inactive_reason = 'unsubscribed', updated_at = now() WHERE subscription_id = $1 AND active",
      [subscriptionId],
    );
    const found = await this.get(subscriptionId);
    if (!found) return undefined;
    return { outcome: changed.rowCount ? 'unsubscribed' : 'already', record: found };
  }

  /** An administrator disabled the account or took its access away: its subscriptions stop. */
  async suspendOwner(ownerSub: string, reason: 'account_disabled' | 'access_removed'): Promise<number> {
    const result = await this.db.query('UPDATE subscriptions SET active = false, inactive_reason = $2, updated_at = now() WHERE owner_sub = $1 AND active', [ownerSub, reason]);
    return result.rowCount ?? 0;
  }

  /** The account is back: subscriptions suspended for `reason` resume, watching from now on. */
  async resumeOwner(ownerSub: string, reason: 'account_disabled' | 'access_removed'): Promise<number> {
    const result = await this.db.query(
      `UPDATE subscriptions SET active = true, inactive_reason = NULL, watch_from = now(), checked_through = NULL, pending_since = NULL, updated_at = now()
       WHERE owner_sub = $1 AND inactive_reason = $2`,
      [ownerSub, reason],
    );
    return result.rowCount ?? 0;
  }
}
