import { describe, expect, it } from 'vitest';
import { BotState, FLAG_VALID } from '../../src/model/botstate.js';
import { instrumentFromSim } from '../../src/exchange/paper.js';
import { makeInstrument } from '../../src/sim/core/instruments.js';
import { CANCEL_RETRY_NS, MarketMaker, REFUSAL_BACKOFF_NS } from '../../src/strategy/marketmaker.js';
import { blankOrderEvent, type OrderApi, type OrderEvent, type OrderRequest } from '../../src/model/orders.js';
import { strategyContext } from '../../src/strategy/context.js';
import { testConfig } from './helpers.js';
import { expectNoAllocation } from '../helpers/alloc.js';

/** Records what the strategy asks for (the strategy's own logic under test, no exchange involved). */
function recorder() {
  const placed: OrderRequest[] = [];
  const canceled: string[] = [];
  let n = 0;
  const rec = {
    /** place() calls, including the refused ones */
    asked: 0,
    /** while true, place() refuses (returns null) as the engine does when risk says no */
    refuse: false,
    placed,
    canceled,
    api: undefined as unknown as OrderApi,
  };
  rec.api = {
    place: (r) => {
      rec.asked++;
      if (rec.refuse) return null;
      placed.push({ ...r });
      return `id${++n}`;
    },
    cancel: (id) => (canceled.push(id), true),
    cancelAll: () => {},
    amend: () => false,
    placeAlgo: () => null,
    cancelAlgo: () => false,
  };
  return rec;
}

const MS = 1e6;

function setup(pos = 0, params: Record<string, unknown> = {}) {
  const cfg = testConfig({
    strategy: {
      marketMaker: {
        venue: 'binanceSpot',
        symbol: 'BTCUSDT',
        halfSpreadBps: 1,
        size: 0.001,
        skewBpsPerUnit: 100,
        maxInventory: 0.01,
        requoteTicks: 2,
        ...params,
      },
    },
  });
  const state = BotState.create(1);
  const ins = instrumentFromSim(makeInstrument('binanceSpot', 'BTCUSDT'), 0);
  state.writeTop(0, 9_999_999, 1, 10_000_001, 1, 1, 0, 1); // mid 100,000.00
  state.setFlag(0, FLAG_VALID);
  const rec = recorder();
  let position = pos;
  // the strategy's clock, driven by the test (ns); starts well away from 0
  const clock = { t: 1_000_000 * MS };
  const mm = new MarketMaker(cfg.strategy.marketMaker, () => clock.t);
  mm.start(strategyContext({ state, orders: rec.api, portfolio: { position: () => position, openOrders: () => 0 }, instruments: [ins], slotOf: () => 0 }));
  const ev = (kind: OrderEvent['kind'], st: OrderEvent['state'], id: string) => {
    const e = blankOrderEvent();
    e.kind = kind;
    e.state = st;
    e.clientOrderId = id;
    mm.onOrderEvent(e);
  };
  const ack = (...ids: string[]) => {
    for (const id of ids) ev('ack', 'ACKED', id);
  };
  const advance = (ms: number) => (clock.t += ms * MS);
  return { mm, state, rec, clock, ev, ack, advance, setPos: (p: number) => (position = p) };
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
    const { mm, rec, state, ack, ev, advance } = setup();
    mm.onBook(0);
    ack('id1', 'id2');
    advance(1_000); // past minRequoteMs
    state.writeTop(0, 10_000_000, 1, 10_000_002, 1, 2, 0, 1); // mid +1 tick: within 2 ticks
    mm.onBook(0);
    expect(rec.canceled).toEqual([]);
    state.writeTop(0, 10_000_999, 1, 10_001_001, 1, 3, 0, 1); // mid +10.00
    mm.onBook(0);
    expect(rec.canceled).toEqual(['id1', 'id2']);
    expect(mm.requotes).toBe(2);
    expect(rec.placed.length).toBe(2); // nothing new until the cancels are confirmed
    ev('cancel', 'CANCELED', 'id1');
    expect(rec.placed.slice(2).map((p) => [p.side, p.price])).toEqual([['BUY', 9_999_999]]); // floor(mid 10,001,000 - 1 bp of it)
  });

  it('does not move a quote before it has rested minRequoteMs, however far the price went', () => {
    const { mm, rec, state, ack, advance, clock } = setup(0, { minRequoteMs: 500 });
    mm.onBook(0);
    ack('id1', 'id2');
    state.writeTop(0, 10_000_999, 1, 10_001_001, 1, 2, 0, 1); // mid +10.00, far beyond 2 ticks
    for (let i = 0; i < 49; i++) {
      advance(10);
      mm.onTick(clock.t);
      mm.onBook(0);
    }
    // 490 ms after the placement: still resting
    expect(rec.canceled).toEqual([]);
    advance(10); // 500 ms
    mm.onTick(clock.t);
    expect(rec.canceled).toEqual(['id1', 'id2']);
  });

  it('sends nothing more on a side while its cancel or its new order is pending', () => {
    const { mm, rec, state, ack, ev, advance, clock } = setup(0, { minRequoteMs: 0 });
    mm.onBook(0);
    // not acked yet: a pending order is neither replaced nor moved
    state.writeTop(0, 10_000_999, 1, 10_001_001, 1, 2, 0, 1);
    for (let i = 0; i < 20; i++) mm.onBook(0);
    expect(rec.placed.length).toBe(2);
    expect(rec.canceled).toEqual([]);
    ack('id1', 'id2');
    mm.onBook(0);
    expect(rec.canceled).toEqual(['id1', 'id2']);
    // the price keeps moving while the cancels are pending: no second cancel, no new order
    for (let i = 0; i < 20; i++) {
      advance(10);
      state.writeTop(0, 10_000_999 + (i % 2) * 500, 1, 10_001_001 + (i % 2) * 500, 1, 3 + i, 0, 1);
      mm.onBook(0);
      mm.onTick(clock.t);
    }
    expect(rec.canceled).toEqual(['id1', 'id2']);
    expect(rec.placed.length).toBe(2);
    ev('cancel', 'CANCELED', 'id2');
    expect(rec.placed.slice(2).map((p) => p.side)).toEqual(['SELL']);
  });

  it('keeps to maxOrdersPerSecond: waits for its budget instead of asking, then sends when the second has passed', () => {
    const { mm, rec, ev, ack, advance, clock } = setup(0, { maxOrdersPerSecond: 3, minRequoteMs: 0 });
    mm.onBook(0); // bid id1, ask id2
    ack('id1', 'id2');
    ev('fill', 'FILLED', 'id1'); // the bid filled: refilled at once from the event (third order of the second)
    expect(rec.placed.length).toBe(3);
    ack('id3');
    ev('fill', 'FILLED', 'id3'); // filled again: the budget is spent
    for (let i = 0; i < 99; i++) {
      advance(10);
      mm.onTick(clock.t);
      mm.onBook(0);
    }
    // 990 ms: not one more request (so nothing for risk to refuse)
    expect(rec.asked).toBe(3);
    advance(10); // a second after the first order: one slot free again
    mm.onTick(clock.t);
    expect(rec.asked).toBe(4);
    expect(rec.placed.slice(3).map((p) => p.side)).toEqual(['BUY']);
  });

  it('after a refusal leaves the side alone for a while instead of asking on every event', () => {
    const { mm, rec, advance, clock } = setup(0, { maxOrdersPerSecond: 1000 });
    rec.refuse = true;
    mm.onBook(0);
    expect(rec.asked).toBe(2);
    expect(mm.refused).toBe(2);
    const steps = REFUSAL_BACKOFF_NS / MS / 10;
    for (let i = 0; i < steps - 1; i++) {
      advance(10);
      mm.onBook(0);
      mm.onTick(clock.t);
    }
    expect(rec.asked).toBe(2);
    rec.refuse = false;
    advance(10);
    mm.onTick(clock.t);
    expect(rec.asked).toBe(4);
    expect(rec.placed.map((p) => p.side)).toEqual(['BUY', 'SELL']);
  });

  it('answers no cancel it did not ask for (engine cancel-all at a stop) with an order; the next tick requotes', () => {
    const { mm, rec, ev, ack, clock } = setup();
    mm.onBook(0);
    ack('id1', 'id2');
    ev('cancel', 'CANCELED', 'id1');
    ev('cancel', 'CANCELED', 'id2');
    expect(rec.asked).toBe(2);
    mm.onTick(clock.t); // the engine ticks the strategy only while trading runs
    expect(rec.placed.slice(2).map((p) => p.side)).toEqual(['BUY', 'SELL']);
  });

  it('after a stop, late events of the old orders place nothing', () => {
    const { mm, rec, ev, ack } = setup();
    mm.onBook(0);
    ack('id1', 'id2');
    mm.stop();
    ev('fill', 'FILLED', 'id1');
    ev('cancel', 'CANCELED', 'id2');
    expect(rec.asked).toBe(2);
  });

  it('retries a rejected cancel only after a pause', () => {
    const { mm, rec, state, ack, ev, advance, clock } = setup(0, { minRequoteMs: 0 });
    mm.onBook(0);
    ack('id1', 'id2');
    state.clearFlag(0, FLAG_VALID); // pull both
    mm.onBook(0);
    expect(rec.canceled).toEqual(['id1', 'id2']);
    ev('cancelReject', 'ACKED', 'id1');
    for (let i = 0; i < CANCEL_RETRY_NS / MS / 10 - 1; i++) {
      advance(10);
      mm.onTick(clock.t);
    }
    expect(rec.canceled).toEqual(['id1', 'id2']);
    advance(10);
    mm.onTick(clock.t);
    expect(rec.canceled).toEqual(['id1', 'id2', 'id1']);
  });

  it('pulls both quotes when the book is not tradable', () => {
    const { mm, rec, state } = setup();
    mm.onBook(0);
    state.clearFlag(0, FLAG_VALID);
    mm.onBook(0);
    expect(rec.canceled).toEqual(['id1', 'id2']);
  });

  it('the event path allocates nothing in steady state while it waits on its budget and hysteresis', () => {
    const { mm, state, ack } = setup(0, { maxOrdersPerSecond: 2 });
    mm.onBook(0);
    ack('id1', 'id2');
    // book moves within the hysteresis, the clock stands still (no requote is due): the common case per frame
    const run = (n: number) => {
      for (let i = 0; i < n; i++) {
        state.writeTop(0, 9_999_999 + (i & 1), 1, 10_000_001 + (i & 1), 1, i, 0, 1);
        mm.onBook(0);
      }
    };
    run(2e5);
    expectNoAllocation('market maker onBook', run, 1e5);
    expect(mm.placed).toBe(2);
  });
});
