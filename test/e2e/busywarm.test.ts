/**
 * Busy-poll with keep-warm (loop.mode busy, loop.warmUs): between rare orders the engine builds and signs a
 * never-sent order on a timer so that the order path stays hot. It must send nothing: the simulator sees no order
 * from the warm-ups, and a real order afterwards still goes out and is acknowledged.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { runEngine } from '../../src/app/run.js';
import { F } from '../../src/model/botstate.js';
import type { OrderEvent } from '../../src/model/orders.js';
import type { SimHandle } from '../../src/sim/index.js';
import type { SimBookListener } from '../../src/sim/core/types.js';
import type { MatchingBook } from '../../src/sim/core/book.js';
import { rmDir, tmpDir, until } from '../core/helpers.js';

const dir = tmpDir('e2e-busywarm');
afterAll(() => rmDir(dir));

describe('busy-poll keep-warm', () => {
  for (const transport of ['wsapi', 'rest'] as const) {
    it(`${transport}: warm-ups build orders that never reach the venue; a real order still does`, { timeout: 60_000 }, async () => {
      let done = false;
      let failure: unknown;
      const r = await runEngine({
        durationSec: 40,
        simRate: 300,
        print: false,
        signals: false,
        env: {},
        simProcess: 'inline',
        transport,
        overrides: {
          log: { level: 'silent', destinations: [{ to: 'stderr', level: 'silent' }] },
          persistence: { dir: join(dir, transport) },
          instruments: [{ venue: 'binanceSpot', symbol: 'BTCUSDT' }],
          exchanges: { bybit: { enabled: false } },
          strategy: { name: 'none' },
          loop: { mode: 'busy', warmUs: 500 },
        },
        stopWhen: () => done,
        onReady: ({ engine, wiring }) => {
          const sim = wiring.sim as SimHandle;
          const book = sim.books.get('binanceSpot')?.get('BTCUSDT') as MatchingBook;
          let venueOrders = 0;
          const listener: SimBookListener = { onLevels: () => undefined, onTrade: () => undefined, onOrder: () => void venueOrders++ };
          book.addListener(listener);
          const acks = new Set<string>();
          const prev = engine.onAfterEvent;
          engine.onAfterEvent = (ev: OrderEvent) => {
            prev?.(ev);
            if (ev.kind === 'ack') acks.add(ev.clientOrderId);
          };
          void (async () => {
            try {
              await until(() => engine.warmups >= 200, 20_000, '200 warm-ups');
              expect(venueOrders).toBe(0);
              expect(engine.ordersSent).toBe(0);
              const bid = engine.state.get(0, F.bidPx);
              const id = engine.placeManual({ slot: 0, side: 'BUY', type: 'LIMIT', tif: 'GTC', price: Math.round(bid * 0.998), qty: 200 }).id!;
              await until(() => acks.has(id), 10_000, 'the real order acknowledged');
              expect(venueOrders).toBe(1);
              expect(engine.loop.spins).toBeGreaterThan(engine.loop.ticks);
            } catch (e) {
              failure = e;
            } finally {
              book.removeListener(listener);
              done = true;
            }
          })();
        },
      });
      if (failure) throw failure;
      expect(r.code).toBe(0);
    });
  }
});
