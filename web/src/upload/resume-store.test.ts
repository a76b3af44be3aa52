import { describe, expect, it } from 'vitest';
import type { SavedMultipart } from './engine';
import { fingerprintHash, localResumeStore, pendingResumes, resumeLabel } from './resume-store';

/** localStorage's interface over a Map (the browser's own is used in the page). */
function memoryStorage(): Storage & { dump(): string } {
  const items = new Map<string, string>();
  return {
    get length() {
      return items.size;
    },
    clear: () => items.clear(),
    getItem: (key) => items.get(key) ?? null,
    key: (index) => [...items.keys()][index] ?? null,
    removeItem: (key) => void items.delete(key),
    setItem: (key, value) => void items.set(key, String(value)),
    dump: () => [...items.values()].join('\n'),
  };
}

const fingerprint = 'DOE_JOHN 1957-03-04/CT/IM0001.dcm|2100000000|1764079331000';
const saved: SavedMultipart = { fingerprint, uploadId: 'up-1', index: 0, partSizeBytes: 64_000_000, partCount: 33, etags: { 1: '"a"' }, createdAtMs: 1 };

describe('the resume store in localStorage', () => {
  it('stores no file name or folder: only a hash of the fingerprint, the size and the date', () => {
    const storage = memoryStorage();
    localResumeStore('user-1', storage).put(saved);
    expect(storage.dump()).not.toMatch(/DOE|JOHN|1957|IM0001|CT\//);
    // SHA-256 of the fingerprint (sha256sum of the same text), the only key the entry has.
    expect(fingerprintHash(fingerprint)).toBe('7f9f262247786420edf6b7aeb07c84e4cbeb5689cb2807d53c5a6747fd600f63');
    expect(storage.dump()).toContain('7f9f262247786420edf6b7aeb07c84e4cbeb5689cb2807d53c5a6747fd600f63');
    expect(pendingResumes('user-1', storage)).toEqual([{ ...saved, fingerprint: fingerprintHash(fingerprint), label: resumeLabel(fingerprint) }]);
    expect(resumeLabel(fingerprint)).toMatch(/^2\.1 GB, modified /);
  });

  it('finds an entry again by the same file, and only by it; removes it; keeps users apart', () => {
    const storage = memoryStorage();
    const store = localResumeStore('user-1', storage);
    store.put(saved);
    expect(store.get(fingerprint)).toEqual(saved);
    expect(store.get(fingerprint.replace('|1764079331000', '|1764079331001'))).toBeUndefined();
    expect(localResumeStore('user-2', storage).get(fingerprint)).toBeUndefined();
    store.put({ ...saved, etags: { 1: '"a"', 2: '"b"' } });
    expect(store.get(fingerprint)?.etags).toEqual({ 1: '"a"', 2: '"b"' });
    store.remove(fingerprint);
    expect(store.get(fingerprint)).toBeUndefined();
    expect(storage.length).toBe(0);
  });

  it('rewrites entries of earlier versions (keyed by the clear fingerprint) without the name, and still resumes them', () => {
    const storage = memoryStorage();
    storage.setItem('medlake.upload-resume.user-1', JSON.stringify({ [fingerprint]: saved }));
    expect(pendingResumes('user-1', storage).map((r) => r.label)).toEqual([resumeLabel(fingerprint)]);
    expect(storage.dump()).not.toMatch(/DOE|JOHN/);
    expect(localResumeStore('user-1', storage).get(fingerprint)).toEqual(saved);
  });

  it('treats unreadable storage as empty', () => {
    const storage = memoryStorage();
    storage.setItem('medlake.upload-resume.user-1', '{not json');
    expect(pendingResumes('user-1', storage)).toEqual([]);
    expect(localResumeStore('user-1', storage).get(fingerprint)).toBeUndefined();
  });
});
