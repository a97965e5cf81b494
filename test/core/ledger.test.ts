import { describe, expect, it } from 'vitest';
import { Ledger } from '../../src/core/ledger.js';
import { instrumentFromSim } from '../../src/core/paper.js';
import { makeInstrument } from '../../src/sim/core/instruments.js';
import { blankOrderEvent } from '../../src/orders/types.js';

const ins = [instrumentFromSim(makeInstrument('bybitLinear', 'BTCUSDT'), 0)];

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

describe('ledger', () => {
  it("a fill reported after the order's final status still books on the order's side (Bybit sends them in that order)", () => {
    const l = new Ledger(ins, 1);
    l.intent('s1', { slot: 0, side: 'SELL', type: 'LIMIT', tif: 'POST_ONLY', price: 970_000, qty: 2 }, 0, false);
    expect(l.openSellQty[0]).toBe(2);
    l.apply(ev('s1', 'fill', 'FILLED', 0)); // status update: FILLED, no execution yet
    expect(l.openCount()).toBe(0);
    expect(l.openSellQty[0]).toBe(0);
    l.apply(ev('s1', 'fill', 'FILLED', 2, 't1')); // the execution
    expect(l.position[0]).toBe(-2);
    expect(l.openSellQty[0]).toBe(0);
    expect(l.unknownFills).toBe(0);
    l.apply(ev('s1', 'fill', 'FILLED', 2, 't1')); // duplicate
    expect(l.position[0]).toBe(-2);
    expect(l.dupFills).toBe(1);
  });

  it('closed orders survive a snapshot round trip', () => {
    const a = new Ledger(ins, 1);
    a.intent('b1', { slot: 0, side: 'BUY', type: 'LIMIT', tif: 'GTC', price: 970_000, qty: 3 }, 0, false);
    a.apply(ev('b1', 'cancel', 'CANCELED'));
    const b = new Ledger(ins, 1);
    b.restore(JSON.parse(JSON.stringify(a.snapshot())));
    b.apply(ev('b1', 'fill', 'CANCELED', 1, 't9')); // a partial fill that raced the cancel
    expect(b.position[0]).toBe(1);
    expect(b.unknownFills).toBe(0);
  });
});
