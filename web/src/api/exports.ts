/** Cohort exports (functions/src/api/exports.ts, docs/exports.md). */
import type { ExportOptions, ExportState } from '@medlake/shared/export/export-options';
import type { ExportView } from '@medlake/shared/export/export-view';
import { api } from './http';

export type { ExportCompression, ExportLayout, ExportState } from '@medlake/shared/export/export-options';
export type { ExportView } from '@medlake/shared/export/export-view';

export interface NewExport {
  name?: string;
  /** The study browser's query string (`modality=CT&dateFrom=…`); "" exports every study. */
  filter?: string;
  studies?: string[];
  options: Partial<ExportOptions>;
}

export const createExport = (request: NewExport) => api<ExportView>('/api/exports', { method: 'POST', body: request });

export const listExports = (options: { before?: string; limit?: number } = {}, signal?: AbortSignal) =>
  api<{ items: ExportView[]; next?: string }>('/api/exports', { query: { before: options.before, limit: options.limit }, signal });

export const cancelExport = (id: string) => api<unknown>(`/api/exports/${encodeURIComponent(id)}`, { method: 'DELETE' });

export const rerunExport = (id: string) => api<ExportView>(`/api/exports/${encodeURIComponent(id)}/rerun`, { method: 'POST' });

/** The stable download address: it signs a fresh storage link each time it is followed. */
export const downloadHref = (id: string) => `/api/exports/${encodeURIComponent(id)}/download`;

export const isActiveExport = (state: ExportState) => state === 'queued' || state === 'running';
