/**
 * Sizes for people to read. Limits, archives and DICOM files are counted in
 * binary units (KiB, MiB, GiB: what S3 part sizes and the settings use); the
 * web pages speak decimal units (KB, MB), as browsers and operating systems
 * show file sizes.
 */

export interface ByteSizeStyle {
  /** `binary` (default): 1.5 MiB, 2 GiB, 512 bytes. `decimal`: 1.5 MB, 52 MB, 999 B. */
  units?: 'binary' | 'decimal';
}

const binaryUnits = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'] as const;
const decimalUnits = ['B', 'KB', 'MB', 'GB', 'TB'] as const;

/** "1.5 MiB", "64 GiB" (whole values without a fraction); decimal: "1.5 KB", "52 MB". "–" for no size. */
export function formatBytes(bytes: number, style: ByteSizeStyle = {}): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '–';
  const decimal = style.units === 'decimal';
  const units = decimal ? decimalUnits : binaryUnits;
  const step = decimal ? 1000 : 1024;
  let value = bytes;
  let unit = 0;
  while (value >= step && unit < units.length - 1) {
    value /= step;
    unit += 1;
  }
  let shown: string;
  if (unit === 0) shown = String(Math.round(value));
  // Decimal: three significant figures are plenty for a page; binary: exact when whole, else one decimal.
  else if (decimal) shown = value.toFixed(value < 10 ? 1 : 0);
  else shown = Number.isInteger(value) ? String(value) : value.toFixed(1);
  return `${shown} ${units[unit]}`;
}
