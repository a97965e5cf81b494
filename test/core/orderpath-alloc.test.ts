/**
 * Bytes allocated per order on the engine's order path, in steady state (issue 12, "guard the hot path before you
 * change it"): Engine.place -> pre-trade risk -> the order owner (OrderManager.intent: OrderStore's one record) ->
 * a stub venue -> ack / fills / cancel back through the state machine, the portfolio and the journal
 * (bench/orderpath.ts builds it as wireNetwork and runEngine do). The same path is timed by the bench suite
 * bench/suites/orders-path.ts.
 *
 * The path still allocates per order (the order record and its map entry, the id strings, a trade key per fill, a
 * JSON line per journal event), so this is not a zero-allocation test: it states the cost as a bound per order,
 * counted whatever the GC does (test/helpers/alloc.ts `expectAllocationAtMost`: N / 4N slope, least of three
 * trials). History (Node 20, 2026-12-07):
 *   - with two order records (Ledger's LiveOrder + OrderStore's TrackedOrder, before one order truth): fill cycle
 *     1.67-2.03 KB, cancel cycle 1.26-1.33 KB; with the journal 5.66-6.13 KB and 3.67-3.81 KB;
 *   - one order owner: fill cycle 0.87-1.07 KB, cancel cycle 0.68-0.86 KB; with the journal 4.64-4.68 KB and
 *     3.13-3.17 KB (the journal's event records are now most of it).
 * Each bound is the worst of the current range plus ~400 B: one more 1 KB object per order fails all four.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { orderPath, type OrderPath } from '../../bench/orderpath.js';
import { expectAllocationAtMost } from '../helpers/alloc.js';

/**
 * Steady state: past every cap of the kept history (10,000 terminal orders in OrderStore, its 100,000 trade keys =
 * 50,000 fill cycles), so eviction and pruning run inside the measured loops.
 */
const WARM_ORDERS = 55_000;
const N = 2_000;

const CASES: ReadonlyArray<readonly [name: string, journal: boolean, kind: 'fill' | 'cancel', maxBytesPerOrder: number]> = [
  ['place, ack, partial fill, fill; no journal', false, 'fill', 1_472],
  ['place, ack, cancel, canceled; no journal', false, 'cancel', 1_280],
  ['place, ack, partial fill, fill; journal (fsync never)', true, 'fill', 5_120],
  ['place, ack, cancel, canceled; journal (fsync never)', true, 'cancel', 3_584],
];

let p: OrderPath | undefined;
afterEach(() => {
  p?.close();
  p = undefined;
});

describe('order path: bytes allocated per order (steady state)', () => {
  it.each(CASES)('%s', async (name, journal, kind, maxBytesPerOrder) => {
    const path = (p = await orderPath({ journal }));
    const cycle = kind === 'fill' ? path.fillCycle : path.cancelCycle;
    // the journal's batch timer cannot fire inside a synchronous loop: write the batch every 100 orders instead
    const run = (n: number): void => {
      for (let i = 0; i < n; i++) {
        cycle();
        if (i % 100 === 99) path.flush();
      }
      path.flush();
    };
    run(WARM_ORDERS);
    const e = path.engine;
    const cycles0 = path.cycles;
    const fills0 = e.portfolio.fills;
    const cancels0 = e.cancels;
    const records0 = path.journal?.records ?? 0;
    expectAllocationAtMost(`order path: ${name}`, run, N, maxBytesPerOrder);
    // every order went the whole way: sent, answered, booked, journaled, closed
    const orders = path.cycles - cycles0;
    expect(orders).toBeGreaterThanOrEqual(15 * N);
    expect(path.venue.places).toBe(path.cycles);
    expect(e.ordersSent).toBe(path.cycles);
    expect(e.rejects).toBe(0);
    expect(e.store.openCount()).toBe(0);
    expect(path.manager.store.open().length).toBe(0);
    expect(path.manager.counts.stale + path.manager.counts.duplicate + path.manager.counts.unknown + path.manager.counts.invalid).toBe(0);
    if (kind === 'fill') {
      expect(e.portfolio.fills - fills0).toBe(2 * orders);
      expect(e.store.counts.duplicates).toBe(0);
      expect(e.position(path.instrument.slot)).toBe(0);
    } else {
      expect(e.cancels - cancels0).toBe(orders);
      expect(e.portfolio.fills).toBe(0);
    }
    if (path.journal) {
      // intent + ack + two fills, or intent + ack + cancel, each order
      expect(path.journal.records - records0).toBe((kind === 'fill' ? 4 : 3) * orders);
      expect(path.journal.writeErrors).toBe(0);
    }
  });
});
