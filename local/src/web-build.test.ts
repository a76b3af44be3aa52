import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { webBuildState } from './web-build';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function webDir(scripts: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'medlake-web-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ scripts }));
  mkdirSync(join(dir, 'src'));
  writeFileSync(join(dir, 'src', 'main.tsx'), 'export {};');
  return dir;
}

const past = new Date(Date.now() - 60_000);

describe('when npm run dev rebuilds the web app', () => {
  it('not without a build script (the front door shows its placeholder)', () => {
    expect(webBuildState(webDir({}))).toEqual({ state: 'no-build-script' });
  });

  it('when web/dist is missing', () => {
    expect(webBuildState(webDir({ build: 'vite build' }))).toEqual({ state: 'needs-build', reason: 'web/dist is missing' });
  });

  it('not when the build is newer than every source', () => {
    const dir = webDir({ build: 'vite build' });
    utimesSync(join(dir, 'src', 'main.tsx'), past, past);
    utimesSync(join(dir, 'src'), past, past);
    utimesSync(join(dir, 'package.json'), past, past);
    mkdirSync(join(dir, 'dist'));
    writeFileSync(join(dir, 'dist', 'index.html'), '<!doctype html>');
    expect(webBuildState(dir)).toEqual({ state: 'up-to-date' });
  });

  it('when a source changed after the build', () => {
    const dir = webDir({ build: 'vite build' });
    mkdirSync(join(dir, 'dist'));
    writeFileSync(join(dir, 'dist', 'index.html'), '<!doctype html>');
    utimesSync(join(dir, 'dist', 'index.html'), past, past);
    expect(webBuildState(dir)).toMatchObject({ state: 'needs-build', reason: expect.stringMatching(/^web\/(src|package\.json) changed/) });
  });
});
