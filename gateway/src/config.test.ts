import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { assertSecureTransport, resolveConnection } from './config';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'medlake-config-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function configFile(mode: number, content: object): string {
  const path = join(dir, 'gateway.json');
  writeFileSync(path, JSON.stringify(content));
  chmodSync(path, mode);
  return path;
}

describe('resolveConnection', () => {
  it('reads a private config file; flags and environment win over it', () => {
    const path = configFile(0o600, { url: 'https://file.example.org/', username: 'gw@file', password: 'from-file' });
    expect(resolveConnection({ config: path }, {})).toEqual({ url: 'https://file.example.org', username: 'gw@file', password: 'from-file' });
    expect(resolveConnection({ config: path, url: 'https://flag.example.org' }, { MEDLAKE_GATEWAY_PASSWORD: 'from-env' }))
      .toEqual({ url: 'https://flag.example.org', username: 'gw@file', password: 'from-env' });
  });

  it('refuses a config file other users can read', () => {
    const path = configFile(0o644, { url: 'https://x.example.org', username: 'u', password: 'p' });
    expect(() => resolveConnection({ config: path }, {})).toThrow(/chmod 600/);
  });

  it('says what is missing', () => {
    expect(() => resolveConnection({}, { XDG_CONFIG_HOME: dir })).toThrow(/No medlake URL/);
    expect(() => resolveConnection({ url: 'https://x.example.org' }, { XDG_CONFIG_HOME: dir })).toThrow(/MEDLAKE_GATEWAY_USER/);
  });

  it('sends patient data over plain http only to this machine', () => {
    expect(() => assertSecureTransport('https://medlake.example.org')).not.toThrow();
    expect(() => assertSecureTransport('http://127.0.0.1:3000')).not.toThrow();
    expect(() => assertSecureTransport('http://localhost:3000/s3/x')).not.toThrow();
    expect(() => assertSecureTransport('http://medlake.example.org')).toThrow(/plain http/);
  });
});
