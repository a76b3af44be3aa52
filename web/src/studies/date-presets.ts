/**
 * The study-date shortcuts of the worklist (today, last 7 days, …). A preset
 * is written into the URL as fixed dates (`dateFrom`/`dateTo`), so a shared
 * link shows the same studies tomorrow; the control shows which preset the
 * current dates match.
 *
 * Study dates in the lake are shifted per patient by de-identification, so
 * "today" means today on the shifted calendar the lake shows everywhere.
 */

export const datePresets = ['any', 'today', '7d', '30d', '1y', 'custom'] as const;
export type DatePreset = (typeof datePresets)[number];

export const datePresetLabels: Record<DatePreset, string> = { any: 'Any date', today: 'Today', '7d': '7 days', '30d': '30 days', '1y': '1 year', custom: 'Custom' };

/** `YYYY-MM-DD` of a local calendar day. */
export function isoDay(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

function daysBefore(today: Date, days: number): Date {
  return new Date(today.getFullYear(), today.getMonth(), today.getDate() - days);
}

/** The date range of a preset, counted back from `today` (both ends inclusive). */
export function presetRange(preset: Exclude<DatePreset, 'custom'>, today: Date): { dateFrom?: string; dateTo?: string } {
  switch (preset) {
    case 'any':
      return {};
    case 'today':
      return { dateFrom: isoDay(today), dateTo: isoDay(today) };
    case '7d':
      return { dateFrom: isoDay(daysBefore(today, 6)), dateTo: isoDay(today) };
    case '30d':
      return { dateFrom: isoDay(daysBefore(today, 29)), dateTo: isoDay(today) };
    case '1y': {
      // The day after the same date last year (29 February falls back to the 28th).
      const lastDayOfMonth = new Date(today.getFullYear() - 1, today.getMonth() + 1, 0).getDate();
      const yearAgo = new Date(today.getFullYear() - 1, today.getMonth(), Math.min(today.getDate(), lastDayOfMonth));
      return { dateFrom: isoDay(daysBefore(yearAgo, -1)), dateTo: isoDay(today) };
    }
  }
}

/** Which preset a date range is, or `custom`. */
export function matchingPreset(range: { dateFrom?: string; dateTo?: string }, today: Date): DatePreset {
  for (const preset of ['any', 'today', '7d', '30d', '1y'] as const) {
    const candidate = presetRange(preset, today);
    if (candidate.dateFrom === range.dateFrom && candidate.dateTo === range.dateTo) return preset;
  }
  return 'custom';
}
