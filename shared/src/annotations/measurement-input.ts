/**
 * Measurements as API clients write them, checked and completed into the
 * exact shape an SR is built from (MeasurementSpec). The short form names a
 * tool, a value and one graphic (`{ tool: 'Length', value: 12.5, unit: 'mm',
 * image: { sopInstanceUID }, coordinates: { graphicType: 'POLYLINE',
 * graphicData: [x1, y1, x2, y2] } }`); the long form lists every measured
 * value with its own concept and graphic, as read back from an SR. Defaults
 * follow the Cornerstone adapters, so the viewer loads the result as its own
 * tools.
 */
import type { Code, Coordinates, CoordinateValueType, GraphicType, ImageReference, Measurement } from './annotation-document';
import { coordinateValueTypes, freeTextCodeValues, freeTextScheme, graphicTypes } from './annotation-document';

export class MeasurementInputError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** Where in the input, e.g. `measurements[2].coordinates.graphicData`. */
    readonly path: string,
  ) {
    super(message);
    this.name = 'MeasurementInputError';
  }
}

export interface ImageInput {
  sopInstanceUID: string;
  frameNumbers?: number[] | undefined;
  frameNumber?: number | undefined;
}

export interface CoordinatesInput {
  valueType?: CoordinateValueType | undefined;
  graphicType: string;
  graphicData: number[];
  image?: ImageInput | null | undefined;
  frameOfReferenceUID?: string | null | undefined;
}

export interface ValueInput {
  concept?: Code | undefined;
  /** A concept by name only (e.g. "Length"): looked up in the known concepts. */
  name?: string | undefined;
  value: number | null;
  unit?: string | null | undefined;
  coordinates?: CoordinatesInput | null | undefined;
}

export interface MeasurementInput {
  trackingUid?: string | null | undefined;
  trackingIdentifier?: string | null | undefined;
  tool?: string | undefined;
  label?: string | null | undefined;
  findingSites?: Code[] | undefined;
  value?: number | null | undefined;
  unit?: string | null | undefined;
  values?: ValueInput[] | undefined;
  image?: ImageInput | null | undefined;
  coordinates?: CoordinatesInput | null | undefined;
}

/** A measurement ready to be written: every value has its concept, every graphic its image or frame of reference. */
export interface MeasurementSpec {
  trackingUid: string;
  trackingIdentifier: string;
  label: string | null;
  /** A coded finding read from an SR (kept as it was); a label becomes a free-text finding. */
  finding: Code | null;
  findingSites: Code[];
  values: { concept: Code; value: number | null; unit: string | null; coordinates: Coordinates | null }[];
}

/** The Cornerstone tools' tracking identifier prefix: what OHIF's SR loader recognizes. */
export const cornerstoneTrackingPrefix = 'Cornerstone3DTools@^0.1.0';

const knownConcepts: Record<string, Code> = {
  length: { value: '410668003', scheme: 'SCT', meaning: 'Length' },
  area: { value: '42798000', scheme: 'SCT', meaning: 'Area' },
  'long axis': { value: '103339001', scheme: 'SCT', meaning: 'Long Axis' },
  'short axis': { value: '103340004', scheme: 'SCT', meaning: 'Short Axis' },
  angle: { value: '1483009', scheme: 'SCT', meaning: 'Angle' },
  mean: { value: '373098007', scheme: 'SCT', meaning: 'Mean' },
  'standard deviation': { value: '386136009', scheme: 'SCT', meaning: 'Standard Deviation' },
  maximum: { value: '56851009', scheme: 'SCT', meaning: 'Maximum' },
  minimum: { value: '255605001', scheme: 'SCT', meaning: 'Minimum' },
  perimeter: { value: '131191004', scheme: 'SCT', meaning: 'Perimeter' },
  center: { value: '111010', scheme: 'DCM', meaning: 'Center' },
};

/** What a tool measures first, its unit and its graphic, as the Cornerstone adapters write them. */
const toolDefaults: Record<string, { concept: string; unit: string | null; graphicType: GraphicType }> = {
  Length: { concept: 'length', unit: 'mm', graphicType: 'POLYLINE' },
  Bidirectional: { concept: 'long axis', unit: 'mm', graphicType: 'POLYLINE' },
  EllipticalROI: { concept: 'area', unit: 'mm2', graphicType: 'ELLIPSE' },
  CircleROI: { concept: 'area', unit: 'mm2', graphicType: 'CIRCLE' },
  RectangleROI: { concept: 'area', unit: 'mm2', graphicType: 'POLYLINE' },
  PlanarFreehandROI: { concept: 'area', unit: 'mm2', graphicType: 'POLYLINE' },
  Angle: { concept: 'angle', unit: 'deg', graphicType: 'POLYLINE' },
  CobbAngle: { concept: 'angle', unit: 'deg', graphicType: 'POLYLINE' },
  ArrowAnnotate: { concept: 'center', unit: null, graphicType: 'POLYLINE' },
  Probe: { concept: 'center', unit: null, graphicType: 'POINT' },
};

export const knownTools = Object.keys(toolDefaults);

const uidPattern = /^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$/;
export function isUid(value: string): boolean {
  return value.length <= 64 && uidPattern.test(value);
}

/** Code Meaning is LO: a label longer than 64 characters would not fit the free-text finding. */
export const maxLabelLength = 64;

function fail(code: string, message: string, path: string): never {
  throw new MeasurementInputError(code, message, path);
}

function conceptFor(name: string, path: string): Code {
  return knownConcepts[name.trim().toLowerCase()] ?? fail('unknown_concept', `"${name}" is not a known measurement concept (give a coded concept instead: value, scheme, meaning).`, path);
}

function imageOf(input: ImageInput | null | undefined, path: string): ImageReference | null {
  if (!input) return null;
  if (!isUid(input.sopInstanceUID)) fail('invalid_uid', 'sopInstanceUID is not a DICOM UID.', `${path}.sopInstanceUID`);
  const frames = input.frameNumbers ?? (input.frameNumber !== undefined ? [input.frameNumber] : []);
  for (const frame of frames) if (!Number.isInteger(frame) || frame < 1) fail('invalid_frame', 'Frame numbers are whole numbers from 1.', `${path}.frameNumbers`);
  return { sopInstanceUID: input.sopInstanceUID, sopClassUID: null, frameNumbers: frames };
}

/** How many numbers a graphic type needs (per point: 2 for SCOORD, 3 for SCOORD3D). */
function checkGraphicData(type: GraphicType, data: readonly number[], dimensions: number, path: string): void {
  if (data.some((v) => !Number.isFinite(v))) fail('invalid_coordinates', 'Graphic data must be finite numbers.', path);
  if (data.length % dimensions !== 0) fail('invalid_coordinates', `Graphic data holds ${dimensions === 2 ? 'column/row pairs' : 'x/y/z triplets'}: ${data.length} numbers do not make whole points.`, path);
  const points = data.length / dimensions;
  const needed: Record<GraphicType, [number, number]> = {
    POINT: [1, 1], MULTIPOINT: [1, Infinity], POLYLINE: [2, Infinity], POLYGON: [3, Infinity], CIRCLE: [2, 2], ELLIPSE: [4, 4], ELLIPSOID: [6, 6],
  };
  const [min, max] = needed[type];
  if (points < min || points > max) fail('invalid_coordinates', `A ${type} has ${min === max ? min : `at least ${min}`} point${min === 1 && max === 1 ? '' : 's'}; got ${points}.`, path);
}

function coordinatesOf(input: CoordinatesInput, fallbackImage: ImageReference | null, path: string): Coordinates {
  const graphicType = input.graphicType.toUpperCase() as GraphicType;
  if (!(graphicTypes as readonly string[]).includes(graphicType)) fail('invalid_coordinates', `Unknown graphic type ${input.graphicType} (one of ${graphicTypes.join(', ')}).`, `${path}.graphicType`);
  const valueType: CoordinateValueType = input.valueType ?? (input.frameOfReferenceUID ? 'SCOORD3D' : 'SCOORD');
  if (!(coordinateValueTypes as readonly string[]).includes(valueType)) fail('invalid_coordinates', 'valueType is SCOORD or SCOORD3D.', `${path}.valueType`);
  if (valueType === 'SCOORD3D') {
    if (graphicType === 'CIRCLE') fail('invalid_coordinates', 'SCOORD3D has no CIRCLE (use ELLIPSE).', `${path}.graphicType`);
    if (!input.frameOfReferenceUID || !isUid(input.frameOfReferenceUID)) fail('invalid_coordinates', 'SCOORD3D needs the frameOfReferenceUID its points are in.', `${path}.frameOfReferenceUID`);
    checkGraphicData(graphicType, input.graphicData, 3, `${path}.graphicData`);
    return { valueType, graphicType, graphicData: [...input.graphicData], image: null, frameOfReferenceUID: input.frameOfReferenceUID };
  }
  if (graphicType === 'ELLIPSOID') fail('invalid_coordinates', 'ELLIPSOID is SCOORD3D only.', `${path}.graphicType`);
  checkGraphicData(graphicType, input.graphicData, 2, `${path}.graphicData`);
  const image = input.image ? imageOf(input.image, `${path}.image`) : fallbackImage;
  if (!image) fail('image_required', 'Image coordinates (SCOORD) need the image they are on.', `${path}.image`);
  return { valueType, graphicType, graphicData: [...input.graphicData], image, frameOfReferenceUID: null };
}

function unitOf(unit: string | null | undefined, path: string): string | null {
  if (unit === null || unit === undefined || unit === '') return null;
  if (unit.length > 16 || /[\\\n\r]/.test(unit)) fail('invalid_unit', 'A unit is a UCUM code of at most 16 characters (e.g. mm, mm2, deg).', path);
  return unit;
}

function checkCode(code: Code, path: string): Code {
  if (!code.value || code.value.length > 16 || !code.scheme || code.scheme.length > 16 || !code.meaning || code.meaning.length > 64) {
    fail('invalid_code', 'A code has a value and a scheme (16 characters at most each) and a meaning (64 at most).', path);
  }
  return { value: code.value, scheme: code.scheme, meaning: code.meaning };
}

/**
 * Checks one measurement and fills in the defaults. `newTrackingUid` makes
 * the identity of a measurement that has none yet.
 */
export function measurementSpec(input: MeasurementInput, path: string, newTrackingUid: () => string): MeasurementSpec {
  const trackingUid = input.trackingUid ?? newTrackingUid();
  if (!isUid(trackingUid)) fail('invalid_uid', 'trackingUid is not a DICOM UID.', `${path}.trackingUid`);
  const tool = input.tool?.trim() || (input.trackingIdentifier?.includes(':') ? input.trackingIdentifier.slice(input.trackingIdentifier.lastIndexOf(':') + 1) : '');
  if (!tool && !input.trackingIdentifier) fail('tool_required', 'Name the tool (e.g. Length, EllipticalROI) or give a trackingIdentifier.', `${path}.tool`);
  if (tool && !/^[A-Za-z0-9_ -]{1,40}$/.test(tool)) fail('invalid_tool', 'A tool name has letters, digits, spaces, - and _ (40 at most).', `${path}.tool`);
  const trackingIdentifier = input.trackingIdentifier?.trim() || `${cornerstoneTrackingPrefix}:${tool}`;
  if (trackingIdentifier.length > 1024) fail('invalid_tracking_identifier', 'trackingIdentifier is too long.', `${path}.trackingIdentifier`);
  const label = input.label?.trim() || null;
  if (label && label.length > maxLabelLength) fail('label_too_long', `A measurement label has at most ${maxLabelLength} characters.`, `${path}.label`);
  const image = imageOf(input.image, `${path}.image`);
  const defaults = toolDefaults[tool];

  let values: MeasurementSpec['values'];
  if (input.values && input.values.length > 0) {
    values = input.values.map((v, i) => {
      const at = `${path}.values[${i}]`;
      const concept = v.concept ? checkCode(v.concept, `${at}.concept`) : v.name ? conceptFor(v.name, `${at}.name`) : fail('concept_required', 'Each value names what it measures (concept or name).', at);
      if (v.value !== null && !Number.isFinite(v.value)) fail('invalid_value', 'A value is a finite number or null.', `${at}.value`);
      return { concept, value: v.value, unit: unitOf(v.unit, `${at}.unit`), coordinates: v.coordinates ? coordinatesOf(v.coordinates, image, `${at}.coordinates`) : null };
    });
    if (input.coordinates && !values.some((v) => v.coordinates)) {
      const first = values[0] as MeasurementSpec['values'][number];
      first.coordinates = coordinatesOf(input.coordinates, image, `${path}.coordinates`);
    }
  } else {
    if (!defaults) fail('values_required', `${tool || 'This tool'} is not a known tool (${knownTools.join(', ')}): list its values with their concepts.`, `${path}.values`);
    if (input.value !== undefined && input.value !== null && !Number.isFinite(input.value)) fail('invalid_value', 'A value is a finite number or null.', `${path}.value`);
    const coordinates = input.coordinates ? coordinatesOf({ ...input.coordinates, graphicType: input.coordinates.graphicType || defaults.graphicType }, image, `${path}.coordinates`) : null;
    values = [{ concept: knownConcepts[defaults.concept] as Code, value: input.value ?? null, unit: input.unit === undefined ? defaults.unit : unitOf(input.unit, `${path}.unit`), coordinates }];
  }
  if (!values.some((v) => v.coordinates)) fail('coordinates_required', 'A measurement needs coordinates: where on which image (or in which frame of reference) it was drawn.', `${path}.coordinates`);
  return {
    trackingUid,
    trackingIdentifier,
    label,
    finding: null,
    findingSites: (input.findingSites ?? []).map((c, i) => checkCode(c, `${path}.findingSites[${i}]`)),
    values,
  };
}

/** A measurement read from an SR, as it would be written again (restoring a version). */
export function specOfMeasurement(m: Measurement, newTrackingUid: () => string): MeasurementSpec {
  const freeTextFinding = m.finding && (freeTextCodeValues as readonly string[]).includes(m.finding.value);
  return {
    trackingUid: m.trackingUid ?? newTrackingUid(),
    trackingIdentifier: m.trackingIdentifier ?? `${cornerstoneTrackingPrefix}:${m.tool}`,
    // A free-text finding is the label; free-text finding sites travel as they are.
    label: freeTextFinding ? (m.finding?.meaning ?? null) : null,
    finding: freeTextFinding ? null : m.finding,
    findingSites: m.findingSites,
    values: m.values.map((v) => ({ concept: v.concept, value: v.value, unit: v.unit, coordinates: v.coordinates })),
  };
}

/** The free-text finding a label is written as (dcmjs' private scheme, as the Cornerstone adapters write it). */
export function freeTextFinding(label: string): Code {
  return { value: freeTextCodeValues[0], scheme: freeTextScheme, meaning: label };
}
