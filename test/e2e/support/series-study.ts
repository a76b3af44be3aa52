/**
 * One study with series of different kinds, as Part 10 files written by the
 * independent test writer (test/fixtures/dicom/build-dicom.ts): a CT stack, an
 * MR stack and a native multi-frame X-ray angiography run. Pixels are a noisy
 * phantom (not uniform), left-right symmetric except for a bright marker that
 * moves from the left edge (first slice or frame) to the right edge (last),
 * so a screenshot of the viewport tells which end of a series is drawn.
 */
import { type ElementSpec, buildPart10, el, transferSyntaxes } from '../../fixtures/dicom/build-dicom';

export interface SeriesSpec {
  modality: 'CT' | 'MR' | 'XA';
  description: string;
  seriesNumber: number;
  /** Single-frame instances of a stack, or frames of the one multi-frame instance. */
  frames: number;
  matrix: number;
  multiFrame: boolean;
}

export interface BuiltFile {
  name: string;
  bytes: Uint8Array;
}

const sopClasses = { CT: '1.2.840.10008.5.1.4.1.1.2', MR: '1.2.840.10008.5.1.4.1.1.4', XA: '1.2.840.10008.5.1.4.1.1.12.1' } as const;
const root = '1.2.826.0.1.3680043.10.1000.61';

/** The default study: 40 CT slices, 20 MR slices, one angiography run of 10 frames. */
export const defaultSeries: readonly SeriesSpec[] = [
  { modality: 'CT', description: 'AXIAL 2.5 ABDOMEN', seriesNumber: 1, frames: 40, matrix: 128, multiFrame: false },
  { modality: 'MR', description: 'AX T2 TSE', seriesNumber: 2, frames: 20, matrix: 96, multiFrame: false },
  { modality: 'XA', description: 'LEFT CORONARY RUN', seriesNumber: 3, frames: 10, matrix: 128, multiFrame: true },
];

/** A deterministic noise source (numerical recipes LCG), centred on 0. */
function noise(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 0x100000000 - 0.5;
  };
}

/**
 * One frame of the phantom as stored values: `t` in [0, 1] moves through the
 * series (the body's outline changes and the marker crosses from left to right).
 */
function phantomFrame(spec: SeriesSpec, t: number, seed: number): number[] {
  const n = spec.matrix;
  const rand = noise(seed);
  const a = 0.78 + 0.1 * Math.sin(Math.PI * t);
  const b = 0.58 + 0.06 * Math.cos(Math.PI * t);
  const markerX = -0.6 + 1.2 * t;
  const values: number[] = new Array<number>(n * n);
  for (let row = 0; row < n; row++) {
    const y = -1 + (2 * row) / (n - 1);
    for (let column = 0; column < n; column++) {
      const x = -1 + (2 * column) / (n - 1);
      const r = (x / a) ** 2 + (y / b) ** 2;
      const inBody = r < 1;
      const inMarker = (x - markerX) ** 2 + (y + 0.1) ** 2 < 0.16 ** 2;
      let value: number;
      if (spec.modality === 'CT') {
        // Stored value = HU + 1024: air, soft tissue, a bone ring, a dense marker.
        let hu = -1000;
        if (inBody) hu = r > 0.86 ? 700 : 40 + 25 * Math.cos(7 * y);
        if (inMarker && inBody) hu = 230;
        value = Math.round(hu + 1024 + 24 * rand());
      } else if (spec.modality === 'MR') {
        let signal = 0;
        if (inBody) signal = 520 + 160 * Math.cos(5 * y + 3 * t) * Math.cos(4 * x);
        if (inMarker && inBody) signal = 1150;
        value = Math.round(Math.abs(signal + 40 * rand()));
      } else {
        // Angiography: a bright field of view, a symmetric vessel pair, contrast (the marker) moving along.
        let level = inBody ? 70 + 20 * Math.cos(3 * y) : 20;
        const vessel = Math.abs(Math.abs(x) - 0.35 - 0.1 * Math.sin(4 * y)) < 0.035;
        if (vessel && inBody) level = 150;
        if (inMarker) level = 240;
        value = Math.round(level + 16 * rand());
      }
      const max = spec.modality === 'XA' ? 255 : 4095;
      values[row * n + column] = Math.min(max, Math.max(0, value));
    }
  }
  return values;
}

function pixelBytes(spec: SeriesSpec, frames: number[][]): Uint8Array {
  if (spec.modality === 'XA') return Uint8Array.from(frames.flat());
  const out = new Uint8Array(frames.length * spec.matrix * spec.matrix * 2);
  const view = new DataView(out.buffer);
  frames.flat().forEach((value, index) => (spec.modality === 'CT' ? view.setInt16(index * 2, value, true) : view.setUint16(index * 2, value, true)));
  return out;
}

const ds = (...values: number[]): string => values.map((v) => String(Math.round(v * 1000) / 1000)).join('\\');

/** The Part 10 files of the study (one per CT/MR slice, one for the multi-frame run). */
export function buildSeriesStudy(series: readonly SeriesSpec[] = defaultSeries, seed = 61): BuiltFile[] {
  const studyUid = `${root}.${seed}`;
  const frameOfReference = `${root}.${seed}.9`;
  const patient = [
    el(0x00100010, 'PN', 'HALVORSEN^INGRID'),
    el(0x00100020, 'LO', `MRN-${seed}-4471`),
    el(0x00100030, 'DA', '19580412'),
    el(0x00100040, 'CS', 'F'),
  ];
  const files: BuiltFile[] = [];
  for (const spec of series) {
    const seriesUid = `${studyUid}.${spec.seriesNumber}`;
    const sopClassUid = sopClasses[spec.modality];
    const fov = spec.modality === 'MR' ? 230 : 360;
    const spacing = fov / spec.matrix;
    const thickness = spec.modality === 'CT' ? 2.5 : 5;
    const instanceCount = spec.multiFrame ? 1 : spec.frames;
    for (let i = 0; i < instanceCount; i++) {
      const sopUid = `${seriesUid}.${i + 1}`;
      const frameIndexes = spec.multiFrame ? Array.from({ length: spec.frames }, (_, f) => f) : [i];
      const frames = frameIndexes.map((f) => phantomFrame(spec, f / Math.max(1, spec.frames - 1), seed * 1000 + spec.seriesNumber * 100 + f));
      const z = -thickness * i;
      const common: ElementSpec[] = [
        el(0x00080005, 'CS', 'ISO_IR 100'),
        el(0x00080008, 'CS', spec.modality === 'XA' ? 'ORIGINAL\\PRIMARY\\SINGLE PLANE' : 'ORIGINAL\\PRIMARY\\AXIAL'),
        el(0x00080016, 'UI', sopClassUid),
        el(0x00080018, 'UI', sopUid),
        el(0x00080020, 'DA', '20240918'),
        el(0x00080021, 'DA', '20240918'),
        el(0x00080030, 'TM', '101500'),
        el(0x00080031, 'TM', `10${String(15 + spec.seriesNumber).padStart(2, '0')}00`),
        el(0x00080050, 'SH', `ACC${seed}7731`),
        el(0x00080060, 'CS', spec.modality),
        el(0x00080070, 'LO', 'SYNTHETIC'),
        el(0x00080080, 'LO', 'FJORD UNIVERSITY HOSPITAL'),
        el(0x00080090, 'PN', 'NILSEN^ERIK'),
        el(0x00081030, 'LO', 'CT ABDOMEN, MR, ANGIO'),
        el(0x0008103e, 'LO', spec.description),
        ...patient,
        el(0x0020000d, 'UI', studyUid),
        el(0x0020000e, 'UI', seriesUid),
        el(0x00200010, 'SH', '1'),
        el(0x00200011, 'IS', String(spec.seriesNumber)),
        el(0x00200013, 'IS', String(i + 1)),
        el(0x00200060, 'CS', ''), // Laterality: not a paired body part
        el(0x00280002, 'US', [1]),
        el(0x00280004, 'CS', 'MONOCHROME2'),
        el(0x00280010, 'US', [spec.matrix]),
        el(0x00280011, 'US', [spec.matrix]),
        el(0x00280030, 'DS', ds(spacing, spacing)),
      ];
      let specific: ElementSpec[];
      if (spec.modality === 'XA') {
        specific = [
          el(0x00180060, 'DS', '80'), // KVP
          el(0x00181063, 'DS', '66.7'), // Frame Time
          el(0x00181150, 'IS', '7'), // Exposure Time
          el(0x00181151, 'IS', '500'), // X-Ray Tube Current
          el(0x00181152, 'IS', '4'), // Exposure
          el(0x00181155, 'CS', 'GR'), // Radiation Setting
          el(0x00181500, 'CS', 'STATIC'), // Positioner Motion
          el(0x00181510, 'DS', '-30'), // Positioner Primary Angle
          el(0x00181511, 'DS', '20'), // Positioner Secondary Angle
          el(0x00200020, 'CS', ''), // Patient Orientation
          el(0x00280008, 'IS', String(spec.frames)),
          el(0x00280009, 'AT', [0x00181063]), // Frame Increment Pointer → Frame Time
          el(0x00280100, 'US', [8]),
          el(0x00280101, 'US', [8]),
          el(0x00280102, 'US', [7]),
          el(0x00280103, 'US', [0]),
          el(0x00280301, 'CS', 'NO'), // Burned In Annotation
          el(0x00281040, 'CS', 'LIN'), // Pixel Intensity Relationship
          el(0x00281050, 'DS', '128'),
          el(0x00281051, 'DS', '256'),
          el(0x7fe00010, 'OB', pixelBytes(spec, frames)),
        ];
      } else {
        specific = [
          el(0x00180050, 'DS', ds(thickness)),
          el(0x00185100, 'CS', 'HFS'), // Patient Position
          el(0x00200012, 'IS', '1'), // Acquisition Number
          el(0x00200032, 'DS', ds(-fov / 2, -fov / 2, z)),
          el(0x00200037, 'DS', '1\\0\\0\\0\\1\\0'),
          el(0x00200052, 'UI', frameOfReference),
          el(0x00201040, 'LO', ''), // Position Reference Indicator
          el(0x00201041, 'DS', ds(z)),
          ...(spec.modality === 'CT'
            ? [el(0x00180060, 'DS', '120')] // KVP
            : [
                el(0x00180020, 'CS', 'SE'), // Scanning Sequence
                el(0x00180021, 'CS', 'SK'), // Sequence Variant
                el(0x00180022, 'CS', ''), // Scan Options
                el(0x00180023, 'CS', '2D'), // MR Acquisition Type
                el(0x00180080, 'DS', '4000'), // Repetition Time
                el(0x00180081, 'DS', '90'), // Echo Time
                el(0x00180091, 'IS', '16'), // Echo Train Length
              ]),
          el(0x00280100, 'US', [16]),
          ...(spec.modality === 'CT'
            ? [el(0x00280101, 'US', [16]), el(0x00280102, 'US', [15]), el(0x00280103, 'US', [1]), el(0x00281050, 'DS', '40'), el(0x00281051, 'DS', '400'), el(0x00281052, 'DS', '-1024'), el(0x00281053, 'DS', '1')]
            : [el(0x00280101, 'US', [12]), el(0x00280102, 'US', [11]), el(0x00280103, 'US', [0]), el(0x00281050, 'DS', '600'), el(0x00281051, 'DS', '1200')]),
          el(0x7fe00010, 'OW', pixelBytes(spec, frames)),
        ];
      }
      const bytes = buildPart10([...common, ...specific], { transferSyntax: transferSyntaxes.explicitLittle, sopClassUid, sopInstanceUid: sopUid });
      files.push({ name: `SE${spec.seriesNumber}-IM${String(i + 1).padStart(4, '0')}.dcm`, bytes });
    }
  }
  return files;
}
