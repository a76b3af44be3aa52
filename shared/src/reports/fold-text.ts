/**
 * Accent and case folding for report text. Two flavours:
 * - `foldForSearch`: the search form (lower case, accents removed, ß → ss,
 *   ligatures spelled out), the same thing PostgreSQL's `unaccent` does, so
 *   the search text and queries agree whichever side folds them;
 * - `foldForMatching`: the same idea but keeping every UTF-16 code unit in
 *   place (one character in, one out), so a match found in the folded copy
 *   has the same offsets in the original text. The scrubber matches on it.
 */

const multiCharFolds: Record<string, string> = { ß: 'ss', æ: 'ae', œ: 'oe', ø: 'o', ł: 'l', đ: 'd', ð: 'd', þ: 'th', ı: 'i' };
const singleCharFolds: Record<string, string> = { ß: 's', æ: 'a', œ: 'o', ø: 'o', ł: 'l', đ: 'd', ð: 'd', þ: 't', ı: 'i', '’': "'", '‘': "'", '‐': '-', '‑': '-', '–': '-', '—': '-' };

const combiningMarks = /[\u0300-\u036f]/g;

export function foldForSearch(text: string): string {
  return text
    .toLowerCase()
    .normalize('NFD')
    .replace(combiningMarks, '')
    .replace(/[ßæœøłđðþı]/g, (c) => multiCharFolds[c] ?? c)
    .normalize('NFC');
}

/** Lower case without accents, same length and offsets as the input. */
export function foldForMatching(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    const code = c.charCodeAt(0);
    if (code < 0x80) {
      out += c.toLowerCase();
      continue;
    }
    const lower = c.toLowerCase();
    const special = singleCharFolds[lower];
    if (special !== undefined) {
      out += special;
      continue;
    }
    const base = lower.normalize('NFD')[0];
    out += base !== undefined && lower.length === 1 ? base : c;
  }
  return out;
}

/** German/Nordic transliteration (ü ↔ ue), so "Müller", "Mueller" and "Muller" are one name. */
export function spellingVariants(foldedWord: string, original: string): string[] {
  const variants = new Set<string>([foldedWord]);
  const transliterated = original
    .toLowerCase()
    .replace(/ä/g, 'ae')
    .replace(/ö/g, 'oe')
    .replace(/ü/g, 'ue')
    .replace(/ß/g, 'ss');
  variants.add(foldForMatching(transliterated));
  // The other way round: a name registered as "Mueller" may be written "Müller" (folded "muller").
  if (/(ae|oe|ue)/.test(foldedWord)) variants.add(foldedWord.replace(/ae/g, 'a').replace(/oe/g, 'o').replace(/ue/g, 'u'));
  if (foldedWord.includes('ss')) variants.add(foldedWord.replace(/ss/g, 's'));
  return [...variants];
}
