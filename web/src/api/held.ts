/** Instances held for review (admin, `held:review`): the list, the preview, release and discard. */
import type { HeldState, HeldView } from '@medlake/shared/uploads/held-instance';
import { api } from './http';

export type { HeldAttributes, HeldState } from '@medlake/shared/uploads/held-instance';
/** A held instance: its de-identified attributes, its state, and `preview`, the same-origin path of its rendered image (PNG) or null. */
export type HeldInstance = HeldView;

export interface HeldPage {
  total: number;
  reasons: { reason: string; count: number }[];
  items: HeldInstance[];
  next?: string;
}

export interface HeldFilter {
  state: HeldState | 'all';
  upload?: string | undefined;
  reason?: string | undefined;
}

export const listHeld = (filter: HeldFilter, before: string | undefined, signal?: AbortSignal) =>
  api<HeldPage>('/api/held', { query: { state: filter.state, upload: filter.upload, reason: filter.reason, before, limit: 24 }, signal });

export type HeldDecision = 'release' | 'discard';

export const decideHeld = (sop: string, decision: HeldDecision, reason: string) =>
  api<HeldInstance & { outcome: string }>(`/api/held/${encodeURIComponent(sop)}/${decision}`, { method: 'POST', body: { reason } });
