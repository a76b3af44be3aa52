import { defineConfig } from 'vitest/config';

// Unit tests (shared/) are fast and pure; integration tests (test/) each start
// their own isolated local stack, so they run in forked processes with a
// generous timeout and limited parallelism on 2-core CI machines.
export default defineConfig({
  test: {
    include: ['shared/src/**/*.test.ts', 'functions/src/**/*.test.ts', 'local/src/**/*.test.ts', 'infra/**/*.test.ts', 'gateway/src/**/*.test.ts', 'web/src/**/*.test.ts', 'web/scripts/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
