/**
 * When a subscription's digest goes out. Ingest arrives in bursts (an upload
 * of 300 files, a gateway forwarding a day's studies), so a digest waits
 * until no matching study has changed for `quietSeconds`: the whole burst is
 * one email. A burst that never settles is still reported after
 * `maxWaitSeconds`, and a subscription never gets more than one email per
 * `minIntervalSeconds`.
 */

export interface DigestSettings {
  /** No matching study changed for this long: the burst is over. */
  quietSeconds: number;
  /** Matching studies waiting this long are sent even while ingest goes on. */
  maxWaitSeconds: number;
  /** At most one digest per subscription in this time. */
  minIntervalSeconds: number;
}

export const defaultDigestSettings: DigestSettings = { quietSeconds: 120, maxWaitSeconds: 3600, minIntervalSeconds: 3600 };

export interface PendingStudies {
  /** Matching studies not sent yet. */
  count: number;
  /** The latest change (index update) among them. */
  newestChangeAt: Date;
  /** When the digest job first saw studies waiting (undefined: it sees them now). */
  pendingSince: Date | undefined;
}

export type DigestDecision =
  | { kind: 'idle' }
  | { kind: 'send' }
  | { kind: 'wait'; until: Date };

export function digestDecision(now: Date, pending: PendingStudies | undefined, lastDigestAt: Date | undefined, settings: DigestSettings): DigestDecision {
  if (!pending || pending.count === 0) return { kind: 'idle' };
  const quietAt = pending.newestChangeAt.getTime() + settings.quietSeconds * 1000;
  const maxWaitAt = (pending.pendingSince ?? now).getTime() + settings.maxWaitSeconds * 1000;
  const allowedAt = lastDigestAt ? lastDigestAt.getTime() + settings.minIntervalSeconds * 1000 : -Infinity;
  const sendAt = Math.max(allowedAt, Math.min(quietAt, maxWaitAt));
  return sendAt <= now.getTime() ? { kind: 'send' } : { kind: 'wait', until: new Date(sendAt) };
}
