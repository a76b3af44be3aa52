/** How study attributes read in the worklist. */

/** DICOM Age String (`045Y`, `006M`, `003W`, `010D`) as people say it. */
export function formatAge(age: string | null | undefined): string {
  if (!age) return '–';
  const match = /^(\d{1,3})([DWMY])$/.exec(age.trim().toUpperCase());
  if (!match) return age;
  const value = Number(match[1]);
  const unit = { D: 'd', W: 'wk', M: 'mo', Y: 'y' }[match[2] as 'D' | 'W' | 'M' | 'Y'];
  return `${value} ${unit}`;
}

const sexes: Record<string, string> = { F: 'Female', M: 'Male', O: 'Other' };

export function formatSex(sex: string | null | undefined, short = false): string {
  if (!sex) return '–';
  const key = sex.toUpperCase();
  return short ? key : (sexes[key] ?? sex);
}

/** A study date (`YYYY-MM-DD` or DICOM `YYYYMMDD`) as `YYYY-MM-DD`. */
export function formatStudyDate(date: string | null | undefined): string {
  if (!date) return '–';
  const compact = /^(\d{4})(\d{2})(\d{2})$/.exec(date);
  if (compact) return `${compact[1]}-${compact[2]}-${compact[3]}`;
  return date.slice(0, 10);
}

/** DICOM TM (`HHMMSS.frac`) or `HH:MM:SS` as `HH:MM`. */
export function formatStudyTime(time: string | null | undefined): string {
  if (!time) return '';
  const compact = /^(\d{2})(\d{2})/.exec(time);
  if (compact) return `${compact[1]}:${compact[2]}`;
  const colon = /^(\d{2}):(\d{2})/.exec(time);
  return colon ? `${colon[1]}:${colon[2]}` : '';
}

/** A pseudonym is long; the worklist shows its start, the tooltip all of it. */
export function shortId(id: string, length = 12): string {
  return id.length > length + 1 ? `${id.slice(0, length)}…` : id;
}

/** Common modalities offered in the filter (any other can still come from a link). */
export const modalityOptions = ['CT', 'MR', 'PT', 'NM', 'US', 'CR', 'DX', 'MG', 'XA', 'RF', 'OT', 'SR', 'SEG', 'RTSTRUCT', 'PR', 'KO'] as const;

export const bodyPartSuggestions = ['HEAD', 'BRAIN', 'NECK', 'CHEST', 'LUNG', 'HEART', 'ABDOMEN', 'PELVIS', 'SPINE', 'CSPINE', 'TSPINE', 'LSPINE', 'BREAST', 'KNEE', 'HIP', 'SHOULDER', 'EXTREMITY', 'WHOLEBODY'] as const;
