import type { CharacterSet } from './character-set';

/**
 * Clean Descriptors: a description keeps its text, but any identifying value
 * of the same data set found inside it (name parts, IDs, accession number,
 * institution, physician and operator names, the birth date in common
 * spellings...) is replaced by `***`.
 */

export const redaction = '***';

const cjk = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;

export class IdentifyingValues {
  private readonly tokens = new Set<string>();

  /** A person name: every component of every group (alphabetic, ideographic, phonetic), and the group as spoken. */
  addPersonName(name: string): void {
    for (const group of name.split('\\').flatMap((value) => value.split('='))) {
      const components = group.split('^').map((part) => part.trim()).filter((part) => part !== '');
      for (const component of components) {
        for (const word of component.split(/[\s,]+/)) this.addToken(word, 2);
        this.addToken(component, 2);
      }
      if (components.length > 1) this.addToken(components.join(' '), 2);
    }
  }

  /** An identifier or short text (each value of a multi-valued element). */
  addText(value: string): void {
    for (const part of value.split('\\')) this.addToken(part.trim(), 3);
  }

  /** A longer text such as an address: each line or comma-separated part. */
  addLines(value: string): void {
    for (const part of value.split(/[\r\n,;]+/)) this.addToken(part.trim(), 4);
  }

  /** A DA birth date in the spellings people type. */
  addDate(date: string): void {
    const match = /^(\d{4})\.?(\d{2})\.?(\d{2})$/.exec(date.trim());
    if (!match) return;
    const [, y = '', m = '', d = ''] = match;
    for (const spelling of [`${y}${m}${d}`, `${y}-${m}-${d}`, `${y}/${m}/${d}`, `${y}.${m}.${d}`, `${d}.${m}.${y}`, `${d}/${m}/${y}`, `${m}/${d}/${y}`, `${d}-${m}-${y}`, `${m}-${d}-${y}`]) {
      this.tokens.add(spelling);
    }
  }

  private addToken(token: string, minimumLength: number): void {
    if (token.length >= minimumLength || (cjk.test(token) && token.length >= 1 && [...token].length >= 2)) this.tokens.add(token);
  }

  get size(): number {
    return this.tokens.size;
  }

  /** One case-insensitive pattern; Latin tokens match whole words only, CJK tokens anywhere. */
  pattern(): RegExp | undefined {
    if (this.tokens.size === 0) return undefined;
    const escape = (token: string) => token.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    const sorted = [...this.tokens].sort((a, b) => b.length - a.length);
    const words = sorted.filter((token) => !cjk.test(token)).map(escape);
    const ideographic = sorted.filter((token) => cjk.test(token)).map(escape);
    const alternatives: string[] = [];
    if (words.length > 0) alternatives.push(`(?<![\\p{L}\\p{N}])(?:${words.join('|')})(?![\\p{L}\\p{N}])`);
    if (ideographic.length > 0) alternatives.push(`(?:${ideographic.join('|')})`);
    return new RegExp(alternatives.join('|'), 'giu');
  }
}

export type CleanedText = { kind: 'unchanged' } | { kind: 'cleaned'; bytes: Uint8Array } | { kind: 'emptied' };

/**
 * Cleans one text value. Unchanged text keeps its original bytes; cleaned
 * text is re-encoded in the data set's character set, and when the cleaned
 * text cannot be represented there the value is emptied (never corrupted).
 */
export function cleanDescriptorText(raw: Uint8Array, characterSet: CharacterSet, pattern: RegExp | undefined): CleanedText {
  if (!pattern || raw.length === 0) return { kind: 'unchanged' };
  const text = characterSet.decode(raw);
  pattern.lastIndex = 0;
  if (!pattern.test(text)) return { kind: 'unchanged' };
  pattern.lastIndex = 0;
  const cleaned = text.replace(pattern, redaction).trimEnd();
  const bytes = characterSet.encode(cleaned);
  return bytes ? { kind: 'cleaned', bytes } : { kind: 'emptied' };
}
