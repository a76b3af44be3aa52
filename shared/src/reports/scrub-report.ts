/**
 * Scrubbing a free-text report before it is stored: what the report says
 * about the patient is replaced by the same pseudonyms and shifted dates as
 * the images, and what pattern rules recognise as personal data is removed.
 *
 * Order (earlier wins where spans overlap):
 * 1. identifiers known for the study (from the original DICOM header or the
 *    PHI vault): patient names in every part and order, patient IDs,
 *    accession numbers, birth dates, physicians, institutions;
 * 2. pattern rules: e-mail addresses, URLs, dates (shifted by the patient's
 *    offset), phone numbers, street addresses, postcodes with their town,
 *    ID- and MRN-like numbers, names after titles and after labels
 *    ("Dr.", "Herr", "Mme", "Signed by:", "cc:"), lists of such names,
 *    names before credentials ("…, MD"), institution names.
 * Pure: no I/O. docs/reports.md lists the rules and what they can miss.
 */
import { foldForMatching, spellingVariants } from './fold-text';
import type { CalendarDate } from './report-dates';
import { findDates, parseIsoOrDicomDate, shiftCalendarDate } from './report-dates';

export type PhiKind = 'name' | 'id' | 'accession' | 'date' | 'birth-date' | 'phone' | 'email' | 'url' | 'address' | 'postcode' | 'institution';

/** Original identifiers of the study the report belongs to (PHI: never stored in clear outside the vault). */
export interface KnownIdentifiers {
  /** DICOM PN (`Family^Given^Middle^Prefix^Suffix`) or plain "Given Family". */
  patientNames?: readonly string[];
  patientIds?: readonly string[];
  accessionNumbers?: readonly string[];
  /** YYYYMMDD or YYYY-MM-DD. */
  birthDates?: readonly string[];
  /** Referring, performing, reading physicians, operators (PN or plain). */
  physicianNames?: readonly string[];
  institutionNames?: readonly string[];
  /** Anything else known to identify (addresses, station names…), matched as phrases. */
  otherIdentifiers?: readonly string[];
}

/** What the images use instead. */
export interface ScrubReplacements {
  /** The pseudonymous patient name of the images (patients.patient_name). */
  patientName: string;
  /** The pseudonymous patient ID. */
  patientId: string;
  /** The pseudonymous accession number, when the study has one. */
  accessionNumber?: string | undefined;
  /**
   * The patient's date offset in days; null when the text belongs to no
   * patient (a subscription's name): dates are then removed (`[DATE]`), as
   * there is no shift that would keep them consistent with the images.
   */
  dateShiftDays: number | null;
  /** Year of the original study, for dates written without a year. */
  referenceYear?: number | undefined;
}

export interface ScrubSpan {
  /** Offsets in the ORIGINAL text. */
  start: number;
  end: number;
  kind: PhiKind;
  rule: string;
  replacement: string;
}

export interface ScrubResult {
  text: string;
  spans: ScrubSpan[];
  /** Replacements per kind: safe to store and log (no PHI). */
  counts: Partial<Record<PhiKind, number>>;
}

export const placeholders = {
  name: '[NAME]',
  date: '[DATE]',
  id: '[ID]',
  phone: '[PHONE]',
  email: '[EMAIL]',
  url: '[URL]',
  address: '[ADDRESS]',
  postcode: '[POSTCODE]',
  institution: '[INSTITUTION]',
} as const;

interface Candidate extends ScrubSpan {
  priority: number;
}

// ---------------------------------------------------------------- known identifiers

const particles = new Set(['von', 'van', 'de', 'der', 'den', 'du', 'des', 'la', 'le', 'di', 'da', 'dos', 'del', 'ten', 'ter', 'zu', 'vom', 'y', 'e', 'bin', 'al', 'el']);

/**
 * Surnames and given names that are also ordinary words of reports: replaced
 * only where written with a capital, so "a small mass" keeps its meaning
 * while "Mrs. Mass" does not survive.
 */
const commonWordNames = new Set([
  'mass', 'hill', 'white', 'black', 'brown', 'green', 'gray', 'grey', 'long', 'short', 'small', 'little', 'young', 'king', 'bone', 'head', 'heart', 'rose', 'may', 'will', 'grant', 'mark', 'hope', 'joy', 'faith', 'case', 'cross', 'field', 'wall', 'stone', 'wood', 'bush', 'bell', 'ward', 'page', 'love', 'wolf', 'fox', 'lobe', 'root', 'base', 'sharp', 'clear', 'free', 'low', 'high', 'north', 'south', 'west', 'east', 'bland', 'rich', 'lung', 'mild', 'new', 'neu', 'klein', 'lang', 'kurz', 'weiss', 'schwarz', 'roth', 'blanc', 'noir', 'petit', 'grand', 'long', 'le', 'signe',
]);

interface ParsedName {
  family: string[];
  given: string[];
}

function parsePersonName(value: string): ParsedName | undefined {
  const first = value.split('=')[0]?.trim() ?? '';
  if (!first) return undefined;
  if (first.includes('^')) {
    const [family = '', given = '', middle = ''] = first.split('^');
    return { family: family.split(/\s+/).filter(Boolean), given: [...given.split(/\s+/), ...middle.split(/\s+/)].filter(Boolean) };
  }
  if (first.includes(',')) {
    const [family = '', given = ''] = first.split(',');
    return { family: family.trim().split(/\s+/).filter(Boolean), given: given.trim().split(/\s+/).filter(Boolean) };
  }
  const words = first.split(/\s+/).filter(Boolean);
  if (words.length === 1) return { family: words, given: [] };
  return { family: words.slice(-1), given: words.slice(0, -1) };
}

const escape = (value: string) => value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A folded word as a pattern that also accepts its transliterations. */
function wordPattern(word: string): string {
  const folded = foldForMatching(word);
  const variants = spellingVariants(folded, word).map((v) => v.split(/[-'’]/).map(escape).join("[-'’ ]?"));
  return variants.length === 1 ? (variants[0] as string) : `(?:${variants.join('|')})`;
}

const nameGap = String.raw`[\s,.^]{1,3}`;

function namePhrasePatterns(name: ParsedName): string[] {
  const family = name.family.map(wordPattern);
  const given = name.given.map(wordPattern);
  const familyPhrase = family.join(String.raw`[\s-]+`);
  const phrases: string[] = [];
  if (given.length) {
    const initials = name.given.map((g) => escape(foldForMatching(g[0] ?? '')));
    const givenAll = given.join(String.raw`\s+(?:[a-z]\.?\s+)?`);
    const givenFirst = given[0] as string;
    phrases.push(
      `${givenAll}${nameGap}${familyPhrase}`,
      `${givenFirst}\\s+(?:[a-z]\\.?\\s+)?${familyPhrase}`,
      `${familyPhrase}${nameGap}${givenAll}`,
      `${familyPhrase}${nameGap}${givenFirst}(?:\\s+[a-z]\\.)?`,
      `${initials[0]}\\.?\\s*${familyPhrase}`,
      `${familyPhrase}${nameGap}${initials[0]}\\.?(?![a-z])`,
    );
  }
  // The given names together ("Hans-Peter", "Thi Lan"); one-word names are covered by the parts.
  if (name.given.length > 1 || name.given.some((g) => g.includes('-'))) phrases.push(given.join(String.raw`\s+`));
  if (name.family.length > 1 || name.family.some((f) => f.includes('-'))) phrases.push(familyPhrase);
  return phrases;
}

function nameParts(name: ParsedName): string[] {
  return [...name.family.flatMap((f) => f.split('-')), ...name.given.flatMap((g) => g.split('-'))].filter((p) => p.length >= 2 && !particles.has(p.toLowerCase()));
}

function isCapitalised(text: string, at: number): boolean {
  const c = text[at] ?? '';
  return c !== c.toLowerCase();
}

function addMatches(candidates: Candidate[], folded: string, original: string, pattern: string, make: (start: number, end: number) => Omit<Candidate, 'start' | 'end'> | undefined): void {
  const regex = new RegExp(`(?<![\\p{L}\\p{N}])(?:${pattern})(?![\\p{L}\\p{N}])`, 'gu');
  let m: RegExpExecArray | null;
  while ((m = regex.exec(folded))) {
    if (m[0].length === 0) {
      regex.lastIndex++;
      continue;
    }
    const made = make(m.index, m.index + m[0].length);
    if (made) candidates.push({ start: m.index, end: m.index + m[0].length, ...made });
  }
  void original;
}

function knownNameCandidates(candidates: Candidate[], text: string, folded: string, names: readonly string[], replacement: string, rule: string, priority: number): void {
  for (const value of names) {
    const parsed = parsePersonName(value);
    if (!parsed) continue;
    for (const phrase of namePhrasePatterns(parsed)) {
      addMatches(candidates, folded, text, phrase, () => ({ kind: 'name', rule, replacement, priority }));
    }
    for (const part of nameParts(parsed)) {
      const lower = part.toLowerCase();
      addMatches(candidates, folded, text, wordPattern(part), (start) => (commonWordNames.has(lower) && !isCapitalised(text, start) ? undefined : { kind: 'name', rule: `${rule}-part`, replacement, priority: priority + 1 }));
    }
  }
}

/** An identifier with optional separators between its characters and optional leading zeros. */
function identifierPattern(value: string): string | undefined {
  const chars = foldForMatching(value).replace(/[^a-z0-9]/g, '');
  if (chars.length < 3) return undefined;
  const trimmed = chars.replace(/^0+(?=.)/, '');
  const body = [...trimmed].map(escape).join(String.raw`[\s\-/.]?`);
  return /^\d/.test(trimmed) ? String.raw`(?:0[\s\-/.]?)*${body}` : body;
}

function phrasePattern(value: string): string | undefined {
  const tokens = foldForMatching(value).split(/[^\p{L}\p{N}]+/u).filter(Boolean);
  if (tokens.length === 0 || tokens.join('').length < 3) return undefined;
  return tokens.map((t) => (t === 'st' || t === 'saint' ? '(?:st|saint|ste|sainte)' : escape(t))).join(String.raw`[^\p{L}\p{N}]{1,3}`);
}

// ---------------------------------------------------------------- pattern rules

const upper = 'A-ZÀ-ÖØ-Þ';
const lower = 'a-zà-öø-ÿß';
/** One capitalised name word (O'Brien, Meyer-Lüdenscheidt, MÜLLER); initials allowed ("J."). */
const nameWord = String.raw`(?:[${upper}][${lower}]+(?:[${upper}][${lower}]+)?(?:[-'’][${upper}]?[${lower}]+(?:[${upper}][${lower}]+)?)*|[${upper}]{2,}(?:[-'’][${upper}]+)*|[${upper}]\.)`;
const particle = String.raw`(?:von|van|de|der|den|du|des|la|le|di|da|dos|del|ten|ter|zu|vom|d['’])`;
// Name words are one space apart: header fields after a name are usually set apart by several.
const personName = String.raw`${nameWord}(?:[ \t\u00a0](?:${particle}[ \t\u00a0]){0,2}${nameWord}){0,3}(?:[ \t]*,[ \t]*${nameWord}(?:[ \t\u00a0]${nameWord})?(?=\s*(?:$|[\n;)]|,\s*(?:MD|M\.D\.|PhD|DO)\b|\s+(?:and|und|et)\s)))?`;
const title = String.raw`(?:Drs?|Dres|Prof|Pr|Mr|Mrs|Ms|Mx|Miss|Herr|Frau|Hr|Fr|Mme|Mlle|Madame|Monsieur|Mademoiselle|Sr|Sra|Dott|Dr\.?\s*med|Dr\.?\s*rer\.?\s*nat|PD|Priv\.-Doz)(?:\.|(?![\p{L}]))`;
const titleChain = String.raw`(?:${title}\s*){1,3}`;
const listGlue = String.raw`\s*(?:,|;|&|/|\band\b|\bund\b|\bet\b|\bsowie\b)\s*`;

/** Capitalised words that follow titles or labels without being names. */
const notNames = new Set([
  'male', 'female', 'man', 'woman', 'unknown', 'none', 'not', 'no', 'yes', 'the', 'a', 'an', 'patient', 'radiology', 'department', 'hospital', 'clinic', 'ct', 'mri', 'mr', 'see', 'above', 'below', 'report', 'study', 'stable', 'normal', 'known', 'der', 'die', 'das', 'le', 'la', 'les', 'un', 'une', 'männlich', 'weiblich', 'masculin', 'féminin', 'homme', 'femme', 'history', 'findings', 'impression', 'technique', 'comparison', 'indication', 'clinical', 'on', 'at', 'in', 'of', 'for', 'with', 'and', 'befund', 'beurteilung', 'conclusion', 'résultat', 'resultat', 'page', 'date', 'time', 'age', 'sex', 'dob', 'mrn', 'id', 'md', 'phd', 'do', 'nr', 'no', 'tel', 'fax', 'pat', 'dr', 'prof', 'med', 'geb', 'née', 'né', 'uhr', 'am', 'um', 'acc', 'accession', 'ext', 'tel.', 'ref', 'n/a', 'na', 'emergency', 'er', 'icu', 'ed', 'radiologist', 'attending', 'resident', 'chest', 'abdomen', 'head', 'brain', 'pelvis', 'spine', 'knee', 'left', 'right', 'bilateral', 'final', 'preliminary', 'addendum', 'exam', 'examination', 'procedure',
]);

const labels = [
  'Patient(?:\\s*name)?', 'Name', 'Pat\\.?', 'Patient(?:in|\\(in\\))', 'Patientenname', 'Vorname', 'Nachname', 'Geburtsname', 'Nom(?:\\s+du\\s+patient|\\s+de\\s+naissance)?', 'Prénom', 'Pr[ée]nom',
  'Referring(?:\\s+(?:physician|doctor|clinician))?', 'Ordering(?:\\s+(?:physician|provider))?', 'Requested\\s+by', 'Requesting\\s+(?:physician|doctor)', 'Referred\\s+by',
  '(?:Electronically\\s+)?[Ss]igned(?:\\s+electronically)?(?:\\s+(?:by|off\\s+by))?', 'Dictated\\s+by', 'Transcribed\\s+by', 'Read\\s+by', 'Reported\\s+by', 'Verified\\s+by', 'Approved\\s+by',
  'Reporting\\s+(?:radiologist|physician)', 'Radiologist', 'Attending', 'Resident', 'Fellow', 'Technologist', 'Tech', 'Physician', 'Consultant', 'Surgeon', 'Contact', 'Next\\s+of\\s+kin', 'Emergency\\s+contact', 'Family\\s+physician', 'GP', 'PCP',
  '[Cc][Cc]', 'Copy\\s+to', 'Copies\\s+to', 'Kopie\\s+an', 'Nachrichtlich(?:\\s+an)?', 'Überweiser(?:in)?', 'Zuweiser(?:in)?', 'Einsender(?:in)?', 'Befundet\\s+von', 'Befundende[rn]?(?:\\s+Ärzt(?:in|e))?', 'Befunder(?:in)?', 'Arzt', 'Ärztin', 'Oberarzt', 'Oberärztin', 'Assistenzarzt', 'Unterschrift', 'Unterzeichnet(?:\\s+von)?', 'Vidiert(?:\\s+von)?', 'Angehörige[r]?', 'Hausarzt',
  'Médecin(?:\\s+(?:prescripteur|demandeur|traitant|radiologue))?', 'Prescripteur', 'Demandeur', 'Signé\\s+par', 'Radiologue', 'Interprété\\s+par', 'Validé\\s+par', 'Copie\\s+à', 'Dicté\\s+par', 'Manipulat(?:eur|rice)',
];
/** Labels that end in "by", "von", "par", "to": the colon is often left out ("Signed by Jane Roe"). */
const labelPattern = String.raw`(?<![\p{L}])(?:(?:${labels.join('|')})\s*[:\-–]|(?:${labels.filter((l) => /(?:by|von|par|to|an|à)\)?\??$/.test(l)).join('|')})(?=\s+\p{Lu}))\s*`;

/** A date written as the images show it (shifted), or removed when no patient's shift applies. */
function shiftedOrRemoved(mention: { date: CalendarDate; format(date: CalendarDate): string }, shiftDays: number | null): string {
  return shiftDays === null ? placeholders.date : mention.format(shiftCalendarDate(mention.date, shiftDays));
}

function patternCandidates(candidates: Candidate[], text: string, replacements: ScrubReplacements): void {
  const add = (regex: RegExp, kind: PhiKind, rule: string, priority: number, replacement: (match: RegExpExecArray) => string | undefined, group?: number) => {
    let m: RegExpExecArray | null;
    while ((m = regex.exec(text))) {
      if (m[0].length === 0) {
        regex.lastIndex++;
        continue;
      }
      const value = replacement(m);
      if (value === undefined) continue;
      let start = m.index;
      let end = m.index + m[0].length;
      // A sentence's full stop after a place name is not part of it ("… der Isar."), an abbreviation's is ("St.").
      if ((kind === 'institution' || kind === 'address') && /[\p{L}]{3,}\.$/u.test(m[0])) end--;
      if (group !== undefined && m[group] !== undefined) {
        const offset = m[0].indexOf(m[group] as string, 0);
        start = m.index + offset;
        end = start + (m[group] as string).length;
      }
      candidates.push({ start, end, kind, rule, replacement: value, priority });
    }
  };

  // Before the known identifiers: an address that contains a name goes whole.
  add(/[\w.+-]+@[\w-]+(?:\.[\w-]+)+/gu, 'email', 'email', 0, () => placeholders.email);
  add(/\b(?:https?:\/\/|www\.)[^\s<>"')\]]+/giu, 'url', 'url', 0, () => placeholders.url);

  // Dates: shifted, not removed.
  for (const mention of findDates(text, { referenceYear: replacements.referenceYear })) {
    candidates.push({ start: mention.start, end: mention.end, kind: 'date', rule: 'date', replacement: shiftedOrRemoved(mention, replacements.dateShiftDays), priority: 30 });
  }

  // Social-security-like and keyed identifiers before phones (they look alike).
  add(/\b\d{3}-\d{2}-\d{4}\b/g, 'id', 'ssn', 35, () => placeholders.id);
  const idLabel = String.raw`(?:MRN|PID|IPP|NIP|NIR|SSN|ID|Pat(?:ient)?\.?\s*(?:ID|No\.?|Nr\.?|#|number)|Patient(?:en)?[- ]?(?:ID|nummer|Nr\.?)|Acc(?:ession)?\.?(?:\s*(?:No\.?|Nr\.?|#|number))?|Order(?:\s*(?:No\.?|#|number))?|Case(?:\s*(?:No\.?|#|number))?|Fall(?:nummer|nr\.?|-Nr\.?)?|Auftrag(?:snummer|s-Nr\.?)?|Aufnahme(?:nummer|-Nr\.?)|Visit(?:\s*(?:No\.?|#))?|Encounter(?:\s*(?:No\.?|#))?|Record(?:\s*(?:No\.?|#))?|Dossier|N°\s*(?:de\s+)?(?:dossier|patient|examen|séjour)|Versicherten(?:nummer|-Nr\.?)|Insurance(?:\s*(?:No\.?|#|number))?)`;
  add(new RegExp(String.raw`(?<![\p{L}])${idLabel}\s*[:#.]?\s*(?:is\s+)?([A-Z0-9][A-Z0-9\-/.]*\d[A-Z0-9\-/]*|[A-Z0-9]*\d[A-Z0-9\-/.]*[A-Z0-9])`, 'giu'), 'id', 'labelled-id', 36, (m) => ((m[1] ?? '').replace(/\D/g, '').length >= 3 ? placeholders.id : undefined), 1);

  // Phones: international, North American, European national forms, and anything after a phone label.
  const phoneLabel = String.raw`(?:Tel(?:efon|ephone)?|Tél(?:éphone)?|Phone|Ph|Fax|Mobile|Mobil|Cell|Handy|Portable|Pager|Bip|Piepser|Ext|Durchwahl|Poste)\.?\s*(?:no\.?|nr\.?|#)?\s*[:.]?\s*`;
  add(new RegExp(String.raw`${phoneLabel}(\+?[\d(][\d\s()./-]{2,}\d)`, 'giu'), 'phone', 'labelled-phone', 38, () => placeholders.phone, 1);
  add(/(?<![\w+])(?:\+|00)\d{1,3}[\s./-]?(?:\(0\)[\s./-]?)?\(?\d{1,5}\)?(?:[\s./-]?\d{2,5}){1,4}(?!\d)/g, 'phone', 'international-phone', 40, () => placeholders.phone);
  add(/(?<!\w)\(\d{3}\)\s?\d{3}[\s.-]?\d{4}(?!\d)/g, 'phone', 'nanp-phone', 40, () => placeholders.phone);
  add(/(?<![\w.])\d{3}[.-]\d{3}[.-]\d{4}(?![\w.]?\d)/g, 'phone', 'nanp-phone', 40, () => placeholders.phone);
  add(/(?<![\w.])0\d(?:[\s.]\d{2}){4}(?!\d)/g, 'phone', 'fr-phone', 40, () => placeholders.phone);
  add(/(?<![\w./])0\d{2,5}\s?[/-]\s?\d{3,}(?:[\s-]\d{2,})*(?!\d)/g, 'phone', 'de-phone', 40, () => placeholders.phone);

  // Street addresses.
  const cap = String.raw`[${upper}][${lower}'’.]*`;
  add(new RegExp(String.raw`\b\d{1,5}[A-Za-z]?,?\s+(?:${cap}\s+){1,3}(?:Street|St\.?|Road|Rd\.?|Avenue|Ave\.?|Lane|Ln\.?|Drive|Dr\.?|Boulevard|Blvd\.?|Way|Court|Ct\.?|Place|Pl\.?|Terrace|Square|Sq\.?|Close|Crescent|Parkway|Pkwy\.?|Highway|Hwy\.?)(?![\p{L}])(?:,?\s*(?:Apt|Apartment|Suite|Unit|Flat|#)\.?\s*[\w-]+)?(?:,\s*${cap}(?:\s+${cap})?(?=,?\s+[A-Z]{2}\s+\d{5}))?`, 'gu'), 'address', 'street-en', 45, () => placeholders.address);
  add(new RegExp(String.raw`(?<![\p{L}])(?:${cap}[-\s])?${cap}(?:straße|strasse|str\.|weg|gasse|platz|allee|ring|damm|ufer|chaussee|steig|pfad|Straße|Strasse|Weg|Gasse|Platz|Allee|Ring)\s*\d{1,4}\s?[a-z]?(?![\p{L}\d])`, 'gu'), 'address', 'street-de', 45, () => placeholders.address);
  add(new RegExp(String.raw`(?<![\p{L}])${cap}[-\s](?:Straße|Strasse|Str\.|Weg|Gasse|Platz|Allee|Ring|Damm|Ufer|Chaussee)\s*\d{1,4}\s?[a-z]?(?![\p{L}\d])`, 'gu'), 'address', 'street-de', 45, () => placeholders.address);
  add(new RegExp(String.raw`(?<![\p{L}])(?:Am|An\s+der|Auf\s+der|Im|In\s+der|Zum|Zur)\s+${cap}(?:\s+${cap})?\s+\d{1,4}\s?[a-z]?(?![\p{L}\d])`, 'gu'), 'address', 'street-de', 46, () => placeholders.address);
  add(new RegExp(String.raw`\b\d{1,4}(?:\s?(?:bis|ter))?,?\s+(?:rue|avenue|av\.|boulevard|bd|place|chemin|allée|impasse|quai|route|cours|square)\s+(?:(?:de\s+la|de\s+l['’]|du|des|de|d['’]|la|le|l['’])\s*)?${cap}(?:[\s-]+(?:(?:de|du|des|la|le|l['’]|d['’])\s*)?${cap}){0,4}`, 'giu'), 'address', 'street-fr', 45, () => placeholders.address);

  // Postcodes with their town, or with a country prefix, or UK/US forms.
  const town = String.raw`[${upper}][${lower}]+(?:[-\s](?:am|an|im|der|bei|sur|sous|en|le|la|les|de|[${upper}][${lower}]+))*(?:[-\s][${upper}][${lower}]+)?`;
  add(new RegExp(String.raw`(?<![\w.,-])(?:(?:D|F|CH|A|B|L|NL)-)?\d{4,5}\s+${town}(?![\p{L}])`, 'gu'), 'postcode', 'postcode-town', 48, (m) => (/^\d{4,5}\s+(?:[A-Z][a-z]*\s*)?(?:mm|cm|ml|HU|Gy|mGy|kV|mAs|Units?|Patients?|Images?|Slices?|Series|Frames?)\b/.test(m[0]) ? undefined : placeholders.postcode));
  add(/(?<![\w-])(?:D|F|CH|A|B|L|NL)-\d{4,5}(?!\d)/g, 'postcode', 'postcode-country', 48, () => placeholders.postcode);
  add(/\b[A-Z]{2}\s+\d{5}(?:-\d{4})?\b/g, 'postcode', 'postcode-us', 48, (m) => (/^(?:CT|MR|US|PT|NM|CR|DX|XA|RF|MG|HU)\s/.test(m[0]) ? undefined : placeholders.postcode));
  add(/\b(?:GIR\s?0AA|[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2})\b/g, 'postcode', 'postcode-uk', 48, () => placeholders.postcode);

  // ID- and MRN-like numbers without a label.
  add(/(?<![\d.,/-])\d{6,}(?![\d]|[.,]\d)/g, 'id', 'long-number', 50, () => placeholders.id);
  add(/(?<![\p{L}\d])(?=[A-Z\d-]*\d{5})[A-Z]{1,4}-?\d{5,}[A-Z\d]*(?![\p{L}\d])/gu, 'id', 'alphanumeric-id', 50, () => placeholders.id);
  add(/(?<![\p{L}\d])\d{5,}[A-Z]{1,3}(?![\p{L}\d])/gu, 'id', 'alphanumeric-id', 50, () => placeholders.id);

  // Institutions: capitalised words before or after the kind of place.
  add(new RegExp(String.raw`(?<![\p{L}])(?:(?:St\.?|Saint|Sainte|Mount|Mt\.?)\s+)?(?:${cap}\s+){1,4}(?:Hospital|Medical\s+Cent(?:er|re)|Clinic|Infirmary|Health\s+(?:System|Cent(?:er|re))|Imaging\s+Cent(?:er|re)|Radiology\s+(?:Associates|Group|Practice)|Klinikum|Klinik|Krankenhaus|Spital|Praxis|Clinique|Hôpital|Hopital|Centre\s+Hospitalier)(?![\p{L}])`, 'gu'), 'institution', 'institution-suffix', 55, (m) => (/^(?:The|In|At|From|To|Our|This|Der|Die|Das|Im|Am|Zum|Zur|Le|La|Au|À)\s+(?:Hospital|Clinic|Klinik|Praxis)$/i.test(m[0]) ? undefined : placeholders.institution));
  add(new RegExp(String.raw`(?<![\p{L}])(?:Universitätsklinikum|Uniklinikum|Klinikum|Krankenhaus|Kreiskrankenhaus|Hôpital|Hopital|Clinique|CHU|CHRU|Centre\s+Hospitalier(?:\s+Universitaire)?|Hospital|Clinic)\s+(?:(?:de|du|des|de\s+la|der|am|an\s+der|in|of|St\.?|Saint|Sainte)\s+)?${cap}(?:[\s-]+(?:(?:de|du|des|la|le|der|am|of|and|und)\s+)?${cap}){0,4}`, 'gu'), 'institution', 'institution-prefix', 55, () => placeholders.institution);

  // Names after titles, including lists ("Drs. Smith and Jones", "Dr. A, Dr. B").
  const afterTitle = new RegExp(String.raw`(?<![\p{L}])${titleChain}\s*(${personName}(?:${listGlue}(?:${titleChain}\s*)?${personName})*)`, 'gu');
  addNames(candidates, text, afterTitle, 'title-name');
  // Names after labels ("Signed by: …", "cc: …", "Überweiser: …"), also lists.
  const afterLabel = new RegExp(String.raw`${labelPattern}((?:${titleChain}\s*)?${personName}(?:${listGlue}(?:${titleChain}\s*)?${personName})*)`, 'gu');
  addNames(candidates, text, afterLabel, 'label-name');
  // Relatives named in passing ("his wife Mary", "Tochter Anna").
  const relative = String.raw`(?:wife|husband|partner|son|daughter|mother|father|brother|sister|spouse|guardian|Ehefrau|Ehemann|Frau|Mann|Sohn|Tochter|Mutter|Vater|Bruder|Schwester|Partnerin|épouse|époux|mari|femme|fils|fille|mère|père|frère|sœur|soeur)`;
  addNames(candidates, text, new RegExp(String.raw`(?<![\p{L}])${relative},?\s+(${personName})`, 'gu'), 'relative-name');
  // Names before credentials ("Jane Roe, MD").
  const beforeCredentials = new RegExp(String.raw`(?<![\p{L}])(${nameWord}(?:\s+${nameWord}){0,3}),?\s+(?:MD|M\.D\.|DO|PhD|Ph\.D\.|FRCR|FRCPC|MBBS|FACR|RT\(R\)|RN)(?![\p{L}])`, 'gu');
  addNames(candidates, text, beforeCredentials, 'credential-name');
}

/** Each name of a matched list becomes its own span; glue words and titles stay. */
function addNames(candidates: Candidate[], text: string, regex: RegExp, rule: string): void {
  let m: RegExpExecArray | null;
  const word = new RegExp(nameWord, 'gu');
  while ((m = regex.exec(text))) {
    const list = m[1];
    if (!list) continue;
    const listStart = m.index + m[0].lastIndexOf(list);
    // Split into names at list glue and titles, keep each run of name words.
    const pieces = list.split(new RegExp(String.raw`(${listGlue}|${titleChain}\s*)`, 'u'));
    let offset = listStart;
    for (const piece of pieces) {
      if (piece && !new RegExp(`^(?:${listGlue}|${titleChain}\\s*)$`, 'u').test(piece)) {
        const words = [...piece.matchAll(word)].filter((w) => !notNames.has((w[0] ?? '').toLowerCase().replace(/\.$/, '')));
        const first = words[0];
        const last = words.at(-1);
        const realWords = words.filter((w) => !/^[A-ZÀ-Þ]\.$/u.test(w[0]));
        if (first && last && realWords.length > 0) {
          const start = offset + (first.index ?? 0);
          const end = offset + (last.index ?? 0) + last[0].length;
          candidates.push({ start, end, kind: 'name', rule, replacement: placeholders.name, priority: 60 });
        }
      }
      offset += piece.length;
    }
  }
}

// ---------------------------------------------------------------- the scrubber

const splittable = new Set<PhiKind>(['name', 'address', 'institution']);

function uncovered(start: number, end: number, taken: readonly ScrubSpan[]): { start: number; end: number }[] {
  const pieces: { start: number; end: number }[] = [];
  let at = start;
  for (const t of [...taken].sort((a, b) => a.start - b.start)) {
    if (t.start > at) pieces.push({ start: at, end: Math.min(t.start, end) });
    at = Math.max(at, t.end);
  }
  if (at < end) pieces.push({ start: at, end });
  return pieces;
}

/** The piece without surrounding spaces and punctuation; undefined when no word is left. */
function trimToWords(text: string, start: number, end: number): { start: number; end: number } | undefined {
  let s = start;
  let e = end;
  while (s < e && !/[\p{L}\p{N}]/u.test(text[s] as string)) s++;
  while (e > s && !/[\p{L}\p{N}.]/u.test(text[e - 1] as string)) e--;
  if (e - s < 2 || !/[\p{L}\p{N}]{2}/u.test(text.slice(s, e))) return undefined;
  return { start: s, end: e };
}

export function scrubReport(text: string, known: KnownIdentifiers, replacements: ScrubReplacements): ScrubResult {
  const folded = foldForMatching(text);
  const candidates: Candidate[] = [];

  knownNameCandidates(candidates, text, folded, known.patientNames ?? [], replacements.patientName, 'known-patient-name', 1);
  knownNameCandidates(candidates, text, folded, known.physicianNames ?? [], placeholders.name, 'known-physician-name', 3);
  for (const id of known.accessionNumbers ?? []) {
    const pattern = identifierPattern(id);
    if (pattern) addMatches(candidates, folded, text, pattern, () => ({ kind: 'accession', rule: 'known-accession', replacement: replacements.accessionNumber ?? placeholders.id, priority: 5 }));
  }
  for (const id of known.patientIds ?? []) {
    const pattern = identifierPattern(id);
    if (pattern) addMatches(candidates, folded, text, pattern, () => ({ kind: 'id', rule: 'known-patient-id', replacement: replacements.patientId, priority: 5 }));
  }
  const birthDates = (known.birthDates ?? []).map(parseIsoOrDicomDate).filter((d): d is CalendarDate => d !== undefined);
  if (birthDates.length) {
    for (const order of ['dmy', 'mdy'] as const) {
      for (const mention of findDates(text, { slashOrder: order, referenceYear: replacements.referenceYear })) {
        if (birthDates.some((b) => b.year === mention.date.year && b.month === mention.date.month && b.day === mention.date.day)) {
          candidates.push({ start: mention.start, end: mention.end, kind: 'birth-date', rule: 'known-birth-date', replacement: shiftedOrRemoved(mention, replacements.dateShiftDays), priority: 6 });
        }
      }
    }
  }
  for (const name of known.institutionNames ?? []) {
    const pattern = phrasePattern(name);
    if (pattern) addMatches(candidates, folded, text, pattern, () => ({ kind: 'institution', rule: 'known-institution', replacement: placeholders.institution, priority: 7 }));
  }
  for (const value of known.otherIdentifiers ?? []) {
    const pattern = phrasePattern(value);
    if (pattern) addMatches(candidates, folded, text, pattern, () => ({ kind: 'id', rule: 'known-other', replacement: placeholders.id, priority: 8 }));
  }

  patternCandidates(candidates, text, replacements);

  // Earlier rules win; within a rule the longer span; a character is replaced once.
  candidates.sort((a, b) => a.priority - b.priority || b.end - b.start - (a.end - a.start) || a.start - b.start);
  const chosen: ScrubSpan[] = [];
  for (const c of candidates) {
    if (c.end <= c.start) continue;
    const overlapping = chosen.filter((s) => c.start < s.end && s.start < c.end);
    if (overlapping.length === 0) {
      chosen.push({ start: c.start, end: c.end, kind: c.kind, rule: c.rule, replacement: c.replacement });
      continue;
    }
    // A placeholder span partly taken by an earlier rule ("son Geoffrey Hollis" where
    // "Hollis" is the known patient) still removes what is left of it.
    if (!splittable.has(c.kind) || !Object.values(placeholders).includes(c.replacement as never)) continue;
    for (const piece of uncovered(c.start, c.end, overlapping)) {
      const trimmed = trimToWords(text, piece.start, piece.end);
      if (trimmed) chosen.push({ ...trimmed, kind: c.kind, rule: c.rule, replacement: c.replacement });
    }
  }
  chosen.sort((a, b) => a.start - b.start);

  let out = '';
  let at = 0;
  const counts: Partial<Record<PhiKind, number>> = {};
  for (const span of chosen) {
    out += text.slice(at, span.start) + span.replacement;
    at = span.end;
    counts[span.kind] = (counts[span.kind] ?? 0) + 1;
  }
  out += text.slice(at);
  return { text: out, spans: chosen, counts };
}
