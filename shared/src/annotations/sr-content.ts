/**
 * A TID 1500 measurement report as a dcmjs "naturalized" data set (keywords,
 * sequences as arrays): the same layout the Cornerstone adapters write when
 * OHIF saves measurements (language, observer, procedure, image library, then
 * Imaging Measurements as the fifth content item), so the viewer loads a
 * version built by the API like one it saved itself. Writing the bytes is the
 * caller's (functions/src/annotations/sr-writer.ts).
 */
import type { Code, Coordinates, ImageReference } from './annotation-document';
import { concepts, freeTextScheme } from './annotation-document';
import type { MeasurementSpec } from './measurement-input';
import { freeTextFinding } from './measurement-input';

export const enhancedSrClass = '1.2.840.10008.5.1.4.1.1.88.22';
export const comprehensive3dSrClass = '1.2.840.10008.5.1.4.1.1.88.34';

export type Naturalized = Record<string, unknown>;

export interface ReportStudy {
  studyInstanceUID: string;
  patientId: string;
  patientName: string;
  patientSex: string | null;
  patientAge: string | null;
  /** DICOM DA (YYYYMMDD) or null. */
  studyDate: string | null;
  studyTime: string | null;
  accessionNumber: string | null;
  studyId: string | null;
  studyDescription: string | null;
}

/** An image the report refers to, as the index knows it. */
export interface ReferencedImage {
  seriesInstanceUID: string;
  sopClassUID: string;
}

export interface MeasurementReportInput {
  title: string;
  measurements: readonly MeasurementSpec[];
  study: ReportStudy;
  sopInstanceUID: string;
  seriesInstanceUID: string;
  seriesNumber: number;
  instanceNumber: number;
  /** Every image the measurements refer to (by SOP Instance UID). */
  images: ReadonlyMap<string, ReferencedImage>;
  /** The report this one replaces (PredecessorDocumentsSequence). */
  predecessor?: { seriesInstanceUID: string; sopInstanceUID: string; sopClassUID: string } | undefined;
  /** When the content was made (ContentDate/ContentTime, UTC). */
  createdAt: Date;
}

const codeItem = (code: Pick<Code, 'value' | 'scheme' | 'meaning'>): Naturalized => ({ CodeValue: code.value, CodingSchemeDesignator: code.scheme, CodeMeaning: code.meaning });

function da(date: Date): string {
  return date.toISOString().slice(0, 10).replace(/-/g, '');
}

function tm(date: Date): string {
  return date.toISOString().slice(11, 19).replace(/:/g, '');
}

function referencedSop(image: ImageReference, images: ReadonlyMap<string, ReferencedImage>): Naturalized {
  const known = images.get(image.sopInstanceUID);
  const item: Naturalized = { ReferencedSOPClassUID: known?.sopClassUID ?? image.sopClassUID ?? '', ReferencedSOPInstanceUID: image.sopInstanceUID };
  if (image.frameNumbers.length > 0) item.ReferencedFrameNumber = image.frameNumbers;
  return item;
}

function graphicItem(coordinates: Coordinates, images: ReadonlyMap<string, ReferencedImage>): Naturalized {
  const item: Naturalized = {
    RelationshipType: 'INFERRED FROM',
    ValueType: coordinates.valueType,
    GraphicType: coordinates.graphicType,
    GraphicData: coordinates.graphicData,
  };
  if (coordinates.valueType === 'SCOORD3D') {
    item.ReferencedFrameOfReferenceUID = coordinates.frameOfReferenceUID;
  } else if (coordinates.image) {
    item.ContentSequence = [{ RelationshipType: 'SELECTED FROM', ValueType: 'IMAGE', ReferencedSOPSequence: [referencedSop(coordinates.image, images)] }];
  }
  return item;
}

function measurementGroup(m: MeasurementSpec, images: ReadonlyMap<string, ReferencedImage>): Naturalized {
  const content: Naturalized[] = [
    { RelationshipType: 'HAS OBS CONTEXT', ValueType: 'TEXT', ConceptNameCodeSequence: [codeItem(concepts.trackingIdentifier)], TextValue: m.trackingIdentifier },
    { RelationshipType: 'HAS OBS CONTEXT', ValueType: 'UIDREF', ConceptNameCodeSequence: [codeItem(concepts.trackingUniqueIdentifier)], UID: m.trackingUid },
  ];
  const finding = m.finding ?? (m.label ? freeTextFinding(m.label) : null);
  if (finding) content.push({ RelationshipType: 'CONTAINS', ValueType: 'CODE', ConceptNameCodeSequence: [codeItem(concepts.finding)], ConceptCodeSequence: [codeItem(finding)] });
  for (const site of m.findingSites) {
    content.push({ RelationshipType: 'CONTAINS', ValueType: 'CODE', ConceptNameCodeSequence: [codeItem(concepts.findingSite)], ConceptCodeSequence: [codeItem(site)] });
  }
  for (const value of m.values) {
    const num: Naturalized = { RelationshipType: 'CONTAINS', ValueType: 'NUM', ConceptNameCodeSequence: [codeItem(value.concept)] };
    if (value.value !== null) {
      const unit = value.unit ?? '1';
      num.MeasuredValueSequence = [{ MeasurementUnitsCodeSequence: [codeItem({ value: unit, scheme: 'UCUM', meaning: unit === '1' ? 'no units' : unit })], NumericValue: value.value }];
    } else {
      num.MeasuredValueSequence = [];
    }
    if (value.coordinates) num.ContentSequence = [graphicItem(value.coordinates, images)];
    content.push(num);
  }
  return { RelationshipType: 'CONTAINS', ValueType: 'CONTAINER', ConceptNameCodeSequence: [codeItem(concepts.measurementGroup)], ContinuityOfContent: 'SEPARATE', ContentSequence: content };
}

function referencedImages(measurements: readonly MeasurementSpec[]): ImageReference[] {
  const seen = new Map<string, ImageReference>();
  for (const m of measurements) {
    for (const v of m.values) {
      const image = v.coordinates?.image;
      if (image && !seen.has(image.sopInstanceUID)) seen.set(image.sopInstanceUID, image);
    }
  }
  return [...seen.values()];
}

/** The report as a naturalized data set (SR Document General, SR Document Content, patient and study modules). */
export function measurementReportDataset(input: MeasurementReportInput): Naturalized {
  const { study, images } = input;
  const is3d = input.measurements.some((m) => m.values.some((v) => v.coordinates?.valueType === 'SCOORD3D'));
  const library = referencedImages(input.measurements);
  const evidence = library.map((image) => ({
    StudyInstanceUID: study.studyInstanceUID,
    ReferencedSeriesSequence: [{ SeriesInstanceUID: images.get(image.sopInstanceUID)?.seriesInstanceUID ?? '', ReferencedSOPSequence: [referencedSop({ ...image, frameNumbers: [] }, images)] }],
  }));
  const dataset: Naturalized = {
    SpecificCharacterSet: 'ISO_IR 192',
    SOPClassUID: is3d ? comprehensive3dSrClass : enhancedSrClass,
    SOPInstanceUID: input.sopInstanceUID,
    StudyInstanceUID: study.studyInstanceUID,
    SeriesInstanceUID: input.seriesInstanceUID,
    Modality: 'SR',
    SeriesNumber: input.seriesNumber,
    InstanceNumber: input.instanceNumber,
    SeriesDescription: input.title,
    PatientID: study.patientId,
    PatientName: study.patientName,
    PatientBirthDate: '',
    PatientSex: study.patientSex ?? '',
    ...(study.patientAge ? { PatientAge: study.patientAge } : {}),
    StudyDate: study.studyDate ?? '',
    StudyTime: study.studyTime ?? '',
    AccessionNumber: study.accessionNumber ?? '',
    StudyID: study.studyId ?? '',
    ReferringPhysicianName: '',
    ...(study.studyDescription ? { StudyDescription: study.studyDescription } : {}),
    Manufacturer: 'medlake',
    ContentDate: da(input.createdAt),
    ContentTime: tm(input.createdAt),
    InstanceCreationDate: da(input.createdAt),
    InstanceCreationTime: tm(input.createdAt),
    ValueType: 'CONTAINER',
    ConceptNameCodeSequence: [codeItem(concepts.imagingMeasurementReport)],
    ContinuityOfContent: 'SEPARATE',
    CompletionFlag: 'COMPLETE',
    VerificationFlag: 'UNVERIFIED',
    ContentTemplateSequence: [{ MappingResource: 'DCMR', TemplateIdentifier: '1500' }],
    CodingSchemeIdentificationSequence: [{ CodingSchemeDesignator: freeTextScheme, CodingSchemeName: 'Codes used for dcmjs', CodingSchemeVersion: '0', CodingSchemeResponsibleOrganization: 'https://github.com/dcmjs-org/dcmjs' }],
    PerformedProcedureCodeSequence: [],
    ReferencedPerformedProcedureStepSequence: [],
    CurrentRequestedProcedureEvidenceSequence: evidence,
    ContentSequence: [
      {
        RelationshipType: 'HAS CONCEPT MOD',
        ValueType: 'CODE',
        ConceptNameCodeSequence: [codeItem({ value: '121049', scheme: 'DCM', meaning: 'Language of Content Item and Descendants' })],
        ConceptCodeSequence: [codeItem({ value: 'en', scheme: 'RFC5646', meaning: 'English' })],
      },
      {
        RelationshipType: 'HAS OBS CONTEXT',
        ValueType: 'CODE',
        ConceptNameCodeSequence: [codeItem({ value: '121005', scheme: 'DCM', meaning: 'Observer Type' })],
        ConceptCodeSequence: [codeItem({ value: '121007', scheme: 'DCM', meaning: 'Device' })],
      },
      {
        RelationshipType: 'HAS CONCEPT MOD',
        ValueType: 'CODE',
        ConceptNameCodeSequence: [codeItem({ value: '121058', scheme: 'DCM', meaning: 'Procedure reported' })],
        ConceptCodeSequence: [codeItem({ value: '363679005', scheme: 'SCT', meaning: 'Imaging procedure' })],
      },
      {
        RelationshipType: 'CONTAINS',
        ValueType: 'CONTAINER',
        ConceptNameCodeSequence: [codeItem({ value: '111028', scheme: 'DCM', meaning: 'Image Library' })],
        ContinuityOfContent: 'SEPARATE',
        ContentSequence: [
          {
            RelationshipType: 'CONTAINS',
            ValueType: 'CONTAINER',
            ConceptNameCodeSequence: [codeItem({ value: '126200', scheme: 'DCM', meaning: 'Image Library Group' })],
            ContinuityOfContent: 'SEPARATE',
            ContentSequence: library.map((image) => ({ RelationshipType: 'CONTAINS', ValueType: 'IMAGE', ReferencedSOPSequence: [referencedSop(image, images)] })),
          },
        ],
      },
      {
        RelationshipType: 'CONTAINS',
        ValueType: 'CONTAINER',
        ConceptNameCodeSequence: [codeItem(concepts.imagingMeasurements)],
        ContinuityOfContent: 'SEPARATE',
        ContentSequence: input.measurements.map((m) => measurementGroup(m, images)),
      },
    ],
  };
  if (input.predecessor) {
    dataset.PredecessorDocumentsSequence = [
      {
        StudyInstanceUID: study.studyInstanceUID,
        ReferencedSeriesSequence: [
          { SeriesInstanceUID: input.predecessor.seriesInstanceUID, ReferencedSOPSequence: [{ ReferencedSOPClassUID: input.predecessor.sopClassUID, ReferencedSOPInstanceUID: input.predecessor.sopInstanceUID }] },
        ],
      },
    ];
  }
  return dataset;
}

/** Every UID the report carries that the builder chose (for the caller to keep them through de-identification). */
export function reportOwnUids(input: Pick<MeasurementReportInput, 'sopInstanceUID' | 'seriesInstanceUID' | 'measurements'>): string[] {
  return [input.sopInstanceUID, input.seriesInstanceUID, ...input.measurements.map((m) => m.trackingUid)];
}
