import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Builds dist/ when stale: the CLI tests run the real binary.
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: forked workers keep native modules (better-sqlite3) isolated per file.
    pool: 'forks',
    maxWorkers: 2,
  },
});
