/**
 * OHIF in real Chromium on a study with series of different kinds, uploaded
 * through the real upload path: a CT stack of 40 slices, an MR stack of 20
 * and an X-ray angiography run of 10 frames in one multi-frame instance.
 * The viewer's study browser lists every series (modality, description,
 * number, frame count); each series, double-clicked into the viewport, is
 * walked with the mouse wheel one frame at a time from 1/N to N/N, the
 * canvas (read back from the canvas itself, not a screenshot with overlays)
 * drawing a different image at every step; the lake answered every frame
 * exactly once, with 200 (counted both in the browser and in the front
 * door's own request log); and the first and last frames are drawn with
 * their marker on the side the phantom puts it (so the last frame drawn is
 * the series' last frame, not a neighbour).
 * Screenshots: test-results/e2e/viewer-series-*.png.
 */
import type { Browser, FrameLocator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestFiles } from '../ingest-support';
import type { TestStack, TestUser } from '../support/local-stack';
import { startTestStack } from '../support/local-stack';
import { collectPageErrors, ensureWebBuild, launchChromium, signInAs, snapshot } from './support/browser';
import { viewerFrame } from './support/ohif';
import type { SeriesSpec } from './support/series-study';
import { buildSeriesStudy, defaultSeries } from './support/series-study';
import type { CanvasImage } from './support/viewport-canvas';
import { canvasFingerprint, viewportCanvas } from './support/viewport-canvas';

type Json = Record<string, { vr: string; Value?: unknown[] }>;

/** A series as the lake knows it after ingest, with the frames a viewer must fetch. */
interface LakeSeries {
  spec: SeriesSpec;
  seriesUid: string;
  /** `sopUid/frame` for every frame of every instance. */
  frames: string[];
}

let stack: TestStack;
let browser: Browser;
let page: Page;
let pageErrors: string[];
let reader: TestUser;
let studyUid: string;
let lakeSeries: LakeSeries[];
/** Lines of the front door's request log: `GET /dicomweb/... 200 3 ms`. */
const requestLog: string[] = [];
/** Frame answers the browser saw, per series: `sopUid/frame` → statuses. */
const browserFrames = new Map<string, Map<string, number[]>>();
const failedFrameRequests: string[] = [];
const totalFrames = defaultSeries.reduce((sum, s) => sum + s.frames, 0);

const value = (item: Json | undefined, tag: string): unknown => item?.[tag]?.Value?.[0];
const framePath = /^\/dicomweb\/studies\/([^/]+)\/series\/([^/]+)\/instances\/([^/]+)\/frames\/([\d,]+)$/;

/** The frame requests the front door answered for a series: `sopUid/frame` → statuses. */
function serverFrames(seriesUid: string): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const line of requestLog) {
    const [method, path, status] = line.split(' ');
    const match = framePath.exec(path ?? '');
    if (method !== 'GET' || !match || match[2] !== seriesUid) continue;
    for (const number of (match[4] as string).split(',')) {
      const key = `${match[3]}/${number}`;
      out.set(key, [...(out.get(key) ?? []), Number(status)]);
    }
  }
  return out;
}

const sorted = (keys: Iterable<string>): string[] => [...keys].sort();

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const frame = (): FrameLocator => viewerFrame(page);
const viewport = () => frame().locator('.cornerstone-viewport-element').first();
const sliceIndicator = () => frame().locator('[data-cy="viewport-overlay-bottom-right"] [title="Instance Number"]').first();
const seriesDescription = () => frame().locator('[data-cy="viewport-overlay-top-left"] [title="Series description"]').first();

/** "I:7 (3/40)" → { instance: 7, index: 3, total: 40 }; "3/40" (no instance number) too. */
function parseIndicator(text: string): { instance?: number; index: number; total: number } | undefined {
  const match = /^(?:I:\s*(\d+)\s*)?\(?(\d+)\/(\d+)\)?$/.exec(text.replace(/\s+/g, ' ').trim());
  if (!match) return undefined;
  return { ...(match[1] ? { instance: Number(match[1]) } : {}), index: Number(match[2]), total: Number(match[3]) };
}

async function waitForIndicator(index: number, total: number): Promise<{ instance?: number; index: number; total: number }> {
  let last = '';
  const deadline = Date.now() + 15_000;
  for (;;) {
    last = ((await sliceIndicator().textContent({ timeout: 15_000 })) ?? '').trim();
    const parsed = parseIndicator(last);
    if (parsed && parsed.index === index && parsed.total === total) return parsed;
    if (Date.now() > deadline) throw new Error(`the slice indicator shows "${last}", not ${index}/${total}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * The canvas once it shows an image whose marker leans to `side` (the
 * phantom's marker is left on the first frames, right on the last ones): a
 * canvas still showing the previous frame or series cannot pass.
 */
async function waitForDrawn(side: 'left' | 'right', what: string): Promise<CanvasImage> {
  let image: CanvasImage | undefined;
  await waitUntil(
    `${what} drawn with its marker on the ${side} (last: ${image ? `lean ${image.lean.toFixed(3)}, stdDev ${image.stats.stdDev.toFixed(1)}, ${image.stats.distinctLevels} levels` : 'no canvas'})`,
    async () => {
      image = await viewportCanvas(frame());
      const leans = side === 'left' ? image.lean < -0.03 : image.lean > 0.03;
      return leans && image.stats.stdDev > 20 && image.stats.distinctLevels > 32;
    },
    15_000,
  );
  return image as CanvasImage;
}

/** The canvas's fingerprint once it differs from `previous` and holds still (two equal readings). */
async function waitForNewDrawing(previous: string, what: string): Promise<string> {
  let reading = previous;
  let before = '';
  await waitUntil(`${what} drawn`, async () => {
    before = reading;
    reading = await canvasFingerprint(frame());
    return reading !== previous && reading === before;
  }, 15_000);
  return reading;
}

/** Where the phantom puts the marker of a frame: left in the first half of the series, right in the second. */
const markerSide = (position: number, total: number): 'left' | 'right' => (position <= total / 2 ? 'left' : 'right');

describe('OHIF shows every series of a study and scrolls through all their frames, in Chromium', () => {
  beforeAll(async () => {
    await ensureWebBuild();
    stack = await startTestStack({ requestLog: (line: string) => requestLog.push(line) });
    const uploader = await stack.createUser({ groups: ['uploader'] });
    reader = await stack.createUser({ groups: ['annotator'] });

    const files = buildSeriesStudy(defaultSeries);
    const status = await ingestFiles(stack, uploader, files);
    const notAccepted = status.files.filter((f) => f.state !== 'accepted');
    if (notAccepted.length) throw new Error(`files not accepted: ${JSON.stringify(notAccepted.slice(0, 3))}`);

    const studies = (await stack.request('/dicomweb/studies', { token: reader.idToken })).body as Json[];
    if (studies.length !== 1) throw new Error(`expected one study, the lake has ${studies.length}`);
    studyUid = String(value(studies[0], '0020000D'));
    const series = (await stack.request(`/dicomweb/studies/${studyUid}/series`, { token: reader.idToken })).body as Json[];
    lakeSeries = await Promise.all(
      defaultSeries.map(async (spec) => {
        const found = series.find((s) => Number(value(s, '00200011')) === spec.seriesNumber);
        if (!found) throw new Error(`series ${spec.seriesNumber} is not in the lake`);
        const seriesUid = String(value(found, '0020000E'));
        const metadata = (await stack.request(`/dicomweb/studies/${studyUid}/series/${seriesUid}/metadata`, { token: reader.idToken })).body as Json[];
        const frames = metadata.flatMap((instance) => {
          const count = Number(value(instance, '00280008') ?? 1);
          return Array.from({ length: count }, (_, i) => `${String(value(instance, '00080018'))}/${i + 1}`);
        });
        return { spec, seriesUid, frames };
      }),
    );

    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    pageErrors = collectPageErrors(page);
    const record = (url: string, status: number) => {
      const match = framePath.exec(new URL(url).pathname);
      if (!match) return;
      const perSeries = browserFrames.get(match[2] as string) ?? new Map<string, number[]>();
      browserFrames.set(match[2] as string, perSeries);
      for (const number of (match[4] as string).split(',')) perSeries.set(`${match[3]}/${number}`, [...(perSeries.get(`${match[3]}/${number}`) ?? []), status]);
    };
    page.on('response', (response) => record(response.url(), response.status()));
    page.on('requestfailed', (request) => {
      if (framePath.test(new URL(request.url()).pathname)) failedFrameRequests.push(`${request.url()}: ${request.failure()?.errorText ?? '?'}`);
    });
    await signInAs(page, stack.url, reader);
  });

  afterAll(async () => {
    if (pageErrors?.length) console.error(`browser errors:\n${pageErrors.slice(0, 20).join('\n')}`);
    await browser?.close();
    await stack?.stop();
  });

  it('the lake holds the three series with all their frames', () => {
    expect(lakeSeries.map((s) => s.frames.length)).toEqual(defaultSeries.map((s) => s.frames));
    expect(new Set(lakeSeries.flatMap((s) => s.frames)).size).toBe(totalFrames);
  });

  it("the viewer's study browser lists every series with its modality, description, number and frame count", async () => {
    await page.goto(`${stack.url}/studies/${encodeURIComponent(studyUid)}/viewer`);
    const thumbnails = frame().locator('[data-cy="study-browser-thumbnail"]');
    await waitUntil('three series in the study browser', async () => (await thumbnails.count()) >= defaultSeries.length, 60_000);
    // Each thumbnail shows its series' image (the lake answered the frame it asked for).
    await waitUntil(
      'every thumbnail drawn',
      async () => (await thumbnails.evaluateAll((items) => items.filter((item) => (item as unknown as { querySelector(s: string): unknown }).querySelector('img[src], canvas')).length)) === defaultSeries.length,
      60_000,
    );
    const texts = (await thumbnails.allInnerTexts()).map((text) => text.split('\n').map((line) => line.trim()).filter(Boolean));
    expect(texts).toEqual(defaultSeries.map((s) => [s.modality, s.description, `S:${s.seriesNumber}`, String(s.frames)]));
    await snapshot(page, 'viewer-series-1-study-browser');
  });

  for (const [position, spec] of defaultSeries.entries()) {
    it(`${spec.modality} "${spec.description}": loaded by a double-click, the wheel walks all ${spec.frames} frames; each was fetched once and drawn`, async () => {
      const series = lakeSeries[position] as LakeSeries;
      const thumbnail = frame().locator('[data-cy="study-browser-thumbnail"]').filter({ hasText: spec.description });
      await thumbnail.dblclick();
      await seriesDescription().filter({ hasText: spec.description }).waitFor({ timeout: 15_000 });
      const first = await waitForIndicator(1, spec.frames);
      // A stack's order is OHIF's (by position); the marker follows the instance number, a run's by frame number.
      const firstPosition = spec.multiFrame ? 1 : (first.instance as number);
      const firstImage = await waitForDrawn(markerSide(firstPosition, spec.frames), `frame 1/${spec.frames}`);
      await snapshot(page, `viewer-series-${position + 2}a-${spec.modality}-first`);

      // One wheel notch per frame, over the viewport; each step waits for the indicator, so none is skipped.
      const box = await viewport().boundingBox();
      if (!box) throw new Error('the viewport has no box');
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      let last = first;
      const seen = [first.index];
      const drawn = [await canvasFingerprint(frame())];
      for (let index = 2; index <= spec.frames; index++) {
        await page.mouse.wheel(0, 100);
        last = await waitForIndicator(index, spec.frames);
        seen.push(last.index);
        drawn.push(await waitForNewDrawing(drawn.at(-1) as string, `frame ${index}/${spec.frames}`));
      }
      expect(seen).toEqual(Array.from({ length: spec.frames }, (_, i) => i + 1));
      // Every frame was drawn, each different from all the others (every phantom frame has its own noise).
      expect(new Set(drawn).size).toBe(spec.frames);
      const lastPosition = spec.multiFrame ? spec.frames : (last.instance as number);
      if (!spec.multiFrame) expect([firstPosition, lastPosition].sort((a, b) => a - b)).toEqual([1, spec.frames]);
      const lastImage = await waitForDrawn(markerSide(lastPosition, spec.frames), `frame ${spec.frames}/${spec.frames}`);
      expect(lastImage.hash).not.toBe(firstImage.hash);
      expect(Math.sign(lastImage.lean)).toBe(-Math.sign(firstImage.lean));
      await snapshot(page, `viewer-series-${position + 2}b-${spec.modality}-last`);

      // The lake answered every frame of the series, once each, with 200; the browser saw the same.
      await waitUntil(`every frame of series ${spec.seriesNumber} requested`, async () => serverFrames(series.seriesUid).size === series.frames.length, 15_000);
      const server = serverFrames(series.seriesUid);
      expect(sorted(server.keys())).toEqual(sorted(series.frames));
      expect(new Set([...server.values()].map((statuses) => statuses.join(',')))).toEqual(new Set(['200']));
      const seenByBrowser = browserFrames.get(series.seriesUid) ?? new Map<string, number[]>();
      expect(sorted(seenByBrowser.keys())).toEqual(sorted(series.frames));
      expect(new Set([...seenByBrowser.values()].map((statuses) => statuses.join(',')))).toEqual(new Set(['200']));
    });
  }

  it(`in all, the viewer fetched each of the ${totalFrames} frames exactly once (thumbnails included) and no frame request failed`, () => {
    const server = lakeSeries.flatMap((s) => [...serverFrames(s.seriesUid).entries()]);
    expect(server).toHaveLength(totalFrames);
    expect(server.filter(([, statuses]) => statuses.join(',') !== '200')).toEqual([]);
    expect(requestLog.filter((line) => line.includes('/frames/'))).toHaveLength(totalFrames);
    const browserSide = [...browserFrames.values()].flatMap((perSeries) => [...perSeries.entries()]);
    expect(browserSide).toHaveLength(totalFrames);
    expect(browserSide.filter(([, statuses]) => statuses.join(',') !== '200')).toEqual([]);
    expect(failedFrameRequests).toEqual([]);
  });
});
