/** Studies, series and patients (functions/src/api/studies.ts). */
import type { StudyFilter } from '@medlake/shared/query/study-filter';
import { maxStudyLimit, studyFilterToSearchParams } from '@medlake/shared/query/study-filter';
import { api } from './http';
import type { StudyDetail, StudyPage } from './types';

export const searchStudies = (filter: StudyFilter, signal?: AbortSignal) => api<StudyPage>('/api/studies', { query: studyFilterToSearchParams(filter), signal });

export const fetchStudy = (studyInstanceUID: string, signal?: AbortSignal) => api<StudyDetail>(`/api/studies/${encodeURIComponent(studyInstanceUID)}`, { signal });

/** A patient's timeline: all their studies, newest first (up to the API's page maximum). */
export const fetchPatientStudies = (patientId: string, signal?: AbortSignal) =>
  api<StudyPage>(`/api/patients/${encodeURIComponent(patientId)}/studies`, { query: { limit: maxStudyLimit, order: 'desc' }, signal });

const dicomwebPath = (...parts: string[]) => `/dicomweb/${parts.map(encodeURIComponent).join('/')}`;

export const seriesThumbnailUrl = (study: string, series: string) => `${dicomwebPath('studies', study, 'series', series)}/thumbnail`;

export const viewerUrl = (study: string) => `/viewer/viewer?StudyInstanceUIDs=${encodeURIComponent(study)}`;
