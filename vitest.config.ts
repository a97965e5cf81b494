import { defineConfig } from 'vitest/config';
import { loadNative } from './src/util/uws.js';

/**
 * The simulator conformance suites that run a second time on the compat server (node:http + ws), so the simulator
 * is checked to behave the same on both servers. Only where a native uWS build loads: elsewhere (Node 22/24 on
 * glibc < 2.38) the compat server is what every test runs on already.
 */
const ON_COMPAT = [
  'test/sim/core/http.test.ts',
  'test/sim/core/faults.test.ts',
  'test/md/ws.test.ts',
  'test/sim/binance/*.test.ts',
  'test/sim/bybit/*.test.ts',
  'test/e2e/simchild.test.ts',
  'test/sim/thirdparty/binance-rest-extra.test.ts',
  'test/sim/thirdparty/ccxt-pro.test.ts',
  'test/sim/thirdparty/ccxt-pro-private.test.ts',
];
/** timer-bound (the DCP windows) or server-independent (seeded byte streams): once is enough */
const NOT_ON_COMPAT = ['test/sim/bybit/dcp.test.ts', 'test/sim/bybit/determinism.test.ts', 'test/sim/*/throughput.test.ts'];
const nativeLoads = loadNative() !== undefined;

export default defineConfig({
  test: {
    // Real sockets on loopback: bound every test, never hang CI.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // 2 cores: more forks only add cross-core wake-ups and noise.
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
    projects: [
      { extends: true as const, test: { name: 'default', include: ['test/**/*.test.ts'] } },
      ...(nativeLoads
        ? [{ extends: true as const, test: { name: 'compat', include: ON_COMPAT, exclude: NOT_ON_COMPAT, env: { TICKWIRE_UWS: 'compat' } } }]
        : []),
    ],
  },
});
