/**
 * The PHI vault: original identifiers (names, patient IDs, birth dates,
 * accession numbers, original UIDs...) kept only as envelope-encrypted records
 * in `phi_vault`, keyed by the pseudonym they re-identify. Each record has its
 * own AES-256-GCM data key; the data key is wrapped by AWS KMS
 * (PHI_VAULT_KMS_KEY_ID, GenerateDataKey) or, in development, by a local master
 * key file (PHI_VAULT_MASTER_KEY_FILE). No query API reads this table; the only
 * way out is `revealIdentifiers`, for the audited re-identification call.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { DecryptCommand, GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { awsRegion } from './aws-clients';
import type { Queryable } from './database';
import { keyFromBytes } from './deid-key';

export const phiVaultEnv = { kmsKeyId: 'PHI_VAULT_KMS_KEY_ID', masterKeyFile: 'PHI_VAULT_MASTER_KEY_FILE' } as const;

export type VaultKind = 'patient' | 'study' | 'series' | 'instance' | 'report';

/** What a record holds: original identifiers by DICOM keyword (strings or lists of strings). */
export type OriginalIdentifiers = Record<string, unknown>;

export interface DataKey {
  plaintext: Buffer;
  /** The data key as stored: wrapped by the master key. */
  wrapped: Buffer;
  keyId: string;
}

/** Where data keys come from: KMS in AWS, a key file in development. */
export interface DataKeySource {
  generate(context: Record<string, string>): Promise<DataKey>;
  unwrap(wrapped: Buffer, keyId: string, context: Record<string, string>): Promise<Buffer>;
}

export class KmsDataKeys implements DataKeySource {
  constructor(private readonly keyId: string, private readonly kms = new KMSClient({ region: awsRegion() })) {}

  async generate(context: Record<string, string>): Promise<DataKey> {
    const answer = await this.kms.send(new GenerateDataKeyCommand({ KeyId: this.keyId, KeySpec: 'AES_256', EncryptionContext: context }));
    if (!answer.Plaintext || !answer.CiphertextBlob) throw new Error('KMS returned no data key');
    return { plaintext: Buffer.from(answer.Plaintext), wrapped: Buffer.from(answer.CiphertextBlob), keyId: answer.KeyId ?? this.keyId };
  }

  async unwrap(wrapped: Buffer, keyId: string, context: Record<string, string>): Promise<Buffer> {
    const answer = await this.kms.send(new DecryptCommand({ CiphertextBlob: wrapped, KeyId: keyId, EncryptionContext: context }));
    if (!answer.Plaintext) throw new Error('KMS returned no plaintext');
    return Buffer.from(answer.Plaintext);
  }
}

/** Development stand-in for KMS: data keys wrapped with AES-256-GCM under a 32-byte master key. */
export class LocalDataKeys implements DataKeySource {
  private readonly keyId: string;

  constructor(private readonly masterKey: Uint8Array) {
    if (masterKey.length !== 32) throw new Error('the PHI vault master key must be 32 bytes');
    this.keyId = `local:${createHash('sha256').update(masterKey).digest('hex').slice(0, 16)}`;
  }

  generate(context: Record<string, string>): Promise<DataKey> {
    const plaintext = randomBytes(32);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.masterKey, iv);
    cipher.setAAD(contextBytes(context));
    const sealed = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Promise.resolve({ plaintext, wrapped: Buffer.concat([iv, cipher.getAuthTag(), sealed]), keyId: this.keyId });
  }

  unwrap(wrapped: Buffer, keyId: string, context: Record<string, string>): Promise<Buffer> {
    if (keyId !== this.keyId) return Promise.reject(new Error('this record was sealed with another master key'));
    const decipher = createDecipheriv('aes-256-gcm', this.masterKey, wrapped.subarray(0, 12));
    decipher.setAuthTag(wrapped.subarray(12, 28));
    decipher.setAAD(contextBytes(context));
    return Promise.resolve(Buffer.concat([decipher.update(wrapped.subarray(28)), decipher.final()]));
  }
}

function contextBytes(context: Record<string, string>): Buffer {
  return Buffer.from(JSON.stringify(Object.entries(context).sort(([a], [b]) => a.localeCompare(b))), 'utf8');
}

export interface VaultRecord {
  kind: VaultKind;
  pseudonym: string;
  ciphertext: Buffer;
  iv: Buffer;
  authTag: Buffer;
  encryptedKey: Buffer;
  keyId: string;
}

/** Binds a record to its kind and pseudonym: a record moved to another row no longer decrypts. */
function encryptionContext(kind: VaultKind, pseudonym: string): Record<string, string> {
  return { purpose: 'medlake-phi-vault', kind, pseudonym };
}

export class PhiVault {
  /** Patient/study/series pseudonyms already in the vault: each is sealed once, not once per instance. */
  private readonly known = new Set<string>();

  constructor(private readonly keys: DataKeySource) {}

  async seal(kind: VaultKind, pseudonym: string, identifiers: OriginalIdentifiers): Promise<VaultRecord> {
    const context = encryptionContext(kind, pseudonym);
    const dataKey = await this.keys.generate(context);
    try {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', dataKey.plaintext, iv);
      cipher.setAAD(contextBytes(context));
      const ciphertext = Buffer.concat([cipher.update(JSON.stringify(identifiers), 'utf8'), cipher.final()]);
      return { kind, pseudonym, ciphertext, iv, authTag: cipher.getAuthTag(), encryptedKey: dataKey.wrapped, keyId: dataKey.keyId };
    } finally {
      dataKey.plaintext.fill(0);
    }
  }

  async open(record: VaultRecord): Promise<OriginalIdentifiers> {
    const context = encryptionContext(record.kind, record.pseudonym);
    const key = await this.keys.unwrap(record.encryptedKey, record.keyId, context);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, record.iv);
      decipher.setAuthTag(record.authTag);
      decipher.setAAD(contextBytes(context));
      return JSON.parse(Buffer.concat([decipher.update(record.ciphertext), decipher.final()]).toString('utf8')) as OriginalIdentifiers;
    } finally {
      key.fill(0);
    }
  }

  /**
   * Seals and stores records that are not in the vault yet (the first
   * identifiers seen for a pseudonym are kept). Runs inside the caller's
   * transaction so the vault and the index commit together.
   */
  async store(db: Queryable, entries: readonly { kind: VaultKind; pseudonym: string; identifiers: OriginalIdentifiers }[]): Promise<void> {
    const unique = new Map<string, (typeof entries)[number]>();
    for (const entry of entries) {
      const id = `${entry.kind}\u0000${entry.pseudonym}`;
      if (!unique.has(id) && !this.known.has(id)) unique.set(id, entry);
    }
    if (unique.size === 0) return;
    const candidates = [...unique.values()];
    const present = await db.query<{ kind: string; pseudonym: string }>(
      'SELECT kind, pseudonym FROM phi_vault WHERE (kind, pseudonym) IN (SELECT * FROM unnest($1::text[], $2::text[]))',
      [candidates.map((c) => c.kind), candidates.map((c) => c.pseudonym)],
    );
    const existing = new Set(present.rows.map((r) => `${r.kind}\u0000${r.pseudonym}`));
    const missing = candidates.filter((c) => !existing.has(`${c.kind}\u0000${c.pseudonym}`));
    const records = await Promise.all(missing.map((c) => this.seal(c.kind, c.pseudonym, c.identifiers)));
    if (records.length > 0) {
      await db.query(
        `INSERT INTO phi_vault (kind, pseudonym, ciphertext, iv, auth_tag, encrypted_key, key_id)
         SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[], $4::bytea[], $5::bytea[], $6::bytea[], $7::text[])
         ON CONFLICT (kind, pseudonym) DO NOTHING`,
        [records.map((r) => r.kind), records.map((r) => r.pseudonym), records.map((r) => r.ciphertext), records.map((r) => r.iv), records.map((r) => r.authTag), records.map((r) => r.encryptedKey), records.map((r) => r.keyId)],
      );
    }
  }

  /** Call after the storing transaction committed: later batches skip these pseudonyms. */
  remember(entries: readonly { kind: VaultKind; pseudonym: string }[]): void {
    if (this.known.size > 100_000) this.known.clear();
    for (const entry of entries) if (entry.kind !== 'instance') this.known.add(`${entry.kind}\u0000${entry.pseudonym}`);
  }

  /**
   * The original identifiers behind a pseudonym, for the audited
   * re-identification call only (its caller checks the role and writes the
   * audit entry). Undefined when the vault holds no such record.
   */
  async revealIdentifiers(db: Queryable, kind: VaultKind, pseudonym: string): Promise<OriginalIdentifiers | undefined> {
    const found = await db.query<{ ciphertext: Buffer; iv: Buffer; auth_tag: Buffer; encrypted_key: Buffer; key_id: string }>(
      'SELECT ciphertext, iv, auth_tag, encrypted_key, key_id FROM phi_vault WHERE kind = $1 AND pseudonym = $2',
      [kind, pseudonym],
    );
    const row = found.rows[0];
    if (!row) return undefined;
    return this.open({ kind, pseudonym, ciphertext: row.ciphertext, iv: row.iv, authTag: row.auth_tag, encryptedKey: row.encrypted_key, keyId: row.key_id });
  }
}

let vault: Promise<PhiVault> | undefined;
let vaultFor: string | undefined;

/** The vault of this container, keyed by KMS in AWS or the local key file in development. */
export function phiVaultFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<PhiVault> {
  const source = `${env[phiVaultEnv.kmsKeyId] ?? ''}|${env[phiVaultEnv.masterKeyFile] ?? ''}`;
  if (source !== vaultFor) {
    vault = undefined;
    vaultFor = source;
  }
  vault ??= (async () => {
    const kmsKeyId = env[phiVaultEnv.kmsKeyId];
    if (kmsKeyId) return new PhiVault(new KmsDataKeys(kmsKeyId));
    const file = env[phiVaultEnv.masterKeyFile];
    if (file) return new PhiVault(new LocalDataKeys(keyFromBytes(await readFile(file), `the key file ${phiVaultEnv.masterKeyFile}`)));
    throw Object.assign(new Error(`neither ${phiVaultEnv.kmsKeyId} nor ${phiVaultEnv.masterKeyFile} is set`), { name: 'NotConfigured' });
  })().catch((error: unknown) => {
    vault = undefined;
    throw error;
  });
  return vault;
}
