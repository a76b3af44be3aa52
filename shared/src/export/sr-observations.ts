/**
 * An annotation SR as JSON a researcher can read without a DICOM toolkit:
 * the document's identity and flags; the annotation set and version it is
 * in the lake (name, version, author, time, message), when it is one; its
 * measurements in the lake's annotation model (shared/src/annotations, the
 * same JSON the annotation API answers) for TID 1500 measurement reports; its
 * whole content tree flattened into observations (each with the path of
 * concept names from the document title down, its value, UCUM unit or code,
 * and the images it refers to), whatever its template; and the SR's own
 * DICOM JSON (PS3.18 F.2), complete. Tags by PS3.3 C.17.3 (SR Document
 * Content) and C.18 (content item macros).
 */
import type { AnnotationDocument as Measurements } from '../annotations/annotation-document';
import type { SegmentationDocument } from '../annotations/segmentation-document';
import type { DicomJson } from '../dicom/dicom-json';
import { numberValues, sequenceItems, stringValue } from '../dicom/dicom-json-read';

const tags = {
  sopClassUid: '00080016',
  sopInstanceUid: '00080018',
  studyInstanceUid: '0020000D',
  seriesInstanceUid: '0020000E',
  contentDate: '00080023',
  contentTime: '00080033',
  completionFlag: '0040A491',
  verificationFlag: '0040A493',
  conceptNameCodeSequence: '0040A043',
  contentSequence: '0040A730',
  relationshipType: '0040A010',
  valueType: '0040A040',
  codeValue: '00080100',
  codingSchemeDesignator: '00080102',
  codeMeaning: '00080104',
  textValue: '0040A160',
  measuredValueSequence: '0040A300',
  numericValue: '0040A30A',
  measurementUnitsCodeSequence: '004008EA',
  conceptCodeSequence: '0040A168',
  dateTime: '0040A120',
  date: '0040A121',
  time: '0040A122',
  personName: '0040A123',
  uid: '0040A124',
  referencedSopSequence: '00081199',
  referencedSopClassUid: '00081150',
  referencedSopInstanceUid: '00081155',
  referencedFrameNumber: '00081160',
  graphicType: '00700023',
  graphicData: '00700022',
  referencedFrameOfReferenceUid: '30060024',
} as const;

/** Deeper trees than this are cut off (a malformed or hostile SR must not recurse without end). */
const maxDepth = 64;

export interface CodedConcept {
  code: string | null;
  scheme: string | null;
  meaning: string | null;
}

export interface SrReference {
  sopClassUID: string | null;
  sopInstanceUID: string | null;
  frames?: number[];
}

export interface SrObservation {
  /** Concept names from the document title down to this item. */
  path: string[];
  relationship: string | null;
  valueType: string;
  value?: string | number | null;
  unit?: CodedConcept;
  code?: CodedConcept;
  references?: SrReference[];
  graphicType?: string;
  graphicData?: number[];
  frameOfReferenceUID?: string;
}

/** The annotation set version an SR instance is, in the lake's annotation history. */
export interface AnnotationSetVersion {
  setId: string;
  name: string;
  version: number;
  /** The set's latest version when the export was frozen. */
  current: boolean;
  parentVersion: number | null;
  author: string | null;
  createdAt: string;
  message: string | null;
}

export interface AnnotationDocument {
  sopInstanceUID: string | null;
  seriesInstanceUID: string | null;
  studyInstanceUID: string | null;
  sopClassUID: string | null;
  title: string | null;
  contentDate: string | null;
  contentTime: string | null;
  completionFlag: string | null;
  verificationFlag: string | null;
  annotationSet?: AnnotationSetVersion | null;
  measurements?: Measurements['measurements'] | null;
  /** A segmentation (SEG): its segments, referenced images and frame count. */
  segmentation?: SegmentationDocument;
  observations: SrObservation[];
  dicom: DicomJson;
}

function concept(dataset: DicomJson | undefined): CodedConcept | undefined {
  if (!dataset) return undefined;
  return { code: stringValue(dataset, tags.codeValue), scheme: stringValue(dataset, tags.codingSchemeDesignator), meaning: stringValue(dataset, tags.codeMeaning) };
}

function observation(item: DicomJson, path: string[]): SrObservation {
  const valueType = stringValue(item, tags.valueType) ?? 'UNKNOWN';
  const out: SrObservation = { path, relationship: stringValue(item, tags.relationshipType), valueType };
  switch (valueType) {
    case 'TEXT':
      out.value = stringValue(item, tags.textValue);
      break;
    case 'NUM': {
      const measured = sequenceItems(item, tags.measuredValueSequence)[0];
      const raw = measured ? stringValue(measured, tags.numericValue) : null;
      out.value = raw === null ? null : Number.isFinite(Number(raw)) ? Number(raw) : raw;
      const unit = concept(measured ? sequenceItems(measured, tags.measurementUnitsCodeSequence)[0] : undefined);
      if (unit) out.unit = unit;
      break;
    }
    case 'CODE': {
      const code = concept(sequenceItems(item, tags.conceptCodeSequence)[0]);
      if (code) out.code = code;
      break;
    }
    case 'DATETIME':
      out.value = stringValue(item, tags.dateTime);
      break;
    case 'DATE':
      out.value = stringValue(item, tags.date);
      break;
    case 'TIME':
      out.value = stringValue(item, tags.time);
      break;
    case 'PNAME':
      out.value = stringValue(item, tags.personName);
      break;
    case 'UIDREF':
      out.value = stringValue(item, tags.uid);
      break;
    case 'SCOORD':
    case 'SCOORD3D': {
      const graphicType = stringValue(item, tags.graphicType);
      if (graphicType) out.graphicType = graphicType;
      out.graphicData = numberValues(item, tags.graphicData);
      const frame = stringValue(item, tags.referencedFrameOfReferenceUid);
      if (frame) out.frameOfReferenceUID = frame;
      break;
    }
    default:
      break;
  }
  const references = sequenceItems(item, tags.referencedSopSequence).map((ref): SrReference => {
    const frames = numberValues(ref, tags.referencedFrameNumber);
    return { sopClassUID: stringValue(ref, tags.referencedSopClassUid), sopInstanceUID: stringValue(ref, tags.referencedSopInstanceUid), ...(frames.length ? { frames } : {}) };
  });
  if (references.length) out.references = references;
  return out;
}

function walk(container: DicomJson, path: string[], depth: number, out: SrObservation[]): void {
  if (depth > maxDepth) return;
  for (const item of sequenceItems(container, tags.contentSequence)) {
    const name = concept(sequenceItems(item, tags.conceptNameCodeSequence)[0])?.meaning ?? '';
    const itemPath = [...path, name];
    if (stringValue(item, tags.valueType) !== 'CONTAINER') out.push(observation(item, itemPath));
    walk(item, itemPath, depth + 1, out);
  }
}

/** The SR's observations, depth first in document order. */
export function srObservations(sr: DicomJson): SrObservation[] {
  const title = concept(sequenceItems(sr, tags.conceptNameCodeSequence)[0])?.meaning ?? '';
  const out: SrObservation[] = [];
  walk(sr, [title], 0, out);
  return out;
}

/**
 * The JSON of an annotation SR in an export. `set` and `measurements` come
 * from the lake's annotation history when the SR is a version there (or
 * measurements read from the SR itself, for a measurement report that came
 * another way); null when neither applies.
 */
export function annotationDocument(sr: DicomJson, extra?: { set: AnnotationSetVersion | null; measurements: Measurements | null; segmentation?: SegmentationDocument }): AnnotationDocument {
  return {
    sopInstanceUID: stringValue(sr, tags.sopInstanceUid),
    seriesInstanceUID: stringValue(sr, tags.seriesInstanceUid),
    studyInstanceUID: stringValue(sr, tags.studyInstanceUid),
    sopClassUID: stringValue(sr, tags.sopClassUid),
    title: concept(sequenceItems(sr, tags.conceptNameCodeSequence)[0])?.meaning ?? null,
    contentDate: stringValue(sr, tags.contentDate),
    contentTime: stringValue(sr, tags.contentTime),
    completionFlag: stringValue(sr, tags.completionFlag),
    verificationFlag: stringValue(sr, tags.verificationFlag),
    ...(extra ? { annotationSet: extra.set, measurements: extra.measurements?.measurements ?? null } : {}),
    ...(extra?.segmentation ? { segmentation: extra.segmentation, title: extra.segmentation.title } : {}),
    observations: srObservations(sr),
    dicom: sr,
  };
}
