/**
 * Reads the local mail outbox (MAIL_OUTBOX_DIR): the `.eml` files written by
 * functions/src/adapters/mailer.ts and by the stack for Cognito codes.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';

export interface OutboxMail {
  file: string;
  from: string;
  to: string[];
  subject: string;
  date: string;
  text: string;
  html?: string;
  /** Every top-level header field, by lower-case name (decoded). */
  headers: Record<string, string>;
}

function decodeHeader(value: string): string {
  return value.replace(/=\?UTF-8\?B\?([^?]*)\?=/gi, (_, b64: string) => Buffer.from(b64, 'base64').toString('utf8'));
}

function splitPart(raw: string): { headers: Map<string, string>; body: string } {
  const end = raw.indexOf('\r\n\r\n');
  const head = end >= 0 ? raw.slice(0, end) : raw;
  const body = end >= 0 ? raw.slice(end + 4) : '';
  const headers = new Map<string, string>();
  for (const line of head.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { headers, body };
}

function bodyText(part: { headers: Map<string, string>; body: string }): string {
  const encoding = (part.headers.get('content-transfer-encoding') ?? '8bit').toLowerCase();
  const text = encoding === 'base64' ? Buffer.from(part.body.replace(/\s+/g, ''), 'base64').toString('utf8') : part.body;
  return text.replace(/\r\n/g, '\n');
}

export function parseEml(raw: string, file = ''): OutboxMail {
  const message = splitPart(raw);
  const h = message.headers;
  const mail: OutboxMail = {
    file,
    from: h.get('from') ?? '',
    to: (h.get('to') ?? '').split(',').map((a) => a.trim()).filter(Boolean),
    subject: decodeHeader(h.get('subject') ?? ''),
    date: h.get('date') ?? '',
    text: '',
    headers: Object.fromEntries([...h].map(([name, value]) => [name, decodeHeader(value)])),
  };
  const boundary = /boundary="([^"]+)"/.exec(h.get('content-type') ?? '')?.[1];
  if (!boundary) {
    mail.text = bodyText(message);
    return mail;
  }
  for (const chunk of message.body.split(`--${boundary}`)) {
    if (!chunk.trim() || chunk.startsWith('--')) continue;
    const part = splitPart(chunk.replace(/^\r\n/, '').replace(/\r\n$/, ''));
    const type = part.headers.get('content-type') ?? '';
    if (type.startsWith('text/plain')) mail.text = bodyText(part);
    else if (type.startsWith('text/html')) mail.html = bodyText(part);
  }
  return mail;
}

export async function readOutbox(dir: string): Promise<OutboxMail[]> {
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.eml')).sort();
  return Promise.all(names.map(async (name) => parseEml(await readFile(join(dir, name), 'utf8'), join(dir, name))));
}
