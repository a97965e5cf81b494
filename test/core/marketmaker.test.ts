import { describe, expect, it } from 'vitest';
import { BotState, FLAG_VALID } from '../../src/core/botstate.js';
import { instrumentFromSim } from '../../src/core/paper.js';
import { makeInstrument } from '../../src/sim/core/instruments.js';
import { MarketMaker } from '../../src/strategy/marketmaker.js';
import { blankOrderEvent, type OrderApi, type OrderRequest } from '../../src/orders/types.js';
import { testConfig } from './helpers.js';

/** Records what the strategy asks for (the strategy's own logic under test, no exchange involved). */
function recorder() {
  const placed: OrderRequest[] = [];
  const canceled: string[] = [];
  let n = 0;
  const api: OrderApi = {
    place: (r) => (placed.push({ ...r }), `id${++n}`),
    cancel: (id) => (canceled.push(id), true),
    cancelAll: () => {},
    amend: () => false,
  };
  return { api, placed, canceled };
}

function setup(pos = 0, params: Record<string, unknown> = {}) {
  const cfg = testConfig({ strategy: { marketMaker: { venue: 'binanceSpot', symbol: 'BTCUSDT', halfSpreadBps: 1, size: 0.001, skewBpsPerUnit: 100, maxInventory: 0.01, requoteTicks: 2, ...params } } });
  const state = BotState.create(1);
  const ins = instrumentFromSim(makeInstrument('binanceSpot', 'BTCUSDT'), 0);
  state.writeTop(0, 9_999_999, 1, 10_000_001, 1, 1, 0, 1); // mid 100,000.00
  state.setFlag(0, FLAG_VALID);
  const rec = recorder();
  let position = pos;
  const mm = new MarketMaker(cfg.strategy.marketMaker);
  mm.start({ state, orders: rec.api, portfolio: { position: () => position, openOrders: () => 0 }, instruments: [ins], slotOf: () => 0 });
  return { mm, state, rec, setPos: (p: number) => (position = p) };
}

describe('market maker', () => {
  it('quotes post-only both sides around mid (half spread 1 bp = 10.00)', () => {
    const { mm, rec } = setup();
    mm.onBook(0);
    expect(rec.placed.map((p) => [p.side, p.price, p.qty, p.tif])).toEqual([
      ['BUY', 9_999_000, 100, 'POST_ONLY'],
      ['SELL', 10_001_000, 100, 'POST_ONLY'],
    ]);
  });

  it('skews both quotes against inventory, and stops the side that would grow it past maxInventory', () => {
    const long = setup(500); // +0.005 BTC, skew 100 bp/BTC -> 0.5 bp = 5.00 lower
    long.mm.onBook(0);
    expect(long.rec.placed.map((p) => p.price)).toEqual([9_998_500, 10_000_500]);
    const full = setup(1000); // at +0.01 = maxInventory: only the ask
    full.mm.onBook(0);
    expect(full.rec.placed.map((p) => p.side)).toEqual(['SELL']);
  });

  it('requotes (cancel first, place on the confirmation) only when the wanted price moved beyond the threshold', () => {
    const { mm, rec, state } = setup();
    mm.onBook(0);
    const ack = blankOrderEvent();
    ack.kind = 'ack';
    ack.state = 'ACKED';
    for (const id of ['id1', 'id2']) {
      ack.clientOrderId = id;
      mm.onOrderEvent(ack);
    }
    state.writeTop(0, 10_000_000, 1, 10_000_002, 1, 2, 0, 1); // mid +1 tick: within 2 ticks
    mm.onBook(0);
    expect(rec.canceled).toEqual([]);
    state.writeTop(0, 10_000_999, 1, 10_001_001, 1, 3, 0, 1); // mid +10.00
    mm.onBook(0);
    expect(rec.canceled).toEqual(['id1', 'id2']);
    expect(rec.placed.length).toBe(2); // nothing new until the cancels are confirmed
    const cxl = blankOrderEvent();
    cxl.kind = 'cancel';
    cxl.state = 'CANCELED';
    cxl.clientOrderId = 'id1';
    mm.onOrderEvent(cxl);
    expect(rec.placed.slice(2).map((p) => [p.side, p.price])).toEqual([['BUY', 9_999_999]]); // floor(mid 10,001,000 - 1 bp of it)
  });

  it('pulls both quotes when the book is not tradable', () => {
    const { mm, rec, state } = setup();
    mm.onBook(0);
    state.clearFlag(0, FLAG_VALID);
    mm.onBook(0);
    expect(rec.canceled).toEqual(['id1', 'id2']);
  });
});
