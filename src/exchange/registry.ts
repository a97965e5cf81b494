/**
 * The venue registry: one driver per venue id with everything the wiring needs to know about that venue, so no
 * caller switches on venue names. A driver fetches the venue's instruments and (Binance) its account limits, creates
 * its market-data adapter, plans its order gateway and names its slow signals. Gateways are created per exchange
 * (`createGateways`), because Bybit's spot and linear gateways share one private stream; the exchange's metrics and
 * describe hooks come with them.
 *
 *   const d = VENUE_DRIVERS[venue];
 *   const ins = await d.fetchInstruments(ep, ['BTCUSDT'], slot);
 *   const md = d.createMd(ep, ins, { state, hops });
 *   const gws = createGateways([d.gatewayPlan(ep, ins, { transport: 'rest', hops })]);
 *
 * The adapters and gateways themselves live in the venue folders (`binance/`, `bybit/`); the registry only builds them.
 */
import type { BotState } from '../model/botstate.js';
import type { Instrument, VenueId } from '../model/types.js';
import type { SignalSource } from '../model/signal.js';
import type { HopRecorder } from '../util/hops.js';
import type { ExtraMetric } from '../util/metric.js';
import { BINANCE_SPOT_LIMITS, BINANCE_USDM_LIMITS, type BinanceLimits } from '../net/ratelimit.js';
import type { FrameRecorder } from '../md/recorder.js';
import type { VenueGateway } from '../orders/gateway.js';
import type { RecoveryOptions } from '../orders/basegw.js';
import type { VenueEndpoints } from './endpoints.js';
import { fetchBinanceInstruments, fetchBybitInstruments } from './reference.js';
import { BinanceMd } from './binance/md/adapter.js';
import { BybitMd } from './bybit/md/adapter.js';
import { createBinanceGateway } from './binance/trade/index.js';
import type { BinanceGatewayConfig } from './binance/trade/rest.js';
import { createBybitGateways, dcpMetrics, type BybitGatewayConfig } from './bybit/trade/index.js';
import { binanceFunding, binanceOpenInterest, bybitFunding, bybitOpenInterest } from './signals.js';
import { readAccountMode, type AccountMode } from './account.js';

export type { VenueEndpoints, VenueEndpointsMap } from './endpoints.js';

/** A market-data adapter (one per venue: its books, counters and feeds). */
export type MdAdapter = BinanceMd | BybitMd;

export interface MdOptions {
  state: BotState;
  hops?: HopRecorder;
  recorder?: FrameRecorder;
  staleAfterMs?: number;
}

export interface GatewayOptions {
  /** 'rest' = signed REST over one keep-alive pool; 'ws' = Binance WS API / Bybit trade WS (REST for the rest) */
  transport: 'rest' | 'ws';
  hops?: HopRecorder;
  /** per-request timeout (gateway default 5000 ms) */
  timeoutMs?: number;
  recovery?: RecoveryOptions;
  /** Binance USD-M dead man's switch (gateway default 30 s countdown refreshed every 10 s); false disables */
  deadManSwitch?: { countdownMs: number; refreshMs: number } | false;
  /** the account's limits from `fetchLimits` (gateway default: the documented ones) */
  limits?: BinanceLimits;
  /** WS API / trade WS / private stream sockets rotate make-before-break after this long (gateway default 23 h) */
  socketLifetimeMs?: number;
}

export interface SignalOptions {
  funding: boolean;
  openInterest: boolean;
  intervalMs: number;
}

/** One venue's gateway, planned: created with the other venues of its exchange by `createGateways`. */
export type GatewayPlan = { exchange: 'binance'; config: BinanceGatewayConfig } | { exchange: 'bybit'; config: BybitGatewayConfig };

export interface VenueDriver {
  readonly venue: VenueId;
  readonly exchange: 'binance' | 'bybit';
  /** instruments from the venue's reference data; `symbols[i]` gets BotState slot `firstSlot + i` */
  fetchInstruments(ep: VenueEndpoints, symbols: readonly string[], firstSlot: number): Promise<Instrument[]>;
  /** the market-data adapter for these instruments (not started) */
  createMd(ep: VenueEndpoints, instruments: Instrument[], o: MdOptions): MdAdapter;
  /** the account's order and weight limits as the venue publishes them; undefined when the venue has none to read */
  fetchLimits(ep: VenueEndpoints): Promise<BinanceLimits | undefined>;
  /** whether the endpoints carry the credentials this venue's gateway needs */
  canTrade(ep: VenueEndpoints): boolean;
  gatewayPlan(ep: VenueEndpoints, instruments: readonly Instrument[], o: GatewayOptions): GatewayPlan;
  /** the slow signals of one instrument (funding and open interest of the futures markets; none for spot) */
  signals(ep: VenueEndpoints, ins: Instrument, o: SignalOptions): SignalSource[];
  /** the account's position mode (and Bybit: unified or not), `refuse` set when the engine must not trade it (account.ts) */
  accountMode(ep: VenueEndpoints, symbols: readonly string[]): Promise<AccountMode>;
}

/**
 * The account's order and weight limits as Binance publishes them (`exchangeInfo.rateLimits`), so the gateway's
 * local limiter refuses near the venue's real limits, not near documented defaults that may not apply (a raised
 * account, a simulator with lifted limits). Falls back to the defaults when exchangeInfo cannot be read.
 */
export async function fetchBinanceLimits(restBase: string, market: 'spot' | 'usdm'): Promise<BinanceLimits> {
  const def = market === 'spot' ? BINANCE_SPOT_LIMITS : BINANCE_USDM_LIMITS;
  try {
    const res = await fetch(new URL(market === 'spot' ? '/api/v3/exchangeInfo' : '/fapi/v1/exchangeInfo', restBase), { signal: AbortSignal.timeout(5000) });
    if (!res.ok) return def;
    const j = (await res.json()) as { rateLimits?: Array<{ rateLimitType?: string; interval?: string; intervalNum?: number; limit?: number }> };
    const out: BinanceLimits = { ...def };
    for (const l of j.rateLimits ?? []) {
      if (typeof l.limit !== 'number' || !(l.limit > 0)) continue;
      if (l.rateLimitType === 'REQUEST_WEIGHT' && l.interval === 'MINUTE' && l.intervalNum === 1) out.weightPerMinute = l.limit;
      else if (l.rateLimitType === 'ORDERS' && l.interval === 'SECOND' && l.intervalNum === 10) out.ordersPer10s = l.limit;
      else if (l.rateLimitType === 'ORDERS' && l.interval === 'MINUTE' && l.intervalNum === 1) out.ordersPerMinute = l.limit;
      else if (l.rateLimitType === 'ORDERS' && l.interval === 'DAY' && l.intervalNum === 1) out.ordersPerDay = l.limit;
    }
    return out;
  } catch {
    return def;
  }
}

const templateInstruments = (list: readonly Instrument[]) =>
  list.map((i) => ({ symbol: i.symbol, priceDecimals: i.priceDecimals, qtyDecimals: i.qtyDecimals }));

const common = (o: GatewayOptions) => ({
  ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
  ...(o.recovery !== undefined ? { recovery: o.recovery } : {}),
  ...(o.hops !== undefined ? { hops: o.hops } : {}),
  ...(o.socketLifetimeMs !== undefined ? { socketLifetimeMs: o.socketLifetimeMs } : {}),
});

const mdCommon = (o: MdOptions) => ({
  state: o.state,
  ...(o.hops !== undefined ? { hops: o.hops } : {}),
  ...(o.recorder !== undefined ? { recorder: o.recorder } : {}),
  ...(o.staleAfterMs !== undefined ? { staleAfterMs: o.staleAfterMs } : {}),
});

function binanceDriver(venue: 'binanceSpot' | 'binanceUsdm', market: 'spot' | 'usdm'): VenueDriver {
  return {
    venue,
    exchange: 'binance',
    fetchInstruments: (ep, symbols, firstSlot) => fetchBinanceInstruments(ep.restBaseUrl, market, symbols, firstSlot),
    createMd: (ep, instruments, o) => new BinanceMd({ ...mdCommon(o), market, restBaseUrl: ep.restBaseUrl, wsBaseUrl: ep.wsStreamBaseUrl, instruments }),
    fetchLimits: (ep) => fetchBinanceLimits(ep.restBaseUrl, market),
    // HMAC pair or the Ed25519 pair (the WS API session logs on with it)
    canTrade: (ep) => ep.apiKey !== undefined || ep.ed25519ApiKey !== undefined,
    gatewayPlan: (ep, instruments, o) => ({
      exchange: 'binance',
      config: {
        venue,
        restBaseUrl: ep.restBaseUrl,
        ...(ep.wsApiUrl ? { wsApiUrl: ep.wsApiUrl } : {}),
        wsStreamBaseUrl: ep.wsStreamBaseUrl,
        ...(ep.apiKey !== undefined ? { apiKey: ep.apiKey } : {}),
        ...(ep.apiSecret !== undefined ? { apiSecret: ep.apiSecret } : {}),
        ...(ep.ed25519ApiKey !== undefined ? { ed25519ApiKey: ep.ed25519ApiKey } : {}),
        ...(ep.ed25519PrivateKeyPem !== undefined ? { ed25519PrivateKeyPem: ep.ed25519PrivateKeyPem } : {}),
        instruments: templateInstruments(instruments),
        transport: o.transport === 'ws' ? 'wsapi' : 'rest',
        ...(o.deadManSwitch !== undefined ? { deadManSwitch: o.deadManSwitch } : {}),
        ...(o.limits !== undefined ? { limits: o.limits } : {}),
        ...common(o),
      },
    }),
    accountMode: (ep, symbols) => readAccountMode(venue, ep, symbols),
    signals: (ep, ins, o) =>
      market === 'usdm'
        ? [
            ...(o.funding ? [binanceFunding(ep.restBaseUrl, ins.symbol, ins.slot, o.intervalMs)] : []),
            ...(o.openInterest ? [binanceOpenInterest(ep.restBaseUrl, ins.symbol, ins.slot, o.intervalMs)] : []),
          ]
        : [],
  };
}

function bybitDriver(venue: 'bybitSpot' | 'bybitLinear', category: 'spot' | 'linear'): VenueDriver {
  return {
    venue,
    exchange: 'bybit',
    fetchInstruments: (ep, symbols, firstSlot) => fetchBybitInstruments(ep.restBaseUrl, category, symbols, firstSlot),
    createMd: (ep, instruments, o) => new BybitMd({ ...mdCommon(o), category, wsBaseUrl: ep.wsStreamBaseUrl, instruments }),
    // Bybit publishes no per-account limits to read; the gateway keeps its own
    fetchLimits: async () => undefined,
    canTrade: (ep) => ep.apiKey !== undefined && ep.apiSecret !== undefined,
    gatewayPlan: (ep, instruments, o) => {
      if (ep.apiKey === undefined || ep.apiSecret === undefined) throw new Error(`${venue}: no API key pair`);
      return {
        exchange: 'bybit',
        config: {
          category,
          restBaseUrl: ep.restBaseUrl,
          ...(ep.wsApiUrl ? { wsApiUrl: ep.wsApiUrl } : {}),
          ...(ep.wsPrivateUrl ? { wsPrivateUrl: ep.wsPrivateUrl } : {}),
          apiKey: ep.apiKey,
          apiSecret: ep.apiSecret,
          instruments: templateInstruments(instruments),
          transport: o.transport,
          ...common(o),
        },
      };
    },
    accountMode: (ep, symbols) => readAccountMode(venue, ep, symbols),
    signals: (ep, ins, o) =>
      category === 'linear'
        ? [
            ...(o.funding ? [bybitFunding(ep.restBaseUrl, ins.symbol, ins.slot, o.intervalMs)] : []),
            ...(o.openInterest ? [bybitOpenInterest(ep.restBaseUrl, ins.symbol, ins.slot, o.intervalMs)] : []),
          ]
        : [],
  };
}

/** One driver per venue id. */
export const VENUE_DRIVERS: Readonly<Record<VenueId, VenueDriver>> = {
  binanceSpot: binanceDriver('binanceSpot', 'spot'),
  binanceUsdm: binanceDriver('binanceUsdm', 'usdm'),
  bybitSpot: bybitDriver('bybitSpot', 'spot'),
  bybitLinear: bybitDriver('bybitLinear', 'linear'),
};

/** The gateways of several venues, created per exchange, with the exchanges' metrics and describe hooks. */
export interface Gateways {
  /** Binance's in plan order, then Bybit's */
  gateways: VenueGateway[];
  /** exchange metrics (Bybit: Disconnection Protection per gateway) */
  metrics(): ExtraMetric[];
  /** exchange state for `describe` (Bybit: `bybitDcp`, one status per gateway, [] without any) */
  describe(): Record<string, unknown>;
}

/**
 * Create the planned gateways: each Binance venue gets its own (private stream per venue); the Bybit venues are
 * created together so spot and linear share one private stream (which also arms Disconnection Protection where the
 * account has it).
 */
export function createGateways(plans: readonly GatewayPlan[]): Gateways {
  const binance = plans.flatMap((p) => (p.exchange === 'binance' ? [createBinanceGateway(p.config)] : []));
  const bybitCfgs = plans.flatMap((p) => (p.exchange === 'bybit' ? [p.config] : []));
  const bybit = bybitCfgs.length > 0 ? createBybitGateways(bybitCfgs) : [];
  return {
    gateways: [...binance, ...bybit],
    metrics: () => dcpMetrics(bybit),
    describe: () => ({ bybitDcp: bybit.map((g) => g.dcpStatus) }),
  };
}
