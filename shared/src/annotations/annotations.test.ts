import { describe, expect, it } from 'vitest';
import type { AnnotationDocument, Measurement } from './annotation-document';
import { diffDocuments } from './annotation-diff';
import { LabelError, checkAssignments, normalizeTerm } from './label-vocabulary';
import type { LabelTerm } from './label-vocabulary';
import { labelMatchSql, normalizeLabelCodes } from './label-filter-sql';
import type { StudyAnnotations } from './versioning-rule';
import { decideAnnotationSet, nameKey } from './versioning-rule';

function measurement(overrides: Partial<Measurement> & { data?: number[]; sop?: string }): Measurement {
  const { data = [1, 1, 5, 5], sop = '1.2.3', ...rest } = overrides;
  const coordinates = { valueType: 'SCOORD' as const, graphicType: 'POLYLINE' as const, graphicData: data, image: { sopInstanceUID: sop, sopClassUID: '1.2.840.10008.5.1.4.1.1.2', frameNumbers: [] }, frameOfReferenceUID: null };
  const value = rest.value ?? 5.6;
  return {
    trackingUid: null,
    trackingIdentifier: 'Cornerstone3DTools@^0.1.0:Length',
    tool: 'Length',
    label: null,
    finding: null,
    findingSites: [],
    value,
    unit: 'mm',
    values: [{ concept: { value: '410668003', scheme: 'SCT', meaning: 'Length' }, value, unit: 'mm', coordinates }],
    image: coordinates.image,
    coordinates,
    ...rest,
  };
}

const doc = (...measurements: Measurement[]): AnnotationDocument => ({ title: 'x', measurements, labels: [] });

describe('diffDocuments', () => {
  it('matches by tracking UID first, whatever moved', () => {
    const a = measurement({ trackingUid: '1.1', sop: '9.9' });
    const b = measurement({ trackingUid: '1.1', sop: '9.8', data: [2, 2, 6, 6], value: 6 });
    const diff = diffDocuments(doc(a), doc(b));
    expect(diff.changed).toHaveLength(1);
    expect(diff.changed[0]).toMatchObject({ matchedBy: 'trackingUid' });
    expect(diff.changed[0]?.fields.sort()).toEqual(['coordinates', 'image', 'values']);
  });

  it('pairs the rest by tool and image, nearest geometry first; what is left is added or removed', () => {
    const near = measurement({ trackingUid: '1.1', data: [10, 10, 20, 20] });
    const far = measurement({ trackingUid: '1.2', data: [100, 100, 120, 120] });
    const moved = measurement({ trackingUid: '2.1', data: [101, 101, 121, 121], value: 9 });
    const same = measurement({ trackingUid: '2.2', data: [10, 10, 20, 20] });
    const elsewhere = measurement({ trackingUid: '2.3', sop: '7.7' });
    const diff = diffDocuments(doc(near, far), doc(moved, same, elsewhere));
    expect(diff.unchanged).toBe(1);
    expect(diff.changed.map((c) => [c.before.trackingUid, c.after.trackingUid, c.matchedBy])).toEqual([['1.2', '2.1', 'toolAndImage']]);
    expect(diff.added.map((m) => m.trackingUid)).toEqual(['2.3']);
    expect(diff.removed).toEqual([]);
  });

  it('reports a label change and a removal', () => {
    const a = measurement({ trackingUid: '1', label: 'nodule' });
    const b = measurement({ trackingUid: '1', label: 'mass' });
    const c = measurement({ trackingUid: '3', tool: 'EllipticalROI' });
    const diff = diffDocuments(doc(a, c), doc(b));
    expect(diff.changed[0]?.fields).toEqual(['label']);
    expect(diff.removed.map((m) => m.tool)).toEqual(['EllipticalROI']);
  });
});

describe('decideAnnotationSet', () => {
  const study: StudyAnnotations = {
    sets: [
      { setId: 'A', authorSub: 'alice', name: 'Lesions', currentVersion: 3 },
      { setId: 'B', authorSub: 'bob', name: 'Lesions', currentVersion: 1 },
    ],
    versions: [
      { setId: 'A', version: 1, sopUid: 'a1', seriesUid: 'sa' },
      { setId: 'A', version: 2, sopUid: 'a2', seriesUid: 'sa' },
      { setId: 'A', version: 3, sopUid: 'a3', seriesUid: 'sa3' },
      { setId: 'B', version: 1, sopUid: 'b1', seriesUid: 'sb' },
    ],
    selections: new Map(),
  };
  const report = (overrides: Partial<Parameters<typeof decideAnnotationSet>[0]>) => ({ authorSub: 'alice', title: 'Other', seriesInstanceUID: 'new', predecessorSopUids: [], ...overrides });

  it.each([
    ['a named predecessor wins, even of another author', report({ authorSub: 'carol', predecessorSopUids: ['x', 'a2'] }), { kind: 'next', setId: 'A', parentVersion: 2, rule: 'predecessor' }],
    ['the series of one set', report({ seriesInstanceUID: 'sb' }), { kind: 'next', setId: 'B', parentVersion: 1, rule: 'series' }],
    ['the author and the name (trimmed, any case)', report({ title: '  LESIONS ' }), { kind: 'next', setId: 'A', parentVersion: 3, rule: 'name' }],
    ['the name of another author only', report({ authorSub: 'carol', title: 'Lesions' }), { kind: 'new', rule: 'new' }],
    ['nothing matches', report({}), { kind: 'new', rule: 'new' }],
  ] as const)('%s', (_name, incoming, expected) => {
    expect(decideAnnotationSet(incoming, study)).toEqual(expected);
  });

  it('takes the version the author had open as the parent', () => {
    expect(decideAnnotationSet(report({ title: 'lesions' }), { ...study, selections: new Map([['A', 1]]) })).toEqual({ kind: 'next', setId: 'A', parentVersion: 1, rule: 'name' });
  });

  it('normalizes names', () => {
    expect(nameKey('  Lung   Nodules ')).toBe('lung nodules');
  });
});

describe('label vocabulary', () => {
  const terms = new Map<string, LabelTerm>(
    [
      normalizeTerm({ code: 'Nodule', display: 'Nodule' }),
      normalizeTerm({ code: 'grade', values: ['1', '2', '3'], levels: ['study'] }),
      normalizeTerm({ code: 'old', active: false }),
    ].map((t) => [t.code, t]),
  );

  it('normalizes terms and refuses bad ones', () => {
    expect(terms.get('nodule')).toMatchObject({ code: 'nodule', levels: ['study', 'series', 'instance'], values: [], active: true });
    expect(() => normalizeTerm({ code: 'Bad code!' })).toThrow(LabelError);
    expect(() => normalizeTerm({ code: 'x', levels: ['patient'] })).toThrow(LabelError);
  });

  it.each([
    [[{ code: 'unknown' }], 'study', 'unknown_label'],
    [[{ code: 'old' }], 'study', 'retired_label'],
    [[{ code: 'grade', value: '2' }], 'series', 'label_not_allowed_here'],
    [[{ code: 'grade' }], 'study', 'invalid_label_value'],
    [[{ code: 'grade', value: '7' }], 'study', 'invalid_label_value'],
    [[{ code: 'nodule', value: 'x' }], 'study', 'invalid_label_value'],
    [[{ code: 'nodule' }, { code: 'NODULE' }], 'study', 'duplicate_label'],
  ] as const)('refuses %j on a %s', (assignments, level, code) => {
    try {
      checkAssignments(assignments, level, terms);
      expect.unreachable();
    } catch (error) {
      expect((error as LabelError).code).toBe(code);
    }
  });

  it('sorts accepted labels by code', () => {
    expect(checkAssignments([{ code: 'nodule' }, { code: 'grade', value: '3' }], 'study', terms)).toEqual([
      { code: 'grade', value: '3' },
      { code: 'nodule', value: null },
    ]);
  });

  it('filters by every label as one parameter', () => {
    expect(normalizeLabelCodes([' Nodule', 'nodule', 'Grade'])).toEqual(['nodule', 'grade']);
    expect(labelMatchSql('s', '$4')).toContain('cardinality($4::text[])');
  });
});
