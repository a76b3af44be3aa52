/**
 * Why an upload could not be accepted as DICOM. The reason is shown to the
 * uploader: it must never quote a value from the file (PHI).
 */
export type DicomRejectionCode =
  | 'not-dicom'
  | 'truncated'
  | 'malformed'
  | 'unsupported-transfer-syntax'
  | 'missing-attribute'
  | 'pixel-data-mismatch'
  | 'too-deep';

export class DicomRejection extends Error {
  readonly code: DicomRejectionCode;
  readonly reason: string;

  constructor(code: DicomRejectionCode, reason: string) {
    super(`${code}: ${reason}`);
    this.name = 'DicomRejection';
    this.code = code;
    this.reason = reason;
  }
}

export function isDicomRejection(error: unknown): error is DicomRejection {
  return error instanceof DicomRejection;
}
