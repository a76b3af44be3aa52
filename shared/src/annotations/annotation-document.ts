/**
 * An annotation version as JSON: the measurements of a TID 1500 "Imaging
 * Measurement Report" (the SR the OHIF viewer saves), read from the SR's
 * DICOM JSON. The same model is what the API accepts to build an SR
 * (sr-content.ts), so a version read back equals what was written.
 *
 * TID 1500 layout, as dcmjs and the Cornerstone adapters write it:
 *   CONTAINER 126000 Imaging Measurement Report
 *     CONTAINER 126010 Imaging Measurements
 *       CONTAINER 125007 Measurement Group            → one Measurement
 *         TEXT   112039 Tracking Identifier           ("Cornerstone3DTools@^0.1.0:Length")
 *         UIDREF 112040 Tracking Unique Identifier
 *         CODE   121071 Finding                       (the label: free text as code CS3DTEXT)
 *         CODE   363698007 Finding Site (0..n)
 *         NUM    <concept> value + UCUM unit          → one MeasuredValue (1..n)
 *           SCOORD / SCOORD3D graphic type + data     (INFERRED FROM)
 *             IMAGE referenced SOP instance (+ frame) (SELECTED FROM)
 */
import type { DicomJson } from '../dicom/dicom-json-model';
import { numberValue, numberValues, sequenceItems, stringValue } from '../dicom/dicom-json-read';

export interface Code {
  value: string;
  scheme: string;
  meaning: string;
}

export interface ImageReference {
  sopInstanceUID: string;
  sopClassUID: string | null;
  /** Frames of a multi-frame image (ReferencedFrameNumber); empty for the whole image. */
  frameNumbers: number[];
}

export const coordinateValueTypes = ['SCOORD', 'SCOORD3D'] as const;
export type CoordinateValueType = (typeof coordinateValueTypes)[number];
/** PS3.3 C.18.6.1.2 (SCOORD) and C.18.9.1.2 (SCOORD3D) graphic types. */
export const graphicTypes = ['POINT', 'MULTIPOINT', 'POLYLINE', 'POLYGON', 'CIRCLE', 'ELLIPSE', 'ELLIPSOID'] as const;
export type GraphicType = (typeof graphicTypes)[number];

export interface Coordinates {
  valueType: CoordinateValueType;
  graphicType: GraphicType;
  /** SCOORD: column/row pairs in image pixels; SCOORD3D: x/y/z triplets in mm of the frame of reference. */
  graphicData: number[];
  /** SCOORD: the image the points are on. */
  image: ImageReference | null;
  /** SCOORD3D: the frame of reference the points are in. */
  frameOfReferenceUID: string | null;
}

export interface MeasuredValue {
  /** What was measured (NUM concept name), e.g. Length, Area, Long Axis, Mean. */
  concept: Code;
  value: number | null;
  /** UCUM code of the unit, e.g. `mm`, `mm2`, `[hnsf'U]`. */
  unit: string | null;
  /** Where it was measured, when this value carries the graphic. */
  coordinates: Coordinates | null;
}

export interface Measurement {
  /** Tracking Unique Identifier: the measurement's identity across versions, when the writer keeps it. */
  trackingUid: string | null;
  /** Tracking Identifier, e.g. `Cornerstone3DTools@^0.1.0:Length`. */
  trackingIdentifier: string | null;
  /** The drawing tool (from the tracking identifier), e.g. Length, EllipticalROI, Bidirectional. */
  tool: string;
  /** The user's label (a free-text or coded finding), if any. */
  label: string | null;
  finding: Code | null;
  findingSites: Code[];
  /** The first measured value and its unit (a Length's length, an ROI's area), null for markers. */
  value: number | null;
  unit: string | null;
  values: MeasuredValue[];
  /** The image the measurement is on (of its first graphic). */
  image: ImageReference | null;
  /** Its first graphic (SCOORD/SCOORD3D type and data). */
  coordinates: Coordinates | null;
}

export interface AnnotationDocument {
  /** The report's name (SeriesDescription, as OHIF asks for it when saving). */
  title: string;
  measurements: Measurement[];
  /** Distinct measurement labels, sorted. */
  labels: string[];
}

/** The SR classes a measurement report is stored as (Enhanced, Comprehensive, Comprehensive 3D). */
export const measurementReportSopClasses = ['1.2.840.10008.5.1.4.1.1.88.22', '1.2.840.10008.5.1.4.1.1.88.33', '1.2.840.10008.5.1.4.1.1.88.34'] as const;

export const concepts = {
  imagingMeasurementReport: { value: '126000', scheme: 'DCM', meaning: 'Imaging Measurement Report' },
  imagingMeasurements: { value: '126010', scheme: 'DCM', meaning: 'Imaging Measurements' },
  measurementGroup: { value: '125007', scheme: 'DCM', meaning: 'Measurement Group' },
  trackingIdentifier: { value: '112039', scheme: 'DCM', meaning: 'Tracking Identifier' },
  trackingUniqueIdentifier: { value: '112040', scheme: 'DCM', meaning: 'Tracking Unique Identifier' },
  finding: { value: '121071', scheme: 'DCM', meaning: 'Finding' },
  findingSite: { value: '363698007', scheme: 'SCT', meaning: 'Finding Site' },
  /** Older writers' Finding Site code. */
  findingSiteOld: { value: 'G-C0E3', scheme: 'SRT', meaning: 'Finding Site' },
} as const satisfies Record<string, Code>;

/** Free-text labels travel as codes of dcmjs' private scheme (CodeMeaning is the text). */
export const freeTextCodeValues = ['CS3DTEXT', 'CORNERSTONEFREETEXT'] as const;
export const freeTextScheme = '99dcmjs';

// Attribute tags used below (PS3.6).
const T = {
  SeriesDescription: '0008103E',
  ContentLabel: '00700080',
  ContentSequence: '0040A730',
  ValueType: '0040A040',
  ConceptNameCodeSequence: '0040A043',
  ConceptCodeSequence: '0040A168',
  CodeValue: '00080100',
  CodingSchemeDesignator: '00080102',
  CodeMeaning: '00080104',
  LongCodeValue: '00080119',
  URNCodeValue: '00080120',
  TextValue: '0040A160',
  UID: '0040A124',
  MeasuredValueSequence: '0040A300',
  NumericValue: '0040A30A',
  MeasurementUnitsCodeSequence: '004008EA',
  GraphicType: '00700023',
  GraphicData: '00700022',
  ReferencedFrameOfReferenceUID: '30060024',
  ReferencedSOPSequence: '00081199',
  ReferencedSOPClassUID: '00081150',
  ReferencedSOPInstanceUID: '00081155',
  ReferencedFrameNumber: '00081160',
  ContentTemplateSequence: '0040A504',
  TemplateIdentifier: '0040DB00',
} as const;

type Item = DicomJson;

/** Code values and labels read trimmed: a leading space of a single-valued text VR survives the DICOM JSON. */
function text(item: Item, tag: string): string | null {
  return stringValue(item, tag)?.trim() || null;
}

function code(item: Item | undefined): Code | null {
  if (!item) return null;
  const value = text(item, T.CodeValue) ?? text(item, T.LongCodeValue) ?? text(item, T.URNCodeValue);
  if (!value) return null;
  return { value, scheme: text(item, T.CodingSchemeDesignator) ?? '', meaning: text(item, T.CodeMeaning) ?? value };
}

function conceptName(item: Item): Code | null {
  return code(sequenceItems(item, T.ConceptNameCodeSequence)[0]);
}

export function sameCode(a: Pick<Code, 'value' | 'scheme'> | null, b: Pick<Code, 'value' | 'scheme'> | null): boolean {
  return !!a && !!b && a.value === b.value && a.scheme === b.scheme;
}

function isConcept(item: Item, wanted: Pick<Code, 'value' | 'scheme'>): boolean {
  return sameCode(conceptName(item), wanted);
}

function children(item: Item): Item[] {
  return sequenceItems(item, T.ContentSequence);
}

/** Is this SR (DICOM JSON) a TID 1500 measurement report? */
export function isMeasurementReport(sr: DicomJson): boolean {
  const template = sequenceItems(sr, T.ContentTemplateSequence)[0];
  if (template && text(template, T.TemplateIdentifier) === '1500') return true;
  return isConcept(sr, concepts.imagingMeasurementReport);
}

/** The report's name: SeriesDescription (OHIF's "report name"), else ContentLabel, else the document title. */
export function reportTitle(sr: DicomJson): string {
  return text(sr, T.SeriesDescription) ?? text(sr, T.ContentLabel) ?? conceptName(sr)?.meaning ?? 'Measurements';
}

function imageReference(imageItem: Item): ImageReference | null {
  const reference = sequenceItems(imageItem, T.ReferencedSOPSequence)[0];
  const sop = reference ? text(reference, T.ReferencedSOPInstanceUID) : null;
  if (!reference || !sop) return null;
  return { sopInstanceUID: sop, sopClassUID: text(reference, T.ReferencedSOPClassUID), frameNumbers: numberValues(reference, T.ReferencedFrameNumber) };
}

function coordinatesOf(item: Item): Coordinates | null {
  const valueType = text(item, T.ValueType);
  if (valueType !== 'SCOORD' && valueType !== 'SCOORD3D') return null;
  const graphicType = (text(item, T.GraphicType) ?? 'POINT').toUpperCase() as GraphicType;
  const image = children(item).find((child) => text(child, T.ValueType) === 'IMAGE');
  return {
    valueType,
    graphicType,
    graphicData: numberValues(item, T.GraphicData),
    image: image ? imageReference(image) : null,
    frameOfReferenceUID: valueType === 'SCOORD3D' ? text(item, T.ReferencedFrameOfReferenceUID) : null,
  };
}

function measuredValue(num: Item): MeasuredValue {
  const measured = sequenceItems(num, T.MeasuredValueSequence)[0];
  const value = measured ? numberValue(measured, T.NumericValue) : null;
  const unit = measured ? code(sequenceItems(measured, T.MeasurementUnitsCodeSequence)[0]) : null;
  const graphic = children(num).map(coordinatesOf).find((c) => c !== null) ?? null;
  return {
    concept: conceptName(num) ?? { value: '', scheme: '', meaning: 'Measurement' },
    value: value !== null && Number.isFinite(value) ? value : null,
    unit: unit?.value ?? null,
    coordinates: graphic,
  };
}

function isFreeText(c: Code | null): boolean {
  return !!c && (freeTextCodeValues as readonly string[]).includes(c.value);
}

/** The tool behind a tracking identifier `Vendor@version:Tool`, else what the first value measures. */
export function toolOf(trackingIdentifier: string | null, values: readonly MeasuredValue[]): string {
  const tail = trackingIdentifier?.includes(':') ? trackingIdentifier.slice(trackingIdentifier.lastIndexOf(':') + 1).trim() : '';
  if (tail) return tail;
  return values[0]?.concept.meaning || values[0]?.coordinates?.graphicType || 'Measurement';
}

function measurementOf(group: Item): Measurement {
  let trackingIdentifier: string | null = null;
  let trackingUid: string | null = null;
  let finding: Code | null = null;
  const findingSites: Code[] = [];
  const values: MeasuredValue[] = [];
  const loose: Coordinates[] = [];
  for (const item of children(group)) {
    const valueType = text(item, T.ValueType);
    if (valueType === 'TEXT' && isConcept(item, concepts.trackingIdentifier)) trackingIdentifier = text(item, T.TextValue);
    else if (valueType === 'UIDREF' && isConcept(item, concepts.trackingUniqueIdentifier)) trackingUid = text(item, T.UID);
    else if (valueType === 'CODE' && isConcept(item, concepts.finding)) finding = code(sequenceItems(item, T.ConceptCodeSequence)[0]);
    else if (valueType === 'CODE' && (isConcept(item, concepts.findingSite) || isConcept(item, concepts.findingSiteOld))) {
      const site = code(sequenceItems(item, T.ConceptCodeSequence)[0]);
      if (site) findingSites.push(site);
    } else if (valueType === 'NUM') values.push(measuredValue(item));
    else {
      const graphic = coordinatesOf(item);
      if (graphic) loose.push(graphic);
    }
  }
  // Some writers put the graphic next to the values instead of below them.
  const firstGraphic = values.map((v) => v.coordinates).find((c) => c !== null) ?? loose[0] ?? null;
  const label = findingSites.find(isFreeText)?.meaning ?? (finding ? finding.meaning : null);
  return {
    trackingUid,
    trackingIdentifier,
    tool: toolOf(trackingIdentifier, values),
    label,
    finding,
    findingSites,
    value: values[0]?.value ?? null,
    unit: values[0]?.unit ?? null,
    values,
    image: firstGraphic?.image ?? null,
    coordinates: firstGraphic,
  };
}

/**
 * The measurements of a TID 1500 SR given as DICOM JSON (as the index stores
 * it). Groups outside "Imaging Measurements" (image library, qualitative
 * evaluations) are not measurements and are left out.
 */
export function documentFromSr(sr: DicomJson): AnnotationDocument {
  const measurementsContainer = children(sr).find((item) => isConcept(item, concepts.imagingMeasurements));
  const groups = measurementsContainer ? children(measurementsContainer).filter((item) => isConcept(item, concepts.measurementGroup)) : [];
  const measurements = groups.map(measurementOf);
  return { title: reportTitle(sr), measurements, labels: labelsOf(measurements) };
}

export function labelsOf(measurements: readonly Pick<Measurement, 'label'>[]): string[] {
  return [...new Set(measurements.map((m) => m.label).filter((l): l is string => !!l))].sort();
}

const PredecessorDocumentsSequence = '0040A360';
const ReferencedSeriesSequence = '00081115';

/** SOP Instance UIDs the SR names as its predecessors (PredecessorDocumentsSequence), in order. */
export function predecessorSopUids(sr: DicomJson): string[] {
  const out: string[] = [];
  for (const study of sequenceItems(sr, PredecessorDocumentsSequence)) {
    for (const series of sequenceItems(study, ReferencedSeriesSequence)) {
      for (const sop of sequenceItems(series, T.ReferencedSOPSequence)) {
        const uid = text(sop, T.ReferencedSOPInstanceUID);
        if (uid) out.push(uid);
      }
    }
  }
  return out;
}
