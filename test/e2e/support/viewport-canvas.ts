/**
 * What the OHIF viewport's canvas holds, read from the canvas itself (not a
 * screenshot, so the overlays drawn over it — slice number, window level —
 * cannot make two frames look different): its PNG, a hash of its pixels, and
 * on which side of the image its bright content leans.
 */
import { createHash } from 'node:crypto';
import type { FrameLocator } from 'playwright-core';
import { PNG } from 'pngjs';
import type { PixelStats } from './pixels';
import { pixelStats } from './pixels';

export interface CanvasImage {
  png: Buffer;
  /** sha256 of the RGBA pixels. */
  hash: string;
  stats: PixelStats;
  /**
   * (mean grey of the right half − mean grey of the left half) / mean grey:
   * near 0 for a left-right symmetric image, negative when a bright
   * structure sits on the left, positive when it sits on the right.
   */
  lean: number;
}

async function canvasDataUrl(frame: FrameLocator): Promise<string> {
  const canvas = frame.locator('.cornerstone-viewport-element canvas.cornerstone-canvas').first();
  // Cornerstone draws each rendered frame into this 2D canvas, so its pixels can be read back.
  return canvas.evaluate((element) => (element as unknown as { toDataURL(type: string): string }).toDataURL('image/png'));
}

/** A cheap identity of what the first viewport's canvas shows now (a hash of its PNG). */
export async function canvasFingerprint(frame: FrameLocator): Promise<string> {
  return createHash('sha256').update(await canvasDataUrl(frame)).digest('hex');
}

/** The first viewport's canvas as it is now. */
export async function viewportCanvas(frame: FrameLocator): Promise<CanvasImage> {
  const dataUrl = await canvasDataUrl(frame);
  const png = Buffer.from(dataUrl.replace(/^data:image\/png;base64,/, ''), 'base64');
  const image = PNG.sync.read(png);
  let left = 0;
  let right = 0;
  const half = Math.floor(image.width / 2);
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < image.width; x++) {
      if (image.width % 2 === 1 && x === half) continue;
      const at = (y * image.width + x) * 4;
      const grey = 0.299 * (image.data[at] ?? 0) + 0.587 * (image.data[at + 1] ?? 0) + 0.114 * (image.data[at + 2] ?? 0);
      if (x < half) left += grey;
      else right += grey;
    }
  }
  const perHalf = half * image.height;
  const mean = (left + right) / (2 * perHalf);
  return {
    png,
    hash: createHash('sha256').update(image.data).digest('hex'),
    stats: pixelStats(png),
    lean: mean > 0 ? (right - left) / perHalf / mean : 0,
  };
}
