/**
 * The subscription digest run. For every active subscription, in its own
 * transaction (row-locked, so two runs never send the same digest):
 * the studies matching its saved search that were first indexed since it
 * started watching, changed since its last pass, and not sent before. The
 * decision (shared/src/subscriptions/digest-schedule.ts) sends them now as ONE
 * email, or waits for the burst to settle (a run is requested for then), or
 * there is nothing to do. Sent studies are recorded with the digest, the
 * email goes out, then the transaction commits: a failed send sends nothing
 * and is retried; a crash after sending at worst sends a digest twice.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type pg from 'pg';
import { QueryError } from '@medlake/shared/query/errors';
import type { StudyFilter } from '@medlake/shared/query/study-filter';
import { studyFilterWhere } from '@medlake/shared/query/study-filter-sql';
import { SqlParameters } from '@medlake/shared/query/sql';
import type { DigestSettings } from '@medlake/shared/subscriptions/digest-schedule';
import { digestDecision } from '@medlake/shared/subscriptions/digest-schedule';
import type { DigestStudy } from '@medlake/shared/subscriptions/digest-email';
import { maxListedStudies, renderDigestEmail } from '@medlake/shared/subscriptions/digest-email';
import { savedSearchFromJson } from '@medlake/shared/subscriptions/saved-search';
import { signUnsubscribeToken } from '@medlake/shared/subscriptions/unsubscribe-token';
import { AuditLog } from '../adapters/audit-log';
import { isoDateOf } from '../adapters/database';
import type { Mailer } from '../adapters/mailer';

/**
 * An ingest transaction stamps `updated_at` when it starts and becomes
 * visible when it commits, archive writes in between: a pass looks this far
 * behind its last one so a long transaction is not missed.
 */
export const changeMarginSeconds = 900;

export interface DigestContext {
  db: pg.Pool;
  mailer: Mailer;
  settings: DigestSettings;
  /** PUBLIC_BASE_URL. */
  baseUrl: string;
  /** Key of the unsubscribe tokens. */
  tokenKey: Uint8Array;
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
}

export interface DigestRunOptions {
  /** Continue a run that stopped early: subscriptions after this id only. */
  afterId?: string;
  /** Stop (and say where) once this much time is left before the invocation's deadline. */
  remainingMs?: () => number;
}

/** Time kept back for the subscription in progress and the continuation message. */
const deadlineMarginMs = 5_000;

export interface DigestRunResult {
  /** Set when the run stopped before the deadline: continue after this subscription id. */
  resumeAfter?: string;
  subscriptions: number;
  digestsSent: number;
  studiesSent: number;
  failed: number;
  /** The earliest moment a waiting subscription is due (a run must be requested for it). */
  nextDueAt: Date | undefined;
}

interface SubscriptionRow {
  subscription_id: string;
  owner_sub: string;
  owner_email: string;
  name: string;
  filter: unknown;
  watch_from: Date;
  checked_through: Date | null;
  pending_since: Date | null;
  last_digest_at: Date | null;
  now: Date;
}

type Outcome = { kind: 'sent'; studies: number } | { kind: 'wait'; until: Date } | { kind: 'idle' } | { kind: 'skipped' };

export async function runSubscriptionDigests(context: DigestContext, options: DigestRunOptions = {}): Promise<DigestRunResult> {
  const ids = await context.db.query<{ subscription_id: string }>(
    'SELECT subscription_id FROM subscriptions WHERE active AND subscription_id > $1 ORDER BY subscription_id',
    [options.afterId ?? '00000000-0000-0000-0000-000000000000'],
  );
  const result: DigestRunResult = { subscriptions: 0, digestsSent: 0, studiesSent: 0, failed: 0, nextDueAt: undefined };
  let previous: string | undefined;
  for (const { subscription_id: id } of ids.rows) {
    // Thousands of subscriptions may not fit one invocation: stop in time and let a continuation take the rest.
    if (previous && options.remainingMs && options.remainingMs() < deadlineMarginMs) {
      result.resumeAfter = previous;
      break;
    }
    previous = id;
    result.subscriptions++;
    try {
      const outcome = await digestOne(context, id);
      if (outcome.kind === 'sent') {
        result.digestsSent++;
        result.studiesSent += outcome.studies;
      }
      if (outcome.kind === 'wait' && (!result.nextDueAt || outcome.until < result.nextDueAt)) result.nextDueAt = outcome.until;
    } catch (error) {
      result.failed++;
      const e = error as Error;
      context.logger.error('subscription digest failed', { subscriptionId: id, error: { name: e.name, message: e.message, stack: e.stack } });
    }
  }
  return result;
}

/** The candidate studies of a subscription, as a WHERE clause over studies `s` / patients `p`. */
function candidatesWhere(filter: StudyFilter, row: SubscriptionRow, params: SqlParameters): string {
  const where = studyFilterWhere(filter, params);
  const since = row.checked_through ? new Date(row.checked_through.getTime() - changeMarginSeconds * 1000) : row.watch_from;
  const more = [
    `s.created_at >= ${params.add(row.watch_from)}`,
    `s.updated_at >= ${params.add(since)}`,
    `NOT EXISTS (SELECT 1 FROM subscription_studies ss WHERE ss.subscription_id = ${params.add(row.subscription_id)} AND ss.study_uid = s.study_uid)`,
  ];
  return where ? `${where}\n  AND ${more.join('\n  AND ')}` : `WHERE ${more.join('\n  AND ')}`;
}

async function digestOne(context: DigestContext, subscriptionId: string): Promise<Outcome> {
  const client = await context.db.connect();
  try {
    await client.query('BEGIN');
    const locked = await client.query<SubscriptionRow>(
      `SELECT subscription_id, owner_sub, owner_email, name, filter, watch_from, checked_through, pending_since, last_digest_at, now() AS now
       FROM subscriptions WHERE subscription_id = $1 AND active FOR UPDATE SKIP LOCKED`,
      [subscriptionId],
    );
    const row = locked.rows[0];
    if (!row) {
      // Another run holds it, or it was just paused or deleted.
      await client.query('ROLLBACK');
      return { kind: 'skipped' };
    }
    let filter: StudyFilter;
    const params = new SqlParameters();
    let where: string;
    try {
      filter = savedSearchFromJson(row.filter);
      where = candidatesWhere(filter, row, params);
    } catch (error) {
      if (!(error instanceof QueryError)) throw error;
      // A saved search that can no longer run (e.g. a filter withdrawn): nothing to send, said in the log.
      context.logger.warn('saved search cannot run', { subscriptionId, code: error.code, parameter: error.parameter });
      await client.query('ROLLBACK');
      return { kind: 'skipped' };
    }
    const from = 'studies s JOIN patients p ON p.patient_id = s.patient_id';
    const stats = await client.query<{ n: number; newest: Date | null }>(`SELECT count(*)::int AS n, max(s.updated_at) AS newest FROM ${from}\n${where}`, params.values);
    const pending = stats.rows[0];
    const decision = digestDecision(
      row.now,
      pending && pending.n > 0 && pending.newest ? { count: pending.n, newestChangeAt: pending.newest, pendingSince: row.pending_since ?? undefined } : undefined,
      row.last_digest_at ?? undefined,
      context.settings,
    );

    if (decision.kind === 'idle') {
      await client.query('UPDATE subscriptions SET checked_through = $2, pending_since = NULL WHERE subscription_id = $1', [subscriptionId, row.now]);
      await client.query('COMMIT');
      return { kind: 'idle' };
    }
    if (decision.kind === 'wait') {
      // checked_through stays: the waiting studies must still be found next time.
      await client.query('UPDATE subscriptions SET pending_since = coalesce(pending_since, $2) WHERE subscription_id = $1', [subscriptionId, row.now]);
      await client.query('COMMIT');
      return { kind: 'wait', until: decision.until };
    }

    const digest = await client.query<{ digest_id: string }>('INSERT INTO subscription_digests (subscription_id, study_count) VALUES ($1, 0) RETURNING digest_id', [subscriptionId]);
    const digestId = digest.rows[0]?.digest_id as string;
    const digestParam = params.add(digestId);
    const sent = await client.query<{ study_uid: string }>(
      `INSERT INTO subscription_studies (subscription_id, study_uid, digest_id)
       SELECT ${params.add(subscriptionId)}, s.study_uid, ${digestParam} FROM ${from}\n${where}
       RETURNING study_uid`,
      params.values,
    );
    const uids = sent.rows.map((r) => r.study_uid);
    if (uids.length === 0) {
      // The candidates were sent by a run that committed in between.
      await client.query('ROLLBACK');
      return { kind: 'idle' };
    }
    const listed = await client.query<{ study_uid: string; study_date: Date | null; modalities: string[]; body_parts: string[]; num_series: number; num_instances: number }>(
      `SELECT study_uid, study_date, modalities, body_parts, num_series, num_instances FROM studies
       WHERE study_uid = ANY($1::text[]) ORDER BY study_date DESC NULLS LAST, study_uid LIMIT $2`,
      [uids, maxListedStudies],
    );
    const studies: DigestStudy[] = listed.rows.map((s) => ({
      studyInstanceUID: s.study_uid,
      studyDate: isoDateOf(s.study_date),
      modalities: s.modalities,
      bodyParts: s.body_parts,
      numSeries: s.num_series,
      numInstances: s.num_instances,
    }));
    const email = renderDigestEmail({
      subscriptionName: row.name,
      filter,
      studies,
      totalCount: uids.length,
      baseUrl: context.baseUrl,
      unsubscribeToken: signUnsubscribeToken(context.tokenKey, subscriptionId),
    });
    await client.query('UPDATE subscription_digests SET study_count = $2 WHERE digest_id = $1', [digestId, uids.length]);
    await client.query('UPDATE subscriptions SET last_digest_at = $2, checked_through = $2, pending_since = NULL WHERE subscription_id = $1', [subscriptionId, row.now]);
    await new AuditLog(client).record({
      actorSub: row.owner_sub,
      actorName: row.owner_email,
      action: 'subscriptions.digest',
      resource: `subscription/${subscriptionId}`,
      details: { digestId: Number(digestId), studies: uids.length },
    });
    const mail = await context.mailer.send({ to: row.owner_email, ...email });
    await client.query('UPDATE subscription_digests SET message_id = $2 WHERE digest_id = $1', [digestId, mail.messageId || null]);
    await client.query('COMMIT');
    context.logger.info('subscription digest sent', { subscriptionId, studies: uids.length });
    return { kind: 'sent', studies: uids.length };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
