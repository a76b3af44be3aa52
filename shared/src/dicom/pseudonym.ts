import { createHmac } from 'node:crypto';

// Every keyed hash is domain-separated by a label so that a value of one kind
// (a patient ID) can never produce the same digest as another (a UID).
function keyedHash(key: Uint8Array, label: string, ...parts: string[]): Buffer {
  const hmac = createHmac('sha256', key).update(label, 'utf8');
  for (const part of parts) hmac.update('\u0000', 'utf8').update(part, 'utf8');
  return hmac.digest();
}

const base32Alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 (no padding) of the first `characters * 5` bits. */
function base32(bytes: Uint8Array, characters: number): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < characters) {
      out += base32Alphabet[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
    if (out.length === characters) break;
  }
  return out;
}

function collapseWhitespace(value: string): string {
  return value.trim().replace(/\s+/g, ' ');
}

/**
 * The pseudonymous Patient ID: `MLP-` + 12 base32 characters (60 bits) of
 * the keyed HMAC of the normalized (Issuer of Patient ID, Patient ID). The
 * issuer is upper-cased, both are trimmed with inner whitespace collapsed, so
 * the same patient sent by any gateway lands on the same pseudonym. 16
 * characters: fits LO (Patient ID) and reads well in a UI.
 */
export function patientPseudonym(key: Uint8Array, issuer: string | undefined, patientId: string): string {
  const digest = keyedHash(key, 'medlake:patient', collapseWhitespace(issuer ?? '').toUpperCase(), collapseWhitespace(patientId));
  return `MLP-${base32(digest, 12)}`;
}

/**
 * Pseudonym for an instance without a Patient ID: one per study, so that
 * unrelated patients without IDs are never merged into one.
 */
export function studyScopedPatientPseudonym(key: Uint8Array, studyInstanceUid: string): string {
  return `MLP-${base32(keyedHash(key, 'medlake:patient-of-study', studyInstanceUid), 12)}`;
}

/** Accession Number pseudonym: `MLA-` + 12 base32 characters; 16 characters fits SH. */
export function accessionPseudonym(key: Uint8Array, accessionNumber: string): string {
  return `MLA-${base32(keyedHash(key, 'medlake:accession', collapseWhitespace(accessionNumber)), 12)}`;
}

/** Keyed hash (hex) of the original SOP Instance UID: the idempotency key of an upload, never the UID itself. */
export function sourceUidHash(key: Uint8Array, sopInstanceUid: string): string {
  return keyedHash(key, 'medlake:source-sop-instance', sopInstanceUid).toString('hex');
}

/**
 * Whole days added to every date of the patient: in [-rangeDays, -1], from
 * the keyed HMAC of the pseudonym, so one patient always gets the same
 * offset and intervals between studies stay true. Dates only move back.
 */
export function dateShiftDays(key: Uint8Array, pseudonym: string, rangeDays: number): number {
  if (!Number.isInteger(rangeDays) || rangeDays < 1) throw new RangeError('dateShiftRangeDays must be a positive whole number of days');
  const digest = keyedHash(key, 'medlake:date-shift', pseudonym);
  return -(1 + (digest.readUInt32BE(0) % rangeDays));
}
