import { afterAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { runEngine } from '../../src/app/run.js';
import { F } from '../../src/model/botstate.js';
import type { KillReport } from '../../src/engine/killswitch.js';
import { rmDir, tmpDir, until } from '../core/helpers.js';

const dir = tmpDir('e2e-kill');
let n = 0;
afterAll(() => rmDir(dir));
const TOKEN = 'e2e-kill-token-0123456789';

describe('kill switch against the embedded simulator (Binance Spot + USD-M, Bybit spot + linear)', () => {
  for (const [transport, reconnect] of [
    ['rest', false],
    ['wsapi', true],
  ] as const) {
    it(`leaves zero open orders on every venue, verified by querying the exchanges (${transport}${reconnect ? ', during a reconnect' : ''})`, async () => {
      let report: KillReport | undefined;
      let openAfter = -1;
      let failure: unknown;
      let done = false;
      const r = await runEngine({
        durationSec: 25,
        print: false,
        signals: false,
        simRate: 200,
        transport,
        env: { TICKWIRE_CONTROL_TOKEN: TOKEN },
        overrides: {
          log: { level: 'silent', destinations: [{ to: 'stderr', level: 'silent' }] },
          persistence: { dir: `${dir}/${n++}` },
          strategy: { name: 'none' },
          instruments: [
            { venue: 'binanceSpot', symbol: 'BTCUSDT' },
            { venue: 'binanceUsdm', symbol: 'BTCUSDT' },
            { venue: 'bybitSpot', symbol: 'BTCUSDT' },
            { venue: 'bybitLinear', symbol: 'BTCUSDT' },
          ],
        },
        stopWhen: () => done,
        onReady: ({ engine, control, wiring }) => {
          void (async () => {
            try {
              const ins = engine.instruments;
              await until(() => ins.every((i) => engine.state.tradable(i.slot)), 10_000, 'all four books synced');
              for (const i of ins) {
                const mid = engine.state.get(i.slot, F.mid);
                for (let k = 1; k <= 2; k++) {
                  const price = Math.floor((mid * (1 - 0.002 * k)) / i.tickUnits) * i.tickUnits;
                  const qty = 2 * 10 ** Math.max(0, i.qtyDecimals - 3); // 0.002
                  const p = engine.placeManual({ slot: i.slot, side: 'BUY', type: 'LIMIT', tif: 'GTC', price, qty });
                  expect(p.id, `${i.venue} refused ${p.refusal}`).not.toBeNull();
                }
              }
              await until(() => engine.acks >= 8, 10_000, 'eight acks');
              expect((await wiring.orders.openOrdersOf(ins)).length).toBe(8);
              if (reconnect) {
                // every connection (market data, user streams, WS API) drops just before the trigger
                for (const market of ['binanceSpot', 'binanceUsdm', 'bybitSpot', 'bybitLinear'] as const)
                  wiring.sim!.inject({ kind: 'closeConnections', market, which: 'all' });
              }
              const res = await request(`${control!.url}/kill?wait=1`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
              report = (await res.body.json()) as KillReport;
              openAfter = (await wiring.orders.openOrdersOf(ins)).length;
            } catch (e) {
              failure = e;
            } finally {
              done = true;
            }
          })();
        },
      });
      if (failure) throw failure;
      expect(report?.verified).toBe(true);
      expect(report?.openOrdersAtTrigger).toBe(8);
      expect(report?.triggerToLastCancelAckMs).toBeGreaterThan(0);
      expect(openAfter).toBe(0);
      expect(r.summary.orders.openAtEnd).toBe(0);
      expect(r.summary.killSwitch?.source).toBe('control');
    });
  }
});
