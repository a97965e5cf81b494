/**
 * One Bybit v5 venue on one uWS app and port, both categories (`spot` from ctx.books 'bybitSpot', `linear` from
 * 'bybitLinear'): builds the shared state and the parts (public feeds and WS, private WS, order operations, trade WS,
 * REST by area, DCP), wires the books to them, routes the four WS paths, runs the push and idle timers, applies the
 * connection faults, and answers the handle's control hooks.
 */
import type { SimBookListener, SimContext, SimFault, SimFill, SimLevelChange, SimOrder, SimPublicTrade, SimVenueEndpoints } from '../core/types.js';
import { uws, type HttpRequest, type HttpResponse, type TemplatedApp, type WebSocketBehavior } from '../../util/uws.js';
import { baseUrl, closeListen, listen, send, type Listening } from '../core/http.js';
import { CATEGORIES, InstrumentFmt, marketOf, type Category } from './common.js';
import { MarketHistory } from './market.js';
import { BASE_INTERVAL_MS, DEPTHS, DepthFeed, TickerFeed, TradeFeed, type Depth } from './feeds.js';
import { parseMaxActiveTime, type ConnData, type UpgradeContext, type Ws, type WsKind } from './conn.js';
import { E, errorBody } from './errors.js';
import type { BybitVenueHandle, BybitVenueOptions } from './options.js';
import { VenueState, type SymState } from './state.js';
import { Dcp, DCP_PRODUCTS } from './dcp.js';
import { PublicWs } from './publicws.js';
import { PrivateWs } from './privatews.js';
import { TradeOps } from './ops.js';
import { TradeWs } from './tradews.js';
import { MarketRest } from './restmarket.js';
import { OrdersRest } from './restorders.js';
import { HistoryRest } from './resthistory.js';
import { AccountRest } from './restaccount.js';
import { PositionRest } from './restposition.js';
import { Rest } from './rest.js';

export class BybitVenue {
  private readonly app: TemplatedApp;
  private readonly ownApp: boolean;
  private listening: Listening | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly intervals: Record<Depth, number>;
  private connCounter = 0;
  private readonly firstU: number;
  private readonly idleTimeoutSec: number;
  private readonly perBatch: boolean;
  private readonly s: VenueState;
  private readonly dcp: Dcp;
  private readonly pub: PublicWs;
  private readonly priv: PrivateWs;
  private readonly ops: TradeOps;
  private readonly trade: TradeWs;
  private readonly rest: Rest;
  /** sockets closed at the end of `connLifetimeMs`, by kind */
  private readonly lifetimeCloses: Record<WsKind, number> = { public: 0, private: 0, trade: 0 };

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
    this.firstU = opts.firstUpdateId ?? 1_000_000;
    this.idleTimeoutSec = opts.idleTimeoutSec ?? 600;
    this.perBatch = ctx.depthIntervalMs === 0 && opts.intervalsMs === undefined;
    this.s = new VenueState(ctx, opts, this.app);
    this.dcp = new Dcp(this.s);
    this.pub = new PublicWs(this.s);
    this.priv = new PrivateWs(this.s, this.dcp);
    this.ops = new TradeOps(this.s, this.priv);
    this.trade = new TradeWs(this.s, this.ops);
    this.rest = new Rest(
      this.s,
      this.dcp,
      new MarketRest(this.s, this.pub),
      new OrdersRest(this.s, this.ops),
      new HistoryRest(this.s),
      new AccountRest(this.s),
      new PositionRest(this.s),
    );
  }

  async start(): Promise<BybitVenueHandle> {
    this.wireBooks();
    this.rest.routes();
    this.wsRoutes();
    if (this.ownApp) {
      this.app.any('/*', (res) => {
        send(res, 404, errorBody(E.routeNotFound, Date.now()));
      });
    }
    // ctx.depthIntervalMs === 0: one frame per book batch, no timers (a deterministic byte stream for a seed)
    if (!this.perBatch) this.startTimers();
    const life = this.opts.connLifetimeMs ?? 0;
    this.timers.push(setInterval(() => this.sweepIdle(), life > 0 ? Math.max(20, Math.min(250, Math.floor(life / 20))) : 250));
    this.ctx.onFault((f) => this.onFault(f));
    return this.listenAndDescribe();
  }

  /** push timers of the depth topics and the tickers */
  private startTimers(): void {
    for (const d of DEPTHS) {
      const ms = this.intervals[d];
      this.timers.push(setInterval(() => this.pub.flushDepth(d), ms));
    }
    // tickers: linear 100 ms, spot 50 ms (scaled like the books)
    const scale = this.ctx.depthIntervalMs > 0 ? this.ctx.depthIntervalMs / 100 : 0.01;
    for (const cat of CATEGORIES) {
      const ms = Math.max(1, Math.round((cat === 'linear' ? 100 : 50) * scale));
      this.timers.push(setInterval(() => this.pub.flushTickers(cat), ms));
    }
  }

  /** listen (own app), then the endpoints and the handle */
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
      pushSnapshot: (c, s, d) => this.pub.pushSnapshot(c, s, d),
      restartOrderbook: (c, s) => this.pub.restartOrderbook(c, s),
      setTradeServiceRestarting: (on) => {
        this.trade.restarting = on;
      },
      topicUpdateId: (c, s, d) => this.s.syms.get(`${c}|${s}`)?.depthFeeds.get(d)?.u,
      connectionCount: (k) => this.s.conns[k].size,
      lifetimeCloses: () => ({ ...this.lifetimeCloses }),
      dcpState: (apiKey, product) => {
        const dc = this.s.acct(apiKey).dcp[product];
        return {
          windowSec: dc.windowSec,
          armed: this.dcp.armed(this.s.acct(apiKey), product),
          pending: dc.timer !== undefined,
          started: dc.started,
          fired: dc.fired,
        };
      },
    };
  }

  private async close(): Promise<void> {
    if (this.s.closed) return;
    this.s.closed = true;
    for (const t of this.timers) clearInterval(t);
    for (const a of this.s.accts.values()) {
      for (const p of DCP_PRODUCTS) {
        const dc = a.dcp[p];
        if (dc.timer) clearTimeout(dc.timer);
        dc.timer = undefined;
      }
    }
    for (const st of this.s.syms.values()) st.book.removeListener(st.listener);
    for (const k of ['public', 'private', 'trade'] as const) {
      for (const ws of [...this.s.conns[k]]) {
        try {
          ws.close();
        } catch {
          /* already gone */
        }
      }
    }
    closeListen(this.listening);
  }

  /** one SymState per listed book, its feeds, and the book listener feeding the public and private parts */
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
              for (const f of st.depthFeeds.values()) this.pub.flushFeed(st, f);
              if (st.tickers.subscribers > 0) this.pub.flushTicker(st);
            }
          },
          onTrade: (_s: string, t: SimPublicTrade) => this.pub.onTrade(st, t),
          onOrder: (_s: string, o: SimOrder, f: SimFill | undefined) => this.priv.onOrder(st, o, f),
        };
        book.addListener(st.listener);
        this.s.syms.set(`${category}|${symbol}`, st);
      }
    }
  }

  /** the faults the venue acts on at once: snapshot reset, orderbook restart, closeConnections */
  private onFault(f: SimFault): void {
    if (f.kind === 'snapshotReset' || f.kind === 'orderbookRestart') {
      const cat: Category = f.market === 'bybitSpot' ? 'spot' : 'linear';
      const sym = f.symbol.toUpperCase();
      if (f.kind === 'snapshotReset') this.pub.pushSnapshot(cat, sym, f.depth);
      else this.pub.restartOrderbook(cat, sym);
      return;
    }
    if (f.kind !== 'closeConnections') return;
    if (f.market !== 'bybitSpot' && f.market !== 'bybitLinear') return;
    const which = f.which ?? 'all';
    const cat: Category = f.market === 'bybitSpot' ? 'spot' : 'linear';
    const kinds: WsKind[] = which === 'all' ? ['public', 'private', 'trade'] : which === 'market' ? ['public'] : which === 'private' ? ['private'] : ['trade'];
    for (const k of kinds) {
      for (const ws of [...this.s.conns[k]]) {
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

  /** the four WS paths; each message goes to its part */
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
          connId: `${this.s.connPrefix}-${(++this.connCounter).toString(36)}`,
          topics: new Set(),
          apiKey: undefined,
          reqIds: kind === 'trade' ? new Set() : undefined,
          closed: false,
          maxIdleMs: kind === 'public' ? 0 : parseMaxActiveTime(req.getQuery('max_active_time') ?? '', this.opts.minMaxActiveTimeSec ?? 30),
          lastRecvMs: Date.now(),
          openedMs: Date.now(),
        };
        res.upgrade(data, req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'), req.getHeader('sec-websocket-extensions'), context);
      },
      open: (ws: Ws) => {
        this.s.conns[kind].add(ws);
      },
      message: (ws: Ws, msg: ArrayBuffer) => {
        ws.getUserData().lastRecvMs = Date.now();
        const text = Buffer.from(msg).toString('utf8');
        try {
          if (kind === 'public') this.pub.onMessage(ws, text);
          else if (kind === 'private') this.priv.onMessage(ws, text);
          else this.trade.onMessage(ws, text);
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

  /** close private/trade sockets idle past their `max_active_time`, and any socket past `connLifetimeMs` */
  private sweepIdle(): void {
    const now = Date.now();
    const life = this.opts.connLifetimeMs ?? 0;
    if (life > 0) {
      for (const k of ['public', 'private', 'trade'] as const) {
        for (const ws of this.s.conns[k]) {
          const d = ws.getUserData();
          if (d.closed || now - d.openedMs < life) continue;
          d.closed = true;
          this.lifetimeCloses[k]++;
          try {
            ws.end(1000, 'connection lifetime exceeded');
          } catch {
            /* gone */
          }
        }
      }
    }
    for (const k of ['private', 'trade'] as const) {
      for (const ws of this.s.conns[k]) {
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

  /** a socket went away: public subscriptions drop, the account loses the connection (DCP countdown) */
  private onWsClose(ws: Ws): void {
    const d = ws.getUserData();
    d.closed = true;
    this.s.conns[d.kind].delete(ws);
    if (d.kind === 'public' && d.category) {
      for (const topic of d.topics) this.pub.unsubscribeTopic(d.category, topic);
    }
    if (d.apiKey) {
      const a = this.s.accts.get(d.apiKey);
      if (a) {
        a.conns.delete(ws);
        this.dcp.check(a, d.topics, true);
      }
    }
  }
}
