import { describe, expect, it } from 'vitest';
import { parsePart10 } from '@medlake/shared/dicom/parse-part10';
import { part10Header } from './part10-header';

describe('part10Header', () => {
  it('makes the received bytes a Part 10 file the ingest parser reads, in the negotiated transfer syntax', () => {
    // (0008,0016) SOP Class UID and (0008,0018) SOP Instance UID in implicit VR little endian, as received.
    const element = (tag: [number, number], value: string) => {
      const bytes = Buffer.from(value.length % 2 ? `${value}\0` : value, 'latin1');
      const head = Buffer.alloc(8);
      head.writeUInt16LE(tag[0], 0);
      head.writeUInt16LE(tag[1], 2);
      head.writeUInt32LE(bytes.length, 4);
      return Buffer.concat([head, bytes]);
    };
    const dataset = Buffer.concat([element([0x0008, 0x0016], '1.2.840.10008.5.1.4.1.1.2'), element([0x0008, 0x0018], '1.2.3.4.5')]);
    const header = part10Header({
      sopClassUid: '1.2.840.10008.5.1.4.1.1.2',
      sopInstanceUid: '1.2.3.4.5',
      transferSyntaxUid: '1.2.840.10008.1.2',
      implementationClassUid: '2.25.1',
      implementationVersionName: 'TEST',
      sourceAeTitle: 'PACS1',
    });
    expect(header.subarray(128, 132).toString('latin1')).toBe('DICM');
    expect(header.length % 2).toBe(0);
    const parsed = parsePart10(Buffer.concat([header, dataset]));
    expect(parsed.layout).toBe('part10');
    expect(parsed.transferSyntax.uid).toBe('1.2.840.10008.1.2');
    expect(parsed.meta.length).toBeGreaterThanOrEqual(7);
  });
});
