import type { DicomElement, Encoding } from './dataset';

const latin1 = new TextDecoder('latin1');

/**
 * The value as a byte-per-character string, trailing padding (space, NUL)
 * removed. Right for the ASCII-only VRs (UI, CS, DA, TM, DT, AS, IS, DS, AE)
 * whatever the character set.
 */
export function asciiValue(bytes: Uint8Array, element: DicomElement): string {
  let end = element.valueOffset + element.valueLength;
  while (end > element.valueOffset && (bytes[end - 1] === 0x20 || bytes[end - 1] === 0x00)) end--;
  let start = element.valueOffset;
  while (start < end && bytes[start] === 0x20) start++;
  return latin1.decode(bytes.subarray(start, end));
}

export function valueBytes(bytes: Uint8Array, element: DicomElement): Uint8Array {
  return bytes.subarray(element.valueOffset, element.valueOffset + element.valueLength);
}

const binarySizes: Record<string, number> = { US: 2, SS: 2, UL: 4, SL: 4, FL: 4, FD: 8, UV: 8, SV: 8, AT: 4 };

/** Numbers of a binary VR (US, SS, UL, SL, FL, FD, SV, UV); 64-bit integers beyond 2^53 lose precision. */
export function binaryNumbers(bytes: Uint8Array, element: DicomElement, vr: string, encoding: Encoding): number[] {
  const size = binarySizes[vr];
  if (!size) return [];
  const view = new DataView(bytes.buffer, bytes.byteOffset + element.valueOffset, element.valueLength);
  const count = Math.floor(element.valueLength / size);
  const le = encoding.littleEndian;
  const out: number[] = new Array<number>(count);
  for (let i = 0; i < count; i++) {
    const at = i * size;
    switch (vr) {
      case 'US': out[i] = view.getUint16(at, le); break;
      case 'SS': out[i] = view.getInt16(at, le); break;
      case 'UL': out[i] = view.getUint32(at, le); break;
      case 'SL': out[i] = view.getInt32(at, le); break;
      case 'FL': out[i] = view.getFloat32(at, le); break;
      case 'FD': out[i] = view.getFloat64(at, le); break;
      case 'UV': out[i] = Number(view.getBigUint64(at, le)); break;
      case 'SV': out[i] = Number(view.getBigInt64(at, le)); break;
      default: out[i] = 0;
    }
  }
  return out;
}

/** First integer of an US/UL/IS element, whatever its VR. */
export function integerValue(bytes: Uint8Array, element: DicomElement | undefined, encoding: Encoding): number | undefined {
  if (!element || element.valueLength === 0) return undefined;
  if (element.vr === 'IS' || element.vr === 'DS') {
    const first = asciiValue(bytes, element).split('\\')[0]?.trim() ?? '';
    const value = Number(first);
    return first !== '' && Number.isFinite(value) ? Math.trunc(value) : undefined;
  }
  const vr = element.vr === 'UN' || element.vr === 'OW' ? 'US' : element.vr;
  return binaryNumbers(bytes, element, vr, encoding)[0];
}
