/**
 * The DICOM Part 10 file header (128-byte preamble, "DICM", File Meta
 * Information group 0002 in explicit VR little endian) for a data set
 * received over the network. With it, the received bytes are written behind
 * untouched: the file is exactly what the sender sent, in the negotiated
 * transfer syntax.
 */

export interface MetaInformation {
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
  implementationClassUid: string;
  implementationVersionName: string;
  /** The calling AE title of the association: who sent it. */
  sourceAeTitle?: string;
}

export function part10Header(meta: MetaInformation): Buffer {
  const elements = [
    element(0x0001, 'OB', Buffer.from([0x00, 0x01])),
    element(0x0002, 'UI', uid(meta.sopClassUid)),
    element(0x0003, 'UI', uid(meta.sopInstanceUid)),
    element(0x0010, 'UI', uid(meta.transferSyntaxUid)),
    element(0x0012, 'UI', uid(meta.implementationClassUid)),
    element(0x0013, 'SH', text(meta.implementationVersionName.slice(0, 16))),
    ...(meta.sourceAeTitle ? [element(0x0016, 'AE', text(meta.sourceAeTitle.slice(0, 16)))] : []),
  ];
  const body = Buffer.concat(elements);
  const groupLength = Buffer.alloc(4);
  groupLength.writeUInt32LE(body.length, 0);
  return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM', 'latin1'), element(0x0000, 'UL', groupLength), body]);
}

/** OB, OW, SQ, UN, UT… use a 4-byte length after two reserved bytes; the others a 2-byte length. */
const longVrs = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);

function element(elementNumber: number, vr: string, value: Buffer): Buffer {
  const long = longVrs.has(vr);
  const header = Buffer.alloc(long ? 12 : 8);
  header.writeUInt16LE(0x0002, 0);
  header.writeUInt16LE(elementNumber, 2);
  header.write(vr, 4, 'latin1');
  if (long) header.writeUInt32LE(value.length, 8);
  else header.writeUInt16LE(value.length, 6);
  return Buffer.concat([header, value]);
}

/** UIDs are padded to even length with NUL. */
function uid(value: string): Buffer {
  const clean = value.replace(/\0/g, '').trim();
  return Buffer.from(clean.length % 2 ? `${clean}\0` : clean, 'latin1');
}

/** Text values are padded to even length with a space. */
function text(value: string): Buffer {
  const clean = value.trim();
  return Buffer.from(clean.length % 2 ? `${clean} ` : clean, 'latin1');
}
