import { describe, expect, it } from 'vitest';
import type { DicomJson } from '../dicom/dicom-json-model';
import type { SegmentationDocument } from './segmentation-document';
import { diffSegmentations, isSegmentation, segmentationDocument } from './segmentation-document';

const cs = (value: string) => ({ vr: 'CS', Value: [value] });
const lo = (value: string) => ({ vr: 'LO', Value: [value] });
const code = (value: string, meaning: string) => ({ vr: 'SQ', Value: [{ '00080100': { vr: 'SH', Value: [value] }, '00080102': { vr: 'SH', Value: ['SCT'] }, '00080104': lo(meaning) }] });
const segment = (n: number, label: string, extra: DicomJson = {}) => ({
  '00620004': { vr: 'US', Value: [n] }, '00620005': lo(label), '00620008': cs('MANUAL'),
  '00620003': code('49755003', 'Morphologically Altered Structure'), '0062000F': code('52988006', 'Lesion'), ...extra,
});
const sourceImage = (sop: string) => ({ '00089124': { vr: 'SQ', Value: [{ '00082112': { vr: 'SQ', Value: [{ '00081155': { vr: 'UI', Value: [sop] } }] } }] } });

function seg(overrides: DicomJson = {}): DicomJson {
  return {
    '00080016': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.66.4'] },
    '0008103E': lo('Liver'),
    '00620001': cs('BINARY'),
    '00280008': { vr: 'IS', Value: [4] },
    '00280010': { vr: 'US', Value: [32] },
    '00280011': { vr: 'US', Value: [32] },
    '00620002': { vr: 'SQ', Value: [segment(2, 'cyst'), segment(1, 'lesion', { '00620009': lo('brush') })] },
    '00081115': { vr: 'SQ', Value: [{ '0020000E': { vr: 'UI', Value: ['1.2.3.1'] }, '0008114A': { vr: 'SQ', Value: [{ '00081155': { vr: 'UI', Value: ['1.2.3.1.1'] } }, { '00081155': { vr: 'UI', Value: ['1.2.3.1.2'] } }] } }] },
    ...overrides,
  } as DicomJson;
}

describe('segmentationDocument', () => {
  it('reads the segments in number order, their codes and algorithm, the references and the frame count', () => {
    const document = segmentationDocument(seg());
    expect(isSegmentation(seg())).toBe(true);
    expect(document).toMatchObject({ kind: 'segmentation', title: 'Liver', labels: ['lesion', 'cyst'], segmentationType: 'BINARY', frameCount: 4, rows: 32, columns: 32 });
    expect(document.segments[0]).toEqual({
      number: 1, label: 'lesion', description: null, algorithmType: 'MANUAL', algorithmName: 'brush',
      category: { value: '49755003', scheme: 'SCT', meaning: 'Morphologically Altered Structure' }, type: { value: '52988006', scheme: 'SCT', meaning: 'Lesion' },
    });
    expect(document.referencedSeries).toEqual([{ seriesInstanceUID: '1.2.3.1', sopInstanceUIDs: ['1.2.3.1.1', '1.2.3.1.2'] }]);
  });

  it('falls back to the content label for the name and to the per-frame source images for the references', () => {
    const document = segmentationDocument(seg({ '0008103E': { vr: 'LO' }, '00700080': { vr: 'CS', Value: ['TUMOUR'] }, '00081115': { vr: 'SQ', Value: [] }, '52009230': { vr: 'SQ', Value: [sourceImage('9.1'), sourceImage('9.2'), sourceImage('9.1')] } } as DicomJson));
    expect(document.title).toBe('TUMOUR');
    expect(document.referencedSeries).toEqual([{ seriesInstanceUID: '', sopInstanceUIDs: ['9.1', '9.2'] }]);
  });
});

describe('diffSegmentations', () => {
  const doc = (segments: [number, string][]): SegmentationDocument => segmentationDocument(seg({ '00620002': { vr: 'SQ', Value: segments.map(([n, l]) => segment(n, l)) } } as DicomJson));

  it.each([
    { name: 'nothing changed', before: [[1, 'a']], after: [[1, 'a']], added: [], removed: [], renamed: [], unchanged: 1 },
    { name: 'a segment added', before: [[1, 'a']], after: [[1, 'a'], [2, 'b']], added: [2], removed: [], renamed: [], unchanged: 1 },
    { name: 'a segment removed', before: [[1, 'a'], [2, 'b']], after: [[2, 'b']], added: [], removed: [1], renamed: [], unchanged: 1 },
    { name: 'a segment renamed', before: [[1, 'a']], after: [[1, 'A2']], added: [], removed: [], renamed: [{ number: 1, from: 'a', to: 'A2' }], unchanged: 0 },
  ] as const)('$name', ({ before, after, added, removed, renamed, unchanged }) => {
    const diff = diffSegmentations(doc(before as unknown as [number, string][]), doc(after as unknown as [number, string][]));
    expect(diff.added.map((s) => s.number)).toEqual(added);
    expect(diff.removed.map((s) => s.number)).toEqual(removed);
    expect(diff.renamed).toEqual(renamed);
    expect(diff.unchanged).toBe(unchanged);
  });

  it('a changed type code is a change, not a rename', () => {
    const before = doc([[1, 'a']]);
    const after = segmentationDocument(seg({ '00620002': { vr: 'SQ', Value: [segment(1, 'a', { '0062000F': code('27925004', 'Nodule') })] } } as DicomJson));
    expect(diffSegmentations(before, after)).toMatchObject({ renamed: [], unchanged: 0, changed: [{ fields: ['type'] }] });
  });
});
