import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import yauzl from 'yauzl';
import type { ByteSink, WrittenEntry } from './zip-writer';
import { ResumingSink, ZipWriter } from './zip-writer';
import { dosTimestamp, ZipMethod } from './zip-records';

class MemorySink implements ByteSink {
  chunks: Buffer[] = [];
  async write(data: Buffer): Promise<void> {
    this.chunks.push(Buffer.from(data));
  }
  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

async function* chunked(data: Buffer, sizes: readonly number[]): AsyncIterable<Buffer> {
  let at = 0;
  let i = 0;
  while (at < data.length) {
    const size = sizes[i++ % sizes.length] as number;
    yield data.subarray(at, at + size);
    at += size;
  }
}

const timestamp = dosTimestamp(new Date('2026-03-04T05:06:08Z'));
const dir = mkdtempSync(join(tmpdir(), 'medlake-zip-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Spec {
  path: string;
  data: Buffer;
  streamed: boolean;
  method: ZipMethod;
}

const text = Buffer.from('path,kind\r\nä/ö.dcm,dicom\r\n'.repeat(2000));
const specs: Spec[] = [
  { path: 'MLP-ABC/2.25.1/2.25.2/2.25.3.dcm', data: randomBytes(70_001), streamed: false, method: ZipMethod.Store },
  { path: 'MLP-ABC/2.25.1/report.txt', data: Buffer.from('Findings: none.\n'), streamed: false, method: ZipMethod.Deflate },
  { path: 'MLP-ABC/2.25.1/2.25.2/2.25.4.dcm', data: randomBytes(300_000), streamed: true, method: ZipMethod.Store },
  { path: 'manifest.csv', data: text, streamed: true, method: ZipMethod.Deflate },
  { path: 'empty.txt', data: Buffer.alloc(0), streamed: false, method: ZipMethod.Store },
  { path: 'README.txt', data: Buffer.from('read me\r\n'), streamed: true, method: ZipMethod.Store },
];

async function writeZip(sink: ByteSink, options: { forceZip64?: boolean; from?: number; startPosition?: number; records?: WrittenEntry[] } = {}): Promise<{ records: WrittenEntry[]; size: number }> {
  const from = options.from ?? 0;
  const writer = new ZipWriter(sink, options.startPosition ?? 0, timestamp, options.forceZip64 ?? false);
  const records = [...(options.records ?? [])];
  for (const spec of specs.slice(from)) {
    const entryOptions = { method: spec.method, deflateLevel: 6 };
    records.push(
      spec.streamed
        ? await writer.addStream(spec.path, chunked(spec.data, [1000, 65_536, 7]), { ...entryOptions, maxUncompressedBytes: spec.data.length })
        : await writer.addWhole(spec.path, [spec.data.subarray(0, 10), spec.data.subarray(10)], entryOptions),
    );
  }
  const end = await writer.finish((async function* () {
    yield records.slice(0, 2);
    yield records.slice(2);
  })());
  return { records, size: end.zipBytes };
}

function readWithYauzl(zip: Buffer): Promise<Map<string, Buffer>> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(zip, { lazyEntries: true, strictFileNames: true, validateEntrySizes: true }, (error, file) => {
      if (error || !file) return reject(error);
      const out = new Map<string, Buffer>();
      file.on('entry', (entry: yauzl.Entry) => {
        file.openReadStream(entry, (err, stream) => {
          if (err || !stream) return reject(err);
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('end', () => {
            out.set(entry.fileName, Buffer.concat(chunks));
            file.readEntry();
          });
          stream.on('error', reject);
        });
      });
      file.on('end', () => resolve(out));
      file.on('error', reject);
      file.readEntry();
    });
  });
}

function checkWithIndependentReaders(zip: Buffer, name: string): void {
  const path = join(dir, name);
  writeFileSync(path, zip);
  // Info-ZIP's test of every entry (CRC and sizes), and Python's zipfile reading every member.
  expect(execFileSync('unzip', ['-t', path], { encoding: 'utf8' })).toMatch(/No errors detected/);
  const python = `import zipfile,hashlib,sys\nz=zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\nfor i in z.infolist(): print(i.filename, hashlib.sha256(z.read(i)).hexdigest())`;
  const listed = execFileSync('python3', ['-c', python, path], { encoding: 'utf8' }).trim().split('\n');
  expect(listed).toEqual(specs.map((s) => `${s.path} ${createHash('sha256').update(s.data).digest('hex')}`));
}

describe('zip writer', () => {
  it('writes whole and streamed entries, stored and deflated, that yauzl, unzip and Python read back byte for byte', async () => {
    const sink = new MemorySink();
    const { records, size } = await writeZip(sink);
    const zip = sink.bytes();
    expect(zip.length).toBe(size);
    const files = await readWithYauzl(zip);
    for (const spec of specs) expect(files.get(spec.path)?.equals(spec.data), spec.path).toBe(true);
    expect(records.map((r) => r.descriptor)).toEqual(specs.map((s) => s.streamed));
    expect(records[3]?.compressedSize).toBeLessThan(text.length / 10);
    checkWithIndependentReaders(zip, 'plain.zip');
  });

  it('writes ZIP64 records (local, descriptor, central directory, end) that the readers accept', async () => {
    const sink = new MemorySink();
    await writeZip(sink, { forceZip64: true });
    const zip = sink.bytes();
    expect(zip.includes(Buffer.from([0x50, 0x4b, 0x06, 0x06]))).toBe(true);
    const files = await readWithYauzl(zip);
    for (const spec of specs) expect(files.get(spec.path)?.equals(spec.data)).toBe(true);
    checkWithIndependentReaders(zip, 'zip64.zip');
  });

  it('is deterministic: a run resumed at any entry and byte, with the earlier records, gives the same zip', async () => {
    const whole = new MemorySink();
    const first = await writeZip(whole);
    const reference = whole.bytes();
    for (const from of [1, 2, 3, 5]) {
      const start = first.records[from]?.offset as number;
      for (const resumeAt of [start, start + 1, start + 31, (first.records[from]?.end as number) - 1]) {
        const rest = new MemorySink();
        await writeZip(new ResumingSink(start, resumeAt, rest), { from, startPosition: start, records: first.records.slice(0, from) });
        expect(Buffer.concat([reference.subarray(0, resumeAt), rest.bytes()]).equals(reference), `from entry ${from}, byte ${resumeAt}`).toBe(true);
      }
    }
  });
});
