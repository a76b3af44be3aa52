import { describe, expect, it } from 'vitest';
import { parseNotifyMessage } from './messages';

describe('notify messages', () => {
  it('reads digest requests and ready-made emails', () => {
    expect(parseNotifyMessage('{"kind":"subscription-digest"}')).toEqual({ kind: 'subscription-digest' });
    const email = { kind: 'email', id: '3f0c1a52-8d4e-4c7b-9a0e-2b6f1d9e4a11', to: ['a@b.test'], subject: 's', text: 't', headers: { 'List-Unsubscribe': '<https://x.test/u>' }, audit: { action: 'exports.link-emailed', resource: 'export/1' } };
    expect(parseNotifyMessage(JSON.stringify(email))).toEqual(email);
  });

  it.each([
    ['not JSON', 'nope'],
    ['unknown kind', '{"kind":"sms"}'],
    ['email without id', '{"kind":"email","to":"a@b.test","subject":"s","text":"t"}'],
    ['email with a malformed id', '{"kind":"email","id":"1","to":"a@b.test","subject":"s","text":"t"}'],
    ['email without recipient', '{"kind":"email","id":"3f0c1a52-8d4e-4c7b-9a0e-2b6f1d9e4a11","to":[],"subject":"s","text":"t"}'],
  ])('refuses %s (the message goes to the dead-letter queue, never to an inbox)', (_name, body) => {
    expect(() => parseNotifyMessage(body)).toThrow();
  });
});
