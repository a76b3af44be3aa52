/**
 * Secret key files of the local stack (de-identification key, PHI vault master
 * key): 32 random bytes, generated once, readable by the owner only. In AWS
 * the same secrets come from Secrets Manager and KMS.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export const keyLengthBytes = 32;

/** Creates the key file if missing; returns whether it was created. Refuses a file of the wrong size. */
export function ensureKeyFile(path: string): { created: boolean } {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  if (existsSync(path)) {
    const size = statSync(path).size;
    if (size !== keyLengthBytes) throw new Error(`${path} holds ${size} bytes, not a ${keyLengthBytes}-byte key: restore it from your backup (or start with --reset to begin a new lake)`);
    if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
    return { created: false };
  }
  // 'wx': never overwrite a key another process created in the meantime.
  writeFileSync(path, randomBytes(keyLengthBytes), { mode: 0o600, flag: 'wx' });
  return { created: true };
}
