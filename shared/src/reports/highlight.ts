/**
 * Search hits as segments ({ text, match }) rather than markup: the client
 * renders them as it likes and report text is never interpreted as HTML.
 * `headlineSegments` splits PostgreSQL's ts_headline output (run with two
 * control characters as StartSel/StopSel, which stored reports never hold);
 * `similarWordSegments` marks words close to the query by trigrams, for hits
 * that only the trigram path found (compounds, typos beyond the lexicon).
 */
import { foldForSearch } from './fold-text';

export interface Segment {
  text: string;
  match: boolean;
}

export const headlineStart = '\u0002';
export const headlineStop = '\u0003';

export function headlineSegments(headline: string): Segment[] {
  const segments: Segment[] = [];
  let match = false;
  let current = '';
  const flush = () => {
    if (current) segments.push({ text: current, match });
    current = '';
  };
  for (const c of headline) {
    if (c === headlineStart || c === headlineStop) {
      flush();
      match = c === headlineStart;
    } else current += c;
  }
  flush();
  return segments;
}

/** pg_trgm's trigrams of one word: lower case, padded with two spaces before and one after. */
export function trigrams(word: string): Set<string> {
  const padded = `  ${foldForSearch(word)} `;
  const set = new Set<string>();
  for (let i = 0; i + 3 <= padded.length; i++) set.add(padded.slice(i, i + 3));
  return set;
}

export function trigramSimilarity(a: string, b: string): number {
  const ta = trigrams(a);
  const tb = trigrams(b);
  let shared = 0;
  for (const t of ta) if (tb.has(t)) shared++;
  const union = ta.size + tb.size - shared;
  return union === 0 ? 0 : shared / union;
}

/**
 * Up to `maxFragments` windows of about `contextWords` words around the words
 * of `text` most similar to a query word (or containing it, for compounds).
 */
export function similarWordSegments(text: string, query: string, options: { minSimilarity?: number; contextWords?: number; maxFragments?: number } = {}): Segment[] {
  const minSimilarity = options.minSimilarity ?? 0.4;
  const context = options.contextWords ?? 8;
  const queryWords = foldForSearch(query).split(/[^a-z0-9]+/).filter((w) => w.length >= 3);
  const words = [...text.matchAll(/[\p{L}\p{N}]+/gu)];
  const hits = words.map((w) => {
    const folded = foldForSearch(w[0]);
    return queryWords.some((q) => folded.includes(q) || trigramSimilarity(folded, q) >= minSimilarity);
  });
  const windows: [number, number][] = [];
  hits.forEach((hit, i) => {
    if (!hit) return;
    const from = Math.max(0, i - context);
    const to = Math.min(words.length - 1, i + context);
    const last = windows.at(-1);
    if (last && from <= last[1] + 1) last[1] = to;
    else windows.push([from, to]);
  });
  const segments: Segment[] = [];
  for (const [n, [from, to]] of windows.slice(0, options.maxFragments ?? 3).entries()) {
    if (n > 0) segments.push({ text: ' … ', match: false });
    let at = words[from]?.index ?? 0;
    for (let i = from; i <= to; i++) {
      const w = words[i] as RegExpExecArray;
      if (w.index > at) segments.push({ text: text.slice(at, w.index), match: false });
      segments.push({ text: w[0], match: hits[i] === true });
      at = w.index + w[0].length;
    }
  }
  return mergeSegments(segments);
}

function mergeSegments(segments: Segment[]): Segment[] {
  const out: Segment[] = [];
  for (const s of segments) {
    const last = out.at(-1);
    if (last && last.match === s.match) last.text += s.text;
    else out.push({ ...s });
  }
  return out;
}
