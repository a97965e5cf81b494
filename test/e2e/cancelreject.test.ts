/**
 * A rejected cancel leaves the order in the owner's state from before the cancel, wherever it is read: the owner's
 * record (what the engine reads), the event the strategy and the journal get, the exposure risk reads, and the
 * state a restart rebuilds from the journal. Before the order owner, the engine set ACKED while the order store
 * restored its pre-cancel state (here: PARTIALLY_FILLED).
 *
 * Real sockets: the engine's networked wiring (Binance spot over REST, WS-API user stream) against the embedded
 * simulator; the cancel is refused by an injected 429.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSim, type SimHandle } from '../../src/sim/index.js';
import { BotState, FLAG_VALID } from '../../src/model/botstate.js';
import { HopRecorder } from '../../src/util/hops.js';
import { wireNetwork, type Wiring } from '../../src/app/wiring.js';
import { accessFromSim } from '../../src/exchange/endpoints.js';
import { Engine } from '../../src/engine/engine.js';
import { Journal, JOURNAL_FILE, readJournal } from '../../src/persist/journal.js';
import { recover } from '../../src/persist/recover.js';
import { OrderStore } from '../../src/orders/state.js';
import type { OrderEvent } from '../../src/model/orders.js';
import type { Strategy } from '../../src/strategy/types.js';
import { testConfig, until } from '../core/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'tickwire-cancelreject-'));
let sim: SimHandle;
let wiring: Wiring;
let engine: Engine;
let journal: Journal;
const seen: OrderEvent[] = [];
const state = BotState.create(4);

/** a strategy that only records what it is told */
const recorder: Strategy = { name: 'recorder', onTick() {}, onBook() {}, onOrderEvent: (ev) => void seen.push({ ...ev }) };

beforeAll(async () => {
  sim = await startSim({ venues: ['binanceSpot'], seed: 9, symbols: ['BTCUSDT'], rate: 2, depthIntervalMs: 0 });
  wiring = await wireNetwork({
    refs: [{ venue: 'binanceSpot', symbol: 'BTCUSDT' }],
    state,
    hops: new HopRecorder(),
    access: accessFromSim(sim),
    ephemeral: true,
    sim,
    signals: { funding: false, openInterest: false, intervalMs: 60_000 },
    describe: {},
  });
  const cfg = testConfig({
    persistence: { dir, batchMs: 1 },
    risk: { maxOrderQty: 100, maxOrderNotional: 1e9, maxPositionPerSymbol: 1000, maxTotalNotional: 1e10, priceBandBps: 1000 },
  });
  journal = Journal.open(dir, cfg.persistence);
  engine = new Engine({ config: cfg, state, instruments: wiring.instruments, orders: wiring.orders, hops: new HopRecorder(), journal, strategy: recorder });
  wiring.attach((slot) => engine.onBookUpdate(slot));
  await wiring.start();
  engine.start();
  await until(() => (state.flags(0) & FLAG_VALID) !== 0, 8000, 'book valid');
}, 30_000);

afterAll(async () => {
  engine?.shutdown();
  await wiring?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('cancel reject', () => {
  it('a rejected cancel of a partly filled order leaves it PARTIALLY_FILLED for the owner, the engine, the strategy, risk and the journal', async () => {
    const ins = wiring.instruments[0]!;
    const ask = sim.books.get('binanceSpot')!.get('BTCUSDT')!.bestAsk()!;
    // takes the whole best ask level and rests the same quantity again at that price
    const qty = 2 * ask.qtyLots * ins.lotUnits;
    const { id } = engine.placeManual({ slot: ins.slot, side: 'BUY', type: 'LIMIT', tif: 'GTC', price: ask.priceTicks * ins.tickUnits, qty });
    expect(id).not.toBeNull();
    await until(() => engine.order(id!)?.state === 'PARTIALLY_FILLED', 8000, 'partial fill');
    const filled = engine.order(id!)!.filledQty;
    expect(filled).toBeGreaterThan(0);
    expect(filled).toBeLessThan(qty);

    sim.inject({ kind: 'httpStatus', market: 'binanceSpot', status: 429, retryAfterSec: 1 });
    expect(engine.cancel(id!)).toBe(true);
    expect(engine.order(id!)!.state).toBe('CANCEL_PENDING');
    await until(() => seen.some((e) => e.clientOrderId === id && e.kind === 'cancelReject'), 8000, 'cancel reject');

    // the owner (and the engine, which reads it): back to the state before the cancel
    const o = engine.order(id!)!;
    expect(o.state).toBe('PARTIALLY_FILLED');
    expect(o.filledQty).toBe(filled);
    expect(engine.status()['orders']).toMatchObject({ open: 1, cancelRejects: 1 });
    // the strategy was told the same state
    expect(seen.filter((e) => e.clientOrderId === id && e.kind === 'cancelReject').map((e) => e.state)).toEqual(['PARTIALLY_FILLED']);
    // risk still counts the open rest of it
    expect(engine.portfolio.openBuyQty[ins.slot]).toBe(qty - filled);
    expect(engine.portfolio.openPerSlot[ins.slot]).toBe(1);
    // the position is what was bought net of the taker/maker fee (0.1 %) paid in the base asset
    expect(o.fees).toBeCloseTo((filled / 10 ** ins.qtyDecimals) * 0.001, 8);
    expect(engine.position(ins.slot)).toBeCloseTo(filled - o.fees * 10 ** ins.qtyDecimals, 6);
    // and the exchange agrees: open, with that fill
    const open = await wiring.orders.openOrdersOf(wiring.instruments);
    expect(open.map((x) => [x.clientOrderId, x.filledQty])).toEqual([[id, filled]]);
    // the journal says the same, and a restart rebuilds it
    journal.flush();
    const rec = readJournal(join(dir, JOURNAL_FILE)).records.filter((r) => r.t === 'event' && r.id === id && r.k === 'cancelReject');
    expect(rec.map((r) => (r.t === 'event' ? r.st : ''))).toEqual(['PARTIALLY_FILLED']);
    const replayed = new OrderStore(wiring.instruments, state.slots);
    recover(dir, replayed);
    expect(replayed.get(id!)).toMatchObject({ state: 'PARTIALLY_FILLED', filledQty: filled, qty });
    expect(replayed.portfolio.openBuyQty[ins.slot]).toBe(qty - filled);

    // once the back-off is over the order can be cancelled again
    await new Promise((r) => setTimeout(r, 1100));
    expect(engine.cancel(id!)).toBe(true);
    await until(() => engine.order(id!)?.state === 'CANCELED', 8000, 'cancelled');
    expect(engine.portfolio.openPerSlot[ins.slot]).toBe(0);
    expect(engine.portfolio.openBuyQty[ins.slot]).toBe(0);
  }, 30_000);
});
