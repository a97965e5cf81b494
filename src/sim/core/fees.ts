/**
 * The simulator's fee table: a maker and a taker rate per market, and the Binance BNB discount.
 *
 * Defaults are the real venues' base tiers (VIP 0 / non-VIP): Binance Spot 0.1 % / 0.1 %, Binance USD-M 0.02 % maker /
 * 0.05 % taker, Bybit spot 0.1 % / 0.1 %, Bybit linear 0.02 % / 0.055 %. A negative rate is a rebate (the fee is
 * negative: the balance grows), as Bybit reports it in `execFee`.
 *
 * Which asset pays (computed once per fill by `Accounts.onFill`, stored on the `SimFill`, so that every report of the
 * fill and the balances agree):
 * - spot (Binance and Bybit): a buy pays in the base asset it receives, a sell in the quote asset it receives;
 * - futures (Binance USD-M, Bybit linear): the quote (margin) asset, USDT;
 * - Binance with the account's BNB discount on (`bnbBurn`: Spot `POST /sapi/v1/bnbBurn spotBNBBurn=true`, USD-M
 *   `POST /fapi/v1/feeBurn feeBurn=true`) and a positive rate: in BNB at `rate x bnbDiscount` (Spot 0.75 = 25 % off,
 *   USD-M 0.9 = 10 % off), valued at the BNB price in the quote asset (the mid of a `BNB<quote>` book of the market or
 *   of Binance Spot, else `bnbPrice`), when the wallet's free BNB covers it; otherwise in the standard asset at the
 *   standard rate, as on the real venue.
 * Fees are rounded to 8 decimals (the venues' commission precision) before they move a balance.
 */
import type { SimFeeTable, SimMarketId } from './types.js';

export interface SimFeeRates {
  maker: number;
  taker: number;
}

export type BinanceFeeMarket = 'binanceSpot' | 'binanceUsdm';

/** Fee options of the simulator (`SimOptions.fees`, `tickwire sim --fees`, the engine's `sim.fees`). */
export interface SimFeeOptions {
  /** rates per market; a missing market or side keeps its default */
  rates?: { [M in SimMarketId]?: { maker?: number | undefined; taker?: number | undefined } | undefined };
  /** share of the rate paid when a Binance fee is paid in BNB (Spot 0.75, USD-M 0.9) */
  bnbDiscount?: { [M in BinanceFeeMarket]?: number | undefined };
  /** accounts start with the BNB discount on (default off, as a new account) */
  bnbBurn?: { [M in BinanceFeeMarket]?: boolean | undefined };
  /** BNB price in the quote asset where the market has no BNB<quote> book (default 600) */
  bnbPrice?: number | undefined;
}

export const DEFAULT_FEE_RATES: Readonly<Record<SimMarketId, Readonly<SimFeeRates>>> = {
  binanceSpot: { maker: 0.001, taker: 0.001 },
  binanceUsdm: { maker: 0.0002, taker: 0.0005 },
  bybitSpot: { maker: 0.001, taker: 0.001 },
  bybitLinear: { maker: 0.0002, taker: 0.00055 },
};
export const DEFAULT_BNB_DISCOUNT: Readonly<Record<BinanceFeeMarket, number>> = { binanceSpot: 0.75, binanceUsdm: 0.9 };
export const DEFAULT_BNB_PRICE = 600;
const MARKETS: readonly SimMarketId[] = ['binanceSpot', 'binanceUsdm', 'bybitSpot', 'bybitLinear'];

/** A fee amount as the venues report it: 8 decimals. */
export function roundFee(x: number): number {
  const r = Math.round(x * 1e8) / 1e8;
  return r === 0 ? 0 : r; // no -0
}

/** A rate as a plain decimal string (no exponent): "0.00055", "-0.0001", "0". */
export function rateStr(r: number): string {
  if (r === 0) return '0';
  let s = r.toFixed(8);
  s = s.replace(/0+$/, '');
  return s.endsWith('.') ? s.slice(0, -1) : s;
}

/** The resolved fee table (validated whole: a bad value throws naming it). */
export class FeeSchedule implements SimFeeTable {
  readonly rates: Record<SimMarketId, SimFeeRates>;
  readonly bnbDiscount: Record<BinanceFeeMarket, number>;
  readonly bnbBurn: Record<BinanceFeeMarket, boolean>;
  readonly bnbPrice: number;

  constructor(o: SimFeeOptions = {}) {
    const rateOk = (v: unknown, name: string): number => {
      if (typeof v !== 'number' || !Number.isFinite(v) || v <= -0.01 || v >= 0.1) throw new Error(`fees.${name}: a rate in (-0.01, 0.1), got ${String(v)}`);
      return v;
    };
    const keys = (v: unknown, allowed: readonly string[], name: string): void => {
      if (v === undefined) return;
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`fees${name}: an object`);
      for (const k of Object.keys(v)) if (!allowed.includes(k)) throw new Error(`fees${name}.${k}: unknown (known: ${allowed.join(', ')})`);
    };
    keys(o, ['rates', 'bnbDiscount', 'bnbBurn', 'bnbPrice'], '');
    keys(o.bnbDiscount, ['binanceSpot', 'binanceUsdm'], '.bnbDiscount');
    keys(o.bnbBurn, ['binanceSpot', 'binanceUsdm'], '.bnbBurn');
    for (const [m, v] of Object.entries(o.bnbBurn ?? {}))
      if (v !== undefined && typeof v !== 'boolean') throw new Error(`fees.bnbBurn.${m}: true or false, got ${String(v)}`);
    for (const [m, v] of Object.entries(o.rates ?? {})) keys(v, ['maker', 'taker'], `.rates.${m}`);
    this.rates = {} as Record<SimMarketId, SimFeeRates>;
    for (const k of Object.keys(o.rates ?? {}))
      if (!MARKETS.includes(k as SimMarketId)) throw new Error(`fees.rates.${k}: not a market (${MARKETS.join(', ')})`);
    for (const m of MARKETS) {
      const given = o.rates?.[m] ?? {};
      const d = DEFAULT_FEE_RATES[m];
      this.rates[m] = {
        maker: given.maker === undefined ? d.maker : rateOk(given.maker, `rates.${m}.maker`),
        taker: given.taker === undefined ? d.taker : rateOk(given.taker, `rates.${m}.taker`),
      };
    }
    const disc = (m: BinanceFeeMarket): number => {
      const v = o.bnbDiscount?.[m];
      if (v === undefined) return DEFAULT_BNB_DISCOUNT[m];
      if (typeof v !== 'number' || !(v > 0 && v <= 1)) throw new Error(`fees.bnbDiscount.${m}: a share of the rate in (0, 1], got ${String(v)}`);
      return v;
    };
    this.bnbDiscount = { binanceSpot: disc('binanceSpot'), binanceUsdm: disc('binanceUsdm') };
    this.bnbBurn = { binanceSpot: o.bnbBurn?.binanceSpot === true, binanceUsdm: o.bnbBurn?.binanceUsdm === true };
    const px = o.bnbPrice ?? DEFAULT_BNB_PRICE;
    if (typeof px !== 'number' || !(px > 0 && px < Infinity)) throw new Error(`fees.bnbPrice: a positive price, got ${String(px)}`);
    this.bnbPrice = px;
  }

  rate(market: SimMarketId, maker: boolean): number {
    const r = this.rates[market];
    return maker ? r.maker : r.taker;
  }
}
