/**
 * Re-basing the prebuilt OHIF viewer from `/` to a sub-path (`/viewer/`).
 * The OHIF build bakes its public path `/` into several places; each rule
 * below rewrites one of them, and `rootReferences` finds any reference to a
 * top-level file of the build that is still root-absolute afterwards, so a
 * new OHIF version that adds a place fails the build instead of a browser.
 */

/** Files and folders of the OHIF build that the lake's viewer never loads. */
export const prunedTopLevel = new Set([
  'ort', // onnxruntime for AI segmentation tools (136 MB)
  'dicom-microscopy-viewer', // whole-slide microscopy mode
  '_headers', // Netlify deploy files
  '_redirects',
  'serve.json',
  'google.js', // an alternative app-config for Google Cloud Healthcare
]);

export function isPruned(relativePath: string): boolean {
  const top = relativePath.split('/')[0] ?? relativePath;
  return prunedTopLevel.has(top) || relativePath.endsWith('.map');
}

export type RebaseKind = 'html' | 'script' | 'css' | 'manifest' | 'service-worker' | 'none';

/** Which rules apply to a file of the build, by its path relative to dist/. */
export function rebaseKind(relativePath: string): RebaseKind {
  const name = relativePath.split('/').at(-1) ?? relativePath;
  if (name === 'sw.js') return 'service-worker';
  if (name.endsWith('.html')) return 'html';
  if (name.endsWith('.js') || name.endsWith('.mjs')) return 'script';
  if (name.endsWith('.css')) return 'css';
  if (name.endsWith('.json') || name.endsWith('.webapp') || name.endsWith('.xml')) return 'manifest';
  return 'none';
}

export interface Rebased {
  text: string;
  /** How many references were rewritten. */
  replacements: number;
}

function replaceCounting(text: string, pattern: RegExp, replacement: (match: string, ...groups: string[]) => string): Rebased {
  let replacements = 0;
  const out = text.replace(pattern, (match: string, ...rest: unknown[]) => {
    replacements += 1;
    return replacement(match, ...(rest.filter((r) => typeof r === 'string') as string[]));
  });
  return { text: out, replacements };
}

/** `base` must start and end with a slash, e.g. `/viewer/`. */
function checkBase(base: string): void {
  if (!/^\/(?:[A-Za-z0-9._-]+\/)+$/.test(base)) throw new Error(`viewer base path must look like /viewer/, got ${JSON.stringify(base)}`);
}

/**
 * index.html (and the other HTML pages): `href="/…"`, `src="/…"`,
 * `content="/…"` (the msapplication metas) and `window.PUBLIC_URL="/"`.
 */
export function rebaseHtml(text: string, base: string): Rebased {
  checkBase(base);
  const attributes = replaceCounting(text, /\b(href|src|content)="\/(?!\/)([^"]*)"/g, (_m, attribute, path) => `${attribute}="${base}${path}"`);
  const publicUrl = replaceCounting(attributes.text, /(window\.PUBLIC_URL\s*=\s*)(["'])\/\2/g, (_m, assignment, quote) => `${assignment}${quote}${base}${quote}`);
  return { text: publicUrl.text, replacements: attributes.replacements + publicUrl.replacements };
}

/**
 * Bundles: the webpack/rspack runtime's public path (`__webpack_require__.p
 * = "/"`, from which every chunk, css chunk, worker and wasm URL is built),
 * and the few root-absolute file names written in code (the OIDC silent
 * refresh page, the microscopy viewer's loader).
 */
export function rebaseScript(text: string, base: string): Rebased {
  checkBase(base);
  const publicPath = replaceCounting(text, /(__webpack_require__\.p\s*=\s*)(["'])\/\2/g, (_m, assignment, quote) => `${assignment}${quote}${base}${quote}`);
  const literals = replaceCounting(publicPath.text, /(['"])\/(silent-refresh\.html|dicom-microscopy-viewer\/)/g, (_m, quote, path) => `${quote}${base}${path}`);
  return { text: literals.text, replacements: publicPath.replacements + literals.replacements };
}

/** Stylesheets: `url(/font.woff2)`, quoted or not. */
export function rebaseCss(text: string, base: string): Rebased {
  checkBase(base);
  return replaceCounting(text, /url\((\s*["']?)\/(?!\/)/g, (_m, opening) => `url(${opening}${base}`);
}

/** manifest.json, manifest.webapp, browserconfig.xml, yandex manifest: `"/assets/…"`, `src="/assets/…"`. */
export function rebaseManifest(text: string, base: string): Rebased {
  checkBase(base);
  return replaceCounting(text, /(["'])\/(?!\/)([^"']*)\1/g, (_m, quote, path) => `${quote}${base}${path}${quote}`);
}

/**
 * The Workbox service worker's precache list (`{"url":"/x.js"}`): re-based,
 * and the pruned files dropped so a registered worker would not 404. OHIF's
 * init-service-worker.js unregisters workers, so this is belt and braces.
 */
export function rebaseServiceWorker(text: string, base: string): Rebased {
  checkBase(base);
  const dropped = text.replace(/\{"url":"\/([^"]*)","revision":[^}]*\},?/g, (entry: string, path: string) => (isPruned(path) ? '' : entry));
  return replaceCounting(dropped, /"url":"\/(?!\/)/g, () => `"url":"${base}`);
}

export function rebase(kind: RebaseKind, text: string, base: string): Rebased {
  switch (kind) {
    case 'html':
      return rebaseHtml(text, base);
    case 'script':
      return rebaseScript(text, base);
    case 'css':
      return rebaseCss(text, base);
    case 'manifest':
      return rebaseManifest(text, base);
    case 'service-worker':
      return rebaseServiceWorker(text, base);
    case 'none':
      return { text, replacements: 0 };
  }
}

/**
 * Root-absolute references to the build's own top-level entries that are
 * still in `text` (e.g. `"/assets/x.png"`, `url(/a.woff2)`,
 * `__webpack_require__.p = "/"`): what a re-base missed. Pruned entries are
 * reported too, since nothing may load them.
 */
export function rootReferences(text: string, topLevelNames: readonly string[]): string[] {
  const names = topLevelNames.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  if (names.length === 0) return [];
  const entry = new RegExp(`(?<=["'(=]\\s*)/(${names.join('|')})(?=["'/)?#\\s]|$)`, 'g');
  const found = new Set<string>();
  for (const match of text.matchAll(entry)) found.add(match[0]);
  if (/__webpack_require__\.p\s*=\s*(["'])\/\1/.test(text)) found.add('__webpack_require__.p = "/"');
  if (/window\.PUBLIC_URL\s*=\s*(["'])\/\1/.test(text)) found.add('window.PUBLIC_URL = "/"');
  return [...found];
}
