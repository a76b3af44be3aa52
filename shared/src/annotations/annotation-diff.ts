/**
 * What changed between two versions of an annotation set: measurements
 * added, removed and changed. Measurements are matched by their Tracking
 * Unique Identifier first. The viewer gives every measurement a new one on
 * each save, so the rest are matched by tool and image (or frame of
 * reference), the closest geometry first; a pair that differs in anything
 * is "changed", with the fields that differ.
 */
import type { AnnotationDocument, Coordinates, Measurement } from './annotation-document';

export type ChangedField = 'label' | 'finding' | 'findingSites' | 'values' | 'coordinates' | 'image';

export interface MeasurementChange {
  before: Measurement;
  after: Measurement;
  fields: ChangedField[];
  matchedBy: 'trackingUid' | 'toolAndImage';
}

export interface DocumentDiff {
  added: Measurement[];
  removed: Measurement[];
  changed: MeasurementChange[];
  unchanged: number;
}

function graphics(m: Measurement): Coordinates[] {
  return m.values.map((v) => v.coordinates).filter((c): c is Coordinates => c !== null);
}

function place(m: Measurement): string {
  const g = m.coordinates;
  if (!g) return 'none';
  if (g.valueType === 'SCOORD3D') return `for:${g.frameOfReferenceUID ?? ''}`;
  return `image:${g.image?.sopInstanceUID ?? ''}:${g.image?.frameNumbers.join(',') ?? ''}`;
}

const json = (value: unknown) => JSON.stringify(value);

function changedFields(a: Measurement, b: Measurement): ChangedField[] {
  const fields: ChangedField[] = [];
  if (a.label !== b.label) fields.push('label');
  if (json(a.finding) !== json(b.finding) && a.label === b.label) fields.push('finding');
  if (json(a.findingSites) !== json(b.findingSites)) fields.push('findingSites');
  const numbers = (m: Measurement) => m.values.map((v) => [v.concept.value, v.concept.scheme, v.value, v.unit]);
  if (json(numbers(a)) !== json(numbers(b))) fields.push('values');
  if (place(a) !== place(b)) fields.push('image');
  const shapes = (m: Measurement) => graphics(m).map((g) => [g.valueType, g.graphicType, g.graphicData]);
  if (json(shapes(a)) !== json(shapes(b))) fields.push('coordinates');
  return fields;
}

/** How far apart two measurements' first graphics are (mean absolute coordinate difference). */
function distance(a: Measurement, b: Measurement): number {
  const ga = a.coordinates?.graphicData ?? [];
  const gb = b.coordinates?.graphicData ?? [];
  if (ga.length === 0 || ga.length !== gb.length) return Number.MAX_SAFE_INTEGER / 2 + Math.abs(ga.length - gb.length);
  let sum = 0;
  for (let i = 0; i < ga.length; i++) sum += Math.abs((ga[i] as number) - (gb[i] as number));
  return sum / ga.length + (changedFields(a, b).length > 0 ? 1e-9 : 0);
}

export function diffDocuments(before: AnnotationDocument, after: AnnotationDocument): DocumentDiff {
  const changed: MeasurementChange[] = [];
  let unchanged = 0;
  const record = (a: Measurement, b: Measurement, matchedBy: MeasurementChange['matchedBy']) => {
    const fields = changedFields(a, b);
    if (fields.length === 0) unchanged++;
    else changed.push({ before: a, after: b, fields, matchedBy });
  };

  const leftBefore = new Set(before.measurements);
  const leftAfter = new Set(after.measurements);
  const byUid = new Map<string, Measurement>();
  for (const m of before.measurements) if (m.trackingUid) byUid.set(m.trackingUid, m);
  for (const b of after.measurements) {
    const a = b.trackingUid ? byUid.get(b.trackingUid) : undefined;
    if (a && leftBefore.has(a)) {
      leftBefore.delete(a);
      leftAfter.delete(b);
      record(a, b, 'trackingUid');
    }
  }

  // The rest: same tool on the same image, nearest first.
  const key = (m: Measurement) => `${m.tool}|${place(m)}`;
  const candidates: { a: Measurement; b: Measurement; d: number }[] = [];
  for (const a of leftBefore) for (const b of leftAfter) if (key(a) === key(b)) candidates.push({ a, b, d: distance(a, b) });
  candidates.sort((x, y) => x.d - y.d);
  for (const { a, b } of candidates) {
    if (!leftBefore.has(a) || !leftAfter.has(b)) continue;
    leftBefore.delete(a);
    leftAfter.delete(b);
    record(a, b, 'toolAndImage');
  }
  return { added: [...leftAfter], removed: [...leftBefore], changed, unchanged };
}
