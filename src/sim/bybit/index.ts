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

import type { SimBookListener, SimContext, SimFault, SimFill, SimLevelChange, SimMarketId, SimOrder, SimPublicTrade, SimVenueEndpoints, SimVenueFactory } from '../core/types.js';
import { uws, type HttpRequest, type HttpResponse, type TemplatedApp, type WebSocketBehavior } from '../../util/uws.js';
import { afterDelay, baseUrl, BodyTooLargeError, closeListen, guardAbort, listen, parseQuery, readBody, requestInfo, send, type Listening, type RequestInfo } from '../core/http.js';
import { CATEGORIES, envelope, InstrumentFmt, isCategory, marketOf, q, safeDecode, traceId, type Category } from './common.js';
import { accountInfoJson, apiKeyInfoJson, coinInfoJson, klineIntervalMs, MarketHistory } from './market.js';
import { BASE_INTERVAL_MS, DEPTHS, DepthFeed, levelsJson, TickerFeed, TradeFeed, type Depth } from './feeds.js';
import { checkRestAuth } from './auth.js';
import { parseMaxActiveTime, type ConnData, type UpgradeContext, type Ws, type WsKind } from './conn.js';
import { E, errorBody, fail, type EpResult } from './errors.js';
import { batchWeight, ORDER_EPS, type Endpoint } from './limits.js';
import type { BybitVenueHandle, BybitVenueOptions } from './options.js';
import { FEE_RATE, isOpen, linkIdOut } from './orders.js';
import { VenueState, type SymState } from './state.js';
import { linearInstrumentJson, nextFundingTime, positionJson, restOrderJson, spotInstrumentJson, walletJson } from './format.js';
import { Dcp, DCP_PRODUCTS } from './dcp.js';
import { PublicWs } from './publicws.js';
import { PrivateWs } from './privatews.js';
import { TradeOps } from './ops.js';
import { TradeWs } from './tradews.js';

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
      this.timers.push(setInterval(() => this.pub.flushDepth(d), ms));
    }
    // tickers: linear 100 ms, spot 50 ms (scaled like the books)
    const scale = this.ctx.depthIntervalMs > 0 ? this.ctx.depthIntervalMs / 100 : 0.01;
    for (const cat of CATEGORIES) {
      const ms = Math.max(1, Math.round((cat === 'linear' ? 100 : 50) * scale));
      this.timers.push(setInterval(() => this.pub.flushTickers(cat), ms));
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
      pushSnapshot: (c, s, d) => this.pub.pushSnapshot(c, s, d),
      restartOrderbook: (c, s) => this.pub.restartOrderbook(c, s),
      setTradeServiceRestarting: (on) => {
        this.trade.restarting = on;
      },
      topicUpdateId: (c, s, d) => this.s.syms.get(`${c}|${s}`)?.depthFeeds.get(d)?.u,
      connectionCount: (k) => this.s.conns[k].size,
      dcpState: (apiKey, product) => {
        const dc = this.s.acct(apiKey).dcp[product];
        return { windowSec: dc.windowSec, armed: this.dcp.armed(this.s.acct(apiKey), product), pending: dc.timer !== undefined, started: dc.started, fired: dc.fired };
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
    for (const s of this.s.syms.values()) s.book.removeListener(s.listener);
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
    const ip = this.s.limits.ip.hit('ip', 1, Date.now());
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
    const rl = this.s.limits.hit(apiKey, ep, category, now, batchWeight(ep, params));
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

  private instrumentsInfo(params: Record<string, unknown>, now: number): string {
    const category = params['category'];
    if (!isCategory(category)) return errorBody(E.illegalCategory, now);
    const symbol = typeof params['symbol'] === 'string' ? params['symbol'] : undefined;
    // every simulated instrument is `Trading`: any other `status` filter (PreLaunch, Delivering, Closed) lists none
    const status = typeof params['status'] === 'string' && params['status'] !== '' ? params['status'] : undefined;
    const items: string[] = [];
    for (const st of this.s.syms.values()) {
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
    const st = this.s.sym(category, symbol);
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
      this.pub.activate(st, feed);
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
      if (symbol !== undefined && !this.s.sym(category, symbol)) return envelope(10001, 'Not supported symbols', '{}', now);
      const baseCoin = typeof params['baseCoin'] === 'string' && params['baseCoin'] !== '' ? params['baseCoin'] : undefined;
      const items: string[] = [];
      for (const st of this.s.syms.values()) {
        if (st.category !== category || (symbol !== undefined && st.symbol !== symbol)) continue;
        if (baseCoin !== undefined && st.fmt.inst.base !== baseCoin) continue;
        items.push(st.tickers.restItem(nextFundingTime(now)));
      }
      return envelope(0, 'OK', `{"category":"${category}","list":[${items.join(',')}]}`, now);
    }
    if (symbol === undefined) return errorBody(E.symbolInvalid, now);
    const st = this.s.sym(category, symbol);
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
    for (const st of this.s.syms.values()) {
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
    if (symbol !== undefined && !this.s.sym(category, symbol)) return fail(E.symbolInvalid);
    const r = FEE_RATE[category];
    const items: string[] = [];
    for (const st of this.s.syms.values()) {
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
    const st = this.s.sym('linear', symbol);
    if (!st) return fail(E.symbolInvalid);
    const buy = p['buyLeverage'];
    const sell = p['sellLeverage'];
    const ok = (v: unknown): v is string => typeof v === 'string' && /^\d+(\.\d{1,2})?$/.test(v) && Number(v) >= 1 && Number(v) <= 100;
    if (!ok(buy)) return { code: 10001, msg: 'params error: buyLeverage invalid', result: '{}' };
    if (!ok(sell)) return { code: 10001, msg: 'params error: sellLeverage invalid', result: '{}' };
    if (Number(buy) !== Number(sell)) return { code: 110027, msg: 'buy leverage must be equal to sell leverage in one-way mode', result: '{}' };
    const a = this.s.acct(apiKey);
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
    const a = this.s.acct(apiKey);
    a.marginMode = m;
    a.marginModeUpdatedMs = Date.now();
    return { code: 0, msg: 'Request accepted', result: '{"reasons":[]}' };
  }

  private privateEndpoint(ep: Endpoint, apiKey: string, p: Record<string, unknown>): EpResult {
    switch (ep) {
      case 'createBatch':
        return this.ops.batch('create', apiKey, p);
      case 'amendBatch':
        return this.ops.batch('amend', apiKey, p);
      case 'cancelBatch':
        return this.ops.batch('cancel', apiKey, p);
      case 'create': {
        const r = this.ops.createOrder(apiKey, p);
        return 'code' in r ? { code: r.code, msg: r.msg, result: '{}' } : { code: 0, msg: 'OK', result: `{"orderId":${q(r.orderId)},"orderLinkId":${q(r.orderLinkId)}}` };
      }
      case 'cancel': {
        const r = this.ops.cancelOrder(apiKey, p);
        return 'code' in r ? { code: r.code, msg: r.msg, result: '{}' } : { code: 0, msg: 'OK', result: `{"orderId":${q(r.orderId)},"orderLinkId":${q(r.orderLinkId)}}` };
      }
      case 'amend': {
        const r = this.ops.amendOrder(apiKey, p);
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
        return { code: 0, msg: '', result: apiKeyInfoJson(apiKey, this.userId(apiKey), this.s.startedMs) };
      case 'accountInfo': {
        const a = this.s.acct(apiKey);
        return { code: 0, msg: 'OK', result: accountInfoJson(a.marginMode, a.marginModeUpdatedMs) };
      }
      case 'feeRate':
        return this.feeRate(p);
      case 'setLeverage':
        return this.setLeverage(apiKey, p);
      case 'setMarginMode':
        return this.setMarginMode(apiKey, p);
      case 'dcpInfo':
        return this.dcp.info(apiKey);
      case 'setDcp':
        return this.dcp.set(apiKey, p);
      default:
        return fail(E.routeNotFound);
    }
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
    if (symbol && !this.s.sym(category, symbol)) return fail(E.symbolInvalid);
    const items: string[] = [];
    this.s.cancelling = 'CancelByUser';
    try {
      for (const st of this.s.syms.values()) {
        if (st.category !== category) continue;
        if (symbol && st.symbol !== symbol) continue;
        if (baseCoin && st.fmt.inst.base !== baseCoin) continue;
        if (settleCoin && st.fmt.inst.quote !== settleCoin) continue;
        for (const o of st.book.cancelAll(apiKey)) items.push(`{"orderId":${q(this.s.extId(st, o.orderId))},"orderLinkId":${q(linkIdOut(o.clientOrderId))}}`);
      }
    } finally {
      this.s.cancelling = undefined;
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
    if (symbol && !this.s.sym(category, symbol)) return fail(E.symbolInvalid);
    const limText = p['limit'];
    let limit = 20;
    if (limText !== undefined && limText !== '') {
      const n = typeof limText === 'string' && /^\d+$/.test(limText) ? Number(limText) : NaN;
      if (!(n >= 1 && n <= 50)) return fail(E.limitInvalid);
      limit = n;
    }
    const cur = safeDecode(typeof p['cursor'] === 'string' ? p['cursor'] : '');
    const offset = /^page_args=\d+$/.test(cur) ? Number(cur.slice(10)) : 0;
    const a = this.s.acct(apiKey);
    const rows: Array<{ st: SymState; o: SimOrder }> = [];
    for (const r of a.recent.values()) {
      if (r.category !== category) continue;
      if (symbol && r.symbol !== symbol) continue;
      if (orderId && r.order.orderId !== orderId) continue;
      if (link && linkIdOut(r.order.clientOrderId) !== link) continue;
      const st = this.s.sym(r.category, r.symbol);
      if (st) rows.push({ st, o: r.order });
    }
    rows.sort((x, y) => y.o.createdMs - x.o.createdMs || (y.o.orderId > x.o.orderId ? 1 : -1));
    const page = rows.slice(offset, offset + limit);
    const items = page.map((r) => restOrderJson(r.o, r.st, this.s.extraFor(a, r.o, r.st)));
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
    if (symbol && !this.s.sym(category, symbol)) return fail(E.symbolInvalid);
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
    const a = this.s.acct(apiKey);
    type Row = { st: SymState; o: SimOrder };
    const rows: Row[] = [];
    for (const st of this.s.syms.values()) {
      if (st.category !== category) continue;
      if (symbol && st.symbol !== symbol) continue;
      if (baseCoin && st.fmt.inst.base !== baseCoin) continue;
      if (settleCoin && st.fmt.inst.quote !== settleCoin) continue;
      if (orderId || link) {
        const core = orderId ? this.s.coreId(st, orderId) : undefined;
        if (orderId && core === undefined) continue;
        const c = st.book.getOrder(apiKey, core !== undefined ? { orderId: core } : { clientOrderId: link! });
        const o = c ? this.s.ext(st, c) : undefined;
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
      if (openOnly === 0) for (const o of st.book.openOrders(apiKey)) rows.push({ st, o: this.s.ext(st, o) });
    }
    if (!orderId && !link && openOnly === 1) {
      for (const r of a.recent.values()) {
        if (r.category !== category || isOpen(r.order.status)) continue;
        const st = this.s.sym(r.category, r.symbol);
        if (!st || (symbol && st.symbol !== symbol)) continue;
        rows.push({ st, o: r.order });
      }
    }
    rows.sort((x, y) => y.o.createdMs - x.o.createdMs || (y.o.orderId > x.o.orderId ? 1 : -1));
    const page = rows.slice(offset, offset + limit);
    const items = page.map((r) => restOrderJson(r.o, r.st, this.s.extraFor(a, r.o, r.st)));
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
    for (const st of this.s.syms.values()) {
      if (st.category !== 'linear') continue;
      if (symbol) {
        if (st.symbol !== symbol) continue;
        items.push(positionJson(this.s, apiKey, st, false));
      } else if (st.fmt.inst.quote === settleCoin) {
        const pos = acc?.positions.get(`${st.market}:${st.symbol}`);
        if (pos && pos.sizeLots !== 0) items.push(positionJson(this.s, apiKey, st, false));
      }
    }
    if (symbol && items.length === 0) return fail(E.symbolInvalid);
    return { code: 0, msg: 'OK', result: `{"list":[${items.join(',')}],"nextPageCursor":"","category":"linear"}` };
  }

  private wallet(apiKey: string, p: Record<string, unknown>): EpResult {
    const t = p['accountType'];
    if (t !== 'UNIFIED') return { code: 10001, msg: 'accountType only support UNIFIED.', result: '{}' };
    const coin = typeof p['coin'] === 'string' && p['coin'] !== '' ? new Set(p['coin'].split(',')) : undefined;
    return { code: 0, msg: 'OK', result: `{"list":[${walletJson(this.s, apiKey, false, coin)}]}` };
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
    const a = this.s.acct(apiKey);
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
      if (baseCoin && this.s.sym(e.category, e.symbol)?.fmt.inst.base !== baseCoin) continue;
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

  private sweepIdle(): void {
    const now = Date.now();
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

