/**
 * Where the gateway finds its server and machine credentials (and the
 * receiver's DICOM TLS settings, see tls-settings.ts): command-line flags,
 * then the environment (MEDLAKE_URL, MEDLAKE_GATEWAY_USER,
 * MEDLAKE_GATEWAY_PASSWORD), then a JSON config file. The file holds a
 * password, so, like ssh with its keys, we refuse one that others can read.
 */
import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { ConfigError } from './errors';

export const envVars = {
  url: 'MEDLAKE_URL',
  user: 'MEDLAKE_GATEWAY_USER',
  password: 'MEDLAKE_GATEWAY_PASSWORD',
  config: 'MEDLAKE_CONFIG',
} as const;

export interface Connection {
  /** The medlake base URL, e.g. https://medlake.example.org (no trailing slash). */
  url: string;
  username: string;
  password: string;
}

/** The receiver's DICOM TLS settings as the config file's "tls" object holds them (paths made absolute). */
export interface TlsFileSettings {
  port?: number;
  cert?: string;
  key?: string;
  ca?: string;
  requireClientCert?: boolean;
  minVersion?: string;
  ciphers?: string;
}

export interface ConfigFile {
  url?: string;
  username?: string;
  password?: string;
  tls?: TlsFileSettings;
}

export function defaultConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(base, 'medlake', 'gateway.json');
}

/** Reads a config file, refusing one readable or writable by group or others. */
export function readConfigFile(path: string): ConfigFile {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (error) {
    throw new ConfigError('config_missing', `Cannot read the config file ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}.`);
  }
  if ((mode & 0o077) !== 0) {
    throw new ConfigError('config_permissions', `The config file ${path} holds a password but is open to other users (mode ${(mode & 0o777).toString(8)}). Run: chmod 600 ${path}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw new ConfigError('config_invalid', `The config file ${path} is not valid JSON.`);
  }
  if (!parsed || typeof parsed !== 'object') throw new ConfigError('config_invalid', `The config file ${path} must hold a JSON object.`);
  const out: ConfigFile = {};
  for (const key of ['url', 'username', 'password'] as const) {
    const value = (parsed as Record<string, unknown>)[key];
    if (value !== undefined && typeof value !== 'string') throw new ConfigError('config_invalid', `"${key}" in ${path} must be a string.`);
    if (typeof value === 'string') out[key] = value;
  }
  const tls = (parsed as Record<string, unknown>).tls;
  if (tls !== undefined) out.tls = readTlsSection(tls, path);
  return out;
}

/** File paths in the "tls" object are relative to the config file's folder, as in most servers' configs. */
function readTlsSection(section: unknown, path: string): TlsFileSettings {
  if (!section || typeof section !== 'object' || Array.isArray(section)) throw new ConfigError('config_invalid', `"tls" in ${path} must be an object.`);
  const values = section as Record<string, unknown>;
  const known = new Set(['port', 'cert', 'key', 'ca', 'requireClientCert', 'minVersion', 'ciphers']);
  for (const key of Object.keys(values)) {
    if (!known.has(key)) throw new ConfigError('config_invalid', `Unknown setting "tls.${key}" in ${path} (known: ${[...known].join(', ')}).`);
  }
  const out: TlsFileSettings = {};
  for (const key of ['cert', 'key', 'ca'] as const) {
    const value = values[key];
    if (value === undefined) continue;
    if (typeof value !== 'string' || !value) throw new ConfigError('config_invalid', `"tls.${key}" in ${path} must be a file path.`);
    out[key] = resolve(dirname(path), value);
  }
  for (const key of ['minVersion', 'ciphers'] as const) {
    const value = values[key];
    if (value === undefined) continue;
    if (typeof value !== 'string') throw new ConfigError('config_invalid', `"tls.${key}" in ${path} must be a string.`);
    out[key] = value;
  }
  if (values.port !== undefined) {
    if (!Number.isInteger(values.port) || (values.port as number) < 0 || (values.port as number) > 65535) {
      throw new ConfigError('config_invalid', `"tls.port" in ${path} must be a port number (0 to 65535).`);
    }
    out.port = values.port as number;
  }
  if (values.requireClientCert !== undefined) {
    if (typeof values.requireClientCert !== 'boolean') throw new ConfigError('config_invalid', `"tls.requireClientCert" in ${path} must be true or false.`);
    out.requireClientCert = values.requireClientCert;
  }
  return out;
}

export interface ConnectionFlags {
  url?: string;
  config?: string;
}

/**
 * Flags win over the environment, the environment over the file. An explicit
 * --config (or MEDLAKE_CONFIG) must exist; the default path is optional.
 */
export function resolveConnection(flags: ConnectionFlags, env: NodeJS.ProcessEnv = process.env, file: ConfigFile = loadConfigFile(flags, env)): Connection {
  const url = flags.url ?? env[envVars.url] ?? file.url;
  const username = env[envVars.user] ?? file.username;
  const password = env[envVars.password] ?? file.password;
  if (!url) throw new ConfigError('url_missing', `No medlake URL: pass --url, set ${envVars.url}, or put "url" in the config file.`);
  if (!username || !password) {
    throw new ConfigError('credentials_missing', `No gateway credentials: set ${envVars.user} and ${envVars.password}, or put "username" and "password" in a config file (mode 600).`);
  }
  return { url: normalizeBaseUrl(url), username, password };
}

/** The config file --config (or MEDLAKE_CONFIG) names, which must exist, else the default one if there is one. */
export function loadConfigFile(flags: ConnectionFlags, env: NodeJS.ProcessEnv = process.env): ConfigFile {
  const explicitPath = flags.config ?? env[envVars.config];
  if (explicitPath) return readConfigFile(explicitPath);
  const fallback = defaultConfigPath(env);
  return exists(fallback) ? readConfigFile(fallback) : {};
}

export function normalizeBaseUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError('url_invalid', `"${url}" is not a URL (expected e.g. https://medlake.example.org).`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new ConfigError('url_invalid', 'The medlake URL must start with https:// (or http:// for a local stack).');
  return parsed.toString().replace(/\/+$/, '');
}

/**
 * Identified data must travel over TLS. Plain http is only for a stack on
 * this machine (development, tests).
 */
export function assertSecureTransport(url: string): void {
  const parsed = new URL(url);
  if (parsed.protocol === 'https:') return;
  const host = parsed.hostname;
  if (host === 'localhost' || host === '::1' || host === '[::1]' || host.startsWith('127.')) return;
  throw new ConfigError('insecure_url', `Refusing to send patient data over plain http to ${host}: use https://.`);
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}
