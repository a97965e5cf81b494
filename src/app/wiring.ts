/**
 * Wiring of market data + order entry for `tickwire run`. Each wiring returns the instruments (with their BotState
 * slots), the order owner (`OrderManager` over the venue gateways: the one record of every order and the one
 * portfolio), a way to attach the engine's event path, and counters for the summary and /metrics.
 *
 * - `paper`: the simulator's matching core in process (src/exchange/paper.ts): no sockets, one coherent market; its
 *   venues are gateways behind the same OrderManager.
 * - `network`: the WebSocket market-data adapters (src/exchange/{binance,bybit}/md) and the order gateways (src/orders) against
 *   the embedded simulator (`startSim`), an external simulator (endpoints in the config) or testnet/mainnet.
 */
import type { BotState } from '../model/botstate.js';
import type { Instrument, VenueId } from '../model/types.js';
import { PaperVenue } from '../exchange/paper.js';
import type { ExtraMetric } from './metrics.js';
import type { Config } from '../config/schema.js';
import type { BinanceCredentials, Secrets } from '../config/secrets.js';
import { PRESETS } from '../config/presets.js';
import { registerSecret } from '../util/log.js';
import type { HopRecorder } from '../util/hops.js';
import { fetchBinanceInstruments, fetchBybitInstruments } from '../exchange/reference.js';
import { BinanceMd } from '../exchange/binance/md/adapter.js';
import { BybitMd } from '../exchange/bybit/md/adapter.js';
import { createBinanceGateway } from '../exchange/binance/trade/index.js';
import { createBybitGateways, dcpMetrics, type BybitGatewayConfig } from '../exchange/bybit/trade/index.js';
import { OrderManager } from '../orders/manager.js';
import { BaseGateway, gatewayDegradations } from '../orders/basegw.js';
import { Degradations } from '../util/degrade.js';
import { wsDegradations } from '../net/ws.js';
import { mdDegradations } from '../md/metrics.js';
import { BINANCE_SPOT_LIMITS, BINANCE_USDM_LIMITS, type BinanceLimits } from '../net/ratelimit.js';
import type { VenueGateway } from '../orders/gateway.js';
import type { SimEndpointsJson, SimHandle } from '../sim/index.js';
import { binanceFunding, binanceOpenInterest, bybitFunding, bybitOpenInterest, type SignalSource } from '../strategy/signals.js';

export interface Wiring {
  kind: 'paper' | 'sim' | 'live';
  /** true when the exchange's state dies with this process (embedded simulator / paper) */
  ephemeralExchange: boolean;
  instruments: Instrument[];
  /** the order owner over this wiring's gateways */
  orders: OrderManager;
  /** route BotState updates to the engine's event path */
  attach(onBook: (slot: number) => void): void;
  /** start the feeds (after the engine is ready) */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** market-data frames received, per venue */
  frames(): Record<string, number>;
  /** book resyncs, per venue */
  resyncs(): Record<string, number>;
  extraMetrics(): ExtraMetric[];
  describe(): Record<string, unknown>;
  /** the embedded simulator, when there is one (tests inject faults through it) */
  sim?: SimHandle;
  /** slow signals to poll in the background (funding rates of the futures instruments) */
  signals?: SignalSource[];
  /**
   * resyncs, disconnects, reconnects, rotations, stale feeds, rejected frames, rate limits, halts: counted where they
   * happen, logged (one line per key per interval, with counts) and exported to /metrics by this reporter
   */
  degradations?: Degradations;
}

export function wirePaper(refs: ReadonlyArray<{ venue: VenueId; symbol: string }>, state: BotState, seed = 1, rate = 600, hops?: HopRecorder): Wiring {
  const venue = new PaperVenue({ instruments: refs, state, seed, rate });
  const orders = new OrderManager({ instruments: venue.instruments, gateways: venue.gateways, slots: state.slots, ...(hops ? { hops } : {}) });
  return {
    kind: 'paper',
    ephemeralExchange: true,
    instruments: venue.instruments,
    orders,
    attach(onBook) {
      venue.onBook = onBook;
    },
    async start() {
      venue.start();
    },
    async stop() {
      await orders.stop();
      await venue.close();
    },
    frames: () => ({ paper: venue.frames }),
    resyncs: () => ({ paper: 0 }),
    extraMetrics: () => [
      {
        name: 'tickwire_md_frames_total',
        help: 'Market-data frames received.',
        type: 'counter',
        samples: [{ labels: { venue: 'paper' }, value: venue.frames }],
      },
    ],
    describe: () => ({ mode: 'paper (simulator matching core in process)', rate, seed }),
  };
}

/**
 * The account's order and weight limits as the venue publishes them (`exchangeInfo.rateLimits`), so the gateway's
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
    }
    return out;
  } catch {
    return def;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Networked wiring: real WebSocket/HTTP adapters and gateways, against the embedded simulator, an external one, or
// testnet/mainnet.

/** Where one venue lives and how to log in. */
export interface VenueAccess {
  rest: string;
  /** market stream base (Binance: host; Bybit: host without /v5/public/...) */
  ws: string;
  wsApi?: string;
  privateWs?: string;
  apiKey?: string;
  apiSecret?: string;
  ed25519ApiKey?: string;
  ed25519PrivateKeyPem?: string;
}

function stripBybitPath(u: string): string {
  return u.replace(/\/v5\/public\/\w+\/?$/, '');
}

/** Venue access from the presets / config endpoints / secrets (testnet, mainnet, external simulator). */
export function accessFromConfig(cfg: Config, secrets: Secrets): Partial<Record<VenueId, VenueAccess>> {
  const out: Partial<Record<VenueId, VenueAccess>> = {};
  for (const ex of ['binance', 'bybit'] as const) {
    const e = cfg.exchanges[ex];
    if (!e.enabled) continue;
    const base = e.preset === 'sim' ? undefined : PRESETS[ex][e.preset];
    const ep = { ...(base ?? {}), ...e.endpoints };
    const cred: BinanceCredentials | undefined = secrets[ex];
    // HMAC pair and/or (Binance) the Ed25519 pair: with it the WS API session logs on and orders go unsigned
    const creds: Pick<VenueAccess, 'apiKey' | 'apiSecret' | 'ed25519ApiKey' | 'ed25519PrivateKeyPem'> = {
      ...(cred?.apiKey !== undefined && cred.apiSecret !== undefined ? { apiKey: cred.apiKey, apiSecret: cred.apiSecret } : {}),
      ...(cred?.ed25519ApiKey !== undefined && cred.ed25519PrivateKeyPem !== undefined
        ? { ed25519ApiKey: cred.ed25519ApiKey, ed25519PrivateKeyPem: cred.ed25519PrivateKeyPem }
        : {}),
    };
    const spot = ex === 'binance' ? 'binanceSpot' : 'bybitSpot';
    const fut = ex === 'binance' ? 'binanceUsdm' : 'bybitLinear';
    const fix = ex === 'bybit' ? stripBybitPath : (u: string) => u;
    if (ep.spotRest && ep.spotWs)
      out[spot] = {
        rest: ep.spotRest,
        ws: fix(ep.spotWs),
        ...(ep.spotWsApi ? { wsApi: ep.spotWsApi } : {}),
        ...(ep.privateWs ? { privateWs: ep.privateWs } : {}),
        ...creds,
      };
    if (ep.futuresRest && ep.futuresWs)
      out[fut] = {
        rest: ep.futuresRest,
        ws: fix(ep.futuresWs),
        ...(ep.futuresWsApi ? { wsApi: ep.futuresWsApi } : {}),
        ...(ep.privateWs ? { privateWs: ep.privateWs } : {}),
        ...creds,
      };
  }
  return out;
}

/** Venue access of an embedded simulator (in process, or a child process's endpoints line). */
export function accessFromSim(sim: { endpoints: SimEndpointsJson }): Partial<Record<VenueId, VenueAccess>> {
  const out: Partial<Record<VenueId, VenueAccess>> = {};
  const e = sim.endpoints;
  const of = (x: NonNullable<typeof e.binanceSpot>): VenueAccess => ({
    rest: x.restBaseUrl,
    ws: x.wsStreamBaseUrl,
    wsApi: x.wsApiUrl,
    ...(x.wsPrivateUrl ? { privateWs: x.wsPrivateUrl } : {}),
    apiKey: x.apiKey,
    apiSecret: x.apiSecret,
    ...(x.ed25519ApiKey ? { ed25519ApiKey: x.ed25519ApiKey } : {}),
    ...(x.ed25519PrivateKeyPem ? { ed25519PrivateKeyPem: x.ed25519PrivateKeyPem } : {}),
  });
  if (e.binanceSpot) out.binanceSpot = of(e.binanceSpot);
  if (e.binanceUsdm) out.binanceUsdm = of(e.binanceUsdm);
  if (e.bybit) {
    out.bybitSpot = of(e.bybit);
    out.bybitLinear = of(e.bybit);
  }
  return out;
}

export interface NetworkWiringOptions {
  refs: ReadonlyArray<{ venue: VenueId; symbol: string }>;
  state: BotState;
  hops: HopRecorder;
  access: Partial<Record<VenueId, VenueAccess>>;
  /** the exchange dies with this process (embedded simulator) */
  ephemeral: boolean;
  sim?: SimHandle;
  /** the embedded simulator runs in a child process: stopped with the wiring (after the gateways) */
  simChild?: { close(): Promise<void> };
  /** which exchange signals to poll (default: funding and open interest every 30 s) */
  signals?: { funding: boolean; openInterest: boolean; intervalMs: number };
  /** order transport per exchange (default rest) */
  transport?: Partial<Record<'binance' | 'bybit', 'rest' | 'wsapi'>>;
  /** how often degradations are logged (default 1000 ms: at most one line per kind, venue and reason per second) */
  degradationLogMs?: number;
  describe: Record<string, unknown>;
}

export async function wireNetwork(o: NetworkWiringOptions): Promise<Wiring> {
  // every credential is scrubbed by value from every log line, also inside exchange text that echoes it
  for (const a of Object.values(o.access)) for (const v of [a.apiKey, a.apiSecret, a.ed25519ApiKey, a.ed25519PrivateKeyPem]) registerSecret(v);
  const instruments: Instrument[] = [];
  for (let slot = 0; slot < o.refs.length; slot++) {
    const r = o.refs[slot]!;
    const a = o.access[r.venue];
    if (!a) throw new Error(`${r.venue}: no endpoints (venue disabled or not served)`);
    const got =
      r.venue === 'binanceSpot' || r.venue === 'binanceUsdm'
        ? await fetchBinanceInstruments(a.rest, r.venue === 'binanceSpot' ? 'spot' : 'usdm', [r.symbol], slot)
        : await fetchBybitInstruments(a.rest, r.venue === 'bybitSpot' ? 'spot' : 'linear', [r.symbol], slot);
    const ins = got[0];
    if (!ins) throw new Error(`${r.venue}: ${r.symbol} not listed`);
    instruments.push(ins);
  }
  const byVenue = new Map<VenueId, Instrument[]>();
  for (const i of instruments) byVenue.set(i.venue, [...(byVenue.get(i.venue) ?? []), i]);

  const md: Array<BinanceMd | BybitMd> = [];
  const mdName: string[] = [];
  const gateways: VenueGateway[] = [];
  const bybitCfgs: BybitGatewayConfig[] = [];
  for (const [venue, list] of byVenue) {
    const a = o.access[venue]!;
    if (venue === 'binanceSpot' || venue === 'binanceUsdm') {
      md.push(
        new BinanceMd({
          market: venue === 'binanceSpot' ? 'spot' : 'usdm',
          restBaseUrl: a.rest,
          wsBaseUrl: a.ws,
          instruments: list,
          state: o.state,
          hops: o.hops,
        }),
      );
      if (a.apiKey !== undefined || a.ed25519ApiKey !== undefined) {
        const limits = await fetchBinanceLimits(a.rest, venue === 'binanceSpot' ? 'spot' : 'usdm');
        gateways.push(
          createBinanceGateway({
            venue,
            restBaseUrl: a.rest,
            ...(a.wsApi ? { wsApiUrl: a.wsApi } : {}),
            wsStreamBaseUrl: a.ws,
            ...(a.apiKey !== undefined ? { apiKey: a.apiKey } : {}),
            ...(a.apiSecret !== undefined ? { apiSecret: a.apiSecret } : {}),
            ...(a.ed25519ApiKey !== undefined ? { ed25519ApiKey: a.ed25519ApiKey } : {}),
            ...(a.ed25519PrivateKeyPem !== undefined ? { ed25519PrivateKeyPem: a.ed25519PrivateKeyPem } : {}),
            instruments: list.map((i) => ({ symbol: i.symbol, priceDecimals: i.priceDecimals, qtyDecimals: i.qtyDecimals })),
            transport: o.transport?.binance ?? 'rest',
            hops: o.hops,
            limits,
          }),
        );
      }
    } else {
      md.push(new BybitMd({ category: venue === 'bybitSpot' ? 'spot' : 'linear', wsBaseUrl: a.ws, instruments: list, state: o.state, hops: o.hops }));
      if (a.apiKey !== undefined && a.apiSecret !== undefined) {
        bybitCfgs.push({
          category: venue === 'bybitSpot' ? 'spot' : 'linear',
          restBaseUrl: a.rest,
          ...(a.wsApi ? { wsApiUrl: a.wsApi } : {}),
          ...(a.privateWs ? { wsPrivateUrl: a.privateWs } : {}),
          apiKey: a.apiKey,
          apiSecret: a.apiSecret,
          instruments: list.map((i) => ({ symbol: i.symbol, priceDecimals: i.priceDecimals, qtyDecimals: i.qtyDecimals })),
          transport: o.transport?.bybit === 'wsapi' ? 'ws' : 'rest',
          hops: o.hops,
        });
      }
    }
    mdName.push(venue);
  }
  // Bybit spot and linear share one private stream (which also arms Disconnection Protection where the account has it)
  const bybitGws = bybitCfgs.length > 0 ? createBybitGateways(bybitCfgs) : [];
  gateways.push(...bybitGws);
  const manager = new OrderManager({ instruments, gateways, hops: o.hops, slots: o.state.slots });
  const sum = (f: (m: BinanceMd | BybitMd) => number): Record<string, number> => Object.fromEntries(md.map((m, i) => [mdName[i]!, f(m)]));
  const degradations = new Degradations()
    .add(wsDegradations())
    .add(gatewayDegradations(gateways.filter((g): g is VenueGateway & BaseGateway => g instanceof BaseGateway)));
  for (let i = 0; i < md.length; i++) degradations.add(mdDegradations(mdName[i]!, md[i]!.counters, md[i]!.rejected));
  return {
    kind: o.sim || o.simChild ? 'sim' : 'live',
    ephemeralExchange: o.ephemeral,
    ...(o.sim ? { sim: o.sim } : {}),
    signals: instruments.flatMap((i): SignalSource[] => {
      const rest = o.access[i.venue]!.rest;
      const sg = o.signals ?? { funding: true, openInterest: true, intervalMs: 30_000 };
      const out: SignalSource[] = [];
      if (i.venue === 'binanceUsdm') {
        if (sg.funding) out.push(binanceFunding(rest, i.symbol, i.slot, sg.intervalMs));
        if (sg.openInterest) out.push(binanceOpenInterest(rest, i.symbol, i.slot, sg.intervalMs));
      }
      if (i.venue === 'bybitLinear') {
        if (sg.funding) out.push(bybitFunding(rest, i.symbol, i.slot, sg.intervalMs));
        if (sg.openInterest) out.push(bybitOpenInterest(rest, i.symbol, i.slot, sg.intervalMs));
      }
      return out;
    }),
    instruments,
    orders: manager,
    degradations,
    attach(onBook) {
      // BookFeed.onTop: the adapter calls it once per frame that changed top of book, after BotState and the
      // frame's hop stamps are written (no wrapping of the feed's methods)
      for (const m of md) for (const feed of m.feeds) if (feed) feed.onTop = onBook;
    },
    async start() {
      degradations.start(o.degradationLogMs ?? 1000);
      await manager.start();
      await Promise.all(md.map((m) => m.start()));
    },
    async stop() {
      await Promise.all(md.map((m) => m.stop().catch(() => undefined)));
      await manager.stop().catch(() => undefined);
      degradations.stop(); // the last counts
      await o.sim?.close();
      await o.simChild?.close();
    },
    frames: () => sum((m) => m.counters.frames),
    resyncs: () => sum((m) => m.counters.resyncs),
    extraMetrics: () => [
      {
        name: 'tickwire_md_frames_total',
        help: 'Market-data frames received.',
        type: 'counter',
        samples: md.map((m, i) => ({ labels: { venue: mdName[i]! }, value: m.counters.frames })),
      },
      {
        name: 'tickwire_md_gaps_total',
        help: 'Sequence gaps detected.',
        type: 'counter',
        samples: md.map((m, i) => ({ labels: { venue: mdName[i]! }, value: m.counters.gaps })),
      },
      {
        name: 'tickwire_md_reconnects_total',
        help: 'Market-data reconnects.',
        type: 'counter',
        samples: md.map((m, i) => ({ labels: { venue: mdName[i]! }, value: m.counters.reconnects })),
      },
      ...dcpMetrics(bybitGws),
      // resyncs by reason, rejected frames, snapshot failures, ws disconnects by code / reconnects / rotations /
      // stale, HTTP 429/418/5xx, local refusals, halts and resumes
      ...degradations.metrics(),
    ],
    describe: () => ({ ...o.describe, gateways: gateways.map((g) => g.venue), bybitDcp: bybitGws.map((g) => g.dcpStatus) }),
  };
}
