import { describe, expect, it } from 'vitest';
import { OrderStore } from '../../src/orders/state.js';
import { Portfolio } from '../../src/orders/portfolio.js';
import { blankOrderEvent, type OrderEvent, type OrderEventKind, type OrderState } from '../../src/model/orders.js';

function store(qty = 10, side: 'BUY' | 'SELL' = 'BUY') {
  const s = new OrderStore();
  const o = s.create({
    clientOrderId: 'c1',
    venue: 'binanceUsdm',
    symbol: 'BTCUSDT',
    slot: 0,
    side,
    type: 'LIMIT',
    tif: 'GTC',
    price: 100,
    qty,
    reduceOnly: false,
    nowNs: 1,
  });
  return { s, o };
}
function ev(kind: OrderEventKind, state: OrderState, extra: Partial<OrderEvent> = {}): OrderEvent {
  return Object.assign(blankOrderEvent(), { venue: 'binanceUsdm', symbol: 'BTCUSDT', clientOrderId: 'c1', kind, state, localNs: 2 }, extra);
}
const fill = (tradeId: string, qty: number, price = 100, state: OrderState = 'PARTIALLY_FILLED') =>
  ev('fill', state, { tradeId, fillQty: qty, fillPrice: price });

describe('order state machine', () => {
  it('NEW_PENDING -> ACKED -> PARTIALLY_FILLED -> FILLED', () => {
    const { s, o } = store();
    expect(o.state).toBe('NEW_PENDING');
    expect(s.apply(ev('ack', 'ACKED', { exchangeOrderId: '8389765739703625592' }))).toBe('applied');
    expect(o.state).toBe('ACKED');
    expect(o.exchangeOrderId).toBe('8389765739703625592');
    expect(s.apply(fill('t1', 4))).toBe('applied');
    expect(o.state).toBe('PARTIALLY_FILLED');
    expect(s.apply(fill('t2', 6, 110, 'FILLED'))).toBe('applied');
    expect(o.state).toBe('FILLED');
    expect(o.filledQty).toBe(10);
    expect(o.filledNotional).toBe(4 * 100 + 6 * 110);
  });

  it.each([
    ['cancel', 'CANCELED'],
    ['reject', 'REJECTED'],
    ['expire', 'EXPIRED'],
  ] as const)('ACKED -> %s', (kind, state) => {
    const { s, o } = store();
    s.apply(ev('ack', 'ACKED'));
    expect(s.apply(ev(kind, state, { code: -2010, reason: 'x' }))).toBe('applied');
    expect(o.state).toBe(state);
  });

  it('NEW_PENDING -> REJECTED keeps code and reason', () => {
    const { s, o } = store();
    s.apply(ev('reject', 'REJECTED', { code: -5022, reason: 'POST_ONLY_WOULD_TAKE' }));
    expect(o.state).toBe('REJECTED');
    expect(o.code).toBe(-5022);
    expect(o.reason).toBe('POST_ONLY_WOULD_TAKE');
  });

  it('CANCEL_PENDING -> CANCELED, and cancelReject returns to the previous state', () => {
    const { s, o } = store();
    s.apply(ev('ack', 'ACKED'));
    expect(s.markCancelPending('c1', 3)).toBe(true);
    expect(o.state).toBe('CANCEL_PENDING');
    expect(s.apply(ev('cancelReject', 'ACKED', { code: -2011 }))).toBe('applied');
    expect(o.state).toBe('ACKED');
    s.markCancelPending('c1', 4);
    s.apply(fill('t1', 3)); // partial fill while the cancel is in flight
    expect(o.state).toBe('CANCEL_PENDING');
    s.apply(ev('cancelReject', 'PARTIALLY_FILLED'));
    expect(o.state).toBe('PARTIALLY_FILLED');
    s.markCancelPending('c1', 5);
    s.apply(ev('cancel', 'CANCELED'));
    expect(o.state).toBe('CANCELED');
    expect(s.markCancelPending('c1', 6)).toBe(false);
  });

  it('drops a duplicate tradeId', () => {
    const { s, o } = store();
    s.apply(fill('t1', 4));
    expect(s.apply(fill('t1', 4))).toBe('duplicate');
    expect(o.filledQty).toBe(4);
    expect(s.portfolio.position[0]).toBe(4);
    expect(s.counts.duplicates).toBe(1);
  });

  it('ack after fill changes nothing', () => {
    const { s, o } = store();
    s.apply(fill('t1', 10, 100, 'FILLED'));
    expect(o.state).toBe('FILLED');
    expect(s.apply(ev('ack', 'ACKED', { exchangeOrderId: '42' }))).toBe('stale');
    expect(o.state).toBe('FILLED');
    expect(o.exchangeOrderId).toBe('42');
  });

  it('ack after partial fill keeps PARTIALLY_FILLED', () => {
    const { s, o } = store();
    s.apply(fill('t1', 3));
    expect(s.apply(ev('ack', 'ACKED'))).toBe('stale');
    expect(o.state).toBe('PARTIALLY_FILLED');
  });

  it('fill after cancel is applied to quantity and position, state stays CANCELED unless it completes', () => {
    const { s, o } = store();
    s.apply(ev('ack', 'ACKED'));
    s.apply(ev('cancel', 'CANCELED'));
    expect(s.apply(fill('t1', 4))).toBe('applied');
    expect(o.state).toBe('CANCELED');
    expect(o.filledQty).toBe(4);
    expect(s.portfolio.position[0]).toBe(4);
    expect(s.apply(fill('t2', 6))).toBe('applied');
    expect(o.state).toBe('FILLED');
    expect(s.counts.fillsAfterTerminal).toBe(2);
  });

  it('status FILLED before the fills arrive, then fills are still counted', () => {
    const { s, o } = store();
    s.apply(ev('fill', 'FILLED', { cumQty: 10 })); // status-only (no trade id, qty 0), e.g. Bybit order topic or a query
    expect(o.state).toBe('FILLED');
    expect(o.reportedCumQty).toBe(10);
    s.apply(fill('e1', 10));
    expect(o.filledQty).toBe(10);
    expect(o.state).toBe('FILLED');
    expect(s.portfolio.position[0]).toBe(10);
  });

  it('a fill after a (duplicate-id) reject revives the order', () => {
    const { s, o } = store();
    s.apply(ev('reject', 'REJECTED', { code: -4116 }));
    s.apply(fill('t1', 2));
    expect(o.state).toBe('PARTIALLY_FILLED');
  });

  it('terminal states do not go back', () => {
    const { s, o } = store();
    s.apply(ev('cancel', 'CANCELED'));
    expect(s.apply(ev('ack', 'ACKED'))).toBe('stale');
    expect(s.apply(ev('expire', 'EXPIRED'))).toBe('stale');
    expect(s.apply(ev('fill', 'PARTIALLY_FILLED'))).toBe('stale');
    expect(o.state).toBe('CANCELED');
    expect(s.apply(ev('fill', 'FILLED'))).toBe('applied');
    expect(o.state).toBe('FILLED');
  });

  it('exchange PENDING_CANCEL maps into CANCEL_PENDING', () => {
    const { s, o } = store();
    s.apply(ev('ack', 'ACKED'));
    s.apply(ev('ack', 'CANCEL_PENDING'));
    expect(o.state).toBe('CANCEL_PENDING');
    s.apply(ev('cancel', 'CANCELED'));
    expect(o.state).toBe('CANCELED');
  });

  it('amend answers: success moves price/qty, failure keeps them and records the reason', () => {
    const { s, o } = store();
    s.apply(ev('ack', 'ACKED'));
    o.amendPrice = 120;
    o.amendQty = 12;
    expect(s.apply(ev('amend', 'ACKED', { source: 'rest' }))).toBe('applied');
    expect([o.price, o.qty, o.amendQty]).toEqual([120, 12, 0]);
    o.amendPrice = 130;
    o.amendQty = 5;
    expect(s.apply(ev('amend', 'ACKED', { source: 'rest', code: 110001, reason: 'UNKNOWN_ORDER' }))).toBe('applied');
    expect([o.price, o.qty, o.reason]).toEqual([120, 12, 'UNKNOWN_ORDER']);
    expect(s.apply(ev('amend', 'ACKED', { source: 'stream' }))).toBe('stale');
  });

  it('unknown orders are counted, not applied', () => {
    const { s } = store();
    expect(s.apply(Object.assign(ev('ack', 'ACKED'), { clientOrderId: 'nope' }))).toBe('unknown');
    expect(s.counts.unknown).toBe(1);
  });

  it('prune forgets the oldest terminal orders only', () => {
    const s = new OrderStore();
    for (let i = 0; i < 5; i++) {
      s.create({
        clientOrderId: 'o' + i,
        venue: 'bybitLinear',
        symbol: 'X',
        slot: 0,
        side: 'BUY',
        type: 'LIMIT',
        tif: 'GTC',
        price: 1,
        qty: 1,
        reduceOnly: false,
        nowNs: i,
      });
      if (i < 4) s.apply(Object.assign(blankOrderEvent(), { clientOrderId: 'o' + i, kind: 'cancel', state: 'CANCELED', localNs: i }));
    }
    expect(s.prune(1)).toBe(3);
    expect(s.get('o3')).toBeDefined();
    expect(s.get('o4')).toBeDefined();
    expect(s.get('o0')).toBeUndefined();
  });
});

describe('positions from fills', () => {
  it('averages entries, realizes on reduce, flips', () => {
    const pf = new Portfolio([], 1);
    const p = {
      applyFill: (side: 'BUY' | 'SELL', price: number, qty: number) => pf.fillAt(0, side, price, qty, 0, ''),
      get qty() {
        return pf.position[0];
      },
      get avgPrice() {
        return pf.avgPrice[0];
      },
      get realized() {
        return pf.realized[0];
      },
    };
    p.applyFill('BUY', 100, 2);
    p.applyFill('BUY', 110, 2);
    expect(p.qty).toBe(4);
    expect(p.avgPrice).toBe(105);
    p.applyFill('SELL', 120, 1);
    expect(p.qty).toBe(3);
    expect(p.avgPrice).toBe(105);
    expect(p.realized).toBe(15);
    p.applyFill('SELL', 90, 5); // close 3 at -15 each, open short 2 at 90
    expect(p.realized).toBe(15 - 45);
    expect(p.qty).toBe(-2);
    expect(p.avgPrice).toBe(90);
    p.applyFill('BUY', 80, 2);
    expect(p.qty).toBe(0);
    expect(p.avgPrice).toBe(0);
    expect(p.realized).toBe(-30 + 20);
  });
  it('sell orders reduce through the store', () => {
    const { s } = store(5, 'SELL');
    s.apply(fill('t1', 5, 100, 'FILLED'));
    expect(s.portfolio.position[0]).toBe(-5);
    expect(s.portfolio.avgPrice[0]).toBe(100);
  });
});
