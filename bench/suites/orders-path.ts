/**
 * The engine's order path per order (issue 12: measured before one order truth replaces the double bookkeeping of
 * Ledger + OrderStore): Engine.place -> pre-trade risk -> Ledger.intent -> ManagerEntry -> OrderManager ->
 * OrderStore -> a stub venue gateway -> journal intent; then the venue's answers back through the state machine,
 * Engine.onOrderEvent, Ledger.apply and the journal (bench/orderpath.ts wires it as wireNetwork and runEngine do).
 *
 * Tasks, ns per order (each iteration runs 100 orders, then writes the journal's batch as its timer would):
 *   fill cycle: place, ack, partial fill (half), fill (the rest); sides alternate so the position stays flat
 *   cancel cycle: place, ack, cancel, canceled
 * each with the journal (temp dir, fsync 'never') and without one. Every rig is first run past the caps of the
 * kept history (10,000 terminal orders, 100,000 trade keys), so the figures are steady state, eviction included.
 *
 * With `node --expose-gc` (npm run bench has it) it also prints the bytes allocated per order over 25,000 orders
 * (heap growth plus what the collections during the loop freed, with the GC count), and what stays allocated
 * after a full GC (retained; ~0 once the caps are reached). test/core/orderpath-alloc.test.ts bounds the former.
 * Run: npm run bench -- --filter orders-path
 */
import v8 from 'node:v8';
import type { Bench } from 'tinybench';
import { orderPath, type OrderPath } from '../orderpath.js';

/** fill cycles to reach the steady state: 100,000 trade keys (two per fill cycle), then some */
const WARM_ORDERS = 55_000;
const ALLOC_ORDERS = 25_000;
/** orders per tinybench iteration (and per journal batch write) */
const BATCH = 100;

function batchOf(p: OrderPath, cycle: () => void): () => void {
  return () => {
    for (let i = 0; i < BATCH; i++) cycle();
    p.flush();
  };
}

function allocPerOrder(name: string, p: OrderPath, cycle: () => void, gc: () => void): void {
  const n = ALLOC_ORDERS;
  gc();
  gc();
  const prof = new v8.GCProfiler();
  prof.start();
  const h0 = process.memoryUsage().heapUsed;
  for (let i = 0; i < n; i += BATCH) {
    for (let k = 0; k < BATCH; k++) cycle();
    p.flush();
  }
  const h1 = process.memoryUsage().heapUsed;
  const stats = prof.stop();
  let freed = 0;
  for (const g of stats.statistics) freed += g.beforeGC.heapStatistics.usedHeapSize - g.afterGC.heapStatistics.usedHeapSize;
  gc();
  const retained = process.memoryUsage().heapUsed - h0;
  const kinds = [...new Set(stats.statistics.map((g) => g.gcType))].join(',') || 'none';
  process.stdout.write(
    `orders-path: ${name}: ${n} orders, allocated ${((h1 - h0 + freed) / n).toFixed(0)} B/order ` +
      `(heap growth ${h1 - h0} B + freed by ${stats.statistics.length} GCs (${kinds}) ${freed} B), retained after GC ${(retained / n).toFixed(1)} B/order\n`,
  );
}

export default async function register(bench: Bench): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (const journal of [true, false]) {
    const p = await orderPath({ journal });
    const tag = journal ? 'journal fsync never' : 'no journal';
    const fill = batchOf(p, p.fillCycle);
    const cancel = batchOf(p, p.cancelCycle);
    for (let i = 0; i < WARM_ORDERS; i += BATCH) fill();
    for (let i = 0; i < 5_000; i += BATCH) cancel();
    if (gc) {
      allocPerOrder(`fill cycle, ${tag}`, p, p.fillCycle, gc);
      allocPerOrder(`cancel cycle, ${tag}`, p, p.cancelCycle, gc);
    } else process.stdout.write('orders-path: allocation check skipped (run with node --expose-gc)\n');
    bench.add(`order path: place, ack, partial fill, fill; ${tag} (x${BATCH})`, fill);
    bench.add(`order path: place, ack, cancel; ${tag} (x${BATCH})`, cancel, {
      // the last task on this rig: stop its engine and remove the journal's temp dir after the measured run
      afterAll(mode) {
        if (mode === 'run') {
          p.close();
          process.stdout.write(
            `orders-path: ${tag}: ${p.cycles} orders, sent ${p.engine.ordersSent}, fills ${p.engine.portfolio.fills}, cancels ${p.engine.cancels}, rejects ${p.engine.rejects}, open ${p.engine.store.openCount()}\n`,
          );
        }
      },
    });
  }
}
