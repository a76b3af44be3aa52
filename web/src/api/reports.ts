/** De-identified reports of studies (functions/src/api/reports.ts). */
import { ApiError, api } from './http';

export interface ReportVersionSummary {
  version: number;
  createdAt: string;
  source: string;
  author: string | null;
  reason: string | null;
  /** How many values of each kind the scrubber replaced (names, dates, phone numbers, ...). */
  replaced: Record<string, number>;
}

export interface ReportVersion extends ReportVersionSummary {
  studyInstanceUID: string;
  text: string;
  latest: boolean;
}

const reportPath = (study: string) => `/api/studies/${encodeURIComponent(study)}/report`;

/** The current report, or a given version; null when the study has none. */
export async function fetchReport(study: string, version?: number, signal?: AbortSignal): Promise<ReportVersion | null> {
  try {
    return await api<ReportVersion>(version ? `${reportPath(study)}/versions/${version}` : reportPath(study), { signal });
  } catch (error) {
    if (error instanceof ApiError && error.status === 404 && error.code === 'report_not_found') return null;
    throw error;
  }
}

export const fetchReportVersions = (study: string, signal?: AbortSignal) =>
  api<{ studyInstanceUID: string; versions: ReportVersionSummary[] }>(`${reportPath(study)}/versions`, { signal }).then((answer) => answer.versions);

/** A new version (scrubbed by the lake before it is stored). */
export const saveReport = (study: string, text: string, reason?: string) => api<ReportVersion & { unchanged: boolean }>(reportPath(study), { method: 'PUT', body: { text, reason: reason || undefined } });

export interface ReportHit {
  studyInstanceUID: string;
  version: number;
  score: number;
  /** The report around the matches; `match` segments are the matched words (typo-tolerant). */
  highlights: { text: string; match: boolean }[];
}

export const searchReports = (q: string, limit: number, signal?: AbortSignal) =>
  api<{ query: string; total: number; items: ReportHit[] }>('/api/reports/search', { query: { q, limit }, signal });
