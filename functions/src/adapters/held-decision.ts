/**
 * A decision on a held instance, recorded the one way both decisions take:
 * the held row (decision, who, when, why), its upload file's counts and state
 * (the held instance becomes accepted, duplicate or rejected) and the audit
 * row, all on the deciding transaction's client. A release is recorded by
 * the index writer in the transaction that publishes the file; a discard by
 * the held review on its own.
 */
import type { AuditEntry } from './audit-log';
import { AuditLog } from './audit-log';
import type { Queryable } from './database';
import type { HeldReviewOutcome } from './upload-records';
import { applyHeldReview } from './upload-records';

export interface HeldDecisionRecord {
  sopUid: string;
  decision: 'released' | 'discarded';
  decidedBy: string;
  reason: string;
  /** The upload file the instance was held from, when it came through an upload. */
  file: { uploadId: string; fileIndex: number } | undefined;
  /** What the held instance counts as in its upload file from now on. */
  fileOutcome: HeldReviewOutcome;
  audit: AuditEntry;
}

export async function recordHeldDecision(client: Queryable, record: HeldDecisionRecord): Promise<void> {
  await client.query(
    'UPDATE held_instances SET decision = $2, decided_at = now(), decided_by = $3, decision_reason = $4 WHERE sop_uid = $1',
    [record.sopUid, record.decision, record.decidedBy, record.reason],
  );
  if (record.file) await applyHeldReview(client, record.file.uploadId, record.file.fileIndex, record.fileOutcome);
  await new AuditLog(client).record(record.audit);
}
