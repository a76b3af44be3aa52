/**
 * Specific Character Set (0008,0005) support: decoding any text value to a
 * JavaScript string (for DICOM JSON and for finding identifying values in
 * descriptions), and encoding cleaned text back when the repertoire allows.
 * Values we do not change are never decoded and re-encoded: their bytes are
 * copied, so retained text cannot be corrupted by a charset round trip.
 */

export interface CharacterSet {
  /** The defined terms as found, e.g. ['', 'ISO 2022 IR 87']. */
  terms: readonly string[];
  decode(bytes: Uint8Array): string;
  /** Bytes for the text in this character set, or undefined when it cannot be represented. */
  encode(text: string): Uint8Array | undefined;
}

const singleByteLabels: Record<string, string> = {
  'ISO_IR 100': 'iso-8859-1',
  'ISO_IR 101': 'iso-8859-2',
  'ISO_IR 109': 'iso-8859-3',
  'ISO_IR 110': 'iso-8859-4',
  'ISO_IR 144': 'iso-8859-5',
  'ISO_IR 127': 'iso-8859-6',
  'ISO_IR 126': 'iso-8859-7',
  'ISO_IR 138': 'iso-8859-8',
  'ISO_IR 148': 'iso-8859-9',
  'ISO_IR 203': 'iso-8859-15',
  'ISO_IR 166': 'windows-874',
  'ISO_IR 13': 'shift_jis',
};

/** ISO 2022 G1 designations of 96-character sets (ESC - F) and their decoders. */
const g1SingleByte: Record<string, string> = {
  A: 'iso-8859-1', B: 'iso-8859-2', C: 'iso-8859-3', D: 'iso-8859-4', L: 'iso-8859-5',
  G: 'iso-8859-6', F: 'iso-8859-7', H: 'iso-8859-8', M: 'iso-8859-9', T: 'windows-874', b: 'iso-8859-15',
};
const iso2022Initial: Record<string, { g0?: G0; g1?: G1 }> = {
  'ISO 2022 IR 100': { g1: { kind: 'single', label: 'iso-8859-1' } },
  'ISO 2022 IR 101': { g1: { kind: 'single', label: 'iso-8859-2' } },
  'ISO 2022 IR 109': { g1: { kind: 'single', label: 'iso-8859-3' } },
  'ISO 2022 IR 110': { g1: { kind: 'single', label: 'iso-8859-4' } },
  'ISO 2022 IR 144': { g1: { kind: 'single', label: 'iso-8859-5' } },
  'ISO 2022 IR 127': { g1: { kind: 'single', label: 'iso-8859-6' } },
  'ISO 2022 IR 126': { g1: { kind: 'single', label: 'iso-8859-7' } },
  'ISO 2022 IR 138': { g1: { kind: 'single', label: 'iso-8859-8' } },
  'ISO 2022 IR 148': { g1: { kind: 'single', label: 'iso-8859-9' } },
  'ISO 2022 IR 203': { g1: { kind: 'single', label: 'iso-8859-15' } },
  'ISO 2022 IR 166': { g1: { kind: 'single', label: 'windows-874' } },
  'ISO 2022 IR 13': { g0: 'ascii', g1: { kind: 'katakana' } },
};

type G0 = 'ascii' | 'jisx0208' | 'jisx0212';
type G1 = { kind: 'single'; label: string } | { kind: 'katakana' } | { kind: 'double'; label: 'euc-kr' | 'gb18030' };

const decoders = new Map<string, InstanceType<typeof TextDecoder>>();
function decoder(label: string): InstanceType<typeof TextDecoder> {
  let found = decoders.get(label);
  if (!found) {
    found = new TextDecoder(label);
    decoders.set(label, found);
  }
  return found;
}

const latin1 = new TextDecoder('latin1');
const utf8Encoder = new TextEncoder();

function asciiEncode(text: string): Uint8Array | undefined {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0x7f) return undefined;
    out[i] = code;
  }
  return out;
}

const reverseTables = new Map<string, Map<string, number>>();
/** Character → byte for a single-byte code page, built once from its decoder. */
function singleByteReverse(label: string): Map<string, number> {
  let table = reverseTables.get(label);
  if (!table) {
    table = new Map();
    const dec = decoder(label);
    for (let byte = 0x00; byte <= 0xff; byte++) {
      const char = dec.decode(Uint8Array.of(byte));
      if (char !== '\uFFFD' && !table.has(char)) table.set(char, byte);
    }
    reverseTables.set(label, table);
  }
  return table;
}

function singleByteEncode(label: string, text: string): Uint8Array | undefined {
  const table = singleByteReverse(label);
  const out = new Uint8Array(text.length);
  let i = 0;
  for (const char of text) {
    const byte = table.get(char);
    if (byte === undefined) return undefined;
    out[i++] = byte;
  }
  return out.subarray(0, i);
}

let jisX0208Reverse: Map<string, number> | undefined;
/** Character → JIS X 0208 row/cell (as two 7-bit bytes), built once through the EUC-JP decoder. */
function jisX0208Table(): Map<string, number> {
  if (!jisX0208Reverse) {
    const table = new Map<string, number>();
    const dec = decoder('euc-jp');
    for (let b1 = 0x21; b1 <= 0x7e; b1++) {
      for (let b2 = 0x21; b2 <= 0x7e; b2++) {
        const char = dec.decode(Uint8Array.of(b1 | 0x80, b2 | 0x80));
        if (char.length === 1 && char !== '\uFFFD' && !table.has(char)) table.set(char, (b1 << 8) | b2);
      }
    }
    jisX0208Reverse = table;
  }
  return jisX0208Reverse;
}

const ESC = 0x1b;

function iso2022Decode(bytes: Uint8Array, initial: { g0: G0; g1?: G1 }): string {
  let g0: G0 = initial.g0;
  let g1: G1 | undefined = initial.g1;
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const byte = bytes[i] as number;
    if (byte === ESC) {
      const a = bytes[i + 1];
      const b = bytes[i + 2];
      const c = bytes[i + 3];
      if (a === 0x28 && (b === 0x42 || b === 0x4a)) { g0 = 'ascii'; i += 3; continue; } // ESC ( B, ESC ( J
      if (a === 0x24 && (b === 0x42 || b === 0x40)) { g0 = 'jisx0208'; i += 3; continue; } // ESC $ B, ESC $ @
      if (a === 0x24 && b === 0x28 && c === 0x44) { g0 = 'jisx0212'; i += 4; continue; } // ESC $ ( D
      if (a === 0x29 && b === 0x49) { g1 = { kind: 'katakana' }; i += 3; continue; } // ESC ) I
      if (a === 0x24 && b === 0x29 && c === 0x43) { g1 = { kind: 'double', label: 'euc-kr' }; i += 4; continue; } // ESC $ ) C
      if (a === 0x24 && b === 0x29 && c === 0x41) { g1 = { kind: 'double', label: 'gb18030' }; i += 4; continue; } // ESC $ ) A
      if (a === 0x2d && b !== undefined && g1SingleByte[String.fromCharCode(b)]) { g1 = { kind: 'single', label: g1SingleByte[String.fromCharCode(b)] as string }; i += 3; continue; }
      out += '\uFFFD';
      i += 1;
      continue;
    }
    if (byte < 0x80) {
      if (g0 === 'ascii' || byte < 0x21) {
        out += String.fromCharCode(byte);
        i += 1;
        continue;
      }
      const next = bytes[i + 1];
      if (next === undefined) { out += '\uFFFD'; break; }
      out += g0 === 'jisx0208'
        ? decoder('euc-jp').decode(Uint8Array.of(byte | 0x80, next | 0x80))
        : decoder('euc-jp').decode(Uint8Array.of(0x8f, byte | 0x80, next | 0x80));
      i += 2;
      continue;
    }
    if (!g1) { out += '\uFFFD'; i += 1; continue; }
    if (g1.kind === 'single') { out += decoder(g1.label).decode(Uint8Array.of(byte)); i += 1; continue; }
    if (g1.kind === 'katakana') { out += decoder('shift_jis').decode(Uint8Array.of(byte)); i += 1; continue; }
    const next = bytes[i + 1];
    if (next === undefined) { out += '\uFFFD'; break; }
    out += decoder(g1.label).decode(Uint8Array.of(byte, next));
    i += 2;
  }
  return out;
}

/** Encoder for ISO 2022 with JIS X 0208 (IR 87) and optional half-width katakana (IR 13): the Japanese sets of PS3.5 H. */
function iso2022JapaneseEncode(text: string, withKatakana: boolean, katakanaInitially: boolean): Uint8Array | undefined {
  const table = jisX0208Table();
  const out: number[] = [];
  let inKanji = false;
  let g1Katakana = katakanaInitially;
  for (const char of text) {
    const code = char.codePointAt(0) as number;
    if (code < 0x80) {
      if (inKanji) { out.push(ESC, 0x28, 0x42); inKanji = false; }
      out.push(code);
      continue;
    }
    if (withKatakana && code >= 0xff61 && code <= 0xff9f) {
      if (!g1Katakana) { out.push(ESC, 0x29, 0x49); g1Katakana = true; }
      out.push(code - 0xff61 + 0xa1);
      continue;
    }
    const jis = table.get(char);
    if (jis === undefined) return undefined;
    if (!inKanji) { out.push(ESC, 0x24, 0x42); inKanji = true; }
    out.push(jis >> 8, jis & 0xff);
  }
  if (inKanji) out.push(ESC, 0x28, 0x42);
  return Uint8Array.from(out);
}

const cache = new Map<string, CharacterSet>();

/** The character set for a raw (0008,0005) value ('' or undefined: the default repertoire). */
export function characterSetFor(specificCharacterSet: string | undefined): CharacterSet {
  const raw = specificCharacterSet ?? '';
  const cached = cache.get(raw);
  if (cached) return cached;
  const terms = raw.split('\\').map((term) => term.trim());
  const set = buildCharacterSet(terms);
  cache.set(raw, set);
  return set;
}

function buildCharacterSet(terms: string[]): CharacterSet {
  const first = terms[0] ?? '';
  const usesIso2022 = terms.some((term) => term.startsWith('ISO 2022'));
  if (!usesIso2022) {
    if (first === '' || first === 'ISO_IR 6') return { terms, decode: (bytes) => latin1.decode(bytes), encode: asciiEncode };
    if (first === 'ISO_IR 192') {
      const dec = decoder('utf-8');
      return { terms, decode: (bytes) => dec.decode(bytes), encode: (text) => utf8Encoder.encode(text) };
    }
    if (first === 'GB18030' || first === 'GBK') {
      const dec = decoder(first === 'GBK' ? 'gbk' : 'gb18030');
      // No encoder in the platform: cleaned text in these sets falls back to ASCII-only output.
      return { terms, decode: (bytes) => dec.decode(bytes), encode: asciiEncode };
    }
    const label = singleByteLabels[first];
    if (label) {
      const dec = decoder(label);
      return { terms, decode: (bytes) => dec.decode(bytes), encode: (text) => (label === 'shift_jis' ? asciiEncode(text) : singleByteEncode(label, text)) };
    }
    // Unknown defined term: read as ASCII, write ASCII only.
    return { terms, decode: (bytes) => latin1.decode(bytes), encode: asciiEncode };
  }
  const initial: { g0: G0; g1?: G1 } = { g0: 'ascii', ...(iso2022Initial[first] ?? {}) } as { g0: G0; g1?: G1 };
  const japanese = terms.includes('ISO 2022 IR 87');
  const katakana = terms.includes('ISO 2022 IR 13');
  const latinG1 = initial.g1?.kind === 'single' ? initial.g1.label : undefined;
  return {
    terms,
    decode: (bytes) => iso2022Decode(bytes, initial),
    encode: (text) => {
      const ascii = asciiEncode(text);
      if (ascii) return ascii;
      if (japanese) return iso2022JapaneseEncode(text, katakana, first === 'ISO 2022 IR 13');
      if (latinG1) return singleByteEncode(latinG1, text); // G1 designated by value 1: high bytes need no escape
      return undefined;
    },
  };
}
