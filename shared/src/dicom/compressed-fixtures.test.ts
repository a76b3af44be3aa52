import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readWithPydicom } from '../../../test/fixtures/dicom/independent-readers';
import { phiInstance } from '../../../test/fixtures/dicom/phi-instance';
import { deidentifyPart10 } from './deidentify-part10';

/** Real compressed files made once with dcmtk and gdcm (test/fixtures/dicom/files/README.md). */
const filesDir = join(import.meta.dirname, '../../../test/fixtures/dicom/files');
const key = new Uint8Array(32).fill(42);

const fixtures: Array<{ file: string; transferSyntax: string; frames: number; codec: 'jpeg' | 'j2k' | 'rle'; fragmented?: boolean }> = [
  { file: 'jpeg-baseline.dcm', transferSyntax: '1.2.840.10008.1.2.4.50', frames: 1, codec: 'jpeg' },
  { file: 'jpeg-lossless-sv1.dcm', transferSyntax: '1.2.840.10008.1.2.4.70', frames: 1, codec: 'jpeg' },
  { file: 'jpeg-ls-lossless.dcm', transferSyntax: '1.2.840.10008.1.2.4.80', frames: 1, codec: 'jpeg' },
  { file: 'jpeg2000.dcm', transferSyntax: '1.2.840.10008.1.2.4.90', frames: 1, codec: 'j2k' },
  { file: 'rle.dcm', transferSyntax: '1.2.840.10008.1.2.5', frames: 1, codec: 'rle' },
  { file: 'rle-3frames.dcm', transferSyntax: '1.2.840.10008.1.2.5', frames: 3, codec: 'rle' },
  { file: 'jpeg-baseline-3frames.dcm', transferSyntax: '1.2.840.10008.1.2.4.50', frames: 3, codec: 'jpeg' },
  { file: 'jpeg2000-3frames.dcm', transferSyntax: '1.2.840.10008.1.2.4.90', frames: 3, codec: 'j2k' },
  { file: 'jpeg-baseline-3frames-fragmented.dcm', transferSyntax: '1.2.840.10008.1.2.4.50', frames: 3, codec: 'jpeg', fragmented: true },
  { file: 'jpeg-baseline-3frames-fragmented-no-bot.dcm', transferSyntax: '1.2.840.10008.1.2.4.50', frames: 3, codec: 'jpeg', fragmented: true },
];

function text(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

/** Every UID-looking string outside the DICOM root: instance UIDs, implementation UIDs. */
function nonStandardUids(bytes: Uint8Array): string[] {
  return [...new Set(text(bytes).match(/\d+(?:\.\d+){4,}/g) ?? [])].filter((uid) => !uid.startsWith('1.2.840.10008.'));
}

function startsWithCodestream(bytes: Uint8Array, codec: 'jpeg' | 'j2k' | 'rle'): boolean {
  if (codec === 'jpeg') return bytes[0] === 0xff && bytes[1] === 0xd8;
  if (codec === 'j2k') return bytes[0] === 0xff && bytes[1] === 0x4f;
  // RLE header: number of segments (1..15) then 15 offsets, the first being 64.
  const view = new DataView(bytes.buffer, bytes.byteOffset, 8);
  return view.getUint32(0, true) >= 1 && view.getUint32(0, true) <= 15 && view.getUint32(4, true) === 64;
}

describe('deidentifyPart10 on real compressed files', () => {
  for (const fixture of fixtures) {
    it(`${fixture.file}: PHI gone, transfer syntax kept, fragments byte-identical, ${fixture.frames} frame(s) located`, () => {
      const input = new Uint8Array(readFileSync(join(filesDir, fixture.file)));
      const planted = phiInstance().planted.filter((value) => text(input).includes(value));
      expect(planted.length).toBeGreaterThan(40);
      const result = deidentifyPart10(input, { key });
      const output = text(result.part10);
      expect(planted.filter((value) => output.includes(value))).toEqual([]);
      const inputUids = nonStandardUids(input);
      expect(inputUids.length).toBeGreaterThan(5);
      expect(inputUids.filter((uid) => output.includes(uid))).toEqual([]);
      expect(result.uids.transferSyntax).toBe(fixture.transferSyntax);

      // The encapsulated pixel data is the last element: its bytes, items included, end both files unchanged.
      const pixelTag = text(input).lastIndexOf('\u00e0\u007f\u0010\u0000OB');
      const tail = input.subarray(pixelTag);
      expect(Buffer.from(result.part10.subarray(result.part10.length - tail.length)).equals(Buffer.from(tail))).toBe(true);

      expect(result.frames).toHaveLength(fixture.frames);
      for (const [index, [offset, length]] of result.frames.entries()) {
        const frame = result.part10.subarray(offset, offset + length);
        expect(startsWithCodestream(frame, fixture.codec)).toBe(true);
        if (fixture.fragmented) {
          const pieces = result.frameFragments?.[index] ?? [];
          expect(pieces.length).toBeGreaterThan(1);
          const joined = Buffer.concat(pieces.map(([at, size]) => result.part10.subarray(at, at + size)));
          expect(joined[joined.length - 2] === 0xff && joined[joined.length - 1] === 0xd9).toBe(true);
        } else {
          expect(result.frameFragments).toBeUndefined();
        }
      }
      expect(result.dicomJson['7FE00010']).toEqual({ vr: 'OB', BulkDataURI: '' });
      expect(result.index.instance.numberOfFrames).toBe(fixture.frames);
    });
  }

  it('pydicom reads every de-identified compressed file', () => {
    for (const fixture of fixtures) {
      const result = deidentifyPart10(new Uint8Array(readFileSync(join(filesDir, fixture.file))), { key });
      const view = readWithPydicom(result.part10);
      expect(view.transferSyntax).toBe(fixture.transferSyntax);
      expect(view.sopUid).toBe(result.uids.sop);
      expect(view.patientId).toBe(result.patientPseudonym);
    }
  });
});
