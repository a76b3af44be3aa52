import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestAuthority, TestIdentity } from '../../test/support/test-pki';
import { createAuthority, issueCertificate } from '../../test/support/test-pki';
import { loadConfigFile } from './config';
import { commonName, dicomTlsPort, isLoopback, resolveDicomTls } from './tls-settings';

let dir: string;
let ca: TestAuthority;
let server: TestIdentity;
let other: TestIdentity;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'medlake-tls-settings-'));
  ca = createAuthority(dir, 'Hospital CA');
  server = issueCertificate(dir, ca, 'gateway.hospital.example', 'server');
  other = issueCertificate(dir, ca, 'other-device', 'client');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('resolveDicomTls', () => {
  it('is off without a certificate and key', () => {
    expect(resolveDicomTls({}, {})).toBeUndefined();
  });

  it('reads the certificate, key and CA; default port 2762, TLS 1.2 at least, client certificates asked when a CA is given', () => {
    const plain = resolveDicomTls({ tlsCert: server.certPath, tlsKey: server.keyPath }, {});
    expect(plain).toMatchObject({ port: dicomTlsPort, minVersion: 'TLSv1.2', clientCertificates: 'none' });
    expect(plain?.serverOptions).toMatchObject({ minVersion: 'TLSv1.2', requestCert: false });
    expect(plain?.certificate).toMatchObject({ subjectCn: 'gateway.hospital.example', issuerCn: 'Hospital CA' });
    expect(plain?.certificate.validTo.getTime()).toBeGreaterThan(Date.now());

    const optional = resolveDicomTls({ tlsCert: server.certPath, tlsKey: server.keyPath, tlsCa: ca.certPath }, {});
    expect(optional).toMatchObject({ clientCertificates: 'optional', serverOptions: { requestCert: true } });
    const required = resolveDicomTls({ tlsCert: server.certPath, tlsKey: server.keyPath, tlsCa: ca.certPath, tlsRequireClientCert: true, tlsMinVersion: 'TLSv1.3', tlsPort: 0 }, {});
    expect(required).toMatchObject({ port: 0, clientCertificates: 'required', minVersion: 'TLSv1.3', serverOptions: { requestCert: true, minVersion: 'TLSv1.3' } });
  });

  it('takes flags over the environment over the config file, whose paths are relative to its folder', () => {
    const configDir = join(dir, 'etc');
    mkdirSync(configDir, { recursive: true });
    copyFileSync(server.certPath, join(configDir, 'gateway.pem'));
    copyFileSync(server.keyPath, join(configDir, 'gateway.key'));
    chmodSync(join(configDir, 'gateway.key'), 0o600);
    const configPath = join(configDir, 'gateway.json');
    writeFileSync(configPath, JSON.stringify({ tls: { cert: 'gateway.pem', key: 'gateway.key', ca: ca.certPath, port: 2763, requireClientCert: true } }));
    chmodSync(configPath, 0o600);
    const file = loadConfigFile({ config: configPath }, {});
    expect(file.tls).toMatchObject({ cert: join(configDir, 'gateway.pem'), key: join(configDir, 'gateway.key'), port: 2763 });

    expect(resolveDicomTls({}, {}, file.tls)).toMatchObject({ port: 2763, clientCertificates: 'required' });
    const env = { MEDLAKE_GATEWAY_TLS_PORT: '2764', MEDLAKE_GATEWAY_TLS_REQUIRE_CLIENT_CERT: 'false' };
    expect(resolveDicomTls({}, env, file.tls)).toMatchObject({ port: 2764, clientCertificates: 'optional' });
    expect(resolveDicomTls({ tlsPort: 2765 }, env, file.tls)).toMatchObject({ port: 2765 });
  });

  it('says what is wrong with the files', () => {
    const missing = join(dir, 'missing.pem');
    expect(() => resolveDicomTls({ tlsCert: missing, tlsKey: server.keyPath }, {})).toThrow(`Cannot read the TLS certificate ${missing}: ENOENT.`);
    expect(() => resolveDicomTls({ tlsCert: server.certPath, tlsKey: other.keyPath }, {})).toThrow(/does not belong to the certificate/);
    expect(() => resolveDicomTls({ tlsCert: server.certPath, tlsKey: server.keyPath, tlsCa: server.keyPath }, {})).toThrow(/holds no PEM certificate/);

    const notPem = join(dir, 'not-a-certificate.pem');
    writeFileSync(notPem, 'hello\n');
    expect(() => resolveDicomTls({ tlsCert: notPem, tlsKey: server.keyPath }, {})).toThrow(/holds no PEM certificate/);

    const openKey = join(dir, 'open.key');
    copyFileSync(server.keyPath, openKey);
    chmodSync(openKey, 0o644);
    expect(() => resolveDicomTls({ tlsCert: server.certPath, tlsKey: openKey }, {})).toThrow(`Run: chmod 600 ${openKey}`);

    const encryptedKey = join(dir, 'encrypted.key');
    execFileSync('openssl', ['pkey', '-in', server.keyPath, '-aes256', '-passout', 'pass:secret', '-out', encryptedKey]);
    chmodSync(encryptedKey, 0o600);
    expect(() => resolveDicomTls({ tlsCert: server.certPath, tlsKey: encryptedKey }, {})).toThrow(/protected by a passphrase/);
  });

  it('refuses incomplete or impossible settings', () => {
    expect(() => resolveDicomTls({ tlsCert: server.certPath }, {})).toThrow(/pass --tls-key too/);
    expect(() => resolveDicomTls({ tlsKey: server.keyPath }, {})).toThrow(/pass --tls-cert too/);
    expect(() => resolveDicomTls({ tlsCa: ca.certPath }, {})).toThrow(/--tls-ca needs a certificate and its private key/);
    expect(() => resolveDicomTls({}, { MEDLAKE_GATEWAY_TLS_PORT: '2762' })).toThrow(/--tls-port needs/);
    expect(() => resolveDicomTls({ tlsCert: server.certPath, tlsKey: server.keyPath, tlsRequireClientCert: true }, {})).toThrow(/needs --tls-ca/);
    expect(() => resolveDicomTls({ tlsCert: server.certPath, tlsKey: server.keyPath }, { MEDLAKE_GATEWAY_TLS_MIN_VERSION: 'TLSv1' })).toThrow(/TLSv1.2 or TLSv1.3, not "TLSv1"/);
    expect(() => resolveDicomTls({ tlsCert: server.certPath, tlsKey: server.keyPath, tlsCiphers: 'NOT-A-CIPHER' }, {})).toThrow(/not usable/);
    expect(() => resolveDicomTls({ tlsCert: server.certPath, tlsKey: server.keyPath }, { MEDLAKE_GATEWAY_TLS_REQUIRE_CLIENT_CERT: 'maybe' })).toThrow(/true or false/);
  });

  it('refuses unknown settings in the config file\'s "tls" object', () => {
    const configPath = join(dir, 'typo.json');
    writeFileSync(configPath, JSON.stringify({ tls: { certificate: 'x.pem' } }));
    chmodSync(configPath, 0o600);
    expect(() => loadConfigFile({ config: configPath }, {})).toThrow(/Unknown setting "tls.certificate"/);
  });
});

describe('helpers', () => {
  it('reads the CN of a distinguished name as node prints it', () => {
    expect(commonName('O=medlake tests\nCN=CT_SCANNER_2')).toBe('CT_SCANNER_2');
    expect(commonName('O=no name')).toBe('');
  });

  it('tells loopback addresses from network ones', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost']) expect(isLoopback(host)).toBe(true);
    for (const host of ['0.0.0.0', '::', '10.20.0.15', 'gateway.hospital.example']) expect(isLoopback(host)).toBe(false);
  });
});
