/**
 * The WebAssembly codecs reach the Lambda bundles of the functions that
 * render frames, and work there: the renderer's decoder bundled by esbuild
 * with exactly the settings the stack gives such a function (bundlingOf),
 * its afterBundling commands run, the bundle moved to a folder with no
 * node_modules above it (as /var/task), run by Node, and its decoded frames
 * compared with what the same decoder gives in this process.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeFrame } from '@medlake/functions/dicomweb/decode-frame';
import { wasmCodecFiles } from '@medlake/functions/dicomweb/wasm-codecs';
import { functionCatalog } from './functions';
import { storedFrame } from '../../test/fixtures/dicom/stored-frame';
import { bundlingOf, repoRoot } from './processing';

const work = mkdtempSync(join(tmpdir(), 'medlake-codec-bundle-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const codecPackages = Object.values(wasmCodecFiles).map((codec) => codec.packageName);

/** One frame of each codec's fixtures, as the renderer gets it. */
function frames() {
  return ['jpeg-ls-lossless.dcm', 'jpeg2000-rgb.dcm', 'htj2k-lossless.dcm'].map((file) => {
    const { bytes, module, transferSyntax } = storedFrame(file);
    return { syntax: transferSyntax, bytes, module };
  });
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('the WebAssembly codecs in the Lambda bundles', () => {
  it('every function that renders frames (api: held previews, dicomweb and dicomweb-stream: /rendered, /thumbnail) keeps the codecs external and copies them', () => {
    const rendering = functionCatalog.filter((definition) => definition.rendersFrames).map((definition) => definition.name);
    expect(rendering.sort()).toEqual(['api', 'dicomweb', 'dicomweb-stream']);
    for (const definition of functionCatalog) {
      const bundling = bundlingOf(definition);
      const commands = bundling.commandHooks?.afterBundling('/in', '/out').join('\n') ?? '';
      for (const codec of Object.values(wasmCodecFiles)) {
        expect(bundling.externalModules.includes(codec.packageName), `${definition.name} ${codec.packageName}`).toBe(definition.rendersFrames === true);
        for (const file of codec.files) expect(commands.includes(`/out/node_modules/${codec.packageName}/${file}`), `${definition.name} ${file}`).toBe(definition.rendersFrames === true);
      }
    }
  });

  it('a bundle built as the stack builds it decodes JPEG-LS, JPEG 2000 and HTJ2K frames outside the repository, as this process does', async () => {
    const bundling = bundlingOf(functionCatalog.find((definition) => definition.name === 'dicomweb')!);
    const entry = join(work, 'entry.ts');
    writeFileSync(
      entry,
      `import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { decodeFrame } from ${JSON.stringify(join(repoRoot, 'functions/src/dicomweb/decode-frame.ts'))};
const cases = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const out = [];
for (const c of cases) {
  const decoded = await decodeFrame(c.syntax, Buffer.from(c.bytes, 'base64'), c.module);
  out.push({ sha256: createHash('sha256').update(decoded.pixels).digest('hex'), module: decoded.module });
}
process.stdout.write(JSON.stringify(out));
`,
    );
    const built = join(work, 'asset');
    await build({
      entryPoints: [entry],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: bundling.target,
      mainFields: bundling.mainFields,
      minify: bundling.minify,
      external: bundling.externalModules,
      banner: { js: bundling.banner },
      tsconfig: bundling.tsconfig,
      outfile: join(built, 'index.mjs'),
      logLevel: 'error',
    });
    const bundle = readFileSync(join(built, 'index.mjs'), 'utf8');
    // Loaded on first use: the imports are left for Node, the glue code is not inlined.
    for (const name of codecPackages) expect(bundle.includes(`import("${name}/`), name).toBe(true);
    expect(bundle.includes('[Emscripten Module object]'), 'codec glue inlined').toBe(false);
    for (const command of bundling.commandHooks?.afterBundling(repoRoot, built) ?? []) execFileSync('sh', ['-c', command]);
    for (const codec of Object.values(wasmCodecFiles)) for (const file of codec.files) expect(existsSync(join(built, 'node_modules', codec.packageName, file)), file).toBe(true);

    const cases = frames();
    const input = join(work, 'frames.json');
    writeFileSync(input, JSON.stringify(cases.map((c) => ({ ...c, bytes: Buffer.from(c.bytes).toString('base64') }))));
    // Node 22 as in Lambda (the test runner's own), from a folder with no node_modules above it.
    const output = JSON.parse(execFileSync(process.execPath, [join(built, 'index.mjs'), input], { cwd: work, env: { PATH: process.env.PATH ?? '' } }).toString()) as { sha256: string; module: unknown }[];
    const here = await Promise.all(cases.map((c) => decodeFrame(c.syntax, c.bytes, c.module)));
    expect(output).toEqual(here.map((decoded) => ({ sha256: sha256(decoded.pixels), module: decoded.module })));
  });
});
