/**
 * The portfolio books fills net of fees in any commission asset (src/orders/portfolio.ts): a fee in the base asset
 * shrinks the spot position (cost basis), a fee in the quote is a fee, a fee in a third asset (BNB) is valued at the
 * mark of a configured instrument that prices it or kept unvalued and counted; a negative fee is a rebate. The
 * wallet deltas the balance reconciliation compares are net of every fee, per wallet and asset.
 */
import { describe, expect, it } from 'vitest';
import { instrumentFromSim } from '../../src/exchange/paper.js';
import { makeInstrument } from '../../src/sim/core/instruments.js';
import { Portfolio } from '../../src/orders/portfolio.js';
import type { Instrument } from '../../src/model/types.js';

const spotBtc = instrumentFromSim(makeInstrument('binanceSpot', 'BTCUSDT'), 0); // price 10^-2, qty 10^-5
const spotBnb = instrumentFromSim(makeInstrument('binanceSpot', 'BNBUSDT'), 1);
const linBtc = instrumentFromSim(makeInstrument('bybitLinear', 'BTCUSDT'), 2);
const ybSpot = instrumentFromSim(makeInstrument('bybitSpot', 'BTCUSDT'), 3);
const px = (i: Instrument, p: number): number => Math.round(p * 10 ** i.priceDecimals);
const qty = (i: Instrument, q: number): number => Math.round(q * 10 ** i.qtyDecimals);
const inQuote = (i: Instrument, v: number): number => v / 10 ** (i.priceDecimals + i.qtyDecimals);

describe('positions and PnL net of fees', () => {
  it('a spot buy paying in the base asset holds less (cost basis); the sell paying in quote; flat: realized = PnL, net of both', () => {
    const p = new Portfolio([spotBtc], 1);
    p.fillAt(0, 'BUY', px(spotBtc, 97_000), qty(spotBtc, 0.5), 0.0005, 'BTC');
    expect(p.position[0]).toBeCloseTo(qty(spotBtc, 0.4995), 9);
    expect(p.feesBase[0]).toBeCloseTo(0.0005, 12);
    expect(p.fees[0]).toBe(0);
    // the cost (48,500 USDT) is spread over what is held: the average entry rises by the fee
    expect(p.avgPrice[0]).toBeCloseTo((px(spotBtc, 97_000) * 0.5) / 0.4995, 6);
    const mark = px(spotBtc, 98_000);
    expect(p.pnl(() => mark)).toBeCloseTo(-48_500 + 0.4995 * 98_000, 6);
    // sell all that is held; the fee is paid in the quote received
    p.fillAt(0, 'SELL', mark, p.position[0]!, 0.4995 * 98_000 * 0.001, 'USDT');
    expect(p.position[0]).toBeCloseTo(0, 9);
    const want = -48_500 + 0.4995 * 98_000 - 0.4995 * 98 * 1;
    expect(p.pnl(() => mark)).toBeCloseTo(want, 6);
    expect(inQuote(spotBtc, p.realized[0]!)).toBeCloseTo(want, 6);
    expect(p.feesByAsset()).toEqual({ BTC: 0.0005, USDT: expect.closeTo(48.951, 9) });
    // what the Binance Spot wallet should show moved: BTC back to 0, USDT by the whole PnL
    const w = p.walletDeltas('binanceSpot');
    expect(w['BTC']).toBeCloseTo(0, 12);
    expect(w['USDT']).toBeCloseTo(want, 6);
    expect(w['BNB']).toBe(0);
  });

  it('a fee in BNB is valued at the mark of a configured BNB<quote> instrument; without one it is kept unvalued and counted', () => {
    const priced = new Portfolio([spotBtc, spotBnb], 2);
    priced.markOf = (s) => (s === 1 ? px(spotBnb, 600) : 0);
    priced.fillAt(0, 'BUY', px(spotBtc, 97_000), qty(spotBtc, 0.1), 0.01, 'BNB');
    expect(priced.position[0]).toBe(qty(spotBtc, 0.1)); // the whole quantity arrives
    expect(priced.fees[0]).toBeCloseTo(6, 9); // 0.01 BNB x 600 USDT
    expect(priced.pnl(() => px(spotBtc, 97_000))).toBeCloseTo(-6, 9);
    expect(priced.walletDeltas('binanceSpot')['BNB']).toBeCloseTo(-0.01, 12);
    expect(priced.unvaluedFees).toBe(0);

    const unpriced = new Portfolio([spotBtc], 1);
    unpriced.fillAt(0, 'BUY', px(spotBtc, 97_000), qty(spotBtc, 0.1), 0.01, 'BNB');
    expect(unpriced.fees[0]).toBe(0);
    expect(unpriced.feesUnvalued[0]).toBeCloseTo(0.01, 12);
    expect(unpriced.unvaluedFees).toBe(1);
    expect(unpriced.feesByAsset()).toEqual({ BNB: 0.01 });
    expect(unpriced.walletDeltas('binanceSpot')['BNB']).toBeCloseTo(-0.01, 12);
  });

  it('futures fees in the quote; a rebate is a negative fee; linear and Bybit spot move the one unified wallet; an unnamed fee asset is the standard one', () => {
    const p = new Portfolio([linBtc, ybSpot], 4);
    p.fillAt(2, 'BUY', px(linBtc, 97_000), qty(linBtc, 0.01), 0.5335, 'USDT');
    p.fillAt(2, 'SELL', px(linBtc, 98_000), qty(linBtc, 0.01), -0.098, 'USDT'); // maker rebate
    expect(p.fees[2]).toBeCloseTo(0.5335 - 0.098, 9);
    expect(inQuote(linBtc, p.realized[2]!)).toBeCloseTo(10 - 0.4355, 9);
    expect(p.pnl(() => 0)).toBeCloseTo(10 - 0.4355, 9);
    // a venue that does not name the asset: a spot buy pays in the base
    p.fillAt(3, 'BUY', px(ybSpot, 97_000), qty(ybSpot, 0.001), 0.000001, '');
    expect(p.position[3]).toBeCloseTo(0.000999 * 10 ** ybSpot.qtyDecimals, 9); // parts of a quantity unit
    const w = p.walletDeltas('bybit');
    expect(w['USDT']).toBeCloseTo(10 - 0.4355 - 97, 6);
    expect(w['BTC']).toBeCloseTo(0.000999, 12);
    expect(p.walletDeltas('binanceSpot')['USDT']).toBe(0);
  });

  it('a fee that is not a number is refused before it moves anything', () => {
    const p = new Portfolio([spotBtc], 1);
    expect(() => p.fillAt(0, 'BUY', px(spotBtc, 97_000), 100, Number.NaN, 'BTC')).toThrow(RangeError);
    expect(p.position[0]).toBe(0);
    expect(p.walletDeltas('binanceSpot')['BTC']).toBe(0);
  });
});
