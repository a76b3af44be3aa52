/** The DICOM core: parse, de-identify, UIDs, pseudonyms, date shift, frame offsets. */
export { deidentifyPart10, deidentificationMethod, type DeidContext, type DeidentifiedInstance, type OriginalIdentifiers } from './deidentify-part10';
export { DicomRejection, isDicomRejection, type DicomRejectionCode } from './rejection';
export { defaultDeidOptions, parseDeidOptions, resolveDeidOptions, type DeidOptions } from './options';
export { parsePart10, looksLikeDicom, isZip, type ParsedPart10 } from './parse-part10';
export { remapUid, isStandardUid } from './uid';
export { patientPseudonym, accessionPseudonym, dateShiftDays, sourceUidHash } from './pseudonym';
export type { IndexFields, PatientIndexFields, StudyIndexFields, SeriesIndexFields, InstanceIndexFields } from './index-fields';
export type { DicomJson, DicomJsonAttribute, DicomJsonPersonName } from './dicom-json';
export type { ByteRange } from './frames';
export { burnedInProneSopClasses } from './burned-in';
