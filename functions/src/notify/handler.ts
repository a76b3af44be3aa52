/**
 * The notify Lambda: the one place medlake sends email from. SQS messages of
 * the `notify` queue (messages.ts): subscription digest runs (all such
 * messages of a batch make one run) and ready-made emails from other
 * functions (export links). Failures are reported per message (partial batch
 * response): SQS brings them back, then the dead-letter queue.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { envNames } from '@medlake/shared/resources';
import { AuditLog } from '../adapters/audit-log';
import { requiredEnv } from '../adapters/aws-clients';
import { databasePool } from '../adapters/database';
import { mailerFromEnv } from '../adapters/mailer';
import { requestSubscriptionDigest } from './digest-requests';
import type { EmailMessage } from './messages';
import { parseNotifyMessage, sendNotifyMessage } from './messages';
import { digestSettings } from './notify-settings';
import { runSubscriptionDigests } from './subscription-digest';
import { unsubscribeKeyFromEnv } from './unsubscribe-key';

const logger = new Logger({ serviceName: 'medlake-notify' });
const processor = new BatchProcessor(EventType.SQS);

async function digestRun(lambdaContext: Context, afterId: string | undefined): Promise<void> {
  const db = databasePool();
  const result = await runSubscriptionDigests(
    { db, mailer: mailerFromEnv(), settings: digestSettings(), baseUrl: requiredEnv(envNames.publicBaseUrl), tokenKey: await unsubscribeKeyFromEnv(), logger },
    { ...(afterId ? { afterId } : {}), remainingMs: () => lambdaContext.getRemainingTimeInMillis() },
  );
  logger.info('subscription digest run', { ...result, nextDueAt: result.nextDueAt?.toISOString() });
  if (result.resumeAfter) await sendNotifyMessage({ kind: 'subscription-digest', after: result.resumeAfter });
  // A burst still going on: look again when the first waiting subscription is due.
  if (result.nextDueAt) await requestSubscriptionDigest(db, { afterSeconds: (result.nextDueAt.getTime() - Date.now()) / 1000 + 1 });
  if (result.failed > 0) throw new Error(`${result.failed} of ${result.subscriptions} subscription digests failed`);
}

let prunedAt = 0;

/** Sends a ready-made email once: the claim on its id makes a redelivered message a no-op. */
async function sendEmail(message: EmailMessage): Promise<void> {
  const db = databasePool();
  if (Date.now() - prunedAt > 3_600_000) {
    prunedAt = Date.now();
    // SQS keeps a message 14 days at most: older claims can no longer be met.
    await db.query("DELETE FROM notify_emails_sent WHERE sent_at < now() - interval '15 days'");
  }
  const claimed = await db.query('INSERT INTO notify_emails_sent (email_id) VALUES ($1) ON CONFLICT DO NOTHING', [message.id]);
  if (!claimed.rowCount) {
    logger.info('email already sent', { emailId: message.id });
    return;
  }
  try {
    await mailerFromEnv().send({ to: message.to, subject: message.subject, text: message.text, ...(message.html !== undefined ? { html: message.html } : {}), ...(message.headers ? { headers: message.headers } : {}) });
  } catch (error) {
    await db.query('DELETE FROM notify_emails_sent WHERE email_id = $1', [message.id]);
    throw error;
  }
  if (message.audit) await new AuditLog(db).record({ ...message.audit });
  logger.info('email sent', { emailId: message.id, audit: message.audit?.action });
}

async function notifyBatch(event: SQSEvent, lambdaContext: Context): Promise<SQSBatchResponse> {
  let digest: Promise<void> | undefined;
  return processPartialResponse(
    event,
    async (record: SQSRecord) => {
      try {
        const message = parseNotifyMessage(record.body);
        if (message.kind === 'subscription-digest') {
          // All digest messages of a batch share one run; a continuation runs on its own.
          if (message.after) return await digestRun(lambdaContext, message.after);
          return await (digest ??= digestRun(lambdaContext, undefined));
        }
        return await sendEmail(message);
      } catch (error) {
        const e = error as Error;
        logger.error('notify message failed', { messageId: record.messageId, receiveCount: record.attributes?.ApproximateReceiveCount, error: { name: e.name, message: e.message, stack: e.stack } });
        throw error;
      }
    },
    processor,
    { context: lambdaContext, throwOnFullBatchFailure: false },
  );
}

export const handler = middy(notifyBatch).use(injectLambdaContext(logger, { resetKeys: true }));
