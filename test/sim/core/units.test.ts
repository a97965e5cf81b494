/**
 * One meaning for prices and quantities: integer counts of 10^-priceDecimals / 10^-qtyDecimals, with tick and step
 * sizes that are NOT powers of ten (tick "0.05", step "0.5"), proven on validation, notional, balances, PnL and the
 * generator's ladder. Also the allocation-free best-price/qty reads.
 */
import { describe, expect, it } from 'vitest';
import { Accounts } from '../../../src/sim/core/accounts.js';
import { MatchingBook } from '../../../src/sim/core/book.js';
import { Generator } from '../../../src/sim/core/generator.js';
import { makeInstrument } from '../../../src/sim/core/instruments.js';
import type { SimLevelChange, SimNewOrder } from '../../../src/sim/core/types.js';

const NOW = 1_700_000_000_000;

function spotBook() {
  // tick 0.05 (priceDecimals 2: 12.35 -> 1235, tick = 5 units), step 0.5 (qtyDecimals 1: 2.5 -> 25, step = 5 units)
  const ins = makeInstrument('binanceSpot', 'XYZUSDT', {
    tickSize: '0.05',
    stepSize: '0.5',
    minQty: '0.5',
    maxQty: '100000',
    minNotional: '10',
    initialPrice: '12.35',
  });
  const accounts = new Accounts([['A'], ['B']]);
  const book = new MatchingBook({ instrument: ins, nowMs: () => NOW, hooks: accounts });
  return { ins, accounts, book };
}

function ord(p: Partial<SimNewOrder>): SimNewOrder {
  return { accountId: 'A', clientOrderId: '', side: 'BUY', type: 'LIMIT', tif: 'GTC', priceTicks: 1235, qtyLots: 10, reduceOnly: false, ...p };
}

describe('prices and quantities are units of 10^-decimals (tick/step not a power of ten)', () => {
  it('instrument decimals and units', () => {
    const { ins, book } = spotBook();
    expect(ins.priceDecimals).toBe(2);
    expect(ins.qtyDecimals).toBe(1);
    expect(book.tickUnits).toBe(5);
    expect(book.stepUnits).toBe(5);
  });

  it('a price must be a multiple of the tick, a quantity of the step', () => {
    const { book } = spotBook();
    expect(book.submit(ord({ priceTicks: 1233 }))).toEqual({ ok: false, reason: 'BAD_PRICE' });
    expect(book.submit(ord({ qtyLots: 23 }))).toEqual({ ok: false, reason: 'BAD_QTY' });
    const r = book.submit(ord({ priceTicks: 1235, qtyLots: 25 }));
    expect(r.ok).toBe(true);
    expect(book.bestBid()).toEqual({ priceTicks: 1235, qtyLots: 25 });
  });

  it('min notional is price * qty in real money (12.35 * 0.5 = 6.175 < 10; 12.35 * 1.0 = 12.35 >= 10)', () => {
    const { book } = spotBook();
    // with tickSize as the unit this would read 1235 * 0.05 * 5 * 0.5 = 154.375 and pass
    expect(book.submit(ord({ priceTicks: 1235, qtyLots: 5 }))).toEqual({ ok: false, reason: 'MIN_NOTIONAL' });
    expect(book.submit(ord({ priceTicks: 1235, qtyLots: 10 })).ok).toBe(true);
  });

  it('spot fills move balances by price * qty in real money', () => {
    const { accounts, book } = spotBook();
    const a = accounts.get('A')!;
    const b = accounts.get('B')!;
    const usdtA = accounts.balance(a, 'USDT').free;
    const usdtB = accounts.balance(b, 'USDT').free;
    const xyzA = accounts.balance(a, 'XYZ').free + accounts.balance(a, 'XYZ').locked;
    const xyzB = accounts.balance(b, 'XYZ').free + accounts.balance(b, 'XYZ').locked;
    expect(book.submit(ord({ accountId: 'B', side: 'SELL', priceTicks: 1235, qtyLots: 25 })).ok).toBe(true);
    const t = book.submit(ord({ accountId: 'A', side: 'BUY', tif: 'IOC', priceTicks: 1240, qtyLots: 25 }));
    expect(t.ok && t.fills.map((f) => [f.priceTicks, f.qtyLots])).toEqual([[1235, 25]]);
    // 2.5 XYZ at 12.35 = 30.875 USDT; 0.1 % fees: the buyer (taker) pays 0.0025 XYZ, the seller (maker) 0.030875 USDT
    expect(accounts.balance(a, 'XYZ').free + accounts.balance(a, 'XYZ').locked - xyzA).toBeCloseTo(2.5 - 0.0025, 9);
    expect(accounts.balance(b, 'XYZ').free + accounts.balance(b, 'XYZ').locked - xyzB).toBeCloseTo(-2.5, 9);
    expect(accounts.balance(a, 'USDT').free + accounts.balance(a, 'USDT').locked - usdtA).toBeCloseTo(-30.875, 9);
    expect(accounts.balance(b, 'USDT').free + accounts.balance(b, 'USDT').locked - usdtB).toBeCloseTo(30.875 - 0.030875, 9);
  });

  it('futures realized PnL with tick 0.5: long 2 at 100.0, sell 2 at 101.5 -> +3 USDT', () => {
    const ins = makeInstrument('binanceUsdm', 'XYZUSDT', { tickSize: '0.5', stepSize: '1', minQty: '1', minNotional: '0', initialPrice: '100.0' });
    expect(ins.priceDecimals).toBe(1);
    const accounts = new Accounts([['A'], ['B']]);
    const book = new MatchingBook({ instrument: ins, nowMs: () => NOW, hooks: accounts });
    expect(book.submit(ord({ priceTicks: 1003, qtyLots: 2 }))).toEqual({ ok: false, reason: 'BAD_PRICE' });
    book.submit(ord({ accountId: 'B', side: 'SELL', priceTicks: 1000, qtyLots: 2 }));
    book.submit(ord({ accountId: 'A', side: 'BUY', tif: 'IOC', priceTicks: 1000, qtyLots: 2 }));
    const a = accounts.get('A')!;
    expect(a.positions.get('binanceUsdm:XYZUSDT')).toMatchObject({ sizeLots: 2, entryPriceTicks: 1000 });
    const before = accounts.balance(a, 'USDT', 'binanceUsdm').free; // realized PnL lands in the USD-M wallet
    book.submit(ord({ accountId: 'B', side: 'BUY', priceTicks: 1015, qtyLots: 2 }));
    book.submit(ord({ accountId: 'A', side: 'SELL', tif: 'IOC', priceTicks: 1015, qtyLots: 2, reduceOnly: true }));
    expect(a.positions.get('binanceUsdm:XYZUSDT')!.realizedPnlQuote).toBeCloseTo(3, 9);
    // the wallet gets the realized PnL less the taker fee of the closing fill (203 USDT x 0.05 % = 0.1015)
    expect(accounts.balance(a, 'USDT', 'binanceUsdm').free - before).toBeCloseTo(3 - 0.1015, 9);
    expect(accounts.balance(a, 'USDT').free).toBe(1_000_000); // the Spot wallet did not move
  });

  it('the generator keeps every price on the tick and every size on the step', () => {
    const { book } = spotBook();
    const bad: SimLevelChange[] = [];
    let changes = 0;
    book.addListener({
      onLevels: (_s, ch) => {
        for (const c of ch) {
          changes++;
          if (c.priceTicks % 5 !== 0 || c.qtyLots % 5 !== 0) bad.push({ ...c });
        }
      },
      onTrade: (_s, t) => {
        if (t.priceTicks % 5 !== 0 || t.qtyLots % 5 !== 0) bad.push({ side: t.takerSide, priceTicks: t.priceTicks, qtyLots: t.qtyLots });
      },
      onOrder: () => {},
    });
    const g = new Generator({ books: [book], seed: 7, levelsPerSide: 20, deterministic: true });
    g.produce(5000);
    expect(changes).toBeGreaterThan(4000);
    expect(bad).toEqual([]);
    expect(book.bestBidPrice()).toBeLessThan(book.bestAskPrice());
    // the mid stays where the instrument says (12.35, i.e. around 1235 units), not 5x away
    expect(book.bestBidPrice()).toBeGreaterThan(800);
    expect(book.bestBidPrice()).toBeLessThan(1700);
  });
});

describe('allocation-free top of book', () => {
  it('bestBidPrice/bestAskPrice/bestBidQty/bestAskQty: 0 when the side is empty, else the best level', () => {
    const { book } = spotBook();
    expect([book.bestBidPrice(), book.bestAskPrice(), book.bestBidQty(), book.bestAskQty()]).toEqual([0, 0, 0, 0]);
    book.beginBatch();
    book.setSynthetic('BUY', 1230, 15);
    book.setSynthetic('BUY', 1225, 50);
    book.setSynthetic('SELL', 1245, 20);
    book.setSynthetic('SELL', 1250, 35);
    book.endBatch();
    expect([book.bestBidPrice(), book.bestBidQty()]).toEqual([1230, 15]);
    expect([book.bestAskPrice(), book.bestAskQty()]).toEqual([1245, 20]);
    expect(book.bestBid()).toEqual({ priceTicks: book.bestBidPrice(), qtyLots: book.bestBidQty() });
    expect(book.bestAsk()).toEqual({ priceTicks: book.bestAskPrice(), qtyLots: book.bestAskQty() });
    book.submit(ord({ accountId: 'A', priceTicks: 1230, qtyLots: 10 }));
    expect(book.bestBidQty()).toBe(25);
    book.setSynthetic('SELL', 1245, 0);
    book.setSynthetic('SELL', 1250, 0);
    expect([book.bestAskPrice(), book.bestAskQty()]).toEqual([0, 0]);
  });
});
