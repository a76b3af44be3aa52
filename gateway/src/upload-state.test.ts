import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UploadState, fileKey } from './upload-state';

const server = 'https://medlake.example.org';
let dir: string;
let path: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'medlake-state-'));
  path = join(dir, 'state.jsonl');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const key = (n: number) => fileKey({ path: `/data/IM${n}`, sizeBytes: 100 + n, mtimeMs: 1_700_000_000_000 + n, sha256: 'ab'.repeat(32) });

describe('UploadState', () => {
  it('remembers sent files and verdicts across runs, per server', () => {
    const first = UploadState.open(path);
    first.recordUploaded(key(1), server, 'u1', 0);
    first.recordUploaded(key(2), server, 'u1', 1);
    first.recordFinal(key(2), server, 'u1', 1, { state: 'rejected', reason: 'The file is not DICOM.' });
    first.close();

    const second = UploadState.open(path);
    expect(second.get(key(1), server)).toMatchObject({ phase: 'uploaded', uploadId: 'u1', index: 0 });
    expect(second.get(key(2), server)).toMatchObject({ phase: 'final', result: { state: 'rejected', reason: 'The file is not DICOM.' } });
    expect(second.get(key(1), 'https://other.example.org')).toBeUndefined();
    second.close();
    // Compacted on open: one line per file.
    expect(readFileSync(path, 'utf8').trim().split('\n')).toHaveLength(2);
  });

  it('keeps the parts of an unfinished multipart upload, and forgets a file on request', () => {
    const state = UploadState.open(path);
    state.recordPart(key(3), server, 'u2', 0, 8 * 1024 * 1024, { partNumber: 1, etag: '"e1"' });
    state.recordPart(key(3), server, 'u2', 0, 8 * 1024 * 1024, { partNumber: 2, etag: '"e2"' });
    state.recordPart(key(3), server, 'u2', 0, 8 * 1024 * 1024, { partNumber: 2, etag: '"e2b"' });
    expect(state.get(key(3), server)).toMatchObject({ phase: 'sending', partSizeBytes: 8388608, parts: [{ partNumber: 1, etag: '"e1"' }, { partNumber: 2, etag: '"e2b"' }] });
    state.forget(key(3), server);
    state.close();
    expect(UploadState.peek(path).get(key(3), server)).toBeUndefined();
  });

  it('survives a line cut short by a crash', () => {
    const state = UploadState.open(path);
    state.recordUploaded(key(4), server, 'u3', 0);
    state.close();
    appendFileSync(path, '{"t":"uploaded","key":"half');
    const reopened = UploadState.open(path);
    expect(reopened.get(key(4), server)?.phase).toBe('uploaded');
    reopened.close();
  });

  it('refuses a second run on the same journal, and takes over the lock of a dead one', () => {
    const state = UploadState.open(path);
    expect(() => UploadState.open(path)).toThrow(/Another medlake upload/);
    state.close();
    writeFileSync(`${path}.lock`, '999999999');
    const taken = UploadState.open(path);
    taken.close();
    expect(existsSync(`${path}.lock`)).toBe(false);
  });

  it('peek (for --dry-run) writes nothing', () => {
    UploadState.peek(path).close();
    expect(existsSync(path)).toBe(false);
    expect(existsSync(`${path}.lock`)).toBe(false);
  });
});
