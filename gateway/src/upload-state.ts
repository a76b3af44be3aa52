/**
 * The gateway's memory of what it already sent, so an interrupted run
 * resumes without sending finished files again. A file is known by its
 * absolute path, size, modification time and SHA-256 (an edited file is a new
 * file), per server. The state is an append-only journal (one JSON line per
 * event, folded on open and compacted), so recording a finished file costs
 * one small write, and a run killed at any point loses at most the line being
 * written. A lock file keeps two runs from sharing one journal.
 */
import { closeSync, existsSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { GatewayError } from './errors';
import type { InstanceCounts } from './upload-api';

export const defaultStateFile = '.medlake-upload-state.jsonl';

export interface FileIdentity {
  path: string;
  sizeBytes: number;
  mtimeMs: number;
  sha256: string;
}

export interface FinalResult {
  state: string;
  reason?: string;
  instances?: InstanceCounts;
}

export interface CompletedPart {
  partNumber: number;
  etag: string;
}

export interface StateEntry {
  key: string;
  server: string;
  uploadId: string;
  index: number;
  /** uploaded: the bytes are in storage; final: the server's verdict is known. */
  phase: 'sending' | 'uploaded' | 'final';
  /** Parts already stored, while a multipart upload is under way. */
  parts?: CompletedPart[];
  partSizeBytes?: number;
  result?: FinalResult;
  at: string;
}

type JournalLine =
  | { t: 'part'; key: string; server: string; uploadId: string; index: number; partSizeBytes: number; part: CompletedPart; at: string }
  | { t: 'uploaded'; key: string; server: string; uploadId: string; index: number; at: string }
  | { t: 'final'; key: string; server: string; uploadId: string; index: number; result: FinalResult; at: string }
  | { t: 'forget'; key: string; server: string; at: string }
  | ({ t: 'entry' } & StateEntry);

export function fileKey(file: FileIdentity): string {
  return `${file.path}\u0000${file.sizeBytes}\u0000${Math.trunc(file.mtimeMs)}\u0000${file.sha256}`;
}

export class UploadState {
  private readonly entries = new Map<string, StateEntry>();
  private fd: number | undefined;
  private readonly lockPath: string;
  private readOnly = false;

  private constructor(readonly path: string) {
    this.lockPath = `${path}.lock`;
  }

  /** Read-only (for --dry-run): no lock, no compaction, nothing written. */
  static peek(path: string): UploadState {
    const state = new UploadState(path);
    if (existsSync(path)) state.load(readFileSync(path, 'utf8'));
    state.readOnly = true;
    return state;
  }

  static open(path: string): UploadState {
    const state = new UploadState(path);
    state.lock();
    try {
      if (existsSync(path)) state.load(readFileSync(path, 'utf8'));
      state.compact();
      state.fd = openSync(path, 'a', 0o600);
    } catch (error) {
      state.unlock();
      throw error;
    }
    return state;
  }

  get(key: string, server: string): StateEntry | undefined {
    return this.entries.get(entryKey(key, server));
  }

  recordPart(key: string, server: string, uploadId: string, index: number, partSizeBytes: number, part: CompletedPart): void {
    this.append({ t: 'part', key, server, uploadId, index, partSizeBytes, part, at: new Date().toISOString() });
  }

  recordUploaded(key: string, server: string, uploadId: string, index: number): void {
    this.append({ t: 'uploaded', key, server, uploadId, index, at: new Date().toISOString() });
  }

  recordFinal(key: string, server: string, uploadId: string, index: number, result: FinalResult): void {
    this.append({ t: 'final', key, server, uploadId, index, result, at: new Date().toISOString() });
  }

  forget(key: string, server: string): void {
    if (!this.entries.has(entryKey(key, server))) return;
    this.append({ t: 'forget', key, server, at: new Date().toISOString() });
  }

  close(): void {
    if (this.readOnly) return;
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.unlock();
  }

  private append(line: JournalLine): void {
    this.apply(line);
    if (this.fd === undefined) throw new Error('upload state is closed');
    writeSync(this.fd, `${JSON.stringify(line)}\n`);
  }

  private load(text: string): void {
    for (const raw of text.split('\n')) {
      if (!raw.trim()) continue;
      try {
        this.apply(JSON.parse(raw) as JournalLine);
      } catch {
        // A line cut short by a crash: the event is lost, the file will be sent again.
      }
    }
  }

  private apply(line: JournalLine): void {
    const id = entryKey(line.key, line.server);
    const at = line.at;
    switch (line.t) {
      case 'entry': {
        const { t: _t, ...entry } = line;
        this.entries.set(id, entry);
        break;
      }
      case 'part': {
        const current = this.entries.get(id);
        const sameUpload = current && current.uploadId === line.uploadId && current.index === line.index && current.phase === 'sending';
        const parts = sameUpload ? (current.parts ?? []).filter((p) => p.partNumber !== line.part.partNumber) : [];
        this.entries.set(id, { key: line.key, server: line.server, uploadId: line.uploadId, index: line.index, phase: 'sending', partSizeBytes: line.partSizeBytes, parts: [...parts, line.part], at });
        break;
      }
      case 'uploaded':
        this.entries.set(id, { key: line.key, server: line.server, uploadId: line.uploadId, index: line.index, phase: 'uploaded', at });
        break;
      case 'final':
        this.entries.set(id, { key: line.key, server: line.server, uploadId: line.uploadId, index: line.index, phase: 'final', result: line.result, at });
        break;
      case 'forget':
        this.entries.delete(id);
        break;
    }
  }

  /** Rewrites the journal as one line per file (atomically: temp file + rename). */
  private compact(): void {
    const temp = `${this.path}.${process.pid}.tmp`;
    const text = [...this.entries.values()].map((entry) => JSON.stringify({ t: 'entry', ...entry })).join('\n');
    writeFileSync(temp, text ? `${text}\n` : '', { mode: 0o600 });
    renameSync(temp, this.path);
  }

  private lock(): void {
    for (let attempt = 0; attempt < 2; attempt += 1) {
      try {
        const fd = openSync(this.lockPath, 'wx', 0o600);
        writeSync(fd, String(process.pid));
        closeSync(fd);
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const holder = Number.parseInt(readFileSync(this.lockPath, 'utf8'), 10);
        if (Number.isInteger(holder) && holder > 0 && processAlive(holder)) {
          throw new GatewayError('state_locked', `Another medlake upload (process ${holder}) is using the state file ${this.path}. Wait for it, or pass a different --state.`, { exitCode: 2 });
        }
        // The previous run died without cleaning up.
        rmSync(this.lockPath, { force: true });
      }
    }
    throw new GatewayError('state_locked', `Cannot lock the state file ${this.path}.`, { exitCode: 2 });
  }

  private unlock(): void {
    rmSync(this.lockPath, { force: true });
  }
}

function entryKey(key: string, server: string): string {
  return `${server}\u0000${key}`;
}

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
