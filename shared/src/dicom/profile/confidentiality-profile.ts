import tableE11 from './ps315-table-e1-1.json' with { type: 'json' };
import type { DeidOptions } from '../options';

/**
 * PS3.15 Table E.1-1 (2024b) as data, resolved for an option set. See
 * ps315-table-e1-1.json for its sources and cross-checks.
 *
 * How a cell becomes one action:
 * - An enabled option's cell (Retain Longitudinal Temporal Information with
 *   Modified Dates, Retain Patient Characteristics, Clean Descriptors, Retain
 *   Safe Private) replaces the Basic Profile cell. When two enabled options
 *   both have a cell, C (clean) wins over K (keep): the stricter one.
 * - Combined Basic Profile codes mean "the first one unless the IOD needs a
 *   later one" (Type 3 → X, Type 2 → Z, Type 1 → D). Without per-IOD
 *   attribute types at hand, they resolve to the stricter action unless the
 *   attribute is listed below as needing a value in an IOD medlake ingests
 *   (PS3.3):
 *     X/Z    → X, or Z for `emptyRequired`
 *     X/D    → X, or D for `dummyRequired`
 *     X/Z/D  → X, or Z for `emptyRequired`, or D for `dummyRequired`
 *     Z/D    → Z, or D for `dummyRequired`
 *     X/Z/U* → U  (the sequence is kept with every instance UID inside
 *                  remapped, so source and referenced images stay linked)
 *   `dummyRequired` (Type 1): Patient ID (Patient module; it becomes the
 *   pseudonym), Device Serial Number (Enhanced General Equipment), Content
 *   Date/Time (SR Document General, Enhanced images) and Acquisition DateTime
 *   (Enhanced CT/MR/XA images).
 *   `emptyRequired` (Type 2 or 2C): Acquisition Context Sequence (Acquisition
 *   Context module), Patient's Sex Neutered (Patient module, animals),
 *   Reviewer Name (Approval module), Treatment Machine Name (RT Beams).
 *   The dates among them are C anyway under the Modified Dates option.
 */

export type ProfileAction = 'X' | 'Z' | 'D' | 'K' | 'C' | 'U';
export type ProfileOption = 'retainLongitudinalModifiedDates' | 'retainPatientCharacteristics' | 'cleanDescriptors' | 'retainSafePrivate';

export interface ProfileRule {
  action: ProfileAction;
  /** The cell the action came from, e.g. 'X/Z/D' (basic) or 'C' (an option). */
  cell: string;
  /** The option whose column decided, if any. */
  option?: ProfileOption;
  keyword: string | null;
  /** Set for the wildcard rows: curves (50xx), overlays (60xx) and private attributes. */
  wildcard?: 'curve' | 'overlay-data' | 'overlay-comments' | 'private';
}

interface TableRow {
  tag: string;
  tag_hex: string | null;
  pattern: string | null;
  keyword: string | null;
  basic: string;
  rtn_safe_priv: string | null;
  rtn_pat_chars: string | null;
  rtn_long_modif_dates: string | null;
  clean_desc: string | null;
}

const rows = (tableE11 as { attributes: TableRow[] }).attributes;

export const profileEdition = (tableE11 as { standard_edition: string }).standard_edition;

const dummyRequired = new Set<number>([0x00100020, 0x00181000, 0x00080023, 0x00080033, 0x0008002a]);
const emptyRequired = new Set<number>([0x00400555, 0x00102203, 0x300e0008, 0x300a00b2]);

const optionColumns: Array<[ProfileOption, keyof TableRow]> = [
  ['retainLongitudinalModifiedDates', 'rtn_long_modif_dates'],
  ['retainPatientCharacteristics', 'rtn_pat_chars'],
  ['cleanDescriptors', 'clean_desc'],
  ['retainSafePrivate', 'rtn_safe_priv'],
];

export function resolveBasicCell(cell: string, tag: number): ProfileAction {
  switch (cell) {
    case 'X': case 'Z': case 'D': case 'K': case 'C': case 'U':
      return cell;
    case 'X/Z': return emptyRequired.has(tag) ? 'Z' : 'X';
    case 'X/D': return dummyRequired.has(tag) ? 'D' : 'X';
    case 'Z/D': return dummyRequired.has(tag) ? 'D' : 'Z';
    case 'X/Z/D': return dummyRequired.has(tag) ? 'D' : emptyRequired.has(tag) ? 'Z' : 'X';
    case 'X/Z/U*': return 'U';
    default:
      throw new Error(`Unknown action code ${cell} in Table E.1-1`);
  }
}

function ruleOf(row: TableRow, tag: number, options: DeidOptions): ProfileRule {
  let chosen: { cell: string; option: ProfileOption } | undefined;
  for (const [option, column] of optionColumns) {
    const cell = row[column];
    if (!options[option] || typeof cell !== 'string') continue;
    if (!chosen || (cell === 'C' && chosen.cell === 'K')) chosen = { cell, option };
  }
  if (chosen) return { action: resolveBasicCell(chosen.cell, tag), cell: chosen.cell, option: chosen.option, keyword: row.keyword };
  return { action: resolveBasicCell(row.basic, tag), cell: row.basic, keyword: row.keyword };
}

const wildcardKinds: Record<string, ProfileRule['wildcard']> = {
  '^50[0-9A-F]{2}[0-9A-F]{4}$': 'curve',
  '^60[0-9A-F]{2}3000$': 'overlay-data',
  '^60[0-9A-F]{2}4000$': 'overlay-comments',
  '^[0-9A-F]{3}[13579BDF][0-9A-F]{4}$': 'private',
};

/** The profile for one option set: exact rows in a map, wildcard rows as the table's regular expressions. */
export class ConfidentialityProfile {
  private readonly exact = new Map<number, ProfileRule>();
  private readonly wildcards: Array<{ pattern: RegExp; rule: ProfileRule }> = [];
  private readonly cache = new Map<number, ProfileRule | null>();

  constructor(readonly options: DeidOptions) {
    for (const row of rows) {
      if (row.tag_hex) {
        const tag = Number.parseInt(row.tag_hex, 16);
        this.exact.set(tag, ruleOf(row, tag, options));
      } else if (row.pattern) {
        const wildcard = wildcardKinds[row.pattern];
        if (!wildcard) throw new Error(`Unexpected wildcard row ${row.tag} in Table E.1-1`);
        this.wildcards.push({ pattern: new RegExp(row.pattern), rule: { ...ruleOf(row, 0, options), wildcard } });
      }
    }
  }

  /** The rule for a tag, or undefined when Table E.1-1 does not list it. */
  ruleFor(tag: number): ProfileRule | undefined {
    const cached = this.cache.get(tag);
    if (cached !== undefined) return cached ?? undefined;
    let rule = this.exact.get(tag);
    if (!rule) {
      const hex = (tag >>> 0).toString(16).toUpperCase().padStart(8, '0');
      rule = this.wildcards.find((candidate) => candidate.pattern.test(hex))?.rule;
    }
    this.cache.set(tag, rule ?? null);
    return rule;
  }
}

const profiles = new Map<string, ConfidentialityProfile>();

/** One resolved profile per distinct option set, built once per process. */
export function confidentialityProfile(options: DeidOptions): ConfidentialityProfile {
  const key = JSON.stringify([options.retainLongitudinalModifiedDates, options.retainPatientCharacteristics, options.cleanDescriptors, options.retainSafePrivate]);
  let profile = profiles.get(key);
  if (!profile) {
    profile = new ConfidentialityProfile(options);
    profiles.set(key, profile);
  }
  return profile;
}
