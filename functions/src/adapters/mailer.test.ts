import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { afterEach, describe, expect, it } from 'vitest';
import { OutboxMailer, SesMailer, encodeHeaderValue, mailerFromEnv, renderEml } from './mailer';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('the local outbox', () => {
  it('writes one readable .eml per message, owner-only, with text and html parts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'medlake-outbox-'));
    dirs.push(dir);
    const mailer = mailerFromEnv({ MAIL_OUTBOX_DIR: dir });
    expect(mailer).toBeInstanceOf(OutboxMailer);
    await mailer.send({ to: ['a@example.org', 'b@example.org'], subject: 'Export prête — 12 studies', text: 'Your export is ready:\nhttp://localhost:3000/exports/1', html: '<p>Your export is <b>ready</b></p>' });
    const files = readdirSync(dir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/\.eml$/);
    expect(statSync(join(dir, files[0] as string)).mode & 0o777).toBe(0o600);
    const eml = readFileSync(join(dir, files[0] as string), 'utf8');
    expect(eml).toContain('To: a@example.org, b@example.org\r\n');
    expect(eml).toContain(`Subject: ${encodeHeaderValue('Export prête — 12 studies')}\r\n`);
    expect(eml).toMatch(/Content-Type: multipart\/alternative; boundary="[^"]+"/);
    // The text is readable as is in the file (8bit, not base64).
    expect(eml).toContain('Your export is ready:\r\nhttp://localhost:3000/exports/1');
    expect(eml).toContain('<p>Your export is <b>ready</b></p>');
  });

  it('writes extra header fields (List-Unsubscribe) and refuses unsafe or reserved ones', () => {
    const eml = renderEml({ to: 'a@example.org', subject: 'hi', text: 't', headers: { 'List-Unsubscribe': '<https://x.test/u?token=a.b>', 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' } }, 'f@example.org', 'id');
    expect(eml).toContain('\r\nList-Unsubscribe: <https://x.test/u?token=a.b>\r\n');
    expect(eml).toContain('\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n');
    expect(eml.indexOf('List-Unsubscribe:')).toBeLessThan(eml.indexOf('\r\n\r\n'));
    expect(() => renderEml({ to: 'a@example.org', subject: 'hi', text: '', headers: { 'X-Note': 'a\r\nBcc: x@evil.test' } }, 'f@example.org', 'id')).toThrow(/single line/);
    expect(() => renderEml({ to: 'a@example.org', subject: 'hi', text: '', headers: { Bcc: 'x@evil.test' } }, 'f@example.org', 'id')).toThrow(/set by the mailer/);
    expect(() => renderEml({ to: 'a@example.org', subject: 'hi', text: '', headers: { 'Bad Name:': 'x' } }, 'f@example.org', 'id')).toThrow(/field name/);
  });

  it('refuses header injection through the subject or an address', () => {
    expect(() => renderEml({ to: 'a@example.org', subject: 'hi\r\nBcc: x@evil.test', text: '' }, 'f@example.org', 'id')).toThrow(/single line/);
    expect(() => renderEml({ to: 'a@example.org\nBcc: x@evil.test', subject: 'hi', text: '' }, 'f@example.org', 'id')).toThrow(/single line/);
    expect(() => renderEml({ to: [], subject: 'hi', text: '' }, 'f@example.org', 'id')).toThrow(/recipient/);
  });

  it('needs MAIL_OUTBOX_DIR or MAIL_FROM', () => {
    expect(() => mailerFromEnv({})).toThrow(/MAIL_OUTBOX_DIR nor MAIL_FROM/);
    expect(mailerFromEnv({ MAIL_FROM: 'medlake <no-reply@example.org>', AWS_REGION: 'eu-west-1' })).toBeInstanceOf(SesMailer);
  });
});

describe('SES v2', () => {
  it('sends one SendEmail request from MAIL_FROM with text and html bodies and the extra header fields', async () => {
    const requests: { path: string; body: unknown }[] = [];
    // An HTTP endpoint standing in for email.<region>.amazonaws.com: it records what the real SDK sends.
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        requests.push({ path: req.url ?? '', body: JSON.parse(body) as unknown });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ MessageId: 'ses-message-1' }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const client = new SESv2Client({ region: 'eu-west-1', endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
      const sent = await new SesMailer(client, 'medlake <no-reply@example.org>').send({ to: 'r@example.org', subject: 'New studies match your search', text: 'plain', html: '<p>rich</p>', headers: { 'List-Unsubscribe': '<https://x.test/u?token=t>', 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' } });
      expect(sent.messageId).toBe('ses-message-1');
      expect(requests).toEqual([
        {
          path: '/v2/email/outbound-emails',
          body: {
            FromEmailAddress: 'medlake <no-reply@example.org>',
            Destination: { ToAddresses: ['r@example.org'] },
            Content: {
              Simple: {
                Subject: { Data: 'New studies match your search', Charset: 'UTF-8' },
                Body: { Text: { Data: 'plain', Charset: 'UTF-8' }, Html: { Data: '<p>rich</p>', Charset: 'UTF-8' } },
                Headers: [{ Name: 'List-Unsubscribe', Value: '<https://x.test/u?token=t>' }, { Name: 'List-Unsubscribe-Post', Value: 'List-Unsubscribe=One-Click' }],
              },
            },
          },
        },
      ]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
