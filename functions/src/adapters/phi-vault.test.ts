import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LocalDataKeys, PhiVault } from './phi-vault';

describe('PHI vault envelope encryption', () => {
  const vault = new PhiVault(new LocalDataKeys(randomBytes(32)));
  const identifiers = { patientName: 'DOE^JANE', patientId: 'MRN-0042', birthDate: '19700101' };

  it('seals with a fresh data key per record and opens again', async () => {
    const a = await vault.seal('patient', 'PSEUDO-1', identifiers);
    const b = await vault.seal('patient', 'PSEUDO-1', identifiers);
    expect(a.encryptedKey.equals(b.encryptedKey)).toBe(false);
    expect(a.ciphertext.equals(b.ciphertext)).toBe(false);
    expect(a.ciphertext.toString('latin1')).not.toContain('DOE');
    expect(await vault.open(a)).toEqual(identifiers);
  });

  it('refuses a record moved to another pseudonym or tampered with', async () => {
    const record = await vault.seal('patient', 'PSEUDO-1', identifiers);
    await expect(vault.open({ ...record, pseudonym: 'PSEUDO-2' })).rejects.toThrow();
    const flipped = Buffer.from(record.ciphertext);
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    await expect(vault.open({ ...record, ciphertext: flipped })).rejects.toThrow();
  });

  it('cannot open records of another master key', async () => {
    const record = await vault.seal('study', '2.25.1', { accessionNumber: 'A1' });
    const other = new PhiVault(new LocalDataKeys(randomBytes(32)));
    await expect(other.open(record)).rejects.toThrow(/another master key/);
  });
});
