import { isoDate } from './date-shift';
import type { DicomJson } from './dicom-json';
import { numberValue, numberValues, stringValue, stringValues } from './dicom-json-read';
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

/** A multi-valued attribute as the index stores it: null rather than an empty list. */
function listOrNull<T>(list: T[]): T[] | null {
  return list.length > 0 ? list : null;
}

export function indexFields(json: DicomJson, transferSyntaxUid: string, numberOfFrames: number): IndexFields {
  const studyUid = stringValue(json, Tag.StudyInstanceUID) ?? '';
  const seriesUid = stringValue(json, Tag.SeriesInstanceUID) ?? '';
  const modality = stringValue(json, Tag.Modality);
  const bodyPart = stringValue(json, Tag.BodyPartExamined);
  const sopClassUid = stringValue(json, Tag.SOPClassUID) ?? '';
  const pseudonym = stringValue(json, Tag.PatientID) ?? '';
  const age = stringValue(json, Tag.PatientAge);
  return {
    patient: {
      patientId: pseudonym,
      patientName: stringValue(json, Tag.PatientName) ?? pseudonym,
      sex: stringValue(json, Tag.PatientSex),
      age,
      size: numberValue(json, Tag.PatientSize),
      weight: numberValue(json, Tag.PatientWeight),
      birthDate: null,
    },
    study: {
      studyUid,
      studyDate: isoDate(stringValue(json, Tag.StudyDate) ?? undefined) ?? null,
      studyTime: stringValue(json, Tag.StudyTime),
      accessionNumber: stringValue(json, Tag.AccessionNumber),
      studyId: stringValue(json, Tag.StudyID),
      description: stringValue(json, Tag.StudyDescription),
      modalities: modality ? [modality] : [],
      bodyParts: bodyPart ? [bodyPart] : [],
      sopClasses: sopClassUid ? [sopClassUid] : [],
      patientAge: age,
      referringPhysician: stringValue(json, Tag.ReferringPhysicianName),
      attributes: pick(json, studyLevelTags),
    },
    series: {
      seriesUid,
      studyUid,
      modality,
      seriesNumber: numberValue(json, Tag.SeriesNumber),
      description: stringValue(json, Tag.SeriesDescription),
      bodyPart,
      seriesDate: isoDate(stringValue(json, Tag.SeriesDate) ?? undefined) ?? null,
      seriesTime: stringValue(json, Tag.SeriesTime),
      protocolName: stringValue(json, Tag.ProtocolName),
      frameOfReferenceUid: stringValue(json, Tag.FrameOfReferenceUID),
      manufacturer: stringValue(json, Tag.Manufacturer),
      manufacturerModelName: stringValue(json, Tag.ManufacturerModelName),
      attributes: pick(json, seriesLevelTags),
    },
    instance: {
      sopUid: stringValue(json, Tag.SOPInstanceUID) ?? '',
      seriesUid,
      studyUid,
      sopClassUid,
      transferSyntaxUid,
      instanceNumber: numberValue(json, Tag.InstanceNumber),
      numberOfFrames,
      rows: numberValue(json, Tag.Rows),
      columns: numberValue(json, Tag.Columns),
      samplesPerPixel: numberValue(json, Tag.SamplesPerPixel),
      bitsAllocated: numberValue(json, Tag.BitsAllocated),
      bitsStored: numberValue(json, Tag.BitsStored),
      highBit: numberValue(json, Tag.HighBit),
      pixelRepresentation: numberValue(json, Tag.PixelRepresentation),
      photometricInterpretation: stringValue(json, Tag.PhotometricInterpretation),
      windowCenter: listOrNull(numberValues(json, Tag.WindowCenter)),
      windowWidth: listOrNull(numberValues(json, Tag.WindowWidth)),
      rescaleIntercept: numberValue(json, Tag.RescaleIntercept),
      rescaleSlope: numberValue(json, Tag.RescaleSlope),
      sliceThickness: numberValue(json, Tag.SliceThickness),
      sliceLocation: numberValue(json, Tag.SliceLocation),
      imagePositionPatient: listOrNull(numberValues(json, Tag.ImagePositionPatient)),
      imageOrientationPatient: listOrNull(numberValues(json, Tag.ImageOrientationPatient)),
      pixelSpacing: listOrNull(numberValues(json, Tag.PixelSpacing)),
      imageType: listOrNull(stringValues(json, Tag.ImageType)),
      contentDate: isoDate(stringValue(json, Tag.ContentDate) ?? undefined) ?? null,
      contentTime: stringValue(json, 0x00080033),
      acquisitionNumber: numberValue(json, Tag.AcquisitionNumber),
      lossyImageCompression: stringValue(json, Tag.LossyImageCompression),
    },
  };
}
