/** The shapes the lake's API answers (docs/identity.md and the API contracts). */
import type { Role } from '@medlake/shared/resources';

export type { Role };

export interface Me {
  sub: string;
  username: string;
  email: string | undefined;
  groups: Role[];
  roles: Role[];
  clientId: string;
  isMachine: boolean;
  state: 'pending' | 'active';
  refreshRequired?: boolean;
}

export type UserState = 'unconfirmed' | 'pending' | 'active' | 'disabled';

export interface PoolUser {
  username: string;
  sub: string | undefined;
  email: string | undefined;
  emailVerified: boolean;
  enabled: boolean;
  status: string;
  groups: Role[];
  state: UserState;
  createdAt: string | undefined;
}

export interface AuditRecord {
  id: number;
  at: string;
  actorSub?: string;
  actorName?: string;
  action: string;
  resource?: string;
  outcome: 'ok' | 'denied' | 'failed';
  details: Record<string, unknown>;
  sourceIp?: string;
  correlationId?: string;
}

export interface AuditPage {
  entries: AuditRecord[];
  next: string | null;
}

export interface StudySummary {
  studyInstanceUID: string;
  patientId: string;
  patientSex: string | null;
  patientAge: string | null;
  studyDate: string | null;
  studyTime: string | null;
  accessionNumber: string | null;
  modalities: string[];
  description: string | null;
  bodyParts: string[];
  numSeries: number;
  numInstances: number;
  hasReport: boolean;
  labels: string[];
}

export interface StudyPage {
  total: number;
  items: StudySummary[];
}

export interface SeriesSummary {
  seriesInstanceUID: string;
  modality: string | null;
  seriesNumber: number | null;
  description: string | null;
  bodyPart: string | null;
  numInstances: number;
}

export interface StudyDetail extends StudySummary {
  series: SeriesSummary[];
}
