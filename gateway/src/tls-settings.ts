/**
 * The receiver's DICOM TLS (PS3.15 Annex B, Basic TLS Secure Transport
 * Connection Profile, usually on port 2762): a certificate and its private
 * key, optionally the CA that issues the modalities' certificates, and
 * whether a modality must show one (mutual TLS). Read from flags, then the
 * environment, then the config file's "tls" object; every file is read and
 * checked at start, so a wrong path, a key that is not the certificate's or
 * an encrypted key stops the gateway with a sentence instead of failing each
 * handshake later.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import type { TlsOptions } from 'node:tls';
import type { TlsFileSettings } from './config';
import { ConfigError } from './errors';

/** The port IANA registered for DICOM over TLS. */
export const dicomTlsPort = 2762;

export const tlsEnvVars = {
  port: 'MEDLAKE_GATEWAY_TLS_PORT',
  cert: 'MEDLAKE_GATEWAY_TLS_CERT',
  key: 'MEDLAKE_GATEWAY_TLS_KEY',
  ca: 'MEDLAKE_GATEWAY_TLS_CA',
  requireClientCert: 'MEDLAKE_GATEWAY_TLS_REQUIRE_CLIENT_CERT',
  minVersion: 'MEDLAKE_GATEWAY_TLS_MIN_VERSION',
  ciphers: 'MEDLAKE_GATEWAY_TLS_CIPHERS',
} as const;

/** TLS 1.0 and 1.1 are deprecated (RFC 8996) and not in the BCP 195 profiles of PS3.15. */
const allowedMinVersions = ['TLSv1.2', 'TLSv1.3'] as const;
export type TlsMinVersion = (typeof allowedMinVersions)[number];

export interface TlsFlags {
  tlsPort?: number;
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  tlsRequireClientCert?: boolean;
  tlsMinVersion?: string;
  tlsCiphers?: string;
}

/** What the receiver's certificate says, for the start-up log (a device name and dates: no PHI). */
export interface ServerCertificateSummary {
  subjectCn: string;
  issuerCn: string;
  validTo: Date;
}

export interface DicomTlsSettings {
  port: number;
  /** none: no client certificate asked; optional: asked and verified if shown; required: no certificate from the CA, no connection. */
  clientCertificates: 'none' | 'optional' | 'required';
  minVersion: TlsMinVersion;
  certificate: ServerCertificateSummary;
  /** The options of node's tls.createServer; the receiver itself refuses peers without a valid certificate when they are required. */
  serverOptions: TlsOptions;
}

/** Returns undefined when no TLS is configured (plain DICOM only). */
export function resolveDicomTls(flags: TlsFlags, env: NodeJS.ProcessEnv, file: TlsFileSettings = {}, cwd = process.cwd()): DicomTlsSettings | undefined {
  const path = (flag: string | undefined, envName: string, fromFile: string | undefined) => {
    const given = flag ?? env[envName];
    return given ? resolve(cwd, given) : fromFile;
  };
  const certPath = path(flags.tlsCert, tlsEnvVars.cert, file.cert);
  const keyPath = path(flags.tlsKey, tlsEnvVars.key, file.key);
  const caPath = path(flags.tlsCa, tlsEnvVars.ca, file.ca);
  const requireClientCert = flags.tlsRequireClientCert ?? booleanEnv(env, tlsEnvVars.requireClientCert) ?? file.requireClientCert ?? false;
  const minVersionText = flags.tlsMinVersion ?? env[tlsEnvVars.minVersion] ?? file.minVersion;
  const ciphers = flags.tlsCiphers ?? env[tlsEnvVars.ciphers] ?? file.ciphers;
  const port = flags.tlsPort ?? portEnv(env) ?? file.port;

  if (!certPath && !keyPath) {
    const stray = [
      [port !== undefined, '--tls-port'],
      [caPath, '--tls-ca'],
      [requireClientCert, '--tls-require-client-cert'],
      [minVersionText, '--tls-min-version'],
      [ciphers, '--tls-ciphers'],
    ].find(([given]) => given)?.[1];
    if (stray) throw new ConfigError('tls_incomplete', `${stray} needs a certificate and its private key: pass --tls-cert and --tls-key.`);
    return undefined;
  }
  if (!certPath) throw new ConfigError('tls_incomplete', 'A TLS private key without its certificate: pass --tls-cert too.');
  if (!keyPath) throw new ConfigError('tls_incomplete', 'A TLS certificate without its private key: pass --tls-key too.');
  if (requireClientCert && !caPath) {
    throw new ConfigError('tls_ca_missing', '--tls-require-client-cert needs --tls-ca: the CA certificate(s) that issue the modalities\' certificates.');
  }
  const minVersion = minVersionText ?? 'TLSv1.2';
  if (!isMinVersion(minVersion)) throw new ConfigError('tls_min_version_invalid', `The minimum TLS version must be ${allowedMinVersions.join(' or ')}, not "${minVersion}".`);

  const certPem = readPem(certPath, 'TLS certificate');
  const keyPem = readPrivateKeyFile(keyPath);
  const caPem = caPath ? readPem(caPath, 'CA certificate file') : undefined;

  const chain = certificatesIn(certPem, certPath, 'TLS certificate');
  const leaf = chain[0] as X509Certificate;
  const key = parsePrivateKey(keyPem, keyPath);
  if (!leaf.checkPrivateKey(key)) throw new ConfigError('tls_key_mismatch', `The private key ${keyPath} does not belong to the certificate ${certPath}.`);
  if (caPem) certificatesIn(caPem, caPath as string, 'CA certificate file');

  const serverOptions: TlsOptions = {
    cert: certPem,
    key: keyPem,
    ...(caPem ? { ca: caPem } : {}),
    requestCert: Boolean(caPem),
    minVersion,
    ...(ciphers ? { ciphers } : {}),
  };
  try {
    createSecureContext(serverOptions);
  } catch (error) {
    throw new ConfigError('tls_invalid', `The TLS settings are not usable: ${(error as Error).message}.`);
  }
  return {
    port: port ?? dicomTlsPort,
    clientCertificates: requireClientCert ? 'required' : caPem ? 'optional' : 'none',
    minVersion,
    certificate: { subjectCn: commonName(leaf.subject), issuerCn: commonName(leaf.issuer), validTo: new Date(leaf.validTo) },
    serverOptions,
  };
}

/** Days until the certificate expires (negative once it has). */
export function daysLeft(certificate: ServerCertificateSummary, now = new Date()): number {
  return Math.floor((certificate.validTo.getTime() - now.getTime()) / 86_400_000);
}

/** The CN of an X.509 subject or issuer as node prints it ("O=…\nCN=…"); '' without one. */
export function commonName(distinguishedName: string): string {
  const line = distinguishedName.split('\n').reverse().find((part) => part.startsWith('CN='));
  return line ? line.slice(3) : '';
}

function isMinVersion(value: string): value is TlsMinVersion {
  return (allowedMinVersions as readonly string[]).includes(value);
}

function booleanEnv(env: NodeJS.ProcessEnv, name: string): boolean | undefined {
  const value = env[name]?.trim().toLowerCase();
  if (!value) return undefined;
  if (['1', 'true', 'yes', 'on'].includes(value)) return true;
  if (['0', 'false', 'no', 'off'].includes(value)) return false;
  throw new ConfigError('tls_env_invalid', `${name} must be true or false, not "${env[name]}".`);
}

function portEnv(env: NodeJS.ProcessEnv): number | undefined {
  const value = env[tlsEnvVars.port]?.trim();
  if (!value) return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError('tls_env_invalid', `${tlsEnvVars.port} must be a port number (0 to 65535), not "${value}".`);
  return port;
}

function readPem(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError('tls_file_unreadable', `Cannot read the ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}.`);
  }
}

/** Like the config file, a private key others can read is refused (a group, e.g. ssl-cert, may read it). */
function readPrivateKeyFile(path: string): string {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (error) {
    throw new ConfigError('tls_file_unreadable', `Cannot read the TLS private key ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}.`);
  }
  if ((mode & 0o007) !== 0) {
    throw new ConfigError('tls_key_permissions', `The TLS private key ${path} is open to other users (mode ${(mode & 0o777).toString(8)}). Run: chmod 600 ${path}`);
  }
  return readPem(path, 'TLS private key');
}

function parsePrivateKey(pem: string, path: string): KeyObject {
  // PKCS#8 ("ENCRYPTED PRIVATE KEY") or traditional OpenSSL ("Proc-Type: 4,ENCRYPTED"); OpenSSL's own error says neither.
  const encrypted = /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type:\s*4,ENCRYPTED/.test(pem);
  try {
    if (!encrypted) return createPrivateKey(pem);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_MISSING_PASSPHRASE') throw new ConfigError('tls_key_invalid', `${path} is not a PEM private key.`);
  }
  throw new ConfigError('tls_key_encrypted', `The TLS private key ${path} is protected by a passphrase: the gateway needs it unencrypted (openssl pkey -in ${path} -out new.key), readable only by its user.`);
}

function certificatesIn(pem: string, path: string, what: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new ConfigError('tls_certificate_invalid', `The ${what} ${path} holds no PEM certificate (-----BEGIN CERTIFICATE-----).`);
  return blocks.map((block) => {
    try {
      return new X509Certificate(block);
    } catch {
      throw new ConfigError('tls_certificate_invalid', `The ${what} ${path} holds a damaged certificate.`);
    }
  });
}

/** Loopback only: nothing crosses a network cable (a plain DICOM port elsewhere is warned about). */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  return bare === 'localhost' || bare === '::1' || bare.startsWith('127.') || bare === '::ffff:127.0.0.1';
}
