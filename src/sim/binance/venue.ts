/**
 * One Binance venue (Spot or USD-M) on one uWS app and port: REST (`/api/v3`, `/fapi/v1..3`), market streams,
 * the WebSocket API (`/ws-api/v3`, `/ws-fapi/v1`) and USD-M private streams (`/private/ws|stream`).
 *
 * Order of checks on a request, as Binance does: injected HTTP fault, route, IP weight (429, then 418 when
 * requests continue past the limit), API key (-2014/-2015), timestamp/signature (-1102/-1022/-1021), order count
 * (-1015), then the endpoint's own validation. Every REST answer carries `X-MBX-USED-WEIGHT-1M`; order endpoints
 * add `X-MBX-ORDER-COUNT-10S` and `-1D` (Spot) / `-1M` (USD-M).
 */
import { uws, type HttpResponse, type TemplatedApp, type WebSocketBehavior } from '../../util/uws.js';
import {
  BodyTooLargeError,
  baseUrl,
  closeListen,
  guardAbort,
  listen,
  parseQuery,
  readBody,
  requestInfo,
  send,
  sendAfter,
  type Listening,
  type RequestInfo,
} from '../core/http.js';
import { RateLimiter, type RateCheck } from '../core/ratelimit.js';
import { accountProfileOf, type SimAccount, type SimContext, type SimFault, type SimMarketId, type SimVenueHandle } from '../core/types.js';
import { AlgoOrders } from './algo.js';
import { rateStr } from '../core/fees.js';
import { SpotStops } from './stops.js';
import { KeyRing, checkTimestamp, restPayload, wsApiPayload } from './auth.js';
import { ConnSet, newConnData, upgradeWith, wsSend, type BnSocket, type ConnData, type WsApiSession } from './conn.js';
import { BnError, E } from './errors.js';
import { amt, feeAssetOf, idNum, spotOrderQuery, usdmOrder, type BnKind } from './format.js';
import { defaultLimits, exchangeInfoJson, type BnLimits } from './info.js';
import { BnOps, LEVERAGE_BRACKETS, type Op, type Params } from './ops.js';
import { MarketStreams, controlMessage } from './streams.js';
import { KLINE_INTERVALS, Ticker24h, TradeViews, type TradeQuery } from './ticker.js';
import { BnHistory } from './history.js';
import { USDM_USER_EVENTS, UserData } from './userdata.js';

/** a listenKey as the venue issues them (64 alphanumerics; 32+ accepted), told apart from a symbol's stream name */
const LISTEN_KEY_RE = /^[A-Za-z0-9]{32,}$/;

export interface BinanceVenueOptions {
  host: string;
  port?: number;
  app?: TemplatedApp;
  /** server ping period on every WebSocket (default Spot 20 s, USD-M 180 s) */
  pingIntervalMs?: number;
  /** close a socket that has not answered a ping for this long (default Spot 60 s, USD-M 600 s) */
  pongTimeoutMs?: number;
  /** USD-M listenKey lifetime without keep-alive (default 60 min) */
  listenKeyTtlMs?: number;
  /**
   * Every WebSocket (market streams, WS API, private streams) is closed this long after it opened, as Binance does
   * at 24 h ("a single connection is only valid for 24 hours"); default 24 h, 0 = never. Tests shorten it.
   */
  connLifetimeMs?: number;
  /** rate limits (defaults: the real venue's) */
  limits?: Partial<BnLimits>;
}

type Security = 'NONE' | 'KEY' | 'SIGNED';

interface Route {
  sec: Security;
  /** request weight (may depend on params); -1 = answer with the given error before anything else */
  weight: number | ((p: Params) => number);
  /** counts toward ORDERS limits */
  order?: boolean;
  /** Spot: weight 0 when it succeeds, 1 when it fails (cancel, cancel-all since 2026-04-02; orders imply it) */
  freeOnSuccess?: boolean;
  fn: (p: Params, acc: SimAccount | undefined) => Op;
}

interface ApiCall {
  ws: BnSocket;
  d: ConnData;
  s: WsApiSession;
  p: Params;
  acc: SimAccount | undefined;
  now: number;
}

interface ApiDef {
  sec: Security;
  weight: number;
  order?: boolean;
  /** may use the session.logon key instead of apiKey/signature */
  logonOk?: boolean;
  /** Spot: weight 0 when it succeeds, 1 when it fails (as Route.freeOnSuccess) */
  freeOnSuccess?: boolean;
  fn: (c: ApiCall) => Op;
}

function mapParams(m: Map<string, string>): Params {
  return { get: (k) => m.get(k), has: (k) => m.has(k) };
}

export class BinanceVenue {
  readonly kind: BnKind;
  readonly isSpot: boolean;
  readonly app: TemplatedApp;
  readonly conns = new ConnSet();
  readonly ops: BnOps;
  readonly ud: UserData;
  readonly algo: AlgoOrders | undefined;
  /** Spot stop orders (STOP_LOSS[_LIMIT], TAKE_PROFIT[_LIMIT]) waiting for their trigger */
  readonly stops: SpotStops | undefined;
  readonly streams: MarketStreams;
  readonly ticker: Ticker24h;
  readonly history: BnHistory;
  readonly tradeViews: TradeViews;
  /** USD-M per account+symbol settings (leverage, margin type); position maths keep the default 20x */
  private readonly symConfig = new Map<string, { leverage: number; isolated: boolean }>();
  readonly limits: BnLimits;
  private readonly keys: KeyRing;
  private readonly weight: RateLimiter;
  private readonly orders10s: RateLimiter;
  private readonly ordersLong: RateLimiter;
  private readonly routes = new Map<string, Route>();
  private readonly apiDefs: Map<string, ApiDef>;
  private readonly countdowns = new Map<string, NodeJS.Timeout>();
  private readonly pingTimer: NodeJS.Timeout;
  private readonly pongTimeoutMs: number;
  private readonly lifetimeTimer: NodeJS.Timeout | undefined;
  private readonly connLifetimeMs: number;
  /** sockets closed at the end of their lifetime, by kind */
  readonly lifetimeCloses: Record<string, number> = { market: 0, private: 0, wsapi: 0 };
  private listening: Listening | undefined;
  private closed = false;
  private readonly startedMs = Date.now();

  constructor(
    readonly ctx: SimContext,
    readonly market: SimMarketId,
    readonly opts: BinanceVenueOptions,
  ) {
    this.kind = market === 'binanceSpot' ? 'spot' : 'usdm';
    this.isSpot = this.kind === 'spot';
    this.app = opts.app ?? uws().App();
    this.limits = { ...defaultLimits(this.kind), ...opts.limits };
    this.keys = new KeyRing(ctx.credentials);
    this.weight = new RateLimiter({ limit: this.limits.weightPerMin, intervalMs: 60_000, banAfter: this.limits.banAfter, banMs: this.limits.banMs });
    this.orders10s = new RateLimiter({ limit: this.limits.orders10s, intervalMs: 10_000 });
    this.ordersLong = new RateLimiter({ limit: this.limits.ordersLong, intervalMs: this.isSpot ? 86_400_000 : 60_000 });
    this.ud = new UserData(ctx, market, this.kind, opts.listenKeyTtlMs ?? 3_600_000);
    this.ops = new BnOps(ctx, market, this.kind, {
      syntheticOrderEvents: (s, o, st) => this.ud.syntheticOrderEvents(s, o, st),
      cancelId: (id) => {
        this.ud.cancelClientId = id;
      },
      amending: (a) => {
        this.ud.amending = a;
      },
      amendExecId: () => this.ud.lastAmendExecId,
    });
    this.algo = this.isSpot ? undefined : new AlgoOrders(ctx, market, this.ops, this.ud);
    this.stops = this.isSpot ? new SpotStops(ctx, market, this.ud) : undefined;
    this.ops.stops = this.stops;
    this.streams = new MarketStreams(ctx, market, this.kind, this.app, this.conns);
    this.ticker = new Ticker24h(this.ops.books(), this.kind, this.ops.fmts);
    this.history = new BnHistory(this.ops.books());
    this.tradeViews = new TradeViews(this.ticker, this.kind);
    this.streams.tickerSource = (sym, now, mini) => this.ticker.event(sym, now, mini);
    ctx.onFault((f) => this.onFault(f));

    const pingMs = opts.pingIntervalMs ?? (this.isSpot ? 20_000 : 180_000);
    this.pongTimeoutMs = opts.pongTimeoutMs ?? (this.isSpot ? 60_000 : 600_000);
    this.pingTimer = setInterval(() => this.pingAll(), pingMs);
    this.pingTimer.unref?.();
    this.connLifetimeMs = opts.connLifetimeMs ?? 86_400_000;
    if (this.connLifetimeMs > 0) {
      // checked at a twentieth of the lifetime (at most every second, at least every 20 ms)
      this.lifetimeTimer = setInterval(() => this.closeExpired(), Math.max(20, Math.min(1000, Math.floor(this.connLifetimeMs / 20))));
      this.lifetimeTimer.unref?.();
    }

    this.buildRoutes();
    this.apiDefs = this.buildApi();
    this.registerHttp();
    this.registerWs(!opts.app);
  }

  async start(): Promise<SimVenueHandle> {
    this.listening = await listen(this.app, this.opts.host, this.opts.port ?? 0);
    const { host, port } = this.listening;
    const c = this.ctx.credentials;
    return {
      endpoints: {
        restBaseUrl: baseUrl('http', host, port),
        wsStreamBaseUrl: baseUrl('ws', host, port),
        wsApiUrl: baseUrl('ws', host, port) + (this.isSpot ? '/ws-api/v3' : '/ws-fapi/v1'),
        apiKey: c.apiKey,
        apiSecret: c.apiSecret,
        ed25519ApiKey: c.ed25519ApiKey,
        ed25519PrivateKeyPem: c.ed25519PrivateKeyPem,
        ed25519PublicKeyPem: c.ed25519PublicKeyPem,
      },
      close: () => this.close(),
      lifetimeCloses: () => ({ ...this.lifetimeCloses }),
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.pingTimer);
    if (this.lifetimeTimer) clearInterval(this.lifetimeTimer);
    for (const t of this.countdowns.values()) clearTimeout(t);
    this.countdowns.clear();
    this.streams.close();
    this.ticker.close();
    this.history.close();
    this.ud.close();
    this.algo?.close();
    this.stops?.close();
    closeListen(this.listening);
    if (this.isSpot) {
      // Spot announces a shutdown on streams and the WS API ("reconnect now") before the sockets go
      const ev = `{"e":"serverShutdown","E":${this.now()}}`;
      for (const ws of this.conns.all) if (ws.getUserData().kind !== 'private') wsSend(ws, ev);
    }
    this.conns.closeKind('all');
  }

  private now(): number {
    return this.ctx.nowMs(this.market);
  }

  // ------------------------------------------------------------------------------------------ faults, pings
  private onFault(f: SimFault): void {
    if (f.kind === 'closeConnections' && f.market === this.market) this.conns.closeKind(f.which ?? 'all');
  }

  /** one injected HTTP status per request (the registry counts `count` down) */
  private takeHttpFault(): Extract<SimFault, { kind: 'httpStatus' }> | undefined {
    return this.ctx.takeFault(this.market, 'httpStatus');
  }

  /** close every socket older than the connection lifetime, as the venue does at 24 h (counted by kind) */
  private closeExpired(): void {
    const now = Date.now();
    for (const ws of this.conns.all) {
      const d = ws.getUserData();
      if (d.closed || now - d.openedMs < this.connLifetimeMs) continue;
      d.closed = true;
      this.lifetimeCloses[d.kind] = (this.lifetimeCloses[d.kind] ?? 0) + 1;
      try {
        ws.end(1000, 'connection lifetime exceeded');
      } catch {
        /* already gone */
      }
    }
  }

  private pingAll(): void {
    const now = Date.now();
    for (const ws of this.conns.all) {
      const d = ws.getUserData();
      if (d.closed) continue;
      if (now - d.lastPongMs > this.pongTimeoutMs) {
        d.closed = true;
        ws.end(1008, 'pong timeout');
        continue;
      }
      try {
        ws.ping(String(now));
      } catch {
        d.closed = true;
      }
    }
  }

  // ------------------------------------------------------------------------------------------ account profile
  /** GET /sapi/v1/account/apiRestrictions (Spot host): the key's permissions as the account profile says */
  private apiRestrictions(): string {
    const pr = accountProfileOf(this.ctx);
    return (
      `{"ipRestrict":${pr.ipRestrict},"createTime":${this.startedMs},"enableReading":true,"enableSpotAndMarginTrading":true,` +
      `"enableWithdrawals":${pr.withdrawals},"enableInternalTransfer":false,"enableMargin":false,"enableFutures":true,` +
      `"permitsUniversalTransfer":false,"enableVanillaOptions":false,"enableFixApiTrade":false,"enableFixReadOnly":false,` +
      `"enablePortfolioMarginTrading":false}`
    );
  }

  /**
   * POST /fapi/v1/positionSide/dual: switch one-way <-> hedge mode, refused as Binance does while any order is open
   * (-4067) or any position is held (-4068), or when nothing would change (-4059).
   */
  private setDualSide(acc: SimAccount, p: Params): Op {
    const v = p.get('dualSidePosition');
    if (v === undefined || v === '') return E.mandatory('dualSidePosition');
    if (v !== 'true' && v !== 'false') return E.invalidParam('dualSidePosition');
    const pr = accountProfileOf(this.ctx);
    const want = v === 'true';
    if (pr.binanceUsdmHedge === want) return new BnError(400, -4059, 'No need to change position side.');
    for (const b of this.ops.books().values())
      if (b.openCountOf(acc.id) > 0) return new BnError(400, -4067, 'Position side cannot be changed if there exists open orders.');
    for (const [k, pos] of acc.positions)
      if (k.startsWith(`${this.market}:`) && pos.sizeLots !== 0) return new BnError(400, -4068, 'Position side cannot be changed if there exists position.');
    pr.binanceUsdmHedge = want;
    return '{"code":200,"msg":"success"}';
  }

  // ------------------------------------------------------------------------------------------ routes
  private buildRoutes(): void {
    const r = (method: string, path: string, route: Route): void => {
      this.routes.set(method + ' ' + path, route);
    };
    const o = this.ops;
    const acc = (a: SimAccount | undefined): SimAccount => a!;
    if (this.isSpot) {
      const V = '/api/v3';
      r('GET', V + '/ping', { sec: 'NONE', weight: 1, fn: () => '{}' });
      r('GET', V + '/time', { sec: 'NONE', weight: 1, fn: () => `{"serverTime":${this.now()}}` });
      r('GET', V + '/exchangeInfo', { sec: 'NONE', weight: 20, fn: (p) => this.exchangeInfo(p) });
      r('GET', V + '/depth', {
        sec: 'NONE',
        weight: (p) => {
          const l = o.depthLimit(p);
          return l instanceof BnError ? 5 : l[1];
        },
        fn: (p) => {
          const l = o.depthLimit(p);
          return l instanceof BnError ? l : o.depth(p, l[0]);
        },
      });
      r('POST', V + '/order', { sec: 'SIGNED', weight: 0, order: true, fn: (p, a) => o.place(acc(a), p) });
      // successful place / cancel / cancel-all cost 0 weight, failed ones 1 (spot-docs CHANGELOG 2026-03-27)
      r('DELETE', V + '/order', { sec: 'SIGNED', weight: 0, freeOnSuccess: true, fn: (p, a) => o.cancel(acc(a), p) });
      r('GET', V + '/order', { sec: 'SIGNED', weight: 4, fn: (p, a) => o.query(acc(a), p) });
      // unfilled order count 0: not an `order` route
      r('PUT', V + '/order/amend/keepPriority', { sec: 'SIGNED', weight: 4, fn: (p, a) => o.amendKeepPriority(acc(a), p) });
      r('DELETE', V + '/openOrders', { sec: 'SIGNED', weight: 0, freeOnSuccess: true, fn: (p, a) => o.cancelAll(acc(a), p) });
      r('GET', V + '/openOrders', { sec: 'SIGNED', weight: (p) => (p.has('symbol') ? 6 : 80), fn: (p, a) => o.openOrders(acc(a), p) });
      r('GET', V + '/account', { sec: 'SIGNED', weight: 20, fn: (_p, a) => o.spotAccount(acc(a)) });
      r('GET', V + '/allOrders', { sec: 'SIGNED', weight: 20, fn: (p, a) => this.allOrders(acc(a), p) });
      r('GET', V + '/myTrades', { sec: 'SIGNED', weight: (p) => (p.has('orderId') ? 5 : 20), fn: (p, a) => this.myTrades(acc(a), p) });
      r('GET', V + '/ticker/24hr', {
        sec: 'NONE',
        weight: (p) => {
          if (p.has('symbol')) return 2;
          const n = (p.get('symbols') ?? '').split(',').length;
          return !p.has('symbols') ? 80 : n <= 20 ? 2 : n <= 100 ? 40 : 80;
        },
        fn: (p) => this.ticker24(p),
      });
      r('GET', V + '/trades', { sec: 'NONE', weight: 25, fn: (p) => this.trades(p) });
      r('GET', V + '/aggTrades', { sec: 'NONE', weight: 4, fn: (p) => this.aggTrades(p) });
      r('GET', V + '/klines', { sec: 'NONE', weight: 2, fn: (p) => this.klines(p) });
      r('GET', '/sapi/v1/system/status', { sec: 'NONE', weight: 1, fn: () => '{"status":0,"msg":"normal"}' });
      r('GET', '/sapi/v1/asset/tradeFee', {
        sec: 'SIGNED',
        weight: 1,
        fn: (p) => {
          const sr = p.has('symbol') ? this.ops.sym(p) : undefined;
          if (sr instanceof BnError) return sr;
          const names = sr ? [sr.fmt.inst.symbol] : [...this.ops.books().keys()];
          const fr = this.ops.feeRates();
          return '[' + names.map((n) => `{"symbol":"${n}","makerCommission":"${rateStr(fr.maker)}","takerCommission":"${rateStr(fr.taker)}"}`).join(',') + ']';
        },
      });
      r('GET', V + '/account/commission', { sec: 'SIGNED', weight: 20, fn: (p, a) => o.spotCommission(acc(a), p) });
      // the BNB fee discount of the account (spotBNBBurn); interest burn is a margin feature: always off here
      const burn = (a: SimAccount): string => `{"spotBNBBurn":${a.bnbBurn.binanceSpot},"interestBNBBurn":false}`;
      r('GET', '/sapi/v1/bnbBurn', { sec: 'SIGNED', weight: 1, fn: (_p, a) => burn(acc(a)) });
      r('POST', '/sapi/v1/bnbBurn', {
        sec: 'SIGNED',
        weight: 1,
        fn: (p, a) => {
          const v = o.setBnbBurn(acc(a), p, 'spotBNBBurn');
          return v instanceof BnError ? v : burn(acc(a));
        },
      });
      r('GET', V + '/ticker/bookTicker', { sec: 'NONE', weight: (p) => (p.has('symbol') ? 2 : 4), fn: (p) => o.bookTicker(p) });
      // margin reference data (ccxt's loadMarkets asks for it when it holds a key): the simulator lists no margin pairs
      r('GET', '/sapi/v1/margin/allPairs', { sec: 'KEY', weight: 1, fn: () => '[]' });
      r('GET', '/sapi/v1/margin/isolated/allPairs', { sec: 'SIGNED', weight: 10, fn: () => '[]' });
      // the API key's permissions (the account profile: withdrawals, IP allowlist)
      r('GET', '/sapi/v1/account/apiRestrictions', { sec: 'SIGNED', weight: 1, fn: () => this.apiRestrictions() });
      return;
    }
    const V = '/fapi/v1';
    const algo = this.algo!;
    r('GET', V + '/ping', { sec: 'NONE', weight: 1, fn: () => '{}' });
    r('GET', V + '/time', { sec: 'NONE', weight: 1, fn: () => `{"serverTime":${this.now()}}` });
    r('GET', V + '/exchangeInfo', { sec: 'NONE', weight: 1, fn: (p) => this.exchangeInfo(p) });
    r('GET', V + '/depth', {
      sec: 'NONE',
      weight: (p) => {
        const l = o.depthLimit(p);
        return l instanceof BnError ? 2 : l[1];
      },
      fn: (p) => {
        const l = o.depthLimit(p);
        return l instanceof BnError ? l : o.depth(p, l[0]);
      },
    });
    r('POST', V + '/order', { sec: 'SIGNED', weight: 0, order: true, fn: (p, a) => o.place(acc(a), p) });
    r('DELETE', V + '/order', { sec: 'SIGNED', weight: 1, fn: (p, a) => o.cancel(acc(a), p) });
    r('GET', V + '/order', { sec: 'SIGNED', weight: 1, fn: (p, a) => o.query(acc(a), p) });
    // modify: 1 on the 10 s and 1 min order limits, IP weight 1
    r('PUT', V + '/order', { sec: 'SIGNED', weight: 1, order: true, fn: (p, a) => o.modify(acc(a), p) });
    r('GET', V + '/openOrder', { sec: 'SIGNED', weight: 1, fn: (p, a) => o.query(acc(a), p, true) });
    r('GET', V + '/openOrders', { sec: 'SIGNED', weight: (p) => (p.has('symbol') ? 1 : 40), fn: (p, a) => o.openOrders(acc(a), p) });
    r('GET', V + '/trades', { sec: 'NONE', weight: 5, fn: (p) => this.trades(p) });
    r('GET', V + '/aggTrades', { sec: 'NONE', weight: 20, fn: (p) => this.aggTrades(p) });
    r('GET', V + '/klines', {
      sec: 'NONE',
      weight: (p) => {
        const l = Number(p.get('limit') ?? 500);
        return l < 100 ? 1 : l < 500 ? 2 : l <= 1000 ? 5 : 10;
      },
      fn: (p) => this.klines(p),
    });
    r('GET', V + '/premiumIndex', { sec: 'NONE', weight: (p) => (p.has('symbol') ? 1 : 10), fn: (p) => this.premiumIndex(p) });
    r('POST', V + '/leverage', { sec: 'SIGNED', weight: 1, fn: (p, a) => this.setLeverage(acc(a), p) });
    r('POST', V + '/marginType', { sec: 'SIGNED', weight: 1, fn: (p, a) => this.setMarginType(acc(a), p) });
    r('GET', V + '/symbolConfig', { sec: 'SIGNED', weight: 5, fn: (p, a) => this.symbolConfig(acc(a), p) });
    r('GET', V + '/positionSide/dual', { sec: 'SIGNED', weight: 30, fn: () => `{"dualSidePosition":${accountProfileOf(this.ctx).binanceUsdmHedge}}` });
    r('POST', V + '/positionSide/dual', { sec: 'SIGNED', weight: 1, fn: (p, a) => this.setDualSide(acc(a), p) });
    r('GET', V + '/commissionRate', {
      sec: 'SIGNED',
      weight: 20,
      fn: (p) => {
        const sr = this.ops.sym(p);
        const fr = this.ops.feeRates();
        return sr instanceof BnError
          ? sr
          : `{"symbol":"${sr!.fmt.inst.symbol}","makerCommissionRate":"${rateStr(fr.maker)}","takerCommissionRate":"${rateStr(fr.taker)}","rpiCommissionRate":"0"}`;
      },
    });
    // the account's BNB fee discount (paid in BNB, 10 % off, when the futures wallet holds enough)
    r('GET', V + '/feeBurn', { sec: 'SIGNED', weight: 30, fn: (_p, a) => `{"feeBurn":${acc(a).bnbBurn.binanceUsdm}}` });
    r('POST', V + '/feeBurn', {
      sec: 'SIGNED',
      weight: 1,
      fn: (p, a) => {
        const v = o.setBnbBurn(acc(a), p, 'feeBurn');
        return v instanceof BnError ? v : '{"code":200,"msg":"success"}';
      },
    });
    r('GET', V + '/ticker/24hr', { sec: 'NONE', weight: (p) => (p.has('symbol') ? 1 : 40), fn: (p) => this.ticker24(p) });
    r('GET', V + '/ticker/bookTicker', { sec: 'NONE', weight: (p) => (p.has('symbol') ? 2 : 5), fn: (p) => o.bookTicker(p) });
    r('GET', V + '/leverageBracket', { sec: 'SIGNED', weight: 1, fn: (p) => o.leverageBracket(p) });
    r('GET', V + '/allOrders', { sec: 'SIGNED', weight: 5, fn: (p, a) => this.allOrders(acc(a), p) });
    r('GET', V + '/userTrades', { sec: 'SIGNED', weight: 5, fn: (p, a) => this.myTrades(acc(a), p) });
    r('DELETE', V + '/allOpenOrders', { sec: 'SIGNED', weight: 1, fn: (p, a) => o.cancelAll(acc(a), p) });
    r('POST', V + '/countdownCancelAll', { sec: 'SIGNED', weight: 10, fn: (p, a) => this.countdown(acc(a), p) });
    r('POST', V + '/algoOrder', { sec: 'SIGNED', weight: 0, order: true, fn: (p, a) => algo.place(acc(a), p) });
    r('DELETE', V + '/algoOrder', { sec: 'SIGNED', weight: 1, fn: (p, a) => algo.cancel(acc(a), p) });
    r('DELETE', V + '/algoOpenOrders', { sec: 'SIGNED', weight: 1, fn: (p, a) => algo.cancelAll(acc(a), p) });
    r('GET', V + '/openAlgoOrders', { sec: 'SIGNED', weight: (p) => (p.has('symbol') ? 1 : 40), fn: (p, a) => algo.list(acc(a), p) });
    r('GET', '/fapi/v2/positionRisk', { sec: 'SIGNED', weight: 5, fn: (p, a) => o.positionRisk(acc(a), p, 2) });
    r('GET', '/fapi/v3/positionRisk', { sec: 'SIGNED', weight: 5, fn: (p, a) => o.positionRisk(acc(a), p, 3) });
    r('GET', '/fapi/v2/balance', { sec: 'SIGNED', weight: 5, fn: (_p, a) => o.futBalance(acc(a)) });
    r('GET', '/fapi/v3/balance', { sec: 'SIGNED', weight: 5, fn: (_p, a) => o.futBalance(acc(a)) });
    r('GET', '/fapi/v2/account', { sec: 'SIGNED', weight: 5, fn: (_p, a) => o.futAccount(acc(a)) });
    r('GET', '/fapi/v3/account', { sec: 'SIGNED', weight: 5, fn: (_p, a) => o.futAccount(acc(a)) });
    r('POST', V + '/listenKey', { sec: 'KEY', weight: 1, fn: (_p, a) => `{"listenKey":"${this.ud.startKey(acc(a).id)}"}` });
    r('PUT', V + '/listenKey', {
      sec: 'KEY',
      weight: 1,
      fn: (_p, a) => {
        const k = this.ud.keepAlive(acc(a).id);
        return k ? `{"listenKey":"${k}"}` : E.badListenKey();
      },
    });
    r('DELETE', V + '/listenKey', {
      sec: 'KEY',
      weight: 1,
      fn: (_p, a) => {
        this.ud.stopKey(acc(a).id);
        return '{}';
      },
    });
  }

  private tradeQuery(p: Params, max: number): TradeQuery | BnError {
    const INT = /^[0-9]{1,20}$/;
    for (const k of ['limit', 'startTime', 'endTime', 'fromId']) {
      const v = p.get(k);
      if (v !== undefined && v.length > 0 && !INT.test(v)) return E.illegalChars(k, '^[0-9]{1,20}$');
    }
    const l = p.get('limit');
    const num = (k: string): number | undefined => (p.get(k) ? Number(p.get(k)) : undefined);
    return { limit: l ? Math.min(max, Math.max(1, Number(l))) : 500, fromId: num('fromId'), start: num('startTime'), end: num('endTime') };
  }

  private trades(p: Params): Op {
    const sr = this.ops.sym(p);
    if (sr instanceof BnError) return sr;
    const q = this.tradeQuery(p, 1000);
    return q instanceof BnError ? q : this.tradeViews.trades(sr!.fmt.inst.symbol, q.limit);
  }

  private aggTrades(p: Params): Op {
    const sr = this.ops.sym(p);
    if (sr instanceof BnError) return sr;
    const q = this.tradeQuery(p, 1000);
    return q instanceof BnError ? q : this.tradeViews.aggTrades(sr!.fmt.inst.symbol, q);
  }

  private klines(p: Params): Op {
    const sr = this.ops.sym(p);
    if (sr instanceof BnError) return sr;
    const iv = p.get('interval');
    if (iv === undefined || iv.length === 0) return E.mandatory('interval');
    const ms = KLINE_INTERVALS[iv];
    if (ms === undefined) return new BnError(400, -1120, 'Invalid interval.');
    const q = this.tradeQuery(p, this.isSpot ? 1000 : 1500);
    return q instanceof BnError ? q : this.tradeViews.klines(sr!.fmt.inst.symbol, ms, q, this.now());
  }

  /** GET /fapi/v1/premiumIndex: mark = index = the book's mid; a flat 0.01 % funding every 8 h */
  private premiumIndex(p: Params): Op {
    const one = (sym: string): string => {
      const book = this.ops.books().get(sym)!;
      const pd = book.instrument.priceDecimals;
      const b = book.bestBid();
      const a = book.bestAsk();
      const mid = b && a ? (b.priceTicks + a.priceTicks) / 2 : ((b ?? a)?.priceTicks ?? 0);
      const px = (mid / 10 ** pd).toFixed(8);
      const now = this.now();
      const next = Math.floor(now / 28_800_000) * 28_800_000 + 28_800_000;
      return (
        `{"symbol":"${sym}","markPrice":"${px}","indexPrice":"${px}","estimatedSettlePrice":"${px}","lastFundingRate":"0.00010000",` +
        `"interestRate":"0.00010000","nextFundingTime":${next},"time":${now}}`
      );
    };
    if (p.has('symbol')) {
      const sr = this.ops.sym(p);
      return sr instanceof BnError ? sr : one(sr!.fmt.inst.symbol);
    }
    return '[' + [...this.ops.books().keys()].map(one).join(',') + ']';
  }

  private cfg(acc: SimAccount, symbol: string): { leverage: number; isolated: boolean } {
    const k = acc.id + ':' + symbol;
    let c = this.symConfig.get(k);
    if (!c) this.symConfig.set(k, (c = { leverage: 20, isolated: false }));
    return c;
  }

  private static maxNotional(leverage: number): number {
    let max = 0;
    for (const [lev, , cap] of LEVERAGE_BRACKETS) if (lev >= leverage) max = Math.max(max, cap);
    return max;
  }

  /** POST /fapi/v1/leverage: 1..125 (the brackets' top), answered with the notional cap at that leverage */
  private setLeverage(acc: SimAccount, p: Params): Op {
    const sr = this.ops.sym(p);
    if (sr instanceof BnError) return sr;
    const l = p.get('leverage');
    if (l === undefined || l.length === 0) return E.mandatory('leverage');
    if (!/^[0-9]{1,5}$/.test(l)) return E.illegalChars('leverage', '^[0-9]{1,20}$');
    const n = Number(l);
    if (n < 1 || n > LEVERAGE_BRACKETS[0]![0]) return new BnError(400, -4028, `Leverage ${n} is not valid`);
    const sym = sr!.fmt.inst.symbol;
    this.cfg(acc, sym).leverage = n;
    return `{"leverage":${n},"maxNotionalValue":"${BinanceVenue.maxNotional(n)}","symbol":"${sym}"}`;
  }

  /** POST /fapi/v1/marginType: ISOLATED | CROSSED; the same type again is -4046 */
  private setMarginType(acc: SimAccount, p: Params): Op {
    const sr = this.ops.sym(p);
    if (sr instanceof BnError) return sr;
    const t = p.get('marginType');
    if (t === undefined || t.length === 0) return E.mandatory('marginType');
    if (t !== 'ISOLATED' && t !== 'CROSSED') return E.invalidParam('marginType');
    const c = this.cfg(acc, sr!.fmt.inst.symbol);
    if (c.isolated === (t === 'ISOLATED')) return new BnError(400, -4046, 'No need to change margin type.');
    c.isolated = t === 'ISOLATED';
    return '{"code":200,"msg":"success"}';
  }

  /** GET /fapi/v1/symbolConfig */
  private symbolConfig(acc: SimAccount, p: Params): Op {
    const sr = p.has('symbol') ? this.ops.sym(p) : undefined;
    if (sr instanceof BnError) return sr;
    const names = sr ? [sr.fmt.inst.symbol] : [...this.ops.books().keys()];
    return (
      '[' +
      names
        .map((n) => {
          const c = this.cfg(acc, n);
          return `{"symbol":"${n}","marginType":"${c.isolated ? 'ISOLATED' : 'CROSSED'}","isAutoAddMargin":false,"leverage":${c.leverage},"maxNotionalValue":"${BinanceVenue.maxNotional(c.leverage)}"}`;
        })
        .join(',') +
      ']'
    );
  }

  /** common filters of allOrders / myTrades: limit (default 500, max 1000), startTime, endTime */
  private histFilter(p: Params): { limit: number; start: number; end: number } | BnError {
    const INT = /^[0-9]{1,20}$/;
    for (const k of ['limit', 'startTime', 'endTime', 'orderId', 'fromId']) {
      const v = p.get(k);
      if (v !== undefined && v.length > 0 && !INT.test(v)) return E.illegalChars(k, '^[0-9]{1,20}$');
    }
    const l = p.get('limit');
    const limit = l ? Math.min(1000, Math.max(1, Number(l))) : 500;
    const start = p.get('startTime') ? Number(p.get('startTime')) : -Infinity;
    const end = p.get('endTime') ? Number(p.get('endTime')) : Infinity;
    return { limit, start, end };
  }

  /** GET /api/v3/allOrders, /fapi/v1/allOrders: orders >= orderId, or in [startTime, endTime], or the most recent; oldest first */
  private allOrders(acc: SimAccount, p: Params): Op {
    const sr = this.ops.sym(p);
    if (sr instanceof BnError) return sr;
    const f = this.histFilter(p);
    if (f instanceof BnError) return f;
    const { fmt } = sr!;
    let list = this.history.ordersOf(acc.id, fmt.inst.symbol);
    const from = p.get('orderId');
    if (from) {
      const min = BigInt(from);
      list = list.filter((o) => BigInt(o.orderId) >= min).slice(0, f.limit);
    } else {
      list = list.filter((o) => o.createdMs >= f.start && o.createdMs <= f.end);
      list = list.slice(Math.max(0, list.length - f.limit));
    }
    return '[' + list.map((o) => (this.isSpot ? spotOrderQuery(o, fmt) : usdmOrder(o, fmt, true))).join(',') + ']';
  }

  /**
   * GET /api/v3/myTrades (Spot), /fapi/v1/userTrades (USD-M), as documented: `fromId` (trades with id >= it, oldest
   * first) cannot be sent with startTime/endTime (-1128); startTime (with or without endTime): the oldest trades from
   * it; endTime alone or no time: the most recent; `orderId`: that order's trades (combinable with fromId). The window
   * is at most 24 h (Spot) / 7 days (USD-M, which also bounds a lone startTime or endTime to 7 days) (-1127). `id` is
   * the trade id of the private events (`t` of executionReport / ORDER_TRADE_UPDATE).
   */
  private myTrades(acc: SimAccount, p: Params): Op {
    const sr = this.ops.sym(p);
    if (sr instanceof BnError) return sr;
    const f = this.histFilter(p);
    if (f instanceof BnError) return f;
    const { fmt } = sr!;
    const ins = fmt.inst;
    const oid = p.get('orderId');
    const fromId = p.get('fromId');
    const hasStart = !!p.get('startTime');
    const hasEnd = !!p.get('endTime');
    if (fromId && (hasStart || hasEnd)) return new BnError(400, -1128, 'Combination of optional parameters invalid.');
    const maxWindow = this.isSpot ? 86_400_000 : 7 * 86_400_000;
    if (hasStart && hasEnd && f.end - f.start > maxWindow) {
      return new BnError(400, -1127, this.isSpot ? 'More than 24 hours between startTime and endTime.' : 'More than 7 days between startTime and endTime.');
    }
    if (hasStart && hasEnd && f.end < f.start) return new BnError(400, -1127, 'startTime must be less than endTime.');
    let start = f.start;
    let end = f.end;
    if (!this.isSpot && !fromId && !oid) {
      // USD-M: a lone startTime/endTime spans 7 days; neither: the last 7 days
      if (hasStart && !hasEnd) end = start + maxWindow;
      else if (!hasStart && hasEnd) start = end - maxWindow;
      else if (!hasStart && !hasEnd) start = this.now() - maxWindow;
    }
    let list = this.history.fillsOf(acc.id, ins.symbol);
    if (oid) {
      const want = BigInt(oid).toString();
      list = list.filter((h) => h.fill.orderId === want);
    }
    if (fromId) list = list.filter((h) => h.fill.tradeId >= Number(fromId)).slice(0, f.limit);
    else {
      list = list.filter((h) => h.fill.timeMs >= start && h.fill.timeMs <= end);
      list = hasStart ? list.slice(0, f.limit) : list.slice(Math.max(0, list.length - f.limit));
    }
    const rows = list.map(({ fill: x }) => {
      const px = fmt.px(x.priceTicks);
      const qty = fmt.qty(x.qtyLots);
      const quote = fmt.quote(x.priceTicks * x.qtyLots);
      const buy = x.side === 'BUY';
      if (this.isSpot) {
        return (
          `{"symbol":"${ins.symbol}","id":${x.tradeId},"orderId":${idNum(x.orderId)},"orderListId":-1,"price":"${px}","qty":"${qty}","quoteQty":"${quote}"` +
          `,"commission":"${amt(x.fee)}","commissionAsset":"${feeAssetOf(x, buy ? ins.base : ins.quote)}","time":${x.timeMs},"isBuyer":${buy},"isMaker":${x.maker},"isBestMatch":true}`
        );
      }
      return (
        `{"buyer":${buy},"commission":"${amt(x.fee)}","commissionAsset":"${feeAssetOf(x, ins.quote)}","id":${x.tradeId},"maker":${x.maker},"orderId":${idNum(x.orderId)}` +
        `,"price":"${px}","qty":"${qty}","quoteQty":"${quote}","realizedPnl":"0","side":"${x.side}","positionSide":"BOTH","symbol":"${ins.symbol}","time":${x.timeMs}}`
      );
    });
    return '[' + rows.join(',') + ']';
  }

  /** 24 h rolling statistics: one symbol (object), `symbols` (Spot, JSON array) or all (array) */
  private ticker24(p: Params): Op {
    const now = this.now();
    const s = p.get('symbol');
    if (s !== undefined) {
      const sr = this.ops.sym(p);
      return sr instanceof BnError ? sr : this.ticker.json(s, now);
    }
    let names = this.ticker.symbols();
    const ss = p.get('symbols');
    if (this.isSpot && ss !== undefined) {
      let want: unknown;
      try {
        want = JSON.parse(ss);
      } catch {
        return E.invalidJson();
      }
      if (!Array.isArray(want) || want.length === 0 || !want.every((x) => typeof x === 'string')) return E.invalidJson();
      for (const w of want as string[]) if (!this.ticker.has(w)) return E.badSymbol();
      names = want as string[];
    }
    return '[' + names.map((n) => this.ticker.json(n, now)).join(',') + ']';
  }

  private exchangeInfo(p: Params): Op {
    let list = this.ctx.instruments.get(this.market) ?? [];
    const s = p.get('symbol');
    const ss = p.get('symbols');
    if (s) {
      list = list.filter((i) => i.symbol === s);
      if (list.length === 0) return E.badSymbol();
    } else if (ss && this.isSpot) {
      let want: unknown;
      try {
        want = JSON.parse(ss);
      } catch {
        return E.invalidJson();
      }
      if (!Array.isArray(want)) return E.invalidJson();
      list = list.filter((i) => (want as unknown[]).includes(i.symbol));
      if (list.length === 0) return E.badSymbol();
    }
    return exchangeInfoJson(this.kind, list, this.now(), this.limits);
  }

  private countdown(acc: SimAccount, p: Params): Op {
    const sr = this.ops.sym(p);
    if (sr instanceof BnError) return sr;
    const sym = sr!.fmt.inst.symbol;
    const ct = p.get('countdownTime');
    if (ct === undefined || ct.length === 0) return E.mandatory('countdownTime');
    if (!/^[0-9]{1,12}$/.test(ct)) return E.illegalChars('countdownTime', '^[0-9]{1,12}$');
    const ms = Number(ct);
    const key = acc.id + '|' + sym;
    const prev = this.countdowns.get(key);
    if (prev) clearTimeout(prev);
    this.countdowns.delete(key);
    if (ms > 0) {
      const book = sr!.book;
      const t = setTimeout(() => {
        this.countdowns.delete(key);
        book.cancelAll(acc.id);
      }, ms);
      t.unref?.();
      this.countdowns.set(key, t);
    }
    return `{"symbol":"${sym}","countdownTime":"${ct}"}`;
  }

  // ------------------------------------------------------------------------------------------ HTTP
  private registerHttp(): void {
    const handler = (res: HttpResponse, req: import('../../util/uws.js').HttpRequest): void => {
      const info = requestInfo(req);
      const ip = Buffer.from(res.getRemoteAddressAsText()).toString();
      guardAbort(res);
      const cl = info.headers.get('content-length');
      const hasBody = info.method !== 'GET' && info.method !== 'HEAD' && ((cl !== undefined && cl !== '0') || info.headers.has('transfer-encoding'));
      const tap = this.ctx.wireTap;
      if (!hasBody) {
        tap?.orderIn();
        this.handle(res, info, ip, '');
        return;
      }
      readBody(res, 64 * 1024, tap ? () => tap.orderIn() : undefined).then(
        (b) => this.handle(res, info, ip, b.toString('utf8')),
        (e: unknown) => {
          if (e instanceof BodyTooLargeError) send(res, 413, '{"code":-1000,"msg":"Request body too large."}');
        },
      );
    };
    if (this.isSpot) {
      this.app.any('/api/*', handler);
      this.app.any('/sapi/*', handler);
    } else this.app.any('/fapi/*', handler);
    // any other path: a 404 as the real hosts answer, rather than a dropped connection (own app only: a shared app
    // is the embedder's to route)
    if (!this.opts.app) this.app.any('/*', handler);
  }

  private usedHeaders(ip: string, extra?: Record<string, string>): Record<string, string> {
    const h: Record<string, string> = { 'X-MBX-USED-WEIGHT-1M': String(this.weight.used(ip, this.now())) };
    if (extra) Object.assign(h, extra);
    return h;
  }

  private limitError(c: RateCheck): BnError {
    if (c.verdict === 'banned') return E.banned(c.resetAtMs);
    return E.tooMuchWeight(c.limit, '1m');
  }

  /** API key + signature + timestamp for a signed/keyed call; returns the account or an error */
  private authenticate(sec: Security, apiKey: string | undefined, p: Params, payload: () => string): SimAccount | BnError {
    if (apiKey === undefined || apiKey.length === 0 || !/^[A-Za-z0-9]{1,128}$/.test(apiKey)) return E.apiKeyFormat();
    if (!this.keys.kindOf(apiKey)) return E.rejectedKey();
    const acc = this.ctx.account(apiKey);
    if (!acc) return E.rejectedKey();
    if (sec === 'KEY') return acc;
    const ts = p.get('timestamp');
    if (ts === undefined || ts.length === 0) return E.mandatory('timestamp');
    const sig = p.get('signature');
    if (sig === undefined || sig.length === 0) return E.mandatory('signature');
    if (!this.keys.verify(apiKey, payload(), sig)) return E.badSignature();
    const te = checkTimestamp(ts, p.get('recvWindow'), this.now(), this.isSpot);
    if (te) return te;
    return acc;
  }

  private orderCounts(accId: string, add: boolean): { err?: BnError; headers: Record<string, string> } {
    const now = this.now();
    const longName = this.isSpot ? 'X-MBX-ORDER-COUNT-1D' : 'X-MBX-ORDER-COUNT-1M';
    if (!add) return { headers: { 'X-MBX-ORDER-COUNT-10S': String(this.orders10s.used(accId, now)), [longName]: String(this.ordersLong.used(accId, now)) } };
    const a = this.orders10s.hit(accId, 1, now);
    const b = a.verdict === 'ok' ? this.ordersLong.hit(accId, 1, now) : a;
    const headers = { 'X-MBX-ORDER-COUNT-10S': String(this.orders10s.used(accId, now)), [longName]: String(this.ordersLong.used(accId, now)) };
    if (a.verdict !== 'ok') return { err: E.tooManyOrders(this.limits.orders10s, '10s'), headers: { ...headers, 'Retry-After': String(a.retryAfterSec) } };
    if (b.verdict !== 'ok')
      return { err: E.tooManyOrders(this.limits.ordersLong, this.isSpot ? '1d' : '1m'), headers: { ...headers, 'Retry-After': String(b.retryAfterSec) } };
    return { headers };
  }

  private handle(res: HttpResponse, info: RequestInfo, ip: string, body: string): void {
    try {
      this.handleUnsafe(res, info, ip, body);
    } catch (e) {
      this.ctx.log.error({ err: e, path: info.path }, 'binance venue: request handler failed');
      send(res, 500, E.unknown().body, this.usedHeaders(ip));
    }
  }

  private handleUnsafe(res: HttpResponse, info: RequestInfo, ip: string, body: string): void {
    const now = this.now();
    const fault = this.takeHttpFault();
    if (fault) {
      const h: Record<string, string> = this.usedHeaders(ip);
      let b: string;
      if (fault.status === 429 || fault.status === 418) {
        const retry = fault.retryAfterSec ?? (fault.status === 418 ? 120 : 60);
        h['Retry-After'] = String(retry);
        b = fault.status === 418 ? E.banned(now + retry * 1000).body : E.tooMuchWeight(this.limits.weightPerMin, '1m').body;
      } else if (fault.status === 503) b = '{"code":-1008,"msg":"Server is currently overloaded with other requests. Please try again in a few minutes."}';
      else if (fault.status === 504)
        b = '{"code":-1007,"msg":"Timeout waiting for response from backend server. Send status unknown; execution status unknown."}';
      else b = E.unknown().body;
      send(res, fault.status, b, h);
      return;
    }
    const route = this.routes.get(info.method + ' ' + info.path);
    if (!route) {
      if (this.isSpot && info.path === '/api/v3/userDataStream') {
        // listenKeys were retired on Spot (2026-02-20): the endpoint is gone
        send(res, 410, '', { 'content-type': 'text/html', ...this.usedHeaders(ip) });
        return;
      }
      if (this.isSpot) send(res, 404, '', { 'content-type': 'text/html', ...this.usedHeaders(ip) });
      else send(res, 404, E.futInvalidPath(info.method, info.path).body, this.usedHeaders(ip));
      return;
    }
    const q = parseQuery(info.rawQuery);
    const merged = new Map<string, string>();
    if (body.length > 0) {
      const bq = parseQuery(body);
      for (const [k, v] of bq.params) merged.set(k, v);
    }
    for (const [k, v] of q.params) merged.set(k, v);
    const p = mapParams(merged);
    const w = typeof route.weight === 'function' ? route.weight(p) : route.weight;
    const rc = this.weight.hit(ip, w, now);
    if (rc.verdict !== 'ok') {
      send(res, rc.verdict === 'banned' ? 418 : 429, this.limitError(rc).body, this.usedHeaders(ip, { 'Retry-After': String(rc.retryAfterSec) }));
      return;
    }
    let acc: SimAccount | undefined;
    if (route.sec !== 'NONE') {
      const a = this.authenticate(route.sec, info.headers.get('x-mbx-apikey'), p, () => restPayload(info.rawQuery, body));
      if (a instanceof BnError) {
        if ((route.order || route.freeOnSuccess) && this.isSpot) this.weight.hit(ip, 1, now);
        send(res, a.status, a.body, this.usedHeaders(ip));
        return;
      }
      acc = a;
    }
    let orderHeaders: Record<string, string> | undefined;
    if (route.order && acc) {
      const oc = this.orderCounts(acc.id, true);
      orderHeaders = oc.headers;
      if (oc.err) {
        send(res, oc.err.status, oc.err.body, this.usedHeaders(ip, oc.headers));
        return;
      }
    }
    const out = route.fn(p, acc);
    let status = 200;
    let text: string;
    if (out instanceof BnError) {
      status = out.status;
      text = out.body;
      if ((route.order || route.freeOnSuccess) && this.isSpot) this.weight.hit(ip, 1, now);
    } else text = out;
    const headers = this.usedHeaders(ip, orderHeaders);
    const lat = this.ctx.peekFault(this.market, 'latencyMs');
    if (route.order || route.sec === 'SIGNED') sendAfter(res, lat ? lat.ms : 0, status, text, headers);
    else send(res, status, text, headers);
  }

  // ------------------------------------------------------------------------------------------ WebSockets
  private registerWs(withLegacy: boolean): void {
    const base: Partial<WebSocketBehavior<ConnData>> = {
      idleTimeout: 0,
      sendPingsAutomatically: false,
      maxPayloadLength: 64 * 1024,
      maxBackpressure: 64 * 1024 * 1024,
      close: (ws) => {
        const d = ws.getUserData();
        d.closed = true;
        this.conns.delete(ws);
        if (d.kind !== 'market') this.ud.detach(ws);
      },
      pong: (ws) => {
        ws.getUserData().lastPongMs = Date.now();
      },
    };
    this.streams.register(base, withLegacy);
    // WebSocket API
    this.app.ws<ConnData>(this.isSpot ? '/ws-api/v3' : '/ws-fapi/v1', {
      ...base,
      upgrade: (res, req, context) =>
        upgradeWith(res, req, context, (path, query, ip) => {
          const d = newConnData('wsapi', '', false, path, query, ip);
          d.session = { logonKey: undefined, logonAt: 0, subs: new Map(), nextSubId: 0, returnRateLimits: query.params.get('returnRateLimits') !== 'false' };
          return d;
        }),
      open: (ws) => this.conns.add(ws),
      message: (ws, msg) => {
        this.ctx.wireTap?.orderIn();
        this.onApiMessage(ws, Buffer.from(msg).toString('utf8'));
      },
    });
    if (!this.isSpot) {
      const priv = (combined: boolean): WebSocketBehavior<ConnData> => ({
        ...base,
        upgrade: (res, req, context) =>
          upgradeWith(res, req, context, (path, query, ip) => {
            const d = newConnData('private', 'private', combined, path, query, ip);
            d.keys = new Map();
            let last: string | undefined;
            for (const [k, v] of query.all) {
              if (k === 'listenKey') {
                last = v;
                d.keys.set(v, undefined);
              } else if (k === 'events' && last !== undefined) d.keys.set(last, new Set(v.split('/').filter((x) => x.length > 0)));
            }
            // no listenKey (and an empty or absent `streams=`): the client subscribes with listenKey items later
            for (const key of d.keys.keys()) if (this.ud.keyAccount(key) === undefined) return undefined;
            return d;
          }),
        open: (ws) => {
          this.conns.add(ws);
          if (!this.ud.attach(ws)) ws.end(1008, 'invalid listenKey');
        },
        message: (ws, msg) => this.onPrivateMessage(ws, Buffer.from(msg).toString()),
      });
      this.app.ws('/private/ws', priv(false));
      this.app.ws('/private/stream', priv(true));
    }
  }

  /**
   * Stream control on `/private`: SUBSCRIBE / UNSUBSCRIBE items are listenKey items, `<listenKey>` (all events) or
   * `<listenKey>@<EVENT>` (one event type, the names of the `events=` query), which start / stop that key's user data
   * on this socket; other names (market streams) are recorded and listed but carry no data here, as on a wrong route.
   * A request is applied whole or not at all: an unknown or expired key answers -1125, an unknown event type code 2.
   */
  private onPrivateMessage(ws: BnSocket, text: string): void {
    const items = (params: readonly string[]): Array<{ key: string | undefined; event: string | undefined; name: string }> | string => {
      const out: Array<{ key: string | undefined; event: string | undefined; name: string }> = [];
      for (const p of params) {
        const at = p.indexOf('@');
        const head = at < 0 ? p : p.slice(0, at);
        const event = at < 0 ? undefined : p.slice(at + 1);
        if (!LISTEN_KEY_RE.test(head)) {
          out.push({ key: undefined, event: undefined, name: MarketStreams.normalize(p) });
          continue;
        }
        if (this.ud.keyAccount(head) === undefined) return E.badListenKey().body;
        if (event !== undefined && !USDM_USER_EVENTS.has(event)) return `{"code":2,"msg":${JSON.stringify(`Invalid request: unknown event \`${event}\``)}}`;
        out.push({ key: head, event, name: p });
      }
      return out;
    };
    const d = ws.getUserData();
    controlMessage(ws, text, {
      subscribe: (params) => {
        const its = items(params);
        if (typeof its === 'string') return its;
        for (const it of its) {
          if (it.key === undefined) d.streams.add(it.name);
          else if (!this.ud.subscribeKey(ws, it.key, it.event)) return E.badListenKey().body;
        }
        return undefined;
      },
      unsubscribe: (params) => {
        for (const p of params) {
          const at = p.indexOf('@');
          const head = at < 0 ? p : p.slice(0, at);
          if (d.keys?.has(head)) this.ud.unsubscribeKey(ws, head, at < 0 ? undefined : p.slice(at + 1));
          else d.streams.delete(MarketStreams.normalize(p));
        }
        return undefined;
      },
      list: () => {
        const out: string[] = [];
        for (const [key, events] of d.keys ?? []) {
          if (events === undefined) out.push(key);
          else for (const e of events) out.push(key + '@' + e);
        }
        for (const s of d.streams) out.push(s);
        return out;
      },
    });
  }

  // ------------------------------------------------------------------------------------------ WS API
  private rateLimitsJson(ip: string, accId: string | undefined, order: boolean): string {
    const now = this.now();
    let s = `[{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":${this.limits.weightPerMin},"count":${this.weight.used(ip, now)}}`;
    if (order && accId) {
      s += `,{"rateLimitType":"ORDERS","interval":"SECOND","intervalNum":10,"limit":${this.limits.orders10s},"count":${this.orders10s.used(accId, now)}}`;
      s += this.isSpot
        ? `,{"rateLimitType":"ORDERS","interval":"DAY","intervalNum":1,"limit":${this.limits.ordersLong},"count":${this.ordersLong.used(accId, now)}}`
        : `,{"rateLimitType":"ORDERS","interval":"MINUTE","intervalNum":1,"limit":${this.limits.ordersLong},"count":${this.ordersLong.used(accId, now)}}`;
    }
    return s + ']';
  }

  private apiReply(ws: BnSocket, id: string, status: number, payload: string, isError: boolean, rl: string | undefined, delayMs = 0): void {
    const text = `{"id":${id},"status":${status},${isError ? '"error"' : '"result"'}:${payload}${rl ? ',"rateLimits":' + rl : ''}}`;
    if (delayMs > 0) setTimeout(() => wsSend(ws, text), delayMs);
    else wsSend(ws, text);
  }

  private onApiMessage(ws: BnSocket, text: string): void {
    const d = ws.getUserData();
    const s = d.session!;
    let m: unknown;
    try {
      m = JSON.parse(text);
    } catch {
      this.apiReply(ws, 'null', 400, E.invalidJson().body, true, undefined);
      return;
    }
    if (typeof m !== 'object' || m === null || Array.isArray(m)) {
      this.apiReply(ws, 'null', 400, E.invalidJson().body, true, undefined);
      return;
    }
    const req = m as { id?: unknown; method?: unknown; params?: unknown };
    const idOk = req.id === null || typeof req.id === 'number' || (typeof req.id === 'string' && req.id.length <= 36);
    const id = idOk ? JSON.stringify(req.id) : 'null';
    if (!idOk) {
      this.apiReply(ws, 'null', 400, E.mandatory('id').body, true, undefined);
      return;
    }
    if (typeof req.method !== 'string' || req.method.length === 0) {
      this.apiReply(ws, id, 400, E.mandatory('method').body, true, undefined);
      return;
    }
    if (req.params !== undefined && (typeof req.params !== 'object' || req.params === null || Array.isArray(req.params))) {
      this.apiReply(ws, id, 400, '{"code":-1135,"msg":"Invalid \'params\' in JSON request; expected an object."}', true, undefined);
      return;
    }
    const raw = (req.params ?? {}) as Record<string, unknown>;
    const map = new Map<string, string>();
    for (const k in raw) {
      const v = raw[k];
      map.set(k, typeof v === 'string' ? v : v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));
    }
    const p = mapParams(map);
    let rl = s.returnRateLimits && p.get('returnRateLimits') !== 'false';
    const method = req.method.replace(/^v\d\//, '');
    try {
      this.dispatchApi(ws, id, method, p, raw, rl);
    } catch (e) {
      this.ctx.log.error({ err: e, method }, 'binance venue: WS API handler failed');
      rl = false;
      this.apiReply(ws, id, 500, E.unknown().body, true, undefined);
    }
  }

  /** WS API method table, built once per venue (no allocation per message beyond the request itself). */
  private buildApi(): Map<string, ApiDef> {
    const o = this.ops;
    const A = (c: ApiCall): SimAccount => c.acc!;
    const m = new Map<string, ApiDef>();
    const def = (name: string, d: ApiDef): void => {
      m.set(name, d);
    };
    def('ping', { sec: 'NONE', weight: 1, fn: () => '{}' });
    def('time', { sec: 'NONE', weight: 1, fn: (c) => `{"serverTime":${c.now}}` });
    def('exchangeInfo', { sec: 'NONE', weight: 20, fn: (c) => this.exchangeInfo(c.p) });
    def('depth', {
      sec: 'NONE',
      weight: 5,
      fn: (c) => {
        const l = o.depthLimit(c.p);
        return l instanceof BnError ? l : o.depth(c.p, l[0]);
      },
    });
    def('order.place', { sec: 'SIGNED', weight: 0, order: true, logonOk: true, fn: (c) => o.place(A(c), c.p) });
    def('order.cancel', { sec: 'SIGNED', weight: this.isSpot ? 0 : 1, freeOnSuccess: this.isSpot, logonOk: true, fn: (c) => o.cancel(A(c), c.p) });
    def('order.status', { sec: 'SIGNED', weight: this.isSpot ? 4 : 1, logonOk: true, fn: (c) => o.query(A(c), c.p) });
    if (this.isSpot) def('order.amend.keepPriority', { sec: 'SIGNED', weight: 4, logonOk: true, fn: (c) => o.amendKeepPriority(A(c), c.p) });
    // ws-fapi order.modify: IP weight 0, 1 on the order limits (as order.place)
    else def('order.modify', { sec: 'SIGNED', weight: 0, order: true, logonOk: true, fn: (c) => o.modify(A(c), c.p) });
    def('openOrders.status', { sec: 'SIGNED', weight: 6, logonOk: true, fn: (c) => o.openOrders(A(c), c.p) });
    def('openOrders.cancelAll', { sec: 'SIGNED', weight: this.isSpot ? 0 : 1, freeOnSuccess: this.isSpot, logonOk: true, fn: (c) => o.cancelAll(A(c), c.p) });
    def('session.logon', {
      sec: 'SIGNED',
      weight: 2,
      fn: (c) => {
        const key = c.p.get('apiKey')!;
        if (this.keys.kindOf(key) !== 'ed25519') return E.wsHmacLogon();
        c.s.logonKey = key;
        c.s.logonAt = c.now;
        return this.sessionJson(c);
      },
    });
    def('session.status', { sec: 'NONE', weight: 2, fn: (c) => this.sessionJson(c) });
    def('session.logout', {
      sec: 'NONE',
      weight: 2,
      fn: (c) => {
        c.s.logonKey = undefined;
        for (const sub of this.ud.unsubscribeSpot(c.ws, undefined, true)) c.s.subs.delete(sub);
        return this.sessionJson(c);
      },
    });
    if (this.isSpot) {
      const subscribe = (c: ApiCall, acc: SimAccount): Op => {
        for (const v of c.s.subs.values()) if (v === acc.id) return E.wsSubscriptionActive();
        const sid = c.s.nextSubId++;
        c.s.subs.set(sid, acc.id);
        this.ud.subscribeSpot(c.ws, acc.id, sid);
        return `{"subscriptionId":${sid}}`;
      };
      def('account.status', { sec: 'SIGNED', weight: 20, logonOk: true, fn: (c) => o.spotAccount(A(c)) });
      def('account.commission', { sec: 'SIGNED', weight: 20, logonOk: true, fn: (c) => o.spotCommission(A(c), c.p) });
      def('userDataStream.subscribe', {
        sec: 'NONE',
        weight: 2,
        fn: (c) => {
          if (!c.s.logonKey) return E.wsNotLoggedIn();
          const acc = this.ctx.account(c.s.logonKey);
          return acc ? subscribe(c, acc) : E.rejectedKey();
        },
      });
      def('userDataStream.subscribe.signature', { sec: 'SIGNED', weight: 2, fn: (c) => subscribe(c, A(c)) });
      def('userDataStream.unsubscribe', {
        sec: 'NONE',
        weight: 2,
        fn: (c) => {
          const sidText = c.p.get('subscriptionId');
          const sid = sidText !== undefined && sidText.length > 0 ? Number(sidText) : undefined;
          if (sid !== undefined && !c.s.subs.has(sid)) return E.wsSubscriptionInactive();
          if (sid === undefined && c.s.subs.size === 0) return E.wsSubscriptionInactive();
          for (const x of this.ud.unsubscribeSpot(c.ws, sid, true)) c.s.subs.delete(x);
          return '{}';
        },
      });
    } else {
      const algo = this.algo!;
      def('algoOrder.place', { sec: 'SIGNED', weight: 0, order: true, logonOk: true, fn: (c) => algo.place(A(c), c.p) });
      def('algoOrder.cancel', { sec: 'SIGNED', weight: 1, logonOk: true, fn: (c) => algo.cancel(A(c), c.p) });
      def('account.balance', { sec: 'SIGNED', weight: 5, logonOk: true, fn: (c) => o.futBalance(A(c)) });
      def('account.position', { sec: 'SIGNED', weight: 5, logonOk: true, fn: (c) => o.positionRisk(A(c), c.p, 3) });
      def('account.status', { sec: 'SIGNED', weight: 5, logonOk: true, fn: (c) => o.futAccount(A(c)) });
      def('userDataStream.start', { sec: 'KEY', weight: 1, logonOk: true, fn: (c) => `{"listenKey":"${this.ud.startKey(A(c).id)}"}` });
      def('userDataStream.ping', {
        sec: 'KEY',
        weight: 1,
        logonOk: true,
        fn: (c) => {
          const k = this.ud.keepAlive(A(c).id);
          return k ? `{"listenKey":"${k}"}` : E.badListenKey();
        },
      });
      def('userDataStream.stop', {
        sec: 'KEY',
        weight: 1,
        logonOk: true,
        fn: (c) => {
          this.ud.stopKey(A(c).id);
          return '{}';
        },
      });
    }
    return m;
  }

  private sessionJson(c: ApiCall): string {
    const s = c.s;
    return `{"apiKey":${s.logonKey ? JSON.stringify(s.logonKey) : 'null'},"authorizedSince":${s.logonKey ? s.logonAt : 'null'},"connectedSince":${c.d.openedMs},"returnRateLimits":${s.returnRateLimits},"serverTime":${c.now},"userDataStream":${s.subs.size > 0}}`;
  }

  private dispatchApi(ws: BnSocket, id: string, method: string, p: Params, raw: Record<string, unknown>, wantRl: boolean): void {
    const d = ws.getUserData();
    const s = d.session!;
    const ip = d.ip;
    const now = this.now();
    const defs = this.apiDefs;
    const def = defs.get(method);
    if (!def) {
      this.apiReply(ws, id, 400, E.wsUnknownMethod().body, true, wantRl ? this.rateLimitsJson(ip, undefined, false) : undefined);
      return;
    }
    const rc = this.weight.hit(ip, def.weight, now);
    if (rc.verdict !== 'ok') {
      const err = this.limitError(rc);
      const until = rc.verdict === 'banned' ? rc.resetAtMs : now + rc.retryAfterSec * 1000;
      const body = `{"code":${err.code},"msg":${JSON.stringify(err.msg)},"data":{"serverTime":${now},"retryAfter":${until}}}`;
      this.apiReply(ws, id, err.status, body, true, wantRl ? this.rateLimitsJson(ip, undefined, false) : undefined);
      return;
    }
    let acc: SimAccount | undefined;
    if (def.sec !== 'NONE') {
      const useLogon = def.logonOk && s.logonKey !== undefined && !p.has('signature');
      if (useLogon) {
        acc = this.ctx.account(s.logonKey!);
        if (!acc) {
          this.apiReply(ws, id, 401, E.rejectedKey().body, true, undefined);
          return;
        }
        if (def.sec === 'SIGNED') {
          const te = checkTimestamp(p.get('timestamp'), p.get('recvWindow'), now, this.isSpot);
          if (te) {
            this.apiReply(ws, id, te.status, te.body, true, wantRl ? this.rateLimitsJson(ip, acc.id, !!def.order) : undefined);
            return;
          }
        }
      } else {
        const a = p.has('apiKey') ? this.authenticate(def.sec, p.get('apiKey'), p, () => wsApiPayload(raw)) : E.mandatory('apiKey');
        if (a instanceof BnError) {
          if ((def.order || def.freeOnSuccess) && this.isSpot) this.weight.hit(ip, 1, now);
          this.apiReply(ws, id, a.status, a.body, true, wantRl ? this.rateLimitsJson(ip, undefined, !!def.order) : undefined);
          return;
        }
        acc = a;
      }
    }
    if (def.order && acc) {
      const oc = this.orderCounts(acc.id, true);
      if (oc.err) {
        const body = `{"code":${oc.err.code},"msg":${JSON.stringify(oc.err.msg)},"data":{"serverTime":${now},"retryAfter":${now + Number(oc.headers['Retry-After'] ?? 10) * 1000}}}`;
        this.apiReply(ws, id, 429, body, true, wantRl ? this.rateLimitsJson(ip, acc.id, true) : undefined);
        return;
      }
    }
    const out = def.fn({ ws, d, s, p, acc, now });
    const lat = def.order || def.sec === 'SIGNED' ? this.ctx.peekFault(this.market, 'latencyMs') : undefined;
    if (out instanceof BnError) {
      if ((def.order || def.freeOnSuccess) && this.isSpot) this.weight.hit(ip, 1, now);
      this.apiReply(ws, id, out.status, out.body, true, wantRl ? this.rateLimitsJson(ip, acc?.id, !!def.order) : undefined, lat?.ms ?? 0);
    } else this.apiReply(ws, id, 200, out, false, wantRl ? this.rateLimitsJson(ip, acc?.id, !!def.order) : undefined, lat?.ms ?? 0);
  }
}
