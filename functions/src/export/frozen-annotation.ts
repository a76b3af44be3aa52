/**
 * What the frozen list keeps of an annotation SR or SEG (export_items.document),
 * and its JSON in the zip: the DICOM JSON, the annotation set version it
 * is in the lake's history, and that version's measurements (or segments). Rendered at
 * write time from these frozen values only, so every run writes the same.
 */
import type { AnnotationDocument as Measurements } from '@medlake/shared/annotations/annotation-document';
import { documentFromSr, isMeasurementReport } from '@medlake/shared/annotations/annotation-document';
import type { SegmentationDocument } from '@medlake/shared/annotations/segmentation-document';
import { isSegmentation, isSegmentationDocument, segmentationDocument } from '@medlake/shared/annotations/segmentation-document';
import type { DicomJson } from '@medlake/shared/dicom/dicom-json';
import type { AnnotationSetVersion } from '@medlake/shared/export/sr-observations';
import { annotationDocument } from '@medlake/shared/export/sr-observations';

export interface FrozenAnnotation {
  sr: DicomJson;
  set: AnnotationSetVersion | null;
  /** The version's JSON: measurements of an SR, or the segments of a SEG. */
  measurements: Measurements | SegmentationDocument | null;
}

export function annotationJson(frozen: FrozenAnnotation): string {
  // A SEG: its segments, from the version or read from itself.
  if (isSegmentationDocument(frozen.measurements) || isSegmentation(frozen.sr)) {
    const segmentation = isSegmentationDocument(frozen.measurements) ? frozen.measurements : segmentationDocument(frozen.sr);
    return `${JSON.stringify(annotationDocument(frozen.sr, { set: frozen.set, measurements: null, segmentation }), null, 2)}\n`;
  }
  // An SR that is no version in the annotation history (e.g. uploaded with its images): its measurements read from itself.
  const measurements = frozen.measurements ?? (isMeasurementReport(frozen.sr) ? documentFromSr(frozen.sr) : null);
  return `${JSON.stringify(annotationDocument(frozen.sr, { set: frozen.set, measurements }), null, 2)}\n`;
}
