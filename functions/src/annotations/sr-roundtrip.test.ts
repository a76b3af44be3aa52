/**
 * A measurement report built from JSON, written with dcmjs, de-identified as
 * an object derived from lake data and read back: the same measurements,
 * the lake's study and image UIDs, the patient's pseudonym and dates kept.
 */
import dcmjs from 'dcmjs';
import { describe, expect, it } from 'vitest';
import { documentFromSr, isMeasurementReport, predecessorSopUids } from '@medlake/shared/annotations/annotation-document';
import type { MeasurementInput } from '@medlake/shared/annotations/measurement-input';
import { MeasurementInputError, measurementSpec, specOfMeasurement } from '@medlake/shared/annotations/measurement-input';
import type { MeasurementReportInput } from '@medlake/shared/annotations/sr-content';
import { measurementReportDataset, reportOwnUids } from '@medlake/shared/annotations/sr-content';
import { deidentifyPart10 } from '@medlake/shared/dicom/deidentify-part10';
import { phiInstance, phiPart10 } from '../../../test/fixtures/dicom/phi-instance';
import { newUid } from './annotation-versions';
import { writeSrPart10 } from './sr-writer';

const key = new Uint8Array(32).map((_, i) => i * 11 + 3);

/** An image as the lake holds it: de-identified, with its new UIDs, pseudonym and shifted date. */
const image = deidentifyPart10(phiPart10(phiInstance()), { key });
const imageFrame = image.uids.frameOfReference as string;
const study = {
  studyInstanceUID: image.uids.study,
  patientId: image.patientPseudonym,
  patientName: image.patientPseudonym,
  patientSex: 'F',
  patientAge: '045Y',
  studyDate: String(image.dicomJson['00080020']?.Value?.[0] ?? ''),
  studyTime: '101010',
  accessionNumber: String(image.dicomJson['00080050']?.Value?.[0] ?? ''),
  studyId: null,
  studyDescription: 'CT CHEST',
};

const inputs: MeasurementInput[] = [
  { tool: 'Length', label: 'nodule', value: 12.5, unit: 'mm', image: { sopInstanceUID: image.uids.sop }, coordinates: { graphicType: 'POLYLINE', graphicData: [10, 10, 20, 18] } },
  { tool: 'EllipticalROI', value: 154.2, image: { sopInstanceUID: image.uids.sop }, coordinates: { graphicType: 'ELLIPSE', graphicData: [5, 10, 25, 10, 15, 4, 15, 16] } },
  {
    tool: 'Bidirectional',
    image: { sopInstanceUID: image.uids.sop },
    values: [
      { name: 'Long Axis', value: 30, unit: 'mm', coordinates: { graphicType: 'POLYLINE', graphicData: [1, 1, 31, 1] } },
      { name: 'Short Axis', value: 10, unit: 'mm', coordinates: { graphicType: 'POLYLINE', graphicData: [16, -4, 16, 6] } },
    ],
  },
  { tool: 'Probe3D', values: [{ name: 'Center', value: null, coordinates: { graphicType: 'POINT', graphicData: [1.5, -2, 30], frameOfReferenceUID: imageFrame } }] },
];

function report(overrides: Partial<MeasurementReportInput> = {}): MeasurementReportInput {
  return {
    title: 'Lesions',
    measurements: inputs.map((m, i) => measurementSpec(m, `measurements[${i}]`, newUid)),
    study,
    sopInstanceUID: newUid(),
    seriesInstanceUID: newUid(),
    seriesNumber: 3001,
    instanceNumber: 1,
    images: new Map([[image.uids.sop, { seriesInstanceUID: image.uids.series, sopClassUID: image.uids.sopClass }]]),
    createdAt: new Date('2026-11-25T10:11:12Z'),
    ...overrides,
  };
}

function lakeContext(input: MeasurementReportInput) {
  return {
    knownUids: new Set([image.uids.study, image.uids.series, image.uids.sop, imageFrame, ...reportOwnUids(input)]),
    patientPseudonym: image.patientPseudonym,
    accessionNumber: study.accessionNumber,
  };
}

describe('measurement report round trip', () => {
  it('reads back the measurements it was built from, in the study it belongs to', () => {
    const input = report();
    const stored = deidentifyPart10(writeSrPart10(measurementReportDataset(input)), { key, derivedFrom: lakeContext(input) });
    expect(stored.uids.study).toBe(image.uids.study);
    expect(stored.uids.sop).toBe(input.sopInstanceUID);
    expect(stored.uids.series).toBe(input.seriesInstanceUID);
    expect(stored.uids.sopClass).toBe('1.2.840.10008.5.1.4.1.1.88.34'); // a SCOORD3D makes it Comprehensive 3D
    expect(stored.patientPseudonym).toBe(image.patientPseudonym);
    expect(stored.dateShiftDays).toBe(0);
    expect(stored.dicomJson['00080020']?.Value?.[0]).toBe(study.studyDate);
    expect(stored.dicomJson['00080050']?.Value?.[0]).toBe(study.accessionNumber);
    expect(isMeasurementReport(stored.dicomJson)).toBe(true);

    const document = documentFromSr(stored.dicomJson);
    expect(document.title).toBe('Lesions');
    expect(document.labels).toEqual(['nodule']);
    expect(document.measurements.map((m) => m.tool)).toEqual(['Length', 'EllipticalROI', 'Bidirectional', 'Probe3D']);
    const [length, ellipse, bidirectional, probe] = document.measurements;
    expect(length).toMatchObject({ label: 'nodule', value: 12.5, unit: 'mm', trackingUid: input.measurements[0]?.trackingUid, trackingIdentifier: 'Cornerstone3DTools@^0.1.0:Length' });
    expect(length?.image).toEqual({ sopInstanceUID: image.uids.sop, sopClassUID: image.uids.sopClass, frameNumbers: [] });
    expect(length?.coordinates).toMatchObject({ valueType: 'SCOORD', graphicType: 'POLYLINE', graphicData: [10, 10, 20, 18] });
    expect(length?.values[0]?.concept).toEqual({ value: '410668003', scheme: 'SCT', meaning: 'Length' });
    expect(ellipse).toMatchObject({ value: 154.2, unit: 'mm2', coordinates: { graphicType: 'ELLIPSE' } });
    expect(bidirectional?.values.map((v) => [v.concept.meaning, v.value, v.coordinates?.graphicData])).toEqual([
      ['Long Axis', 30, [1, 1, 31, 1]],
      ['Short Axis', 10, [16, -4, 16, 6]],
    ]);
    expect(probe?.coordinates).toEqual({ valueType: 'SCOORD3D', graphicType: 'POINT', graphicData: [1.5, -2, 30], image: null, frameOfReferenceUID: imageFrame });
    expect(probe?.value).toBeNull();

    // Written again from what was read (a restore), the content is the same.
    const again = report({ measurements: document.measurements.map((m) => specOfMeasurement(m, newUid)), sopInstanceUID: newUid() });
    const restored = documentFromSr(deidentifyPart10(writeSrPart10(measurementReportDataset(again)), { key, derivedFrom: lakeContext(again) }).dicomJson);
    expect(restored.measurements).toEqual(document.measurements);
  });

  it('names its predecessor, whose UIDs the lake knows', () => {
    const first = report();
    const second = report({ sopInstanceUID: newUid(), seriesInstanceUID: first.seriesInstanceUID, predecessor: { seriesInstanceUID: first.seriesInstanceUID, sopInstanceUID: first.sopInstanceUID, sopClassUID: '1.2.840.10008.5.1.4.1.1.88.34' } });
    const derived = lakeContext(second);
    derived.knownUids.add(first.sopInstanceUID);
    const stored = deidentifyPart10(writeSrPart10(measurementReportDataset(second)), { key, derivedFrom: derived });
    expect(predecessorSopUids(stored.dicomJson)).toEqual([first.sopInstanceUID]);
  });

  it('without the lake context, a posted object is new data: other study, other patient, dates shifted again', () => {
    const input = report();
    const stored = deidentifyPart10(writeSrPart10(measurementReportDataset(input)), { key });
    expect(stored.uids.study).not.toBe(image.uids.study);
    expect(stored.patientPseudonym).not.toBe(image.patientPseudonym);
    expect(stored.dateShiftDays).not.toBe(0);
  });

  it('is readable by dcmjs as the TID 1500 layout the viewer expects', () => {
    const bytes = writeSrPart10(measurementReportDataset(report()));
    const dict = dcmjs.data.DicomMessage.readFile(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
    const dataset = dcmjs.data.DicomMetaDictionary.naturalizeDataset(dict.dict) as { ContentSequence: { ConceptNameCodeSequence: { CodeMeaning: string } | { CodeMeaning: string }[]; ContentSequence?: unknown[] }[]; ContentTemplateSequence: { TemplateIdentifier: string } | { TemplateIdentifier: string }[] };
    const first = <T>(x: T | T[]): T => (Array.isArray(x) ? (x[0] as T) : x);
    expect(first(dataset.ContentTemplateSequence).TemplateIdentifier).toBe('1500');
    // OHIF checks the fifth content item for measurements before it stores a report.
    expect(first(dataset.ContentSequence[4]?.ConceptNameCodeSequence as { CodeMeaning: string }).CodeMeaning).toBe('Imaging Measurements');
    expect(dataset.ContentSequence[4]?.ContentSequence).toHaveLength(4);
  });
});

describe('measurement input', () => {
  const check = (input: MeasurementInput) => () => measurementSpec(input, 'measurements[0]', newUid);
  it.each([
    ['no tool', { value: 1, coordinates: { graphicType: 'POINT', graphicData: [1, 1] }, image: { sopInstanceUID: '1.2.3' } }, 'tool_required'],
    ['an unknown tool without values', { tool: 'Magic', image: { sopInstanceUID: '1.2.3' }, coordinates: { graphicType: 'POINT', graphicData: [1, 1] } }, 'values_required'],
    ['no coordinates', { tool: 'Length', value: 3 }, 'coordinates_required'],
    ['an ellipse of three points', { tool: 'EllipticalROI', image: { sopInstanceUID: '1.2.3' }, coordinates: { graphicType: 'ELLIPSE', graphicData: [1, 1, 2, 2, 3, 3] } }, 'invalid_coordinates'],
    ['odd graphic data', { tool: 'Length', image: { sopInstanceUID: '1.2.3' }, coordinates: { graphicType: 'POLYLINE', graphicData: [1, 1, 2] } }, 'invalid_coordinates'],
    ['a 2D graphic without an image', { tool: 'Length', coordinates: { graphicType: 'POLYLINE', graphicData: [1, 1, 2, 2] } }, 'image_required'],
    ['SCOORD3D without a frame of reference', { tool: 'Probe', coordinates: { valueType: 'SCOORD3D', graphicType: 'POINT', graphicData: [1, 1, 2] } }, 'invalid_coordinates'],
    ['a label too long for a code meaning', { tool: 'Length', label: 'x'.repeat(65), image: { sopInstanceUID: '1.2.3' }, coordinates: { graphicType: 'POLYLINE', graphicData: [1, 1, 2, 2] } }, 'label_too_long'],
    ['a bad image UID', { tool: 'Length', image: { sopInstanceUID: 'abc' }, coordinates: { graphicType: 'POLYLINE', graphicData: [1, 1, 2, 2] } }, 'invalid_uid'],
  ] as const)('refuses %s', (_name, input, code) => {
    expect(check(input as MeasurementInput)).toThrow(MeasurementInputError);
    try {
      check(input as MeasurementInput)();
    } catch (error) {
      expect((error as MeasurementInputError).code).toBe(code);
    }
  });

  it('fills in the Cornerstone defaults of a known tool', () => {
    const spec = measurementSpec({ tool: 'CircleROI', value: 3.2, image: { sopInstanceUID: '1.2.3', frameNumber: 2 }, coordinates: { graphicType: 'circle', graphicData: [1, 1, 2, 2] } }, 'm', () => '1.2.3.4');
    expect(spec).toMatchObject({ trackingUid: '1.2.3.4', trackingIdentifier: 'Cornerstone3DTools@^0.1.0:CircleROI' });
    expect(spec.values[0]).toMatchObject({ concept: { meaning: 'Area' }, unit: 'mm2', coordinates: { valueType: 'SCOORD', graphicType: 'CIRCLE', image: { frameNumbers: [2] } } });
  });
});
