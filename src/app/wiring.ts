/**
 * Wiring of market data + order entry for `tickwire run`. Each wiring returns the instruments (with their BotState
 * slots), the order owner (`OrderManager` over the venue gateways: the one record of every order and the one
 * portfolio), a way to attach the engine's event path, and counters for the summary and /metrics.
 *
 * - `paper`: the simulator's matching core in process (src/exchange/paper.ts): no sockets, one coherent market; its
 *   venues are gateways behind the same OrderManager.
 * - `network`: the WebSocket market-data adapters and the order gateways of each venue, built by the venue registry's
 *   drivers (src/exchange/registry.ts), against the embedded simulator (`startSim`), an external simulator (endpoints
 *   in the config) or testnet/mainnet.
 * - `network` with `paper`: the same market-data adapters on the venues' public endpoints, and instead of the order
 *   gateways one local matcher per venue (src/exchange/paperlive.ts) against the adapters' books and trades. The
 *   endpoints lose every credential before anything is built, and no order gateway is created: no order, private
 *   stream or WS API session can reach the venue.
 */
import type { BotState } from '../model/botstate.js';
import type { Instrument, VenueId } from '../model/types.js';
import type { SignalSource } from '../model/signal.js';
import { PaperVenue } from '../exchange/paper.js';
import { LivePaperGateway, type PaperFeeRates } from '../exchange/paperlive.js';
import type { VenueEndpoints } from '../exchange/endpoints.js';
import type { BookFeed } from '../md/feed.js';
import type { ExtraMetric } from './metrics.js';
import { registerSecret } from '../util/log.js';
import type { HopRecorder } from '../util/hops.js';
import type { AccountMode } from '../exchange/account.js';
import { createGateways, VENUE_DRIVERS, type GatewayPlan, type MdAdapter, type VenueEndpointsMap } from '../exchange/registry.js';
import { OrderManager } from '../orders/manager.js';
import { BaseGateway, gatewayDegradations } from '../orders/basegw.js';
import { Degradations } from '../util/degrade.js';
import { wsDegradations } from '../net/ws.js';
import { mdDegradations } from '../md/metrics.js';
import type { VenueGateway } from '../orders/gateway.js';
import type { SimHandle } from '../sim/index.js';
import type { L2Book } from '../book/l2book.js';
import type { FrameRecorder } from '../md/recorder.js';
import { venueRecorder, type RecordOptions } from './record.js';

export interface Wiring {
  kind: 'paper' | 'sim' | 'live';
  /** true when the exchange's state dies with this process (embedded simulator / paper) */
  ephemeralExchange: boolean;
  instruments: Instrument[];
  /** the order owner over this wiring's gateways */
  orders: OrderManager;
  /** route BotState updates to the engine's event path */
  attach(onBook: (slot: number) => void): void;
  /**
   * Read every trading venue's account mode (src/exchange/account.ts) and throw, naming each venue, its mode and how
   * to switch it, when one must not be traded (hedge mode, a Bybit classic account). Returns what was read.
   */
  checkAccounts(): Promise<AccountMode[]>;
  /** start the feeds (after the engine is ready) */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** market-data frames received, per venue */
  frames(): Record<string, number>;
  /** book resyncs, per venue */
  resyncs(): Record<string, number>;
  extraMetrics(): ExtraMetric[];
  describe(): Record<string, unknown>;
  /** `--record`: the capture files written so far */
  recordings?: () => string[];
  /** the L2 book of an instrument slot (the strategy's depth reads); absent where the wiring keeps none (paper) */
  book?: (slot: number) => L2Book | undefined;
  /** the embedded simulator, when there is one (tests inject faults through it) */
  sim?: SimHandle;
  /** `--paper` on live data: the local matchers, one per venue (their queues and counters) */
  paper?: readonly LivePaperGateway[];
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
    // the paper venue books one net position per symbol: one-way by construction
    checkAccounts: async () => [],
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

// ---------------------------------------------------------------------------------------------------------------
// Networked wiring: real WebSocket/HTTP adapters and gateways, against the embedded simulator, an external one, or
// testnet/mainnet. Everything venue-specific comes from the registry's drivers (src/exchange/registry.ts); the
// endpoints from `accessFromConfig` / `accessFromSim` (src/exchange/endpoints.ts).

export interface NetworkWiringOptions {
  refs: ReadonlyArray<{ venue: VenueId; symbol: string }>;
  state: BotState;
  hops: HopRecorder;
  access: VenueEndpointsMap;
  /** the exchange dies with this process (embedded simulator) */
  ephemeral: boolean;
  sim?: SimHandle;
  /** the embedded simulator runs in a child process: stopped with the wiring (after the gateways) */
  simChild?: { close(): Promise<void> };
  /** which exchange signals to poll (default: funding and open interest every 30 s) */
  signals?: { funding: boolean; openInterest: boolean; intervalMs: number };
  /** order transport per exchange (default rest) */
  transport?: Partial<Record<'binance' | 'bybit', 'rest' | 'wsapi'>>;
  /** session and private-stream socket lifetime per exchange before a make-before-break rotation (default 23 h) */
  socketLifetimeMs?: Partial<Record<'binance' | 'bybit', number>>;
  /** how often degradations are logged (default 1000 ms: at most one line per kind, venue and reason per second) */
  degradationLogMs?: number;
  describe: Record<string, unknown>;
  /**
   * paper trading on the venues' public data: orders are matched locally (one `LivePaperGateway` per venue, with
   * these fee rates); the endpoints' credentials are dropped and no order gateway is built
   */
  paper?: { fees: Partial<Record<VenueId, PaperFeeRates>> };
  /** `tickwire run --record DIR`: record the market data per venue (src/app/record.ts) under this session name */
  record?: { opts: RecordOptions; session: string };
}

/** A venue's public half: market-data and reference endpoints only (paper trading: nothing that can log in). */
export function publicEndpoints(a: VenueEndpoints): VenueEndpoints {
  return { restBaseUrl: a.restBaseUrl, wsStreamBaseUrl: a.wsStreamBaseUrl };
}

export async function wireNetwork(o: NetworkWiringOptions): Promise<Wiring> {
  // every credential is scrubbed by value from every log line, also inside exchange text that echoes it
  for (const a of Object.values(o.access)) for (const v of [a.apiKey, a.apiSecret, a.ed25519ApiKey, a.ed25519PrivateKeyPem]) registerSecret(v);
  // paper: fail closed, nothing below this line sees a key (so no driver can plan a gateway, canTrade is false)
  const access: VenueEndpointsMap = o.paper ? Object.fromEntries(Object.entries(o.access).map(([v, a]) => [v, publicEndpoints(a)])) : o.access;
  const instruments: Instrument[] = [];
  for (let slot = 0; slot < o.refs.length; slot++) {
    const r = o.refs[slot]!;
    const a = access[r.venue];
    if (!a) throw new Error(`${r.venue}: no endpoints (venue disabled or not served)`);
    const got = await VENUE_DRIVERS[r.venue].fetchInstruments(a, [r.symbol], slot);
    const ins = got[0];
    if (!ins) throw new Error(`${r.venue}: ${r.symbol} not listed`);
    instruments.push(ins);
  }
  const byVenue = new Map<VenueId, Instrument[]>();
  for (const i of instruments) byVenue.set(i.venue, [...(byVenue.get(i.venue) ?? []), i]);

  const md: MdAdapter[] = [];
  const mdName: string[] = [];
  /** the md adapter of each slot (depth reads) */
  const mdOfSlot: MdAdapter[] = [];
  const recorders: FrameRecorder[] = [];
  const plans: GatewayPlan[] = [];
  for (const [venue, list] of byVenue) {
    const d = VENUE_DRIVERS[venue];
    const a = access[venue]!;
    let m: MdAdapter | undefined;
    const recorder = o.record ? venueRecorder(o.record.opts, o.record.session, venue, () => m) : undefined;
    if (recorder) recorders.push(recorder);
    m = d.createMd(a, list, { state: o.state, hops: o.hops, ...(recorder ? { recorder } : {}) });
    md.push(m);
    for (const i of list) mdOfSlot[i.slot] = m;
    if (!o.paper && d.canTrade(a)) {
      const limits = await d.fetchLimits(a);
      plans.push(
        d.gatewayPlan(a, list, {
          transport: o.transport?.[d.exchange] === 'wsapi' ? 'ws' : 'rest',
          hops: o.hops,
          ...(limits !== undefined ? { limits } : {}),
          ...(o.socketLifetimeMs?.[d.exchange] !== undefined ? { socketLifetimeMs: o.socketLifetimeMs[d.exchange] } : {}),
        }),
      );
    }
    mdName.push(venue);
  }
  // per exchange: Bybit spot and linear share one private stream
  const gws = createGateways(plans);
  // paper: one local matcher per venue over the adapters' books and trades (plans is empty: no venue gateway exists)
  const feedOf = new Map<Instrument, BookFeed>();
  for (const m of md) for (const f of m.feeds) if (f) feedOf.set(f.inst, f);
  const paper = o.paper
    ? [...byVenue].map(
        ([venue, list]) =>
          new LivePaperGateway({ venue, markets: list.map((ins) => ({ ins, feed: feedOf.get(ins)! })), fees: o.paper!.fees[venue] ?? { maker: 0, taker: 0 } }),
      )
    : [];
  const paperOfSlot = new Map<number, LivePaperGateway>();
  for (const p of paper)
    for (const ins of byVenue.get(p.venue)!) {
      paperOfSlot.set(ins.slot, p);
      feedOf.get(ins)!.onTrade = (slot) => p.onTrade(slot);
    }
  const gateways: VenueGateway[] = o.paper ? paper : gws.gateways;
  const manager = new OrderManager({ instruments, gateways, hops: o.hops, slots: o.state.slots });
  const sum = (f: (m: MdAdapter) => number): Record<string, number> => Object.fromEntries(md.map((m, i) => [mdName[i]!, f(m)]));
  const degradations = new Degradations()
    .add(wsDegradations())
    .add(gatewayDegradations(gateways.filter((g): g is VenueGateway & BaseGateway => g instanceof BaseGateway)));
  for (let i = 0; i < md.length; i++) degradations.add(mdDegradations(mdName[i]!, md[i]!.counters, md[i]!.rejected));
  const sg = o.signals ?? { funding: true, openInterest: true, intervalMs: 30_000 };
  return {
    kind: o.paper ? 'paper' : o.sim || o.simChild ? 'sim' : 'live',
    ephemeralExchange: o.ephemeral,
    ...(o.sim ? { sim: o.sim } : {}),
    ...(o.paper ? { paper } : {}),
    signals: instruments.flatMap((i): SignalSource[] => VENUE_DRIVERS[i.venue].signals(access[i.venue]!, i, sg)),
    instruments,
    orders: manager,
    degradations,
    async checkAccounts() {
      const modes: AccountMode[] = [];
      for (const [venue, list] of byVenue) {
        const d = VENUE_DRIVERS[venue];
        const a = access[venue]!;
        if (o.paper || !d.canTrade(a)) continue; // no order gateway (paper: no account at all): nothing is traded there
        modes.push(
          await d.accountMode(
            a,
            list.map((i) => i.symbol),
          ),
        );
      }
      const refused = modes.flatMap((m) => (m.refuse !== undefined ? [m.refuse] : []));
      if (refused.length > 0) throw new Error(refused.join('; '));
      return modes;
    },
    ...(o.record ? { recordings: () => recorders.flatMap((r) => r.files) } : {}),
    book: (slot) => mdOfSlot[slot]?.book(instruments[slot]?.symbol ?? ''),
    attach(onBook) {
      // BookFeed.onTop: the adapter calls it once per frame that changed top of book, after BotState and the
      // frame's hop stamps are written (no wrapping of the feed's methods)
      for (const m of md)
        for (const feed of m.feeds) {
          if (!feed) continue;
          const p = paperOfSlot.get(feed.slot);
          // paper: the matcher sees the book change before the strategy reacts to it
          feed.onTop = p
            ? (slot) => {
                p.onBook(slot);
                onBook(slot);
              }
            : onBook;
        }
    },
    async start() {
      degradations.start(o.degradationLogMs ?? 1000);
      await manager.start();
      await Promise.all(md.map((m) => m.start()));
    },
    async stop() {
      await Promise.all(md.map((m) => m.stop().catch(() => undefined)));
      await Promise.all(recorders.map((r) => r.close().catch(() => undefined)));
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
      ...gws.metrics(),
      // resyncs by reason, rejected frames, snapshot failures, ws disconnects by code / reconnects / rotations /
      // stale, HTTP 429/418/5xx, local refusals, halts and resumes
      ...degradations.metrics(),
    ],
    describe: () => ({
      ...o.describe,
      gateways: gateways.map((g) => g.venue),
      ...gws.describe(),
      ...(o.paper ? { paper: Object.fromEntries(paper.map((p) => [p.venue, { ...p.counts }])) } : {}),
    }),
  };
}
