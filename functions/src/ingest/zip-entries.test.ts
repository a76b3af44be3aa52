import { describe, expect, it } from 'vitest';
import yazl from 'yazl';
import type { ZipEntryVisit, ZipLimits } from './zip-entries';
import { ZipRejection, visitZipEntries } from './zip-entries';

const MiB = 1024 * 1024;
const limits: ZipLimits = { maxEntries: 100, maxTotalBytes: 256 * MiB, maxEntryBytes: 128 * MiB, maxRatio: 500, ratioFloorBytes: MiB, maxDepth: 2 };

function zip(entries: readonly { name: string; data?: Buffer; compress?: boolean }[]): Promise<Buffer> {
  const archive = new yazl.ZipFile();
  for (const entry of entries) {
    if (entry.data === undefined) archive.addEmptyDirectory(entry.name);
    else archive.addBuffer(entry.data, entry.name, { compress: entry.compress ?? true });
  }
  archive.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    archive.outputStream.on('data', (c: Buffer) => chunks.push(c));
    archive.outputStream.once('error', reject);
    archive.outputStream.once('end', () => resolve(Buffer.concat(chunks)));
  });
}

async function visits(buffer: Buffer, custom: Partial<ZipLimits> = {}): Promise<ZipEntryVisit[]> {
  const seen: ZipEntryVisit[] = [];
  await visitZipEntries({ buffer }, { ...limits, ...custom }, async (v) => {
    seen.push(v);
  });
  return seen;
}

describe('zip entries', () => {
  it('visits files in folders, skips folders, DICOMDIR and system files', async () => {
    const archive = await zip([
      { name: 'STUDY/' },
      { name: 'STUDY/SE1/IM1', data: Buffer.from('one') },
      { name: 'STUDY/SE1/IM2', data: Buffer.from('two') },
      { name: 'DICOMDIR', data: Buffer.from('dir') },
      { name: '__MACOSX/STUDY/._IM1', data: Buffer.from('mac') },
    ]);
    const seen = await visits(archive);
    expect(seen.filter((v) => v.kind === 'file').map((v) => (v.kind === 'file' ? v.bytes.toString() : ''))).toEqual(['one', 'two']);
    expect(seen.filter((v) => v.kind === 'skipped').map((v) => (v.kind === 'skipped' ? v.why : ''))).toEqual(['folder', 'dicomdir', 'system-file']);
  });

  it('rejects absolute and ".." names without reading them, and goes on', async () => {
    const archive = await zip([{ name: 'AA/ZZ/evil', data: Buffer.from('x') }, { name: 'ok', data: Buffer.from('fine') }]);
    // yazl refuses such names, so write a safe one and rewrite it in both headers (same length, CRC covers content only).
    const patched = Buffer.from(archive.toString('latin1').replaceAll('AA/ZZ/evil', '../../evil'), 'latin1');
    const seen = await visits(patched);
    expect(seen[0]).toMatchObject({ kind: 'rejected', reason: expect.stringContaining('..') });
    expect(seen[1]).toMatchObject({ kind: 'file' });
  });

  it('refuses a zip bomb by compression ratio before inflating anything', async () => {
    const archive = await zip([{ name: 'zeros', data: Buffer.alloc(64 * MiB) }]);
    expect(archive.length).toBeLessThan(MiB);
    await expect(visits(archive)).rejects.toBeInstanceOf(ZipRejection);
    await expect(visits(archive)).rejects.toThrow(/expands more than 500 times/);
  });

  it('refuses archives over the entry count or total size budget', async () => {
    const archive = await zip(Array.from({ length: 5 }, (_, i) => ({ name: `f${i}`, data: Buffer.alloc(1000, i), compress: false })));
    await expect(visits(archive, { maxEntries: 4 })).rejects.toThrow(/more than 4 entries/);
    await expect(visits(archive, { maxTotalBytes: 4000 })).rejects.toThrow(/expands to more than/);
    expect(await visits(archive)).toHaveLength(5);
  });

  it('opens nested archives up to the depth limit and numbers entries in order', async () => {
    const inner = await zip([{ name: 'inner/IM1', data: Buffer.from('nested') }]);
    const innermost = await zip([{ name: 'deep.zip', data: inner }]);
    const outer = await zip([{ name: 'a', data: Buffer.from('first') }, { name: 'b.zip', data: inner }, { name: 'c.zip', data: innermost }]);
    const seen = await visits(outer);
    expect(seen.map((v) => [v.kind, v.number])).toEqual([['file', 1], ['file', 3], ['rejected', 5]]);
    expect(seen[2]).toMatchObject({ reason: expect.stringContaining('nested deeper') });
  });

  it('refuses what is not a zip archive', async () => {
    await expect(visits(Buffer.from('PK\u0003\u0004 not really a zip at all'))).rejects.toBeInstanceOf(ZipRejection);
  });
});
