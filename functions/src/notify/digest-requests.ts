/**
 * Asking for a subscription digest run: an SQS message to the notify queue,
 * delayed until the run is due. Many askers (every committed ingest batch, the
 * digest run itself when a burst is still going on) make ONE message per
 * due time: `notify_schedule` remembers when the next requested run arrives,
 * and a request is sent only when none is due by the wanted time. A lost
 * message heals itself: once its due time has passed, the next request sends
 * a new one.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Queryable } from '../adapters/database';
import { maxDelaySeconds, sendNotifyMessage } from './messages';
import { digestSettings } from './notify-settings';

const job = 'subscription-digest';

/** The latest due time this container knows a run is requested for (ms); skips the database while it lies ahead. */
let knownDueAtMs = 0;

export interface DigestRequest {
  /** Run no earlier than this many seconds from now (capped at SQS's 15 minutes; a later run re-requests). */
  afterSeconds: number;
  /** Only when some subscription is active (ingest asks on every batch, most lakes have none). */
  onlyIfSubscriptions?: boolean;
}

/** Answers whether this call sent the message. */
export async function requestSubscriptionDigest(db: Queryable, request: DigestRequest): Promise<boolean> {
  const delaySeconds = Math.min(Math.max(Math.ceil(request.afterSeconds), 0), maxDelaySeconds);
  if (knownDueAtMs > Date.now() && knownDueAtMs <= Date.now() + delaySeconds * 1000) return false;
  const answer = await db.query<{ scheduled: Date | null; current: Date | null }>(
    `WITH wanted AS (SELECT now() + make_interval(secs => $2) AS at),
     updated AS (
       UPDATE notify_schedule n SET due_at = wanted.at FROM wanted
       WHERE n.job = $1
         AND (n.due_at IS NULL OR n.due_at <= now() OR n.due_at > wanted.at)
         AND (NOT $3::boolean OR EXISTS (SELECT 1 FROM subscriptions WHERE active))
       RETURNING n.due_at)
     SELECT (SELECT due_at FROM updated) AS scheduled,
            (SELECT CASE WHEN due_at > now() THEN due_at END FROM notify_schedule WHERE job = $1) AS current`,
    [job, delaySeconds, request.onlyIfSubscriptions ?? false],
  );
  const row = answer.rows[0];
  if (!row?.scheduled) {
    if (row?.current) knownDueAtMs = row.current.getTime();
    return false;
  }
  try {
    await sendNotifyMessage({ kind: 'subscription-digest' }, { delaySeconds });
  } catch (error) {
    // Nothing will arrive at that time: let the next request try again.
    await db.query('UPDATE notify_schedule SET due_at = NULL WHERE job = $1 AND due_at = $2', [job, row.scheduled]).catch(() => undefined);
    throw error;
  }
  knownDueAtMs = row.scheduled.getTime();
  return true;
}

/**
 * The ingest hook (IndexWriter `studiesIndexed`): new or changed studies may
 * match a subscription; a digest run is requested once the burst can have
 * settled. Never fails the ingest batch: at worst the studies wait for the
 * next request.
 */
export async function requestDigestAfterIngest(db: Queryable, logger?: Pick<Logger, 'warn'>): Promise<void> {
  try {
    await requestSubscriptionDigest(db, { afterSeconds: digestSettings().quietSeconds, onlyIfSubscriptions: true });
  } catch (error) {
    logger?.warn('could not request a subscription digest', { error: { name: (error as Error).name, message: (error as Error).message } });
  }
}

/** Tests only: forget what this process knows about the schedule (a new database). */
export function forgetDigestSchedule(): void {
  knownDueAtMs = 0;
}
