/**
 * Market data in one call: given venue endpoints (the simulator's `SimVenueEndpoints` or real ones), the
 * instruments to follow (with their BotState slots) and the BotState, start one adapter per venue/market and
 * return a handle. The engine reads BotState; tests and /metrics read the counters and books.
 *
 *   const md = await startMarketData({ endpoints: sim.endpoints, instruments, state, hops });
 *   md.book('binanceUsdm', 'BTCUSDT')?.bestBidPx();  md.counters();  await md.stop();
 *
 * Endpoints per venue: Binance Spot {restBaseUrl, wsStreamBaseUrl} (api.binance.com / stream.binance.com:9443),
 * Binance USD-M (fapi.binance.com / fstream.binance.com: /public and /market are appended), Bybit
 * {wsStreamBaseUrl} (stream.bybit.com: /v5/public/<category> appended).
 */
import type { BotState } from '../model/botstate.js';
import type { Instrument, VenueId } from '../model/types.js';
import type { HopRecorder } from '../util/hops.js';
import type { L2Book } from '../book/l2book.js';
import { BinanceMd, type BinanceMdOptions } from './binance/md/adapter.js';
import { BybitMd, type BybitMdOptions } from './bybit/md/adapter.js';
import type { FrameRecorder } from '../md/recorder.js';
import type { MdCounters } from '../md/common.js';
import { mdMetricsText } from '../md/metrics.js';

export interface VenueEndpointsLike {
  restBaseUrl: string;
  wsStreamBaseUrl: string;
}

/** Mainnet endpoints (the simulator prints its own in the same shape). */
export const MAINNET: { binanceSpot: VenueEndpointsLike; binanceUsdm: VenueEndpointsLike; bybit: VenueEndpointsLike } = {
  binanceSpot: { restBaseUrl: 'https://api.binance.com', wsStreamBaseUrl: 'wss://stream.binance.com:9443' },
  binanceUsdm: { restBaseUrl: 'https://fapi.binance.com', wsStreamBaseUrl: 'wss://fstream.binance.com' },
  bybit: { restBaseUrl: 'https://api.bybit.com', wsStreamBaseUrl: 'wss://stream.bybit.com' },
};

export interface MarketDataOptions {
  endpoints: { binanceSpot?: VenueEndpointsLike; binanceUsdm?: VenueEndpointsLike; bybit?: VenueEndpointsLike };
  /** instruments of any venue; each venue's are routed to its adapter */
  instruments: Instrument[];
  state: BotState;
  hops?: HopRecorder;
  /** one recorder per venue id, optional */
  recorders?: Partial<Record<VenueId, FrameRecorder>>;
  staleAfterMs?: number;
  /** per-venue extra options */
  binance?: Partial<Pick<BinanceMdOptions, 'bookTicker' | 'trades' | 'depthSpeed' | 'snapshotLimit' | 'deadAfterMs' | 'maxLifetimeMs'>>;
  bybit?: Partial<Pick<BybitMdOptions, 'depth' | 'trades' | 'deadAfterMs' | 'pingIntervalMs'>>;
}

export interface MarketDataHandle {
  adapters: Partial<Record<VenueId, BinanceMd | BybitMd>>;
  book(venue: VenueId, symbol: string): L2Book | undefined;
  /** counters per venue (plain objects) */
  counters(): Partial<Record<VenueId, Record<string, number | Record<string, number>>>>;
  /** the counters in Prometheus text format (tickwire_md_*) */
  metricsText(): string;
  stop(): Promise<void>;
}

export async function startMarketData(o: MarketDataOptions): Promise<MarketDataHandle> {
  const by = (v: VenueId) => o.instruments.filter((i) => i.venue === v);
  const adapters: Partial<Record<VenueId, BinanceMd | BybitMd>> = {};
  const common = {
    state: o.state,
    ...(o.hops ? { hops: o.hops } : {}),
    ...(o.staleAfterMs !== undefined ? { staleAfterMs: o.staleAfterMs } : {}),
  };
  for (const [venue, market] of [
    ['binanceSpot', 'spot'],
    ['binanceUsdm', 'usdm'],
  ] as const) {
    const list = by(venue);
    const ep = o.endpoints[venue];
    if (list.length === 0) continue;
    if (!ep) throw new Error(`market data: instruments for ${venue} but no ${venue} endpoints`);
    const rec = o.recorders?.[venue];
    adapters[venue] = new BinanceMd({
      ...common,
      ...(o.binance ?? {}),
      ...(rec ? { recorder: rec } : {}),
      market,
      restBaseUrl: ep.restBaseUrl,
      wsBaseUrl: ep.wsStreamBaseUrl,
      instruments: list,
    });
  }
  for (const [venue, category] of [
    ['bybitLinear', 'linear'],
    ['bybitSpot', 'spot'],
  ] as const) {
    const list = by(venue);
    if (list.length === 0) continue;
    const ep = o.endpoints.bybit;
    if (!ep) throw new Error(`market data: instruments for ${venue} but no bybit endpoints`);
    const rec = o.recorders?.[venue];
    adapters[venue] = new BybitMd({
      ...common,
      ...(o.bybit ?? {}),
      ...(rec ? { recorder: rec } : {}),
      category,
      wsBaseUrl: ep.wsStreamBaseUrl,
      instruments: list,
    });
  }
  const all = Object.values(adapters) as Array<BinanceMd | BybitMd>;
  try {
    await Promise.all(all.map((a) => a.start()));
  } catch (e) {
    await Promise.all(all.map((a) => a.stop()));
    throw e;
  }
  return {
    adapters,
    book: (venue, symbol) => adapters[venue]?.book(symbol),
    counters: () => {
      const out: Partial<Record<VenueId, Record<string, number | Record<string, number>>>> = {};
      for (const [v, a] of Object.entries(adapters) as Array<[VenueId, BinanceMd | BybitMd]>) out[v] = a.counters.snapshot();
      return out;
    },
    metricsText: () => {
      const by: Partial<Record<VenueId, MdCounters>> = {};
      for (const [v, a] of Object.entries(adapters) as Array<[VenueId, BinanceMd | BybitMd]>) by[v] = a.counters;
      return mdMetricsText(by);
    },
    stop: async () => {
      await Promise.all(all.map((a) => a.stop()));
    },
  };
}
