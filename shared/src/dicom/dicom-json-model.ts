/**
 * The DICOM JSON model (PS3.18 F.2): attributes by tag ('0020000D'), each
 * with its VR and values. Types only, so code that merely reads DICOM JSON
 * (the web app included) does not pull in the writer (./dicom-json.ts).
 */
export interface DicomJsonPersonName {
  Alphabetic?: string;
  Ideographic?: string;
  Phonetic?: string;
}
export interface DicomJsonAttribute {
  vr: string;
  Value?: Array<string | number | DicomJsonPersonName | DicomJson | null>;
  InlineBinary?: string;
  BulkDataURI?: string;
}
export type DicomJson = Record<string, DicomJsonAttribute>;
