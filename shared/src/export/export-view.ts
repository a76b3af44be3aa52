/**
 * An export as the API answers it (GET/POST /api/exports, docs/exports.md):
 * the one wire shape the handlers build and the web app reads.
 */
import type { ExportOptions, ExportState } from './export-options';

/** What the export holds, estimated when it is requested. */
export interface ExportEstimate {
  studies: number;
  instances: number;
  reports: number;
  annotations: number;
  bytes: number;
}

export interface ExportView {
  exportId: string;
  name: string | null;
  owner: string;
  state: ExportState;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** `studies` is left out of lists (`studyCount` says how many). */
  selection: { filter: Record<string, unknown> | null; filterQuery: string | null; studies?: string[]; studyCount: number };
  options: ExportOptions;
  estimate: ExportEstimate;
  progress: { percent: number; files: number; totalFiles: number | null; bytes: number; totalBytes: number | null };
  runs: number;
  zip: { bytes: number; files: number } | null;
  errors: { code: string; message: string; path?: string; studyInstanceUID?: string; sopInstanceUID?: string }[];
  failure: { code: string; message: string } | null;
  download: { href: string; fileName: string; sizeBytes: number; expiresAt: string } | null;
  rerunOf: string | null;
}
