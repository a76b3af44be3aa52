/** User administration and the audit log (admin role). */
import { api } from './http';
import type { AuditPage, PoolUser, Role, UserState } from './types';

export const listUsers = (state?: UserState) => api<{ users: PoolUser[] }>('/api/users', { query: { state } }).then((answer) => answer.users);

const userPath = (username: string) => `/api/users/${encodeURIComponent(username)}`;

export const approveUser = (username: string, groups: Role[]) => api<PoolUser>(`${userPath(username)}/approve`, { method: 'POST', body: { groups } });

export const setUserGroups = (username: string, groups: Role[]) => api<PoolUser>(`${userPath(username)}/groups`, { method: 'PUT', body: { groups } });

export const disableUser = (username: string) => api<PoolUser>(`${userPath(username)}/disable`, { method: 'POST' });

export const enableUser = (username: string) => api<PoolUser>(`${userPath(username)}/enable`, { method: 'POST' });

export interface AuditFilter {
  actor?: string;
  action?: string;
  resource?: string;
  since?: string;
  until?: string;
  limit?: number;
  before?: number;
}

export const fetchAudit = (filter: AuditFilter, signal?: AbortSignal) => api<AuditPage>('/api/audit', { query: { ...filter }, signal });
