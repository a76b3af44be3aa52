/**
 * Collecting what the user gives us: files, whole folders (a folder picker
 * with `webkitdirectory`, or folders dropped onto the page, walked through
 * `DataTransferItem.webkitGetAsEntry()`), and zips (sent as they are: the
 * lake unpacks them). Operating-system clutter is left out; everything else
 * is sent, and the lake says per file what it accepted and why not.
 */

import type { PickedFile } from './picked-file';
import { fileFingerprint } from './picked-file';

export type { PickedFile };
export { fileFingerprint };

const systemNames = new Set(['.ds_store', 'thumbs.db', 'desktop.ini', '.localized', 'icon\r']);

/** Files no hospital meant to upload: Finder/Explorer metadata, macOS resource forks. */
export function isSystemFile(path: string): boolean {
  const parts = path.split('/').filter(Boolean);
  const name = (parts.at(-1) ?? '').toLowerCase();
  if (systemNames.has(name) || name.startsWith('._')) return true;
  return parts.some((part) => part === '__MACOSX' || part === '.Trashes' || part === '.Spotlight-V100' || part === '.fseventsd');
}

export interface Collected {
  files: PickedFile[];
  /** Operating-system files left out. */
  skipped: number;
}

export function collect(picked: readonly PickedFile[]): Collected {
  const seen = new Set<string>();
  const files: PickedFile[] = [];
  let skipped = 0;
  for (const item of picked) {
    if (isSystemFile(item.path) || item.file.size === 0) {
      skipped += 1;
      continue;
    }
    const id = fileFingerprint(item.file, item.path);
    if (seen.has(id)) continue;
    seen.add(id);
    files.push(item);
  }
  return { files, skipped };
}

/** Files from an `<input type="file">` (with or without `webkitdirectory`). */
export function filesFromInput(list: FileList | readonly File[]): PickedFile[] {
  return Array.from(list, (file) => ({ file, path: file.webkitRelativePath || file.name }));
}

function readEntries(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  return new Promise((resolve, reject) => reader.readEntries(resolve, reject));
}

function fileOf(entry: FileSystemFileEntry): Promise<File> {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

async function walkEntry(entry: FileSystemEntry, out: PickedFile[]): Promise<void> {
  if (entry.isFile) {
    const file = await fileOf(entry as FileSystemFileEntry);
    out.push({ file, path: entry.fullPath.replace(/^\//, '') || file.name });
    return;
  }
  if (entry.isDirectory) {
    const reader = (entry as FileSystemDirectoryEntry).createReader();
    // readEntries answers in chunks (100 in Chromium) until it answers nothing.
    for (;;) {
      const chunk = await readEntries(reader);
      if (chunk.length === 0) break;
      for (const child of chunk) await walkEntry(child, out);
    }
  }
}

/**
 * Everything dropped: plain files, and folders walked recursively. The
 * entries must be taken synchronously during the drop event, before any
 * await, or the browser empties the DataTransfer.
 */
export async function filesFromDataTransfer(transfer: DataTransfer): Promise<PickedFile[]> {
  const entries: FileSystemEntry[] = [];
  const loose: File[] = [];
  for (const item of Array.from(transfer.items)) {
    if (item.kind !== 'file') continue;
    const entry = typeof item.webkitGetAsEntry === 'function' ? item.webkitGetAsEntry() : null;
    if (entry) entries.push(entry);
    else {
      const file = item.getAsFile();
      if (file) loose.push(file);
    }
  }
  if (entries.length === 0 && loose.length === 0) return filesFromInput(transfer.files);
  const out: PickedFile[] = loose.map((file) => ({ file, path: file.name }));
  for (const entry of entries) await walkEntry(entry, out);
  return out;
}
