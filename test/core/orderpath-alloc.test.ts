/**
 * Bytes allocated per order on the engine's order path, in steady state (issue 12, "guard the hot path before you
 * change it"): Engine.place -> pre-trade risk -> Ledger (LiveOrder) -> ManagerEntry -> OrderManager -> OrderStore
 * (TrackedOrder) -> a stub venue -> ack / fills / cancel back through the state machine, the ledger and the journal
 * (bench/orderpath.ts builds it as wireNetwork and runEngine do). The same path is timed by the bench suite
 * bench/suites/orders-path.ts.
 *
 * Today's path allocates per order (two order records in two tables, their map entries, the id strings, a trade
 * key per fill, a JSON line per journal event), so this is not a zero-allocation test: it states today's cost as a
 * bound per order, counted whatever the GC does (test/helpers/alloc.ts `expectAllocationAtMost`: N / 4N slope, least
 * of three trials). What an order allocates today (Node 20, 2026-12-07; parts measured one by one):
 *   place: the two order records with their map entries (Ledger's LiveOrder ~230 B; OrderStore's TrackedOrder with
 *     its trade-id Set ~540 B), the client id string (~90 B), OrderManager's spec object for OrderStore.create
 *     (~100 B): ~1 KB
 *   ack: the exchange order id string (~50 B, made by the stub as a parser makes it)
 *   each fill: the trade id string, the ledger's `venue:symbol:tradeId` dedup key and its Set/array entries (~190 B)
 *   the journal: ~1 KB per order event (an object literal, JSON.stringify, CRC hex, the line's concatenation); the
 *     intent line itself is preformatted (~100 B)
 * Measured here per order (the range over warm-ups of 40,000 to 90,000 orders: the kept-history tables rehash now
 * and then, and the least-of-three picks up more or less of that): fill cycle 1.67-2.03 KB, cancel cycle
 * 1.26-1.33 KB; with the journal 5.66-6.13 KB and 3.67-3.81 KB. Each bound is the worst of those plus ~500 B: one
 * more 1 KB object per order fails all four (checked). When one order truth replaces the double bookkeeping,
 * measure again and lower the bounds.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { orderPath, type OrderPath } from '../../bench/orderpath.js';
import { expectAllocationAtMost } from '../helpers/alloc.js';

/**
 * Steady state: past every cap of the kept history (10,000 terminal orders in the ledger and in OrderStore, the
 * ledger's 100,000 trade keys = 50,000 fill cycles), so eviction and pruning run inside the measured loops.
 */
const WARM_ORDERS = 55_000;
const N = 2_000;

const CASES: ReadonlyArray<readonly [name: string, journal: boolean, kind: 'fill' | 'cancel', maxBytesPerOrder: number]> = [
  ['place, ack, partial fill, fill; no journal', false, 'fill', 2_560],
  ['place, ack, cancel, canceled; no journal', false, 'cancel', 1_792],
  ['place, ack, partial fill, fill; journal (fsync never)', true, 'fill', 6_656],
  ['place, ack, cancel, canceled; journal (fsync never)', true, 'cancel', 4_352],
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
    const fills0 = e.ledger.fills;
    const cancels0 = e.cancels;
    const records0 = path.journal?.records ?? 0;
    expectAllocationAtMost(`order path: ${name}`, run, N, maxBytesPerOrder);
    // every order went the whole way: sent, answered, booked, journaled, closed
    const orders = path.cycles - cycles0;
    expect(orders).toBeGreaterThanOrEqual(15 * N);
    expect(path.venue.places).toBe(path.cycles);
    expect(e.ordersSent).toBe(path.cycles);
    expect(e.rejects).toBe(0);
    expect(e.ledger.openCount()).toBe(0);
    expect(path.manager.store.open().length).toBe(0);
    expect(path.manager.counts.stale + path.manager.counts.duplicate + path.manager.counts.unknown + path.manager.counts.invalid).toBe(0);
    if (kind === 'fill') {
      expect(e.ledger.fills - fills0).toBe(2 * orders);
      expect(e.ledger.dupFills).toBe(0);
      expect(e.position(path.instrument.slot)).toBe(0);
    } else {
      expect(e.cancels - cancels0).toBe(orders);
      expect(e.ledger.fills).toBe(0);
    }
    if (path.journal) {
      // intent + ack + two fills, or intent + ack + cancel, each order
      expect(path.journal.records - records0).toBe((kind === 'fill' ? 4 : 3) * orders);
      expect(path.journal.writeErrors).toBe(0);
    }
  });
});
