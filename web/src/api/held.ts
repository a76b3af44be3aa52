/** Instances held for review (admin, `held:review`): the list, the preview, release and discard. */
import { api } from './http';

export type HeldState = 'waiting' | 'released' | 'discarded';

/** De-identified attributes of a held instance (what the review page may show). */
export interface HeldAttributes {
  sopClassUid: string | null;
  sopClassName: string | null;
  modality: string | null;
  burnedInAnnotation: string | null;
  patientId: string | null;
  patientSex: string | null;
  patientAge: string | null;
  studyDate: string | null;
  studyDescription: string | null;
  seriesDescription: string | null;
  bodyPart: string | null;
  imageType: string[] | null;
  rows: number | null;
  columns: number | null;
  numberOfFrames: number | null;
  photometricInterpretation: string | null;
  transferSyntaxUid: string | null;
}

export interface HeldInstance {
  sopInstanceUID: string;
  studyInstanceUID: string | null;
  seriesInstanceUID: string | null;
  uploadId: string | null;
  fileIndex: number | null;
  reason: string;
  heldAt: string;
  state: HeldState;
  decidedAt: string | null;
  decidedBy: string | null;
  decisionReason: string | null;
  sizeBytes: number | null;
  frames: number;
  attributes: HeldAttributes;
  /** Same-origin path of the rendered image (PNG), or null when it cannot be rendered. */
  preview: string | null;
}

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
