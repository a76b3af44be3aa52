/**
 * Writes data-dictionary.json (tag → [VR, keyword]) from dcmjs's copy of the
 * PS3.6 data dictionary. Run by hand when dcmjs is upgraded:
 *   npx tsx shared/src/dicom/dictionary/generate-dictionary.ts
 * The runtime never imports dcmjs: the parser only needs VRs for Implicit VR
 * files and the DICOM JSON, and a small JSON file loads faster in a Lambda.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface DcmjsEntry { tag: string; vr: string; name: string }

const require = createRequire(import.meta.url);
const dcmjs = require('dcmjs') as { data: { DicomMetaDictionary: { nameMap: Record<string, DcmjsEntry> } } };
// dcmjs does not export its package.json: read it next to the resolved entry point.
const version = (JSON.parse(readFileSync(join(dirname(require.resolve('dcmjs')), '..', 'package.json'), 'utf8')) as { version: string }).version;

// dcmjs spells the ambiguous VRs of PS3.6 with lower-case codes.
const ambiguous: Record<string, string> = { ox: 'OB|OW', xs: 'US|SS', lt: 'US|SS|OW', up: 'UL' };

const entries: Record<string, [string, string]> = {};
for (const entry of Object.values(dcmjs.data.DicomMetaDictionary.nameMap)) {
  if (entry.vr === 'na') continue; // item and delimitation tags
  const hex = entry.tag.replace(/[(),]/g, '').toUpperCase();
  if (!/^[0-9A-F]{8}$/.test(hex)) continue;
  entries[hex] = [ambiguous[entry.vr] ?? entry.vr, entry.name.replace(/^RETIRED_/, '')];
}
const sorted = Object.fromEntries(Object.entries(entries).sort(([a], [b]) => a.localeCompare(b)));
const out = {
  source: `PS3.6 data dictionary as shipped in dcmjs ${version} (DicomMetaDictionary.nameMap); repeating groups 50xx/60xx are stored as 5000/6000; ambiguous VRs written as alternatives (OB|OW, US|SS)`,
  entries: sorted,
};
const here = dirname(fileURLToPath(import.meta.url));
writeFileSync(join(here, 'data-dictionary.json'), JSON.stringify(out).replace(/\],"/g, '],\n"') + '\n');
console.log(`${Object.keys(sorted).length} entries`);
