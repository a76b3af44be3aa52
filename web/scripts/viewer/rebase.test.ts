/** The re-basing rules against the real files of the pinned OHIF build. */
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isPruned, rebaseCss, rebaseHtml, rebaseKind, rebaseManifest, rebaseScript, rebaseServiceWorker, rootReferences } from './rebase';

const require = createRequire(import.meta.url);
const dist = join(dirname(require.resolve('@ohif/app/package.json')), 'dist');
const read = (name: string) => readFileSync(join(dist, name), 'utf8');
const topLevel = readdirSync(dist).filter((n) => !isPruned(n));
const appBundle = readdirSync(dist).find((n) => /^app\.bundle\.[0-9a-f]+\.js$/.test(n)) as string;

describe('re-basing the OHIF build to /viewer/', () => {
  it('rewrites every root path of index.html, PUBLIC_URL included', () => {
    const html = read('index.html');
    expect(rootReferences(html, topLevel)).toEqual(expect.arrayContaining(['/assets', `/${appBundle}`, '/app-config.js', '/manifest.json', 'window.PUBLIC_URL = "/"']));
    const out = rebaseHtml(html, '/viewer/');
    expect(rootReferences(out.text, topLevel)).toEqual([]);
    expect(out.text).toContain('window.PUBLIC_URL="/viewer/"');
    expect(out.text).toContain(`src="/viewer/${appBundle}"`);
    expect(out.text).toContain('href="/viewer/app.bundle.css"');
  });

  it('rewrites the bundle runtime public path, from which chunks, workers and wasm load', () => {
    const out = rebaseScript(read(appBundle), '/viewer/');
    expect(out.text).toMatch(/__webpack_require__\.p = "\/viewer\/"/);
    expect(out.text).not.toMatch(/__webpack_require__\.p = "\/"/);
    expect(rootReferences(out.text, topLevel)).toEqual([]);
  });

  it('rewrites font urls in stylesheets and icon paths in manifests', () => {
    expect(rebaseCss('a{src:url(/a34f.woff2) format("woff2")} b{background:url("/assets/x.png")} c{background:url(data:image/png;base64,AA)} d{background:url(//cdn/x)}', '/viewer/').text).toBe(
      'a{src:url(/viewer/a34f.woff2) format("woff2")} b{background:url("/viewer/assets/x.png")} c{background:url(data:image/png;base64,AA)} d{background:url(//cdn/x)}',
    );
    const css = rebaseCss(read('app.bundle.css'), '/viewer/');
    expect(css.replacements).toBeGreaterThan(0);
    expect(rootReferences(css.text, topLevel)).toEqual([]);
    const manifest = rebaseManifest(read('manifest.json'), '/viewer/');
    expect(JSON.parse(manifest.text).icons[0].src).toMatch(/^\/viewer\/assets\//);
    expect(rebaseManifest(read('assets/browserconfig.xml'), '/viewer/').text).toContain('src="/viewer/assets/mstile-70x70.png"');
  });

  it('re-bases the service worker precache list and drops the pruned files from it', () => {
    const out = rebaseServiceWorker(read('sw.js'), '/viewer/');
    expect(out.text).not.toMatch(/"url":"\/viewer\/ort\//);
    expect(out.text).not.toMatch(/"url":"\/(?!viewer\/)/);
    expect(out.text).toContain(`"url":"/viewer/${appBundle}"`);
  });

  it('prunes what the lake never loads and classifies the rest', () => {
    expect(['ort/ort.min.js', 'dicom-microscopy-viewer/x.js', 'app.bundle.js.map', '_redirects', 'google.js'].every(isPruned)).toBe(true);
    expect(isPruned('app-config.js')).toBe(false);
    expect(rebaseKind('sw.js')).toBe('service-worker');
    expect(rebaseKind('assets/manifest.webapp')).toBe('manifest');
    expect(rebaseKind('a34f.woff2')).toBe('none');
  });

  it('refuses a base path that is not a folder', () => {
    expect(() => rebaseHtml('', 'viewer')).toThrow(/\/viewer\//);
  });
});
