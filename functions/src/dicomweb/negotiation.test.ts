import { describe, expect, it } from 'vitest';
import { HttpError } from '../http/errors';
import { negotiateFrames, parseFrameList } from './frames';
import { buildMultipart, parseMediaType, parseMultipart } from './multipart';
import { renderFrame } from './render-frame';
import { renderRequestOf } from './rendered';
import { negotiateRetrieve } from './retrieve';

const ele = '1.2.840.10008.1.2.1';
const ile = '1.2.840.10008.1.2';
const jpegBaseline = '1.2.840.10008.1.2.4.50';
const j2k = '1.2.840.10008.1.2.4.90';

function status(fn: () => unknown): number | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    return error instanceof HttpError ? error.status : -1;
  }
}

describe('frames: Accept negotiation', () => {
  const cases: [string, string | undefined, string, { mediaType: string; transferSyntaxUid: string }][] = [
    ['OHIF: octet-stream, any transfer syntax, native', 'multipart/related; type=application/octet-stream; transfer-syntax=*', ele, { mediaType: 'application/octet-stream', transferSyntaxUid: ele }],
    ['OHIF: octet-stream, any transfer syntax, JPEG stored', 'multipart/related; type=application/octet-stream; transfer-syntax=*', jpegBaseline, { mediaType: 'application/octet-stream', transferSyntaxUid: jpegBaseline }],
    ['implicit LE pixels are labelled Explicit VR LE (same bytes)', 'multipart/related; type="application/octet-stream"', ile, { mediaType: 'application/octet-stream', transferSyntaxUid: ele }],
    ['dicomweb-client default', 'multipart/related; type="application/octet-stream"; transfer-syntax=1.2.840.10008.1.2.1', ele, { mediaType: 'application/octet-stream', transferSyntaxUid: ele }],
    ['no Accept', undefined, ele, { mediaType: 'application/octet-stream', transferSyntaxUid: ele }],
    ['JPEG asked, JPEG stored', 'multipart/related; type="image/jpeg"', jpegBaseline, { mediaType: 'image/jpeg', transferSyntaxUid: jpegBaseline }],
    ['JPEG 2000 asked with its syntax', `multipart/related; type="image/jp2"; transfer-syntax=${j2k}`, j2k, { mediaType: 'image/jp2', transferSyntaxUid: j2k }],
    ['dicomweb-client names JPEG-LS image/x-jls', 'multipart/related; type="image/x-jls"', '1.2.840.10008.1.2.4.80', { mediaType: 'image/jls', transferSyntaxUid: '1.2.840.10008.1.2.4.80' }],
    ['dicomweb-client names HTJ2K image/jhc', 'multipart/related; type="image/jhc"', '1.2.840.10008.1.2.4.201', { mediaType: 'image/jphc', transferSyntaxUid: '1.2.840.10008.1.2.4.201' }],
    ['second choice by q-value', `multipart/related; type="image/jls";q=0.9, multipart/related; type="image/jp2";q=0.5`, j2k, { mediaType: 'image/jp2', transferSyntaxUid: j2k }],
  ];
  it.each(cases)('%s', (_name, accept, stored, expected) => {
    expect(negotiateFrames(accept, stored)).toEqual(expected);
  });

  it('answers 406 with the reason when only transcoding could satisfy the request', () => {
    expect(status(() => negotiateFrames('multipart/related; type="application/octet-stream"', jpegBaseline))).toBe(406);
    expect(status(() => negotiateFrames('multipart/related; type="image/jpeg"', ele))).toBe(406);
    expect(status(() => negotiateFrames('image/png', ele))).toBe(406);
    expect(() => negotiateFrames('multipart/related; type="image/jp2"', jpegBaseline)).toThrow(/JPEG Baseline.*transfer-syntax=\*/);
  });

  it('reads frame lists and refuses bad ones', () => {
    expect(parseFrameList('1,3, 2', 3)).toEqual([1, 3, 2]);
    expect(status(() => parseFrameList('0', 3))).toBe(400);
    expect(status(() => parseFrameList('a', 3))).toBe(400);
    expect(status(() => parseFrameList('4', 3))).toBe(404);
  });
});

describe('retrieve: Accept negotiation', () => {
  it('sends instances as stored for application/dicom without or with * transfer syntax', () => {
    expect(negotiateRetrieve('multipart/related; type="application/dicom"', [ile, ele], false)).toEqual({ kind: 'multipart' });
    expect(negotiateRetrieve('multipart/related; type="application/dicom"; transfer-syntax=*', [jpegBaseline], false)).toEqual({ kind: 'multipart' });
    expect(negotiateRetrieve(undefined, [ele], false)).toEqual({ kind: 'multipart' });
    expect(negotiateRetrieve('application/dicom', [ele], true)).toEqual({ kind: 'single' });
  });
  it('refuses what would need transcoding or is not DICOM', () => {
    expect(status(() => negotiateRetrieve(`multipart/related; type="application/dicom"; transfer-syntax=${ele}`, [jpegBaseline], false))).toBe(406);
    expect(status(() => negotiateRetrieve('application/zip', [ele], false))).toBe(406);
    expect(status(() => negotiateRetrieve('application/dicom', [ele], false))).toBe(406);
  });
});

describe('multipart/related', () => {
  it('builds and parses back parts with their headers, binary-safe', () => {
    const a = Uint8Array.from([0, 13, 10, 45, 45, 255]);
    const b = Buffer.from('second part');
    const body = buildMultipart('BOUNDARY', [{ contentType: 'application/dicom', body: a }, { contentType: 'text/plain', headers: { 'Content-Location': '/x' }, body: b }]);
    const parts = parseMultipart(body, 'BOUNDARY');
    expect(parts).toHaveLength(2);
    expect(Buffer.from(parts[0]?.body ?? [])).toEqual(Buffer.from(a));
    expect(parts[1]?.contentType).toBe('text/plain');
    expect(parts[1]?.headers?.['content-location']).toBe('/x');
    expect(Buffer.from(parts[1]?.body ?? []).toString()).toBe('second part');
  });
  it('parses media type parameters, quoted or not', () => {
    expect(parseMediaType('multipart/related; type="application/dicom"; boundary=abc')).toEqual({ type: 'multipart/related', params: { type: 'application/dicom', boundary: 'abc' } });
  });
});

describe('rendering', () => {
  it('applies rescale and the header window to signed 16-bit pixels', () => {
    // Stored 1064 with intercept -1024 is 40 HU: the window centre, mid-grey.
    const pixels = Buffer.alloc(8);
    [1064, 0, 4000, 1064].forEach((v, i) => pixels.writeInt16LE(v, i * 2));
    const image = renderFrame(pixels, { rows: 2, columns: 2, bitsAllocated: 16, bitsStored: 16, pixelRepresentation: 1, samplesPerPixel: 1, photometricInterpretation: 'MONOCHROME2', planarConfiguration: 0, rescaleSlope: 1, rescaleIntercept: -1024, windowCenter: 40, windowWidth: 400 });
    expect([image.data[0], image.data[4], image.data[8]]).toEqual([128, 0, 255]);
  });
  it('inverts MONOCHROME1 and falls back to min/max without a window', () => {
    const image = renderFrame(Uint8Array.from([0, 255]), { rows: 1, columns: 2, bitsAllocated: 8, bitsStored: 8, pixelRepresentation: 0, samplesPerPixel: 1, photometricInterpretation: 'MONOCHROME1', planarConfiguration: 0, rescaleSlope: 1, rescaleIntercept: 0 });
    expect([image.data[0], image.data[4]]).toEqual([255, 0]);
  });
  it('passes RGB through and fits the viewport keeping the aspect ratio', () => {
    const rgb = Uint8Array.from(Array.from({ length: 4 * 2 * 3 }, (_, i) => (i % 3 === 0 ? 200 : 10)));
    const image = renderFrame(rgb, { rows: 2, columns: 4, bitsAllocated: 8, bitsStored: 8, pixelRepresentation: 0, samplesPerPixel: 3, photometricInterpretation: 'RGB', planarConfiguration: 0, rescaleSlope: 1, rescaleIntercept: 0 }, { viewport: { width: 2, height: 2 } });
    expect([image.width, image.height]).toEqual([2, 1]);
    expect([image.data[0], image.data[1], image.data[2]]).toEqual([200, 10, 10]);
  });
  it('reads rendered parameters and refuses unknown ones', () => {
    expect(renderRequestOf('image/png', new URLSearchParams('viewport=64,64&window=40,400'), false)).toMatchObject({ type: 'image/png', options: { viewport: { width: 64, height: 64 }, window: { center: 40, width: 400 } } });
    expect(renderRequestOf(undefined, new URLSearchParams(), true)).toMatchObject({ type: 'image/jpeg', options: { viewport: { width: 256, height: 256 } } });
    expect(status(() => renderRequestOf('image/gif', new URLSearchParams(), false))).toBe(406);
    expect(status(() => renderRequestOf('image/jpeg', new URLSearchParams('annotation=patient'), false))).toBe(400);
    expect(status(() => renderRequestOf('image/jpeg', new URLSearchParams('window=40,-1'), false))).toBe(400);
  });
});
