import { describe, expect, it } from 'vitest';
import { collect, fileFingerprint, filesFromInput, isSystemFile } from './files';

const file = (name: string, size = 10, lastModified = 1) => new File([new Uint8Array(size)], name, { lastModified });

describe('isSystemFile', () => {
  it.each([
    ['.DS_Store', true],
    ['CT/.DS_Store', true],
    ['CT/Thumbs.db', true],
    ['__MACOSX/CT/IM0001', true],
    ['CT/._IM0001', true],
    ['CT/desktop.ini', true],
    ['CT/IM0001', false],
    ['CT/DICOMDIR', false],
    ['study.zip', false],
    ['.hidden-but-maybe-dicom', false],
  ])('%s → %s', (path, expected) => expect(isSystemFile(path)).toBe(expected));
});

describe('collect', () => {
  it('leaves out system and empty files, and files given twice', () => {
    const a = file('IM0001');
    const picked = [
      { file: a, path: 'CT/IM0001' },
      { file: a, path: 'CT/IM0001' },
      { file: file('IM0002'), path: 'CT/IM0002' },
      { file: file('.DS_Store'), path: 'CT/.DS_Store' },
      { file: file('empty', 0), path: 'CT/empty' },
    ];
    const collected = collect(picked);
    expect(collected.files.map((f) => f.path)).toEqual(['CT/IM0001', 'CT/IM0002']);
    expect(collected.skipped).toBe(2);
  });

  it('keeps files of the same name in different folders apart', () => {
    const collected = collect([
      { file: file('IM0001', 10, 5), path: 'SE1/IM0001' },
      { file: file('IM0001', 10, 5), path: 'SE2/IM0001' },
    ]);
    expect(collected.files).toHaveLength(2);
  });
});

describe('fileFingerprint', () => {
  it('changes with the path, the size and the modification time', () => {
    const base = fileFingerprint({ name: 'a', size: 10, lastModified: 1 }, 'x/a');
    expect(fileFingerprint({ name: 'a', size: 10, lastModified: 1 }, 'x/a')).toBe(base);
    expect(fileFingerprint({ name: 'a', size: 11, lastModified: 1 }, 'x/a')).not.toBe(base);
    expect(fileFingerprint({ name: 'a', size: 10, lastModified: 2 }, 'x/a')).not.toBe(base);
    expect(fileFingerprint({ name: 'a', size: 10, lastModified: 1 }, 'y/a')).not.toBe(base);
  });
});

describe('filesFromInput', () => {
  it('uses the name when the browser gives no relative path', () => {
    expect(filesFromInput([file('IM1')]).map((f) => f.path)).toEqual(['IM1']);
  });
});
