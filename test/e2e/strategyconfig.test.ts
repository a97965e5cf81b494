/** `strategy.name: 'triggerFollower'` from the config (as `tickwire wire2wire --engine` runs it). */
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { runEngine } from '../../src/app/run.js';
import { loadConfig } from '../../src/config/load.js';
import { rmDir, tmpDir } from '../core/helpers.js';

const dir = tmpDir('e2e-strategycfg');
afterAll(() => rmDir(dir));
const quiet = { log: { level: 'silent', destinations: [{ to: 'stderr', level: 'silent' }] } };

describe('strategy.name = triggerFollower', () => {
  it('the example config documents it and the schema validates its parameters, naming the field', () => {
    const c = loadConfig({ file: join(import.meta.dirname, '../../src/config/tickwire.example.json'), env: {} });
    expect(c.strategy.triggerFollower).toMatchObject({ venue: 'binanceSpot', symbol: 'BTCUSDT', tif: 'IOC', offsetTicks: 0 });
    expect(() => loadConfig({ env: {}, overrides: { strategy: { name: 'triggerFollower', triggerFollower: { tif: 'FOK' } } } })).toThrow(
      /strategy\.triggerFollower\.tif/,
    );
  });

  it('runs from config on the paper venue: orders on touch moves, none crosses or fills, nothing left open', async () => {
    const r = await runEngine({
      paper: true,
      durationSec: 15,
      paperRate: 2000,
      stopWhen: (e) => e.ordersSent >= 20,
      print: false,
      signals: false,
      env: {},
      overrides: {
        ...quiet,
        persistence: { dir },
        strategy: { name: 'triggerFollower', triggerFollower: { venue: 'binanceSpot', symbol: 'BTCUSDT', size: 0.001 } },
        risk: { maxOrdersPerSecond: 1000 },
      },
    });
    expect(r.code).toBe(0);
    expect(r.summary.orders.sent).toBeGreaterThanOrEqual(20);
    expect(r.summary.fills).toBe(0);
    expect(r.summary.orders.openAtEnd).toBe(0);
  });
});
