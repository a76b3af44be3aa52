/**
 * A held instance as the review of held instances shows it (the API's
 * `GET /api/held` items, the web app's "Held for review" page): its
 * de-identified attributes only, never the upload's file names or anything
 * of the PHI vault.
 */

export const heldStates = ['waiting', 'released', 'discarded', 'all'] as const;
export type HeldState = Exclude<(typeof heldStates)[number], 'all'>;

export interface HeldView {
  sopInstanceUID: string;
  studyInstanceUID: string | null;
  seriesInstanceUID: string | null;
  uploadId: string | null;
  fileIndex: number | null;
  /** Why it was held (the burned-in annotation rule that applied). */
  reason: string;
  heldAt: string;
  state: HeldState;
  decidedAt: string | null;
  decidedBy: string | null;
  decisionReason: string | null;
  sizeBytes: number | null;
  frames: number;
  attributes: HeldAttributes;
  /** The rendered image (`GET`, PNG or JPEG), or null when it cannot be rendered (no pixels, or a compressed syntax no decoder here reads). */
  preview: string | null;
}

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

