import { DicomRejection } from './rejection';

export interface TransferSyntax {
  uid: string;
  explicitVr: boolean;
  littleEndian: boolean;
  /** Pixel data in fragments (PS3.5 A.4). */
  encapsulated: boolean;
  /** Deflated Explicit VR LE: the data set after the meta is a raw deflate stream. */
  deflated: boolean;
}

export const TransferSyntaxUid = {
  ImplicitVrLittleEndian: '1.2.840.10008.1.2',
  ExplicitVrLittleEndian: '1.2.840.10008.1.2.1',
  DeflatedExplicitVrLittleEndian: '1.2.840.10008.1.2.1.99',
  ExplicitVrBigEndian: '1.2.840.10008.1.2.2',
} as const;

const native = new Map<string, TransferSyntax>([
  [TransferSyntaxUid.ImplicitVrLittleEndian, { uid: TransferSyntaxUid.ImplicitVrLittleEndian, explicitVr: false, littleEndian: true, encapsulated: false, deflated: false }],
  [TransferSyntaxUid.ExplicitVrLittleEndian, { uid: TransferSyntaxUid.ExplicitVrLittleEndian, explicitVr: true, littleEndian: true, encapsulated: false, deflated: false }],
  [TransferSyntaxUid.DeflatedExplicitVrLittleEndian, { uid: TransferSyntaxUid.DeflatedExplicitVrLittleEndian, explicitVr: true, littleEndian: true, encapsulated: false, deflated: true }],
  [TransferSyntaxUid.ExplicitVrBigEndian, { uid: TransferSyntaxUid.ExplicitVrBigEndian, explicitVr: true, littleEndian: false, encapsulated: false, deflated: false }],
]);

/**
 * Every standard compressed transfer syntax (PS3.6 Table A-1) is Explicit VR
 * Little Endian with encapsulated pixel data: JPEG (1.2.840.10008.1.2.4.*,
 * including JPEG-LS, JPEG 2000, HTJ2K, JPIP, MPEG and HEVC), RLE (.1.2.5),
 * SMPTE ST 2110 (.1.2.7.*) and the deflated image frame syntaxes (.1.2.8.*).
 * Private transfer syntaxes cannot be read safely and are rejected.
 */
const encapsulatedPrefixes = ['1.2.840.10008.1.2.4.', '1.2.840.10008.1.2.5', '1.2.840.10008.1.2.7.', '1.2.840.10008.1.2.8.'];

export function transferSyntaxOf(uid: string): TransferSyntax {
  const known = native.get(uid);
  if (known) return known;
  if (encapsulatedPrefixes.some((prefix) => uid === prefix || uid.startsWith(prefix))) {
    return { uid, explicitVr: true, littleEndian: true, encapsulated: true, deflated: false };
  }
  throw new DicomRejection('unsupported-transfer-syntax', 'The file uses a private or unknown transfer syntax that cannot be read safely.');
}
