/**
 * How a container authenticates to PostgreSQL. Locally DATABASE_URL holds
 * everything. In AWS the password never sits in the environment: DATABASE_URL
 * names host, user and database, and DATABASE_SECRET_ARN the Secrets Manager
 * secret (rotated every 30 days) whose `password` field pg asks for on each new
 * connection. The answer is kept for a minute: connections of a burst share one
 * Secrets Manager call, and a rotated password is picked up soon after.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type pg from 'pg';
import { parseIntoClientConfig } from 'pg-connection-string';
import { envNames } from '@medlake/shared/resources';
import { awsRegion } from './aws-clients';

/** Reads a secret's string value. */
export type SecretReader = (secretArn: string) => Promise<string>;

export const passwordCacheMs = 60_000;

export function secretsManagerReader(env: NodeJS.ProcessEnv = process.env): SecretReader {
  let client: SecretsManagerClient | undefined;
  return async (secretArn) => {
    client ??= new SecretsManagerClient({ region: awsRegion(env) });
    const answer = await client.send(new GetSecretValueCommand({ SecretId: secretArn }));
    if (!answer.SecretString) throw new Error('the database secret holds no string');
    return answer.SecretString;
  };
}

/** pg connection settings for DATABASE_URL, with the password from the secret when one is named. */
export function connectionConfig(databaseUrl: string, env: NodeJS.ProcessEnv = process.env, readSecret: SecretReader = secretsManagerReader(env)): pg.ClientConfig {
  const secretArn = env[envNames.databaseSecretArn];
  if (!secretArn) return { connectionString: databaseUrl };
  // pg lets the connection string override explicit settings, so it is parsed
  // here and the password supplied as a function.
  return { ...parseIntoClientConfig(databaseUrl), password: secretPassword(secretArn, readSecret) };
}

/** A password source for pg: the secret's `password`, cached for passwordCacheMs. */
export function secretPassword(secretArn: string, readSecret: SecretReader, now: () => number = Date.now): () => Promise<string> {
  let cached: { value: Promise<string>; at: number } | undefined;
  return () => {
    if (!cached || now() - cached.at > passwordCacheMs) {
      const value = readSecret(secretArn).then(passwordOf);
      cached = { value, at: now() };
      // A failed read (throttling, a network blip) is retried on the next connection.
      value.catch(() => {
        if (cached?.value === value) cached = undefined;
      });
    }
    return cached.value;
  };
}

/** RDS-managed secrets are JSON ({username, password, host, ...}); a bare string is the password itself. */
export function passwordOf(secretString: string): string {
  const text = secretString.trim();
  if (!text.startsWith('{')) return text;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error('the database secret is neither JSON nor a plain password');
  }
  const password = (parsed as { password?: unknown }).password;
  if (typeof password !== 'string' || password === '') throw new Error('the database secret has no "password" field');
  return password;
}

/** DATABASE_URL with the password filled in, for tools that take a URL only (migrations). */
export async function databaseUrlWithPassword(env: NodeJS.ProcessEnv = process.env, readSecret: SecretReader = secretsManagerReader(env)): Promise<string> {
  const url = env[envNames.databaseUrl];
  if (!url) throw new Error(`${envNames.databaseUrl} is not set`);
  const secretArn = env[envNames.databaseSecretArn];
  if (!secretArn) return url;
  const parsed = new URL(url);
  parsed.password = encodeURIComponent(passwordOf(await readSecret(secretArn)));
  return parsed.toString();
}
