/**
 * What the frozen list keeps of an annotation SR (export_items.document),
 * and its JSON in the zip: the SR's DICOM JSON, the annotation set version it
 * is in the lake's history, and that version's measurements. Rendered at
 * write time from these frozen values only, so every run writes the same.
 */
import type { AnnotationDocument as Measurements } from '@medlake/shared/annotations/annotation-document';
import { documentFromSr, isMeasurementReport } from '@medlake/shared/annotations/annotation-document';
import type { DicomJson } from '@medlake/shared/dicom/dicom-json';
import type { AnnotationSetVersion } from '@medlake/shared/export/sr-observations';
import { annotationDocument } from '@medlake/shared/export/sr-observations';

export interface FrozenAnnotation {
  sr: DicomJson;
  set: AnnotationSetVersion | null;
  measurements: Measurements | null;
}

export function annotationJson(frozen: FrozenAnnotation): string {
  // An SR that is no version in the annotation history (e.g. uploaded with its images): its measurements read from itself.
  const measurements = frozen.measurements ?? (isMeasurementReport(frozen.sr) ? documentFromSr(frozen.sr) : null);
  return `${JSON.stringify(annotationDocument(frozen.sr, { set: frozen.set, measurements }), null, 2)}\n`;
}
