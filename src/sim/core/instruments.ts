/**
 * Instrument reference data for the simulated markets: real-looking filters for well-known symbols, a generic
 * fallback for any other `XXXUSDT`-style symbol, and instruments derived from recorded price/qty strings (replay).
 */
import { decimalsOfStep } from '../../util/fixed.js';
import type { SimInstrument, SimMarketId } from './types.js';

export const ALL_MARKETS: readonly SimMarketId[] = ['binanceSpot', 'binanceUsdm', 'bybitSpot', 'bybitLinear'];

interface Spec {
  tickSize: string;
  stepSize: string;
  minQty: string;
  maxQty: string;
  minNotional: string;
  initialPrice: string;
}

/** per symbol; futures use their own (coarser) steps where the real exchange does */
const KNOWN: Record<string, { spot: Spec; futures: Spec }> = {
  BTCUSDT: {
    spot: { tickSize: '0.01', stepSize: '0.00001', minQty: '0.00001', maxQty: '9000', minNotional: '5', initialPrice: '97000.00' },
    futures: { tickSize: '0.10', stepSize: '0.001', minQty: '0.001', maxQty: '1000', minNotional: '100', initialPrice: '97000.0' },
  },
  ETHUSDT: {
    spot: { tickSize: '0.01', stepSize: '0.0001', minQty: '0.0001', maxQty: '9000', minNotional: '5', initialPrice: '3500.00' },
    futures: { tickSize: '0.01', stepSize: '0.001', minQty: '0.001', maxQty: '10000', minNotional: '20', initialPrice: '3500.00' },
  },
  SOLUSDT: {
    spot: { tickSize: '0.01', stepSize: '0.001', minQty: '0.001', maxQty: '90000', minNotional: '5', initialPrice: '180.00' },
    futures: { tickSize: '0.010', stepSize: '1', minQty: '1', maxQty: '100000', minNotional: '5', initialPrice: '180.00' },
  },
};

const GENERIC: Spec = { tickSize: '0.0001', stepSize: '0.1', minQty: '0.1', maxQty: '9000000', minNotional: '5', initialPrice: '1.0000' };

const QUOTES = ['USDT', 'USDC', 'FDUSD', 'BUSD', 'BTC', 'ETH', 'BNB', 'EUR', 'TRY'];

/** Split "BTCUSDT" into base/quote by the known quote suffixes (falls back to the last 4 characters). */
export function splitSymbol(symbol: string): { base: string; quote: string } {
  for (const q of QUOTES) if (symbol.length > q.length && symbol.endsWith(q)) return { base: symbol.slice(0, -q.length), quote: q };
  return { base: symbol.slice(0, -4) || symbol, quote: symbol.slice(-4) };
}

export function isFuturesMarket(m: SimMarketId): boolean {
  return m === 'binanceUsdm' || m === 'bybitLinear';
}

/** Instrument for a symbol on a market (known specs, else generic). `overrides` wins. */
export function makeInstrument(market: SimMarketId, symbol: string, overrides: Partial<Spec> = {}): SimInstrument {
  const sym = symbol.toUpperCase();
  const known = KNOWN[sym];
  const base = known ? (isFuturesMarket(market) ? known.futures : known.spot) : GENERIC;
  const spec: Spec = { ...base, ...overrides };
  const { base: b, quote } = splitSymbol(sym);
  const ins: SimInstrument = {
    market,
    symbol: sym,
    base: b,
    quote,
    tickSize: spec.tickSize,
    stepSize: spec.stepSize,
    minQty: spec.minQty,
    maxQty: spec.maxQty,
    minNotional: spec.minNotional,
    priceDecimals: decimalsOfStep(spec.tickSize),
    qtyDecimals: decimalsOfStep(spec.stepSize),
    initialPrice: spec.initialPrice,
  };
  if (isFuturesMarket(market)) ins.contractType = 'PERPETUAL';
  return ins;
}

/** Decimals of a recorded decimal string ("0.01230000" -> 8: recorded strings keep their exchange's full scale). */
export function decimalsOfText(s: string): number {
  const dot = s.indexOf('.');
  return dot < 0 ? 0 : s.length - dot - 1;
}

/** Step string for a number of decimals: 2 -> "0.01", 0 -> "1". */
export function stepOfDecimals(d: number): string {
  return d <= 0 ? '1' : '0.' + '0'.repeat(d - 1) + '1';
}

/**
 * Instrument for a replayed symbol: tick/step from the largest number of decimals seen in the recorded price and
 * quantity strings (trailing zeros ignored, so "0.10000000" counts as 1 decimal), initial price from the first mid.
 */
export function instrumentFromRecorded(market: SimMarketId, symbol: string, priceDecimals: number, qtyDecimals: number, initialPrice: string): SimInstrument {
  const tick = stepOfDecimals(priceDecimals);
  const step = stepOfDecimals(qtyDecimals);
  return makeInstrument(market, symbol, { tickSize: tick, stepSize: step, minQty: step, maxQty: '1000000000', minNotional: '0', initialPrice });
}
