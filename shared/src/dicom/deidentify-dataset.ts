import { type CharacterSet, characterSetFor } from './character-set';
import { IdentifyingValues, cleanDescriptorText } from './clean-descriptors';
import type { DicomDataset, DicomElement, DicomItem, Encoding } from './dataset';
import { shiftDaValue, shiftDtValue } from './date-shift';
import type { DeidOptions } from './options';
import { type ConfidentialityProfile, type ProfileAction, confidentialityProfile } from './profile/confidentiality-profile';
import { safePrivateVr } from './profile/safe-private';
import { accessionPseudonym, patientPseudonym } from './pseudonym';
import { Tag, isPrivateTag } from './tags';
import { isStandardUid, remapUid } from './uid';
import { asciiValue, valueBytes } from './values';

/** An element of the de-identified data set, ready to be written. */
export type OutElement =
  /** Copied byte for byte from the input (header and value): `source` offsets are into `bytes`. */
  | { kind: 'copy'; tag: number; vr: string; source: DicomElement; bytes: Uint8Array }
  /** A new or changed value (already padded to even length). */
  | { kind: 'value'; tag: number; vr: string; value: Uint8Array }
  /** A sequence, written with undefined lengths so changed items need no length bookkeeping. */
  | { kind: 'sequence'; tag: number; vr: 'SQ' | 'UN'; items: OutDataset[] };

export interface OutDataset {
  encoding: Encoding;
  characterSet: CharacterSet;
  elements: OutElement[];
}

/** Top-level replacements computed by the caller (pseudonyms, added attributes). */
export interface TopLevelValues {
  /** Elements to set at the top level, replacing any input element with the same tag. */
  set: Map<number, OutElement>;
}

export interface DeidentifyContext {
  key: Uint8Array;
  options: DeidOptions;
  shiftDays: number;
  issuerOfPatientId: string | undefined;
  /** Original → new UID within this instance (saves repeated HMACs). */
  uidCache: Map<string, string>;
  /** UIDs the lake issued itself (objects derived from lake data): kept as they are. */
  keepUids?: ReadonlySet<string>;
}

/**
 * UI attributes Table E.1-1 does not list but that hold instance-level UIDs
 * (PS3.6 2024b): remapped like the listed ones so references stay consistent.
 */
const unlistedInstanceUids = new Set<number>([
  0x00081167, // MultiFrameSourceSOPInstanceUID
  0x00200242, // SOPInstanceUIDOfConcatenationSource
  0x0018991e, // TargetFrameOfReferenceUID
  0x00209312, // VolumeFrameOfReferenceUID
  0x00209313, // TableFrameOfReferenceUID
  0x300a0675, // EquipmentFrameOfReferenceUID
  0x00280304, // ReferencedColorPaletteInstanceUID
  0x00440102, // AssertionUID
  0x00440108, // ReferencedAssertionUID
  0x00687004, // ModelGroupUID
  0x0070031b, // ReferencedFiducialUID
  0x300a0054, // TableTopPositionAlignmentUID
  0x00083012, // RadiopharmaceuticalAdministrationEventUID
  0x0040a021, // FindingsGroupUIDTrial
  0x0040a022, // ReferencedFindingsGroupUIDTrial
  0x00041432, // PrivateRecordUID
]);

const freeTextVrs = new Set(['LT', 'ST', 'UT']);
const textVrs = new Set(['LO', 'SH', 'ST', 'LT', 'UT', 'UC', 'PN', 'CS', 'AE', 'UR']);
const encoder = new TextEncoder();

/** ASCII text padded to even length (NUL for UI, space otherwise). */
export function textValue(text: string, vr: string): Uint8Array {
  const padded = text.length % 2 === 1 ? text + (vr === 'UI' ? '\u0000' : ' ') : text;
  return encoder.encode(padded);
}

function evenLength(bytes: Uint8Array, vr: string): Uint8Array {
  if (bytes.length % 2 === 0) return bytes;
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  out[bytes.length] = vr === 'UI' ? 0x00 : 0x20;
  return out;
}

const dummyText: Record<string, string> = {
  AE: 'REMOVED', AS: '000Y', CS: 'REMOVED', DA: '19000101', DS: '0', DT: '19000101000000', IS: '0',
  LO: 'REMOVED', LT: 'REMOVED', PN: 'REMOVED', SH: 'REMOVED', ST: 'REMOVED', TM: '000000', UC: 'REMOVED', UR: 'REMOVED', UT: 'REMOVED',
};
const binaryZeros: Record<string, number> = { US: 2, SS: 2, UL: 4, SL: 4, FL: 4, FD: 8, SV: 8, UV: 8, AT: 4 };

function dummyValue(vr: string): Uint8Array {
  const text = dummyText[vr];
  if (text !== undefined) return textValue(text, vr);
  return new Uint8Array(binaryZeros[vr] ?? 0);
}

/**
 * Walks a parsed data set and returns what to write: the profile's action
 * for every element at every depth, private elements dropped (or the safe
 * ones kept), curves and overlays removed, dates shifted, UIDs remapped.
 */
export class DatasetDeidentifier {
  readonly profile: ConfidentialityProfile;
  readonly identifying = new IdentifyingValues();
  private pattern: RegExp | undefined;

  constructor(private readonly context: DeidentifyContext) {
    this.profile = confidentialityProfile(context.options);
  }

  remap(uid: string): string {
    if (uid === '' || isStandardUid(uid) || this.context.keepUids?.has(uid)) return uid;
    let mapped = this.context.uidCache.get(uid);
    if (!mapped) {
      mapped = remapUid(this.context.key, uid);
      this.context.uidCache.set(uid, mapped);
    }
    return mapped;
  }

  /** First pass: every value the profile removes that could also be typed into a description. */
  collectIdentifyingValues(dataset: DicomDataset, characterSet: CharacterSet): void {
    this.collectFrom(dataset.bytes, dataset.elements, characterSet);
    this.pattern = this.identifying.pattern();
  }

  private collectFrom(bytes: Uint8Array, elements: readonly DicomElement[], characterSet: CharacterSet): void {
    let charset = characterSet;
    const own = elements.find((element) => element.tag === Tag.SpecificCharacterSet);
    if (own) charset = characterSetFor(asciiValue(bytes, own));
    for (const element of elements) {
      if (element.items) {
        for (const item of element.items) this.collectFrom(bytes, item.elements, charset);
        continue;
      }
      if (element.valueLength === 0 || isPrivateTag(element.tag)) continue;
      const rule = this.profile.ruleFor(element.tag);
      if (element.vr === 'PN') {
        if (!rule || rule.action !== 'K') this.identifying.addPersonName(charset.decode(valueBytes(bytes, element)));
        continue;
      }
      if (!rule || !['X', 'Z', 'D'].includes(rule.action)) continue;
      if (element.tag === Tag.PatientBirthDate) this.identifying.addDate(asciiValue(bytes, element));
      else if (element.vr === 'LO' || element.vr === 'SH') this.identifying.addText(charset.decode(valueBytes(bytes, element)).trim());
      else if (element.vr === 'ST' && (element.tag === Tag.InstitutionAddress || element.tag === 0x00080092 /* ReferringPhysicianAddress */)) {
        this.identifying.addLines(charset.decode(valueBytes(bytes, element)));
      }
    }
  }

  /** Second pass: the de-identified data set. */
  deidentify(dataset: DicomDataset, characterSet: CharacterSet, topLevel: TopLevelValues): OutDataset {
    const out = this.deidentifyElements(dataset.bytes, dataset.elements, dataset.encoding, characterSet, 0);
    const kept = out.elements.filter((element) => !topLevel.set.has(element.tag));
    kept.push(...topLevel.set.values());
    kept.sort((a, b) => a.tag - b.tag);
    out.elements = kept;
    return out;
  }

  private deidentifyElements(bytes: Uint8Array, elements: readonly DicomElement[], encoding: Encoding, inherited: CharacterSet, depth: number): OutDataset {
    let characterSet = inherited;
    const own = elements.find((element) => element.tag === Tag.SpecificCharacterSet);
    if (own) characterSet = characterSetFor(asciiValue(bytes, own));
    const out: OutElement[] = [];
    const removedOverlayGroups = new Set<number>();
    for (const element of elements) {
      if (((element.tag >>> 16) & 0xff00) === 0x6000 && (element.tag & 0xffff) === 0x3000) removedOverlayGroups.add(element.tag >>> 16);
    }
    const safePrivate = this.context.options.retainSafePrivate ? this.safePrivateElements(bytes, elements) : undefined;

    for (const element of elements) {
      const tag = element.tag;
      const group = tag >>> 16;
      // Group lengths, meta elements misplaced in the data set, Length to End and trailing padding are never written.
      if ((tag & 0xffff) === 0 || group === 0x0002 || tag === 0x00080001 || tag === 0xfffcfffc) continue;
      if (isPrivateTag(tag)) {
        if (safePrivate?.has(element)) out.push(this.copy(bytes, element));
        continue;
      }
      // Overlay Data is X: the whole overlay plane goes, so no incomplete Overlay Plane module remains.
      if (removedOverlayGroups.has(group)) continue;
      const rule = this.profile.ruleFor(tag);
      const produced = rule ? this.apply(rule.action, bytes, element, encoding, characterSet, depth) : this.unlisted(bytes, element, encoding, characterSet, depth);
      if (produced) out.push(produced);
    }
    return { encoding, characterSet, elements: out };
  }

  /** Elements of the safe private list (PS3.15 Table E.3.10-1), and the Private Creators that reserve them. */
  private safePrivateElements(bytes: Uint8Array, elements: readonly DicomElement[]): Set<DicomElement> {
    const creators = new Map<number, DicomElement>();
    for (const element of elements) {
      const elementNumber = element.tag & 0xffff;
      if (isPrivateTag(element.tag) && elementNumber >= 0x10 && elementNumber <= 0xff) creators.set(element.tag, element);
    }
    const keep = new Set<DicomElement>();
    for (const element of elements) {
      const group = element.tag >>> 16;
      const elementNumber = element.tag & 0xffff;
      if (!isPrivateTag(element.tag) || elementNumber < 0x1000 || element.items) continue;
      const creatorElement = creators.get(((group << 16) | (elementNumber >> 8)) >>> 0);
      if (!creatorElement) continue;
      if (safePrivateVr(group, elementNumber & 0xff, asciiValue(bytes, creatorElement)) !== undefined) {
        keep.add(element);
        keep.add(creatorElement);
      }
    }
    return keep;
  }

  private copy(bytes: Uint8Array, element: DicomElement): OutElement {
    return { kind: 'copy', tag: element.tag, vr: element.vr, source: element, bytes };
  }

  private value(element: DicomElement, value: Uint8Array): OutElement {
    return { kind: 'value', tag: element.tag, vr: element.vr, value };
  }

  private sequence(bytes: Uint8Array, element: DicomElement, characterSet: CharacterSet, depth: number, keepItems: boolean): OutElement {
    const items: OutDataset[] = keepItems ? (element.items ?? []).map((item: DicomItem) => this.deidentifyElements(bytes, item.elements, item.encoding, characterSet, depth + 1)) : [];
    return { kind: 'sequence', tag: element.tag, vr: element.vr === 'UN' ? 'UN' : 'SQ', items };
  }

  private apply(action: ProfileAction, bytes: Uint8Array, element: DicomElement, encoding: Encoding, characterSet: CharacterSet, depth: number): OutElement | undefined {
    const vr = element.vr;
    if (element.items) {
      if (action === 'X') return undefined;
      return this.sequence(bytes, element, characterSet, depth, action !== 'Z');
    }
    switch (action) {
      case 'X':
        return undefined;
      case 'Z':
        if (element.tag === Tag.AccessionNumber) return this.accession(bytes, element);
        return this.value(element, new Uint8Array(0));
      case 'D':
        if (element.tag === Tag.PatientID) {
          const id = characterSet.decode(valueBytes(bytes, element));
          return this.value(element, textValue(patientPseudonym(this.context.key, this.context.issuerOfPatientId, id), vr));
        }
        if (vr === 'UI') return this.uids(bytes, element);
        return this.value(element, dummyValue(vr));
      case 'K':
        return this.copy(bytes, element);
      case 'U':
        if (vr === 'UI' || vr === 'UN') return this.uids(bytes, element);
        return this.value(element, new Uint8Array(0));
      case 'C':
        return this.clean(bytes, element, encoding, characterSet);
    }
  }

  /** Attributes Table E.1-1 does not list: kept, with the safety rules documented in deidentify-part10.ts. */
  private unlisted(bytes: Uint8Array, element: DicomElement, encoding: Encoding, characterSet: CharacterSet, depth: number): OutElement | undefined {
    if (element.items) return this.sequence(bytes, element, characterSet, depth, true);
    const vr = element.vr;
    if (vr === 'PN') return this.value(element, new Uint8Array(0));
    if (vr === 'DA' || vr === 'DT') {
      if (!this.context.options.retainLongitudinalModifiedDates) return undefined;
      return this.clean(bytes, element, encoding, characterSet);
    }
    if (vr === 'UI' && unlistedInstanceUids.has(element.tag)) return this.uids(bytes, element);
    if (freeTextVrs.has(vr) && this.context.options.cleanDescriptors) return this.cleanText(bytes, element, characterSet);
    return this.copy(bytes, element);
  }

  private accession(bytes: Uint8Array, element: DicomElement): OutElement {
    const original = asciiValue(bytes, element);
    if (original === '') return this.value(element, new Uint8Array(0));
    return this.value(element, textValue(accessionPseudonym(this.context.key, original), element.vr));
  }

  private uids(bytes: Uint8Array, element: DicomElement): OutElement {
    const original = asciiValue(bytes, element);
    if (original === '') return this.copy(bytes, element);
    const mapped = original.split('\\').map((uid) => this.remap(uid.trim())).join('\\');
    return { kind: 'value', tag: element.tag, vr: 'UI', value: textValue(mapped, 'UI') };
  }

  private clean(bytes: Uint8Array, element: DicomElement, _encoding: Encoding, characterSet: CharacterSet): OutElement | undefined {
    const vr = element.vr;
    if (vr === 'DA' || vr === 'DT') {
      const original = asciiValue(bytes, element);
      if (original === '') return this.copy(bytes, element);
      const shifted = vr === 'DA' ? shiftDaValue(original, this.context.shiftDays) : shiftDtValue(original, this.context.shiftDays);
      // A value that is not a date cannot be shifted: emptied rather than kept.
      return this.value(element, shifted === undefined ? new Uint8Array(0) : textValue(shifted, vr));
    }
    if (vr === 'UI') return this.uids(bytes, element);
    if (textVrs.has(vr)) return this.cleanText(bytes, element, characterSet);
    // TM (whole-day shifts keep times), numbers and codes: nothing identifying to clean.
    return this.copy(bytes, element);
  }

  private cleanText(bytes: Uint8Array, element: DicomElement, characterSet: CharacterSet): OutElement {
    const cleaned = cleanDescriptorText(valueBytes(bytes, element), characterSet, this.pattern);
    if (cleaned.kind === 'unchanged') return this.copy(bytes, element);
    if (cleaned.kind === 'emptied') return this.value(element, new Uint8Array(0));
    return this.value(element, evenLength(cleaned.bytes, element.vr));
  }
}
