/**
 * Negated mentions in report text, in the manner of NegEx (Chapman et al.,
 * 2001): a negation cue ("no", "without", "negative for", "no evidence of",
 * "free of"; German "kein", "ohne"; French "pas de", "sans", "absence de")
 * negates the next few words, up to the end of the clause; a post-cue
 * ("ruled out", "excluded", "not seen", "nicht nachweisbar", "exclu")
 * negates the few words before it. Pseudo-negations ("no change in", "not
 * only", "cannot be excluded", "gram negative") negate nothing, and end a
 * scope like a clause boundary does.
 *
 * The search indexes affirmed and negated text apart, so "pneumonia" does
 * not find "No evidence of pneumonia." and `no:pneumonia` does.
 */
import { foldForMatching } from './fold-text';

export interface NegatedSpan {
  /** Offsets in the text (UTF-16), end exclusive: the negated words, not the cue. */
  start: number;
  end: number;
}

/** How many words a cue reaches (NegEx uses 5; radiology lists such as "no hemorrhage, mass effect or midline shift" need a few more). */
const forwardWindow = 8;
const backwardWindow = 5;

const cue = (phrases: readonly string[]) => phrases.map((p) => p.split(' '));

const preCues = cue([
  'no', 'not', 'without', 'w/o', 'negative for', 'free of', 'free from', 'absence of', 'denies', 'denied', 'neither', 'nor', 'never',
  'no evidence of', 'no evidence for', 'no signs of', 'no sign of', 'no suspicion of', 'without evidence of', 'without signs of', 'rather than',
  'kein', 'keine', 'keinen', 'keiner', 'keines', 'keinem', 'ohne', 'kein nachweis', 'kein nachweis von', 'kein nachweis einer', 'kein nachweis eines', 'kein anhalt fur', 'keine hinweise auf', 'kein hinweis auf', 'weder',
  'pas de', "pas d'", 'pas', 'sans', 'absence de', "absence d'", 'aucun', 'aucune', 'ni', 'non',
]);

const postCues = cue([
  'ruled out', 'excluded', 'absent', 'not seen', 'not identified', 'not demonstrated', 'not present', 'not visualized', 'not visualised', 'not detected', 'not appreciated', 'not evident',
  'nicht nachweisbar', 'nicht abgrenzbar', 'nicht erkennbar', 'nicht darstellbar', 'ausgeschlossen',
  'exclu', 'exclue', 'exclus', 'exclues', 'non visualise', 'non visualisee', 'non retrouve', 'non retrouvee',
]);

const pseudoCues = cue([
  'no change', 'no significant change', 'no interval change', 'no definite change', 'no substantial change', 'no increase', 'no decrease',
  'not only', 'not necessarily', 'not certain', 'not clear', 'without change', 'without difficulty', 'gram negative', 'not excluded', 'not be excluded', 'cannot be excluded', 'can not be excluded',
  'could not be excluded', 'cannot exclude', 'can not exclude', 'not exclude', 'does not exclude', 'not ruled out', 'not be ruled out', 'cannot be ruled out', 'cannot rule out', 'not rule out',
  // Technique, not findings: "CT w/o contrast" is searched as "without contrast".
  'without contrast', 'w/o contrast', 'without iv contrast', 'without intravenous contrast', 'without oral contrast', 'without and with contrast', 'non contrast',
  'ohne kontrastmittel', 'ohne km', 'ohne i v km', 'sans injection', 'sans contraste', 'sans injection de produit de contraste',
  'nicht ausgeschlossen', 'nicht auszuschliessen', 'nicht sicher auszuschliessen', 'nicht sicher ausgeschlossen', 'keine anderung', 'keine wesentliche anderung', 'keine befundanderung', 'keine grossenanderung', 'nicht nur',
  'pas de changement', 'pas de modification', 'sans changement', 'sans modification', 'non exclu', 'non exclue', 'pas exclu', 'pas exclue', 'pas seulement',
]);

/** Words that end a scope: a new clause ("but"), or a verb after the negated noun phrase ("no effusion is seen"). */
const terminators = new Set([
  'but', 'however', 'although', 'though', 'except', 'aside', 'apart', 'yet', 'whereas', 'while', 'which', 'who', 'whose', 'nevertheless', 'still', 'otherwise',
  'is', 'are', 'was', 'were', 'has', 'have', 'had', 'seen', 'noted', 'shows', 'show', 'showed', 'demonstrates', 'there', 'remains', 'remain', 'persists', 'persist', 'since', 'because', 'due',
  'aber', 'jedoch', 'allerdings', 'sondern', 'ist', 'sind', 'war', 'zeigt', 'bei',
  'mais', 'cependant', 'toutefois', 'est', 'sont', 'avec',
]);
/** Auxiliaries between a negated phrase and its post-cue ("embolism is ruled out", "has been excluded"). */
const auxiliaries = new Set(['is', 'are', 'was', 'were', 'be', 'been', 'has', 'have', 'had', 'can', 'could', 'definitely', 'reliably', 'wird', 'wurde', 'ist', 'sicher', 'est', 'sont', 'a', 'ete']);

interface Token {
  word: string;
  start: number;
  end: number;
  /** A clause ends after this token (sentence punctuation, a colon, a semicolon, a line break). */
  endsClause: boolean;
}

const wordPattern = /[\p{L}\p{N}]+(?:['/][\p{L}\p{N}]+)*/gu;
/** French elided articles are words of their own: "pas d'épanchement" is the cue "pas d'" before "épanchement". */
const elision = /^(c|d|j|l|m|n|qu|s|t)'(?=[\p{L}])/u;

function tokenize(text: string): Token[] {
  const folded = foldForMatching(text);
  const tokens: Token[] = [];
  for (const m of folded.matchAll(wordPattern)) {
    let start = m.index;
    let word = m[0];
    const article = elision.exec(word);
    if (article) {
      tokens.push({ word: article[0], start, end: start + article[0].length, endsClause: false });
      start += article[0].length;
      word = word.slice(article[0].length);
    }
    tokens.push({ word, start, end: start + word.length, endsClause: false });
  }
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as Token;
    const gap = folded.slice(token.end, tokens[i + 1]?.start ?? folded.length);
    // "1.5 cm" is one number; "effusion. No" ends a sentence. A line break always ends a clause (headings, list items).
    token.endsClause = /[.!?](?:\s|$)|[;:]|\n|[•·]/.test(gap) || i === tokens.length - 1;
  }
  return tokens;
}

type CueKind = 'pre' | 'post' | 'pseudo';

function matchesAt(tokens: readonly Token[], at: number, phrase: readonly string[]): number {
  for (let k = 0; k < phrase.length; k++) {
    const token = tokens[at + k];
    if (!token || token.word !== phrase[k]) return 0;
    if (k < phrase.length - 1 && token.endsClause) return 0;
  }
  return phrase.length;
}

interface CueMatch {
  kind: CueKind;
  /** First token of the cue and its number of tokens. */
  at: number;
  length: number;
}

function cueAt(tokens: readonly Token[], at: number): CueMatch | undefined {
  let best: CueMatch | undefined;
  // Pseudo-negations first, then the longest cue: "no change in" is not "no", "not seen" is a post-cue, not "not".
  for (const [kind, phrases] of [['pseudo', pseudoCues], ['post', postCues], ['pre', preCues]] as const) {
    for (const phrase of phrases) {
      const length = matchesAt(tokens, at, phrase);
      if (length > 0 && (!best || (best.kind === kind && length > best.length))) best = { kind, at, length };
    }
    if (best) return best;
  }
  return best;
}

export interface NegationAnalysis {
  /** The negated words, in text order (merged where they touch). */
  negated: NegatedSpan[];
  /** The negation cues themselves ("no evidence of", "ruled out"), pseudo-negations not included. */
  cues: NegatedSpan[];
}

/** The words negated in `text`, in text order (merged where they touch). */
export function negatedSpans(text: string): NegatedSpan[] {
  return analyzeNegation(text).negated;
}

export function analyzeNegation(text: string): NegationAnalysis {
  const tokens = tokenize(text);
  const cues: CueMatch[] = [];
  for (let i = 0; i < tokens.length; ) {
    const match = cueAt(tokens, i);
    if (!match) {
      i++;
      continue;
    }
    cues.push(match);
    i += match.length;
  }
  const isCueToken = new Set<number>();
  for (const c of cues) for (let k = 0; k < c.length; k++) isCueToken.add(c.at + k);

  const negated = new Set<number>();
  for (const c of cues) {
    if (c.kind === 'pre') {
      let i = c.at + c.length;
      // "No." or "Keine:" negates nothing after it.
      if ((tokens[i - 1] as Token).endsClause) continue;
      for (let n = 0; n < forwardWindow && i < tokens.length; n++, i++) {
        const token = tokens[i] as Token;
        if (isCueToken.has(i) || terminators.has(token.word)) break;
        negated.add(i);
        if (token.endsClause) break;
      }
    } else if (c.kind === 'post') {
      let i = c.at - 1;
      while (i >= 0 && auxiliaries.has((tokens[i] as Token).word) && !(tokens[i] as Token).endsClause) i--;
      for (let n = 0; n < backwardWindow && i >= 0; n++, i--) {
        const token = tokens[i] as Token;
        if (token.endsClause || isCueToken.has(i) || terminators.has(token.word)) break;
        negated.add(i);
      }
    }
  }

  const spans: NegatedSpan[] = [];
  for (const i of [...negated].sort((a, b) => a - b)) {
    const token = tokens[i] as Token;
    const last = spans.at(-1);
    // Words of one scope are one span (their punctuation included), so phrases stay phrases.
    if (last && negated.has(i - 1) && !(tokens[i - 1] as Token).endsClause) last.end = token.end;
    else spans.push({ start: token.start, end: token.end });
  }
  const cueSpans = cues.filter((c) => c.kind !== 'pseudo').map((c) => ({ start: (tokens[c.at] as Token).start, end: (tokens[c.at + c.length - 1] as Token).end }));
  return { negated: spans, cues: cueSpans };
}

export interface NegationSplit {
  /** The text with its negated words blanked (same length, same offsets). */
  affirmed: string;
  /** The negated words, one scope per line. */
  negated: string;
}

export function splitByNegation(text: string, spans: readonly NegatedSpan[] = negatedSpans(text)): NegationSplit {
  let affirmed = '';
  let at = 0;
  for (const span of spans) {
    affirmed += text.slice(at, span.start) + ' '.repeat(span.end - span.start);
    at = span.end;
  }
  affirmed += text.slice(at);
  return { affirmed, negated: spans.map((s) => text.slice(s.start, s.end)).join('\n') };
}
