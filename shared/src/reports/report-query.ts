/**
 * A report query in three parts. Plain words (web-search syntax: words,
 * "phrases", -exclusions, or) match what a report affirms: "pneumonia" does
 * not find "No evidence of pneumonia." `no:term` and `no:"a phrase"` find
 * reports where the term is negated ("No evidence of pneumonia", "Pneumonia
 * ruled out"), and so do plain words a negation cue governs, read like a
 * report ("no pneumothorax", "embolism ruled out"); `any:term` finds the term
 * whatever is said about it. Parts are all required. Each part is normalized
 * like any query (folded, shorthand rewritten).
 */
import { analyzeNegation } from './negation';
import { normalizeReportQuery } from './search-text';

export interface ReportQuery {
  /** Plain words, matched against affirmed mentions ('' when none). */
  affirmed: string;
  /** The `no:` terms, all required, matched against negated mentions. */
  negated: string;
  /** The `any:` terms, all required, matched against the whole text. */
  any: string;
}

const operator = /(^|\s)(no|any):("[^"]*"?|\S+)/giu;

export function parseReportQuery(query: string): ReportQuery {
  const terms: Record<'no' | 'any', string[]> = { no: [], any: [] };
  const plain = query.replace(operator, (_match, before: string, name: string, term: string) => {
    const value = term.startsWith('"') && !term.endsWith('"') ? `${term}"` : term;
    if (value.replace(/"/g, '').trim()) terms[name.toLowerCase() as 'no' | 'any'].push(value);
    return before;
  }).replace(/(^|\s)(?:no|any):(?=\s|$)/giu, '$1');
  const { affirmed, negated } = splitNaturalNegation(plain);
  return { affirmed: normalizeReportQuery(affirmed), negated: normalizeReportQuery([...negated, ...terms.no].join(' ')), any: normalizeReportQuery(terms.any.join(' ')) };
}

/**
 * "effusion no pneumothorax": the words a cue governs become negated terms,
 * the cue itself goes. Quoted phrases are left as they
 * are: the user asked for those words in that order.
 */
function splitNaturalNegation(plain: string): { affirmed: string; negated: string[] } {
  const negated: string[] = [];
  const affirmed = plain.replace(/("[^"]*"?)|([^"]+)/g, (_match, quoted: string | undefined, free: string | undefined) => {
    if (quoted !== undefined || free === undefined) return quoted ?? '';
    const analysis = analyzeNegation(free);
    if (analysis.negated.length === 0) return free;
    const cut = [...analysis.negated, ...analysis.cues].sort((a, b) => a.start - b.start);
    let out = '';
    let at = 0;
    for (const span of cut) {
      if (span.start < at) continue;
      out += `${free.slice(at, span.start)} `;
      at = span.end;
    }
    for (const span of analysis.negated) {
      const words = free.slice(span.start, span.end).replace(/[^\p{L}\p{N}/'\s-]+/gu, ' ').trim();
      // Words, not a phrase: "no pleural effusion" also finds "no pleural or pericardial effusion".
      if (words) negated.push(words);
    }
    return out + free.slice(at);
  });
  return { affirmed, negated };
}

/** The words a query asks for, operators dropped: what to highlight in a hit. */
export function reportQueryWords(query: string): string {
  const parsed = parseReportQuery(query);
  return [parsed.affirmed, parsed.negated, parsed.any].filter(Boolean).join(' ');
}
