/**
 * One native (uncompressed) frame as an 8-bit RGBA image for /rendered and
 * /thumbnail: rescale slope/intercept, then the window (the request's, the
 * header's WindowCenter/Width, else the frame's min/max), MONOCHROME1
 * inverted, RGB (interleaved or planar) passed through, nearest-neighbour
 * fitting into the viewport. Pure: pixel bytes and attributes in, pixels out.
 */
export interface PixelModule {
  rows: number;
  columns: number;
  bitsAllocated: number;
  bitsStored: number;
  pixelRepresentation: number;
  samplesPerPixel: number;
  photometricInterpretation: string;
  planarConfiguration: number;
  rescaleSlope: number;
  rescaleIntercept: number;
  windowCenter?: number | undefined;
  windowWidth?: number | undefined;
  bigEndian?: boolean;
}

export interface RgbaImage {
  width: number;
  height: number;
  data: Buffer;
}

export interface RenderOptions {
  window?: { center: number; width: number } | undefined;
  /** Fit within this box, keeping the aspect ratio (never enlarging). */
  viewport?: { width: number; height: number } | undefined;
}

export class RenderError extends Error {}

export function renderFrame(pixels: Uint8Array, module: PixelModule, options: RenderOptions = {}): RgbaImage {
  const { rows, columns } = module;
  const count = rows * columns;
  const scale = fit(columns, rows, options.viewport);
  const width = scale.width;
  const height = scale.height;
  const out = Buffer.alloc(width * height * 4);
  const sourceIndex = (x: number, y: number) => Math.min(rows - 1, Math.floor((y * rows) / height)) * columns + Math.min(columns - 1, Math.floor((x * columns) / width));
  const photometric = module.photometricInterpretation.toUpperCase();

  if (module.samplesPerPixel === 3) {
    if (module.bitsAllocated !== 8 || !['RGB', 'YBR_FULL'].includes(photometric)) throw new RenderError(`${photometric} with ${module.bitsAllocated}-bit samples cannot be rendered.`);
    if (pixels.length < count * 3) throw new RenderError('The frame is shorter than its rows × columns × 3 samples.');
    const planar = module.planarConfiguration === 1;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const i = sourceIndex(x, y);
        let r = planar ? (pixels[i] as number) : (pixels[i * 3] as number);
        let g = planar ? (pixels[i + count] as number) : (pixels[i * 3 + 1] as number);
        let b = planar ? (pixels[i + 2 * count] as number) : (pixels[i * 3 + 2] as number);
        if (photometric === 'YBR_FULL') [r, g, b] = ybrToRgb(r, g, b);
        const o = (y * width + x) * 4;
        out[o] = r;
        out[o + 1] = g;
        out[o + 2] = b;
        out[o + 3] = 255;
      }
    }
    return { width, height, data: out };
  }

  if (module.samplesPerPixel !== 1 || !photometric.startsWith('MONOCHROME')) throw new RenderError(`${photometric} with ${module.samplesPerPixel} samples per pixel cannot be rendered.`);
  if (![8, 16, 32].includes(module.bitsAllocated)) throw new RenderError(`${module.bitsAllocated}-bit pixels cannot be rendered.`);
  const bytesPerPixel = module.bitsAllocated / 8;
  if (pixels.length < count * bytesPerPixel) throw new RenderError('The frame is shorter than its rows × columns.');
  const view = new DataView(pixels.buffer, pixels.byteOffset, pixels.byteLength);
  const little = !module.bigEndian;
  const signed = module.pixelRepresentation === 1;
  const stored = module.bitsStored || module.bitsAllocated;
  const mask = stored >= 32 ? 0xffffffff : 2 ** stored - 1;
  const raw = (i: number): number => {
    let v: number;
    if (bytesPerPixel === 1) v = pixels[i] as number;
    else if (bytesPerPixel === 2) v = view.getUint16(i * 2, little);
    else v = view.getUint32(i * 4, little);
    v = stored >= 32 ? v : v & mask;
    if (signed && stored < 32 && v >= 2 ** (stored - 1)) v -= 2 ** stored;
    else if (signed && stored >= 32) v = v | 0;
    return v * module.rescaleSlope + module.rescaleIntercept;
  };
  let center = options.window?.center ?? module.windowCenter;
  let widthW = options.window?.width ?? module.windowWidth;
  if (center === undefined || widthW === undefined || widthW <= 0) {
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < count; i++) {
      const v = raw(i);
      if (v < min) min = v;
      if (v > max) max = v;
    }
    center = (min + max) / 2;
    widthW = Math.max(1, max - min);
  }
  const invert = photometric === 'MONOCHROME1';
  // DICOM's linear VOI function (PS3.3 C.11.2.1.2).
  const low = center - 0.5 - (widthW - 1) / 2;
  const span = Math.max(1, widthW - 1);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = raw(sourceIndex(x, y));
      let g = v <= low ? 0 : v > low + span ? 255 : Math.round(((v - low) / span) * 255);
      if (invert) g = 255 - g;
      const o = (y * width + x) * 4;
      out[o] = g;
      out[o + 1] = g;
      out[o + 2] = g;
      out[o + 3] = 255;
    }
  }
  return { width, height, data: out };
}

function fit(columns: number, rows: number, viewport: RenderOptions['viewport']): { width: number; height: number } {
  if (!viewport) return { width: columns, height: rows };
  const ratio = Math.min(1, viewport.width / columns, viewport.height / rows);
  return { width: Math.max(1, Math.round(columns * ratio)), height: Math.max(1, Math.round(rows * ratio)) };
}

function ybrToRgb(y: number, cb: number, cr: number): [number, number, number] {
  const clamp = (v: number) => Math.max(0, Math.min(255, Math.round(v)));
  return [clamp(y + 1.402 * (cr - 128)), clamp(y - 0.344136 * (cb - 128) - 0.714136 * (cr - 128)), clamp(y + 1.772 * (cb - 128))];
}
