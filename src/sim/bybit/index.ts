/**
 * Bybit v5 venue layer of the embedded exchange simulator: one uWS app serving both categories (`spot` from
 * ctx.books 'bybitSpot', `linear` from 'bybitLinear') on one port:
 *
 *   REST          {restBaseUrl}/v5/market/time|instruments-info|orderbook, /v5/order/create|cancel|cancel-all|realtime,
 *                 /v5/position/list, /v5/account/wallet-balance, /v5/execution/list
 *   public WS     {wsStreamBaseUrl}/v5/public/spot, /v5/public/linear  (orderbook.{1,50,200,1000}.SYM, publicTrade.SYM)
 *   private WS    {wsPrivateUrl} = .../v5/private  (order, execution, execution.fast, position, wallet, dcp.*)
 *   trade WS      {wsApiUrl} = .../v5/trade        (order.create, order.cancel)
 *
 * A client written for the real Bybit works by swapping hosts only. Shapes follow ../shared/exchange/bybit.md and
 * the fixtures in ../shared/exchange/fixtures/bybit/.
 */
export type { BybitRateLimits, BybitVenueHandle, BybitVenueOptions, DcpProduct } from './options.js';
export { DEFAULT_RATE_LIMITS } from './options.js';

import type {
  SimBook,
  SimBookListener,
  SimContext,
  SimFault,
  SimFill,
  SimLevelChange,
  SimMarketId,
  SimOrder,
  SimPublicTrade,
  SimVenueEndpoints,
  SimVenueFactory,
} from '../core/types.js';

import { uws, type HttpRequest, type HttpResponse, type TemplatedApp, type WebSocketBehavior } from '../../util/uws.js';
import {
  afterDelay,
  baseUrl,
  BodyTooLargeError,
  closeListen,
  guardAbort,
  listen,
  parseQuery,
  readBody,
  requestInfo,
  send,
  type Listening,
  type RequestInfo,
} from '../core/http.js';
import {
  CATEGORIES,
  parseDec as parseDecimal,
  envelope,
  InstrumentFmt,
  isCategory,
  makeConnIdPrefix,
  marketOf,
  q,
  traceId,
  type Category,
} from './common.js';
import { accountInfoJson, apiKeyInfoJson, coinInfoJson, klineIntervalMs, MarketHistory } from './market.js';
import { BASE_INTERVAL_MS, DEPTHS, DepthFeed, levelsJson, SEQ_BASE, TickerFeed, TradeFeed, type Depth } from './feeds.js';
import { checkRestAuth, checkTradeHeader, wsAuth } from './auth.js';
import { parseMaxActiveTime, sendWs, type ConnData, type UpgradeContext, type Ws, type WsKind } from './conn.js';
import { E, errorBody, fail, insufficientBalance, orderNotFound, type BybitError, type EpResult } from './errors.js';
import { batchWeight, Limits, ORDER_EPS, type Endpoint } from './limits.js';
import type { BybitVenueHandle, BybitVenueOptions, DcpProduct } from './options.js';
import {
  executionItemJson,
  fastExecutionItemJson,
  FEE_RATE,
  GENERATED_LINK_PREFIX,
  isOpen,
  linkIdOut,
  orderItemJson,
  parseCreate,
  type ExecInfo,
  type OrderExtra,
} from './orders.js';

/** the private topic that arms DCP for a product, and the sim category it cancels (none for options) */
const DCP_TOPIC: Record<DcpProduct, string> = { DERIVATIVES: 'dcp.future', SPOT: 'dcp.spot', OPTIONS: 'dcp.option' };
const DCP_CATEGORY: Record<DcpProduct, Category | undefined> = { DERIVATIVES: 'linear', SPOT: 'spot', OPTIONS: undefined };
const DCP_PRODUCTS: readonly DcpProduct[] = ['SPOT', 'DERIVATIVES', 'OPTIONS'];

// ------------------------------------------------------------------------------------------------ state

interface AcctState {
  /** orderLinkIds ever used (110072 even after the order closed), per category */
  usedLinkIds: Record<Category, Set<string>>;
  /** recent orders by orderId (latest state), for openOnly=1 and order pushes */
  recent: Map<string, { category: Category; symbol: string; order: SimOrder }>;
  extras: Map<string, OrderExtra>;
  /** recent executions, newest last; `n` increases by one per execution of the account (the list cursor) */
  execs: Array<{ n: number; category: Category; symbol: string; orderId: string; link: string; time: number; json: string }>;
  execN: number;
  conns: Set<Ws>;
  privMsgSeq: number;
  /** linear leverage per symbol (POST /v5/position/set-leverage; default 10) */
  leverage: Map<string, string>;
  /** POST /v5/account/set-margin-mode (GET /v5/account/info shows it) */
  marginMode: string;
  marginModeUpdatedMs: number;
  /** DCP per product: window (s), countdown after the last dcp-subscribed private connection went away, fired count */
  dcp: Record<DcpProduct, { windowSec: number; timer: NodeJS.Timeout | undefined; started: number; fired: number }>;
}

const MAX_RECENT = 2000;
const MAX_EXECS = 5000;

interface SymState {
  category: Category;
  market: SimMarketId;
  symbol: string;
  book: SimBook;
  fmt: InstrumentFmt;
  depthFeeds: Map<Depth, DepthFeed>;
  trades: TradeFeed;
  tickers: TickerFeed;
  /** recent public trades and one-minute candles (REST recent-trade, kline) */
  hist: MarketHistory;
  cts: number;
  listener: SimBookListener;
}

/** linear order ids: UUID-shaped, the last group is the core's order id (unique per market) */
const LINEAR_ID_PREFIX = '5f1c0a7e-0000-4000-8000-';

// ------------------------------------------------------------------------------------------------ factory

export const startBybit: SimVenueFactory = (ctx, opts) => createBybitVenue(ctx, opts);

export async function createBybitVenue(ctx: SimContext, opts: BybitVenueOptions): Promise<BybitVenueHandle> {
  const v = new BybitVenue(ctx, opts);
  return v.start();
}

class BybitVenue {
  private readonly app: TemplatedApp;
  private readonly ownApp: boolean;
  private listening: Listening | undefined;
  private readonly syms = new Map<string, SymState>(); // `${category}|${symbol}`
  private readonly accts = new Map<string, AcctState>();
  private readonly conns: Record<WsKind, Set<Ws>> = { public: new Set(), private: new Set(), trade: new Set() };
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly intervals: Record<Depth, number>;
  private readonly limits: Limits;
  private readonly connPrefix = makeConnIdPrefix();
  private connCounter = 0;
  private linkCounter = 0;
  private execCounter = 0;
  private tradeRestarting = false;
  private closed = false;
  private readonly startedMs = Date.now();
  private readonly firstU: number;
  private readonly idleTimeoutSec: number;
  private readonly perBatch: boolean;

  constructor(
    private readonly ctx: SimContext,
    private readonly opts: BybitVenueOptions,
  ) {
    this.ownApp = !opts.app;
    this.app = opts.app ?? uws().App();
    const scale = ctx.depthIntervalMs > 0 ? ctx.depthIntervalMs / 100 : 0;
    const iv = {} as Record<Depth, number>;
    for (const d of DEPTHS) iv[d] = opts.intervalsMs?.[d] ?? (scale > 0 ? Math.max(1, Math.round(BASE_INTERVAL_MS[d] * scale)) : 1);
    this.intervals = iv;
    this.limits = new Limits(opts.rateLimits);
    this.firstU = opts.firstUpdateId ?? 1_000_000;
    this.idleTimeoutSec = opts.idleTimeoutSec ?? 600;
    this.perBatch = ctx.depthIntervalMs === 0 && opts.intervalsMs === undefined;
  }

  async start(): Promise<BybitVenueHandle> {
    this.wireBooks();
    this.routes();
    // ctx.depthIntervalMs === 0: one frame per book batch, no timers (a deterministic byte stream for a seed)
    if (!this.perBatch) this.startTimers();
    this.timers.push(setInterval(() => this.sweepIdle(), 250));
    this.ctx.onFault((f) => this.onFault(f));
    return this.listenAndDescribe();
  }

  private startTimers(): void {
    for (const d of DEPTHS) {
      const ms = this.intervals[d];
      this.timers.push(setInterval(() => this.flushDepth(d), ms));
    }
    // tickers: linear 100 ms, spot 50 ms (scaled like the books)
    const scale = this.ctx.depthIntervalMs > 0 ? this.ctx.depthIntervalMs / 100 : 0.01;
    for (const cat of CATEGORIES) {
      const ms = Math.max(1, Math.round((cat === 'linear' ? 100 : 50) * scale));
      this.timers.push(setInterval(() => this.flushTickers(cat), ms));
    }
  }

  private async listenAndDescribe(): Promise<BybitVenueHandle> {
    let port = this.opts.port ?? 0;
    if (this.ownApp) {
      this.listening = await listen(this.app, this.opts.host, port);
      port = this.listening.port;
    }
    const http = baseUrl('http', this.opts.host, port);
    const ws = baseUrl('ws', this.opts.host, port);
    const endpoints: SimVenueEndpoints = {
      restBaseUrl: http,
      wsStreamBaseUrl: ws,
      wsPrivateUrl: `${ws}/v5/private`,
      wsApiUrl: `${ws}/v5/trade`,
      apiKey: this.ctx.credentials.apiKey,
      apiSecret: this.ctx.credentials.apiSecret,
    };
    return {
      endpoints,
      close: () => this.close(),
      pushSnapshot: (c, s, d) => this.pushSnapshot(c, s, d),
      restartOrderbook: (c, s) => this.restartOrderbook(c, s),
      setTradeServiceRestarting: (on) => {
        this.tradeRestarting = on;
      },
      topicUpdateId: (c, s, d) => this.syms.get(`${c}|${s}`)?.depthFeeds.get(d)?.u,
      connectionCount: (k) => this.conns[k].size,
      dcpState: (apiKey, product) => {
        const dc = this.acct(apiKey).dcp[product];
        return { windowSec: dc.windowSec, armed: this.dcpArmed(this.acct(apiKey), product), pending: dc.timer !== undefined, started: dc.started, fired: dc.fired };
      },
    };
  }

  private async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    for (const a of this.accts.values()) {
      for (const p of DCP_PRODUCTS) {
        const dc = a.dcp[p];
        if (dc.timer) clearTimeout(dc.timer);
        dc.timer = undefined;
      }
    }
    for (const s of this.syms.values()) s.book.removeListener(s.listener);
    for (const k of ['public', 'private', 'trade'] as const) {
      for (const ws of [...this.conns[k]]) {
        try {
          ws.close();
        } catch {
          /* already gone */
        }
      }
    }
    closeListen(this.listening);
  }

  // ---------------------------------------------------------------------------------------------- books

  private wireBooks(): void {
    for (const category of CATEGORIES) {
      const market = marketOf(category);
      const books = this.ctx.books.get(market);
      if (!books) continue;
      for (const [symbol, book] of books) {
        const fmt = new InstrumentFmt(book.instrument, category);
        const st: SymState = {
          category,
          market,
          symbol,
          book,
          fmt,
          depthFeeds: new Map(),
          trades: new TradeFeed(category, symbol, fmt),
          tickers: new TickerFeed(category, symbol, fmt, book),
          hist: new MarketHistory(category, fmt),
          cts: this.ctx.nowMs(market),
          listener: undefined as unknown as SimBookListener,
        };
        for (const d of DEPTHS) {
          const f = new DepthFeed(category, symbol, d, book, fmt);
          f.u = this.firstU;
          st.depthFeeds.set(d, f);
        }
        st.listener = {
          onLevels: (_s: string, _c: readonly SimLevelChange[], _u: number, timeMs: number) => {
            st.cts = timeMs;
            if (this.perBatch) {
              for (const f of st.depthFeeds.values()) this.flushFeed(st, f);
              if (st.tickers.subscribers > 0) this.flushTicker(st);
            }
          },
          onTrade: (_s: string, t: SimPublicTrade) => this.onTrade(st, t),
          onOrder: (_s: string, o: SimOrder, f: SimFill | undefined) => this.onOrder(st, o, f),
        };
        book.addListener(st.listener);
        this.syms.set(`${category}|${symbol}`, st);
      }
    }
  }

  /**
   * Venue order id for a core order id. The core's ids are unique across the books of a market (one allocator per
   * market), so no symbol index is needed: spot shows the core id itself (19 digits from 1850000000000000000, as
   * Bybit's), linear a UUID-shaped string whose last group is the core id.
   */
  private extId(st: SymState, coreId: string): string {
    if (st.category === 'linear') return `${LINEAR_ID_PREFIX}${coreId.padStart(12, '0')}`;
    return coreId;
  }

  /** core order id of a venue order id (the order may still belong to another symbol: the book lookup decides) */
  private coreId(st: SymState, ext: string): string | undefined {
    if (st.category === 'linear') {
      if (!ext.startsWith(LINEAR_ID_PREFIX)) return undefined;
      const tail = ext.slice(LINEAR_ID_PREFIX.length);
      return /^\d{1,30}$/.test(tail) ? BigInt(tail).toString() : undefined;
    }
    return /^\d{1,30}$/.test(ext) ? BigInt(ext).toString() : undefined;
  }

  /** the order as the venue shows it (its venue id) */
  private ext(st: SymState, o: SimOrder): SimOrder {
    return { ...o, orderId: this.extId(st, o.orderId) };
  }

  private sym(category: Category, symbol: string): SymState | undefined {
    return this.syms.get(`${category}|${symbol}`);
  }

  private stalled(market: SimMarketId): boolean {
    return this.ctx.peekFault(market, 'stallStream') !== undefined;
  }

  /** Take one unit of a counted fault (the core's registry spends one of its `count` per call). */
  private takeCounted(market: SimMarketId, kind: 'dropDiff' | 'duplicateDiff' | 'malformedFrame', symbol?: string): boolean {
    return this.ctx.takeFault(market, kind, symbol) !== undefined;
  }

  private flushDepth(d: Depth): void {
    for (const st of this.syms.values()) this.flushFeed(st, st.depthFeeds.get(d)!);
  }

  private flushFeed(st: SymState, feed: DepthFeed): void {
    if (!feed.active) return;
    if (this.stalled(st.market)) return;
    const ts = this.ctx.nowMs(st.market);
    const frame = feed.next(ts, st.cts);
    if (frame === undefined) return;
    if (feed.subscribers === 0) return; // pinned (REST) feed: state advanced, nobody to tell
    if (feed.depth === 1) this.publishMarket(st, feed.key, frame);
    else this.publishDelta(st, feed, frame);
  }

  private publishDelta(st: SymState, feed: DepthFeed, frame: string): void {
    const m = st.market;
    if (feed.held !== undefined) {
      const held = feed.held;
      feed.held = undefined;
      this.publishMarket(st, feed.key, frame);
      this.publishMarket(st, feed.key, held);
      return;
    }
    if (this.takeCounted(m, 'dropDiff', st.symbol)) return;
    if (this.ctx.takeFault(m, 'reorderDiff', st.symbol)) {
      feed.held = frame;
      return;
    }
    this.publishMarket(st, feed.key, frame);
    if (this.takeCounted(m, 'duplicateDiff', st.symbol)) this.publishMarket(st, feed.key, frame);
  }

  /** every market-stream frame goes through here (malformed / oversized faults) */
  private publishMarket(st: SymState, key: string, frame: string): void {
    let out = frame;
    if (this.takeCounted(st.market, 'malformedFrame')) {
      out = frame.slice(0, Math.max(1, frame.length >> 1));
    } else {
      const big = this.ctx.takeFault(st.market, 'oversizedFrame');
      if (big) {
        const bytes = big.bytes ?? 2 * 1024 * 1024;
        const pad = Math.max(0, bytes - frame.length - 9);
        out = frame.slice(0, -1) + ',"pad":"' + 'x'.repeat(pad) + '"}';
      }
    }
    this.app.publish(key, out, false, false);
  }

  private nextFundingTime(now: number): number {
    const h8 = 8 * 3600_000;
    return now - (now % h8) + h8;
  }

  private flushTickers(cat: Category): void {
    for (const st of this.syms.values()) if (st.category === cat && st.tickers.subscribers > 0) this.flushTicker(st);
  }

  private flushTicker(st: SymState): void {
    if (this.stalled(st.market)) return;
    const ts = this.ctx.nowMs(st.market);
    const frame = st.tickers.next(ts, SEQ_BASE[st.category] + st.book.updateId, this.nextFundingTime(ts));
    if (frame !== undefined) this.publishMarket(st, st.tickers.key, frame);
  }

  private onTrade(st: SymState, t: SimPublicTrade): void {
    st.tickers.onTrade(t);
    st.hist.onTrade(t);
    const tf = st.trades;
    const frame = tf.frame(t, this.ctx.nowMs(st.market), SEQ_BASE[st.category] + st.book.updateId + 1);
    if (tf.subscribers === 0 || this.stalled(st.market)) return;
    this.publishMarket(st, tf.key, frame);
  }

  private activate(st: SymState, feed: DepthFeed): void {
    if (feed.active) return;
    feed.active = true;
    feed.held = undefined;
    feed.u++;
    feed.resync(st.cts);
    feed.lastSendMs = this.ctx.nowMs(st.market);
  }

  private pushSnapshot(category: Category, symbol: string, depth?: Depth): void {
    const st = this.sym(category, symbol);
    if (!st) return;
    for (const d of depth ? [depth] : DEPTHS) {
      const feed = st.depthFeeds.get(d)!;
      if (!feed.active) continue;
      feed.u++;
      feed.resync(st.cts);
      feed.held = undefined;
      const ts = this.ctx.nowMs(st.market);
      feed.lastSendMs = ts;
      if (feed.subscribers > 0) this.app.publish(feed.key, feed.snapshotFrame(ts), false, false);
    }
  }

  private restartOrderbook(category: Category, symbol: string): void {
    const st = this.sym(category, symbol);
    if (!st) return;
    for (const d of DEPTHS) {
      const feed = st.depthFeeds.get(d)!;
      feed.u = 0; // pushSnapshot makes it 1
    }
    this.pushSnapshot(category, symbol);
  }

  // ---------------------------------------------------------------------------------------------- faults

  private onFault(f: SimFault): void {
    if (f.kind === 'snapshotReset' || f.kind === 'orderbookRestart') {
      const cat: Category = f.market === 'bybitSpot' ? 'spot' : 'linear';
      const sym = f.symbol.toUpperCase();
      if (f.kind === 'snapshotReset') this.pushSnapshot(cat, sym, f.depth);
      else this.restartOrderbook(cat, sym);
      return;
    }
    if (f.kind !== 'closeConnections') return;
    if (f.market !== 'bybitSpot' && f.market !== 'bybitLinear') return;
    const which = f.which ?? 'all';
    const cat: Category = f.market === 'bybitSpot' ? 'spot' : 'linear';
    const kinds: WsKind[] = which === 'all' ? ['public', 'private', 'trade'] : which === 'market' ? ['public'] : which === 'private' ? ['private'] : ['trade'];
    for (const k of kinds) {
      for (const ws of [...this.conns[k]]) {
        const d = ws.getUserData();
        if (k === 'public' && d.category !== cat) continue;
        try {
          ws.close();
        } catch {
          /* gone */
        }
      }
    }
  }

  /** the handle's switch, or an active `tradeServiceRestart` fault on either Bybit market (one trade WS for both) */
  private tradeServiceRestarting(): boolean {
    return this.tradeRestarting || this.ctx.peekFault('bybitLinear', 'tradeServiceRestart') !== undefined || this.ctx.peekFault('bybitSpot', 'tradeServiceRestart') !== undefined;
  }

  // ---------------------------------------------------------------------------------------------- accounts

  private acct(apiKey: string): AcctState {
    let a = this.accts.get(apiKey);
    if (!a) {
      a = {
        usedLinkIds: { spot: new Set(), linear: new Set() },
        recent: new Map(),
        extras: new Map(),
        execs: [],
        execN: 0,
        conns: new Set(),
        privMsgSeq: 0,
        leverage: new Map(),
        marginMode: 'REGULAR_MARGIN',
        marginModeUpdatedMs: this.startedMs,
        dcp: {
          DERIVATIVES: { windowSec: this.opts.dcpDefaultWindowSec ?? 10, timer: undefined, started: 0, fired: 0 },
          SPOT: { windowSec: this.opts.dcpDefaultWindowSec ?? 10, timer: undefined, started: 0, fired: 0 },
          OPTIONS: { windowSec: this.opts.dcpDefaultWindowSec ?? 10, timer: undefined, started: 0, fired: 0 },
        },
      };
      this.accts.set(apiKey, a);
    }
    return a;
  }

  private extraFor(a: AcctState, o: SimOrder, st: SymState): OrderExtra {
    let x = a.extras.get(o.orderId);
    if (!x) {
      const last = st.book.bestBid();
      x = {
        cancelType: 'UNKNOWN',
        rejectReason: 'EC_NoError',
        cumFee: 0,
        feeCoin: st.category === 'spot' ? (o.side === 'BUY' ? st.fmt.inst.base : st.fmt.inst.quote) : st.fmt.inst.quote,
        lastPriceOnCreated: last ? st.fmt.price(last.priceTicks) : '',
      };
      a.extras.set(o.orderId, x);
    }
    return x;
  }

  private remember(a: AcctState, st: SymState, o: SimOrder): void {
    a.recent.delete(o.orderId);
    a.recent.set(o.orderId, { category: st.category, symbol: st.symbol, order: { ...o } });
    if (a.recent.size > MAX_RECENT) {
      for (const [id, r] of a.recent) {
        if (!isOpen(r.order.status)) {
          a.recent.delete(id);
          a.extras.delete(id);
          break;
        }
        if (a.recent.size <= MAX_RECENT) break;
      }
    }
  }

  /** the core tells us about an order change of a user account */
  private onOrder(st: SymState, coreOrder: SimOrder, f: SimFill | undefined): void {
    const o = this.ext(st, coreOrder);
    const a = this.acct(o.accountId);
    const x = this.extraFor(a, o, st);
    if (o.status === 'CANCELED' && this.cancelling !== undefined) x.cancelType = this.cancelling;
    this.remember(a, st, o);
    const now = this.ctx.nowMs(st.market);
    let execJson: string | undefined;
    let fastJson: string | undefined;
    if (f) {
      const rate = f.maker ? FEE_RATE[st.category].maker : FEE_RATE[st.category].taker;
      const value = st.fmt.priceFloat(f.priceTicks) * st.fmt.qtyFloat(f.qtyLots);
      const fee = st.category === 'spot' && f.side === 'BUY' ? st.fmt.qtyFloat(f.qtyLots) * rate : value * rate;
      x.cumFee += fee;
      const pos = o.accountId ? this.ctx.account(o.accountId)?.positions.get(`${st.market}:${st.symbol}`) : undefined;
      const info: ExecInfo = {
        execId: `${(++this.execCounter).toString(16).padStart(8, '0')}-0000-4000-8000-${f.tradeId.toString(16).padStart(12, '0')}`,
        fee,
        feeRate: rate,
        feeCoin: x.feeCoin,
        seq: SEQ_BASE[st.category] + st.book.updateId + 1,
        markPrice: this.markPrice(st),
        closedLots: 0,
        execPnl: 0,
      };
      if (pos && st.category === 'linear') {
        // approximate closed size: the part of this fill that reduced the position (after-the-fact view)
        const after = pos.sizeLots;
        const signed = f.side === 'BUY' ? f.qtyLots : -f.qtyLots;
        const before = after - signed;
        if (before !== 0 && Math.sign(before) !== Math.sign(signed)) info.closedLots = Math.min(Math.abs(before), f.qtyLots);
      }
      execJson = executionItemJson(o, f, st.category, st.fmt, info, true);
      fastJson = fastExecutionItemJson(o, f, st.category, st.fmt, info);
      a.execs.push({
        n: ++a.execN,
        category: st.category,
        symbol: st.symbol,
        orderId: o.orderId,
        link: linkIdOut(o.clientOrderId),
        time: f.timeMs,
        json: executionItemJson(o, f, st.category, st.fmt, info, false),
      });
      if (a.execs.length > MAX_EXECS) a.execs.splice(0, a.execs.length - MAX_EXECS);
    }
    if (a.conns.size === 0) return;
    const orderJson = orderItemJson(o, st.category, st.fmt, x);
    this.pushPrivate(a, st.category, 'order', orderJson, now);
    if (execJson) this.pushPrivate(a, st.category, 'execution', execJson, now);
    if (fastJson) this.pushPrivate(a, st.category, 'execution.fast', fastJson, now);
    if (st.category === 'linear') this.pushPrivate(a, st.category, 'position', this.positionJson(o.accountId, st, true), now);
    // the wallet moves on a fill, and on any spot order event (the order's lock: placement, amend, cancel); pushed
    // once per account after the core's batch (the lock is re-sized after the order event)
    if (f || st.category === 'spot') this.queueWallet(a, o.accountId, st.category);
  }

  private readonly walletQueue = new Map<AcctState, { accountId: string; category: Category }>();

  private queueWallet(a: AcctState, accountId: string, category: Category): void {
    if (this.walletQueue.size === 0) {
      queueMicrotask(() => {
        for (const [acct, q] of this.walletQueue) this.pushPrivate(acct, q.category, 'wallet', this.walletJson(q.accountId, true), this.ctx.nowMs(marketOf(q.category)));
        this.walletQueue.clear();
      });
    }
    this.walletQueue.set(a, { accountId, category });
  }

  /** set while this venue cancels (the order pushes' `cancelType`: CancelByUser, CancelByDCP) */
  private cancelling: string | undefined = undefined;
  /**
   * amend: shared by REST and the trade WS (qty is the new total quantity, as Bybit's). Done by the core's
   * `SimBook.amend`: the order keeps its id, fills and createdTime; a smaller qty at the same price keeps the queue
   * priority, a new price or a larger qty loses it (a crossing price trades at once).
   */
  amendOrder(apiKey: string, p: Record<string, unknown>): { orderId: string; orderLinkId: string } | BybitError {
    const t = this.target(p);
    if ('code' in t) return t;
    const { st } = t;
    const notFound: BybitError =
      orderNotFound(st.category, 'replace');
    const orderId = typeof p['orderId'] === 'string' ? p['orderId'] : '';
    const link = typeof p['orderLinkId'] === 'string' ? p['orderLinkId'] : '';
    if (orderId === '' && link === '') return E.idRequired;
    const core = orderId !== '' ? this.coreId(st, orderId) : undefined;
    if (orderId !== '' && core === undefined) return notFound;
    const cur = st.book.getOrder(apiKey, core !== undefined ? { orderId: core } : { clientOrderId: link });
    if (!cur || !isOpen(cur.status) || cur.type !== 'LIMIT') return notFound;
    const fmt = st.fmt;
    const spot = st.category === 'spot';
    let price = cur.priceTicks;
    const pIn = p['price'];
    if (pIn !== undefined && pIn !== '') {
      const v = typeof pIn === 'string' && /^\d+(\.\d+)?$/.test(pIn) ? parseDecimal(pIn, fmt.priceDecimals) : NaN;
      if (!(v > 0) || v % fmt.tickUnits !== 0) return spot ? { code: 170134, msg: 'Order price has too many decimals.' } : { code: 10001, msg: 'params error: price invalid' };
      price = v;
    }
    let total = cur.qtyLots;
    const qIn = p['qty'];
    if (qIn !== undefined && qIn !== '') {
      const v = typeof qIn === 'string' && /^\d+(\.\d+)?$/.test(qIn) ? parseDecimal(qIn, fmt.qtyDecimals) : NaN;
      if (!(v > 0) || v % fmt.stepUnits !== 0) return spot ? { code: 170137, msg: 'Order quantity has too many decimals.' } : { code: 10001, msg: 'params error: qty invalid' };
      if (v > fmt.maxQtyLots) return spot ? { code: 170135, msg: 'Order quantity too large.' } : { code: 10001, msg: 'The number of contracts exceeds maximum limit allowed' };
      total = v;
    }
    if (price === cur.priceTicks && total === cur.qtyLots) {
      return { code: 10001, msg: 'The order remains unchanged as the parameters entered match the existing ones.' };
    }
    if (total <= cur.filledLots) return { code: 110063, msg: 'The number of contracts modified cannot be less than or equal to the filled quantity' };
    const ext = this.extId(st, cur.orderId);
    const r = st.book.amend(apiKey, { orderId: cur.orderId }, { priceTicks: price, qtyLots: total });
    if (!r.ok) {
      switch (r.reason) {
        case 'POST_ONLY_WOULD_TAKE': {
          // the amended order cannot stand: Bybit cancels it, the push says why
          const a = this.acct(apiKey);
          this.extraFor(a, this.ext(st, cur), st).rejectReason = 'EC_PostOnlyWillTakeLiquidity';
          st.book.cancel(apiKey, { orderId: cur.orderId });
          break;
        }
        case 'INSUFFICIENT_BALANCE':
          return insufficientBalance(st.category);
        case 'BAD_PRICE':
          return spot ? { code: 170134, msg: 'Order price has too many decimals.' } : { code: 10001, msg: 'params error: price invalid' };
        case 'BAD_QTY':
          return spot ? { code: 170137, msg: 'Order quantity has too many decimals.' } : { code: 10001, msg: 'params error: qty invalid' };
        default:
          return notFound;
      }
    }
    return { orderId: ext, orderLinkId: linkIdOut(cur.clientOrderId) };
  }

  private pushPrivate(a: AcctState, category: Category, base: 'order' | 'execution' | 'execution.fast' | 'position' | 'wallet', item: string, now: number): void {
    const catTopic = base === 'wallet' ? base : `${base}.${category}`;
    for (const ws of a.conns) {
      const d = ws.getUserData();
      let topic: string | undefined;
      if (d.topics.has(base)) topic = base;
      else if (d.topics.has(catTopic)) topic = catTopic;
      if (!topic) continue;
      const frame =
        base === 'execution.fast'
          ? `{"topic":"${topic}","creationTime":${now},"data":[${item}]}`
          : `{"id":"${this.connPrefix.slice(0, 8)}${(++a.privMsgSeq).toString(16)}-${d.connId.slice(-5)}","topic":"${topic}","creationTime":${now},"data":[${item}]}`;
      ws.send(frame, false, false);
    }
  }

  private markPrice(st: SymState): string {
    const b = st.book.bestBid();
    const k = st.book.bestAsk();
    if (b && k) return st.fmt.price(Math.round((b.priceTicks + k.priceTicks) / 2));
    if (b) return st.fmt.price(b.priceTicks);
    if (k) return st.fmt.price(k.priceTicks);
    return st.fmt.price(0);
  }

  private markFloat(st: SymState): number {
    const b = st.book.bestBid();
    const k = st.book.bestAsk();
    const t = b && k ? (b.priceTicks + k.priceTicks) / 2 : (b ?? k)?.priceTicks ?? 0;
    return st.fmt.priceFloat(t);
  }

  /** position item; `push` = keys of the private `position` push (live fixture), else REST /v5/position/list */
  private positionJson(accountId: string, st: SymState, push: boolean): string {
    const acc = this.ctx.account(accountId);
    const p = acc?.positions.get(`${st.market}:${st.symbol}`);
    const fmt = st.fmt;
    const size = p ? Math.abs(p.sizeLots) : 0;
    const side = !p || p.sizeLots === 0 ? '' : p.sizeLots > 0 ? 'Buy' : 'Sell';
    const entryUnits = p && size > 0 ? p.entryPriceTicks : 0;
    const entry = size > 0 ? (Number.isInteger(entryUnits) ? fmt.price(entryUnits) : InstrumentFmt.amount(entryUnits / fmt.priceMul, fmt.priceDecimals + 4)) : '0';
    const mark = this.markFloat(st);
    const value = fmt.priceFloat(entryUnits) * fmt.qtyFloat(size);
    const upl = size > 0 ? (mark - fmt.priceFloat(entryUnits)) * fmt.qtyFloat(size) * (p!.sizeLots > 0 ? 1 : -1) : 0;
    const lev = this.accts.get(accountId)?.leverage.get(st.symbol) ?? '10';
    const im = InstrumentFmt.amount(value / Number(lev));
    const mm = InstrumentFmt.amount(value * 0.005);
    const now = this.ctx.nowMs(st.market);
    const seq = SEQ_BASE[st.category] + st.book.updateId;
    const cum = InstrumentFmt.amount(p?.realizedPnlQuote ?? 0);
    if (push) {
      return (
        `{"positionIdx":0,"tradeMode":0,"riskId":1,"riskLimitValue":"2000000","symbol":"${st.symbol}","side":"${side}",` +
        `"size":"${fmt.qty(size)}","entryPrice":"${entry}","sessionAvgPrice":"","leverage":"${lev}",` +
        `"positionValue":"${InstrumentFmt.amount(value)}","positionBalance":"0","markPrice":"${this.markPrice(st)}",` +
        `"positionIM":"${im}","positionMM":"${mm}","positionIMByMp":"${im}","positionMMByMp":"${mm}","takeProfit":"0",` +
        `"stopLoss":"0","trailingStop":"0","unrealisedPnl":"${InstrumentFmt.amount(upl)}","cumRealisedPnl":"${cum}",` +
        `"curRealisedPnl":"${cum}","createdTime":"${now}","updatedTime":"${now}","tpslMode":"Full","liqPrice":"",` +
        `"bustPrice":"","category":"linear","positionStatus":"Normal","adlRankIndicator":${size > 0 ? 2 : 0},"autoAddMargin":0,` +
        `"leverageSysUpdatedTime":"","mmrSysUpdatedTime":"","seq":${seq},"isReduceOnly":false}`
      );
    }
    return (
      `{"positionIdx":0,"riskId":1,"riskLimitValue":"2000000","symbol":"${st.symbol}","side":"${side}","size":"${fmt.qty(size)}",` +
      `"avgPrice":"${entry}","positionValue":"${InstrumentFmt.amount(value)}","tradeMode":0,"positionStatus":"Normal",` +
      `"autoAddMargin":0,"adlRankIndicator":${size > 0 ? 2 : 0},"leverage":"${lev}","positionBalance":"0",` +
      `"markPrice":"${this.markPrice(st)}","liqPrice":"","bustPrice":"","positionMM":"${mm}","positionIM":"${im}",` +
      `"tpslMode":"Full","takeProfit":"0","stopLoss":"0","trailingStop":"0","sessionAvgPrice":"",` +
      `"unrealisedPnl":"${InstrumentFmt.amount(upl)}","curRealisedPnl":"${cum}","cumRealisedPnl":"${cum}","seq":${seq},` +
      `"isReduceOnly":false,"mmrSysUpdatedTime":"","leverageSysUpdatedTime":"","createdTime":"${now}","updatedTime":"${now}"}`
    );
  }

  private usdPrice(coin: string): number {
    if (coin === 'USDT' || coin === 'USDC') return 1;
    const st = this.sym('spot', `${coin}USDT`) ?? this.sym('linear', `${coin}USDT`);
    return st ? this.markFloat(st) : 0;
  }

  /** one wallet item (UNIFIED); `push` adds the WS-only keys */
  private walletJson(accountId: string, push: boolean, coinFilter?: Set<string>): string {
    const acc = this.ctx.account(accountId);
    let coins = '';
    let totalWallet = 0;
    let totalUpl = 0;
    const uplByCoin = new Map<string, number>();
    for (const st of this.syms.values()) {
      if (st.category !== 'linear') continue;
      const p = acc?.positions.get(`${st.market}:${st.symbol}`);
      if (!p || p.sizeLots === 0) continue;
      const upl = (this.markFloat(st) - st.fmt.priceFloat(p.entryPriceTicks)) * st.fmt.qtyFloat(p.sizeLots);
      uplByCoin.set(st.fmt.inst.quote, (uplByCoin.get(st.fmt.inst.quote) ?? 0) + upl);
      totalUpl += upl;
    }
    if (acc) {
      for (const [coin, b] of acc.wallets.bybit) {
        if (coinFilter && !coinFilter.has(coin)) continue;
        const bal = b.free + b.locked;
        const px = this.usdPrice(coin);
        const upl = uplByCoin.get(coin) ?? 0;
        totalWallet += bal * px;
        const a = InstrumentFmt.amount;
        if (coins.length > 0) coins += ',';
        coins +=
          `{"coin":${q(coin)},"equity":"${a(bal + upl)}","usdValue":"${a((bal + upl) * px, 4)}","walletBalance":"${a(bal)}",` +
          (push ? `"free":"${a(b.free)}",` : '') +
          `"locked":"${a(b.locked)}","spotHedgingQty":"0","borrowAmount":"0","accruedInterest":"0","totalOrderIM":"0",` +
          `"totalPositionIM":"0","totalPositionMM":"0","unrealisedPnl":"${a(upl)}","cumRealisedPnl":"0","bonus":"0",` +
          `"collateralSwitch":true,"marginCollateral":true,"spotBorrow":"0","availableToBorrow":"","availableToWithdraw":"${a(b.free)}"}`;
      }
    }
    const a = InstrumentFmt.amount;
    const eq = totalWallet + totalUpl;
    return (
      `{"accountType":"UNIFIED","accountIMRate":"0","accountMMRate":"0","accountLTV":"0","totalEquity":"${a(eq, 4)}",` +
      `"totalWalletBalance":"${a(totalWallet, 4)}","totalMarginBalance":"${a(eq, 4)}","totalAvailableBalance":"${a(eq, 4)}",` +
      `"totalPerpUPL":"${a(totalUpl, 4)}","totalInitialMargin":"0","totalMaintenanceMargin":"0","coin":[${coins}]}`
    );
  }

  // ---------------------------------------------------------------------------------------------- REST plumbing

  private routes(): void {
    const app = this.app;
    app.get('/v5/market/time', (res, req) => this.http(res, req, 'time'));
    app.get('/v5/market/instruments-info', (res, req) => this.http(res, req, 'instruments'));
    app.get('/v5/market/orderbook', (res, req) => this.http(res, req, 'orderbook'));
    app.post('/v5/order/create', (res, req) => this.http(res, req, 'create'));
    app.post('/v5/order/cancel', (res, req) => this.http(res, req, 'cancel'));
    app.post('/v5/order/cancel-all', (res, req) => this.http(res, req, 'cancelAll'));
    app.post('/v5/order/amend', (res, req) => this.http(res, req, 'amend'));
    app.post('/v5/order/create-batch', (res, req) => this.http(res, req, 'createBatch'));
    app.post('/v5/order/amend-batch', (res, req) => this.http(res, req, 'amendBatch'));
    app.post('/v5/order/cancel-batch', (res, req) => this.http(res, req, 'cancelBatch'));
    app.get('/v5/order/realtime', (res, req) => this.http(res, req, 'realtime'));
    app.get('/v5/order/history', (res, req) => this.http(res, req, 'history'));
    app.get('/v5/position/list', (res, req) => this.http(res, req, 'positions'));
    app.get('/v5/account/wallet-balance', (res, req) => this.http(res, req, 'wallet'));
    app.get('/v5/execution/list', (res, req) => this.http(res, req, 'executions'));
    app.get('/v5/market/tickers', (res, req) => this.http(res, req, 'tickers'));
    app.get('/v5/market/recent-trade', (res, req) => this.http(res, req, 'recentTrade'));
    app.get('/v5/market/kline', (res, req) => this.http(res, req, 'kline'));
    app.get('/v5/system/status', (res, req) => this.http(res, req, 'systemStatus'));
    app.get('/v5/asset/coin/query-info', (res, req) => this.http(res, req, 'coinInfo'));
    app.get('/v5/user/query-api', (res, req) => this.http(res, req, 'queryApi'));
    app.get('/v5/account/info', (res, req) => this.http(res, req, 'accountInfo'));
    app.get('/v5/account/fee-rate', (res, req) => this.http(res, req, 'feeRate'));
    app.post('/v5/position/set-leverage', (res, req) => this.http(res, req, 'setLeverage'));
    app.post('/v5/account/set-margin-mode', (res, req) => this.http(res, req, 'setMarginMode'));
    app.get('/v5/account/query-dcp-info', (res, req) => this.http(res, req, 'dcpInfo'));
    app.post('/v5/order/disconnected-cancel-all', (res, req) => this.http(res, req, 'setDcp'));
    this.wsRoutes();
    if (this.ownApp) {
      app.any('/*', (res) => {
        send(res, 404, errorBody(E.routeNotFound, Date.now()));
      });
    }
  }

  private http(res: HttpResponse, req: HttpRequest, ep: Endpoint): void {
    const info = requestInfo(req);
    guardAbort(res);
    if (info.method === 'POST') {
      readBody(res, 64 * 1024).then(
        (body) => this.handle(res, info, ep, body.toString('utf8')),
        (e: unknown) => {
          if (e instanceof BodyTooLargeError) {
            send(res, 413, envelope(10001, 'Request body too large', '{}', Date.now()));
          }
        },
      );
    } else {
      this.handle(res, info, ep, '');
    }
  }

  private handle(res: HttpResponse, info: RequestInfo, ep: Endpoint, body: string): void {
    try {
      this.handleInner(res, info, ep, body);
    } catch (e) {
      this.ctx.log.error({ err: e, ep }, 'bybit sim: request failed');
      send(res, 200, errorBody(E.internal, Date.now()));
    }
  }

  private handleInner(res: HttpResponse, info: RequestInfo, ep: Endpoint, body: string): void {
    const query = parseQuery(info.rawQuery);
    let params: Record<string, unknown>;
    let badJson = false;
    if (info.method === 'POST') {
      params = {};
      if (body.trim().length > 0) {
        try {
          const v = JSON.parse(body) as unknown;
          if (v && typeof v === 'object' && !Array.isArray(v)) params = v as Record<string, unknown>;
          else badJson = true;
        } catch {
          badJson = true;
        }
      }
    } else {
      params = Object.fromEntries(query.params);
    }
    const category = isCategory(params['category']) ? params['category'] : undefined;
    const market: SimMarketId = category === 'spot' ? 'bybitSpot' : 'bybitLinear';
    const now = this.ctx.nowMs(market);

    // IP limit (HTTP 403, as Bybit's 600 per 5 s) and injected HTTP statuses
    const ip = this.limits.ip.hit('ip', 1, Date.now());
    if (ip.verdict !== 'ok') {
      send(res, 403, 'access too frequent', { 'content-type': 'text/plain' });
      return;
    }
    const hf = this.ctx.takeFault(market, 'httpStatus');
    if (hf) {
      const status = hf.status === 418 ? 403 : hf.status;
      const headers: Record<string, string> = { 'content-type': 'text/plain' };
      if (hf.retryAfterSec !== undefined) headers['Retry-After'] = String(hf.retryAfterSec);
      send(res, status, status === 429 ? 'Too Many Requests' : status === 403 ? 'access too frequent' : 'Service Unavailable', headers);
      return;
    }

    if (ep === 'time') {
      const ns = BigInt(now) * 1_000_000n;
      send(res, 200, envelope(0, 'OK', `{"timeSecond":"${Math.floor(now / 1000)}","timeNano":"${ns}"}`, now));
      return;
    }
    if (ep === 'instruments') {
      send(res, 200, this.instrumentsInfo(params, now));
      return;
    }
    if (ep === 'orderbook') {
      send(res, 200, this.restOrderbook(params, now));
      return;
    }
    if (ep === 'tickers' || ep === 'recentTrade' || ep === 'kline' || ep === 'systemStatus') {
      send(res, 200, this.publicMarket(ep, params, now));
      return;
    }

    // ---- private endpoints: auth as Bybit (key, timestamp window, signature over the exact payload)
    const payload = info.method === 'POST' ? body : query.raw;
    const auth = checkRestAuth(this.ctx, info, payload, now);
    if (typeof auth !== 'string') {
      send(res, auth.status, envelope(auth.code, auth.msg, '{}', now));
      return;
    }
    const apiKey = auth;
    if (badJson) {
      send(res, 200, errorBody(E.requestParam, now));
      return;
    }
    // rate limit per UID per endpoint
    const rl = this.limits.hit(apiKey, ep, category, now, batchWeight(ep, params));
    const headers: Array<[string, string]> = [
      ['X-Bapi-Limit', String(rl.limit)],
      ['X-Bapi-Limit-Status', String(Math.max(0, rl.limit - rl.used))],
      ['X-Bapi-Limit-Reset-Timestamp', String(rl.verdict === 'ok' ? now : rl.resetAtMs)],
      ['Traceid', traceId()],
      ['Timenow', String(now)],
    ];
    if (rl.verdict !== 'ok') {
      send(res, 200, errorBody(E.tooManyVisits, now), headers);
      return;
    }
    const isOrderEp = ORDER_EPS.has(ep);
    const lat = this.ctx.peekFault(market, 'latencyMs')?.ms ?? this.ctx.peekFault('bybitLinear', 'latencyMs')?.ms ?? 0;
    const delay = isOrderEp ? lat : 0;
    afterDelay(res, delay, () => {
      let out: EpResult;
      try {
        out = this.privateEndpoint(ep, apiKey, params);
      } catch (e) {
        this.ctx.log.error({ err: e, ep }, 'bybit sim: request failed');
        out = fail(E.internal);
      }
      send(res, 200, envelope(out.code, out.msg, out.result, this.ctx.nowMs(market), out.ext), headers);
    });
  }

  // ---------------------------------------------------------------------------------------------- public REST

  private instrumentsInfo(params: Record<string, unknown>, now: number): string {
    const category = params['category'];
    if (!isCategory(category)) return errorBody(E.illegalCategory, now);
    const symbol = typeof params['symbol'] === 'string' ? params['symbol'] : undefined;
    // every simulated instrument is `Trading`: any other `status` filter (PreLaunch, Delivering, Closed) lists none
    const status = typeof params['status'] === 'string' && params['status'] !== '' ? params['status'] : undefined;
    const items: string[] = [];
    for (const st of this.syms.values()) {
      if (status !== undefined && status !== 'Trading') break;
      if (st.category !== category) continue;
      if (symbol !== undefined && symbol !== '' && st.symbol !== symbol) continue;
      items.push(category === 'spot' ? spotInstrumentJson(st) : linearInstrumentJson(st));
    }
    const list = `[${items.join(',')}]`;
    const result = category === 'spot' ? `{"category":"spot","list":${list}}` : `{"category":"linear","list":${list},"nextPageCursor":""}`;
    return envelope(0, 'OK', result, now);
  }

  private restOrderbook(params: Record<string, unknown>, now: number): string {
    const category = params['category'];
    if (!isCategory(category)) return errorBody(E.illegalCategory, now);
    const symbol = params['symbol'];
    if (typeof symbol !== 'string' || symbol === '') return errorBody(E.symbolInvalid, now);
    const st = this.sym(category, symbol);
    if (!st) return errorBody(E.symbolInvalid, now);
    const limText = params['limit'];
    let limit = category === 'spot' ? 1 : 25;
    if (limText !== undefined && limText !== '') {
      const n = typeof limText === 'string' && /^\d+$/.test(limText) ? Number(limText) : NaN;
      if (!(n >= 1 && n <= 1000)) return errorBody(E.limitInvalid, now);
      limit = n;
    }
    // served from the 1000-level topic's published window so that `u` lines up with orderbook.1000
    const feed = st.depthFeeds.get(1000)!;
    if (!feed.active) {
      this.activate(st, feed);
      feed.pinned = true;
    }
    const b = levelsJson(feed.bids.slice(0, limit * 2), st.fmt);
    const a = levelsJson(feed.asks.slice(0, limit * 2), st.fmt);
    const result = `{"s":"${st.symbol}","b":${b},"a":${a},"ts":${now},"u":${feed.u},"seq":${feed.seq},"cts":${feed.cts}}`;
    return envelope(0, 'OK', result, now);
  }

  /** GET /v5/market/tickers | recent-trade | kline, /v5/system/status (public) */
  private publicMarket(ep: 'tickers' | 'recentTrade' | 'kline' | 'systemStatus', params: Record<string, unknown>, now: number): string {
    if (ep === 'systemStatus') return envelope(0, 'OK', '{"list":[]}', now);
    const category = params['category'];
    if (!isCategory(category)) return errorBody(E.illegalCategory, now);
    const symbol = typeof params['symbol'] === 'string' && params['symbol'] !== '' ? params['symbol'] : undefined;
    if (ep === 'tickers') {
      if (symbol !== undefined && !this.sym(category, symbol)) return envelope(10001, 'Not supported symbols', '{}', now);
      const baseCoin = typeof params['baseCoin'] === 'string' && params['baseCoin'] !== '' ? params['baseCoin'] : undefined;
      const items: string[] = [];
      for (const st of this.syms.values()) {
        if (st.category !== category || (symbol !== undefined && st.symbol !== symbol)) continue;
        if (baseCoin !== undefined && st.fmt.inst.base !== baseCoin) continue;
        items.push(st.tickers.restItem(this.nextFundingTime(now)));
      }
      return envelope(0, 'OK', `{"category":"${category}","list":[${items.join(',')}]}`, now);
    }
    if (symbol === undefined) return errorBody(E.symbolInvalid, now);
    const st = this.sym(category, symbol);
    if (!st) return envelope(10001, 'Not supported symbols', '{}', now);
    const limText = params['limit'];
    if (ep === 'recentTrade') {
      const max = category === 'spot' ? 60 : 1000;
      let limit = category === 'spot' ? 60 : 500;
      if (limText !== undefined && limText !== '') {
        const n = typeof limText === 'string' && /^\d+$/.test(limText) ? Number(limText) : NaN;
        if (!(n >= 1)) return errorBody(E.limitInvalid, now);
        limit = Math.min(n, max);
      }
      const rows = st.hist.recent(limit).map((t) => st.hist.recentTradeJson(t, st.symbol));
      return envelope(0, 'OK', `{"category":"${category}","list":[${rows.join(',')}]}`, now);
    }
    const iv = klineIntervalMs(typeof params['interval'] === 'string' ? params['interval'] : '');
    if (!iv) return envelope(10001, 'Invalid period!', '{}', now);
    let limit = 200;
    if (limText !== undefined && limText !== '') {
      const n = typeof limText === 'string' && /^\d+$/.test(limText) ? Number(limText) : NaN;
      if (!(n >= 1)) return errorBody(E.limitInvalid, now);
      limit = Math.min(n, 1000);
    }
    const num = (k: string): number | undefined => {
      const v = params[k];
      return typeof v === 'string' && /^\d{1,16}$/.test(v) ? Number(v) : undefined;
    };
    const rows = st.hist.klines(iv.ms, iv.calendar, num('start'), num('end') ?? now, limit);
    return envelope(0, 'OK', `{"category":"${category}","symbol":"${st.symbol}","list":[${rows.join(',')}]}`, now);
  }

  private userId(apiKey: string): number {
    let h = 0;
    for (let i = 0; i < apiKey.length; i++) h = (h * 31 + apiKey.charCodeAt(i)) >>> 0;
    return 100_000_000 + (h % 400_000_000);
  }

  /** GET /v5/asset/coin/query-info: every coin of the listed instruments (`coin` filters one) */
  private coinInfo(p: Record<string, unknown>): EpResult {
    const coins = new Set<string>();
    for (const st of this.syms.values()) {
      coins.add(st.fmt.inst.base);
      coins.add(st.fmt.inst.quote);
    }
    const want = typeof p['coin'] === 'string' && p['coin'] !== '' ? p['coin'].toUpperCase() : undefined;
    const rows = [...coins].filter((c) => want === undefined || c === want).map(coinInfoJson);
    return { code: 0, msg: 'success', result: `{"rows":[${rows.join(',')}]}` };
  }

  /** GET /v5/account/fee-rate (spot, linear): the simulator's flat fee schedule */
  private feeRate(p: Record<string, unknown>): EpResult {
    const category = p['category'];
    if (!isCategory(category)) return fail(E.illegalCategory);
    const symbol = typeof p['symbol'] === 'string' && p['symbol'] !== '' ? p['symbol'] : undefined;
    if (symbol !== undefined && !this.sym(category, symbol)) return fail(E.symbolInvalid);
    const r = FEE_RATE[category];
    const items: string[] = [];
    for (const st of this.syms.values()) {
      if (st.category !== category || (symbol !== undefined && st.symbol !== symbol)) continue;
      items.push(`{"symbol":"${st.symbol}","baseCoin":"","takerFeeRate":"${r.taker}","makerFeeRate":"${r.maker}"}`);
    }
    return { code: 0, msg: 'OK', result: `{"list":[${items.join(',')}]}` };
  }

  /** POST /v5/position/set-leverage (linear, one-way mode: buyLeverage must equal sellLeverage) */
  private setLeverage(apiKey: string, p: Record<string, unknown>): EpResult {
    const category = p['category'];
    if (category !== 'linear') return fail(E.illegalCategory);
    const symbol = typeof p['symbol'] === 'string' ? p['symbol'] : '';
    const st = this.sym('linear', symbol);
    if (!st) return fail(E.symbolInvalid);
    const buy = p['buyLeverage'];
    const sell = p['sellLeverage'];
    const ok = (v: unknown): v is string => typeof v === 'string' && /^\d+(\.\d{1,2})?$/.test(v) && Number(v) >= 1 && Number(v) <= 100;
    if (!ok(buy)) return { code: 10001, msg: 'params error: buyLeverage invalid', result: '{}' };
    if (!ok(sell)) return { code: 10001, msg: 'params error: sellLeverage invalid', result: '{}' };
    if (Number(buy) !== Number(sell)) return { code: 110027, msg: 'buy leverage must be equal to sell leverage in one-way mode', result: '{}' };
    const a = this.acct(apiKey);
    const norm = String(Number(buy));
    if ((a.leverage.get(symbol) ?? '10') === norm) return { code: 110043, msg: 'Set leverage not modified', result: '{}' };
    a.leverage.set(symbol, norm);
    return { code: 0, msg: 'OK', result: '{}' };
  }

  /** POST /v5/account/set-margin-mode (UTA): ISOLATED_MARGIN | REGULAR_MARGIN | PORTFOLIO_MARGIN */
  private setMarginMode(apiKey: string, p: Record<string, unknown>): EpResult {
    const m = p['setMarginMode'];
    if (m !== 'ISOLATED_MARGIN' && m !== 'REGULAR_MARGIN' && m !== 'PORTFOLIO_MARGIN') {
      return { code: 10001, msg: 'params error: setMarginMode invalid', result: '{}' };
    }
    const a = this.acct(apiKey);
    a.marginMode = m;
    a.marginModeUpdatedMs = Date.now();
    return { code: 0, msg: 'Request accepted', result: '{"reasons":[]}' };
  }

  // ---------------------------------------------------------------------------------------------- DCP

  private dcpOn(product: DcpProduct): boolean {
    return this.opts.dcpEnabled?.[product] === true;
  }

  /** GET /v5/account/query-dcp-info: the products DCP is switched on for (empty when none) */
  private dcpInfo(apiKey: string): EpResult {
    const a = this.acct(apiKey);
    const items = DCP_PRODUCTS.filter((p) => this.dcpOn(p)).map((p) => `{"product":"${p}","dcpStatus":"ON","timeWindow":"${a.dcp[p].windowSec}"}`);
    return { code: 0, msg: 'success', result: `{"dcpInfos":[${items.join(',')}]}` };
  }

  /**
   * POST /v5/order/disconnected-cancel-all `{product?: OPTIONS|DERIVATIVES|SPOT, timeWindow: 3..300}`. Applied at once
   * (Bybit: "takes ~10 s"). Error codes/messages for a bad window and for an account without DCP are guessed (not in
   * Bybit's docs): 10001 and 10005.
   */
  private setDcp(apiKey: string, p: Record<string, unknown>): EpResult {
    const prodIn = p['product'] ?? 'OPTIONS';
    if (prodIn !== 'OPTIONS' && prodIn !== 'DERIVATIVES' && prodIn !== 'SPOT') return { code: 10001, msg: 'params error: product invalid', result: '{}' };
    const product: DcpProduct = prodIn;
    const tw = p['timeWindow'];
    const sec = typeof tw === 'number' ? tw : typeof tw === 'string' && /^\d+$/.test(tw) ? Number(tw) : NaN;
    if (!Number.isInteger(sec) || sec < 3 || sec > 300) return { code: 10001, msg: 'params error: timeWindow must be an integer in [3, 300]', result: '{}' };
    if (!this.dcpOn(product)) return { code: 10005, msg: 'Permission denied: disconnection protection is not enabled for this account', result: '{}' };
    this.acct(apiKey).dcp[product].windowSec = sec;
    return { code: 0, msg: 'success', result: '{}' };
  }

  /** some live private connection of the account has subscribed the product's dcp topic */
  private dcpArmed(a: AcctState, product: DcpProduct): boolean {
    const topic = DCP_TOPIC[product];
    for (const ws of a.conns) {
      const d = ws.getUserData();
      if (!d.closed && d.topics.has(topic)) return true;
    }
    return false;
  }

  /**
   * After a private connection that had dcp topics closed, or a dcp subscribe/unsubscribe: a subscribed live
   * connection stops the countdown; the last one going away (closed, not unsubscribed) starts it.
   */
  private dcpCheck(a: AcctState, topics: ReadonlySet<string>, closing = false): void {
    if (this.closed) return;
    for (const product of DCP_PRODUCTS) {
      if (!topics.has(DCP_TOPIC[product]) || !this.dcpOn(product)) continue;
      const dc = a.dcp[product];
      if (this.dcpArmed(a, product)) {
        if (dc.timer) clearTimeout(dc.timer);
        dc.timer = undefined;
      } else if (closing && !dc.timer) {
        dc.started++;
        dc.timer = setTimeout(() => this.dcpFire(a, product), dc.windowSec * 1000);
      }
    }
  }

  /** the window passed with no dcp-subscribed private connection: cancel every active order of the product */
  private dcpFire(a: AcctState, product: DcpProduct): void {
    const dc = a.dcp[product];
    dc.timer = undefined;
    if (this.closed || this.dcpArmed(a, product)) return;
    dc.fired++;
    const category = DCP_CATEGORY[product];
    if (!category) return;
    const apiKey = [...this.accts].find(([, v]) => v === a)?.[0];
    if (apiKey === undefined) return;
    let n = 0;
    this.cancelling = 'CancelByDCP';
    try {
      for (const st of this.syms.values()) if (st.category === category) n += st.book.cancelAll(apiKey).length;
    } finally {
      this.cancelling = undefined;
    }
    this.ctx.log.info({ product, cancelled: n, windowSec: dc.windowSec }, 'bybit sim: DCP fired');
  }

  // ---------------------------------------------------------------------------------------------- private REST

  private privateEndpoint(ep: Endpoint, apiKey: string, p: Record<string, unknown>): EpResult {
    switch (ep) {
      case 'createBatch':
        return this.batch('create', apiKey, p);
      case 'amendBatch':
        return this.batch('amend', apiKey, p);
      case 'cancelBatch':
        return this.batch('cancel', apiKey, p);
      case 'create': {
        const r = this.createOrder(apiKey, p);
        return 'code' in r ? { code: r.code, msg: r.msg, result: '{}' } : { code: 0, msg: 'OK', result: `{"orderId":${q(r.orderId)},"orderLinkId":${q(r.orderLinkId)}}` };
      }
      case 'cancel': {
        const r = this.cancelOrder(apiKey, p);
        return 'code' in r ? { code: r.code, msg: r.msg, result: '{}' } : { code: 0, msg: 'OK', result: `{"orderId":${q(r.orderId)},"orderLinkId":${q(r.orderLinkId)}}` };
      }
      case 'amend': {
        const r = this.amendOrder(apiKey, p);
        return 'code' in r ? { code: r.code, msg: r.msg, result: '{}' } : { code: 0, msg: 'OK', result: `{"orderId":${q(r.orderId)},"orderLinkId":${q(r.orderLinkId)}}` };
      }
      case 'cancelAll':
        return this.cancelAll(apiKey, p);
      case 'realtime':
        return this.openOrders(apiKey, p);
      case 'history':
        return this.orderHistory(apiKey, p);
      case 'positions':
        return this.positions(apiKey, p);
      case 'wallet':
        return this.wallet(apiKey, p);
      case 'executions':
        return this.executions(apiKey, p);
      case 'coinInfo':
        return this.coinInfo(p);
      case 'queryApi':
        return { code: 0, msg: '', result: apiKeyInfoJson(apiKey, this.userId(apiKey), this.startedMs) };
      case 'accountInfo': {
        const a = this.acct(apiKey);
        return { code: 0, msg: 'OK', result: accountInfoJson(a.marginMode, a.marginModeUpdatedMs) };
      }
      case 'feeRate':
        return this.feeRate(p);
      case 'setLeverage':
        return this.setLeverage(apiKey, p);
      case 'setMarginMode':
        return this.setMarginMode(apiKey, p);
      case 'dcpInfo':
        return this.dcpInfo(apiKey);
      case 'setDcp':
        return this.setDcp(apiKey, p);
      default:
        return fail(E.routeNotFound);
    }
  }

  /**
   * create-batch / amend-batch / cancel-batch (REST and trade WS): `result.list` has one item per request
   * (empty ids when that item failed) and `retExtInfo.list` one `{code,msg}` per request, in order.
   */
  batch(kind: 'create' | 'amend' | 'cancel', apiKey: string, p: Record<string, unknown>): EpResult {
    const category = p['category'];
    if (!isCategory(category)) return fail(E.illegalCategory);
    const req = p['request'];
    if (!Array.isArray(req) || req.length === 0) return { code: 10001, msg: 'params error: request invalid', result: '{}' };
    const max = category === 'spot' ? 10 : 20;
    if (req.length > max) return { code: 10001, msg: `params error: the number of orders exceeds the limit ${max}`, result: '{}' };
    const items: string[] = [];
    const ext: string[] = [];
    for (const r of req as unknown[]) {
      const args: Record<string, unknown> | undefined = r && typeof r === 'object' && !Array.isArray(r) ? { ...(r as Record<string, unknown>), category } : undefined;
      const symbol = args && typeof args['symbol'] === 'string' ? args['symbol'] : '';
      const givenLink = args && typeof args['orderLinkId'] === 'string' ? args['orderLinkId'] : '';
      const res: { orderId: string; orderLinkId: string } | BybitError = !args
        ? E.requestParam
        : kind === 'create'
          ? this.createOrder(apiKey, args)
          : kind === 'amend'
            ? this.amendOrder(apiKey, args)
            : this.cancelOrder(apiKey, args);
      const ok = !('code' in res);
      const orderId = ok ? res.orderId : '';
      const orderLinkId = ok ? res.orderLinkId : givenLink;
      const createAt = kind === 'create' ? `,"createAt":"${ok ? this.ctx.nowMs(marketOf(category)) : ''}"` : '';
      items.push(`{"category":"${category}","symbol":${q(symbol)},"orderId":${q(orderId)},"orderLinkId":${q(orderLinkId)}${createAt}}`);
      ext.push(ok ? '{"code":0,"msg":"OK"}' : `{"code":${res.code},"msg":${q(res.msg)}}`);
    }
    return { code: 0, msg: 'OK', result: `{"list":[${items.join(',')}]}`, ext: `{"list":[${ext.join(',')}]}` };
  }

  private target(p: Record<string, unknown>): { st: SymState } | BybitError {
    const category = p['category'];
    if (!isCategory(category)) return E.illegalCategory;
    const symbol = p['symbol'];
    if (typeof symbol !== 'string' || symbol === '') return E.symbolInvalid;
    const st = this.sym(category, symbol);
    if (!st) return E.symbolInvalid;
    return { st };
  }

  /** create: shared by REST and the trade WS */
  createOrder(apiKey: string, p: Record<string, unknown>): { orderId: string; orderLinkId: string } | BybitError {
    const t = this.target(p);
    if ('code' in t) return t;
    const { st } = t;
    const a = this.acct(apiKey);
    const parsed = parseCreate(p, st.category, st.fmt, st.book, apiKey, () => `${GENERATED_LINK_PREFIX}${++this.linkCounter}`);
    if ('code' in parsed) return parsed;
    if (!parsed.clientOrderId.startsWith(GENERATED_LINK_PREFIX) && a.usedLinkIds[st.category].has(parsed.clientOrderId)) {
      return E.linkIdDuplicate;
    }
    const r = st.book.submit(parsed);
    if (!r.ok) {
      switch (r.reason) {
        case 'POST_ONLY_WOULD_TAKE':
        case 'FOK_NOT_FILLED': {
          // Bybit accepts the request, then cancels the order: the push says why
          if (!r.order) return E.internal;
          const o = this.ext(st, r.order);
          a.usedLinkIds[st.category].add(parsed.clientOrderId);
          const shown: SimOrder = { ...o, status: 'CANCELED' };
          const x = this.extraFor(a, shown, st);
          x.rejectReason = r.reason === 'POST_ONLY_WOULD_TAKE' ? 'EC_PostOnlyWillTakeLiquidity' : 'EC_NoImmediateQtyToFill';
          this.remember(a, st, shown);
          const now = this.ctx.nowMs(st.market);
          if (a.conns.size > 0) {
            this.pushPrivate(a, st.category, 'order', orderItemJson(shown, st.category, st.fmt, x), now);
            if (st.category === 'linear') this.pushPrivate(a, st.category, 'position', this.positionJson(apiKey, st, true), now);
          }
          return { orderId: o.orderId, orderLinkId: linkIdOut(o.clientOrderId) };
        }
        case 'DUPLICATE_CLIENT_ID':
          return E.linkIdDuplicate;
        case 'REDUCE_ONLY':
          return { code: 110017, msg: 'current position is zero, cannot fix reduce-only order qty' };
        case 'MIN_NOTIONAL':
          return st.category === 'spot'
            ? { code: 170140, msg: 'Order value exceeded lower limit.' }
            : { code: 110094, msg: `Order does not meet minimum order value ${st.fmt.inst.minNotional}${st.fmt.inst.quote}` };
        case 'INSUFFICIENT_BALANCE':
          return insufficientBalance(st.category);
        case 'BAD_QTY':
          return st.category === 'spot' ? { code: 170136, msg: 'Order quantity lower than the minimum.' } : { code: 10001, msg: 'params error: qty invalid' };
        case 'BAD_PRICE':
          return st.category === 'spot' ? { code: 170134, msg: 'Order price has too many decimals.' } : { code: 110003, msg: 'Order price is out of permissible range' };
        default:
          return E.requestParam;
      }
    }
    a.usedLinkIds[st.category].add(parsed.clientOrderId);
    if (a.usedLinkIds[st.category].size > 200_000) a.usedLinkIds[st.category].clear();
    return { orderId: this.extId(st, r.order.orderId), orderLinkId: linkIdOut(r.order.clientOrderId) };
  }

  cancelOrder(apiKey: string, p: Record<string, unknown>): { orderId: string; orderLinkId: string } | BybitError {
    const t = this.target(p);
    if ('code' in t) return t;
    const { st } = t;
    const orderId = typeof p['orderId'] === 'string' ? p['orderId'] : '';
    const link = typeof p['orderLinkId'] === 'string' ? p['orderLinkId'] : '';
    if (orderId === '' && link === '') return E.idRequired;
    const core = orderId !== '' ? this.coreId(st, orderId) : undefined;
    if (orderId !== '' && core === undefined) {
      return orderNotFound(st.category, 'cancel');
    }
    this.cancelling = 'CancelByUser';
    let r;
    try {
      r = st.book.cancel(apiKey, core !== undefined ? { orderId: core } : { clientOrderId: link });
    } finally {
      this.cancelling = undefined;
    }
    if (!r.ok) {
      return orderNotFound(st.category, 'cancel');
    }
    return { orderId: this.extId(st, r.order.orderId), orderLinkId: linkIdOut(r.order.clientOrderId) };
  }

  private cancelAll(apiKey: string, p: Record<string, unknown>): EpResult {
    const category = p['category'];
    if (!isCategory(category)) return fail(E.illegalCategory);
    const symbol = typeof p['symbol'] === 'string' && p['symbol'] !== '' ? p['symbol'] : undefined;
    const baseCoin = typeof p['baseCoin'] === 'string' && p['baseCoin'] !== '' ? p['baseCoin'] : undefined;
    const settleCoin = typeof p['settleCoin'] === 'string' && p['settleCoin'] !== '' ? p['settleCoin'] : undefined;
    if (category === 'linear' && !symbol && !baseCoin && !settleCoin) {
      return fail(E.missingSymbolOrCoin);
    }
    if (symbol && !this.sym(category, symbol)) return fail(E.symbolInvalid);
    const items: string[] = [];
    this.cancelling = 'CancelByUser';
    try {
      for (const st of this.syms.values()) {
        if (st.category !== category) continue;
        if (symbol && st.symbol !== symbol) continue;
        if (baseCoin && st.fmt.inst.base !== baseCoin) continue;
        if (settleCoin && st.fmt.inst.quote !== settleCoin) continue;
        for (const o of st.book.cancelAll(apiKey)) items.push(`{"orderId":${q(this.extId(st, o.orderId))},"orderLinkId":${q(linkIdOut(o.clientOrderId))}}`);
      }
    } finally {
      this.cancelling = undefined;
    }
    return { code: 0, msg: 'OK', result: `{"list":[${items.join(',')}],"success":"1"}` };
  }

  /** GET /v5/order/history: every order this venue saw for the account (latest state), newest first, bounded */
  private orderHistory(apiKey: string, p: Record<string, unknown>): EpResult {
    const category = p['category'];
    if (!isCategory(category)) return fail(E.illegalCategory);
    const symbol = typeof p['symbol'] === 'string' && p['symbol'] !== '' ? p['symbol'] : undefined;
    const orderId = typeof p['orderId'] === 'string' && p['orderId'] !== '' ? p['orderId'] : undefined;
    const link = typeof p['orderLinkId'] === 'string' && p['orderLinkId'] !== '' ? p['orderLinkId'] : undefined;
    if (symbol && !this.sym(category, symbol)) return fail(E.symbolInvalid);
    const limText = p['limit'];
    let limit = 20;
    if (limText !== undefined && limText !== '') {
      const n = typeof limText === 'string' && /^\d+$/.test(limText) ? Number(limText) : NaN;
      if (!(n >= 1 && n <= 50)) return fail(E.limitInvalid);
      limit = n;
    }
    const cur = safeDecode(typeof p['cursor'] === 'string' ? p['cursor'] : '');
    const offset = /^page_args=\d+$/.test(cur) ? Number(cur.slice(10)) : 0;
    const a = this.acct(apiKey);
    const rows: Array<{ st: SymState; o: SimOrder }> = [];
    for (const r of a.recent.values()) {
      if (r.category !== category) continue;
      if (symbol && r.symbol !== symbol) continue;
      if (orderId && r.order.orderId !== orderId) continue;
      if (link && linkIdOut(r.order.clientOrderId) !== link) continue;
      const st = this.sym(r.category, r.symbol);
      if (st) rows.push({ st, o: r.order });
    }
    rows.sort((x, y) => y.o.createdMs - x.o.createdMs || (y.o.orderId > x.o.orderId ? 1 : -1));
    const page = rows.slice(offset, offset + limit);
    const items = page.map((r) => restOrderJson(r.o, r.st, this.extraFor(a, r.o, r.st)));
    const next = offset + limit < rows.length ? encodeURIComponent(`page_args=${offset + limit}`) : '';
    return { code: 0, msg: 'OK', result: `{"list":[${items.join(',')}],"nextPageCursor":"${next}","category":"${category}"}` };
  }

  private openOrders(apiKey: string, p: Record<string, unknown>): EpResult {
    const category = p['category'];
    if (!isCategory(category)) return fail(E.illegalCategory);
    const symbol = typeof p['symbol'] === 'string' && p['symbol'] !== '' ? p['symbol'] : undefined;
    const baseCoin = typeof p['baseCoin'] === 'string' && p['baseCoin'] !== '' ? p['baseCoin'] : undefined;
    const settleCoin = typeof p['settleCoin'] === 'string' && p['settleCoin'] !== '' ? p['settleCoin'] : undefined;
    const orderId = typeof p['orderId'] === 'string' && p['orderId'] !== '' ? p['orderId'] : undefined;
    const link = typeof p['orderLinkId'] === 'string' && p['orderLinkId'] !== '' ? p['orderLinkId'] : undefined;
    if (category === 'linear' && !symbol && !baseCoin && !settleCoin && !orderId && !link) {
      return fail(E.missingSymbolOrCoin);
    }
    if (symbol && !this.sym(category, symbol)) return fail(E.symbolInvalid);
    const openOnly = p['openOnly'] === '1' || p['openOnly'] === '2' ? 1 : 0;
    const limText = p['limit'];
    let limit = 20;
    if (limText !== undefined && limText !== '') {
      const n = typeof limText === 'string' && /^\d+$/.test(limText) ? Number(limText) : NaN;
      if (!(n >= 1 && n <= 50)) return fail(E.limitInvalid);
      limit = n;
    }
    const cursor = typeof p['cursor'] === 'string' ? p['cursor'] : '';
    const cur = safeDecode(cursor);
    const offset = /^page_args=\d+$/.test(cur) ? Number(cur.slice(10)) : 0;
    const a = this.acct(apiKey);
    type Row = { st: SymState; o: SimOrder };
    const rows: Row[] = [];
    for (const st of this.syms.values()) {
      if (st.category !== category) continue;
      if (symbol && st.symbol !== symbol) continue;
      if (baseCoin && st.fmt.inst.base !== baseCoin) continue;
      if (settleCoin && st.fmt.inst.quote !== settleCoin) continue;
      if (orderId || link) {
        const core = orderId ? this.coreId(st, orderId) : undefined;
        if (orderId && core === undefined) continue;
        const c = st.book.getOrder(apiKey, core !== undefined ? { orderId: core } : { clientOrderId: link! });
        const o = c ? this.ext(st, c) : undefined;
        // orders the venue cancelled itself (post-only / FOK) are known only to the venue
        const mine = o ? a.recent.get(o.orderId) : undefined;
        const shown = o ? (mine && mine.order.status === 'CANCELED' && o.status !== 'CANCELED' ? mine.order : o) : undefined;
        if (shown) rows.push({ st, o: shown });
        else if (orderId) {
          const r = a.recent.get(orderId);
          if (r && r.category === category && r.symbol === st.symbol) rows.push({ st, o: r.order });
        }
        continue;
      }
      if (openOnly === 0) for (const o of st.book.openOrders(apiKey)) rows.push({ st, o: this.ext(st, o) });
    }
    if (!orderId && !link && openOnly === 1) {
      for (const r of a.recent.values()) {
        if (r.category !== category || isOpen(r.order.status)) continue;
        const st = this.sym(r.category, r.symbol);
        if (!st || (symbol && st.symbol !== symbol)) continue;
        rows.push({ st, o: r.order });
      }
    }
    rows.sort((x, y) => y.o.createdMs - x.o.createdMs || (y.o.orderId > x.o.orderId ? 1 : -1));
    const page = rows.slice(offset, offset + limit);
    const items = page.map((r) => restOrderJson(r.o, r.st, this.extraFor(a, r.o, r.st)));
    const next = offset + limit < rows.length ? encodeURIComponent(`page_args=${offset + limit}`) : '';
    return { code: 0, msg: 'OK', result: `{"list":[${items.join(',')}],"nextPageCursor":"${next}","category":"${category}"}` };
  }

  private positions(apiKey: string, p: Record<string, unknown>): EpResult {
    const category = p['category'];
    if (category !== 'linear') return fail(E.illegalCategory);
    const symbol = typeof p['symbol'] === 'string' && p['symbol'] !== '' ? p['symbol'] : undefined;
    const settleCoin = typeof p['settleCoin'] === 'string' && p['settleCoin'] !== '' ? p['settleCoin'] : undefined;
    if (!symbol && !settleCoin) return { code: 10001, msg: 'Missing some parameters that must be filled in, symbol or settleCoin', result: '{}' };
    const acc = this.ctx.account(apiKey);
    const items: string[] = [];
    for (const st of this.syms.values()) {
      if (st.category !== 'linear') continue;
      if (symbol) {
        if (st.symbol !== symbol) continue;
        items.push(this.positionJson(apiKey, st, false));
      } else if (st.fmt.inst.quote === settleCoin) {
        const pos = acc?.positions.get(`${st.market}:${st.symbol}`);
        if (pos && pos.sizeLots !== 0) items.push(this.positionJson(apiKey, st, false));
      }
    }
    if (symbol && items.length === 0) return fail(E.symbolInvalid);
    return { code: 0, msg: 'OK', result: `{"list":[${items.join(',')}],"nextPageCursor":"","category":"linear"}` };
  }

  private wallet(apiKey: string, p: Record<string, unknown>): EpResult {
    const t = p['accountType'];
    if (t !== 'UNIFIED') return { code: 10001, msg: 'accountType only support UNIFIED.', result: '{}' };
    const coin = typeof p['coin'] === 'string' && p['coin'] !== '' ? new Set(p['coin'].split(',')) : undefined;
    return { code: 0, msg: 'OK', result: `{"list":[${this.walletJson(apiKey, false, coin)}]}` };
  }

  /**
   * GET /v5/execution/list, newest first, as documented: category (required), symbol, orderId, orderLinkId, baseCoin,
   * execType (only `Trade` happens here), startTime/endTime (ms; at most 7 days apart; a lone startTime covers the 7
   * days after it, a lone endTime the 7 days before it, neither the last 7 days), limit 1..100 (default 50), cursor.
   * The cursor is stable under new executions (it names the last execution returned, not an offset), so a client
   * backfilling after a gap neither skips nor repeats items; `execId` equals the private `execution` push's.
   */
  private executions(apiKey: string, p: Record<string, unknown>): EpResult {
    const category = p['category'];
    if (!isCategory(category)) return fail(E.illegalCategory);
    const str = (k: string): string | undefined => (typeof p[k] === 'string' && p[k] !== '' ? (p[k] as string) : undefined);
    const symbol = str('symbol');
    const orderId = str('orderId');
    const link = str('orderLinkId');
    const baseCoin = str('baseCoin');
    const execType = str('execType');
    const limText = p['limit'];
    let limit = 50;
    if (limText !== undefined && limText !== '') {
      const n = typeof limText === 'string' && /^\d+$/.test(limText) ? Number(limText) : NaN;
      if (!(n >= 1 && n <= 100)) return fail(E.limitInvalid);
      limit = n;
    }
    const ms = (k: string): number | undefined | null => {
      const v = str(k);
      if (v === undefined) return undefined;
      return /^\d{1,16}$/.test(v) ? Number(v) : null;
    };
    const st0 = ms('startTime');
    const en0 = ms('endTime');
    if (st0 === null) return { code: 10001, msg: 'params error: startTime invalid', result: '{}' };
    if (en0 === null) return { code: 10001, msg: 'params error: endTime invalid', result: '{}' };
    const WEEK = 7 * 86_400_000;
    const now = this.ctx.nowMs(marketOf(category));
    let start: number;
    let end: number;
    if (st0 !== undefined && en0 !== undefined) {
      if (en0 < st0 || en0 - st0 > WEEK) return { code: 10001, msg: 'The time range between startTime and endTime cannot exceed 7 days', result: '{}' };
      start = st0;
      end = en0;
    } else if (st0 !== undefined) {
      start = st0;
      end = st0 + WEEK;
    } else if (en0 !== undefined) {
      start = en0 - WEEK;
      end = en0;
    } else {
      start = now - WEEK;
      end = Number.MAX_SAFE_INTEGER;
    }
    const cur = safeDecode(typeof p['cursor'] === 'string' ? p['cursor'] : '');
    const m = /^(\d+):/.exec(cur);
    const before = m ? Number(m[1]) : Number.MAX_SAFE_INTEGER;
    const a = this.acct(apiKey);
    const rows: string[] = [];
    let last = 0;
    let more = false;
    for (let i = a.execs.length - 1; i >= 0; i--) {
      const e = a.execs[i]!;
      if (e.n >= before) continue;
      if (e.category !== category) continue;
      if (symbol && e.symbol !== symbol) continue;
      if (orderId && e.orderId !== orderId) continue;
      if (link && e.link !== link) continue;
      if (baseCoin && this.sym(e.category, e.symbol)?.fmt.inst.base !== baseCoin) continue;
      if (execType && execType !== 'Trade') continue;
      if (e.time < start || e.time > end) continue;
      if (rows.length === limit) {
        more = true;
        break;
      }
      rows.push(e.json);
      last = e.n;
    }
    const next = more ? encodeURIComponent(`${last}:${limit}`) : '';
    return { code: 0, msg: 'OK', result: `{"nextPageCursor":"${next}","category":"${category}","list":[${rows.join(',')}]}` };
  }

  // ---------------------------------------------------------------------------------------------- WebSockets

  private wsRoutes(): void {
    const mk = (kind: WsKind, category: Category | undefined): WebSocketBehavior<ConnData> => ({
      idleTimeout: this.idleTimeoutSec,
      maxPayloadLength: 64 * 1024,
      maxBackpressure: 64 * 1024 * 1024,
      sendPingsAutomatically: false,
      upgrade: (res: HttpResponse, req: HttpRequest, context: UpgradeContext) => {
        const data: ConnData = {
          kind,
          category,
          connId: `${this.connPrefix}-${(++this.connCounter).toString(36)}`,
          topics: new Set(),
          apiKey: undefined,
          reqIds: kind === 'trade' ? new Set() : undefined,
          closed: false,
          maxIdleMs: kind === 'public' ? 0 : parseMaxActiveTime(req.getQuery('max_active_time') ?? '', this.opts.minMaxActiveTimeSec ?? 30),
          lastRecvMs: Date.now(),
        };
        res.upgrade(
          data,
          req.getHeader('sec-websocket-key'),
          req.getHeader('sec-websocket-protocol'),
          req.getHeader('sec-websocket-extensions'),
          context,
        );
      },
      open: (ws: Ws) => {
        this.conns[kind].add(ws);
      },
      message: (ws: Ws, msg: ArrayBuffer) => {
        ws.getUserData().lastRecvMs = Date.now();
        const text = Buffer.from(msg).toString('utf8');
        try {
          if (kind === 'public') this.onPublicMessage(ws, text);
          else if (kind === 'private') this.onPrivateMessage(ws, text);
          else this.onTradeMessage(ws, text);
        } catch (e) {
          this.ctx.log.error({ err: e }, 'bybit sim: ws message failed');
        }
      },
      close: (ws: Ws) => this.onWsClose(ws),
    });
    this.app.ws('/v5/public/spot', mk('public', 'spot'));
    this.app.ws('/v5/public/linear', mk('public', 'linear'));
    this.app.ws('/v5/private', mk('private', undefined));
    this.app.ws('/v5/trade', mk('trade', undefined));
  }

  private sweepIdle(): void {
    const now = Date.now();
    for (const k of ['private', 'trade'] as const) {
      for (const ws of this.conns[k]) {
        const d = ws.getUserData();
        if (d.maxIdleMs > 0 && now - d.lastRecvMs > d.maxIdleMs) {
          try {
            ws.close();
          } catch {
            /* gone */
          }
        }
      }
    }
  }

  private onWsClose(ws: Ws): void {
    const d = ws.getUserData();
    d.closed = true;
    this.conns[d.kind].delete(ws);
    if (d.kind === 'public' && d.category) {
      for (const topic of d.topics) this.unsubscribeTopic(d.category, topic);
    }
    if (d.apiKey) {
      const a = this.accts.get(d.apiKey);
      if (a) {
        a.conns.delete(ws);
        this.dcpCheck(a, d.topics, true);
      }
    }
  }

  // ---- public

  private onPublicMessage(ws: Ws, text: string): void {
    const d = ws.getUserData();
    const cat = d.category!;
    let m: Record<string, unknown>;
    try {
      const v = JSON.parse(text) as unknown;
      if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
      m = v as Record<string, unknown>;
    } catch {
      sendWs(ws, this.publicAck(cat, d.connId, false, 'error:json unmarshal failed', undefined, ''));
      return;
    }
    const op = m['op'];
    const reqId = typeof m['req_id'] === 'string' ? m['req_id'] : undefined;
    if (op === 'ping') {
      const rq = reqId !== undefined ? `"req_id":${q(reqId)},` : cat === 'linear' ? '"req_id":"",' : '';
      sendWs(ws, `{"success":true,"ret_msg":"pong","conn_id":"${d.connId}",${rq}"op":"ping"}`);
      return;
    }
    if (op !== 'subscribe' && op !== 'unsubscribe') {
      sendWs(ws, this.publicAck(cat, d.connId, false, `error:handler not found,op:${String(op)}`, reqId, typeof op === 'string' ? op : ''));
      return;
    }
    const args = m['args'];
    if (!Array.isArray(args) || args.length === 0 || !args.every((x) => typeof x === 'string')) {
      sendWs(ws, this.publicAck(cat, d.connId, false, 'error:args invalid', reqId, op));
      return;
    }
    if (cat === 'spot' && args.length > 10) {
      sendWs(ws, this.publicAck(cat, d.connId, false, 'args size >10', reqId, op));
      return;
    }
    const topics = [...new Set(args as string[])];
    const bad: string[] = [];
    for (const t of topics) if (!this.parseTopic(cat, t)) bad.push(t);
    if (bad.length > 0) {
      const msg = bad.map((t) => (this.topicKnownShape(t) ? `Invalid symbol :[${t}]` : `error:handler not found,topic:${t}`)).join(',');
      sendWs(ws, this.publicAck(cat, d.connId, false, msg, reqId, op));
      return;
    }
    if (op === 'subscribe') {
      const dup = topics.filter((t) => d.topics.has(t));
      if (dup.length > 0) {
        sendWs(ws, this.publicAck(cat, d.connId, false, `error:already subscribed,topic:${dup.join(',')}`, reqId, op));
        return;
      }
      sendWs(ws, this.publicAck(cat, d.connId, true, cat === 'spot' ? 'subscribe' : '', reqId, op));
      for (const t of topics) this.subscribeTopic(ws, cat, t);
    } else {
      sendWs(ws, this.publicAck(cat, d.connId, true, cat === 'spot' ? 'unsubscribe' : '', reqId, op));
      for (const t of topics) {
        if (!d.topics.has(t)) continue;
        d.topics.delete(t);
        ws.unsubscribe(`${cat}|${t}`);
        this.unsubscribeTopic(cat, t);
      }
    }
  }

  private publicAck(cat: Category, connId: string, ok: boolean, msg: string, reqId: string | undefined, op: string): string {
    if (cat === 'linear') return `{"success":${ok},"ret_msg":${q(msg)},"conn_id":"${connId}","req_id":${q(reqId ?? '')},"op":${q(op)}}`;
    const rq = reqId !== undefined ? `"req_id":${q(reqId)},` : '';
    return `{"success":${ok},"ret_msg":${q(msg)},"conn_id":"${connId}",${rq}"op":${q(op)}}`;
  }

  private topicKnownShape(t: string): boolean {
    return /^orderbook\.(1|50|200|1000)\.[^.]+$/.test(t) || /^(publicTrade|tickers)\.[^.]+$/.test(t);
  }

  /** depth 0 = publicTrade, -1 = tickers */
  private parseTopic(cat: Category, t: string): { st: SymState; depth: Depth | 0 | -1 } | undefined {
    const parts = t.split('.');
    if (parts[0] === 'orderbook' && parts.length === 3) {
      const depth = Number(parts[1]) as Depth;
      if (!DEPTHS.includes(depth)) return undefined;
      const st = this.sym(cat, parts[2]!);
      return st ? { st, depth } : undefined;
    }
    if (parts[0] === 'publicTrade' && parts.length === 2) {
      const st = this.sym(cat, parts[1]!);
      return st ? { st, depth: 0 } : undefined;
    }
    if (parts[0] === 'tickers' && parts.length === 2) {
      const st = this.sym(cat, parts[1]!);
      return st ? { st, depth: -1 } : undefined;
    }
    return undefined;
  }

  private subscribeTopic(ws: Ws, cat: Category, t: string): void {
    const p = this.parseTopic(cat, t)!;
    const d = ws.getUserData();
    d.topics.add(t);
    if (p.depth === 0) {
      p.st.trades.subscribers++;
      ws.subscribe(p.st.trades.key);
      return;
    }
    if (p.depth === -1) {
      const tk = p.st.tickers;
      const ts = this.ctx.nowMs(p.st.market);
      const cs = SEQ_BASE[p.st.category] + p.st.book.updateId;
      // bring the current subscribers up to date first: the snapshot resets the delta baseline
      if (tk.subscribers > 0 && p.st.category === 'linear') {
        const pending = tk.next(ts, cs, this.nextFundingTime(ts));
        if (pending !== undefined) this.app.publish(tk.key, pending, false, false);
      }
      tk.subscribers++;
      sendWs(ws, tk.snapshotFrame(ts, cs, this.nextFundingTime(ts)));
      ws.subscribe(tk.key);
      return;
    }
    const feed = p.st.depthFeeds.get(p.depth)!;
    this.activate(p.st, feed);
    feed.subscribers++;
    // snapshot first (the current published window, carrying the current u), then the topic's deltas
    sendWs(ws, feed.snapshotFrame(this.ctx.nowMs(p.st.market)));
    ws.subscribe(feed.key);
  }

  private unsubscribeTopic(cat: Category, t: string): void {
    const p = this.parseTopic(cat, t);
    if (!p) return;
    if (p.depth === 0) {
      p.st.trades.subscribers = Math.max(0, p.st.trades.subscribers - 1);
      return;
    }
    if (p.depth === -1) {
      p.st.tickers.subscribers = Math.max(0, p.st.tickers.subscribers - 1);
      return;
    }
    const feed = p.st.depthFeeds.get(p.depth)!;
    feed.subscribers = Math.max(0, feed.subscribers - 1);
    if (feed.subscribers === 0 && !feed.pinned) feed.active = false;
  }

  // ---- private

  private onPrivateMessage(ws: Ws, text: string): void {
    const d = ws.getUserData();
    let m: Record<string, unknown>;
    try {
      const v = JSON.parse(text) as unknown;
      if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
      m = v as Record<string, unknown>;
    } catch {
      sendWs(ws, `{"success":false,"ret_msg":"error:json unmarshal failed","op":"","conn_id":"${d.connId}"}`);
      return;
    }
    const op = m['op'];
    const reqId = typeof m['req_id'] === 'string' ? m['req_id'] : undefined;
    const rq = reqId !== undefined ? `"req_id":${q(reqId)},` : '';
    if (op === 'ping') {
      sendWs(ws, `{"req_id":${q(reqId ?? '')},"op":"pong","args":["${this.ctx.nowMs('bybitLinear')}"],"conn_id":"${d.connId}"}`);
      return;
    }
    if (op === 'auth') {
      if (d.apiKey) {
        sendWs(ws, `{${rq}"success":false,"ret_msg":"Repeat auth","op":"auth","conn_id":"${d.connId}"}`);
        return;
      }
      const r = wsAuth(this.ctx, m['args']);
      if (!r.ok) {
        sendWs(ws, `{${rq}"success":false,"ret_msg":${q(r.msg)},"op":"auth","conn_id":"${d.connId}"}`);
        return;
      }
      d.apiKey = r.apiKey;
      this.acct(r.apiKey).conns.add(ws);
      sendWs(ws, `{${rq}"success":true,"ret_msg":"","op":"auth","conn_id":"${d.connId}"}`);
      return;
    }
    if (op === 'subscribe' || op === 'unsubscribe') {
      if (!d.apiKey) {
        sendWs(ws, `{${rq}"success":false,"ret_msg":"Request not authorized","op":${q(op)},"conn_id":"${d.connId}"}`);
        return;
      }
      const args = m['args'];
      if (!Array.isArray(args) || args.length === 0 || !args.every((x) => typeof x === 'string')) {
        sendWs(ws, `{${rq}"success":false,"ret_msg":"error:args invalid","op":${q(op)},"conn_id":"${d.connId}"}`);
        return;
      }
      const topics = args as string[];
      const bad = topics.filter((t) => !PRIVATE_TOPICS.has(t));
      if (bad.length > 0) {
        sendWs(ws, `{${rq}"success":false,"ret_msg":${q(`error:handler not found,topic:${bad.join(',')}`)},"op":${q(op)},"conn_id":"${d.connId}"}`);
        return;
      }
      const allInOne = topics.some((t) => ALL_IN_ONE.has(t));
      const categorised = topics.some((t) => !ALL_IN_ONE.has(t) && t !== 'wallet' && !t.startsWith('dcp') && t !== 'greeks');
      if (allInOne && categorised) {
        sendWs(ws, `{${rq}"success":false,"ret_msg":"error:all-in-one topics and categorised topics cannot be mixed","op":${q(op)},"conn_id":"${d.connId}"}`);
        return;
      }
      for (const t of topics) {
        if (op === 'subscribe') d.topics.add(t);
        else d.topics.delete(t);
      }
      sendWs(ws, `{${rq}"success":true,"ret_msg":"","op":${q(op)},"conn_id":"${d.connId}"}`);
      if (topics.some((t) => t.startsWith('dcp'))) this.dcpCheck(this.acct(d.apiKey), new Set(topics));
      return;
    }
    sendWs(ws, `{${rq}"success":false,"ret_msg":${q(`error:handler not found,op:${String(op)}`)},"op":${q(typeof op === 'string' ? op : '')},"conn_id":"${d.connId}"}`);
  }

  // ---- trade

  private tradeReply(ws: Ws, reqId: string | undefined, code: number, msg: string, op: string, data: string, header?: string, ext = '{}'): void {
    const d = ws.getUserData();
    const rq = reqId !== undefined ? `"reqId":${q(reqId)},` : '';
    const hdr = header !== undefined ? `,"header":${header}` : '';
    sendWs(ws, `{${rq}"retCode":${code},"retMsg":${q(msg)},"op":${q(op)},"data":${data},"retExtInfo":${ext}${hdr},"connId":"${d.connId}"}`);
  }

  private onTradeMessage(ws: Ws, text: string): void {
    const d = ws.getUserData();
    let m: Record<string, unknown>;
    try {
      const v = JSON.parse(text) as unknown;
      if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
      m = v as Record<string, unknown>;
    } catch {
      sendWs(ws, `{"retCode":10001,"retMsg":"Request parameter error.","op":"","connId":"${d.connId}"}`);
      return;
    }
    const op = typeof m['op'] === 'string' ? m['op'] : '';
    const reqIdRaw = m['reqId'];
    const reqId = typeof reqIdRaw === 'string' ? reqIdRaw : undefined;
    const rq = reqId !== undefined ? `"reqId":${q(reqId)},` : '';
    if (op === 'ping') {
      sendWs(ws, `{${rq}"retCode":0,"retMsg":"OK","op":"pong","data":["${this.ctx.nowMs('bybitLinear')}"],"connId":"${d.connId}"}`);
      return;
    }
    if (op === 'auth') {
      if (d.apiKey) {
        sendWs(ws, `{${rq}"retCode":20001,"retMsg":"Repeat auth","op":"auth","connId":"${d.connId}"}`);
        return;
      }
      const r = wsAuth(this.ctx, m['args']);
      if (!r.ok) {
        sendWs(ws, `{${rq}"retCode":${r.code},"retMsg":${q(r.msg)},"op":"auth","connId":"${d.connId}"}`);
        return;
      }
      d.apiKey = r.apiKey;
      sendWs(ws, `{${rq}"retCode":0,"retMsg":"OK","op":"auth","connId":"${d.connId}"}`);
      return;
    }
    const ep = TRADE_OPS.get(op);
    if (ep === undefined) {
      sendWs(ws, `{${rq}"retCode":10404,"retMsg":${q(`op type is not found: ${op}`)},"op":${q(op)},"connId":"${d.connId}"}`);
      return;
    }
    if (this.tradeServiceRestarting()) {
      sendWs(
        ws,
        `{${rq}"retCode":10019,"retMsg":"ws trade service is restarting, do not accept new request, but the request in the process is not affected. You can build new connection to be routed to normal service","op":${q(op)},"connId":"${d.connId}"}`,
      );
      ws.end(1000, 'service restarting');
      return;
    }
    if (!d.apiKey) {
      sendWs(ws, `{${rq}"retCode":10003,"retMsg":"Not authorized","op":${q(op)},"connId":"${d.connId}"}`);
      return;
    }
    if (reqId !== undefined) {
      if (reqId.length > 36) {
        this.tradeReply(ws, reqId, 10001, 'reqId is too long', op, '{}');
        return;
      }
      if (d.reqIds!.has(reqId)) {
        this.tradeReply(ws, reqId, 20006, 'reqId is duplicated', op, '{}');
        return;
      }
      d.reqIds!.add(reqId);
      if (d.reqIds!.size > 100_000) d.reqIds!.clear();
    }
    const header = m['header'];
    const h = header && typeof header === 'object' ? (header as Record<string, unknown>) : undefined;
    const args = m['args'];
    const arg = Array.isArray(args) && args.length === 1 && args[0] && typeof args[0] === 'object' ? (args[0] as Record<string, unknown>) : undefined;
    if (!arg) {
      this.tradeReply(ws, reqId, 10001, 'Request parameter error.', op, '{}');
      return;
    }
    const category = arg['category'];
    if (!isCategory(category)) {
      this.tradeReply(ws, reqId, 10404, 'category is not correct/supported', op, '{}');
      return;
    }
    const market = marketOf(category);
    const now = this.ctx.nowMs(market);
    const bad = checkTradeHeader(h, now);
    if (bad) {
      this.tradeReply(ws, reqId, bad.code, bad.msg, op, '{}');
      return;
    }
    const apiKey = d.apiKey;
    const rl = this.limits.hit(apiKey, ep, category, now, batchWeight(ep, arg));
    const hdr = (): string =>
      `{"X-Bapi-Limit":"${rl.limit}","X-Bapi-Limit-Status":"${Math.max(0, rl.limit - rl.used)}","X-Bapi-Limit-Reset-Timestamp":"${rl.verdict === 'ok' ? now : rl.resetAtMs}","Traceid":"${traceId()}","Timenow":"${this.ctx.nowMs(market)}"}`;
    if (rl.verdict !== 'ok') {
      this.tradeReply(ws, reqId, E.tooManyVisits.code, E.tooManyVisits.msg, op, '{}', hdr());
      return;
    }
    const lat = this.ctx.peekFault(market, 'latencyMs')?.ms ?? 0;
    const run = (): void => {
      if (d.closed) return;
      if (ep === 'createBatch' || ep === 'amendBatch' || ep === 'cancelBatch') {
        let out: EpResult;
        try {
          out = this.batch(ep === 'createBatch' ? 'create' : ep === 'amendBatch' ? 'amend' : 'cancel', apiKey, arg);
        } catch (e) {
          this.ctx.log.error({ err: e, op }, 'bybit sim: trade request failed');
          out = fail(E.internal);
        }
        this.tradeReply(ws, reqId, out.code, out.msg, op, out.result, hdr(), out.ext);
        return;
      }
      let r: { orderId: string; orderLinkId: string } | BybitError;
      try {
        r = ep === 'create' ? this.createOrder(apiKey, arg) : ep === 'amend' ? this.amendOrder(apiKey, arg) : this.cancelOrder(apiKey, arg);
      } catch (e) {
        this.ctx.log.error({ err: e, op }, 'bybit sim: trade request failed');
        r = E.internal;
      }
      if ('code' in r) this.tradeReply(ws, reqId, r.code, r.msg, op, '{}', hdr());
      else this.tradeReply(ws, reqId, 0, 'OK', op, `{"orderId":${q(r.orderId)},"orderLinkId":${q(r.orderLinkId)}}`, hdr());
    };
    if (lat > 0) setTimeout(run, lat);
    else run();
  }
}

const TRADE_OPS = new Map<string, Endpoint>([
  ['order.create', 'create'],
  ['order.amend', 'amend'],
  ['order.cancel', 'cancel'],
  ['order.create-batch', 'createBatch'],
  ['order.amend-batch', 'amendBatch'],
  ['order.cancel-batch', 'cancelBatch'],
]);

const ALL_IN_ONE = new Set(['order', 'execution', 'execution.fast', 'position']);
const PRIVATE_TOPICS = new Set([
  'order',
  'order.spot',
  'order.linear',
  'execution',
  'execution.spot',
  'execution.linear',
  'execution.fast',
  'execution.fast.spot',
  'execution.fast.linear',
  'position',
  'position.linear',
  'wallet',
  'greeks',
  'dcp.future',
  'dcp.spot',
  'dcp.option',
]);

/** REST list item of /v5/order/realtime (docs open-order.mdx keys) */
function restOrderJson(o: SimOrder, st: SymState, x: OrderExtra): string {
  // the push item has every REST key but isLeverage/createType/marketUnit/...; build from it for one source of truth
  const push = orderItemJson(o, st.category, st.fmt, x);
  const extra =
    `"isLeverage":"${st.category === 'spot' ? '0' : ''}","ocoTriggerBy":"","marketUnit":"","slippageToleranceType":"UNKNOWN","slippageTolerance":"0"` +
    (st.category === 'linear' ? ',"createType":"CreateByUser"' : '');
  return push.slice(0, -1) + ',' + extra + '}';
}

function linearInstrumentJson(st: SymState): string {
  const i = st.fmt.inst;
  const fmt = st.fmt;
  const maxPrice = fmt.price(Math.floor((2_000_000 * fmt.priceMul) / fmt.tickUnits) * fmt.tickUnits - fmt.tickUnits);
  const maxMkt = fmt.qty(Math.max(fmt.stepUnits, Math.floor(fmt.maxQtyLots / 2 / fmt.stepUnits) * fmt.stepUnits));
  return (
    `{"symbol":"${i.symbol}","contractType":"LinearPerpetual","status":"Trading","baseCoin":"${i.base}","quoteCoin":"${i.quote}",` +
    `"launchTime":"1585526400000","deliveryTime":"0","deliveryFeeRate":"","priceScale":"${fmt.priceScale}",` +
    `"leverageFilter":{"minLeverage":"1","maxLeverage":"100.00","leverageStep":"0.01"},` +
    `"priceFilter":{"minPrice":"${fmt.price(fmt.tickUnits)}","maxPrice":"${maxPrice}","tickSize":"${i.tickSize}"},` +
    `"lotSizeFilter":{"maxOrderQty":"${fmt.qty(fmt.maxQtyLots)}","minOrderQty":"${fmt.qty(fmt.minQtyLots)}","qtyStep":"${i.stepSize}",` +
    `"postOnlyMaxOrderQty":"${fmt.qty(fmt.maxQtyLots)}","maxMktOrderQty":"${maxMkt}","minNotionalValue":"${i.minNotional}"},` +
    `"unifiedMarginTrade":true,"fundingInterval":480,"settleCoin":"${i.quote}","copyTrading":"both","upperFundingRate":"0.00375",` +
    `"lowerFundingRate":"-0.00375","isPreListing":false,"preListingInfo":null,"riskParameters":{"priceLimitRatioX":"0.01","priceLimitRatioY":"0.02"},` +
    `"symbolType":""}`
  );
}

function spotInstrumentJson(st: SymState): string {
  const i = st.fmt.inst;
  const fmt = st.fmt;
  const quotePrecision = '0.' + '0'.repeat(Math.min(8, fmt.priceDecimals + fmt.qtyDecimals) - 1) + '1';
  const maxMkt = fmt.qty(Math.max(fmt.stepUnits, Math.floor(fmt.maxQtyLots / 2 / fmt.stepUnits) * fmt.stepUnits));
  return (
    `{"symbol":"${i.symbol}","baseCoin":"${i.base}","quoteCoin":"${i.quote}","innovation":"0","status":"Trading",` +
    `"marginTrading":"utaOnly","stTag":"0","lotSizeFilter":{"basePrecision":"${i.stepSize}","quotePrecision":"${quotePrecision}",` +
    `"minOrderQty":"${fmt.qty(fmt.minQtyLots)}","maxOrderQty":"${fmt.qty(fmt.maxQtyLots)}","minOrderAmt":"${i.minNotional}",` +
    `"maxOrderAmt":"8000000","maxLimitOrderQty":"${fmt.qty(fmt.maxQtyLots)}","maxMarketOrderQty":"${maxMkt}",` +
    `"postOnlyMaxLimitOrderSize":"${fmt.qty(fmt.maxQtyLots * 5 > Number.MAX_SAFE_INTEGER ? fmt.maxQtyLots : fmt.maxQtyLots * 5)}"},` +
    `"priceFilter":{"tickSize":"${i.tickSize}"},"riskParameters":{"priceLimitRatioX":"0.005","priceLimitRatioY":"0.01"},"symbolType":""}`
  );
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
