/**
 * DICOM JSON (PS3.18 Annex F) values for QIDO-RS answers: the stored,
 * de-identified attributes of each level, plus what only the index knows
 * (ModalitiesInStudy, related counts, RetrieveURL, InstanceAvailability).
 */
export interface DicomElement {
  vr: string;
  Value?: unknown[];
  BulkDataURI?: string;
  InlineBinary?: string;
}

export type DicomJson = Record<string, DicomElement>;

/** PS3.18 Table 6.7.1-2: study attributes returned by default. */
export const studyDefaultTags = [
  '00080005', '00080020', '00080030', '00080050', '00080056', '00080061', '00080090', '00080201', '00081190',
  '00100010', '00100020', '00100030', '00100040', '0020000D', '00200010', '00201206', '00201208',
];

/** PS3.18 Table 6.7.1-2a (+ SeriesDate/SeriesTime, which viewers list). */
export const seriesDefaultTags = [
  '00080005', '00080021', '00080031', '00080060', '00080201', '0008103E', '00081190', '0020000E', '00200011', '00201209',
  '00400244', '00400245', '00400275',
];

/** PS3.18 Table 6.7.1-2b. */
export const instanceDefaultTags = [
  '00080005', '00080016', '00080018', '00080056', '00080201', '00081190', '00200013', '00280008', '00280010', '00280011', '00280100',
];

export function str(vr: string, value: string | null | undefined): DicomElement {
  return value === null || value === undefined || value === '' ? { vr } : { vr, Value: [value] };
}

export function num(vr: string, value: number | null | undefined): DicomElement {
  return value === null || value === undefined ? { vr } : { vr, Value: [value] };
}

export function personName(value: string | null | undefined): DicomElement {
  return value ? { vr: 'PN', Value: [{ Alphabetic: value }] } : { vr: 'PN' };
}

/** A date column (Date or ISO text) as DA. */
export function dicomDate(value: Date | string | null | undefined): DicomElement {
  if (!value) return { vr: 'DA' };
  const iso = value instanceof Date ? `${value.getFullYear()}-${String(value.getMonth() + 1).padStart(2, '0')}-${String(value.getDate()).padStart(2, '0')}` : value;
  return { vr: 'DA', Value: [iso.replace(/-/g, '').slice(0, 8)] };
}

/**
 * Picks the wanted tags from the stored attributes, letting `computed`
 * values win (they come from the index and are always current). `all`
 * returns every stored attribute.
 */
export function pick(stored: DicomJson | null | undefined, computed: DicomJson, tags: readonly string[] | 'all'): DicomJson {
  const out: DicomJson = {};
  const source = stored ?? {};
  if (tags === 'all') {
    Object.assign(out, source, computed);
  } else {
    for (const tag of tags) {
      const value = computed[tag] ?? source[tag];
      if (value) out[tag] = value;
    }
  }
  return sortTags(out);
}

export function sortTags(json: DicomJson): DicomJson {
  const sorted: DicomJson = {};
  for (const tag of Object.keys(json).sort()) sorted[tag] = json[tag] as DicomElement;
  return sorted;
}
