/** Sign-in, sign-up and the session (docs/identity.md). */
import { api } from './http';
import type { Me } from './types';

export const fetchMe = (signal?: AbortSignal) => api<Me>('/api/me', { signal });

export const signIn = (email: string, password: string) => api<Me>('/api/session', { method: 'POST', body: { email, password }, noRefresh: true });

export const signOut = () => api<void>('/api/session', { method: 'DELETE', noRefresh: true });

export const refresh = () => api<Me>('/api/session/refresh', { method: 'POST', noRefresh: true });

export interface SignUpAnswer {
  state: 'pending' | 'unconfirmed';
  codeSentTo: string | undefined;
  next: string;
}

export const signUp = (email: string, password: string) => api<SignUpAnswer>('/api/auth/sign-up', { method: 'POST', body: { email, password }, noRefresh: true });

export const confirmSignUp = (email: string, code: string) => api<{ state: 'pending'; next: string }>('/api/auth/confirm', { method: 'POST', body: { email, code }, noRefresh: true });

export const resendCode = (email: string) => api<{ codeSentTo: string | undefined }>('/api/auth/resend-code', { method: 'POST', body: { email }, noRefresh: true });

export const forgotPassword = (email: string) => api<{ codeSentTo: string | undefined; next: string }>('/api/auth/forgot-password', { method: 'POST', body: { email }, noRefresh: true });

export const resetPassword = (email: string, code: string, password: string) =>
  api<{ next: string }>('/api/auth/reset-password', { method: 'POST', body: { email, code, password }, noRefresh: true });
