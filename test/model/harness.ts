/**
 * Harness of the model-based property test of the engine's order truth (issue 12, "Model-based property test").
 *
 * One run = a fresh simulator (its generator in manual mode: the test decides when the market trades) and a fresh
 * engine (`runEngine`, strategy none, pointed at the simulator's endpoints), driven by a generated list of steps,
 * then compared with the exchange at quiescence:
 *   1. the engine's open orders equal the exchange's open orders of the account (id, side, price, quantity, filled,
 *      state);
 *   2. the engine's position equals the exchange's (futures: the account's position; spot: the change of its base
 *      balance since the run started);
 *   3. every exchange trade (the venue's trade history over REST: myTrades / userTrades / execution list) is booked
 *      exactly once: one journal fill with its trade id, quantity and price, and no journal fill that is not an
 *      exchange trade; the engine's fill count equals the number of trades.
 *
 * The engine is read through `EngineProbe` below, the ONE place of this test that looks inside the engine: its open
 * orders and positions. Since issue 12 there is one record of each order (the order owner, `engine.store`) and one
 * portfolio (`engine.portfolio`); the engine's status() is compared too, so a view that drifts from the owner shows
 * as "record X says ...".
 */
import { join } from 'node:path';
import { runEngine, type RunResult } from '../../src/app/run.js';
import type { Engine } from '../../src/engine/engine.js';
import type { Wiring } from '../../src/app/wiring.js';
import type { Instrument } from '../../src/model/types.js';
import { startSim, type SimHandle } from '../../src/sim/index.js';
import type { MatchingBook } from '../../src/sim/core/book.js';
import type { SimAccount, SimMarketId, SimVenueEndpoints } from '../../src/sim/core/types.js';
import { readJournal, JOURNAL_FILE, type JournalRecord } from '../../src/persist/journal.js';
import { TERMINAL_STATES, type OrderState } from '../../src/model/orders.js';
import { parseScaled } from '../../src/util/fixed.js';
import { rest } from '../sim/binance/helpers.js';
import { signedGet } from '../sim/bybit/helpers.js';

export type ModelVenue = 'binanceSpot' | 'binanceUsdm' | 'bybitLinear';
export type ModelTransport = 'rest' | 'wsapi';
export const SYMBOL = 'BTCUSDT';

const simVenueOf = (v: ModelVenue): 'binanceSpot' | 'binanceUsdm' | 'bybit' => (v === 'bybitLinear' ? 'bybit' : v);
export const isFutures = (v: ModelVenue): boolean => v !== 'binanceSpot';

// ---------------------------------------------------------------------------------------------------------------
// The exchange

/** Limits high enough that the venues never rate-limit the test's own pace (a 429 is a step of its own). */
const HIGH_BN_LIMITS = { weightPerMin: 10_000_000, orders10s: 1_000_000, ordersLong: 1_000_000_000, banAfter: 0 };
const HIGH_BYBIT_LIMITS = {
  create: { linear: 100_000, spot: 100_000 },
  cancel: { linear: 100_000, spot: 100_000 },
  cancelAll: { linear: 100_000, spot: 100_000 },
  amend: { linear: 100_000, spot: 100_000 },
  query: 100_000,
  ipPer5s: 10_000_000,
};

/** The simulator of one run and the test's handles on one venue of it (book, account, endpoints). */
export class Exchange {
  private heartbeat: NodeJS.Timeout | undefined;
  readonly book: MatchingBook;
  readonly acc: SimAccount;
  readonly ep: SimVenueEndpoints;
  readonly market: SimMarketId;
  /** base balance (spot) in quantity units when the run started */
  private readonly baseStart: number;

  private constructor(
    readonly sim: SimHandle,
    readonly venue: ModelVenue,
  ) {
    this.market = venue;
    this.book = sim.books.get(venue)!.get(SYMBOL)!;
    this.ep = sim.endpoints[simVenueOf(venue)]!;
    this.acc = sim.accounts.get(this.ep.apiKey)!;
    this.baseStart = this.baseUnits();
  }

  /**
   * A simulator whose market moves only when the test says so (generator in manual mode), plus a heartbeat: every
   * 200 ms a far level (150 ticks behind the best bid) changes size, so the feeds stay fresh (the engine marks a
   * book stale after 5 s without a frame) without moving the touch or filling anything.
   */
  static async start(venue: ModelVenue, seed: number): Promise<Exchange> {
    const sim = await startSim({
      venues: [simVenueOf(venue)],
      symbols: [SYMBOL],
      seed,
      generatorMode: 'manual',
      depthIntervalMs: 0,
      venueOptions: { binanceSpot: { limits: HIGH_BN_LIMITS }, binanceUsdm: { limits: HIGH_BN_LIMITS }, bybit: { rateLimits: HIGH_BYBIT_LIMITS } },
    });
    if (!sim.endpoints[simVenueOf(venue)]) {
      await sim.close();
      throw new Error(`simulator venue ${venue} failed: ${JSON.stringify(sim.venueErrors)}`);
    }
    const x = new Exchange(sim, venue);
    x.heartbeat = setInterval(() => x.beat(), 200);
    return x;
  }

  private beat(): void {
    const b = this.book;
    const p = b.bestBidPrice() - 150 * b.tickUnits;
    if (p <= 0) return;
    const q = b.syntheticQty('BUY', p);
    b.setSynthetic('BUY', p, q === 7 * b.stepUnits ? 8 * b.stepUnits : 7 * b.stepUnits);
  }

  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    await this.sim.close();
  }

  /** the account's open orders on the exchange */
  openOrders(): OrderView[] {
    return this.book.openOrders(this.acc.id).map((o) => ({
      id: o.clientOrderId,
      side: o.side,
      price: o.priceTicks,
      qty: o.qtyLots,
      filled: o.filledLots,
      state: o.status === 'NEW' ? 'ACKED' : (o.status as OrderState),
    }));
  }

  private baseUnits(): number {
    const ins = this.book.instrument;
    const b = this.acc.wallets.binanceSpot.get(ins.base);
    // not rounded: a spot position is net of the fees paid in the base asset, which are parts of a quantity unit
    return b ? (b.free + b.locked) * 10 ** ins.qtyDecimals : 0;
  }

  /** futures: the account's signed position; spot: its base balance change since the run started (quantity units) */
  position(): number {
    if (isFutures(this.venue)) return this.acc.positions.get(`${this.market}:${SYMBOL}`)?.sizeLots ?? 0;
    return this.baseUnits() - this.baseStart;
  }

  /** Every trade of the account on the symbol, from the venue's trade history (REST, paged), oldest first. */
  async trades(): Promise<TradeView[]> {
    const ins = this.book.instrument;
    const px = (s: string): number => parseScaled(s, ins.priceDecimals);
    const qty = (s: string): number => parseScaled(s, ins.qtyDecimals);
    if (this.venue === 'bybitLinear') {
      const out: TradeView[] = [];
      let cursor = '';
      for (let page = 0; page < 1000; page++) {
        const r = await signedGet(
          this.ep,
          '/v5/execution/list',
          `category=linear&symbol=${SYMBOL}&limit=100${cursor ? '&cursor=' + encodeURIComponent(cursor) : ''}`,
        );
        if (r.status !== 200 || r.json?.retCode !== 0) throw new Error(`execution list: ${r.status} ${r.text}`);
        const list = r.json.result.list as Array<{ execId: string; orderId: string; orderLinkId: string; side: string; execPrice: string; execQty: string }>;
        for (const e of list)
          out.push({
            tradeId: e.execId,
            clientOrderId: e.orderLinkId,
            orderId: e.orderId,
            side: e.side === 'Buy' ? 'BUY' : 'SELL',
            price: px(e.execPrice),
            qty: qty(e.execQty),
          });
        cursor = r.json.result.nextPageCursor as string;
        if (list.length < 100 || !cursor) break;
      }
      return out.reverse();
    }
    const path = this.venue === 'binanceSpot' ? '/api/v3/myTrades' : '/fapi/v1/userTrades';
    const out: TradeView[] = [];
    let fromId = 0;
    for (let page = 0; page < 1000; page++) {
      const r = await rest(this.ep, 'GET', path, { symbol: SYMBOL, fromId, limit: 1000 }, { signed: true });
      if (r.status !== 200) throw new Error(`${path}: ${r.status} ${r.text}`);
      // USD-M order ids exceed 2^53: read them as strings
      const list = JSON.parse(r.text.replace(/"orderId":(\d+)/g, '"orderId":"$1"')) as Array<{
        id: number;
        orderId: string;
        price: string;
        qty: string;
        isBuyer?: boolean;
        buyer?: boolean;
        side?: string;
      }>;
      for (const t of list) {
        const buy = t.isBuyer ?? t.buyer ?? t.side === 'BUY';
        out.push({
          tradeId: String(t.id),
          clientOrderId: this.clientIdOf(t.orderId),
          orderId: t.orderId,
          side: buy ? 'BUY' : 'SELL',
          price: px(t.price),
          qty: qty(t.qty),
        });
      }
      if (list.length < 1000) break;
      fromId = list[list.length - 1]!.id + 1;
    }
    return out;
  }

  /** exchange order id -> client order id of the account's orders (Binance's trade history names only the former) */
  clientIdOf(orderId: string): string {
    return this.book.getOrder(this.acc.id, { orderId })?.clientOrderId ?? '';
  }
}

export interface OrderView {
  id: string;
  side: 'BUY' | 'SELL';
  price: number;
  qty: number;
  filled: number;
  /** engine terms: ACKED (exchange NEW), PARTIALLY_FILLED, ... */
  state: OrderState;
}

export interface TradeView {
  tradeId: string;
  clientOrderId: string;
  orderId: string;
  side: 'BUY' | 'SELL';
  price: number;
  qty: number;
}

// ---------------------------------------------------------------------------------------------------------------
// The engine

/**
 * The one place that reads the engine's order records (see the file comment). Everything else goes through the
 * engine's public surface: placeManual / cancel / amend, status(), the journal.
 */
export const EngineProbe = {
  /** open orders of the one order record (the owner) */
  records(engine: Engine): Record<string, OrderView[]> {
    return { owner: engine.store.open().map((o) => ({ id: o.clientOrderId, side: o.side, price: o.price, qty: o.qty, filled: o.filledQty, state: o.state })) };
  },
  /** position in quantity units: the engine's status() and the owner's portfolio */
  positions(engine: Engine, ins: Instrument): Record<string, number> {
    const st = engine.status() as { positions: Record<string, number> };
    return {
      status: (st.positions[`${ins.venue}:${ins.symbol}`] ?? 0) * 10 ** ins.qtyDecimals,
      portfolio: engine.portfolio.of(ins.venue, ins.symbol).qty,
    };
  },
  /** an order or an amend is in flight (not quiescent) */
  pending(engine: Engine): string[] {
    const out: string[] = [];
    for (const o of engine.store.open()) {
      if (o.state === 'NEW_PENDING' || o.state === 'CANCEL_PENDING') out.push(`owner: ${o.clientOrderId} ${o.state}`);
      if (o.amendQty > 0) out.push(`owner: ${o.clientOrderId} amend in flight`);
    }
    return out;
  },
};

/** Booked fills of the journal: order events of kind fill, and fills booked by reconciliation (`t: 'fill'`). */
export interface BookedFill {
  tradeId: string;
  clientOrderId: string;
  price: number;
  qty: number;
  why: string;
}

export function journalFills(dir: string): BookedFill[] {
  const out: BookedFill[] = [];
  for (const r of readJournal(join(dir, JOURNAL_FILE)).records as JournalRecord[]) {
    if (r.t === 'event' && r.k === 'fill' && r.qty > 0) out.push({ tradeId: r.tid, clientOrderId: r.id, price: r.px, qty: r.qty, why: `event ${r.st}` });
    else if (r.t === 'fill') out.push({ tradeId: r.tid, clientOrderId: '', price: r.px, qty: r.qty, why: r.why });
  }
  return out;
}

/** Engine config of a run: one instrument on the simulator's endpoints, strategy none, limits out of the way. */
export function engineOverrides(x: Exchange, dir: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const ep = x.ep;
  const endpoints =
    x.venue === 'binanceSpot'
      ? { spotRest: ep.restBaseUrl, spotWs: ep.wsStreamBaseUrl, spotWsApi: ep.wsApiUrl }
      : { futuresRest: ep.restBaseUrl, futuresWs: ep.wsStreamBaseUrl, futuresWsApi: ep.wsApiUrl, ...(ep.wsPrivateUrl ? { privateWs: ep.wsPrivateUrl } : {}) };
  const exchanges =
    x.venue === 'bybitLinear'
      ? { binance: { enabled: false }, bybit: { preset: 'sim', endpoints } }
      : { binance: { preset: 'sim', endpoints }, bybit: { enabled: false } };
  return {
    exchanges,
    instruments: [{ venue: x.venue, symbol: SYMBOL }],
    strategy: { name: 'none' },
    persistence: { dir, batchMs: 2, fsync: 'never', snapshotIntervalMs: 600_000 },
    signals: { funding: false, openInterest: false },
    risk: {
      maxManualOrdersPerSecond: 1_000_000,
      maxOrderQty: 200,
      maxPositionPerSymbol: 1000,
      maxOrderNotional: 1e9,
      maxTotalNotional: 1e10,
      maxOpenOrders: 10_000,
      priceBandBps: 500,
    },
    shutdown: { cancelTimeoutMs: 10_000 },
    log: { level: 'info', destinations: [{ to: join(dir, 'engine.log'), level: 'info' }] },
    ...extra,
  };
}

export const CONTROL_TOKEN = 'model-test-token-0123456789';

/** The simulator's keys for both exchanges, and the control plane's token. */
export function keysEnv(ep: SimVenueEndpoints): Record<string, string> {
  return {
    TICKWIRE_BINANCE_API_KEY: ep.apiKey,
    TICKWIRE_BINANCE_API_SECRET: ep.apiSecret,
    TICKWIRE_BYBIT_API_KEY: ep.apiKey,
    TICKWIRE_BYBIT_API_SECRET: ep.apiSecret,
    TICKWIRE_CONTROL_TOKEN: CONTROL_TOKEN,
  };
}

/** A running in-process engine: its public handles, a wake-up on every order event, and the way to stop it. */
export class EngineRun {
  private done = false;
  private waiters: Array<() => void> = [];
  /** client ids the engine reported terminal (public order events) */
  readonly terminal = new Set<string>();
  /** order events by kind and state (coverage: what the steps made happen) */
  readonly kinds = new Map<string, number>();
  private constructor(
    readonly engine: Engine,
    readonly wiring: Wiring,
    readonly ins: Instrument,
    readonly dir: string,
    private readonly result: Promise<RunResult>,
    private readonly stopFlag: () => void,
  ) {
    const prev = engine.onAfterEvent;
    engine.onAfterEvent = (ev) => {
      prev?.(ev);
      if (TERMINAL_STATES.has(ev.state)) this.terminal.add(ev.clientOrderId);
      const k = ev.kind === 'fill' ? (ev.fillQty > 0 ? 'fill' : 'fill status') : ev.kind;
      this.kinds.set(k, (this.kinds.get(k) ?? 0) + 1);
      for (const w of this.waiters.splice(0)) w();
    };
  }

  static async start(x: Exchange, dir: string, transport: ModelTransport): Promise<EngineRun> {
    let stop = false;
    let ready: ((r: EngineRun) => void) | undefined;
    let failed: ((e: unknown) => void) | undefined;
    const got = new Promise<EngineRun>((res, rej) => {
      ready = res;
      failed = rej;
    });
    const result = runEngine({
      print: false,
      signals: false,
      transport,
      env: keysEnv(x.ep),
      overrides: engineOverrides(x, dir, { control: { enabled: false } }),
      stopWhen: () => stop,
      onReady: ({ engine, wiring }) => ready!(new EngineRun(engine, wiring, engine.instruments[0]!, dir, result, () => (stop = true))),
    });
    result.then(
      () => failed!(new Error('engine stopped before it was ready')),
      (e: unknown) => failed!(e),
    );
    const run = await got;
    const t = Date.now();
    while (!run.engine.state.tradable(run.ins.slot)) {
      if (Date.now() - t > 10_000) throw new Error('the book never became tradable');
      await new Promise((r) => setTimeout(r, 10));
    }
    return run;
  }

  /** resolves on the engine's next order event or after `ms` */
  nextEvent(ms: number): Promise<void> {
    return new Promise((r) => {
      const t = setTimeout(r, ms);
      this.waiters.push(() => {
        clearTimeout(t);
        r();
      });
    });
  }

  /** graceful stop (cancel-all, verify, persist); the run's summary */
  async stop(): Promise<RunResult> {
    if (!this.done) {
      this.done = true;
      this.stopFlag();
    }
    return this.result;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The properties

/** Tolerated known bugs of today's engine (issue 12). Each names the property it weakens; the refactor sets it false. */
export interface Tolerate {
  /**
   * TODO(issue 12): a rejected cancel sets the Ledger's order to ACKED while the OrderStore restores its pre-cancel
   * state (PARTIALLY_FILLED): the state of a partly filled order is then not compared.
   */
  cancelRejectState?: boolean;
  /**
   * TODO(issue 12): the Ledger drops fills whose venue:symbol:tradeId it has seen, so it books only one leg of a
   * self-trade (Binance reports both legs under one trade id; the OrderStore dedups per order and books both): the
   * random runs then keep the account's orders from trading with each other.
   */
  selfTradeLegs?: boolean;
  /**
   * TODO(issue 12): the reconciliation after a stream gap (order queries, then the trade-history backfill) is not
   * retried when the venue fails it (429, 5xx): the gap's fills are lost until the next gap. The random runs then
   * inject no REST error between a dropped private connection and the next quiescence.
   */
  reconcileNotRetried?: boolean;
  /**
   * TODO(issue 12): a cancel whose outcome is unknown (the venue answers 503/504) and whose query shows the order
   * still open leaves the order CANCEL_PENDING in both records for good (the store only moves forward; the engine
   * then never sends another cancel for it). The random runs then inject 429s only, no 5xx.
   */
  cancelUnknownStuck?: boolean;
  /**
   * TODO(issue 12): fills fed by the trade-history backfill carry the state PARTIALLY_FILLED; the OrderStore completes
   * the order from its quantities, the Ledger keeps it open (filled = quantity). Such a Ledger order is then not
   * reported as open on the engine's side only.
   */
  backfillLeavesFilledOpen?: boolean;
  /**
   * TODO(issue 12): fills that happened while the engine was down are booked by reconciliation with an empty trade
   * id at the order's price: such a fill is then matched by quantity instead of by trade id.
   */
  downtimeFillTradeId?: boolean;
}

const fmt = (o: OrderView): string => `${o.id} ${o.side} ${o.price}x${o.qty} filled ${o.filled} ${o.state}`;

/** Property 1: every order record's open orders equal the exchange's. */
export function openOrderMismatches(exchange: OrderView[], records: Record<string, OrderView[]>, tol: Tolerate = {}): string[] {
  const out: string[] = [];
  const x = new Map(exchange.map((o) => [o.id, o]));
  for (const [name, list] of Object.entries(records)) {
    const mine = new Map(list.map((o) => [o.id, o]));
    for (const o of exchange) if (!mine.has(o.id)) out.push(`open on the exchange, not in the engine's ${name}: ${fmt(o)}`);
    for (const o of list) {
      const e = x.get(o.id);
      if (!e && tol.backfillLeavesFilledOpen === true && name === 'ledger' && o.filled >= o.qty) continue;
      if (!e) {
        out.push(`open in the engine's ${name}, not on the exchange: ${fmt(o)}`);
        continue;
      }
      const stateOk = o.state === e.state || (tol.cancelRejectState === true && o.state === 'ACKED' && e.state === 'PARTIALLY_FILLED');
      if (o.side !== e.side || o.price !== e.price || o.qty !== e.qty || o.filled !== e.filled || !stateOk)
        out.push(`order differs: engine's ${name} ${fmt(o)} | exchange ${fmt(e)}`);
    }
  }
  return out;
}

/**
 * Property 2: every position model equals the exchange's position (futures) or base balance change (spot). Spot
 * positions are net of the fees paid in the base asset (8 decimals: parts of a quantity unit), and the simulator's
 * balances are floats: equal within 1e-4 quantity units, far below the smallest fee (1e-8 BTC is 1e-3 units).
 */
export function positionMismatches(exchange: number, engine: Record<string, number>): string[] {
  return Object.entries(engine)
    .filter(([, v]) => !(Math.abs(v - exchange) < 1e-4))
    .map(([name, v]) => `position: engine's ${name} ${v}, exchange ${exchange} (quantity units)`);
}

/**
 * Property 3: every exchange trade booked exactly once, nothing else booked. A trade is its trade id AND its order:
 * when two orders of the account trade with each other (a self-trade), Binance reports both legs under one id.
 */
export function tradeMismatches(trades: TradeView[], booked: BookedFill[], engineFills: number | undefined, tol: Tolerate = {}): string[] {
  const out: string[] = [];
  const key = (tid: string, id: string): string => `${tid} of ${id}`;
  const byKey = new Map<string, BookedFill[]>();
  const noId: BookedFill[] = [];
  for (const b of booked) {
    if (b.tradeId === '') noId.push(b);
    else byKey.set(key(b.tradeId, b.clientOrderId), [...(byKey.get(key(b.tradeId, b.clientOrderId)) ?? []), b]);
  }
  const unmatched: TradeView[] = [];
  for (const t of trades) {
    const k = key(t.tradeId, t.clientOrderId);
    const got = byKey.get(k) ?? [];
    byKey.delete(k);
    if (got.length === 0) unmatched.push(t);
    else if (got.length > 1) out.push(`trade ${k} (${t.side} ${t.qty} @ ${t.price}) booked ${got.length} times: ${JSON.stringify(got)}`);
    else if (got[0]!.qty !== t.qty || got[0]!.price !== t.price)
      out.push(`trade ${k} booked as ${got[0]!.qty} @ ${got[0]!.price}, the exchange says ${t.qty} @ ${t.price}`);
  }
  for (const [k, list] of byKey) out.push(`booked fill ${k} is no exchange trade: ${JSON.stringify(list)}`);
  if (tol.downtimeFillTradeId === true) {
    // the known bug: match the id-less fills by total quantity against the trades left over
    const left = unmatched.reduce((s, t) => s + t.qty, 0);
    const got = noId.reduce((s, b) => s + b.qty, 0);
    if (left !== got)
      out.push(
        `${unmatched.length} exchange trades (${left} units) not booked by trade id; id-less booked fills total ${got} units: ${JSON.stringify({ unmatched, noId })}`,
      );
  } else {
    for (const t of unmatched) out.push(`exchange trade ${key(t.tradeId, t.clientOrderId)} (${t.side} ${t.qty} @ ${t.price}) is not booked under its trade id`);
    for (const b of noId) out.push(`fill booked without a trade id: ${b.qty} @ ${b.price} (${b.why})`);
  }
  if (engineFills !== undefined && engineFills !== trades.length && tol.downtimeFillTradeId !== true)
    out.push(`the engine counts ${engineFills} fills, the exchange has ${trades.length} trades`);
  return out;
}
