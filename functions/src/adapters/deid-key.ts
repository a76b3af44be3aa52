/**
 * The de-identification key: 32 secret bytes from which pseudonyms, UID
 * remapping and date shifts derive. Locally a key file (DEID_KEY_FILE), in AWS
 * a Secrets Manager secret (DEID_KEY_SECRET_ARN). Loaded once per container:
 * every instance of the lake must be de-identified with the same key.
 */
import { readFile } from 'node:fs/promises';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { awsRegion } from './aws-clients';

export const deidKeyEnv = { file: 'DEID_KEY_FILE', secretArn: 'DEID_KEY_SECRET_ARN' } as const;

const keyBytes = 32;

let cached: Promise<Uint8Array> | undefined;
let cachedFor: string | undefined;

/** The key named by the environment, loaded on first use and then reused. */
export function deidKey(env: NodeJS.ProcessEnv = process.env): Promise<Uint8Array> {
  const source = `${env[deidKeyEnv.file] ?? ''}|${env[deidKeyEnv.secretArn] ?? ''}`;
  if (source !== cachedFor) {
    cached = undefined;
    cachedFor = source;
  }
  cached ??= loadDeidKey(env).catch((error: unknown) => {
    // A failed load (e.g. a throttled Secrets Manager call) must not stick.
    cached = undefined;
    throw error;
  });
  return cached;
}

export async function loadDeidKey(env: NodeJS.ProcessEnv = process.env): Promise<Uint8Array> {
  const file = env[deidKeyEnv.file];
  if (file) return keyFromBytes(await readFile(file), `the key file ${deidKeyEnv.file}`);
  const arn = env[deidKeyEnv.secretArn];
  if (arn) {
    const client = new SecretsManagerClient({ region: awsRegion(env) });
    const secret = await client.send(new GetSecretValueCommand({ SecretId: arn }));
    if (secret.SecretBinary) return keyFromBytes(Buffer.from(secret.SecretBinary), 'the de-identification secret');
    if (secret.SecretString) return keyFromBytes(Buffer.from(secret.SecretString, 'utf8'), 'the de-identification secret');
    throw new Error('the de-identification secret is empty');
  }
  throw Object.assign(new Error(`neither ${deidKeyEnv.file} nor ${deidKeyEnv.secretArn} is set`), { name: 'NotConfigured' });
}

/**
 * Accepts the key as 32 raw bytes, or as text: 64 hex digits or base64 of 32
 * bytes (secrets are often stored as strings).
 */
export function keyFromBytes(bytes: Buffer, what: string): Uint8Array {
  if (bytes.length === keyBytes) return new Uint8Array(bytes);
  const text = bytes.toString('utf8').trim();
  if (/^[0-9a-fA-F]{64}$/.test(text)) return new Uint8Array(Buffer.from(text, 'hex'));
  const decoded = Buffer.from(text, 'base64');
  if (decoded.length === keyBytes && /^[A-Za-z0-9+/=_-]+$/.test(text)) return new Uint8Array(decoded);
  throw new Error(`${what} must hold 32 bytes (raw, 64 hex digits or base64)`);
}
