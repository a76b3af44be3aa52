/**
 * The SPA build. `npm run dev -w web` serves it with hot reload and hands
 * /api, /dicomweb, /s3 and /viewer to the local front door (MEDLAKE_URL,
 * default http://localhost:3000), so the session cookie stays same-origin.
 */
import { readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import type { Plugin } from 'vite';
import { defineConfig } from 'vite';

const frontDoor = process.env.MEDLAKE_URL ?? 'http://localhost:3000';
const proxied = Object.fromEntries(['/api', '/dicomweb', '/s3', '/viewer'].map((prefix) => [prefix, { target: frontDoor, changeOrigin: false }]));
const outDir = resolve(import.meta.dirname, 'dist');

/**
 * Empties dist/ before a build except dist/viewer: the OHIF copy (48 MB) is
 * cached there by scripts/copy-viewer.ts and only redone when OHIF changes.
 */
function keepViewerCopy(): Plugin {
  return {
    name: 'medlake-keep-viewer-copy',
    apply: 'build',
    async buildStart() {
      const entries = await readdir(outDir).catch(() => [] as string[]);
      await Promise.all(entries.filter((name) => name !== 'viewer').map((name) => rm(join(outDir, name), { recursive: true, force: true })));
    },
  };
}

export default defineConfig({
  plugins: [react(), keepViewerCopy()],
  build: {
    outDir,
    emptyOutDir: false,
    sourcemap: false,
    chunkSizeWarningLimit: 1500,
  },
  server: { proxy: proxied },
  preview: { proxy: proxied },
});
