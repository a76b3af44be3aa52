import { describe, expect, it } from 'vitest';
import { parseCodeDeliveries } from './cognito';

// cognito-local 5.3.0's output for a sign-up and a password reset, colour codes included.
const output =
  '[1795607055967] \u001b[32mINFO\u001b[39m: \u001b[36mNONE NONE Cognito Local running on http://127.0.0.1:9877\u001b[39m\n' +
  '[1795607057296] \u001b[32mINFO\u001b[39m: \u001b[36mb1a2b471 SignUp ╭───────────────────────────────────────────────────────╮\n│                                                       │\n│   Confirmation Code Delivery                          │\n│                                                       │\n│   Username:    4349b909-9326-4aab-950b-d71ceba727db   │\n│   Destination: ab@x.org                               │\n│   Code:        081786                                 │\n│                                                       │\n╰───────────────────────────────────────────────────────╯\u001b[39m \u001b[90m{"reqId":"b1a2b471","target":"SignUp"}\u001b[39m\n' +
  '[1795607057301] \u001b[32mINFO\u001b[39m: \u001b[36m74464d30 ForgotPassword ╭───────────────────────────────────────────────────────╮\n│                                                       │\n│   Confirmation Code Delivery                          │\n│                                                       │\n│   Username:    4349b909-9326-4aab-950b-d71ceba727db   │\n│   Destination: ab@x.org                               │\n│   Code:        480880                                 │\n│                                                       │\n╰───────────────────────────────────────────────────────╯\u001b[39m \u001b[90m{"reqId":"74464d30","target":"ForgotPassword"}\u001b[39m\n';

const expected = [
  { operation: 'SignUp', username: '4349b909-9326-4aab-950b-d71ceba727db', destination: 'ab@x.org', code: '081786' },
  { operation: 'ForgotPassword', username: '4349b909-9326-4aab-950b-d71ceba727db', destination: 'ab@x.org', code: '480880' },
];

describe("cognito-local's code deliveries", () => {
  it('are read from its output with the operation that caused them', () => {
    expect(parseCodeDeliveries(output).deliveries).toEqual(expected);
  });

  it('are found however the output is split into chunks', () => {
    for (const size of [1, 7, 64, 300]) {
      const found = [];
      let pending = '';
      for (let i = 0; i < output.length; i += size) {
        const parsed = parseCodeDeliveries(pending + output.slice(i, i + size));
        pending = parsed.rest;
        found.push(...parsed.deliveries);
      }
      expect(found, `chunks of ${size}`).toEqual(expected);
    }
  });
});
