/**
 * Whether a screenshot shows an image rather than an empty viewport: the
 * grey levels of its pixels must spread (a blank, black or single-colour
 * canvas has none), measured on the PNG Chromium captured.
 */
import { PNG } from 'pngjs';

export interface PixelStats {
  pixels: number;
  distinctLevels: number;
  mean: number;
  stdDev: number;
  /** Share of pixels brighter than near-black. */
  litFraction: number;
}

export function pixelStats(png: Buffer): PixelStats {
  const image = PNG.sync.read(png);
  const levels = new Set<number>();
  let sum = 0;
  let sumSquares = 0;
  let lit = 0;
  const count = image.width * image.height;
  for (let i = 0; i < image.data.length; i += 4) {
    const grey = Math.round(0.299 * (image.data[i] ?? 0) + 0.587 * (image.data[i + 1] ?? 0) + 0.114 * (image.data[i + 2] ?? 0));
    levels.add(grey);
    sum += grey;
    sumSquares += grey * grey;
    if (grey > 24) lit += 1;
  }
  const mean = sum / count;
  return { pixels: count, distinctLevels: levels.size, mean, stdDev: Math.sqrt(Math.max(0, sumSquares / count - mean * mean)), litFraction: lit / count };
}
