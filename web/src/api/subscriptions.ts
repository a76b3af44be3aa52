/**
 * Subscriptions (saved searches emailed as digests) and re-identification
 * (the honest-broker call): functions/src/api/{subscriptions,reidentify}.ts,
 * documented in docs/identity.md.
 */
import { api } from './http';

export interface Subscription {
  id: string;
  name: string;
  filter: Record<string, unknown>;
  /** The study browser's query string of the saved search. */
  query: string;
  /** `/studies?…`: the saved search in the study browser. */
  browserPath: string;
  active: boolean;
  inactiveReason: 'paused' | 'unsubscribed' | 'account_disabled' | 'access_removed' | null;
  watchingSince: string;
  lastDigestAt: string | null;
  studiesSent: number;
  createdAt: string;
  updatedAt: string;
}

export const listSubscriptions = (signal?: AbortSignal) => api<{ items: Subscription[] }>('/api/subscriptions', { signal }).then((answer) => answer.items);

export const createSubscription = (name: string, query: string) => api<Subscription>('/api/subscriptions', { method: 'POST', body: { name, query } });

export const updateSubscription = (id: string, change: { name?: string; query?: string; active?: boolean }) =>
  api<Subscription>(`/api/subscriptions/${encodeURIComponent(id)}`, { method: 'PATCH', body: change });

export const deleteSubscription = (id: string) => api<void>(`/api/subscriptions/${encodeURIComponent(id)}`, { method: 'DELETE' });

export type OriginalIdentifiers = Record<string, unknown> | null;

export interface StudyReidentification {
  study: { studyInstanceUID: string; original: OriginalIdentifiers };
  patient: { patientId: string; original: OriginalIdentifiers };
  series: { seriesInstanceUID: string; original: OriginalIdentifiers }[];
  reason: string;
  disclosedAt: string;
}

export interface PatientReidentification {
  patient: { patientId: string; original: OriginalIdentifiers };
  studies: { studyInstanceUID: string }[];
  reason: string;
  disclosedAt: string;
}

export const reidentifyStudy = (studyUid: string, reason: string) =>
  api<StudyReidentification>(`/api/studies/${encodeURIComponent(studyUid)}/reidentify`, { method: 'POST', body: { reason } });

export const reidentifyPatient = (patientId: string, reason: string) =>
  api<PatientReidentification>(`/api/patients/${encodeURIComponent(patientId)}/reidentify`, { method: 'POST', body: { reason } });
