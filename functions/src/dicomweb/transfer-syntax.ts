/**
 * Transfer syntaxes and the media types WADO-RS sends their frames as
 * (PS3.18 Table 8.7.3-2/-3).
 */
export const explicitVrLittleEndian = '1.2.840.10008.1.2.1';
export const implicitVrLittleEndian = '1.2.840.10008.1.2';
export const explicitVrBigEndian = '1.2.840.10008.1.2.2';
export const deflatedExplicitVrLittleEndian = '1.2.840.10008.1.2.1.99';

const nativeSyntaxes = new Set([implicitVrLittleEndian, explicitVrLittleEndian, explicitVrBigEndian, deflatedExplicitVrLittleEndian]);

/** Pixel data stored uncompressed (frames are raw pixel bytes). */
export function isNative(transferSyntaxUid: string): boolean {
  return nativeSyntaxes.has(transferSyntaxUid);
}

/** Little-endian native pixels are the same bytes whatever the VR encoding of the rest. */
export function isLittleEndianNative(transferSyntaxUid: string): boolean {
  return transferSyntaxUid === implicitVrLittleEndian || transferSyntaxUid === explicitVrLittleEndian;
}

const compressedMediaTypes: Record<string, string> = {
  '1.2.840.10008.1.2.4.50': 'image/jpeg',
  '1.2.840.10008.1.2.4.51': 'image/jpeg',
  '1.2.840.10008.1.2.4.57': 'image/jpeg',
  '1.2.840.10008.1.2.4.70': 'image/jpeg',
  '1.2.840.10008.1.2.4.80': 'image/jls',
  '1.2.840.10008.1.2.4.81': 'image/jls',
  '1.2.840.10008.1.2.4.90': 'image/jp2',
  '1.2.840.10008.1.2.4.91': 'image/jp2',
  '1.2.840.10008.1.2.4.92': 'image/jpx',
  '1.2.840.10008.1.2.4.93': 'image/jpx',
  '1.2.840.10008.1.2.4.201': 'image/jphc',
  '1.2.840.10008.1.2.4.202': 'image/jphc',
  '1.2.840.10008.1.2.4.203': 'image/jphc',
  '1.2.840.10008.1.2.5': 'image/x-dicom-rle',
  '1.2.840.10008.1.2.4.100': 'video/mpeg',
  '1.2.840.10008.1.2.4.101': 'video/mpeg',
  '1.2.840.10008.1.2.4.102': 'video/mp4',
  '1.2.840.10008.1.2.4.103': 'video/mp4',
  '1.2.840.10008.1.2.4.104': 'video/mp4',
  '1.2.840.10008.1.2.4.105': 'video/mp4',
  '1.2.840.10008.1.2.4.106': 'video/mp4',
};

/** Names clients use for the same media types (dicomweb-client asks for image/x-jls and image/jhc). */
const mediaTypeAliases: Record<string, string> = { 'image/x-jls': 'image/jls', 'image/jhc': 'image/jphc' };

export function canonicalMediaType(type: string): string {
  return mediaTypeAliases[type] ?? type;
}

/** The media type of one frame as stored: octet-stream for native pixels, else the codec's. */
export function frameMediaType(transferSyntaxUid: string): string {
  return isNative(transferSyntaxUid) ? 'application/octet-stream' : compressedMediaTypes[transferSyntaxUid] ?? 'application/octet-stream';
}

export function transferSyntaxName(uid: string): string {
  const names: Record<string, string> = {
    [implicitVrLittleEndian]: 'Implicit VR Little Endian',
    [explicitVrLittleEndian]: 'Explicit VR Little Endian',
    [explicitVrBigEndian]: 'Explicit VR Big Endian',
    [deflatedExplicitVrLittleEndian]: 'Deflated Explicit VR Little Endian',
    '1.2.840.10008.1.2.4.50': 'JPEG Baseline',
    '1.2.840.10008.1.2.4.51': 'JPEG Extended',
    '1.2.840.10008.1.2.4.57': 'JPEG Lossless',
    '1.2.840.10008.1.2.4.70': 'JPEG Lossless SV1',
    '1.2.840.10008.1.2.4.80': 'JPEG-LS Lossless',
    '1.2.840.10008.1.2.4.81': 'JPEG-LS Near-Lossless',
    '1.2.840.10008.1.2.4.90': 'JPEG 2000 Lossless',
    '1.2.840.10008.1.2.4.91': 'JPEG 2000',
    '1.2.840.10008.1.2.4.201': 'HTJ2K Lossless',
    '1.2.840.10008.1.2.4.202': 'HTJ2K Lossless RPCL',
    '1.2.840.10008.1.2.4.203': 'HTJ2K',
    '1.2.840.10008.1.2.5': 'RLE Lossless',
  };
  return names[uid] ?? uid;
}
