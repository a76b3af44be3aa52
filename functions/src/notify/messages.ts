/**
 * The `notify` queue's messages: the one way medlake's functions send email.
 * - `subscription-digest`: run the subscription digests (delayed by
 *   DelaySeconds until an ingest burst has settled; see digest-requests.ts);
 * - `email`: send this message as it is (export links, ...), once: `id`
 *   is claimed before sending, so a redelivered message sends nothing.
 * Producers use `NotifyQueueMailer` (a Mailer that enqueues) or
 * `requestSubscriptionDigest`, never SendMessage by hand.
 */
import { randomUUID } from 'node:crypto';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { z } from 'zod';
import type { Mailer, MailMessage, SentMail } from '../adapters/mailer';
import { queueUrl, sqsClient } from '../adapters/aws-clients';

const auditSchema = z.object({
  action: z.string().min(1).max(100),
  resource: z.string().max(500).optional(),
  actorSub: z.string().max(200).optional(),
  actorName: z.string().max(320).optional(),
  details: z.record(z.string(), z.unknown()).optional(),
});

const messageSchema = z.discriminatedUnion('kind', [
  /** `after`: a run that stopped before its deadline continues after this subscription id. */
  z.object({ kind: z.literal('subscription-digest'), after: z.uuid().optional() }),
  z.object({
    kind: z.literal('email'),
    id: z.uuid(),
    to: z.union([z.string().min(3).max(320), z.array(z.string().min(3).max(320)).min(1).max(50)]),
    subject: z.string().min(1).max(500),
    text: z.string().max(200_000),
    html: z.string().max(500_000).optional(),
    headers: z.record(z.string().max(100), z.string().max(2000)).optional(),
    /** An audit entry written once the email has gone out (e.g. `exports.link-emailed`). */
    audit: auditSchema.optional(),
  }),
]);

export type NotifyMessage = z.infer<typeof messageSchema>;
export type EmailMessage = Extract<NotifyMessage, { kind: 'email' }>;

export function parseNotifyMessage(body: string): NotifyMessage {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new Error('the notify message is not JSON');
  }
  const parsed = messageSchema.safeParse(value);
  if (!parsed.success) throw new Error(`the notify message is not understood: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data;
}

/** SQS delays a message by at most 15 minutes. */
export const maxDelaySeconds = 900;

export async function sendNotifyMessage(message: NotifyMessage, options: { delaySeconds?: number; sqs?: SQSClient; queueUrl?: string } = {}): Promise<string | undefined> {
  const delay = Math.min(Math.max(Math.ceil(options.delaySeconds ?? 0), 0), maxDelaySeconds);
  const answer = await (options.sqs ?? sqsClient()).send(
    new SendMessageCommand({ QueueUrl: options.queueUrl ?? queueUrl('notify'), MessageBody: JSON.stringify(message), ...(delay > 0 ? { DelaySeconds: delay } : {}) }),
  );
  return answer.MessageId;
}

/**
 * A Mailer for functions without mail rights of their own (the export
 * worker): `send` enqueues the message and the notify function sends it.
 */
export class NotifyQueueMailer implements Mailer {
  constructor(private readonly options: { sqs?: SQSClient; queueUrl?: string; audit?: EmailMessage['audit'] } = {}) {}

  async send(message: MailMessage, audit?: EmailMessage['audit']): Promise<SentMail> {
    const id = randomUUID();
    const auditEntry = audit ?? this.options.audit;
    await sendNotifyMessage(
      { kind: 'email', id, to: typeof message.to === 'string' ? message.to : [...message.to], subject: message.subject, text: message.text, ...(message.html !== undefined ? { html: message.html } : {}), ...(message.headers ? { headers: { ...message.headers } } : {}), ...(auditEntry ? { audit: auditEntry } : {}) },
      { ...(this.options.sqs ? { sqs: this.options.sqs } : {}), ...(this.options.queueUrl ? { queueUrl: this.options.queueUrl } : {}) },
    );
    return { messageId: id };
  }
}
