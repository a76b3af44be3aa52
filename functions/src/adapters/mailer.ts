/**
 * Outgoing email (sign-up codes, subscription alerts, export links). In AWS
 * it goes through SES v2 from MAIL_FROM; locally (MAIL_OUTBOX_DIR set) every
 * message is written as an RFC 5322 `.eml` file into the outbox directory,
 * where developers open it and tests read it: no message leaves the machine.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { envNames } from '@medlake/shared/resources';
import { awsRegion } from './aws-clients';

export interface MailMessage {
  to: string | readonly string[];
  subject: string;
  text: string;
  html?: string;
  /**
   * Extra header fields, e.g. `List-Unsubscribe` and `List-Unsubscribe-Post`
   * (RFC 2369, RFC 8058). Names of letters, digits and dashes; one-line
   * values; never a field the mailer writes itself (From, To, Subject, ...).
   */
  headers?: Readonly<Record<string, string>>;
}

export interface SentMail {
  messageId: string;
}

export interface Mailer {
  send(message: MailMessage): Promise<SentMail>;
}

const mailEnv = { outboxDir: envNames.mailOutboxDir, from: envNames.mailFrom } as const;

const defaultLocalFrom = 'medlake <no-reply@medlake.localhost>';

function recipients(to: MailMessage['to']): string[] {
  const list = (typeof to === 'string' ? [to] : [...to]).map((a) => a.trim()).filter(Boolean);
  if (list.length === 0) throw new Error('an email needs at least one recipient');
  return list;
}

function assertHeaderSafe(value: string, what: string): void {
  // A line break in a header value would let a caller inject headers.
  if (/[\r\n]/.test(value)) throw new Error(`email ${what} must be a single line`);
}

/** Fields the mailer writes itself, or that would redirect the message: no caller sets them. */
const reservedHeaders = new Set(['from', 'to', 'cc', 'bcc', 'subject', 'date', 'message-id', 'mime-version', 'content-type', 'content-transfer-encoding', 'reply-to', 'sender', 'return-path']);

/** The message's extra header fields, checked: safe names, one-line values, nothing reserved. */
export function extraHeaders(message: MailMessage): [string, string][] {
  return Object.entries(message.headers ?? {}).map(([name, value]) => {
    if (!/^[A-Za-z0-9][A-Za-z0-9-]*$/.test(name)) throw new Error(`email header name "${name}" is not a plain field name`);
    if (reservedHeaders.has(name.toLowerCase())) throw new Error(`email header ${name} is set by the mailer, not by callers`);
    assertHeaderSafe(value, `header ${name}`);
    return [name, value];
  });
}

/** RFC 2047 encoded-word for header values that are not plain ASCII. */
export function encodeHeaderValue(value: string): string {
  return /^[\x20-\x7e]*$/.test(value) ? value : `=?UTF-8?B?${Buffer.from(value, 'utf8').toString('base64')}?=`;
}

/** A body as 8bit UTF-8 with CRLF line ends: readable as is when a developer opens the file. */
function bodyLines(text: string): string {
  return text.replace(/\r?\n/g, '\r\n');
}

/** The message as an RFC 5322 document (what lands in the local outbox). */
export function renderEml(message: MailMessage, from: string, messageId: string, date = new Date()): string {
  const to = recipients(message.to);
  for (const address of [...to, from]) assertHeaderSafe(address, 'address');
  assertHeaderSafe(message.subject, 'subject');
  const headers = [
    `From: ${from}`,
    `To: ${to.join(', ')}`,
    `Subject: ${encodeHeaderValue(message.subject)}`,
    `Date: ${date.toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <${messageId}>`,
    ...extraHeaders(message).map(([name, value]) => `${name}: ${encodeHeaderValue(value)}`),
    'MIME-Version: 1.0',
  ];
  const textPart = ['Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit', '', bodyLines(message.text)];
  if (message.html === undefined) return [...headers, ...textPart, ''].join('\r\n');
  const boundary = `medlake-${randomBytes(12).toString('hex')}`;
  return [
    ...headers,
    `Content-Type: multipart/alternative; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    ...textPart,
    `--${boundary}`,
    'Content-Type: text/html; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    bodyLines(message.html),
    `--${boundary}--`,
    '',
  ].join('\r\n');
}

/** Local delivery: one `.eml` file per message, named so a directory listing is chronological. */
export class OutboxMailer implements Mailer {
  constructor(
    private readonly dir: string,
    private readonly from = defaultLocalFrom,
  ) {}

  async send(message: MailMessage): Promise<SentMail> {
    const now = new Date();
    const id = `${now.getTime()}.${randomBytes(6).toString('hex')}`;
    const messageId = `${id}@medlake.localhost`;
    const eml = renderEml(message, this.from, messageId, now);
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const name = `${now.toISOString().replace(/[:.]/g, '-')}-${randomBytes(4).toString('hex')}.eml`;
    // Written then renamed, so a reader never sees half a message.
    const partial = join(this.dir, `.${name}.partial`);
    await writeFile(partial, eml, { mode: 0o600 });
    await rename(partial, join(this.dir, name));
    return { messageId };
  }
}

export class SesMailer implements Mailer {
  constructor(
    private readonly client: SESv2Client,
    private readonly from: string,
  ) {}

  async send(message: MailMessage): Promise<SentMail> {
    assertHeaderSafe(message.subject, 'subject');
    const headers = extraHeaders(message);
    const result = await this.client.send(
      new SendEmailCommand({
        FromEmailAddress: this.from,
        Destination: { ToAddresses: recipients(message.to) },
        Content: {
          Simple: {
            Subject: { Data: message.subject, Charset: 'UTF-8' },
            Body: {
              Text: { Data: message.text, Charset: 'UTF-8' },
              ...(message.html !== undefined ? { Html: { Data: message.html, Charset: 'UTF-8' } } : {}),
            },
            // SES v2 takes custom fields of Simple content here (List-Unsubscribe among them); it refuses reserved ones.
            ...(headers.length > 0 ? { Headers: headers.map(([Name, Value]) => ({ Name, Value })) } : {}),
          },
        },
      }),
    );
    return { messageId: result.MessageId ?? '' };
  }
}

let cached: { key: string; mailer: Mailer } | undefined;

/** The mailer of this container: the outbox when MAIL_OUTBOX_DIR is set, else SES from MAIL_FROM. */
export function mailerFromEnv(env: NodeJS.ProcessEnv = process.env): Mailer {
  const outbox = env[mailEnv.outboxDir];
  const from = env[mailEnv.from];
  const key = `${outbox ?? ''}|${from ?? ''}`;
  if (cached?.key === key) return cached.mailer;
  let mailer: Mailer;
  if (outbox) mailer = new OutboxMailer(outbox, from || defaultLocalFrom);
  else if (from) mailer = new SesMailer(new SESv2Client({ region: awsRegion(env) }), from);
  else throw Object.assign(new Error(`neither ${mailEnv.outboxDir} nor ${mailEnv.from} is set: email cannot be sent`), { name: 'NotConfigured' });
  cached = { key, mailer };
  return mailer;
}
