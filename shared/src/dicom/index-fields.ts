import { isoDate } from './date-shift';
import type { DicomJson, DicomJsonPersonName } from './dicom-json';
import { tagHex } from './dictionary/data-dictionary';
import { Tag } from './tags';

/** What the index (patients, studies, series, instances tables) needs, all de-identified. */
export interface PatientIndexFields {
  /** The pseudonym (also the Patient ID and Patient's Name written in the file). */
  patientId: string;
  patientName: string;
  sex: string | null;
  /** Patient's Age at the study (AS, e.g. "063Y"), retained or computed from the birth date. */
  age: string | null;
  /** Patient's Size in metres and Weight in kilograms. */
  size: number | null;
  weight: number | null;
  /** Always null: the birth date is removed by the profile. */
  birthDate: null;
}

export interface StudyIndexFields {
  studyUid: string;
  /** Shifted, YYYY-MM-DD (PostgreSQL date) or null. */
  studyDate: string | null;
  /** As in the file (HHMMSS.FFFFFF); times are not shifted. */
  studyTime: string | null;
  /** Keyed pseudonym of the original accession number (never the original), or null. */
  accessionNumber: string | null;
  /** Study ID is emptied by the profile (Z): always null. */
  studyId: string | null;
  description: string | null;
  modalities: string[];
  bodyParts: string[];
  sopClasses: string[];
  patientAge: string | null;
  /** Referring Physician's Name is emptied by the profile: always null. */
  referringPhysician: string | null;
  /** Study-level attributes (patient and study modules) as DICOM JSON, for QIDO and the study row. */
  attributes: DicomJson;
}

export interface SeriesIndexFields {
  seriesUid: string;
  studyUid: string;
  modality: string | null;
  seriesNumber: number | null;
  description: string | null;
  bodyPart: string | null;
  /** Shifted, YYYY-MM-DD or null. */
  seriesDate: string | null;
  seriesTime: string | null;
  protocolName: string | null;
  frameOfReferenceUid: string | null;
  manufacturer: string | null;
  manufacturerModelName: string | null;
  /** Series-level attributes as DICOM JSON. */
  attributes: DicomJson;
}

export interface InstanceIndexFields {
  sopUid: string;
  seriesUid: string;
  studyUid: string;
  sopClassUid: string;
  transferSyntaxUid: string;
  instanceNumber: number | null;
  numberOfFrames: number;
  rows: number | null;
  columns: number | null;
  samplesPerPixel: number | null;
  bitsAllocated: number | null;
  bitsStored: number | null;
  highBit: number | null;
  pixelRepresentation: number | null;
  photometricInterpretation: string | null;
  windowCenter: number[] | null;
  windowWidth: number[] | null;
  rescaleIntercept: number | null;
  rescaleSlope: number | null;
  sliceThickness: number | null;
  sliceLocation: number | null;
  imagePositionPatient: number[] | null;
  imageOrientationPatient: number[] | null;
  pixelSpacing: number[] | null;
  imageType: string[] | null;
  /** Shifted, YYYY-MM-DD or null. */
  contentDate: string | null;
  contentTime: string | null;
  acquisitionNumber: number | null;
  lossyImageCompression: string | null;
}

export interface IndexFields {
  patient: PatientIndexFields;
  study: StudyIndexFields;
  series: SeriesIndexFields;
  instance: InstanceIndexFields;
}

/** Study-level tags (Patient, General Study, Patient Study modules) copied into studies.attributes. */
const studyLevelTags = [
  Tag.SpecificCharacterSet, Tag.StudyDate, Tag.StudyTime, Tag.AccessionNumber, Tag.ReferringPhysicianName, Tag.StudyDescription,
  Tag.PatientName, Tag.PatientID, Tag.PatientBirthDate, Tag.PatientSex, Tag.PatientAge, Tag.PatientSize, Tag.PatientWeight,
  Tag.PatientIdentityRemoved, Tag.DeidentificationMethod, Tag.DeidentificationMethodCodeSequence,
  Tag.StudyInstanceUID, Tag.StudyID, Tag.LongitudinalTemporalInformationModified,
];
const seriesLevelTags = [
  Tag.SpecificCharacterSet, Tag.SeriesDate, Tag.SeriesTime, Tag.Modality, Tag.Manufacturer, Tag.SeriesDescription, Tag.ManufacturerModelName,
  Tag.BodyPartExamined, Tag.ProtocolName, Tag.SeriesInstanceUID, Tag.SeriesNumber, Tag.FrameOfReferenceUID,
  0x00180015, 0x00185100, // BodyPartExamined, PatientPosition
];

function pick(json: DicomJson, tags: readonly number[]): DicomJson {
  const out: DicomJson = {};
  for (const tag of [...new Set(tags)].sort((a, b) => a - b)) {
    const attribute = json[tagHex(tag)];
    if (attribute) out[tagHex(tag)] = attribute;
  }
  return out;
}

function values(json: DicomJson, tag: number): unknown[] {
  return json[tagHex(tag)]?.Value ?? [];
}

function string(json: DicomJson, tag: number): string | null {
  const first = values(json, tag)[0];
  if (typeof first === 'string') return first === '' ? null : first;
  if (typeof first === 'number') return String(first);
  if (first && typeof first === 'object' && 'Alphabetic' in first) return (first as DicomJsonPersonName).Alphabetic ?? null;
  return null;
}

function number(json: DicomJson, tag: number): number | null {
  const first = values(json, tag)[0];
  return typeof first === 'number' ? first : null;
}

function numbers(json: DicomJson, tag: number): number[] | null {
  const list = values(json, tag).filter((value): value is number => typeof value === 'number');
  return list.length > 0 ? list : null;
}

function strings(json: DicomJson, tag: number): string[] | null {
  const list = values(json, tag).filter((value): value is string => typeof value === 'string');
  return list.length > 0 ? list : null;
}

export function indexFields(json: DicomJson, transferSyntaxUid: string, numberOfFrames: number): IndexFields {
  const studyUid = string(json, Tag.StudyInstanceUID) ?? '';
  const seriesUid = string(json, Tag.SeriesInstanceUID) ?? '';
  const modality = string(json, Tag.Modality);
  const bodyPart = string(json, Tag.BodyPartExamined);
  const sopClassUid = string(json, Tag.SOPClassUID) ?? '';
  const pseudonym = string(json, Tag.PatientID) ?? '';
  const age = string(json, Tag.PatientAge);
  return {
    patient: {
      patientId: pseudonym,
      patientName: string(json, Tag.PatientName) ?? pseudonym,
      sex: string(json, Tag.PatientSex),
      age,
      size: number(json, Tag.PatientSize),
      weight: number(json, Tag.PatientWeight),
      birthDate: null,
    },
    study: {
      studyUid,
      studyDate: isoDate(string(json, Tag.StudyDate) ?? undefined) ?? null,
      studyTime: string(json, Tag.StudyTime),
      accessionNumber: string(json, Tag.AccessionNumber),
      studyId: string(json, Tag.StudyID),
      description: string(json, Tag.StudyDescription),
      modalities: modality ? [modality] : [],
      bodyParts: bodyPart ? [bodyPart] : [],
      sopClasses: sopClassUid ? [sopClassUid] : [],
      patientAge: age,
      referringPhysician: string(json, Tag.ReferringPhysicianName),
      attributes: pick(json, studyLevelTags),
    },
    series: {
      seriesUid,
      studyUid,
      modality,
      seriesNumber: number(json, Tag.SeriesNumber),
      description: string(json, Tag.SeriesDescription),
      bodyPart,
      seriesDate: isoDate(string(json, Tag.SeriesDate) ?? undefined) ?? null,
      seriesTime: string(json, Tag.SeriesTime),
      protocolName: string(json, Tag.ProtocolName),
      frameOfReferenceUid: string(json, Tag.FrameOfReferenceUID),
      manufacturer: string(json, Tag.Manufacturer),
      manufacturerModelName: string(json, Tag.ManufacturerModelName),
      attributes: pick(json, seriesLevelTags),
    },
    instance: {
      sopUid: string(json, Tag.SOPInstanceUID) ?? '',
      seriesUid,
      studyUid,
      sopClassUid,
      transferSyntaxUid,
      instanceNumber: number(json, Tag.InstanceNumber),
      numberOfFrames,
      rows: number(json, Tag.Rows),
      columns: number(json, Tag.Columns),
      samplesPerPixel: number(json, Tag.SamplesPerPixel),
      bitsAllocated: number(json, Tag.BitsAllocated),
      bitsStored: number(json, Tag.BitsStored),
      highBit: number(json, Tag.HighBit),
      pixelRepresentation: number(json, Tag.PixelRepresentation),
      photometricInterpretation: string(json, Tag.PhotometricInterpretation),
      windowCenter: numbers(json, Tag.WindowCenter),
      windowWidth: numbers(json, Tag.WindowWidth),
      rescaleIntercept: number(json, Tag.RescaleIntercept),
      rescaleSlope: number(json, Tag.RescaleSlope),
      sliceThickness: number(json, Tag.SliceThickness),
      sliceLocation: number(json, Tag.SliceLocation),
      imagePositionPatient: numbers(json, Tag.ImagePositionPatient),
      imageOrientationPatient: numbers(json, Tag.ImageOrientationPatient),
      pixelSpacing: numbers(json, Tag.PixelSpacing),
      imageType: strings(json, Tag.ImageType),
      contentDate: isoDate(string(json, Tag.ContentDate) ?? undefined) ?? null,
      contentTime: string(json, 0x00080033),
      acquisitionNumber: number(json, Tag.AcquisitionNumber),
      lossyImageCompression: string(json, Tag.LossyImageCompression),
    },
  };
}
