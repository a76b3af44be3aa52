/** The upload API (functions/src/api/uploads.ts). */
import type { InstanceCounts } from '@medlake/shared/uploads/file-state';
import type { CreatedUpload, FileSpec, PartUrl, UploadApi } from '../upload/engine';
import { api } from './http';

export type IngestState = 'waiting' | 'processing' | 'accepted' | 'duplicate' | 'rejected' | 'held';

export interface UploadFileStatus {
  index: number;
  name: string;
  sizeBytes: number;
  state: IngestState;
  reason?: string;
  instances: InstanceCounts;
  studies: string[];
  updatedAt?: string;
}

export interface UploadTotals {
  files: number;
  waiting: number;
  processing: number;
  accepted: number;
  duplicate: number;
  rejected: number;
  held: number;
  instances: InstanceCounts;
}

export interface UploadStatus {
  uploadId: string;
  createdAt: string;
  expiresAt: string;
  owner: string;
  client: 'web' | 'gateway';
  totals: UploadTotals;
  files: UploadFileStatus[];
}

export interface UploadSummary {
  uploadId: string;
  createdAt: string;
  expiresAt: string;
  owner: string;
  client: 'web' | 'gateway';
  totals: UploadTotals;
}

export const fetchUpload = (uploadId: string, signal?: AbortSignal) => api<UploadStatus>(`/api/uploads/${encodeURIComponent(uploadId)}`, { signal });

export const listUploads = (options: { limit?: number; before?: string; mine?: boolean } = {}, signal?: AbortSignal) =>
  api<{ items: UploadSummary[]; next?: string }>('/api/uploads', { query: { limit: options.limit, before: options.before, mine: options.mine ? 'true' : undefined }, signal });

/** The engine's view of the API. */
export const uploadApi: UploadApi = {
  createUpload: (files: FileSpec[]) => api<CreatedUpload>('/api/uploads', { method: 'POST', body: { files } }),
  partUrls: (uploadId, index, partNumbers) =>
    api<{ parts: PartUrl[] }>(`/api/uploads/${encodeURIComponent(uploadId)}/files/${index}/parts`, { method: 'POST', body: { partNumbers } }).then((answer) => answer.parts),
  completeFile: (uploadId, index, parts) => api<unknown>(`/api/uploads/${encodeURIComponent(uploadId)}/files/${index}/complete`, { method: 'POST', body: { parts } }).then(() => undefined),
};
