/** Cohort exports (functions/src/api/exports.ts, docs/exports.md). */
import { api } from './http';

export type ExportState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled' | 'expired';
export type ExportLayout = 'patient/study/series' | 'study';
export type ExportCompression = 'store' | 'deflate';

export interface ExportOptions {
  reports: boolean;
  annotations: boolean;
  labels: boolean;
  layout: ExportLayout;
  compression: ExportCompression;
  maxSizeBytes?: number | null;
}

export interface ExportEstimate {
  studies: number;
  instances: number;
  reports: number;
  annotations: number;
  bytes: number;
}

export interface ExportRecord {
  exportId: string;
  name: string | null;
  owner: string;
  state: ExportState;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  selection: { filter: Record<string, unknown> | null; filterQuery: string | null; studies?: string[]; studyCount?: number };
  options: ExportOptions;
  estimate: ExportEstimate;
  progress: { percent: number; files: number; totalFiles: number | null; bytes: number; totalBytes: number | null } | null;
  runs: number;
  zip: { bytes: number; files: number } | null;
  errors: { code: string; message: string; path?: string }[];
  failure: { code: string; message: string } | null;
  download: { href: string; fileName: string; sizeBytes: number; expiresAt: string } | null;
  rerunOf: string | null;
}

export interface NewExport {
  name?: string;
  /** The study browser's query string (`modality=CT&dateFrom=…`); "" exports every study. */
  filter?: string;
  studies?: string[];
  options: Partial<ExportOptions>;
}

export const createExport = (request: NewExport) => api<ExportRecord>('/api/exports', { method: 'POST', body: request });

export const listExports = (options: { before?: string; limit?: number } = {}, signal?: AbortSignal) =>
  api<{ items: ExportRecord[]; next?: string }>('/api/exports', { query: { before: options.before, limit: options.limit }, signal });

export const cancelExport = (id: string) => api<unknown>(`/api/exports/${encodeURIComponent(id)}`, { method: 'DELETE' });

export const rerunExport = (id: string) => api<ExportRecord>(`/api/exports/${encodeURIComponent(id)}/rerun`, { method: 'POST' });

/** The stable download address: it signs a fresh storage link each time it is followed. */
export const downloadHref = (id: string) => `/api/exports/${encodeURIComponent(id)}/download`;

export const isActiveExport = (state: ExportState) => state === 'queued' || state === 'running';
