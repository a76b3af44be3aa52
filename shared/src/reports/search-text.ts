/**
 * The search form of a report and of a query: folded (case, accents), the
 * shorthand of radiology-abbreviations.ts rewritten, and for reports each
 * abbreviation paired with its expansion. PostgreSQL turns the search text
 * into the tsvector (configuration `medlake_report`: unaccent + English
 * stemming) and keeps its lexemes for typo-tolerant lookup by trigrams.
 */
import { foldForSearch } from './fold-text';
import { splitByNegation } from './negation';
import { aliases, rewrites } from './radiology-abbreviations';

const tokenBoundary = "[^a-z0-9/.']";

function escapeRegExp(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

const rewritePatterns = rewrites.map((r) => ({ pattern: new RegExp(`(^|${tokenBoundary})${escapeRegExp(r.from)}(?=$|${tokenBoundary}|[a-z])`, 'g'), to: r.to, endsWithSlash: r.from.endsWith('/') }));

function applyRewrites(folded: string): string {
  let text = folded;
  for (const { pattern, to, endsWithSlash } of rewritePatterns) {
    // "w/" joins the next word ("w/contrast"), other rewrites are whole tokens.
    text = text.replace(pattern, (match, before: string, offset: number, whole: string) => {
      const next = whole[offset + match.length];
      if (!endsWithSlash && next !== undefined && /[a-z0-9]/.test(next)) return match;
      return `${before}${to}${endsWithSlash ? ' ' : ''}`;
    });
  }
  return text;
}

const words = (phrase: string) => phrase.split(' ');

/** Pairs each abbreviation with its expansion (and back), next to where it stands. */
function addAliases(text: string): string {
  const tokens = text.split(/(\s+)/);
  const plain = tokens.map((t) => t.replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, ''));
  const additions = new Map<number, string[]>();
  const add = (index: number, words: string) => {
    const list = additions.get(index) ?? [];
    if (!list.includes(words)) list.push(words);
    additions.set(index, list);
  };
  for (const alias of aliases) {
    const expansion = words(alias.expansion);
    for (let i = 0; i < tokens.length; i += 2) {
      if (plain[i] === alias.abbreviation) add(i, alias.expansion);
      if (expansion.every((w, k) => plain[i + 2 * k] === w || (k === expansion.length - 1 && plain[i + 2 * k] === `${w}s`))) add(i + 2 * (expansion.length - 1), alias.abbreviation);
    }
  }
  return tokens.map((t, i) => (additions.has(i) ? `${t} ${(additions.get(i) as string[]).join(' ')}` : t)).join('');
}

/** Hyphenated compounds are searchable both joined and as parts ("ground-glass" → "groundglass ground glass"; the parts last, so phrases stay whole). */
function splitHyphens(text: string): string {
  return text.replace(/\b([a-z]+)-([a-z]+)\b/g, '$1$2 $1 $2');
}

/** The text PostgreSQL indexes for a report (never shown to users). */
export function reportSearchText(text: string): string {
  return addAliases(splitHyphens(applyRewrites(foldForSearch(stripControlCharacters(text)))));
}

export interface ReportSearchTexts {
  /** The whole report. */
  all: string;
  /** The report with its negated words left out (negation.ts). */
  affirmed: string;
  /** Its negated words only, one negation scope per line. */
  negated: string;
}

/** The three search texts PostgreSQL indexes for a report: whole, affirmed, negated. */
export function reportSearchTexts(text: string): ReportSearchTexts {
  const { affirmed, negated } = splitByNegation(stripControlCharacters(text));
  return { all: reportSearchText(text), affirmed: reportSearchText(affirmed), negated: reportSearchText(negated) };
}

/** A query in the same form (folded, shorthand rewritten), search syntax kept. */
export function normalizeReportQuery(query: string): string {
  return applyRewrites(foldForSearch(stripControlCharacters(query))).replace(/\b([a-z]+)-([a-z]+)\b/g, '$1 $2').trim();
}

/** Control characters (except tab/newline) never belong in a report; highlights use two of them as markers. */
export function stripControlCharacters(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '');
}

/**
 * The words to mark in a hit, as one "or" query: the query's words (phrases
 * and exclusions dropped) plus the other form of any abbreviation among them,
 * so a report that writes "ETT" is highlighted for "endotracheal tube".
 */
export function highlightQueryText(query: string): string {
  const normalized = normalizeReportQuery(query).replace(/(^|\s)-\S+/g, ' ').replace(/["()]/g, ' ');
  const words = normalized.split(/\s+/).filter((w) => w && w !== 'or');
  const joined = ` ${words.join(' ')} `;
  const extra: string[] = [];
  for (const alias of aliases) {
    if (joined.includes(` ${alias.abbreviation} `)) extra.push(...alias.expansion.split(' '));
    if (joined.includes(` ${alias.expansion} `)) extra.push(alias.abbreviation);
  }
  return [...new Set([...words, ...extra])].join(' or ');
}
