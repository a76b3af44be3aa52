/**
 * The unsubscribe link of a digest email works without signing in, so the
 * link itself carries the proof: `u1.<subscription id>.<HMAC-SHA256>`. The
 * MAC covers the purpose and the one subscription id, so a token cannot be
 * altered to reach another subscription, nor reused for anything else.
 * The MAC key is derived (HKDF) from a secret the deployment already keeps;
 * the secret itself is never exposed by a token.
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

const version = 'u1';
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A key used only for unsubscribe tokens, derived from a 32-byte secret. */
export function unsubscribeKey(secret: Uint8Array): Uint8Array {
  if (secret.length < 32) throw new Error('the unsubscribe key needs a secret of at least 32 bytes');
  return new Uint8Array(hkdfSync('sha256', secret, 'medlake', 'subscription unsubscribe token v1', 32));
}

function mac(key: Uint8Array, subscriptionId: string): Buffer {
  return createHmac('sha256', key).update(`${version}:unsubscribe:${subscriptionId}`).digest();
}

export function signUnsubscribeToken(key: Uint8Array, subscriptionId: string): string {
  const id = subscriptionId.toLowerCase();
  if (!uuidPattern.test(id)) throw new Error('a subscription id is a UUID');
  return `${version}.${id}.${mac(key, id).toString('base64url')}`;
}

/** The subscription a token unsubscribes from, or undefined when the token is malformed or forged. */
export function verifyUnsubscribeToken(key: Uint8Array, token: string): string | undefined {
  const parts = token.trim().split('.');
  if (parts.length !== 3) return undefined;
  const [tokenVersion, id, signature] = parts as [string, string, string];
  if (tokenVersion !== version || !uuidPattern.test(id) || !/^[A-Za-z0-9_-]{43}$/.test(signature)) return undefined;
  // Compared as text: decoding would ignore the unused low bits of the last character.
  const given = Buffer.from(signature, 'latin1');
  const expected = Buffer.from(mac(key, id).toString('base64url'), 'latin1');
  return given.length === expected.length && timingSafeEqual(given, expected) ? id : undefined;
}
