/**
 * The gateway's buffer folder: every acknowledged instance lives here until
 * the server has it. Layout:
 *   tmp/       instances being received (never acknowledged; cleared on start)
 *   incoming/  received, fsynced, acknowledged: waiting for upload
 *   rejected/  refused by the server, each with <name>.reason.json
 * A received file reaches incoming/ by fsync + rename + directory fsync, so
 * once the sender hears "success" the instance survives a crash or power cut.
 * The folder holds PHI: it is created private to the gateway's user.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { open, readdir, rename, rm, statfs, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';

export class InstanceBuffer {
  readonly tmpDir: string;
  readonly incomingDir: string;
  readonly rejectedDir: string;

  constructor(readonly dir: string) {
    this.tmpDir = join(dir, 'tmp');
    this.incomingDir = join(dir, 'incoming');
    this.rejectedDir = join(dir, 'rejected');
  }

  /** Creates the folders (mode 700) and drops half-received files of an earlier run. */
  static async open(dir: string): Promise<InstanceBuffer> {
    const buffer = new InstanceBuffer(dir);
    for (const folder of [dir, buffer.tmpDir, buffer.incomingDir, buffer.rejectedDir]) mkdirSync(folder, { recursive: true, mode: 0o700 });
    await rm(buffer.tmpDir, { recursive: true, force: true });
    mkdirSync(buffer.tmpDir, { recursive: true, mode: 0o700 });
    return buffer;
  }

  /** A new name, in arrival order, that says nothing about the patient or the instance. */
  newName(): string {
    return `${Date.now().toString().padStart(14, '0')}-${randomBytes(6).toString('hex')}.dcm`;
  }

  tempPath(name: string): string {
    return join(this.tmpDir, name);
  }

  /** Makes a fully written temp file durable and moves it to incoming/. */
  async commit(tempPath: string): Promise<string> {
    await fsyncPath(tempPath, 'r+');
    const finalPath = join(this.incomingDir, basename(tempPath));
    await rename(tempPath, finalPath);
    await fsyncPath(this.incomingDir, 'r');
    return finalPath;
  }

  async discard(tempPath: string): Promise<void> {
    await rm(tempPath, { force: true });
  }

  /** Buffered instances, oldest first. */
  async pending(): Promise<string[]> {
    const names = (await readdir(this.incomingDir)).filter((name) => name.endsWith('.dcm')).sort();
    return names.map((name) => join(this.incomingDir, name));
  }

  /** The server has the instance (accepted, duplicate or held for review). */
  async remove(path: string): Promise<void> {
    await rm(path, { force: true });
  }

  /** The server refused the instance: keep it aside with the reason, for a person to look at. */
  async reject(path: string, details: { reason: string; uploadId?: string }): Promise<string> {
    const target = join(this.rejectedDir, basename(path));
    await writeFile(`${target}.reason.json`, `${JSON.stringify({ ...details, rejectedAt: new Date().toISOString() }, null, 2)}\n`, { mode: 0o600 });
    await rename(path, target);
    await fsyncPath(this.rejectedDir, 'r');
    return target;
  }

  async freeBytes(): Promise<number> {
    const info = await statfs(this.dir);
    return info.bavail * info.bsize;
  }
}

async function fsyncPath(path: string, flags: 'r' | 'r+'): Promise<void> {
  const handle = await open(path, flags);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
