import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { collectFiles, uploadName } from './collect-files';

let root: string;

/** 128 zero bytes, DICM, then a group 0002 element: enough for the sniffer. */
function part10(): Buffer {
  return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), Buffer.from([0x02, 0x00, 0x00, 0x00, 0x55, 0x4c, 0x04, 0x00, 0, 0, 0, 0]), Buffer.alloc(64)]);
}

/** A data set without preamble or meta, starting at (0008,0005) in explicit VR, as old modalities write. */
function bareDataset(): Buffer {
  return Buffer.concat([Buffer.from([0x08, 0x00, 0x05, 0x00, 0x43, 0x53, 0x0a, 0x00]), Buffer.from('ISO_IR 100'), Buffer.alloc(32)]);
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'medlake-collect-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('collectFiles', () => {
  it('walks a folder: DICOM (with or without preamble) and zips in, the rest skipped with a reason', async () => {
    const dir = join(root, 'export');
    mkdirSync(join(dir, 'DICOM', 'SERIES1'), { recursive: true });
    writeFileSync(join(dir, 'DICOM', 'SERIES1', 'IM1'), part10());
    writeFileSync(join(dir, 'DICOM', 'SERIES1', 'IM2'), bareDataset());
    writeFileSync(join(dir, 'more.zip'), Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(40)]));
    writeFileSync(join(dir, 'README.TXT'), 'Burned with a viewer');
    writeFileSync(join(dir, 'empty.dcm'), '');
    writeFileSync(join(dir, '.hidden.dcm'), part10());
    writeFileSync(join(dir, 'Thumbs.db'), 'x');
    mkdirSync(join(dir, '__MACOSX'));
    writeFileSync(join(dir, '__MACOSX', 'IM1'), part10());

    const out = await collectFiles([dir], { cwd: root });
    expect(out.files.map((f) => [f.displayPath, f.kind])).toEqual([
      ['export/DICOM/SERIES1/IM1', 'dicom'],
      ['export/DICOM/SERIES1/IM2', 'dicom'],
      ['export/more.zip', 'zip'],
    ]);
    expect(out.skipped).toEqual(expect.arrayContaining([
      { displayPath: 'export/README.TXT', reason: expect.stringMatching(/not DICOM/) },
      { displayPath: 'export/empty.dcm', reason: 'empty file' },
    ]));
    expect(out.skipped).toHaveLength(2);
  });

  it('follows links inside the folder once, never links leading out of it, and does not loop', async () => {
    const dir = join(root, 'tree');
    mkdirSync(join(dir, 'a'), { recursive: true });
    writeFileSync(join(dir, 'a', 'IM1'), part10());
    writeFileSync(join(root, 'outside.dcm'), part10());
    symlinkSync(join(dir, 'a', 'IM1'), join(dir, 'same-file'));
    symlinkSync(join(root, 'outside.dcm'), join(dir, 'escape'));
    symlinkSync(dir, join(dir, 'a', 'loop'));
    symlinkSync(join(dir, 'missing'), join(dir, 'broken'));

    const out = await collectFiles([dir], { cwd: root });
    expect(out.files.map((f) => f.displayPath)).toEqual(['tree/a/IM1']);
    expect(out.skipped).toEqual(expect.arrayContaining([
      { displayPath: 'tree/escape', reason: 'symbolic link leading outside the folder' },
      { displayPath: 'tree/broken', reason: 'broken symbolic link' },
    ]));
  });

  it('takes files named on the command line as they are, and reports missing ones', async () => {
    writeFileSync(join(root, 'one.dcm'), part10());
    const out = await collectFiles(['one.dcm', 'nope.dcm'], { cwd: root });
    expect(out.files.map((f) => f.displayPath)).toEqual(['one.dcm']);
    expect(out.skipped).toEqual([{ displayPath: 'nope.dcm', reason: 'cannot read (ENOENT)' }]);
  });

  it('names files for the server by their own name, or neutrally', async () => {
    writeFileSync(join(root, 'one.dcm'), part10());
    const [file] = (await collectFiles(['one.dcm'], { cwd: root })).files;
    expect(uploadName(file!, 0, false)).toBe('one.dcm');
    expect(uploadName(file!, 41, true)).toBe('file-000042.dcm');
  });
});
