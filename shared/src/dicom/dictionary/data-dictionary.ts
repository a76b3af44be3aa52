import dictionaryJson from './data-dictionary.json' with { type: 'json' };

/** PS3.6 data dictionary: VR and keyword by tag (see generate-dictionary.ts). */
const entries = dictionaryJson.entries as unknown as Record<string, [string, string]>;

const byTag = new Map<number, [string, string]>();
const byKeyword = new Map<string, number>();
for (const [hex, entry] of Object.entries(entries)) {
  const tag = Number.parseInt(hex, 16);
  byTag.set(tag, entry);
  byKeyword.set(entry[1], tag);
}

/** The dictionary entry, folding the repeating groups 50xx (curves) and 60xx (overlays). */
function entryOf(tag: number): [string, string] | undefined {
  const direct = byTag.get(tag);
  if (direct) return direct;
  const group = tag >>> 16;
  if ((group & 0xff00) === 0x5000 || (group & 0xff00) === 0x6000) {
    return byTag.get((((group & 0xff00) << 16) | (tag & 0xffff)) >>> 0);
  }
  return undefined;
}

/**
 * VR of a tag for Implicit VR data sets. Ambiguous dictionary VRs are returned
 * as written in PS3.6 ('US|SS', 'OB|OW'); private creators are LO, group
 * lengths UL, anything unknown UN.
 */
export function dictionaryVr(tag: number): string {
  const entry = entryOf(tag);
  if (entry) return entry[0];
  const group = tag >>> 16;
  const element = tag & 0xffff;
  if (element === 0) return 'UL';
  if (group & 1 && element >= 0x10 && element <= 0xff) return 'LO';
  return 'UN';
}

export function keywordOf(tag: number): string | undefined {
  return entryOf(tag)?.[1];
}

export function tagOfKeyword(keyword: string): number | undefined {
  return byKeyword.get(keyword);
}

/** (gggg,eeee) as 8 upper-case hex digits, the DICOM JSON key form. */
export function tagHex(tag: number): string {
  return (tag >>> 0).toString(16).toUpperCase().padStart(8, '0');
}
