/**
 * Turns the operator's arguments (folders, zips, files) into the list of
 * files to send. Folders are walked without leaving them: a symbolic link is
 * followed only when its target lies inside the same folder (CD/DVD exports
 * and PACS dumps sometimes link within themselves; a link to / must not
 * upload the machine). Hidden and operating-system files are passed over,
 * and what is neither DICOM nor zip is skipped with a reason.
 */
import type { Dirent } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { basename, join, relative, resolve, sep } from 'node:path';
import pLimit from 'p-limit';
import type { FileKind } from './file-kind';
import { sniffFile } from './file-kind';

export interface LocalFile {
  /** Absolute, as found (links inside a folder keep their own path). */
  path: string;
  /** As the operator would recognise it: relative to the working directory when inside it. */
  displayPath: string;
  sizeBytes: number;
  mtimeMs: number;
  kind: Exclude<FileKind, 'other'>;
}

export interface SkippedFile {
  displayPath: string;
  reason: string;
}

export interface CollectedFiles {
  files: LocalFile[];
  skipped: SkippedFile[];
}

/** Names that operating systems and CD burners leave next to images. */
const systemNames = new Set(['thumbs.db', 'desktop.ini', 'ehthumbs.db', '__macosx', '$recycle.bin', 'system volume information', 'lost+found', 'autorun.inf']);

export function isHiddenOrSystem(name: string): boolean {
  return name.startsWith('.') || systemNames.has(name.toLowerCase());
}

export interface CollectOptions {
  cwd?: string;
  /** Absolute paths never to send (the upload state file itself). */
  exclude?: ReadonlySet<string>;
}

export async function collectFiles(inputs: readonly string[], options: CollectOptions = {}): Promise<CollectedFiles> {
  const cwd = options.cwd ?? process.cwd();
  const display = (path: string) => {
    const rel = relative(cwd, path);
    return rel && !rel.startsWith('..') && !rel.startsWith(sep) ? rel : path;
  };
  const found: { path: string; sizeBytes: number; mtimeMs: number }[] = [];
  const skipped: SkippedFile[] = [];
  const seen = new Set<string>();

  const addFile = (path: string, real: string, sizeBytes: number, mtimeMs: number) => {
    if (seen.has(real) || options.exclude?.has(real) || options.exclude?.has(path)) return;
    seen.add(real);
    found.push({ path, sizeBytes, mtimeMs });
  };

  for (const input of inputs) {
    const path = resolve(cwd, input);
    let info;
    try {
      info = await stat(path);
    } catch (error) {
      skipped.push({ displayPath: input, reason: `cannot read (${(error as NodeJS.ErrnoException).code ?? 'error'})` });
      continue;
    }
    const real = await realpath(path);
    if (info.isDirectory()) await walk(path, real, real, new Set([real]));
    else if (info.isFile()) addFile(path, real, info.size, info.mtimeMs);
    else skipped.push({ displayPath: input, reason: 'not a regular file' });
  }

  async function walk(dir: string, realDir: string, root: string, ancestors: Set<string>): Promise<void> {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      skipped.push({ displayPath: display(dir), reason: `cannot list folder (${(error as NodeJS.ErrnoException).code ?? 'error'})` });
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (isHiddenOrSystem(entry.name)) continue;
      const path = join(dir, entry.name);
      let real = join(realDir, entry.name);
      if (entry.isSymbolicLink()) {
        try {
          real = await realpath(path);
        } catch {
          skipped.push({ displayPath: display(path), reason: 'broken symbolic link' });
          continue;
        }
        if (real !== root && !real.startsWith(root + sep)) {
          skipped.push({ displayPath: display(path), reason: 'symbolic link leading outside the folder' });
          continue;
        }
      }
      let info;
      try {
        info = await stat(path);
      } catch (error) {
        skipped.push({ displayPath: display(path), reason: `cannot read (${(error as NodeJS.ErrnoException).code ?? 'error'})` });
        continue;
      }
      if (info.isDirectory()) {
        // A link back to an ancestor would loop forever.
        if (ancestors.has(real)) continue;
        await walk(path, real, root, new Set([...ancestors, real]));
      } else if (info.isFile()) addFile(path, real, info.size, info.mtimeMs);
    }
  }

  const limit = pLimit(8);
  const kinds = await Promise.all(found.map((file) => limit(async () => {
    if (file.sizeBytes === 0) return 'empty' as const;
    try {
      return await sniffFile(file.path);
    } catch {
      return 'unreadable' as const;
    }
  })));
  const files: LocalFile[] = [];
  found.forEach((file, i) => {
    const kind = kinds[i];
    if (kind === 'dicom' || kind === 'zip') files.push({ ...file, displayPath: display(file.path), kind });
    else skipped.push({ displayPath: display(file.path), reason: kind === 'empty' ? 'empty file' : kind === 'unreadable' ? 'cannot read' : 'not DICOM (no DICM header, not a DICOM data set) and not a zip' });
  });
  return { files, skipped };
}

/** The name sent to the server: the file's own name (folders often name patients), or a neutral one. */
export function uploadName(file: LocalFile, position: number, hideNames: boolean): string {
  if (hideNames) return `file-${String(position + 1).padStart(6, '0')}${file.kind === 'zip' ? '.zip' : '.dcm'}`;
  return basename(file.path).slice(-200);
}
