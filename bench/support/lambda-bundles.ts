/**
 * Lambda bundle sizes and cold-init times: every function of the CDK catalog
 * (infra/src/functions.ts) bundled with esbuild exactly as the CDK stack does
 * (infra/src/processing.ts `functionBundling`: ESM, node22, minified, source
 * map beside), then the bundle imported in a fresh Node process, N times:
 * the module load time (what a cold start adds to the runtime's own start),
 * median. Environment as in Lambda: NODE_OPTIONS=--enable-source-maps and the
 * function's variable names with placeholder values (nothing is contacted at load).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Metafile } from 'esbuild';
import { build } from 'esbuild';
import { bundlingOf, functionBundling, handlerEntry, presentFunctions } from '../../infra/src/processing';
import type { LambdaFigure } from './results';
import { median } from './results';

const run = promisify(execFile);

const loadScript = `
const t0 = performance.now();
await import(process.argv[1]);
process.stdout.write(String(performance.now() - t0));
process.exit(0);
`;

/** The bundle's biggest contributors by package (node_modules/<package>) or workspace, bytes in the output. */
function largestParts(metafile: Metafile, top = 4): { name: string; bytes: number }[] {
  const parts = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [path, input] of Object.entries(output.inputs)) {
      const modules = path.lastIndexOf('node_modules/');
      let name: string;
      if (modules >= 0) {
        const rest = path.slice(modules + 'node_modules/'.length).split('/');
        name = rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] as string);
      } else {
        name = path.split('/').slice(0, 2).join('/');
      }
      parts.set(name, (parts.get(name) ?? 0) + input.bytesInOutput);
    }
  }
  return [...parts].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, bytes]) => ({ name, bytes }));
}

export async function measureLambdas(options: { runs: number; log: (line: string) => void }): Promise<LambdaFigure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'medlake-bundles-'));
  const figures: LambdaFigure[] = [];
  try {
    for (const definition of presentFunctions()) {
      const outfile = join(dir, definition.name, 'index.mjs');
      const built = await build({
        entryPoints: [handlerEntry(definition.name)],
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: functionBundling.target,
        mainFields: functionBundling.mainFields,
        minify: functionBundling.minify,
        sourcemap: functionBundling.sourceMap,
        sourcesContent: functionBundling.sourcesContent,
        // The WebAssembly codecs of the functions that render frames stay external, as in the stack (loaded on first use).
        external: bundlingOf(definition).externalModules,
        banner: { js: functionBundling.banner },
        tsconfig: functionBundling.tsconfig,
        outfile,
        logLevel: 'error',
        metafile: true,
      });
      const figure: LambdaFigure = { name: definition.name, bundleBytes: statSync(outfile).size, mapBytes: statSync(`${outfile}.map`).size, initRunsMs: [], largest: largestParts(built.metafile) };
      const env = {
        PATH: process.env.PATH ?? '',
        NODE_OPTIONS: '--enable-source-maps',
        AWS_REGION: 'eu-central-1',
        MEDLAKE_STAGE: 'bench',
        POWERTOOLS_LOG_LEVEL: 'SILENT',
        DATABASE_URL: 'postgres://bench@127.0.0.1:9/bench',
      };
      try {
        for (let i = 0; i < options.runs; i++) {
          const { stdout } = await run(process.execPath, ['--input-type=module', '-e', loadScript, outfile], { env, timeout: 60_000 });
          figure.initRunsMs.push(Number(stdout));
        }
        figure.initMs = median(figure.initRunsMs);
      } catch (error) {
        figure.error = ((error as { stderr?: string }).stderr ?? String(error)).trim().split('\n').slice(-1)[0]?.slice(0, 200);
      }
      options.log(`lambda ${definition.name}: ${(figure.bundleBytes / 1024).toFixed(0)} KiB, init ${figure.initMs?.toFixed(0) ?? 'failed'} ms`);
      figures.push(figure);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return figures;
}
