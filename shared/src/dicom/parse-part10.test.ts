import { describe, expect, it } from 'vitest';
import { transferSyntaxes } from '../../../test/fixtures/dicom/build-dicom';
import { phiInstance, phiPart10 } from '../../../test/fixtures/dicom/phi-instance';
import { isZip, looksLikeDicom, parsePart10 } from './parse-part10';
import { DicomRejection } from './rejection';

describe('sniffers', () => {
  it('recognize Part 10 files, meta without preamble and bare data sets', () => {
    const instance = phiInstance();
    expect(looksLikeDicom(phiPart10(instance))).toBe(true);
    expect(looksLikeDicom(phiPart10(instance, transferSyntaxes.explicitLittle, { preamble: false }))).toBe(true);
    expect(looksLikeDicom(phiPart10(instance, transferSyntaxes.implicitLittle, { fileMeta: false }))).toBe(true);
    expect(looksLikeDicom(Buffer.from('PK\u0003\u0004 not dicom'))).toBe(false);
    expect(looksLikeDicom(Buffer.from('plain text that is long enough to be checked'))).toBe(false);
  });

  it('recognize zip archives', () => {
    expect(isZip(Buffer.from('PK\u0003\u0004rest'))).toBe(true);
    expect(isZip(Buffer.from('PK\u0005\u0006'))).toBe(true);
    expect(isZip(phiPart10(phiInstance()))).toBe(false);
  });
});

describe('parsePart10', () => {
  it('reads a bare Implicit VR data set only when it parses cleanly and names its SOP instance', () => {
    const bare = phiPart10(phiInstance(), transferSyntaxes.implicitLittle, { fileMeta: false });
    expect(parsePart10(bare).layout).toBe('dataset-only');
    // Group 0008 bytes followed by garbage: not DICOM, said conservatively.
    const garbage = new Uint8Array(300).map((_, index) => (index * 37) & 0xff);
    garbage.set([0x08, 0x00, 0x05, 0x00, 0x0a, 0x00, 0x00, 0x00]);
    expect(() => parsePart10(garbage)).toThrow(DicomRejection);
    try {
      parsePart10(garbage);
    } catch (error) {
      expect((error as DicomRejection).code).toBe('not-dicom');
    }
  });

  it('inflates Deflated Explicit VR Little Endian', () => {
    const parsed = parsePart10(phiPart10(phiInstance(), transferSyntaxes.deflated));
    expect(parsed.transferSyntax.deflated).toBe(true);
    expect(parsed.dataset.elements.length).toBeGreaterThan(50);
  });

  it('refuses sequences nested beyond any real data set', () => {
    // 100 levels of (0040,A730) Content Sequence, undefined lengths, Explicit VR LE.
    const open = Buffer.from([0x40, 0x00, 0x30, 0xa7, 0x53, 0x51, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xfe, 0xff, 0x00, 0xe0, 0xff, 0xff, 0xff, 0xff]);
    const close = Buffer.from([0xfe, 0xff, 0x0d, 0xe0, 0, 0, 0, 0, 0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]);
    const sopClass = Buffer.from([0x08, 0x00, 0x16, 0x00, 0x55, 0x49, 0x02, 0x00, 0x31, 0x00]);
    const body = Buffer.concat([sopClass, ...Array.from({ length: 100 }, () => open), ...Array.from({ length: 100 }, () => close)]);
    const file = Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), Buffer.from([0x02, 0x00, 0x10, 0x00, 0x55, 0x49, 0x14, 0x00]), Buffer.from('1.2.840.10008.1.2.1\u0000')]);
    try {
      parsePart10(Buffer.concat([file, body]));
      throw new Error('accepted');
    } catch (error) {
      expect((error as DicomRejection).code).toBe('too-deep');
    }
  });
});
