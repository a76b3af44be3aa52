import { burnedInHoldReason } from './burned-in';
import { requiresPixelData } from './image-sop-classes';
import { type CharacterSet, characterSetFor } from './character-set';
import { type DicomElement, findElement } from './dataset';
import { type DatasetDeidentifier as Deidentifier, DatasetDeidentifier, type OutDataset, type OutElement, textValue } from './deidentify-dataset';
import { type DicomJson, datasetToJson } from './dicom-json';
import { type ByteRange, frameLayout } from './frames';
import { type IndexFields, indexFields } from './index-fields';
import { type DeidOptions, resolveDeidOptions } from './options';
import { parsePart10 } from './parse-part10';
import { patientAgeAt } from './patient-age';
import { profileEdition } from './profile/confidentiality-profile';
import { dateShiftDays, patientPseudonym, sourceUidHash, studyScopedPatientPseudonym } from './pseudonym';
import { DicomRejection } from './rejection';
import { Tag } from './tags';
import { TransferSyntaxUid } from './transfer-syntax';
import { implementationClassUid, implementationVersionName } from './uid';
import { asciiValue, integerValue, valueBytes } from './values';
import { writePart10 } from './write-part10';

/**
 * De-identification of one DICOM Part 10 file (PS3.15 Annex E).
 *
 * The input is parsed once into element offsets; the output is written in
 * one buffer from untouched input ranges (pixel data is never decoded,
 * re-encoded or copied more than once) and re-encoded changed elements.
 *
 * Profile: Table E.1-1 (ps315-table-e1-1.json) with the options of
 * DeidOptions; combined codes resolved as documented in
 * profile/confidentiality-profile.ts. Beyond the table, by design:
 * - every private element is removed (Retain Safe Private keeps those of
 *   Table E.3.10-1 and their Private Creators);
 * - Overlay Data (60xx,3000) is X, so its whole overlay group is removed;
 *   curves (50xx) are removed;
 * - a PN attribute the table does not list is emptied; a DA or DT it does
 *   not list is shifted (or removed without the dates option); LT/ST/UT it
 *   does not list (e.g. Text Value in SR content) are cleaned like
 *   descriptors; instance UIDs it does not list are remapped (see
 *   deidentify-dataset.ts); group lengths and trailing padding are dropped;
 * - UIDs under the DICOM root 1.2.840.10008 (SOP classes, transfer
 *   syntaxes, coding schemes, context groups) are never remapped;
 * - Patient ID and Patient's Name become the pseudonym; Accession Number
 *   becomes its keyed pseudonym (Z allows a dummy value); Patient's Age is
 *   computed from the birth date when missing (Retain Patient Characteristics);
 * - dates move by whole days (one offset per pseudonymous patient), so TM
 *   values and the time part of DT never change and cannot cross midnight;
 * - sequences are written with undefined lengths; Deflated Explicit VR LE
 *   input is written as Explicit VR Little Endian (the only re-encoding).
 */

export interface DeidContext {
  /** 32-byte secret: the same key gives the same pseudonyms, UIDs and date shifts. */
  key: Uint8Array;
  options?: Partial<DeidOptions>;
  /** Set for an object made from lake data (see DerivedFromLake). */
  derivedFrom?: DerivedFromLake;
}

/**
 * An object derived from de-identified lake data, such as a measurement SR or
 * a segmentation the viewer posts back through STOW-RS: it carries UIDs, the
 * patient pseudonym and dates the lake issued. Those UIDs stay as they are
 * (so the object lands in its study and its references still resolve), the
 * patient keeps its pseudonym and dates are not shifted a second time. The
 * rest of the profile applies as usual: UIDs the lake does not know are
 * remapped, free text is cleaned, private elements go.
 */
export interface DerivedFromLake {
  /** UIDs issued by the lake for the object's study (study, series, instances, frames of reference, ...). */
  knownUids: ReadonlySet<string>;
  /** The study's patient pseudonym (Patient ID and Patient's Name of the result). */
  patientPseudonym: string;
  /** The study's pseudonymous Accession Number, or null for none. */
  accessionNumber: string | null;
}

/** Original identifiers, for the encrypted PHI vault only: never log or index them. */
export interface OriginalIdentifiers {
  patientName: string | null;
  patientId: string | null;
  issuerOfPatientId: string | null;
  otherPatientIds: string | null;
  birthDate: string | null;
  sex: string | null;
  accessionNumber: string | null;
  studyId: string | null;
  studyDate: string | null;
  studyTime: string | null;
  studyDescription: string | null;
  referringPhysicianName: string | null;
  institutionName: string | null;
  studyUid: string;
  seriesUid: string;
  sopUid: string;
  frameOfReferenceUid: string | null;
  transferSyntaxUid: string;
  specificCharacterSet: string | null;
}

export interface DeidentifiedInstance {
  /** Complete Part 10 file: preamble, new meta, de-identified data set, pixel data bytes copied untouched. */
  part10: Uint8Array;
  uids: { study: string; series: string; sop: string; sopClass: string; transferSyntax: string; frameOfReference?: string };
  original: OriginalIdentifiers;
  /** Keyed hash (hex) of the original SOP Instance UID, for idempotent re-uploads. */
  sourceUidHash: string;
  patientPseudonym: string;
  /** Days added to every date (negative), 0 when dates are not retained. */
  dateShiftDays: number;
  index: IndexFields;
  /** The de-identified header as DICOM JSON; PixelData and large binaries as `{ vr, BulkDataURI: '' }`. */
  dicomJson: DicomJson;
  /** [offset, length] of each frame inside part10 (see FrameLayout for multi-fragment frames). */
  frames: ByteRange[];
  frameFragments?: ByteRange[][];
  pixelData?: { offset: number; length: number };
  /** Set when the instance must be reviewed before it is published (burned-in annotation policy). */
  held?: { reason: string };
  options: DeidOptions;
}

const cid7050 = {
  basic: ['113100', 'Basic Application Confidentiality Profile'],
  dates: ['113107', 'Retain Longitudinal Temporal Information Modified Dates Option'],
  patient: ['113108', 'Retain Patient Characteristics Option'],
  descriptors: ['113105', 'Clean Descriptors Option'],
  safePrivate: ['113111', 'Retain Safe Private Option'],
} as const;

function methodCodes(options: DeidOptions): Array<readonly [string, string]> {
  const codes: Array<readonly [string, string]> = [cid7050.basic];
  if (options.retainLongitudinalModifiedDates) codes.push(cid7050.dates);
  if (options.retainPatientCharacteristics) codes.push(cid7050.patient);
  if (options.cleanDescriptors) codes.push(cid7050.descriptors);
  if (options.retainSafePrivate) codes.push(cid7050.safePrivate);
  return codes;
}

/** De-identification Method (LO, each value ≤ 64 characters): the profile and every option used. */
export function deidentificationMethod(options: DeidOptions): string[] {
  return [`PS3.15 ${profileEdition} E.1 Basic Application Level Conf. Profile`, ...methodCodes(options).slice(1).map(([, meaning]) => meaning), 'medlake'];
}

function valueElement(tag: number, vr: string, text: string): OutElement {
  return { kind: 'value', tag, vr, value: textValue(text, vr) };
}

/** JPIP transfer syntaxes reference the pixels by URL instead of carrying them. */
function isPixelDataReferenced(transferSyntaxUid: string): boolean {
  return transferSyntaxUid === '1.2.840.10008.1.2.4.94' || transferSyntaxUid === '1.2.840.10008.1.2.4.95';
}

function missing(keyword: string): DicomRejection {
  return new DicomRejection('missing-attribute', `The file has no ${keyword}, which every DICOM instance needs.`);
}

export function deidentifyPart10(input: Uint8Array, context: DeidContext): DeidentifiedInstance {
  if (context.key.length < 16) throw new RangeError('The de-identification key must be at least 16 bytes (32 recommended)');
  const options = resolveDeidOptions(context.options);
  const parsed = parsePart10(input);
  const { dataset, meta } = parsed;
  const bytes = dataset.bytes;
  const top = dataset.elements;
  const get = (tag: number): DicomElement | undefined => findElement(top, tag);
  const ascii = (tag: number): string | null => {
    const element = get(tag);
    if (!element || element.items) return null;
    const value = asciiValue(bytes, element);
    return value === '' ? null : value;
  };
  const specificCharacterSet = ascii(Tag.SpecificCharacterSet);
  const characterSet: CharacterSet = characterSetFor(specificCharacterSet ?? undefined);
  const text = (tag: number): string | null => {
    const element = get(tag);
    if (!element || element.items) return null;
    const value = characterSet.decode(valueBytes(bytes, element)).replace(/[\0 ]+$/, '').trim();
    return value === '' ? null : value;
  };

  const metaSopClass = findElement(meta, Tag.MediaStorageSOPClassUID);
  const sopClassUid = ascii(Tag.SOPClassUID) ?? (metaSopClass ? asciiValue(parsed.input, metaSopClass) : null);
  const sopUid = ascii(Tag.SOPInstanceUID);
  const studyUid = ascii(Tag.StudyInstanceUID);
  const seriesUid = ascii(Tag.SeriesInstanceUID);
  if (!sopClassUid) throw missing('SOP Class UID');
  if (!sopUid) throw missing('SOP Instance UID');
  if (!studyUid) throw missing('Study Instance UID');
  if (!seriesUid) throw missing('Series Instance UID');

  const original: OriginalIdentifiers = {
    patientName: text(Tag.PatientName),
    patientId: text(Tag.PatientID),
    issuerOfPatientId: text(Tag.IssuerOfPatientID),
    otherPatientIds: text(Tag.OtherPatientIDs),
    birthDate: ascii(Tag.PatientBirthDate),
    sex: ascii(Tag.PatientSex),
    accessionNumber: text(Tag.AccessionNumber),
    studyId: text(Tag.StudyID),
    studyDate: ascii(Tag.StudyDate),
    studyTime: ascii(Tag.StudyTime),
    studyDescription: text(Tag.StudyDescription),
    referringPhysicianName: text(Tag.ReferringPhysicianName),
    institutionName: text(Tag.InstitutionName),
    studyUid,
    seriesUid,
    sopUid,
    frameOfReferenceUid: ascii(Tag.FrameOfReferenceUID),
    transferSyntaxUid: parsed.transferSyntax.uid,
    specificCharacterSet,
  };

  const derived = context.derivedFrom;
  const pseudonym = derived
    ? derived.patientPseudonym
    : original.patientId
      ? patientPseudonym(context.key, original.issuerOfPatientId ?? undefined, original.patientId)
      : studyScopedPatientPseudonym(context.key, studyUid);
  // Lake data is already shifted: a derived object's dates are the lake's.
  const shiftDays = options.retainLongitudinalModifiedDates && !derived ? dateShiftDays(context.key, pseudonym, options.dateShiftRangeDays) : 0;

  const deidentifier: Deidentifier = new DatasetDeidentifier({
    key: context.key,
    options,
    shiftDays,
    issuerOfPatientId: original.issuerOfPatientId ?? undefined,
    uidCache: new Map(),
    ...(derived ? { keepUids: derived.knownUids } : {}),
  });
  if (options.cleanDescriptors) deidentifier.collectIdentifyingValues(dataset, characterSet);

  const outputEncoding = dataset.encoding;
  const set = new Map<number, OutElement>();
  set.set(Tag.PatientName, valueElement(Tag.PatientName, 'PN', pseudonym));
  set.set(Tag.PatientID, valueElement(Tag.PatientID, 'LO', pseudonym));
  if (derived) set.set(Tag.AccessionNumber, valueElement(Tag.AccessionNumber, 'SH', derived.accessionNumber ?? ''));
  if (options.retainPatientCharacteristics && !ascii(Tag.PatientAge) && original.birthDate) {
    const at = original.studyDate ?? ascii(Tag.SeriesDate) ?? ascii(Tag.AcquisitionDate) ?? ascii(Tag.ContentDate);
    const age = at ? patientAgeAt(original.birthDate, at) : undefined;
    if (age) set.set(Tag.PatientAge, valueElement(Tag.PatientAge, 'AS', age));
  }
  set.set(Tag.PatientIdentityRemoved, valueElement(Tag.PatientIdentityRemoved, 'CS', 'YES'));
  set.set(Tag.DeidentificationMethod, valueElement(Tag.DeidentificationMethod, 'LO', deidentificationMethod(options).join('\\')));
  const codeItems: OutDataset[] = methodCodes(options).map(([code, meaning]) => ({
    encoding: outputEncoding,
    characterSet,
    elements: [valueElement(Tag.CodeValue, 'SH', code), valueElement(Tag.CodingSchemeDesignator, 'SH', 'DCM'), valueElement(Tag.CodeMeaning, 'LO', meaning)],
  }));
  set.set(Tag.DeidentificationMethodCodeSequence, { kind: 'sequence', tag: Tag.DeidentificationMethodCodeSequence, vr: 'SQ', items: codeItems });
  set.set(Tag.LongitudinalTemporalInformationModified, valueElement(Tag.LongitudinalTemporalInformationModified, 'CS', options.retainLongitudinalModifiedDates ? 'MODIFIED' : 'REMOVED'));

  const out = deidentifier.deidentify(dataset, characterSet, { set });

  const newSop = deidentifier.remap(sopUid);
  const outputTransferSyntax = parsed.transferSyntax.deflated ? TransferSyntaxUid.ExplicitVrLittleEndian : parsed.transferSyntax.uid;
  const newMeta: OutElement[] = [
    { kind: 'value', tag: Tag.FileMetaInformationVersion, vr: 'OB', value: Uint8Array.of(0x00, 0x01) },
    valueElement(Tag.MediaStorageSOPClassUID, 'UI', sopClassUid),
    valueElement(Tag.MediaStorageSOPInstanceUID, 'UI', newSop),
    valueElement(Tag.TransferSyntaxUID, 'UI', outputTransferSyntax),
    valueElement(Tag.ImplementationClassUID, 'UI', implementationClassUid),
    valueElement(Tag.ImplementationVersionName, 'SH', implementationVersionName),
  ];
  const written = writePart10(newMeta, out);

  const numberOfFrames = Math.max(1, integerValue(bytes, get(Tag.NumberOfFrames), dataset.encoding) ?? 1);
  const pixelElement = get(Tag.PixelData) ?? get(Tag.FloatPixelData) ?? get(Tag.DoubleFloatPixelData);
  let frames: ByteRange[] = [];
  let frameFragments: ByteRange[][] | undefined;
  let pixelData: { offset: number; length: number } | undefined;
  if (pixelElement) {
    const placedAt = written.placed.get(pixelElement.tag);
    if (placedAt === undefined) throw new Error('Pixel data was not copied to the output');
    const extended = get(Tag.ExtendedOffsetTable);
    let extendedOffsets: number[] | undefined;
    if (extended && extended.valueLength >= 8) {
      const view = new DataView(bytes.buffer, bytes.byteOffset + extended.valueOffset, extended.valueLength);
      extendedOffsets = [];
      for (let at = 0; at + 8 <= extended.valueLength; at += 8) extendedOffsets.push(Number(view.getBigUint64(at, true)));
    }
    const bitsAllocated = pixelElement.tag === Tag.FloatPixelData ? 32 : pixelElement.tag === Tag.DoubleFloatPixelData ? 64 : integerValue(bytes, get(Tag.BitsAllocated), dataset.encoding) ?? 0;
    const layout = frameLayout(pixelElement, bytes, placedAt, {
      numberOfFrames,
      rows: integerValue(bytes, get(Tag.Rows), dataset.encoding) ?? 0,
      columns: integerValue(bytes, get(Tag.Columns), dataset.encoding) ?? 0,
      samplesPerPixel: integerValue(bytes, get(Tag.SamplesPerPixel), dataset.encoding) ?? 1,
      bitsAllocated,
      photometricInterpretation: ascii(Tag.PhotometricInterpretation) ?? '',
      ...(extendedOffsets ? { extendedOffsets } : {}),
      littleEndian: dataset.encoding.littleEndian,
    });
    frames = layout.frames;
    frameFragments = layout.frameFragments;
    pixelData = layout.pixelData;
  } else if (!isPixelDataReferenced(outputTransferSyntax) && (requiresPixelData(sopClassUid) || (get(Tag.Rows) && get(Tag.Columns) && get(Tag.BitsAllocated)))) {
    // A cut that falls between two elements leaves a data set that parses: an image without pixels is the tell.
    throw new DicomRejection('truncated', 'The image has no pixel data (the file may have been cut short).');
  }

  const dicomJson = datasetToJson(out);
  const index = indexFields(dicomJson, outputTransferSyntax, numberOfFrames);
  const frameOfReference = index.series.frameOfReferenceUid;
  const holdReason = burnedInHoldReason(sopClassUid, ascii(Tag.BurnedInAnnotation) ?? undefined);

  const result: DeidentifiedInstance = {
    part10: written.bytes,
    uids: {
      study: deidentifier.remap(studyUid),
      series: deidentifier.remap(seriesUid),
      sop: newSop,
      sopClass: sopClassUid,
      transferSyntax: outputTransferSyntax,
      ...(frameOfReference ? { frameOfReference } : {}),
    },
    original,
    sourceUidHash: sourceUidHash(context.key, sopUid),
    patientPseudonym: pseudonym,
    dateShiftDays: shiftDays,
    index,
    dicomJson,
    frames,
    options,
  };
  if (frameFragments) result.frameFragments = frameFragments;
  if (pixelData) result.pixelData = pixelData;
  if (holdReason) result.held = { reason: holdReason };
  return result;
}
