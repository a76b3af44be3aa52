import { defineConfig } from 'vitest/config';

// End-to-end tests (test/e2e): real Chromium through a local stack's front door. One file at a
// time: each drives a browser and a stack, which is most of a 2-core machine.
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.test.ts'],
    exclude: ['**/node_modules/**'],
    pool: 'forks',
    maxWorkers: 1,
    testTimeout: 180_000,
    hookTimeout: 300_000,
  },
});
