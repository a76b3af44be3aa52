/**
 * Reading values out of DICOM JSON (PS3.18 F.2) attribute maps: the stored,
 * de-identified attributes of an instance, an SR's content items. Tags are
 * the JSON keys ('0020000D') or their numbers (Tag.StudyInstanceUID).
 * Readers return null (or an empty list) for an absent or empty attribute,
 * never throw: stored attributes come from many modalities and vendors.
 */
import type { DicomJson, DicomJsonPersonName } from './dicom-json-model';
import { tagHex } from './dictionary/data-dictionary';

/** Any DICOM JSON map: the shared DicomJson type and the looser ones the DICOMweb answers use. */
export type DicomJsonAttributes = Readonly<Record<string, { readonly Value?: readonly unknown[] | undefined } | undefined>>;

function keyOf(tag: string | number): string {
  return typeof tag === 'number' ? tagHex(tag) : tag;
}

/** All values of an attribute, as stored (an absent attribute has none). */
export function attributeValues(json: DicomJsonAttributes, tag: string | number): readonly unknown[] {
  return json[keyOf(tag)]?.Value ?? [];
}

/** A PN value ({ Alphabetic, Ideographic, Phonetic }), told apart from a sequence item, whose keys are tags. */
export function isPersonName(value: unknown): value is DicomJsonPersonName {
  return typeof value === 'object' && value !== null && ('Alphabetic' in value || 'Ideographic' in value || 'Phonetic' in value);
}

/**
 * The first value as text: strings as they are, numbers (IS, DS, US...)
 * written out, a person name by its alphabetic group. An empty string or
 * name reads as null.
 */
export function stringValue(json: DicomJsonAttributes, tag: string | number): string | null {
  const first = attributeValues(json, tag)[0];
  if (typeof first === 'string') return first === '' ? null : first;
  if (typeof first === 'number') return String(first);
  if (isPersonName(first)) return first.Alphabetic || null;
  return null;
}

function asNumber(value: unknown): number | null {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
  return Number.isFinite(n) ? n : null;
}

/** The first value as a number (IS and DS may come as JSON strings too); null when absent or not a number. */
export function numberValue(json: DicomJsonAttributes, tag: string | number): number | null {
  return asNumber(attributeValues(json, tag)[0]);
}

/** The string values of a multi-valued attribute (ImageType, ModalitiesInStudy), empty ones left out. */
export function stringValues(json: DicomJsonAttributes, tag: string | number): string[] {
  return attributeValues(json, tag).filter((value): value is string => typeof value === 'string' && value !== '');
}

/** The numeric values of a multi-valued attribute (GraphicData, ReferencedFrameNumber), empty or non-numeric ones left out. */
export function numberValues(json: DicomJsonAttributes, tag: string | number): number[] {
  return attributeValues(json, tag).map(asNumber).filter((value): value is number => value !== null);
}

/** The items of a sequence (SQ) attribute. */
export function sequenceItems(json: DicomJsonAttributes, tag: string | number): DicomJson[] {
  return attributeValues(json, tag).filter((value): value is DicomJson => typeof value === 'object' && value !== null && !Array.isArray(value) && !isPersonName(value));
}
