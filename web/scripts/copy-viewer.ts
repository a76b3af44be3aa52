/**
 * Copies the prebuilt OHIF v3 viewer (`@ohif/app`'s dist/) into
 * web/dist/viewer: pruned of what the lake never loads, re-based from `/`
 * to `/viewer/`, with medlake's app-config.js and session script. Cached:
 * when the output already holds the same OHIF version made by the same
 * recipe (this script and its rules), nothing is copied again.
 *
 *   npx tsx web/scripts/copy-viewer.ts [--force] [--out <dir>]
 */
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultViewerConfig, injectSessionScript, viewerAppConfigSource, viewerSessionScript, viewerSessionScriptName } from './viewer/app-config';
import { isPruned, rebase, rebaseKind, rootReferences } from './viewer/rebase';

const here = dirname(fileURLToPath(import.meta.url));
const base = `${defaultViewerConfig.routerBasename}/`;
const stampName = '.medlake-viewer.json';

interface Stamp {
  ohifVersion: string;
  recipe: string;
  files: number;
  sizeBytes: number;
}

export interface CopyResult {
  skipped: boolean;
  outDir: string;
  ohifVersion: string;
  files: number;
  sizeBytes: number;
  sourceSizeBytes?: number;
}

function ohifDist(): { dir: string; version: string } {
  const require = createRequire(join(here, '..', 'package.json'));
  const manifest = require.resolve('@ohif/app/package.json');
  const { version } = require(manifest) as { version: string };
  return { dir: join(dirname(manifest), 'dist'), version };
}

/** A hash of the scripts that shape the output: changing a rule invalidates the cache. */
async function recipeHash(): Promise<string> {
  const hash = createHash('sha256');
  for (const file of ['copy-viewer.ts', 'viewer/rebase.ts', 'viewer/app-config.ts']) hash.update(await readFile(join(here, file)));
  return hash.digest('hex').slice(0, 16);
}

async function* walk(dir: string, root = dir): AsyncGenerator<string> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(full, root);
    else if (entry.isFile()) yield relative(root, full).split(sep).join('/');
  }
}

async function readStamp(outDir: string): Promise<Stamp | undefined> {
  try {
    return JSON.parse(await readFile(join(outDir, stampName), 'utf8')) as Stamp;
  } catch {
    return undefined;
  }
}

export async function copyViewer(options: { outDir?: string; force?: boolean; log?: (line: string) => void } = {}): Promise<CopyResult> {
  const log = options.log ?? (() => undefined);
  const outDir = resolve(options.outDir ?? join(here, '..', 'dist', 'viewer'));
  const source = ohifDist();
  const recipe = await recipeHash();
  const stamp = await readStamp(outDir);
  if (!options.force && stamp?.ohifVersion === source.version && stamp.recipe === recipe) {
    log(`viewer: OHIF ${source.version} already in ${relative(process.cwd(), outDir) || '.'} (${formatBytes(stamp.sizeBytes)}), nothing to copy`);
    return { skipped: true, outDir, ohifVersion: source.version, files: stamp.files, sizeBytes: stamp.sizeBytes };
  }

  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  const topLevel = (await readdir(source.dir)).filter((name) => !isPruned(name));
  let files = 0;
  let sizeBytes = 0;
  let sourceSizeBytes = 0;
  const missed: string[] = [];
  let publicPathRewrites = 0;

  for await (const path of walk(source.dir)) {
    const from = join(source.dir, path);
    sourceSizeBytes += (await stat(from)).size;
    if (isPruned(path) || path === 'app-config.js') continue;
    const to = join(outDir, path);
    await mkdir(dirname(to), { recursive: true });
    const kind = rebaseKind(path);
    if (kind === 'none') {
      await copyFile(from, to);
    } else {
      const rebased = rebase(kind, await readFile(from, 'utf8'), base);
      let text = rebased.text;
      if (kind === 'script') publicPathRewrites += (text.match(/__webpack_require__\.p\s*=\s*"\/viewer\/"/g) ?? []).length;
      if (path === 'index.html') text = injectSessionScript(text, base).replace(/<title>[^<]*<\/title>/, '<title>medlake viewer</title>');
      missed.push(...rootReferences(text, topLevel).map((ref) => `${path}: ${ref}`));
      await writeFile(to, text);
    }
    files += 1;
    sizeBytes += (await stat(to)).size;
  }

  for (const [name, text] of [['app-config.js', viewerAppConfigSource()], [viewerSessionScriptName, viewerSessionScript]] as const) {
    await writeFile(join(outDir, name), text);
    files += 1;
    sizeBytes += Buffer.byteLength(text);
  }

  if (missed.length > 0) {
    await rm(outDir, { recursive: true, force: true });
    throw new Error(`viewer: root-absolute references left after re-basing to ${base} (a new OHIF build may bake its public path somewhere else):\n  ${missed.slice(0, 20).join('\n  ')}`);
  }
  if (publicPathRewrites === 0) {
    await rm(outDir, { recursive: true, force: true });
    throw new Error('viewer: no bundle public path (__webpack_require__.p) was found to re-base: the OHIF build changed shape.');
  }

  const done: Stamp = { ohifVersion: source.version, recipe, files, sizeBytes };
  await writeFile(join(outDir, stampName), `${JSON.stringify(done, null, 2)}\n`);
  log(`viewer: OHIF ${source.version} copied to ${relative(process.cwd(), outDir) || '.'}: ${files} files, ${formatBytes(sizeBytes)} (from ${formatBytes(sourceSizeBytes)} before pruning)`);
  return { skipped: false, outDir, ohifVersion: source.version, files, sizeBytes, sourceSizeBytes };
}

function formatBytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const outIndex = args.indexOf('--out');
  copyViewer({ force: args.includes('--force'), outDir: outIndex >= 0 ? args[outIndex + 1] : undefined, log: console.log }).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
