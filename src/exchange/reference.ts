/**
 * Reference data: fetch the venues' symbol lists and build `Instrument`s (tick/step sizes -> decimals and
 * units for scaled integers). Cold path (startup), plain JSON.parse and undici.
 *
 *   Binance Spot   GET /api/v3/exchangeInfo?symbols=["A","B"]   PRICE_FILTER.tickSize, LOT_SIZE.stepSize/minQty, NOTIONAL.minNotional
 *   Binance USD-M  GET /fapi/v1/exchangeInfo                     same filters, MIN_NOTIONAL.notional
 *   Bybit v5       GET /v5/market/instruments-info?category=spot|linear[&symbol=]
 *                  priceFilter.tickSize, lotSizeFilter.qtyStep (linear) | basePrecision (spot), minOrderQty,
 *                  minNotionalValue (linear) | minOrderAmt (spot)
 */
import { request } from 'undici';
import type { Instrument, VenueId } from '../model/types.js';
import { decimalsOfStep, stepUnits } from '../util/fixed.js';

export interface InstrumentSpec {
  venue: VenueId;
  symbol: string;
  base: string;
  quote: string;
  tickSize: string;
  stepSize: string;
  minQty: string;
  minNotional: string;
}

/** Decimals and units from the step strings; `slot` is the instrument's BotState slot. */
export function buildInstrument(s: InstrumentSpec, slot: number): Instrument {
  const priceDecimals = decimalsOfStep(s.tickSize);
  const qtyDecimals = decimalsOfStep(s.stepSize);
  const tickUnits = stepUnits(s.tickSize, priceDecimals);
  const lotUnits = stepUnits(s.stepSize, qtyDecimals);
  if (!(tickUnits > 0)) throw new Error(`${s.venue} ${s.symbol}: bad tickSize "${s.tickSize}"`);
  if (!(lotUnits > 0)) throw new Error(`${s.venue} ${s.symbol}: bad stepSize "${s.stepSize}"`);
  return { ...s, priceDecimals, qtyDecimals, tickUnits, lotUnits, slot };
}

async function getJson(url: string): Promise<unknown> {
  const res = await request(url, { method: 'GET', headersTimeout: 15_000, bodyTimeout: 30_000 });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`GET ${url}: HTTP ${res.statusCode} ${text.slice(0, 200)}`);
  return JSON.parse(text) as unknown;
}

interface BnFilter {
  filterType: string;
  tickSize?: string;
  stepSize?: string;
  minQty?: string;
  minNotional?: string;
  notional?: string;
}
interface BnSymbol {
  symbol: string;
  baseAsset: string;
  quoteAsset: string;
  status?: string;
  filters: BnFilter[];
}

/** Parse an exchangeInfo body (spot or USD-M) into specs for the wanted symbols (all if none given). */
export function binanceSpecs(body: unknown, venue: 'binanceSpot' | 'binanceUsdm', symbols?: readonly string[]): InstrumentSpec[] {
  const list = (body as { symbols?: BnSymbol[] }).symbols;
  if (!Array.isArray(list)) throw new Error(`${venue} exchangeInfo: no symbols array`);
  const want = symbols ? new Set(symbols.map((s) => s.toUpperCase())) : undefined;
  const out: InstrumentSpec[] = [];
  for (const s of list) {
    if (want && !want.has(s.symbol)) continue;
    const f = (t: string) => s.filters.find((x) => x.filterType === t);
    const price = f('PRICE_FILTER');
    const lot = f('LOT_SIZE');
    if (!price?.tickSize || !lot?.stepSize) throw new Error(`${venue} ${s.symbol}: PRICE_FILTER/LOT_SIZE missing`);
    const notional = f('NOTIONAL')?.minNotional ?? f('MIN_NOTIONAL')?.notional ?? f('MIN_NOTIONAL')?.minNotional ?? '0';
    out.push({
      venue,
      symbol: s.symbol,
      base: s.baseAsset,
      quote: s.quoteAsset,
      tickSize: price.tickSize,
      stepSize: lot.stepSize,
      minQty: lot.minQty ?? lot.stepSize,
      minNotional: notional,
    });
  }
  if (want) for (const w of want) if (!out.some((o) => o.symbol === w)) throw new Error(`${venue}: symbol ${w} not in exchangeInfo`);
  return out;
}

export async function fetchBinanceInstruments(restBaseUrl: string, market: 'spot' | 'usdm', symbols?: readonly string[], firstSlot = 0): Promise<Instrument[]> {
  const base = restBaseUrl.replace(/\/+$/, '');
  let url = market === 'spot' ? `${base}/api/v3/exchangeInfo` : `${base}/fapi/v1/exchangeInfo`;
  if (market === 'spot' && symbols && symbols.length > 0) url += `?symbols=${encodeURIComponent(JSON.stringify(symbols.map((s) => s.toUpperCase())))}`;
  const specs = binanceSpecs(await getJson(url), market === 'spot' ? 'binanceSpot' : 'binanceUsdm', symbols);
  return specs.map((s, i) => buildInstrument(s, firstSlot + i));
}

interface BbInstrument {
  symbol: string;
  baseCoin: string;
  quoteCoin: string;
  priceFilter: { tickSize: string };
  lotSizeFilter: { qtyStep?: string; basePrecision?: string; minOrderQty?: string; minNotionalValue?: string; minOrderAmt?: string };
}

export function bybitSpecs(body: unknown, category: 'spot' | 'linear', symbols?: readonly string[]): InstrumentSpec[] {
  const b = body as { retCode?: number; retMsg?: string; result?: { list?: BbInstrument[] } };
  if (b.retCode !== 0) throw new Error(`bybit instruments-info: retCode ${String(b.retCode)} ${String(b.retMsg)}`);
  const list = b.result?.list;
  if (!Array.isArray(list)) throw new Error('bybit instruments-info: no result.list');
  const venue: VenueId = category === 'spot' ? 'bybitSpot' : 'bybitLinear';
  const want = symbols ? new Set(symbols.map((s) => s.toUpperCase())) : undefined;
  const out: InstrumentSpec[] = [];
  for (const s of list) {
    if (want && !want.has(s.symbol)) continue;
    const step = s.lotSizeFilter.qtyStep ?? s.lotSizeFilter.basePrecision;
    if (!s.priceFilter?.tickSize || !step) throw new Error(`${venue} ${s.symbol}: tickSize/qtyStep missing`);
    out.push({
      venue,
      symbol: s.symbol,
      base: s.baseCoin,
      quote: s.quoteCoin,
      tickSize: s.priceFilter.tickSize,
      stepSize: step,
      minQty: s.lotSizeFilter.minOrderQty ?? step,
      minNotional: s.lotSizeFilter.minNotionalValue ?? s.lotSizeFilter.minOrderAmt ?? '0',
    });
  }
  if (want) for (const w of want) if (!out.some((o) => o.symbol === w)) throw new Error(`${venue}: symbol ${w} not in instruments-info`);
  return out;
}

export async function fetchBybitInstruments(
  restBaseUrl: string,
  category: 'spot' | 'linear',
  symbols?: readonly string[],
  firstSlot = 0,
): Promise<Instrument[]> {
  const base = restBaseUrl.replace(/\/+$/, '');
  let url = `${base}/v5/market/instruments-info?category=${category}`;
  if (symbols && symbols.length === 1) url += `&symbol=${symbols[0]!.toUpperCase()}`;
  else url += '&limit=1000';
  const specs = bybitSpecs(await getJson(url), category, symbols);
  return specs.map((s, i) => buildInstrument(s, firstSlot + i));
}
