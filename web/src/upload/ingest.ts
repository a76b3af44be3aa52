/**
 * What happened to each file after it reached storage: the ingest status the
 * lake reports per file (`GET /api/uploads/{id}`), joined to the transfer
 * the browser did, and when to stop asking.
 */
import type { IngestState, UploadFileStatus, UploadStatus } from '../api/uploads';
import type { FileProgress } from './engine';

export const settledStates: ReadonlySet<IngestState> = new Set(['accepted', 'duplicate', 'rejected', 'held']);

export function isSettled(state: IngestState): boolean {
  return settledStates.has(state);
}

export const ingestLabels: Record<IngestState, { label: string; color: string }> = {
  waiting: { label: 'waiting for ingest', color: 'gray' },
  processing: { label: 'processing', color: 'blue' },
  accepted: { label: 'accepted', color: 'teal' },
  duplicate: { label: 'already in the lake', color: 'cyan' },
  rejected: { label: 'rejected', color: 'red' },
  held: { label: 'held for review', color: 'yellow' },
};

export interface UploadRow extends FileProgress {
  ingest?: UploadFileStatus;
}

/** Each transferred file with its ingest status, when the lake has one. */
export function joinIngest(files: readonly FileProgress[], statuses: ReadonlyMap<string, UploadStatus>): UploadRow[] {
  const byFile = new Map<string, UploadFileStatus>();
  for (const [uploadId, status] of statuses) for (const file of status.files) byFile.set(`${uploadId}#${file.index}`, file);
  return files.map((file) => {
    const ingest = file.uploadId !== undefined && file.index !== undefined ? byFile.get(`${file.uploadId}#${file.index}`) : undefined;
    return ingest ? { ...file, ingest } : { ...file };
  });
}

/**
 * Uploads still worth asking about: one of their files is still on its way,
 * or sent and not yet settled by ingest.
 */
export function uploadsToWatch(files: readonly FileProgress[], statuses: ReadonlyMap<string, UploadStatus>): string[] {
  const out = new Set<string>();
  const rows = joinIngest(files, statuses);
  for (const row of rows) {
    if (!row.uploadId) continue;
    if (row.state === 'failed' || row.state === 'cancelled') continue;
    if (!row.ingest || !isSettled(row.ingest.state)) out.add(row.uploadId);
  }
  return [...out];
}

export interface IngestSummary {
  accepted: number;
  duplicate: number;
  rejected: number;
  held: number;
  pending: number;
  instancesAccepted: number;
  studies: string[];
}

export function summarizeIngest(rows: readonly UploadRow[]): IngestSummary {
  const summary: IngestSummary = { accepted: 0, duplicate: 0, rejected: 0, held: 0, pending: 0, instancesAccepted: 0, studies: [] };
  const studies = new Set<string>();
  for (const row of rows) {
    const ingest = row.ingest;
    if (!ingest || !isSettled(ingest.state)) {
      if (row.state === 'uploaded' || (ingest && !isSettled(ingest.state))) summary.pending += 1;
      continue;
    }
    summary[ingest.state as 'accepted' | 'duplicate' | 'rejected' | 'held'] += 1;
    summary.instancesAccepted += ingest.instances.accepted;
    for (const study of ingest.studies) studies.add(study);
  }
  summary.studies = [...studies];
  return summary;
}
