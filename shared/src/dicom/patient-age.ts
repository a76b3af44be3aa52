import { dayNumber } from './date-shift';

/**
 * Patient's Age (AS) at a date, from the birth date: days under a month,
 * months under two years, years after that, as DICOM modalities write it.
 * Undefined when a date is partial or the age would be negative or > 999Y.
 */
export function patientAgeAt(birthDate: string, atDate: string): string | undefined {
  const birth = dayNumber(birthDate);
  const at = dayNumber(atDate);
  if (birth === undefined || at === undefined || at < birth) return undefined;
  const days = at - birth;
  if (days < 31) return `${String(days).padStart(3, '0')}D`;
  const b = new Date(birth * 86_400_000);
  const a = new Date(at * 86_400_000);
  let months = (a.getUTCFullYear() - b.getUTCFullYear()) * 12 + (a.getUTCMonth() - b.getUTCMonth());
  if (a.getUTCDate() < b.getUTCDate()) months -= 1;
  if (months < 24) return `${String(Math.max(months, 1)).padStart(3, '0')}M`;
  const years = Math.floor(months / 12);
  return years > 999 ? undefined : `${String(years).padStart(3, '0')}Y`;
}
