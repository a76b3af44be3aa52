/**
 * Unfinished multipart uploads kept in localStorage, so that the same files
 * given again after a reload continue where they stopped. File names and
 * folder paths often name the patient ("DOE_JOHN/CT/IM001.dcm"), and a
 * hospital workstation is shared: nothing of them is stored. An entry is
 * found by the SHA-256 of the file's fingerprint (path, size, modification
 * time), which only the same file given again reproduces, and shows the user
 * its size and modification time instead of its name.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import type { ResumeStore, SavedMultipart } from './engine';
import { formatBytes } from './meter';

/** A saved upload as stored: `fingerprint` is the hash, `label` what the page shows. */
export interface StoredResume extends SavedMultipart {
  label: string;
}

const storageKey = (ownerSub: string) => `medlake.upload-resume.${ownerSub}`;

/** The stored form of a fingerprint. */
export function fingerprintHash(fingerprint: string): string {
  return bytesToHex(sha256(utf8ToBytes(fingerprint)));
}

/** "2.1 GB, modified 25/11/2026, 14:02:11" from a fingerprint (`path|size|lastModified`). */
export function resumeLabel(fingerprint: string): string {
  const [size = Number.NaN, modified = Number.NaN] = fingerprint.split('|').slice(-2).map(Number);
  const parts = [Number.isFinite(size) ? formatBytes(size) : 'a large file'];
  if (Number.isFinite(modified) && modified > 0) parts.push(`modified ${new Date(modified).toLocaleString()}`);
  return parts.join(', ');
}

const isHash = (key: string) => /^[0-9a-f]{64}$/.test(key);

/** The user's entries; entries of earlier versions (keyed by the clear fingerprint) are rewritten hashed. */
function readAll(ownerSub: string, storage: Storage): Record<string, StoredResume> {
  let all: Record<string, StoredResume | SavedMultipart>;
  try {
    all = JSON.parse(storage.getItem(storageKey(ownerSub)) ?? '{}') as Record<string, StoredResume | SavedMultipart>;
  } catch {
    return {};
  }
  const stored: Record<string, StoredResume> = {};
  let migrated = false;
  for (const [key, entry] of Object.entries(all)) {
    if (isHash(key) && 'label' in entry) {
      stored[key] = entry;
      continue;
    }
    migrated = true;
    const hash = fingerprintHash(entry.fingerprint);
    stored[hash] = { ...entry, fingerprint: hash, label: resumeLabel(entry.fingerprint) };
  }
  if (migrated) writeAll(ownerSub, storage, stored);
  return stored;
}

function writeAll(ownerSub: string, storage: Storage, all: Record<string, StoredResume>): void {
  try {
    if (Object.keys(all).length === 0) storage.removeItem(storageKey(ownerSub));
    else storage.setItem(storageKey(ownerSub), JSON.stringify(all));
  } catch {
    // Storage full or disabled: the upload still works, it just cannot be resumed after a reload.
  }
}

/** The engine's store: it speaks clear fingerprints, the storage holds hashes. */
export function localResumeStore(ownerSub: string, storage: Storage = window.localStorage): ResumeStore {
  return {
    get: (fingerprint) => {
      const entry = readAll(ownerSub, storage)[fingerprintHash(fingerprint)];
      if (!entry) return undefined;
      const { label: _label, ...saved } = entry;
      return { ...saved, fingerprint };
    },
    put: (saved) => {
      const hash = fingerprintHash(saved.fingerprint);
      writeAll(ownerSub, storage, { ...readAll(ownerSub, storage), [hash]: { ...saved, fingerprint: hash, label: resumeLabel(saved.fingerprint) } });
    },
    remove: (fingerprint) => {
      const all = readAll(ownerSub, storage);
      delete all[fingerprintHash(fingerprint)];
      writeAll(ownerSub, storage, all);
    },
  };
}

/** Saved uploads not finished, to tell the user which files to give again (by size and date). */
export function pendingResumes(ownerSub: string, storage: Storage = window.localStorage): StoredResume[] {
  return Object.values(readAll(ownerSub, storage));
}
