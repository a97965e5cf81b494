/**
 * Binance order gateway over REST (Spot `/api/v3`, USD-M `/fapi/v1`), one undici Pool per host.
 *
 * - New orders are built from the per-instrument template and signed over the exact body sent.
 * - Responses: 200 -> ack with the reported status; error codes -> mapBinanceError -> the base class reaction
 *   (reject / backoff / halt / resync / query-then-resend).
 * - Rate limits: every call is booked with its documented weight (`binanceRestWeight`) before it is sent, and the
 *   answer's X-MBX-* headers correct the count (src/net/ratelimit.ts). Orders, cancels and amends the budget
 *   refuses are refused at once (RATE_LIMITED_LOCAL); other calls wait for the budget up to `maxLimitWaitMs`, then
 *   throw LocalRateLimitError.
 * - USD-M: `countdownCancelAll` dead man's switch per symbol, re-armed while healthy; cancel-all also cancels the
 *   algo (conditional) book (`/fapi/v1/algoOpenOrders`).
 * - The user data stream (private fills) is attached by `userStream` (see userstream.ts).
 */
import { BaseGateway, OK, fail, type RecoveryOptions, type SendOutcome, transportOutcome } from '../../../orders/basegw.js';
import { ServerClock, type ClockSyncOptions } from '../../../net/clock.js';
import type { GatewayOrder, VenueGateway } from '../../../orders/gateway.js';
import { BINANCE_ID_PATTERNS, obj, parseJsonIds, parseJsonSafe, str, num, type Json } from '../../../codec/json.js';
import {
  BINANCE_SPOT_LIMITS,
  BINANCE_USDM_LIMITS,
  LocalRateLimitError,
  ORDER_PATH,
  VenueRateLimiter,
  retryAfterSec,
  type BinanceLimits,
} from '../../../net/ratelimit.js';
import { RestClient, type RestResponse } from '../../../net/rest.js';
import { scaleTable, type ScaleLookup } from '../../../codec/scale.js';
import { Ed25519Signer, HmacSha256 } from '../../../codec/sign.js';
import { Ed25519RestSigner, HmacHexSigner, blankOrderFields, type PayloadSigner, setOrderFields } from '../../../codec/template.js';
import type { ExchangeFill, ExchangeOrder, ExchangePosition } from '../../../model/orders.js';
import { AsciiWriter } from '../../../codec/wire.js';
import { formatScaled } from '../../../util/fixed.js';
import type { HopRecorder } from '../../../util/hops.js';
import { nowNs } from '../../../util/clock.js';
import { log } from '../../../util/log.js';
import { mapBinanceError } from './errors.js';
import { algoKindOfState, toExchangeAlgo, toExchangeFill, toExchangeOrder, toExchangePosition } from './parse.js';
import { blankAlgoEvent, type AlgoState, type ExchangeAlgo, type GatewayAlgo } from '../../../model/orders.js';
import { BinanceOrderTemplate, type TemplateInstrument } from './template.js';

export interface BinanceGatewayConfig {
  venue: 'binanceSpot' | 'binanceUsdm';
  restBaseUrl: string;
  /** WS API URL (.../ws-api/v3 or .../ws-fapi/v1): Spot user data, and orders when transport = 'wsapi' */
  wsApiUrl?: string;
  /** market stream base (USD-M private stream: {base}/private/ws?listenKey=) */
  wsStreamBaseUrl?: string;
  /** HMAC key pair (REST signing) */
  apiKey?: string;
  apiSecret?: string;
  /** Ed25519 key (WS API session.logon; REST if no HMAC secret) */
  ed25519ApiKey?: string;
  ed25519PrivateKeyPem?: string;
  instruments: TemplateInstrument[];
  transport?: 'rest' | 'wsapi';
  recvWindow?: number;
  /** per-request timeout (ms) */
  timeoutMs?: number;
  connections?: number;
  /** subscribe the private user data stream (default true) */
  userStream?: boolean;
  /** WS API session and user-stream sockets are rotated make-before-break after this long (default 23 h; Binance cuts at 24 h) */
  socketLifetimeMs?: number;
  /** USD-M dead man's switch; false to disable (default 30 s countdown, refreshed every 10 s) */
  deadManSwitch?: { countdownMs: number; refreshMs: number } | false;
  recovery?: RecoveryOptions;
  clockSync?: ClockSyncOptions;
  hops?: HopRecorder;
  /** the account's limits (default: the venue's documented defaults; read exchangeInfo.rateLimits at start) */
  limits?: BinanceLimits;
  /** a non-order call waits this long at most for the rate budget before it is refused (default 2000 ms) */
  maxLimitWaitMs?: number;
}

/** What a Binance REST call costs: IP weight (worst case: a failed Spot order still costs 1), orders, and its class. */
export interface BinanceCallCost {
  weight: number;
  orders: number;
  /** order-path calls (place, cancel, amend, cancel-all) may use the weight kept for them (ratelimit.ts) */
  orderPath: boolean;
}

const cost = (weight: number, orders = 0, orderPath = false): BinanceCallCost => ({ weight, orders, orderPath });
const SPOT_COSTS: Record<string, BinanceCallCost | ((params: string) => BinanceCallCost)> = {
  'POST /api/v3/order': cost(1, 1, true), // 0 when it succeeds (since 2026-04-02): the header corrects the booking
  'DELETE /api/v3/order': cost(1, 0, true), // idem
  'DELETE /api/v3/openOrders': cost(1, 0, true), // idem
  'PUT /api/v3/order/amend/keepPriority': cost(4, 0, true),
  'GET /api/v3/order': cost(4),
  'GET /api/v3/openOrders': (p) => cost(/(^|&)symbol=/.test(p) ? 6 : 80),
  'GET /api/v3/allOrders': cost(20),
  'GET /api/v3/account': cost(20),
  'GET /api/v3/myTrades': (p) => cost(/(^|&)orderId=/.test(p) ? 5 : 20),
  'GET /api/v3/exchangeInfo': cost(20),
  'GET /api/v3/ping': cost(1),
  'GET /api/v3/time': cost(1),
};
const USDM_COSTS: Record<string, BinanceCallCost | ((params: string) => BinanceCallCost)> = {
  'POST /fapi/v1/order': cost(0, 1, true),
  'PUT /fapi/v1/order': cost(1, 1, true),
  'DELETE /fapi/v1/order': cost(1, 0, true),
  'DELETE /fapi/v1/allOpenOrders': cost(1, 0, true),
  'POST /fapi/v1/algoOrder': cost(0, 1, true),
  'DELETE /fapi/v1/algoOrder': cost(1, 0, true),
  'DELETE /fapi/v1/algoOpenOrders': cost(1, 0, true),
  'GET /fapi/v1/order': cost(1),
  'GET /fapi/v1/openOrder': cost(1),
  'GET /fapi/v1/openOrders': (p) => cost(/(^|&)symbol=/.test(p) ? 1 : 40),
  'GET /fapi/v1/openAlgoOrders': (p) => cost(/(^|&)symbol=/.test(p) ? 1 : 40),
  'GET /fapi/v1/allOrders': cost(5),
  'GET /fapi/v1/userTrades': cost(5),
  'GET /fapi/v2/positionRisk': cost(5),
  'GET /fapi/v3/positionRisk': cost(5),
  'GET /fapi/v2/account': cost(5),
  'GET /fapi/v3/account': cost(5),
  'GET /fapi/v2/balance': cost(5),
  'GET /fapi/v3/balance': cost(5),
  'POST /fapi/v1/countdownCancelAll': cost(10),
  'POST /fapi/v1/listenKey': cost(1),
  'PUT /fapi/v1/listenKey': cost(1),
  'DELETE /fapi/v1/listenKey': cost(1),
  'GET /fapi/v1/exchangeInfo': cost(1),
  'GET /fapi/v1/ping': cost(1),
  'GET /fapi/v1/time': cost(1),
  'GET /fapi/v1/positionSide/dual': cost(30),
  'GET /fapi/v1/commissionRate': cost(20),
  'POST /fapi/v1/leverage': cost(1),
  'POST /fapi/v1/marginType': cost(1),
};
/** a call missing from the tables: a conservative weight */
const UNKNOWN_COST = cost(20);

/**
 * The documented cost of a Binance REST call (../shared/exchange/binance.md, the venues' docs; the simulator charges
 * the same as its routes in src/sim/binance/venue.ts). Unknown calls cost 20 (conservative).
 */
export function binanceRestCost(spot: boolean, method: string, path: string, params = ''): BinanceCallCost {
  const c = (spot ? SPOT_COSTS : USDM_COSTS)[method + ' ' + path];
  if (c === undefined) return UNKNOWN_COST;
  return typeof c === 'function' ? c(params) : c;
}

/** Every call the cost tables price (`METHOD /path`): the weight check (test/orders/weights.e2e.test.ts) covers each. */
export function binanceRestCalls(spot: boolean): string[] {
  return Object.keys(spot ? SPOT_COSTS : USDM_COSTS);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class BinanceRestGateway extends BaseGateway implements VenueGateway {
  readonly cfg: BinanceGatewayConfig;
  readonly rest: RestClient;
  readonly scale: ScaleLookup;
  readonly isSpot: boolean;
  readonly prefix: string;
  protected readonly templates = new Map<string, BinanceOrderTemplate>();
  protected readonly signer: PayloadSigner;
  protected readonly restKey: string;
  private readonly hmac: HmacSha256 | undefined;
  private readonly ed: Ed25519Signer | undefined;
  protected readonly w = new AsciiWriter(2048);
  /** REST order bodies: writers not in flight (sendPlace) */
  private readonly bodyWriters: AsciiWriter[] = [new AsciiWriter(2048), new AsciiWriter(2048)];
  protected readonly f = blankOrderFields();
  protected readonly recvWindow: number;
  private dmsTimer: NodeJS.Timeout | undefined;
  private readonly restHeaders: Record<string, string>;
  private readonly formHeaders: Record<string, string>;
  /** USD-M algo orders (VenueGateway's algo part; undefined on Spot, which has none here) */
  algoPlace: ((a: GatewayAlgo) => void) | undefined;
  algoCancel: ((a: GatewayAlgo) => void) | undefined;
  algoOpen: ((symbol?: string) => Promise<ExchangeAlgo[]>) | undefined;
  /** private stream attached by start() (userstream.ts) */
  userStream: { start(): Promise<void>; stop(): Promise<void> } | undefined;
  protected readonly maxLimitWaitMs: number;
  /** the order path's costs, looked up once (no lookup per order) */
  protected readonly placeCost: BinanceCallCost;
  protected readonly cancelCost: BinanceCallCost;

  constructor(cfg: BinanceGatewayConfig) {
    const isSpot = cfg.venue === 'binanceSpot';
    const prefix = isSpot ? '/api/v3' : '/fapi/v1';
    const rest = new RestClient(cfg.restBaseUrl, { connections: cfg.connections ?? 2, timeoutMs: cfg.timeoutMs ?? 5000 });
    // the clock's /time calls are booked like every other call, once the gateway exists
    const owner: { gw?: BinanceRestGateway } = {};
    const clock = new ServerClock(async () => {
      const r = owner.gw ? await owner.gw.unsigned('GET', prefix + '/time') : await rest.request('GET', prefix + '/time');
      const t = num(obj(parseJsonSafe(r.text))?.['serverTime']);
      if (!(t > 0)) throw new Error(`bad /time answer ${r.status}`);
      return t;
    }, cfg.clockSync);
    super(cfg.venue, clock, new VenueRateLimiter(cfg.limits ?? (isSpot ? BINANCE_SPOT_LIMITS : BINANCE_USDM_LIMITS)), cfg.hops, cfg.recovery);
    owner.gw = this;
    this.cfg = cfg;
    this.maxLimitWaitMs = cfg.maxLimitWaitMs ?? 2000;
    this.placeCost = binanceRestCost(isSpot, 'POST', prefix + '/order');
    this.cancelCost = binanceRestCost(isSpot, 'DELETE', prefix + '/order');
    this.rest = rest;
    this.isSpot = isSpot;
    this.prefix = prefix;
    this.recvWindow = cfg.recvWindow ?? 5000;
    this.scale = scaleTable(cfg.instruments.map((i) => ({ ...i, venue: cfg.venue })));
    for (const i of cfg.instruments) this.templates.set(i.symbol, new BinanceOrderTemplate(isSpot ? 'spot' : 'usdm', i, this.recvWindow, 'RESULT'));
    if (cfg.apiSecret && cfg.apiKey) {
      this.hmac = new HmacSha256(cfg.apiSecret);
      this.signer = new HmacHexSigner(this.hmac);
      this.restKey = cfg.apiKey;
    } else if (cfg.ed25519PrivateKeyPem && cfg.ed25519ApiKey) {
      this.ed = new Ed25519Signer(cfg.ed25519PrivateKeyPem);
      this.signer = new Ed25519RestSigner(this.ed);
      this.restKey = cfg.ed25519ApiKey;
    } else throw new Error(`${cfg.venue}: apiKey+apiSecret or ed25519ApiKey+ed25519PrivateKeyPem required`);
    if (!isSpot) {
      this.algoPlace = (a) => void this.sendAlgoPlace(a);
      this.algoCancel = (a) => void this.sendAlgoCancel(a);
      this.algoOpen = (symbol) => this.listAlgos(symbol);
    }
    this.restHeaders = { 'x-mbx-apikey': this.restKey };
    this.formHeaders = { 'x-mbx-apikey': this.restKey, 'content-type': 'application/x-www-form-urlencoded' };
  }

  async start(): Promise<void> {
    const ping = binanceRestCost(this.isSpot, 'GET', this.prefix + '/ping');
    this.limiter.bookBinance(this.clock.nowMs(), ping.weight * (this.cfg.connections ?? 2), 0);
    await this.rest.warm(this.prefix + '/ping');
    // each round of keep-alive pings is booked first (skipped when the budget has no room for calls that are not orders)
    this.rest.keepWarm(this.prefix + '/ping', undefined, (n) => {
      const now = this.clock.nowMs();
      if (this.limiter.binanceWaitMs(now, ping.weight * n, 0, false) > 0) return false;
      this.limiter.bookBinance(now, ping.weight * n, 0);
      return true;
    });
    await this.clock.sync();
    this.clock.start(); // the periodic sync also keeps the pool's connections warm
    if (!this.isSpot && this.cfg.deadManSwitch !== false) {
      const d = this.cfg.deadManSwitch ?? { countdownMs: 30_000, refreshMs: 10_000 };
      await this.armDeadManSwitch(d.countdownMs);
      this.dmsTimer = setInterval(() => {
        if (!this.isHalted()) this.armDeadManSwitch(d.countdownMs).catch(() => undefined);
      }, d.refreshMs);
      this.dmsTimer.unref();
    }
    if (this.userStream) await this.userStream.start();
  }

  async stop(): Promise<void> {
    this.clock.stop();
    if (this.dmsTimer) clearInterval(this.dmsTimer);
    this.dmsTimer = undefined;
    if (this.userStream) await this.userStream.stop().catch(() => undefined);
    await this.rest.close();
  }

  // ---------------------------------------------------------------------------------------- signing helpers

  /** `params&recvWindow=..&timestamp=..&signature=..` (params already percent-encoded) */
  signedQuery(params: string): string {
    const unsigned = (params.length > 0 ? params + '&' : '') + 'recvWindow=' + this.recvWindow + '&timestamp=' + this.clock.nowMs();
    const sig = this.hmac ? this.hmac.hexAscii(unsigned) : encodeURIComponent(this.ed!.base64(unsigned)); // hexAscii: UTF-8 as before for non-ASCII
    return unsigned + '&signature=' + sig;
  }

  /**
   * The rate budget for one call of `c` (cold path): books it and returns the booking time, after waiting for room
   * up to `maxLimitWaitMs` (counted as deferred); refuses (LocalRateLimitError, counted) when the wait would be
   * longer, and throws at once while the IP is banned.
   */
  async budget(what: string, c: BinanceCallCost): Promise<number> {
    for (;;) {
      const now = this.clock.nowMs();
      if (this.limiter.isBanned(now)) throw new Error(`${this.venue}: IP banned (418) until ${this.limiter.bannedUntilMs}`);
      const wait = this.limiter.binanceWaitMs(now, c.weight, c.orders, c.orderPath);
      if (wait === 0) {
        this.limiter.bookBinance(now, c.weight, c.orders);
        return now;
      }
      if (wait > this.maxLimitWaitMs) {
        this.limiter.noteLocal(what, wait, true);
        throw new LocalRateLimitError(`${this.venue} ${what}`, wait);
      }
      this.limiter.noteLocal(what, wait, false);
      await sleep(wait);
    }
  }

  /** Signed request (cold path), booked at its documented weight first; throws RestError on transport failure. */
  async signed(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, params: string): Promise<RestResponse> {
    const c = binanceRestCost(this.isSpot, method, path, params);
    const bookedAt = await this.budget(method + ' ' + path, c);
    const q = this.signedQuery(params);
    let res: RestResponse;
    try {
      res =
        method === 'POST' || method === 'PUT'
          ? await this.rest.request(method, path, { body: q, headers: this.formHeaders })
          : await this.rest.request(method, path, { query: q, headers: this.restHeaders });
    } catch (err) {
      this.limiter.releaseBinance(this.clock.nowMs(), bookedAt, c.weight, c.orders);
      throw err;
    }
    this.noteResponse(res, bookedAt, c.weight, c.orders);
    return res;
  }

  /** A request with the API key and no signature (listenKey) or with neither (time), booked like `signed`. */
  async unsigned(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, withKey = false): Promise<RestResponse> {
    const c = binanceRestCost(this.isSpot, method, path);
    const bookedAt = await this.budget(method + ' ' + path, c);
    let res: RestResponse;
    try {
      res = await this.rest.request(method, path, withKey ? { headers: this.restHeaders } : {});
    } catch (err) {
      this.limiter.releaseBinance(this.clock.nowMs(), bookedAt, c.weight, c.orders);
      throw err;
    }
    this.noteResponse(res, bookedAt, c.weight, c.orders);
    return res;
  }

  /** Order path: the wait before a new order (its weight and the order counts; 0 = go). */
  protected override placeWaitMs(now: number): number {
    return this.limiter.binanceWaitMs(now, this.placeCost.weight, 1, ORDER_PATH);
  }

  /** Order path: a cancel or amend of `c` the budget refuses now, counted as a local refusal (no wait). */
  protected refusedNow(what: string, c: BinanceCallCost): SendOutcome | undefined {
    const wait = this.limiter.binanceWaitMs(this.clock.nowMs(), c.weight, c.orders, ORDER_PATH);
    if (wait === 0) return undefined;
    this.limiter.noteLocal(what, wait, true);
    return fail(this.limiter.isBanned(this.clock.nowMs()) ? 'banned' : 'rateLimited', 0, 'RATE_LIMITED_LOCAL');
  }

  protected noteResponse(res: RestResponse, bookedAt?: number, weight = 0, orders = 0): void {
    const now = this.clock.nowMs();
    this.limiter.fromBinanceHeaders(res.headers, now, bookedAt ?? now, weight, orders);
    if (res.status === 429) this.limiter.on429(retryAfterSec(res.headers), now);
    else if (res.status === 418) {
      this.limiter.on418(retryAfterSec(res.headers), now);
      this.onBanned('418 (IP banned)');
    } else if (res.status >= 500) this.limiter.on5xx(res.status);
  }

  /** Parse an error body into an outcome. */
  protected errorOutcome(res: RestResponse): SendOutcome {
    let code = 0;
    let msg = '';
    try {
      const o = obj(parseJsonSafe(res.text));
      code = num(o?.['code']);
      msg = str(o?.['msg']);
    } catch {
      /* not JSON (proxy error page): the status decides */
    }
    const m = mapBinanceError(res.status, code, msg);
    return fail(m.cls, code, m.reason + (msg ? ': ' + msg : ''));
  }

  // ---------------------------------------------------------------------------------------- orders

  protected buildFields(o: GatewayOrder): BinanceOrderTemplate | undefined {
    const t = this.templates.get(o.symbol);
    if (!t) return undefined;
    setOrderFields(this.f, o, this.clock.nowMs());
    return t;
  }

  /** Build and sign the REST order body of a never-sent order into a free body writer (see VenueGateway.warm). */
  warm(symbol: string): void {
    const t = this.buildFields(this.warmOrderOf(symbol));
    const w = this.bodyWriters.pop();
    if (!t || !w) {
      if (w) this.bodyWriters.push(w);
      return;
    }
    t.restBody(w, this.f, this.signer);
    this.bodyWriters.push(w);
  }

  protected async sendPlace(o: GatewayOrder, _attempt: number): Promise<SendOutcome> {
    const t0 = nowNs();
    const t = this.buildFields(o);
    if (!t) return fail('rejected', 0, 'UNKNOWN_SYMBOL');
    // body and signature written into a writer of its own (HMAC: no allocation) that is sent as is: the socket may
    // hold those bytes until they are flushed, so the writer goes back to the free list only once the request has
    // settled (the venue has read the whole body by then). One writer per order in flight; no copy per order.
    const w = this.bodyWriters.pop() ?? new AsciiWriter(2048);
    const body = t.restBody(w, this.f, this.signer).view();
    this.recordSign(t0);
    o.sentNs = nowNs();
    const pc = this.placeCost;
    const bookedAt = this.clock.nowMs(); // placeWithRecovery checked the budget in this turn
    this.limiter.bookBinance(bookedAt, pc.weight, pc.orders);
    let res: RestResponse;
    const p = this.rest.request('POST', this.prefix + '/order', { body, headers: this.formHeaders });
    this.recordWrite(o);
    try {
      res = await p;
    } catch (err) {
      this.limiter.releaseBinance(this.clock.nowMs(), bookedAt, pc.weight, pc.orders);
      return transportOutcome(err);
    } finally {
      this.bodyWriters.push(w);
    }
    this.noteResponse(res, bookedAt, pc.weight, pc.orders);
    if (res.status !== 200) return this.errorOutcome(res);
    return this.reportOrderJson(res.text, 'rest');
  }

  /** Report an order object (REST/WS API result) as an ack/status event. */
  protected reportOrderJson(text: string, source: 'rest' | 'wsapi'): SendOutcome {
    let j: Json | undefined;
    try {
      j = obj(parseJsonIds(text, BINANCE_ID_PATTERNS));
    } catch {
      j = undefined;
    }
    if (!j) return fail('unknown', 0, 'MALFORMED_RESPONSE');
    return this.reportOrderObject(j, source);
  }

  protected reportOrderObject(j: Json, source: 'rest' | 'wsapi'): SendOutcome {
    const q = toExchangeOrder(j, this.venue, this.scale);
    if (!q) return fail('unknown', 0, 'MALFORMED_RESPONSE');
    this.emitFromExchangeOrder(q, source);
    return OK;
  }

  protected async sendCancel(o: GatewayOrder): Promise<SendOutcome> {
    const refused = this.refusedNow('cancel', this.cancelCost);
    if (refused) return refused;
    const params =
      'symbol=' + encodeURIComponent(o.symbol) + (o.exchangeOrderId !== '' ? '&orderId=' + o.exchangeOrderId : '&origClientOrderId=' + o.clientOrderId);
    let res: RestResponse;
    try {
      res = await this.signed('DELETE', this.prefix + '/order', params);
    } catch (err) {
      return transportOutcome(err);
    }
    if (res.status !== 200) return this.errorOutcome(res);
    return this.reportOrderJson(res.text, 'rest');
  }

  // ---------------------------------------------------------------------------------------- amend

  /**
   * Change an open LIMIT order in place.
   * - USD-M: `PUT /fapi/v1/order` (WS API `order.modify`): new price and quantity; the order loses its queue place
   *   (Binance cancels it instead when the new quantity is not above the filled part, or a post-only would take).
   * - Spot: `PUT /api/v3/order/amend/keepPriority` (WS API `order.amend.keepPriority`): a quantity DECREASE at the
   *   same price only (queue priority kept); false for a price change or an increase (cancel + re-place instead).
   *   The order keeps its client id (sent as newClientOrderId, which Binance allows).
   * The answer is an 'amend' event (code 0 = the new price/qty stand); the stream's AMENDMENT/REPLACED is a no-op.
   */
  amend(o: GatewayOrder, price: number, qty: number): boolean {
    const t = this.templates.get(o.symbol);
    if (!t || this.isHalted() || o.type !== 'LIMIT') return false;
    if (this.isSpot && (price !== o.price || qty >= o.qty)) return false;
    if (!this.isSpot && price === o.price && qty === o.qty) return false;
    this.sendAmend(o, price, qty, t).then(
      (out) => this.afterAmend(o, out),
      (err: unknown) => this.afterAmend(o, fail('unknown', 0, String((err as Error)?.message ?? err))),
    );
    return true;
  }

  /** the amend request's params (without recvWindow/timestamp/signature) */
  protected amendParams(o: GatewayOrder, price: number, qty: number, t: BinanceOrderTemplate): Record<string, string> {
    const p: Record<string, string> = { symbol: o.symbol };
    if (o.exchangeOrderId !== '') p['orderId'] = o.exchangeOrderId;
    else p['origClientOrderId'] = o.clientOrderId;
    if (this.isSpot) {
      p['newQty'] = formatScaled(qty, t.inst.qtyDecimals);
      p['newClientOrderId'] = o.clientOrderId;
    } else {
      p['side'] = o.side;
      p['quantity'] = formatScaled(qty, t.inst.qtyDecimals);
      p['price'] = formatScaled(price, t.inst.priceDecimals);
    }
    return p;
  }

  protected async sendAmend(o: GatewayOrder, price: number, qty: number, t: BinanceOrderTemplate): Promise<SendOutcome> {
    const path = this.prefix + (this.isSpot ? '/order/amend/keepPriority' : '/order');
    const refused = this.refusedNow('amend', binanceRestCost(this.isSpot, 'PUT', path));
    if (refused) return refused;
    const p = this.amendParams(o, price, qty, t);
    const q = Object.entries(p)
      .map(([k, v]) => k + '=' + encodeURIComponent(v))
      .join('&');
    let res: RestResponse;
    try {
      res = await this.signed('PUT', path, q);
    } catch (err) {
      return transportOutcome(err);
    }
    if (res.status !== 200) return this.errorOutcome(res);
    let j: Json | undefined;
    try {
      j = obj(parseJsonIds(res.text, BINANCE_ID_PATTERNS));
    } catch {
      j = undefined;
    }
    return j ? this.amendAnswer(j, 'rest') : fail('unknown', 0, 'MALFORMED_RESPONSE');
  }

  /** The amend's answer: USD-M returns the order (CANCELED when Binance cancelled it instead), Spot {amendedOrder}. */
  protected amendAnswer(j: Json, source: 'rest' | 'wsapi'): SendOutcome {
    if (this.isSpot) return obj(j['amendedOrder']) ? OK : fail('unknown', 0, 'MALFORMED_RESPONSE');
    const q = toExchangeOrder(j, this.venue, this.scale);
    if (!q) return fail('unknown', 0, 'MALFORMED_RESPONSE');
    if (q.state === 'CANCELED' || q.state === 'EXPIRED') {
      this.emitFromExchangeOrder(q, source);
      return fail('rejected', 0, 'CANCELED_BY_MODIFY');
    }
    return OK;
  }

  protected afterAmend(o: GatewayOrder, out: SendOutcome, source: 'rest' | 'wsapi' = 'rest'): void {
    const e = this.begin('amend', o.symbol, o.clientOrderId, o.state, source);
    if (!out.ok) {
      e.code = out.code === 0 ? -1 : out.code; // never 0 on failure (unknown outcome: reported failed; the stream/query corrects)
      e.reason = out.reason;
      if (out.cls === 'clock') this.clock.requestResync().catch(() => undefined);
    }
    this.fire();
  }

  async cancelAll(symbol?: string): Promise<void> {
    const symbols = symbol !== undefined ? [symbol] : [...this.templates.keys()];
    const errors: string[] = [];
    await Promise.all(
      symbols.map(async (s) => {
        const p = 'symbol=' + encodeURIComponent(s);
        const res = await this.signed('DELETE', this.prefix + (this.isSpot ? '/openOrders' : '/allOpenOrders'), p);
        if (res.status === 200) {
          if (this.isSpot) this.reportList(res.text);
        } else if (!/-2011|-2013|Unknown order/.test(res.text)) errors.push(`${s}: ${res.status} ${res.text}`); // nothing open = fine
        if (!this.isSpot) {
          const a = await this.signed('DELETE', this.prefix + '/algoOpenOrders', p);
          if (a.status !== 200 && !/-2011|-2013/.test(a.text)) errors.push(`${s} algo: ${a.status} ${a.text}`);
        }
      }),
    );
    if (errors.length > 0) throw new Error(`${this.venue} cancelAll: ${errors.join('; ')}`);
  }

  private reportList(text: string): void {
    let list: unknown;
    try {
      list = parseJsonSafe(text);
    } catch {
      return;
    }
    if (!Array.isArray(list)) return;
    for (const it of list) {
      const j = obj(it);
      if (j && j['orderId'] !== undefined) this.reportOrderObject(j, 'rest');
    }
  }

  async queryOrder(symbol: string, clientOrderId: string): Promise<ExchangeOrder | null> {
    const res = await this.signed('GET', this.prefix + '/order', 'symbol=' + encodeURIComponent(symbol) + '&origClientOrderId=' + clientOrderId);
    if (res.status === 200) {
      const j = obj(parseJsonSafe(res.text));
      return j ? (toExchangeOrder(j, this.venue, this.scale) ?? null) : null;
    }
    const out = this.errorOutcome(res);
    if (!out.ok && out.code === -2013) return null; // proven absent
    throw new Error(`${this.venue} query ${clientOrderId}: ${res.status} ${res.text}`);
  }

  async openOrders(symbol?: string): Promise<ExchangeOrder[]> {
    const res = await this.signed('GET', this.prefix + '/openOrders', symbol !== undefined ? 'symbol=' + encodeURIComponent(symbol) : '');
    if (res.status !== 200) throw new Error(`${this.venue} openOrders: ${res.status} ${res.text}`);
    const list = parseJsonSafe(res.text);
    const out: ExchangeOrder[] = [];
    if (Array.isArray(list))
      for (const it of list) {
        const j = obj(it);
        const o = j ? toExchangeOrder(j, this.venue, this.scale) : undefined;
        if (o) out.push(o);
      }
    return out;
  }

  /** Spot: `GET /api/v3/account` balances, free + locked per asset (see VenueGateway.balances). */
  async balances(): Promise<Map<string, number>> {
    if (!this.isSpot) throw new Error(`${this.venue}: balances are read from spot wallets only`);
    const res = await this.signed('GET', '/api/v3/account', '');
    if (res.status !== 200) throw new Error(`${this.venue} account: ${res.status} ${res.text}`);
    const list = obj(parseJsonSafe(res.text))?.['balances'];
    if (!Array.isArray(list)) throw new Error(`${this.venue} account: no balances list`);
    const out = new Map<string, number>();
    for (const it of list) {
      const j = obj(it);
      const asset = j ? j['asset'] : undefined;
      const free = j ? j['free'] : undefined;
      const locked = j ? j['locked'] : undefined;
      const n = (v: unknown): number => (typeof v === 'string' && /^[0-9]+(\.[0-9]+)?$/.test(v) ? Number(v) : Number.NaN);
      const total = n(free) + n(locked);
      if (typeof asset !== 'string' || asset === '' || !Number.isFinite(total))
        throw new Error(`${this.venue} account: a balance that is not a number (${JSON.stringify(it).slice(0, 120)})`);
      out.set(asset, total);
    }
    return out;
  }

  async positions(): Promise<ExchangePosition[]> {
    if (this.isSpot) return [];
    const res = await this.signed('GET', '/fapi/v2/positionRisk', '');
    if (res.status !== 200) throw new Error(`${this.venue} positionRisk: ${res.status} ${res.text}`);
    const list = parseJsonSafe(res.text);
    const out: ExchangePosition[] = [];
    if (Array.isArray(list))
      for (const it of list) {
        const j = obj(it);
        const p = j ? toExchangePosition(j, this.venue, this.scale) : undefined;
        if (p && p.qty !== 0) out.push(p);
      }
    return out;
  }

  /**
   * The account's fills on `symbol` since `sinceLocalMs` (Spot `GET /api/v3/myTrades`, USD-M `GET /fapi/v1/userTrades`),
   * oldest first: a first page by startTime, then `fromId` pages while full (at most `maxPages`).
   */
  async tradeHistory(symbol: string, sinceLocalMs: number, maxPages = 10): Promise<ExchangeFill[]> {
    const path = this.prefix + (this.isSpot ? '/myTrades' : '/userTrades');
    const sym = 'symbol=' + encodeURIComponent(symbol);
    const limit = 1000;
    const out: ExchangeFill[] = [];
    // USD-M serves at most 7 days back (-1127 beyond): an older open order's earlier fills are then out of reach
    const floor = this.isSpot ? 0 : this.clock.nowMs() - 7 * 86_400_000 + 60_000;
    let params = sym + '&startTime=' + Math.max(floor, Math.floor(sinceLocalMs + this.clock.offsetMs)) + '&limit=' + limit;
    for (let page = 0; page < maxPages; page++) {
      const res = await this.signed('GET', path, params);
      if (res.status !== 200) throw new Error(`${this.venue} trade history: ${res.status} ${res.text}`);
      const list = parseJsonSafe(res.text);
      if (!Array.isArray(list)) throw new Error(`${this.venue} trade history: not a list`);
      let last = '';
      for (const it of list) {
        const j = obj(it);
        const f = j ? toExchangeFill(j, this.venue, this.scale) : undefined;
        if (f) {
          out.push(f);
          last = f.tradeId;
        }
      }
      if (list.length < limit || last === '') break;
      params = sym + '&fromId=' + (BigInt(last) + 1n).toString() + '&limit=' + limit;
    }
    return out;
  }

  /** USD-M: arm/refresh `countdownCancelAll` on every symbol (0 disables). */
  async armDeadManSwitch(countdownMs: number): Promise<void> {
    if (this.isSpot) return;
    await Promise.all(
      [...this.templates.keys()].map(async (s) => {
        const res = await this.signed('POST', this.prefix + '/countdownCancelAll', 'symbol=' + encodeURIComponent(s) + '&countdownTime=' + countdownMs);
        if (res.status !== 200) log().warn({ venue: this.venue, symbol: s, status: res.status }, 'countdownCancelAll failed');
      }),
    );
  }

  // ---------------------------------------------------------------------------------------- algo orders (USD-M)

  /** Place a conditional (STOP/TAKE_PROFIT...) order on the algo service; returns the raw answer. */
  async placeAlgo(params: Record<string, string | number | boolean>): Promise<{ status: number; body: Json | undefined }> {
    const q = Object.entries({ algoType: 'CONDITIONAL', ...params })
      .map(([k, v]) => k + '=' + encodeURIComponent(String(v)))
      .join('&');
    const res = await this.signed('POST', this.prefix + '/algoOrder', q);
    return { status: res.status, body: obj(parseJsonSafe(res.text)) };
  }

  /** the algo order's request params (USD-M `POST /fapi/v1/algoOrder`) */
  algoParams(a: GatewayAlgo): string {
    const t = this.templates.get(a.symbol);
    if (!t) throw new Error(`unknown symbol ${a.symbol}`);
    const market = a.price === 0;
    const type = (a.kind === 'STOP' ? 'STOP' : 'TAKE_PROFIT') + (market ? '_MARKET' : '');
    const p: Array<[string, string]> = [
      ['algoType', 'CONDITIONAL'],
      ['symbol', a.symbol],
      ['side', a.side],
      ['type', type],
      ['quantity', formatScaled(a.qty, t.inst.qtyDecimals)],
      ['triggerPrice', formatScaled(a.triggerPrice, t.inst.priceDecimals)],
    ];
    if (!market) {
      p.push(['price', formatScaled(a.price, t.inst.priceDecimals)]);
      p.push(['timeInForce', a.tif === 'POST_ONLY' ? 'GTX' : a.tif]);
    }
    if (a.reduceOnly) p.push(['reduceOnly', 'true']);
    p.push(['clientAlgoId', a.clientAlgoId]);
    return p.map(([k, v]) => k + '=' + encodeURIComponent(v)).join('&');
  }

  /** report an algo update built from an answer or a query */
  private algoReport(
    a: Pick<GatewayAlgo, 'symbol' | 'clientAlgoId'>,
    state: AlgoState,
    algoId: string,
    code: number,
    reason: string,
    orderId = '',
    source: 'rest' | 'query' = 'rest',
  ): void {
    const ev = blankAlgoEvent();
    ev.venue = this.venue;
    ev.symbol = a.symbol;
    ev.kind = algoKindOfState(state);
    ev.clientAlgoId = a.clientAlgoId;
    ev.algoId = algoId;
    ev.state = state;
    ev.orderId = orderId;
    ev.code = code;
    ev.reason = reason;
    ev.exchTimeMs = this.clock.nowMs();
    ev.localNs = nowNs();
    ev.source = source;
    this.onAlgoEvent(ev);
  }

  /**
   * Place an algo order. An answer: its status (ack) or the venue's refusal (reject, with code and reason; a 418 /
   * auth failure halts as for orders). An unknown outcome (timeout, 5xx) is never resent blindly: the open algo
   * orders are listed; found, it is acked; else the order its trigger would have placed is looked up (it may have
   * triggered at once); else it is reported REJECTED as UNKNOWN_OUTCOME (a late arrival shows up as an orphan of
   * ours at the next reconciliation at start).
   */
  private async sendAlgoPlace(a: GatewayAlgo): Promise<void> {
    let body: string;
    try {
      body = this.algoParams(a);
    } catch (err) {
      this.algoReport(a, 'REJECTED', '', -1, String((err as Error).message));
      return;
    }
    let out: SendOutcome;
    try {
      const res = await this.signed('POST', this.prefix + '/algoOrder', body);
      if (res.status === 200) {
        const j = obj(parseJsonSafe(res.text));
        const x = j ? toExchangeAlgo(j, this.venue, this.scale) : undefined;
        if (x) {
          this.algoReport(a, x.state, x.algoId, 0, '');
          return;
        }
        out = fail('unknown', 0, 'MALFORMED_RESPONSE');
      } else out = this.errorOutcome(res);
    } catch (err) {
      out = transportOutcome(err);
    }
    if (out.ok) return;
    if (out.cls === 'banned' || out.cls === 'auth') this.halt(out.cls + ': ' + out.reason);
    if (out.cls === 'rejected' || out.cls === 'rateLimited' || out.cls === 'banned' || out.cls === 'auth' || out.cls === 'notSent' || out.cls === 'clock') {
      this.algoReport(a, 'REJECTED', '', out.code === 0 ? -1 : out.code, out.reason);
      return;
    }
    // unknown outcome (or a duplicate id: the first attempt landed): learn it, never resend
    try {
      const open = await this.listAlgos(a.symbol);
      const x = open.find((o) => o.clientAlgoId === a.clientAlgoId);
      if (x) return this.algoReport(a, x.state, x.algoId, 0, '', '', 'query');
      const child = await this.queryOrder(a.symbol, a.clientAlgoId);
      if (child) return this.algoReport(a, 'TRIGGERED', '', 0, '', child.exchangeOrderId, 'query');
      this.algoReport(a, 'REJECTED', '', out.code === 0 ? -1 : out.code, 'UNKNOWN_OUTCOME: not on the venue: ' + out.reason, '', 'query');
    } catch (err) {
      log().warn({ venue: this.venue, clientAlgoId: a.clientAlgoId, err: String(err) }, 'algo order outcome unknown: left to reconciliation');
    }
  }

  /** Cancel an algo order (`DELETE /fapi/v1/algoOrder`); a refusal comes back as a cancelReject (the ALGO_UPDATE
   * CANCELED is the confirmation, and the answer's success is one too). */
  private async sendAlgoCancel(a: GatewayAlgo): Promise<void> {
    const p = 'symbol=' + encodeURIComponent(a.symbol) + (a.algoId !== '' ? '&algoId=' + a.algoId : '&clientAlgoId=' + encodeURIComponent(a.clientAlgoId));
    let reason = '';
    let code = -1;
    try {
      const res = await this.signed('DELETE', this.prefix + '/algoOrder', p);
      if (res.status === 200) return this.algoReport(a, 'CANCELED', a.algoId, 0, '');
      const o = obj(parseJsonSafe(res.text));
      code = num(o?.['code']) || -1;
      reason = str(o?.['msg']) || `HTTP ${res.status}`;
    } catch (err) {
      reason = String((err as Error)?.message ?? err);
    }
    const ev = blankAlgoEvent();
    ev.venue = this.venue;
    ev.symbol = a.symbol;
    ev.kind = 'cancelReject';
    ev.clientAlgoId = a.clientAlgoId;
    ev.state = 'OPEN';
    ev.code = code;
    ev.reason = reason;
    ev.localNs = nowNs();
    ev.source = 'rest';
    this.onAlgoEvent(ev);
  }

  /** open algo orders (`GET /fapi/v1/openAlgoOrders`); an entry that cannot be read fails the whole list */
  private async listAlgos(symbol?: string): Promise<ExchangeAlgo[]> {
    const out: ExchangeAlgo[] = [];
    for (const j of await this.openAlgoOrders(symbol)) {
      const x = toExchangeAlgo(j, this.venue, this.scale);
      if (x) out.push(x);
      else if (this.scale(this.venue, str(j['symbol'])))
        throw new Error(`${this.venue} openAlgoOrders: an entry that cannot be read: ${JSON.stringify(j).slice(0, 200)}`);
    }
    return out;
  }

  async openAlgoOrders(symbol?: string): Promise<Json[]> {
    const res = await this.signed('GET', this.prefix + '/openAlgoOrders', symbol !== undefined ? 'symbol=' + encodeURIComponent(symbol) : '');
    if (res.status !== 200) throw new Error(`${this.venue} openAlgoOrders: ${res.status} ${res.text}`);
    const j = parseJsonSafe(res.text);
    const list = Array.isArray(j) ? j : ((obj(j)?.['orders'] as unknown[] | undefined) ?? []);
    return list.map((x) => obj(x)).filter((x): x is Json => x !== undefined);
  }
}
