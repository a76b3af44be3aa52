/**
 * DICOM attributes by keyword or tag, from the PS3.6 data dictionary of the
 * DICOM core. Tags are written the DICOM JSON way: 8 upper-case hex digits
 * (`00100010`).
 */
import { dictionaryVr, keywordOf, tagOfKeyword } from '../dicom/dictionary/data-dictionary';

export interface AttributeDefinition {
  tag: string;
  keyword: string;
  vr: string;
}

/** A keyword (`PatientName`) or hex tag (`00100010`, any case) → its definition; undefined if unknown. */
export function lookupAttribute(keywordOrTag: string): AttributeDefinition | undefined {
  const tag = /^[0-9A-Fa-f]{8}$/.test(keywordOrTag) ? Number.parseInt(keywordOrTag, 16) : tagOfKeyword(keywordOrTag);
  if (tag === undefined) return undefined;
  const keyword = keywordOf(tag);
  if (!keyword) return undefined;
  // Ambiguous VRs (US|SS, OB|OW) match as their first form.
  return { tag: tag.toString(16).toUpperCase().padStart(8, '0'), keyword, vr: dictionaryVr(tag).split('|')[0] as string };
}
