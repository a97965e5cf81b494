import { describe, expect, it } from 'vitest';
import { Accounts } from '../../../src/sim/core/accounts.js';
import { MatchingBook } from '../../../src/sim/core/book.js';
import { makeInstrument } from '../../../src/sim/core/instruments.js';
import type { SimNewOrder } from '../../../src/sim/core/types.js';

// BTCUSDT spot: price units 0.01 (97000.00 -> 9_700_000), qty units 0.00001 (1 BTC -> 100_000)
const BTC = 100_000;
const PX = 9_700_000;

function setup(market: 'binanceSpot' | 'binanceUsdm' = 'binanceSpot') {
  const accounts = new Accounts([['A'], ['B']]);
  const book = new MatchingBook({ instrument: makeInstrument(market, 'BTCUSDT', { minNotional: '0' }), nowMs: () => 1, hooks: accounts });
  const a = accounts.get('A')!;
  const bal = (asset: string) => {
    const b = accounts.balance(a, asset);
    return { free: b.free, locked: b.locked };
  };
  return { accounts, book, bal };
}
function ord(p: Partial<SimNewOrder>): SimNewOrder {
  return { accountId: 'A', clientOrderId: '', side: 'BUY', type: 'LIMIT', tif: 'GTC', priceTicks: PX, qtyLots: BTC, reduceOnly: false, ...p };
}

describe('spot funds locking', () => {
  it('a resting buy locks quote, a second one beyond the free balance is INSUFFICIENT_BALANCE, cancel releases', () => {
    const { book, bal } = setup();
    expect(bal('USDT')).toEqual({ free: 1_000_000, locked: 0 });
    const r1 = book.submit(ord({ qtyLots: 5 * BTC }));
    expect(r1.ok).toBe(true);
    expect(bal('USDT')).toEqual({ free: 515_000, locked: 485_000 });
    // 6 BTC at 97,000 = 582,000 > 515,000 free (it would have passed when resting orders locked nothing)
    expect(book.submit(ord({ qtyLots: 6 * BTC }))).toEqual({ ok: false, reason: 'INSUFFICIENT_BALANCE' });
    expect(book.submit(ord({ qtyLots: 5 * BTC })).ok).toBe(true);
    expect(bal('USDT').locked).toBeCloseTo(970_000, 6);
    expect(book.cancelAll('A').length).toBe(2);
    expect(bal('USDT')).toEqual({ free: 1_000_000, locked: 0 });
    if (r1.ok) expect(book.cancel('A', { orderId: r1.order.orderId })).toEqual({ ok: false, reason: 'UNKNOWN_ORDER' });
    expect(bal('USDT')).toEqual({ free: 1_000_000, locked: 0 });
  });

  it('a resting sell locks base; fills pay from the lock; a taker part never locks', () => {
    const { book, bal, accounts } = setup();
    const s = book.submit(ord({ side: 'SELL', qtyLots: 60 * BTC, priceTicks: PX + 100 }));
    expect(s.ok).toBe(true);
    expect(bal('BTC')).toEqual({ free: 40, locked: 60 });
    expect(book.submit(ord({ side: 'SELL', qtyLots: 50 * BTC, priceTicks: PX + 200 }))).toEqual({ ok: false, reason: 'INSUFFICIENT_BALANCE' });
    // B buys 2 BTC of A's resting sell: A's lock shrinks by 2, free BTC unchanged, USDT +2 * 97,001 less A's maker fee
    // (0.1 % of it, paid in the USDT received)
    const t = book.submit(ord({ accountId: 'B', side: 'BUY', tif: 'IOC', qtyLots: 2 * BTC, priceTicks: PX + 100 }));
    expect(t.ok && t.fills.length).toBe(1);
    expect(bal('BTC').free).toBeCloseTo(40, 9);
    expect(bal('BTC').locked).toBeCloseTo(58, 9);
    expect(bal('USDT').free).toBeCloseTo(1_000_000 + 2 * 97_001 * (1 - 0.001), 6);
    expect(bal('USDT').locked).toBe(0);
    // B's taker buy never locked anything
    expect(accounts.balance(accounts.get('B')!, 'USDT').locked).toBe(0);
    // a buy with a limit above B's resting sell pays the fill price, and locks only what rests, at its limit
    book.submit(ord({ accountId: 'B', side: 'SELL', qtyLots: 1 * BTC, priceTicks: PX - 100 }));
    const usdtBefore = bal('USDT').free;
    const r = book.submit(ord({ side: 'BUY', qtyLots: 3 * BTC, priceTicks: PX }));
    expect(r.ok && r.fills.map((f) => f.priceTicks)).toEqual([PX - 100]);
    // paid 96,999 for the filled BTC; locks 2 * 97,000 for the resting 2 BTC
    expect(bal('USDT').free).toBeCloseTo(usdtBefore - 96_999 - 194_000, 6);
    expect(bal('USDT').locked).toBeCloseTo(194_000, 6);
    book.cancelAll('A');
    expect(bal('USDT').locked).toBe(0);
    expect(bal('BTC').locked).toBe(0);
    // the 1 BTC bought as a taker came net of its fee (0.001 BTC)
    expect(bal('BTC').free).toBeCloseTo(100 - 2 + 1 - 0.001, 9);
  });

  it('amend re-sizes the lock; a larger order than the free balance plus its own lock is refused unchanged', () => {
    const { book, bal } = setup();
    const r = book.submit(ord({ qtyLots: 8 * BTC }));
    if (!r.ok) throw new Error(r.reason);
    const id = r.order.orderId;
    expect(bal('USDT').locked).toBeCloseTo(776_000, 6);
    // 10 BTC = 970,000 <= 224,000 free + 776,000 own lock
    expect(book.amend('A', { orderId: id }, { qtyLots: 10 * BTC })).toMatchObject({ ok: true });
    expect(bal('USDT').locked).toBeCloseTo(970_000, 6);
    expect(book.amend('A', { orderId: id }, { qtyLots: 11 * BTC })).toEqual({ ok: false, reason: 'INSUFFICIENT_BALANCE' });
    expect(book.getOrder('A', { orderId: id })?.qtyLots).toBe(10 * BTC);
    expect(book.amend('A', { orderId: id }, { qtyLots: 4 * BTC })).toMatchObject({ ok: true, keptPriority: true });
    expect(bal('USDT').locked).toBeCloseTo(388_000, 6);
    expect(book.amend('A', { orderId: id }, { priceTicks: PX / 2 })).toMatchObject({ ok: true, keptPriority: false });
    expect(bal('USDT').locked).toBeCloseTo(194_000, 6);
    expect(bal('USDT').free + bal('USDT').locked).toBeCloseTo(1_000_000, 6);
    book.cancel('A', { orderId: id });
    expect(bal('USDT')).toEqual({ free: 1_000_000, locked: 0 });
  });

  it('futures books lock nothing', () => {
    const { book, bal } = setup('binanceUsdm');
    expect(book.submit(ord({ qtyLots: 5, priceTicks: 970_000 })).ok).toBe(true);
    expect(bal('USDT')).toEqual({ free: 1_000_000, locked: 0 });
  });
});
