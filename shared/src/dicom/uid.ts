import { createHmac } from 'node:crypto';

/**
 * Deterministic UID remapping: `2.25.` + the decimal of the first 128 bits of
 * HMAC-SHA256(key, original UID). The same key maps the same original UID to
 * the same new UID in every file and every upload, so references between
 * objects (SR, SEG, Frame of Reference) stay consistent; without the key the
 * mapping cannot be reversed or confirmed.
 */
export function remapUid(key: Uint8Array, uid: string): string {
  const digest = createHmac('sha256', key).update(uid, 'latin1').digest();
  return `2.25.${digest.readBigUInt64BE(0) * 2n ** 64n + digest.readBigUInt64BE(8)}`;
}

/** UIDs defined by the standard (SOP classes, transfer syntaxes, coding schemes, context groups...). */
export function isStandardUid(uid: string): boolean {
  return uid.startsWith('1.2.840.10008.');
}

/** medlake's implementation class UID (a fixed UUID-derived 2.25 UID) and version name. */
export const implementationClassUid = '2.25.197734811092834165935496366925106497851';
export const implementationVersionName = 'MEDLAKE_0_1';
