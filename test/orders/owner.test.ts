import { describe, expect, it } from 'vitest';
import { OrderStore } from '../../src/orders/state.js';
import { instrumentFromSim } from '../../src/exchange/paper.js';
import { makeInstrument } from '../../src/sim/core/instruments.js';
import { blankOrderEvent } from '../../src/model/orders.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Journal } from '../../src/persist/journal.js';
import { recover } from '../../src/persist/recover.js';

const ins = [instrumentFromSim(makeInstrument('bybitLinear', 'BTCUSDT'), 0)];

function intent(s: OrderStore, id: string, side: 'BUY' | 'SELL', qty: number, tif: 'GTC' | 'POST_ONLY' = 'GTC'): void {
  s.create({ clientOrderId: id, venue: 'bybitLinear', symbol: 'BTCUSDT', slot: 0, side, type: 'LIMIT', tif, price: 970_000, qty, reduceOnly: false, nowNs: 0 });
}

function ev(id: string, kind: 'ack' | 'fill' | 'cancel', state: string, qty = 0, tradeId = '') {
  const e = blankOrderEvent();
  e.venue = 'bybitLinear';
  e.symbol = 'BTCUSDT';
  e.clientOrderId = id;
  e.kind = kind;
  e.state = state as never;
  e.fillQty = qty;
  e.fillPrice = 970_000;
  e.tradeId = tradeId;
  return e;
}

describe('order owner: exposure and portfolio', () => {
  it('an amend moves the open exposure to the new quantity, live and when the journal is replayed', () => {
    const d = mkdtempSync(join(tmpdir(), 'tw-owner-amend-'));
    try {
      const j = Journal.open(d, { fsync: 'never', batchMs: 1, fsyncIntervalMs: 1000 });
      const l = new OrderStore(ins, 1);
      intent(l, 'b1', 'BUY', 10);
      j.appendNow({
        t: 'intent',
        id: 'b1',
        v: 'bybitLinear',
        s: 'BTCUSDT',
        side: 'BUY',
        type: 'LIMIT',
        tif: 'GTC',
        px: 970_000,
        qty: 10,
        manual: false,
        ms: 1,
      });
      const a = ev('b1', 'ack', 'ACKED');
      l.apply(a);
      j.append({ t: 'event', id: 'b1', v: 'bybitLinear', s: 'BTCUSDT', k: 'ack', st: 'ACKED', x: '', tid: '', px: 0, qty: 0, cum: 0, fee: 0, fa: '', ms: 1 });
      // amended to 4 at a new price (a stream amendment; an accepted amend answer is journaled the same way)
      const m = blankOrderEvent();
      Object.assign(m, {
        venue: 'bybitLinear',
        symbol: 'BTCUSDT',
        clientOrderId: 'b1',
        kind: 'amend',
        state: 'ACKED',
        orderPrice: 969_000,
        orderQty: 4,
        source: 'stream',
      });
      l.apply(m);
      expect(l.portfolio.openBuyQty[0]).toBe(4);
      expect(l.get('b1')).toMatchObject({ qty: 4, price: 969_000 });
      j.append({
        t: 'event',
        id: 'b1',
        v: 'bybitLinear',
        s: 'BTCUSDT',
        k: 'amend',
        st: 'ACKED',
        x: '',
        tid: '',
        px: 0,
        qty: 0,
        cum: 0,
        fee: 0,
        fa: '',
        ms: 1,
        op: 969_000,
        oq: 4,
      });
      // a failed amend (no new quantity) changes nothing
      const f = blankOrderEvent();
      Object.assign(f, { venue: 'bybitLinear', symbol: 'BTCUSDT', clientOrderId: 'b1', kind: 'amend', state: 'ACKED', code: -2013 });
      l.apply(f);
      expect(l.portfolio.openBuyQty[0]).toBe(4);
      j.close();
      const r = new OrderStore(ins, 1);
      recover(d, r);
      expect(r.portfolio.openBuyQty[0]).toBe(4);
      expect(r.get('b1')).toMatchObject({ qty: 4, price: 969_000 });
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  it("a fill reported after the order's final status still books on the order's side (Bybit sends them in that order)", () => {
    const l = new OrderStore(ins, 1);
    intent(l, 's1', 'SELL', 2, 'POST_ONLY');
    expect(l.portfolio.openSellQty[0]).toBe(2);
    l.apply(ev('s1', 'fill', 'FILLED', 0)); // status update: FILLED, no execution yet
    expect(l.openCount()).toBe(0);
    expect(l.portfolio.openSellQty[0]).toBe(0);
    l.apply(ev('s1', 'fill', 'FILLED', 2, 't1')); // the execution
    expect(l.portfolio.position[0]).toBe(-2);
    expect(l.portfolio.openSellQty[0]).toBe(0);
    expect(l.counts.unknownFills).toBe(0);
    l.apply(ev('s1', 'fill', 'FILLED', 2, 't1')); // duplicate
    expect(l.portfolio.position[0]).toBe(-2);
    expect(l.counts.duplicates).toBe(1);
  });

  it('closed orders survive a snapshot round trip', () => {
    const a = new OrderStore(ins, 1);
    intent(a, 'b1', 'BUY', 3);
    a.apply(ev('b1', 'cancel', 'CANCELED'));
    const b = new OrderStore(ins, 1);
    b.restore(JSON.parse(JSON.stringify(a.snapshot())), 1);
    b.apply(ev('b1', 'fill', 'CANCELED', 1, 't9')); // a partial fill that raced the cancel
    expect(b.portfolio.position[0]).toBe(1);
    expect(b.counts.unknownFills).toBe(0);
  });

  it('refuses to book a fill whose price, quantity or fee is not a finite number (positions and PnL stay numbers)', () => {
    const l = new OrderStore(ins, 1).portfolio;
    expect(() => l.fillAt(0, 'BUY', Number.NaN, 1, 0, '')).toThrow(RangeError);
    expect(() => l.fillAt(0, 'BUY', 970_000, Number.NaN, 0, '')).toThrow(RangeError);
    expect(() => l.fillAt(0, 'SELL', 970_000, 1, Number.POSITIVE_INFINITY, '')).toThrow(RangeError);
    expect(() => l.fillAt(0, 'SELL', 970_000, -1, 0, '')).toThrow(RangeError);
    expect(l.position[0]).toBe(0);
    expect(Number.isFinite(l.pnl(() => 970_000))).toBe(true);
    l.fillAt(0, 'BUY', 970_000, 1, 0, '');
    expect(l.position[0]).toBe(1);
  });
});
