/** Steps in the OHIF viewer that several end-to-end stories take. */
import type { FrameLocator, Page } from 'playwright-core';

/** The OHIF viewer embedded in the app's viewer page. */
export function viewerFrame(page: Page): FrameLocator {
  return page.frameLocator('iframe[title="Image viewer"]');
}

/**
 * Draws a length across the first viewport with OHIF's Length tool, starts
 * tracking it, opens the measurement panel and waits for the measured value:
 * its text ("12.3 mm").
 */
export async function drawLength(page: Page): Promise<string> {
  const frame = viewerFrame(page);
  await frame.locator('[data-cy="MeasurementTools-split-button-primary"]').click();
  const box = await frame.locator('.cornerstone-viewport-element').first().boundingBox();
  if (!box) throw new Error('the viewport has no box');
  await page.mouse.move(box.x + box.width * 0.35, box.y + box.height * 0.5);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.55, { steps: 8 });
  await page.mouse.move(box.x + box.width * 0.65, box.y + box.height * 0.6, { steps: 8 });
  await page.mouse.up();
  await frame.getByRole('button', { name: 'Yes', exact: true }).click();
  await frame.locator('[data-cy="trackedMeasurements-btn"]').click();
  const value = frame.getByText(/^\d+(\.\d+)? mm$/).first();
  await value.waitFor();
  return (await value.textContent()) as string;
}
