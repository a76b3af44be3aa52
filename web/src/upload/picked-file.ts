/** A file the user gave, with where it was inside what they picked; and its identity across page loads. */

export interface PickedFile {
  file: File;
  /** Where the file was inside what the user picked, e.g. `CT/series1/IM0001`. */
  path: string;
}

/** A stable identity of a picked file across page loads (for resuming). */
export function fileFingerprint(file: { name: string; size: number; lastModified: number }, path: string): string {
  return `${path}|${file.size}|${file.lastModified}`;
}
