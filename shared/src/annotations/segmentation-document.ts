/**
 * A segmentation version as JSON: what a DICOM Segmentation (SEG, PS3.3
 * A.51) the viewer saves says about itself, read from its attributes (no
 * pixel decoding): its segments (number, label, category and type codes,
 * algorithm), the series and instances it was drawn on, and its frame count.
 * Diffs between versions tell which segments were added, removed, renamed
 * or otherwise changed, matched by segment number (the viewer keeps the
 * numbers of the segments it loaded).
 */
import type { DicomJson } from '../dicom/dicom-json-model';
import { numberValue, sequenceItems, stringValue } from '../dicom/dicom-json-read';
import type { Code } from './annotation-document';

export const segmentationSopClass = '1.2.840.10008.5.1.4.1.1.66.4';

export interface Segment {
  number: number;
  label: string;
  description: string | null;
  /** SegmentedPropertyCategoryCodeSequence, e.g. Tissue. */
  category: Code | null;
  /** SegmentedPropertyTypeCodeSequence, e.g. Lesion. */
  type: Code | null;
  /** AUTOMATIC, SEMIAUTOMATIC or MANUAL. */
  algorithmType: string | null;
  algorithmName: string | null;
}

export interface SegmentationDocument {
  kind: 'segmentation';
  /** The set's name as the viewer wrote it: SeriesDescription, else ContentLabel. */
  title: string;
  /** The segments' labels, in segment order (what version lists show). */
  labels: string[];
  /** BINARY or FRACTIONAL. */
  segmentationType: string | null;
  frameCount: number;
  rows: number | null;
  columns: number | null;
  segments: Segment[];
  /** The images it was drawn on, by series. */
  referencedSeries: { seriesInstanceUID: string; sopInstanceUIDs: string[] }[];
  frameOfReferenceUID: string | null;
}

const tag = {
  seriesDescription: '0008103E',
  contentLabel: '00700080',
  segmentationType: '00620001',
  numberOfFrames: '00280008',
  rows: '00280010',
  columns: '00280011',
  segmentSequence: '00620002',
  segmentNumber: '00620004',
  segmentLabel: '00620005',
  segmentDescription: '00620006',
  segmentAlgorithmType: '00620008',
  segmentAlgorithmName: '00620009',
  categoryCodes: '00620003',
  typeCodes: '0062000F',
  codeValue: '00080100',
  codingSchemeDesignator: '00080102',
  codeMeaning: '00080104',
  referencedSeriesSequence: '00081115',
  referencedInstanceSequence: '0008114A',
  referencedSopInstanceUid: '00081155',
  seriesInstanceUid: '0020000E',
  frameOfReferenceUid: '00200052',
  sharedGroups: '52009229',
  perFrameGroups: '52009230',
  derivationImageSequence: '00089124',
  sourceImageSequence: '00082112',
  sopClassUid: '00080016',
} as const;

function code(item: DicomJson | undefined): Code | null {
  if (!item) return null;
  const value = stringValue(item, tag.codeValue);
  const scheme = stringValue(item, tag.codingSchemeDesignator);
  const meaning = stringValue(item, tag.codeMeaning);
  return value && scheme ? { value, scheme, meaning: meaning ?? '' } : null;
}

export function isSegmentation(attributes: DicomJson): boolean {
  return stringValue(attributes, tag.sopClassUid) === segmentationSopClass;
}

/** The images the frames were derived from, when the SEG names them per frame instead of in ReferencedSeriesSequence. */
function derivedFromImages(attributes: DicomJson): string[] {
  const sops = new Set<string>();
  const groups = [...sequenceItems(attributes, tag.sharedGroups), ...sequenceItems(attributes, tag.perFrameGroups)];
  for (const group of groups) {
    for (const derivation of sequenceItems(group, tag.derivationImageSequence)) {
      for (const source of sequenceItems(derivation, tag.sourceImageSequence)) {
        const sop = stringValue(source, tag.referencedSopInstanceUid);
        if (sop) sops.add(sop);
      }
    }
  }
  return [...sops];
}

export function segmentationDocument(attributes: DicomJson): SegmentationDocument {
  const segments = sequenceItems(attributes, tag.segmentSequence)
    .map((item): Segment => ({
      number: numberValue(item, tag.segmentNumber) ?? 0,
      label: stringValue(item, tag.segmentLabel) ?? '',
      description: stringValue(item, tag.segmentDescription),
      category: code(sequenceItems(item, tag.categoryCodes)[0]),
      type: code(sequenceItems(item, tag.typeCodes)[0]),
      algorithmType: stringValue(item, tag.segmentAlgorithmType),
      algorithmName: stringValue(item, tag.segmentAlgorithmName),
    }))
    .sort((a, b) => a.number - b.number);
  const referencedSeries = sequenceItems(attributes, tag.referencedSeriesSequence)
    .map((item) => ({
      seriesInstanceUID: stringValue(item, tag.seriesInstanceUid) ?? '',
      sopInstanceUIDs: sequenceItems(item, tag.referencedInstanceSequence).map((i) => stringValue(i, tag.referencedSopInstanceUid)).filter((s): s is string => !!s),
    }))
    .filter((s) => s.seriesInstanceUID);
  if (referencedSeries.length === 0) {
    // Only per-frame references: their series is not written there, the lake looks it up.
    const sops = derivedFromImages(attributes);
    if (sops.length) referencedSeries.push({ seriesInstanceUID: '', sopInstanceUIDs: sops });
  }
  const title = (stringValue(attributes, tag.seriesDescription) ?? stringValue(attributes, tag.contentLabel) ?? '').trim() || 'Segmentation';
  return {
    kind: 'segmentation',
    title,
    labels: segments.map((s) => s.label).filter((l) => l),
    segmentationType: stringValue(attributes, tag.segmentationType),
    frameCount: numberValue(attributes, tag.numberOfFrames) ?? 1,
    rows: numberValue(attributes, tag.rows),
    columns: numberValue(attributes, tag.columns),
    segments,
    referencedSeries,
    frameOfReferenceUID: stringValue(attributes, tag.frameOfReferenceUid),
  };
}

/** Every image a segmentation names (for checking that it belongs to a study of the lake). */
export function referencedSegmentationSops(document: SegmentationDocument): string[] {
  return [...new Set(document.referencedSeries.flatMap((s) => s.sopInstanceUIDs))];
}

export function isSegmentationDocument(document: unknown): document is SegmentationDocument {
  return typeof document === 'object' && document !== null && (document as { kind?: unknown }).kind === 'segmentation';
}

export type SegmentField = 'label' | 'description' | 'category' | 'type' | 'algorithm';

export interface SegmentationDiff {
  added: Segment[];
  removed: Segment[];
  /** Segments whose label changed (also listed in `changed`). */
  renamed: { number: number; from: string; to: string }[];
  changed: { before: Segment; after: Segment; fields: SegmentField[] }[];
  unchanged: number;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export function diffSegmentations(before: SegmentationDocument, after: SegmentationDocument): SegmentationDiff {
  const old = new Map(before.segments.map((s) => [s.number, s]));
  const diff: SegmentationDiff = { added: [], removed: [], renamed: [], changed: [], unchanged: 0 };
  for (const segment of after.segments) {
    const was = old.get(segment.number);
    old.delete(segment.number);
    if (!was) {
      diff.added.push(segment);
      continue;
    }
    const fields: SegmentField[] = [];
    if (was.label !== segment.label) fields.push('label');
    if (was.description !== segment.description) fields.push('description');
    if (!same(was.category, segment.category)) fields.push('category');
    if (!same(was.type, segment.type)) fields.push('type');
    if (was.algorithmType !== segment.algorithmType || was.algorithmName !== segment.algorithmName) fields.push('algorithm');
    if (fields.length === 0) diff.unchanged += 1;
    else diff.changed.push({ before: was, after: segment, fields });
    if (fields.includes('label')) diff.renamed.push({ number: segment.number, from: was.label, to: segment.label });
  }
  diff.removed.push(...old.values());
  return diff;
}
