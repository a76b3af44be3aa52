/**
 * The identifiers a scrubber must look for, gathered from the original
 * records kept for a study (the PHI vault's patient and study records, or
 * the original header at ingest) and from what the uploader gave with the
 * report. Records are read by key names (DICOM keywords in any letter case),
 * so a new identifying attribute in the vault is picked up by its name.
 */
import type { KnownIdentifiers } from './scrub-report';

type Bucket = keyof KnownIdentifiers;

function bucketOf(key: string): Bucket | undefined {
  const k = key.toLowerCase();
  if (k === 'studyuid' || k.endsWith('uid') || k === 'dateshiftdays' || k.includes('sex') || k.includes('age') || k.includes('size') || k.includes('weight')) return undefined;
  if (k.includes('birthdate') || k === 'dob') return 'birthDates';
  if (k === 'patientname' || k === 'otherpatientnames' || k === 'patientbirthname' || k === 'patientmothersbirthname' || k === 'responsibleperson') return 'patientNames';
  if (k.includes('physician') || k.includes('operator') || k.includes('performer') || k.includes('readingname') || k.includes('personname') || k.endsWith('name') && !k.includes('institution') && !k.includes('station')) return 'physicianNames';
  if (k.includes('accession')) return 'accessionNumbers';
  if (k === 'patientid' || k === 'otherpatientids' || k.includes('medicalrecord') || k.includes('insurance')) return 'patientIds';
  if (k === 'institutionname' || k.includes('institutionname') || k.includes('department')) return 'institutionNames';
  if (k.includes('address') || k.includes('telephone') || k.includes('station') || k.includes('institution')) return 'otherIdentifiers';
  return undefined;
}

function strings(value: unknown): string[] {
  if (typeof value === 'string') return value.split('\\').map((v) => v.trim()).filter(Boolean);
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value && typeof value === 'object') {
    // DICOM JSON PN objects ({ Alphabetic: "Doe^John" }) and similar.
    return Object.values(value as Record<string, unknown>).flatMap(strings);
  }
  return [];
}

export function knownIdentifiersFrom(records: readonly (Record<string, unknown> | undefined)[]): KnownIdentifiers {
  const known: Record<Bucket, string[]> = { patientNames: [], patientIds: [], accessionNumbers: [], birthDates: [], physicianNames: [], institutionNames: [], otherIdentifiers: [] };
  for (const record of records) {
    if (!record) continue;
    for (const [key, value] of Object.entries(record)) {
      const bucket = bucketOf(key);
      if (bucket) known[bucket].push(...strings(value));
    }
  }
  const unique = (list: string[]) => [...new Set(list)];
  return {
    patientNames: unique(known.patientNames),
    patientIds: unique(known.patientIds),
    accessionNumbers: unique(known.accessionNumbers),
    birthDates: unique(known.birthDates),
    physicianNames: unique(known.physicianNames),
    institutionNames: unique(known.institutionNames),
    otherIdentifiers: unique(known.otherIdentifiers),
  };
}
