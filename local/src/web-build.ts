/**
 * Keeps the SPA build (web/dist) current for `npm run dev`: when web/ has a
 * build script and dist is missing or older than any source file, the build
 * runs (its output shown) before the front door starts.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LocalStackError } from './errors';

/** Paths under web/ whose changes call for a rebuild. */
const sourceEntries = ['src', 'public', 'scripts', 'index.html', 'package.json', 'vite.config.ts', 'tsconfig.json'];

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const stats = statSync(path);
  if (!stats.isDirectory()) return stats.mtimeMs;
  let newest = stats.mtimeMs;
  for (const entry of readdirSync(path)) {
    if (entry === 'node_modules' || entry === 'dist') continue;
    newest = Math.max(newest, newestMtime(join(path, entry)));
  }
  return newest;
}

export type WebBuildState = { state: 'no-build-script' } | { state: 'up-to-date' } | { state: 'needs-build'; reason: string };

export function webBuildState(webDir: string): WebBuildState {
  const manifest = join(webDir, 'package.json');
  if (!existsSync(manifest)) return { state: 'no-build-script' };
  const scripts = (JSON.parse(readFileSync(manifest, 'utf8')) as { scripts?: Record<string, string> }).scripts ?? {};
  if (!scripts.build) return { state: 'no-build-script' };
  const index = join(webDir, 'dist', 'index.html');
  if (!existsSync(index)) return { state: 'needs-build', reason: 'web/dist is missing' };
  const built = statSync(index).mtimeMs;
  const changed = sourceEntries.find((entry) => newestMtime(join(webDir, entry)) > built);
  return changed ? { state: 'needs-build', reason: `web/${changed} changed since the last build` } : { state: 'up-to-date' };
}

/** Runs `npm run build` in web/ with its output on this terminal. */
export function buildWeb(webDir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', 'build'], { cwd: webDir, stdio: 'inherit', env: process.env });
    child.once('error', (error) => reject(new LocalStackError('web_build_failed', `The web app build could not run: ${error.message}`)));
    child.once('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new LocalStackError('web_build_failed', `The web app build failed (${signal ?? `exit code ${code}`}); fix it, or start anyway with MEDLAKE_SKIP_WEB_BUILD=1.`));
    });
  });
}
