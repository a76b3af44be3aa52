/**
 * DICOM attributes by keyword or tag, from dcmjs's data dictionary (PS3.6).
 * Tags are written the DICOM JSON way: 8 upper-case hex digits (`00100010`).
 */
import { dictionary } from 'dcmjs/dictionary';

export interface AttributeDefinition {
  tag: string;
  keyword: string;
  vr: string;
}

let byKeyword: Map<string, AttributeDefinition> | undefined;
let byTag: Map<string, AttributeDefinition> | undefined;

function load(): void {
  byKeyword = new Map();
  byTag = new Map();
  for (const entry of Object.values(dictionary)) {
    // Public attributes only: "(gggg,eeee)"; ranges like (60xx,0010) and private tags are skipped.
    const m = /^\(([0-9A-Fa-f]{4}),([0-9A-Fa-f]{4})\)$/.exec(entry.tag);
    if (!m || entry.version === 'PrivateTag' || !entry.name || entry.name === 'Unknown') continue;
    const definition = { tag: `${m[1]}${m[2]}`.toUpperCase(), keyword: entry.name, vr: entry.vr.split(/\s*or\s*|\|/)[0] ?? entry.vr };
    if (!byKeyword.has(definition.keyword)) byKeyword.set(definition.keyword, definition);
    if (!byTag.has(definition.tag)) byTag.set(definition.tag, definition);
  }
}

/** A keyword (`PatientName`) or hex tag (`00100010`, any case) → its definition; undefined if unknown. */
export function lookupAttribute(keywordOrTag: string): AttributeDefinition | undefined {
  if (!byKeyword || !byTag) load();
  if (/^[0-9A-Fa-f]{8}$/.test(keywordOrTag)) {
    return byTag?.get(keywordOrTag.toUpperCase());
  }
  return byKeyword?.get(keywordOrTag);
}
