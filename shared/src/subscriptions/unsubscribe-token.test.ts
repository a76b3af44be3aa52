import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signUnsubscribeToken, unsubscribeKey, verifyUnsubscribeToken } from './unsubscribe-token';

const secret = new Uint8Array(32).fill(7);
const key = unsubscribeKey(secret);
const id = '3f0c1a52-8d4e-4c7b-9a0e-2b6f1d9e4a11';
const other = '9b1d7e2c-4a5f-4e3d-8c2b-1f0a9e8d7c6b';

describe('unsubscribe tokens', () => {
  it('a token verifies to its subscription', () => {
    const token = signUnsubscribeToken(key, id);
    expect(token).toMatch(/^u1\.[0-9a-f-]{36}\.[A-Za-z0-9_-]{43}$/);
    expect(verifyUnsubscribeToken(key, token)).toBe(id);
    expect(signUnsubscribeToken(key, id.toUpperCase())).toBe(token);
  });

  it('the key is derived: not the secret itself, and different secrets give different keys', () => {
    expect(Buffer.from(key).equals(Buffer.from(secret))).toBe(false);
    expect(Buffer.from(unsubscribeKey(new Uint8Array(32).fill(8))).equals(Buffer.from(key))).toBe(false);
    expect(() => unsubscribeKey(new Uint8Array(16))).toThrow();
  });

  it('a token names one subscription: moved to another id it fails', () => {
    const token = signUnsubscribeToken(key, id);
    expect(verifyUnsubscribeToken(key, token.replace(id, other))).toBeUndefined();
  });

  it('every single-character change of the signature is refused', () => {
    const token = signUnsubscribeToken(key, id);
    const signatureStart = token.lastIndexOf('.') + 1;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    for (let i = signatureStart; i < token.length; i++) {
      for (const c of [alphabet[(alphabet.indexOf(token[i] as string) + 1) % 64], alphabet[(alphabet.indexOf(token[i] as string) + 63) % 64]]) {
        expect(verifyUnsubscribeToken(key, token.slice(0, i) + c + token.slice(i + 1))).toBeUndefined();
      }
    }
  });

  it('another key, other versions and malformed tokens are refused', () => {
    const token = signUnsubscribeToken(key, id);
    expect(verifyUnsubscribeToken(unsubscribeKey(randomBytes(32)), token)).toBeUndefined();
    for (const bad of ['', 'u1', `u2${token.slice(2)}`, `${token}.x`, token.slice(0, -1), 'u1.not-a-uuid.' + 'A'.repeat(43), `u1.${id}.${'A'.repeat(43)}`]) {
      expect(verifyUnsubscribeToken(key, bad), bad).toBeUndefined();
    }
  });

  it('only UUIDs can be signed', () => {
    expect(() => signUnsubscribeToken(key, 'subscription-1')).toThrow();
  });
});
