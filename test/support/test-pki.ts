/**
 * A throwaway public-key infrastructure for TLS tests, made with the openssl
 * CLI in a folder of the test's: certification authorities, and certificates
 * they sign for servers (with a subjectAltName for 127.0.0.1 and localhost)
 * and for clients (a device named by its CN). EC P-256 keys: made in
 * milliseconds, and in the cipher suites of the BCP 195 profile dcmtk uses.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestAuthority {
  name: string;
  certPath: string;
  keyPath: string;
}

export interface TestIdentity {
  certPath: string;
  keyPath: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function fileName(name: string): string {
  return name.replace(/[^\w.-]+/g, '-');
}

function newKey(dir: string, name: string): string {
  const keyPath = join(dir, `${fileName(name)}.key`);
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyPath], dir);
  chmodSync(keyPath, 0o600);
  return keyPath;
}

export function createAuthority(dir: string, name: string): TestAuthority {
  const keyPath = newKey(dir, name);
  const certPath = join(dir, `${fileName(name)}.pem`);
  openssl(['req', '-x509', '-new', '-key', keyPath, '-sha256', '-days', '90', '-subj', `/O=medlake tests/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', certPath], dir);
  return { name, certPath, keyPath };
}

/** A certificate signed by `authority`; `usage` decides the extended key usage and the SAN. */
export function issueCertificate(dir: string, authority: TestAuthority, name: string, usage: 'server' | 'client'): TestIdentity {
  const keyPath = newKey(dir, name);
  const csrPath = join(dir, `${fileName(name)}.csr`);
  const extPath = join(dir, `${fileName(name)}.ext`);
  const certPath = join(dir, `${fileName(name)}.pem`);
  openssl(['req', '-new', '-key', keyPath, '-subj', `/O=medlake tests/CN=${name}`, '-out', csrPath], dir);
  writeFileSync(extPath, [
    'basicConstraints=CA:FALSE',
    'keyUsage=critical,digitalSignature',
    usage === 'server' ? 'extendedKeyUsage=serverAuth' : 'extendedKeyUsage=clientAuth',
    ...(usage === 'server' ? ['subjectAltName=IP:127.0.0.1,DNS:localhost'] : []),
  ].join('\n'));
  openssl(['x509', '-req', '-in', csrPath, '-CA', authority.certPath, '-CAkey', authority.keyPath, '-CAcreateserial',
    '-days', '90', '-sha256', '-extfile', extPath, '-out', certPath], dir);
  return { certPath, keyPath };
}
