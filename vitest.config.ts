import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Real sockets on loopback: bound every test, never hang CI.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // 2 cores: more forks only add cross-core wake-ups and noise.
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
  },
});
