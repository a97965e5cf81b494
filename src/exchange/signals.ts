/**
 * The venues' slow signals (funding rate and open interest of the futures markets), as `SignalSource`s a background
 * task polls into BotState (src/strategy/signals.ts runs them). The registry's drivers hand them out per instrument.
 */
import { F } from '../model/botstate.js';
import type { SignalSource } from '../model/signal.js';
import { getJson } from '../net/getjson.js';

/** Binance USD-M funding rate: GET /fapi/v1/premiumIndex?symbol= -> lastFundingRate. */
export function binanceFunding(restBase: string, symbol: string, slot: number, intervalMs = 30_000): SignalSource {
  return {
    name: `binance funding ${symbol}`,
    slot,
    field: F.fundingRate,
    intervalMs,
    fetch: async () => Number(((await getJson(`${restBase}/fapi/v1/premiumIndex?symbol=${symbol}`)) as { lastFundingRate?: string }).lastFundingRate),
  };
}

/** Bybit linear funding rate: GET /v5/market/tickers?category=linear&symbol= -> result.list[0].fundingRate. */
export function bybitFunding(restBase: string, symbol: string, slot: number, intervalMs = 30_000): SignalSource {
  return {
    name: `bybit funding ${symbol}`,
    slot,
    field: F.fundingRate,
    intervalMs,
    fetch: async () => {
      const j = (await getJson(`${restBase}/v5/market/tickers?category=linear&symbol=${symbol}`)) as { result?: { list?: Array<{ fundingRate?: string }> } };
      return Number(j.result?.list?.[0]?.fundingRate);
    },
  };
}

/** Binance USD-M open interest: GET /fapi/v1/openInterest?symbol= -> openInterest (base units). */
export function binanceOpenInterest(restBase: string, symbol: string, slot: number, intervalMs = 30_000): SignalSource {
  return {
    name: `binance open interest ${symbol}`,
    slot,
    field: F.openInterest,
    intervalMs,
    fetch: async () => Number(((await getJson(`${restBase}/fapi/v1/openInterest?symbol=${symbol}`)) as { openInterest?: string }).openInterest),
  };
}

/** Bybit linear open interest: GET /v5/market/open-interest?category=linear&symbol=&intervalTime=5min. */
export function bybitOpenInterest(restBase: string, symbol: string, slot: number, intervalMs = 30_000): SignalSource {
  return {
    name: `bybit open interest ${symbol}`,
    slot,
    field: F.openInterest,
    intervalMs,
    fetch: async () => {
      const j = (await getJson(`${restBase}/v5/market/open-interest?category=linear&symbol=${symbol}&intervalTime=5min&limit=1`)) as {
        result?: { list?: Array<{ openInterest?: string }> };
      };
      return Number(j.result?.list?.[0]?.openInterest);
    },
  };
}
