/**
 * Bybit v5 order gateway over REST for one category (spot -> venue bybitSpot, linear -> bybitLinear). Both
 * categories share one undici Pool (same host).
 *
 * - `POST /v5/order/create` body from the per-instrument template; X-BAPI-SIGN = HMAC hex over
 *   timestamp + apiKey + recvWindow + body (the same bytes sent).
 * - The envelope's retCode (HTTP 200) and the HTTP status map to reactions (errors.ts). The create ack only means
 *   "accepted": state and fills come from the private stream.
 * - Rate limits (per UID, per endpoint, per second): one `BybitSlot` per endpoint, shared with the trade WS; each
 *   answer's `X-Bapi-Limit` / `-Status` / `-Reset-Timestamp` sets it, every send is booked on it before it goes.
 *   Orders, cancels and amends the slot refuses are refused at once (RATE_LIMITED_LOCAL); other calls wait for
 *   room up to `maxLimitWaitMs`, then throw LocalRateLimitError.
 * - cancel: `/v5/order/cancel`; cancel-all: `/v5/order/cancel-all` (linear: per settle coin, spot: per symbol);
 *   queries: `/v5/order/realtime` (open, then recent closed), positions: `/v5/position/list`.
 */
import { BaseGateway, OK, fail, type RecoveryOptions, type SendOutcome, transportOutcome } from '../../../orders/basegw.js';
import { ServerClock, type ClockSyncOptions } from '../../../net/clock.js';
import type { GatewayOrder, VenueGateway } from '../../../orders/gateway.js';
import { arr, idString, num, obj, parseJsonSafe, str, type Json } from '../../../codec/json.js';
import {
  BYBIT_DEFAULT_LIMITS,
  BYBIT_IP_WINDOW,
  BybitSlot,
  type IpWindow,
  LocalRateLimitError,
  VenueRateLimiter,
  retryAfterSec,
} from '../../../net/ratelimit.js';
import { RestClient, type RestResponse } from '../../../net/rest.js';
import { scaleTable, type ScaleLookup } from '../../../codec/scale.js';
import { HmacSha256 } from '../../../codec/sign.js';
import { blankOrderFields, setOrderFields } from '../../../codec/template.js';
import type { ExchangeFill, ExchangeOrder, ExchangePosition } from '../../../model/orders.js';
import { AsciiWriter } from '../../../codec/wire.js';
import { formatScaled as fmtScaled } from '../../../util/fixed.js';
import type { HopRecorder } from '../../../util/hops.js';
import { nowNs } from '../../../util/clock.js';
import { mapBybitError } from './errors.js';
import { toExchangeAlgo, toExchangeFill, toExchangeOrder, toExchangePosition } from './parse.js';
import { blankAlgoEvent, type AlgoState, type ExchangeAlgo, type GatewayAlgo } from '../../../model/orders.js';
import { log } from '../../../util/log.js';
import { BybitOrderTemplate, type BybitCategory, type TemplateInstrument } from './template.js';
import { initialDcpStatus, type BybitDcpOptions, type BybitDcpProduct, type BybitDcpStatus } from './dcp.js';

export interface BybitGatewayConfig {
  category: BybitCategory;
  restBaseUrl: string;
  /** trade WS (.../v5/trade), for transport 'ws' */
  wsApiUrl?: string;
  /** private stream (.../v5/private) */
  wsPrivateUrl?: string;
  apiKey: string;
  apiSecret: string;
  instruments: TemplateInstrument[];
  transport?: 'rest' | 'ws';
  recvWindow?: number;
  timeoutMs?: number;
  connections?: number;
  /** subscribe the private stream (default true) */
  privateStream?: boolean;
  /** trade WS and private stream sockets are rotated make-before-break after this long (default 23 h) */
  socketLifetimeMs?: number;
  /** linear cancel-all scope (default USDT) */
  settleCoin?: string;
  recovery?: RecoveryOptions;
  clockSync?: ClockSyncOptions;
  hops?: HopRecorder;
  /**
   * Disconnection Protection (exchange dead man's switch), set up at start when the account has it and the private
   * stream runs: window in seconds (default 10, Bybit's range 3..300); false to leave it alone.
   */
  dcp?: BybitDcpOptions | false;
  /** a non-order call waits this long at most for its endpoint's rate budget before it is refused (default 2000 ms) */
  maxLimitWaitMs?: number;
  /** the per-IP window every REST request is booked in (default: the process's one, BYBIT_IP_WINDOW, 600 per 5 s) */
  ipWindow?: IpWindow;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const LIMITS_UNUSED = { weightPerMinute: 1e12, ordersPer10s: 0, ordersPerMinute: 0, headroom: 1 };

export class BybitRestGateway extends BaseGateway implements VenueGateway {
  readonly cfg: BybitGatewayConfig;
  readonly rest: RestClient;
  readonly scale: ScaleLookup;
  readonly category: BybitCategory;
  protected readonly templates = new Map<string, BybitOrderTemplate>();
  protected readonly hmac: HmacSha256;
  protected readonly w = new AsciiWriter(2048);
  protected readonly f = blankOrderFields();
  protected readonly recvWindow: number;
  /** REST order bodies: writers not in flight (sendPlace) */
  private readonly bodyWriters: AsciiWriter[] = [new AsciiWriter(2048), new AsciiWriter(2048)];
  /** private stream attached by the factory */
  privateStream: { start(): Promise<void>; stop(): Promise<void> } | undefined;
  /** DCP as found at start (set by setupDcp); read through `dcpStatus` */
  dcp: BybitDcpStatus;
  /** the shared private stream's dcp subscribe state (attached by the factory) */
  dcpSubscribed: (() => boolean) | undefined;
  /** per-endpoint rate-limit slots (REST path -> slot); the order path's are fields (no lookup per order) */
  readonly slots = new Map<string, BybitSlot>();
  readonly slotCreate: BybitSlot;
  readonly slotCancel: BybitSlot;
  readonly slotAmend: BybitSlot;
  protected readonly maxLimitWaitMs: number;
  /** Bybit's per-IP limit (600 HTTP requests per 5 s, shared by every gateway of the process): each REST request books it */
  readonly ip: IpWindow;
  /** orders, cancels and amends go over REST (false on the trade WS, which the IP's HTTP limit does not count) */
  protected ordersOverHttp = true;

  constructor(cfg: BybitGatewayConfig) {
    const rest = new RestClient(cfg.restBaseUrl, { connections: cfg.connections ?? 2, timeoutMs: cfg.timeoutMs ?? 5000 });
    const ip = cfg.ipWindow ?? BYBIT_IP_WINDOW;
    const clock = new ServerClock(async () => {
      // booked in the IP window like every request (a sync the window has no room for fails, and is retried later)
      const now = Date.now();
      if (ip.waitMs(now) > 0) throw new Error('Bybit IP request window full: time sync skipped');
      ip.book(now);
      const r = await rest.request('GET', '/v5/market/time');
      const j = obj(parseJsonSafe(r.text));
      const nano = str(obj(j?.['result'])?.['timeNano']);
      const t = nano.length > 6 ? Number(nano.slice(0, -6)) : num(j?.['time']);
      if (!(t > 0)) throw new Error(`bad /v5/market/time answer ${r.status}`);
      return t;
    }, cfg.clockSync);
    super(cfg.category === 'spot' ? 'bybitSpot' : 'bybitLinear', clock, new VenueRateLimiter(LIMITS_UNUSED), cfg.hops, cfg.recovery);
    this.cfg = cfg;
    this.rest = rest;
    this.ip = ip;
    this.category = cfg.category;
    this.recvWindow = cfg.recvWindow ?? 5000;
    this.hmac = new HmacSha256(cfg.apiSecret);
    this.dcp = initialDcpStatus(cfg.category);
    this.dcpSubscribed = undefined;
    this.scale = scaleTable(cfg.instruments.map((i) => ({ ...i, venue: this.venue })));
    for (const i of cfg.instruments) this.templates.set(i.symbol, new BybitOrderTemplate(cfg.category, i, cfg.apiKey, this.recvWindow));
    this.maxLimitWaitMs = cfg.maxLimitWaitMs ?? 2000;
    const d = BYBIT_DEFAULT_LIMITS[cfg.category];
    this.slotCreate = this.slotOf('/v5/order/create', d.create);
    this.slotCancel = this.slotOf('/v5/order/cancel', d.cancel);
    this.slotAmend = this.slotOf('/v5/order/amend', d.amend);
    this.slotOf('/v5/order/cancel-all', d.cancelAll);
    this.slotOf('/v5/order/disconnected-cancel-all', 5);
  }

  /** the endpoint's slot (created on first use with the documented default; the first answer gives the real limit) */
  slotOf(path: string, defaultLimit: number = BYBIT_DEFAULT_LIMITS.query): BybitSlot {
    let s = this.slots.get(path);
    if (!s) this.slots.set(path, (s = new BybitSlot(path, defaultLimit)));
    return s;
  }

  /** Order path: the wait before a new order (the create endpoint's slot; 0 = go). */
  protected override placeWaitMs(now: number): number {
    const w = this.limiter.orderWaitMs(now, this.slotCreate);
    if (w > 0 || !this.ordersOverHttp) return w;
    const ipw = this.ip.waitMs(Date.now());
    if (ipw > 0) this.ip.refused++;
    return ipw;
  }

  /** Order path: a cancel or amend its slot refuses now, counted as a local refusal (no wait). */
  protected refusedNow(what: string, slot: BybitSlot): SendOutcome | undefined {
    const now = this.clock.nowMs();
    let wait = this.limiter.orderWaitMs(now, slot);
    if (wait === 0 && this.ordersOverHttp) {
      wait = this.ip.waitMs(Date.now());
      if (wait > 0) this.ip.refused++;
    }
    if (wait === 0) return undefined;
    slot.refused++;
    this.limiter.noteLocal(what, wait, true);
    return fail(this.limiter.isBanned(now) ? 'banned' : 'rateLimited', 0, 'RATE_LIMITED_LOCAL');
  }

  /**
   * The endpoint's rate budget for one cold-path call: books it after waiting for room up to `maxLimitWaitMs`
   * (counted as deferred); refuses (LocalRateLimitError, counted) when the wait would be longer or the IP is banned.
   */
  async budget(path: string): Promise<BybitSlot> {
    const slot = this.slotOf(path);
    for (;;) {
      const now = this.clock.nowMs();
      const local = Date.now();
      let wait = this.limiter.orderWaitMs(now, slot);
      if (wait === 0) {
        wait = this.ip.waitMs(local);
        if (wait > this.maxLimitWaitMs) this.ip.refused++;
        else if (wait > 0) this.ip.deferred++;
      }
      if (wait === 0) {
        slot.book(now);
        this.ip.book(local);
        return slot;
      }
      if (wait > this.maxLimitWaitMs) {
        slot.refused++;
        this.limiter.noteLocal(path, wait, true);
        throw new LocalRateLimitError(`${this.venue} ${path}`, wait);
      }
      this.limiter.noteLocal(path, wait, false);
      await sleep(wait);
    }
  }

  async start(): Promise<void> {
    const n = this.cfg.connections ?? 2;
    const now = Date.now();
    if (this.ip.waitMs(now, n) === 0) {
      for (let i = 0; i < n; i++) this.ip.book(now);
      await this.rest.warm('/v5/market/time');
    }
    // keep-alive rounds are booked in the IP window first, or skipped when it has no room
    this.rest.keepWarm('/v5/market/time', undefined, (k) => {
      const t = Date.now();
      if (this.ip.waitMs(t, k) > 0) return false;
      for (let i = 0; i < k; i++) this.ip.book(t);
      return true;
    });
    await this.clock.sync();
    this.clock.start();
    if (this.privateStream) await this.privateStream.start();
  }

  async stop(): Promise<void> {
    this.clock.stop();
    if (this.privateStream) await this.privateStream.stop().catch(() => undefined);
    await this.rest.close();
  }

  // ------------------------------------------------------------------------------------------- DCP

  /** Disconnection Protection of this gateway's product (DERIVATIVES / SPOT), for status and /metrics (cold path). */
  get dcpStatus(): BybitDcpStatus {
    return { ...this.dcp, subscribed: this.dcp.enabled && (this.dcpSubscribed?.() ?? false) };
  }

  /** `GET /v5/account/query-dcp-info`: product -> window (s) of the products whose DCP is ON (empty map: none). */
  async queryDcp(): Promise<Map<string, number>> {
    const env = this.envelope(await this.get('/v5/account/query-dcp-info', ''));
    if ('ok' in env) throw new Error(`query-dcp-info: ${env.ok ? '' : env.reason}`);
    if (env.code !== 0) throw new Error(`query-dcp-info: ${env.code} ${env.msg}`);
    const out = new Map<string, number>();
    for (const it of arr(env.result?.['dcpInfos'])) {
      const j = obj(it);
      if (!j || str(j['dcpStatus']) !== 'ON') continue;
      const w = Number(str(j['timeWindow']) || num(j['timeWindow']));
      out.set(str(j['product']), w > 0 ? w : 10);
    }
    return out;
  }

  /** `POST /v5/order/disconnected-cancel-all` `{product, timeWindow}`; throws on a refusal. */
  async setDcpWindow(product: BybitDcpProduct, sec: number): Promise<void> {
    const env = this.envelope(await this.post('/v5/order/disconnected-cancel-all', { product, timeWindow: sec }));
    if ('ok' in env) throw new Error(`disconnected-cancel-all: ${env.ok ? '' : env.reason}`);
    if (env.code !== 0) throw new Error(`disconnected-cancel-all: ${env.code} ${env.msg}`);
  }

  // ------------------------------------------------------------------------------------------- requests

  protected headers(ts: number, sign: string, json: boolean): Record<string, string> {
    const h: Record<string, string> = {
      'x-bapi-api-key': this.cfg.apiKey,
      'x-bapi-timestamp': String(ts),
      'x-bapi-recv-window': String(this.recvWindow),
      'x-bapi-sign': sign,
    };
    if (json) h['content-type'] = 'application/json';
    return h;
  }

  /** Signed POST with a JSON body (cold path). */
  async post(path: string, body: Json): Promise<RestResponse> {
    const text = JSON.stringify(body);
    const slot = await this.budget(path);
    const ts = this.clock.nowMs();
    const sign = this.hmac.hexAscii(String(ts) + this.cfg.apiKey + String(this.recvWindow) + text); // UTF-8 as before for non-ASCII
    let res: RestResponse;
    try {
      res = await this.rest.request('POST', path, { body: text, headers: this.headers(ts, sign, true) });
    } catch (err) {
      slot.release();
      throw err;
    }
    this.noteResponse(res, slot);
    return res;
  }

  /** Signed GET with a query string (the exact string sent is signed). */
  async get(path: string, query: string): Promise<RestResponse> {
    const slot = await this.budget(path);
    const ts = this.clock.nowMs();
    const sign = this.hmac.hexAscii(String(ts) + this.cfg.apiKey + String(this.recvWindow) + query);
    let res: RestResponse;
    try {
      res = await this.rest.request('GET', path, { query, headers: this.headers(ts, sign, false) });
    } catch (err) {
      slot.release();
      throw err;
    }
    this.noteResponse(res, slot);
    return res;
  }

  protected noteResponse(res: RestResponse, slot: BybitSlot): void {
    const now = this.clock.nowMs();
    this.limiter.fromBybitHeaders(res.headers, slot, now);
    if (res.status === 429) this.limiter.on429(retryAfterSec(res.headers), now);
    else if (res.status === 403) {
      this.limiter.on418(600, now); // IP limit: stop >= 10 min (docs)
      this.onBanned('403 (IP limit)');
    } else if (res.status >= 500) this.limiter.on5xx(res.status);
  }

  /** envelope -> { retCode, retMsg, result } or an outcome for non-200 / malformed */
  protected envelope(res: RestResponse): { code: number; msg: string; result: Json | undefined } | SendOutcome {
    if (res.status !== 200) {
      const m = mapBybitError(res.status, 0, res.text.slice(0, 200));
      return fail(m.cls, res.status, m.reason);
    }
    let j: Json | undefined;
    try {
      j = obj(JSON.parse(res.text)); // Bybit ids are strings
    } catch {
      j = undefined;
    }
    if (!j || typeof j['retCode'] !== 'number') return fail('unknown', 0, 'MALFORMED_RESPONSE');
    if (j['retCode'] === 10006) this.limiter.counts.got429++; // "Too many visits": Bybit's 429 (the slot has its reset)
    return { code: j['retCode'], msg: str(j['retMsg']), result: obj(j['result']) };
  }

  protected outcomeOf(code: number, msg: string): SendOutcome {
    const m = mapBybitError(200, code, msg);
    return fail(m.cls, code, m.reason + (msg ? ': ' + msg : ''));
  }

  // ------------------------------------------------------------------------------------------- orders

  protected buildFields(o: GatewayOrder): BybitOrderTemplate | undefined {
    const t = this.templates.get(o.symbol);
    if (!t) return undefined;
    setOrderFields(this.f, o, this.clock.nowMs());
    return t;
  }

  /** ack (accepted) with the venue order id */
  protected emitAccepted(o: GatewayOrder, orderId: string, source: 'rest' | 'wsapi'): void {
    const e = this.begin('ack', o.symbol, o.clientOrderId, 'ACKED', source);
    e.exchangeOrderId = orderId;
    this.fire();
  }

  /** Build and sign the REST order body of a never-sent order into a free body writer (see VenueGateway.warm). */
  warm(symbol: string): void {
    const t = this.buildFields(this.warmOrderOf(symbol));
    const w = this.bodyWriters.pop();
    if (!t || !w) {
      if (w) this.bodyWriters.push(w);
      return;
    }
    t.restBody(w, this.f, this.hmac);
    this.bodyWriters.push(w);
  }

  protected async sendPlace(o: GatewayOrder, _attempt: number): Promise<SendOutcome> {
    const t0 = nowNs();
    const t = this.buildFields(o);
    if (!t) return fail('rejected', 0, 'UNKNOWN_SYMBOL');
    // the JSON body in a writer of its own, sent as is (back to the free list once the request has settled: the
    // socket may hold the bytes until flushed); X-BAPI-SIGN over ts + key + recvWindow + those bytes
    const w = this.bodyWriters.pop() ?? new AsciiWriter(2048);
    const sign = t.restBody(w, this.f, this.hmac);
    const body = w.view();
    const headers = this.headers(this.f.timestampMs, sign, true);
    this.recordSign(t0);
    o.sentNs = nowNs();
    const slot = this.slotCreate;
    slot.book(this.clock.nowMs()); // placeWithRecovery checked the slot and the IP window in this turn
    this.ip.book(Date.now());
    let res: RestResponse;
    const p = this.rest.request('POST', '/v5/order/create', { body, headers });
    this.recordWrite(o);
    try {
      res = await p;
    } catch (err) {
      slot.release();
      return transportOutcome(err);
    } finally {
      this.bodyWriters.push(w);
    }
    this.noteResponse(res, slot);
    const env = this.envelope(res);
    if ('ok' in env) return env;
    if (env.code !== 0) return this.outcomeOf(env.code, env.msg);
    this.emitAccepted(o, idString(env.result?.['orderId']), 'rest');
    return OK;
  }

  protected async sendCancel(o: GatewayOrder): Promise<SendOutcome> {
    const refused = this.refusedNow('cancel', this.slotCancel);
    if (refused) return refused;
    const body: Json = { category: this.category, symbol: o.symbol };
    if (o.exchangeOrderId !== '') body['orderId'] = o.exchangeOrderId;
    else body['orderLinkId'] = o.clientOrderId;
    let res: RestResponse;
    try {
      res = await this.post('/v5/order/cancel', body);
    } catch (err) {
      return transportOutcome(err);
    }
    const env = this.envelope(res);
    if ('ok' in env) return env;
    if (env.code !== 0) return this.outcomeOf(env.code, env.msg);
    return OK; // accepted; the private stream reports CANCELED
  }

  amend(o: GatewayOrder, price: number, qty: number): boolean {
    const t = this.templates.get(o.symbol);
    if (!t || this.halted) return false;
    const arg: Json = { category: this.category, symbol: o.symbol, qty: fmtScaled(qty, t.inst.qtyDecimals) };
    if (o.type === 'LIMIT') arg['price'] = fmtScaled(price, t.inst.priceDecimals);
    if (o.exchangeOrderId !== '') arg['orderId'] = o.exchangeOrderId;
    else arg['orderLinkId'] = o.clientOrderId;
    this.sendAmend(arg).then(
      (out) => this.afterAmend(o, out),
      (err: unknown) => this.afterAmend(o, fail('unknown', 0, String(err))),
    );
    return true;
  }

  protected async sendAmend(arg: Json): Promise<SendOutcome> {
    const refused = this.refusedNow('amend', this.slotAmend);
    if (refused) return refused;
    let res: RestResponse;
    try {
      res = await this.post('/v5/order/amend', arg);
    } catch (err) {
      return transportOutcome(err);
    }
    const env = this.envelope(res);
    if ('ok' in env) return env;
    if (env.code !== 0) return this.outcomeOf(env.code, env.msg);
    return OK;
  }

  protected afterAmend(o: GatewayOrder, out: SendOutcome, source: 'rest' | 'wsapi' = 'rest'): void {
    const e = this.begin('amend', o.symbol, o.clientOrderId, o.state, source);
    if (!out.ok) {
      e.code = out.code === 0 ? -1 : out.code; // never 0 on failure (an unknown outcome is reported as failed; the stream corrects)
      e.reason = out.reason;
    }
    this.fire();
  }

  async cancelAll(symbol?: string): Promise<void> {
    const body: Json = { category: this.category };
    if (symbol !== undefined) body['symbol'] = symbol;
    else if (this.category === 'linear') body['settleCoin'] = this.cfg.settleCoin ?? 'USDT';
    // active orders first (their list is reported as cancels below), then the conditional ones
    const res = await this.post('/v5/order/cancel-all', { ...body, orderFilter: 'Order' });
    const env = this.envelope(res);
    if ('ok' in env) throw new Error(`${this.venue} cancel-all: ${env.ok ? '' : env.reason}`);
    if (env.code !== 0) throw new Error(`${this.venue} cancel-all: ${env.code} ${env.msg}`);
    // conditional orders explicitly (their Deactivated pushes update the algo owner)
    const stops = this.envelope(await this.post('/v5/order/cancel-all', { ...body, orderFilter: 'StopOrder' }));
    if ('ok' in stops) throw new Error(`${this.venue} cancel-all (conditional): ${stops.ok ? '' : stops.reason}`);
    if (stops.code !== 0) throw new Error(`${this.venue} cancel-all (conditional): ${stops.code} ${stops.msg}`);
    // each listed order is cancelled: report it now (the stream will confirm; duplicates are harmless)
    for (const it of arr(env.result?.['list'])) {
      const j = obj(it);
      const link = str(j?.['orderLinkId']);
      if (link === '') continue;
      const e = this.begin('cancel', symbol ?? '', link, 'CANCELED', 'rest');
      e.exchangeOrderId = idString(j?.['orderId']);
      this.fire();
    }
  }

  private async realtime(query: string): Promise<ExchangeOrder[]> {
    const res = await this.get('/v5/order/realtime', query);
    const env = this.envelope(res);
    if ('ok' in env) throw new Error(`${this.venue} realtime: ${env.ok ? '' : env.reason}`);
    if (env.code !== 0) throw new Error(`${this.venue} realtime: ${env.code} ${env.msg}`);
    const out: ExchangeOrder[] = [];
    for (const it of arr(env.result?.['list'])) {
      const j = obj(it);
      const o = j ? toExchangeOrder(j, this.venue, this.scale) : undefined;
      if (o) out.push(o);
    }
    return out;
  }

  async queryOrder(symbol: string, clientOrderId: string): Promise<ExchangeOrder | null> {
    const base = `category=${this.category}&symbol=${symbol}&orderLinkId=${clientOrderId}`;
    const open = await this.realtime(base);
    const hit = open.find((o) => o.clientOrderId === clientOrderId);
    if (hit) return hit;
    const closed = await this.realtime(base + '&openOnly=1');
    return closed.find((o) => o.clientOrderId === clientOrderId) ?? null;
  }

  async openOrders(symbol?: string): Promise<ExchangeOrder[]> {
    const scope = symbol !== undefined ? `&symbol=${symbol}` : this.category === 'linear' ? `&settleCoin=${this.cfg.settleCoin ?? 'USDT'}` : '';
    // active orders only: conditional orders are the algo side's (algoOpen)
    const list = await this.realtime(`category=${this.category}${scope}&orderFilter=Order&limit=50`);
    return list.filter((o) => o.state === 'ACKED' || o.state === 'PARTIALLY_FILLED');
  }

  // ------------------------------------------------------------------------------------------- conditional orders

  /** Conditional orders (VenueGateway's algo part): `order/create` with triggerPrice + triggerDirection. */
  readonly algoPlace = (a: GatewayAlgo): void => void this.sendAlgoPlace(a);
  readonly algoCancel = (a: GatewayAlgo): void => void this.sendAlgoCancel(a);
  readonly algoOpen = (symbol?: string): Promise<ExchangeAlgo[]> => this.listAlgos(symbol);

  /** the create body of a conditional order: a stop waits for the price to move against its side (a buy for a rise,
   * direction 1), a take-profit for the other way; LastPrice; spot `orderFilter=StopOrder` */
  algoBody(a: GatewayAlgo): Json {
    const t = this.templates.get(a.symbol);
    if (!t) throw new Error(`unknown symbol ${a.symbol}`);
    const rise = (a.side === 'BUY') === (a.kind === 'STOP');
    const market = a.price === 0;
    const b: Json = {
      category: this.category,
      symbol: a.symbol,
      side: a.side === 'BUY' ? 'Buy' : 'Sell',
      orderType: market ? 'Market' : 'Limit',
      qty: fmtScaled(a.qty, t.inst.qtyDecimals),
      triggerPrice: fmtScaled(a.triggerPrice, t.inst.priceDecimals),
      triggerDirection: rise ? 1 : 2,
      orderLinkId: a.clientAlgoId,
    };
    if (this.category === 'linear') b['triggerBy'] = 'LastPrice';
    else b['orderFilter'] = 'StopOrder';
    if (!market) {
      b['price'] = fmtScaled(a.price, t.inst.priceDecimals);
      b['timeInForce'] = a.tif === 'POST_ONLY' ? 'PostOnly' : a.tif;
    } else if (this.category === 'spot' && a.side === 'BUY') b['marketUnit'] = 'baseCoin';
    if (a.reduceOnly && this.category === 'linear') b['reduceOnly'] = true;
    return b;
  }

  private algoReport(
    a: GatewayAlgo,
    kind: 'ack' | 'reject' | 'cancel' | 'cancelReject' | 'trigger',
    state: AlgoState,
    algoId: string,
    code: number,
    reason: string,
    source: 'rest' | 'query' = 'rest',
  ): void {
    const ev = blankAlgoEvent();
    ev.venue = this.venue;
    ev.symbol = a.symbol;
    ev.kind = kind;
    ev.clientAlgoId = a.clientAlgoId;
    ev.algoId = algoId;
    ev.state = state;
    if (state === 'TRIGGERED') {
      ev.orderId = algoId;
      ev.orderClientId = a.clientAlgoId;
    }
    ev.code = code;
    ev.reason = reason;
    ev.exchTimeMs = this.clock.nowMs();
    ev.localNs = nowNs();
    ev.source = source;
    this.onAlgoEvent(ev);
  }

  /** Place; the answer acks (the `order` push confirms: Untriggered) or refuses with the venue's code. An unknown
   * outcome is learned by query (the same orderLinkId: open conditional, or the order it already placed), never resent. */
  private async sendAlgoPlace(a: GatewayAlgo): Promise<void> {
    let out: SendOutcome;
    try {
      const env = this.envelope(await this.post('/v5/order/create', this.algoBody(a)));
      if (!('ok' in env)) {
        if (env.code === 0) return this.algoReport(a, 'ack', 'OPEN', idString(env.result?.['orderId']), 0, '');
        out = this.outcomeOf(env.code, env.msg);
      } else out = env;
    } catch (err) {
      out = err instanceof Error && err.message.startsWith('unknown symbol') ? fail('rejected', -1, err.message) : transportOutcome(err);
    }
    if (out.ok) return;
    if (out.cls === 'banned' || out.cls === 'auth') this.halt(out.cls + ': ' + out.reason);
    if (out.cls !== 'unknown' && out.cls !== 'duplicate') return this.algoReport(a, 'reject', 'REJECTED', '', out.code === 0 ? -1 : out.code, out.reason);
    try {
      const open = (await this.listAlgos(a.symbol)).find((x) => x.clientAlgoId === a.clientAlgoId);
      if (open) return this.algoReport(a, 'ack', 'OPEN', open.algoId, 0, '', 'query');
      const placed = await this.queryOrder(a.symbol, a.clientAlgoId);
      if (placed) return this.algoReport(a, 'trigger', 'TRIGGERED', placed.exchangeOrderId, 0, '', 'query');
      this.algoReport(a, 'reject', 'REJECTED', '', out.code === 0 ? -1 : out.code, 'UNKNOWN_OUTCOME: not on the venue: ' + out.reason, 'query');
    } catch (err) {
      log().warn({ venue: this.venue, clientAlgoId: a.clientAlgoId, err: String(err) }, 'conditional order outcome unknown: left to reconciliation');
    }
  }

  /** Cancel (spot: orderFilter=StopOrder); the push confirms (Deactivated); a refusal is a cancelReject. */
  private async sendAlgoCancel(a: GatewayAlgo): Promise<void> {
    const body: Json = { category: this.category, symbol: a.symbol };
    if (a.algoId !== '') body['orderId'] = a.algoId;
    else body['orderLinkId'] = a.clientAlgoId;
    if (this.category === 'spot') body['orderFilter'] = 'StopOrder';
    let code = -1;
    let reason = '';
    try {
      const env = this.envelope(await this.post('/v5/order/cancel', body));
      if ('ok' in env) reason = env.ok ? '' : env.reason;
      else if (env.code === 0) return this.algoReport(a, 'cancel', 'CANCELED', a.algoId, 0, '');
      else {
        code = env.code;
        reason = env.msg;
      }
    } catch (err) {
      reason = String((err as Error)?.message ?? err);
    }
    this.algoReport(a, 'cancelReject', 'OPEN', a.algoId, code, reason);
  }

  /** open conditional orders (`order/realtime` orderFilter=StopOrder, every page); an item that cannot be read fails the list */
  private async listAlgos(symbol?: string): Promise<ExchangeAlgo[]> {
    const scope = symbol !== undefined ? `&symbol=${symbol}` : this.category === 'linear' ? `&settleCoin=${this.cfg.settleCoin ?? 'USDT'}` : '';
    const out: ExchangeAlgo[] = [];
    let cursor = '';
    for (let page = 0; page < 20; page++) {
      const res = await this.get(
        '/v5/order/realtime',
        `category=${this.category}${scope}&orderFilter=StopOrder&limit=50${cursor !== '' ? '&cursor=' + cursor : ''}`,
      );
      const env = this.envelope(res);
      if ('ok' in env) throw new Error(`${this.venue} conditional orders: ${env.ok ? '' : env.reason}`);
      if (env.code !== 0) throw new Error(`${this.venue} conditional orders: ${env.code} ${env.msg}`);
      for (const it of arr(env.result?.['list'])) {
        const j = obj(it);
        if (!j || !this.scale(this.venue, str(j['symbol']))) continue;
        const x = toExchangeAlgo(j, this.venue, this.scale);
        if (!x) throw new Error(`${this.venue} conditional orders: an item that cannot be read: ${JSON.stringify(j).slice(0, 200)}`);
        if (x.state === 'OPEN') out.push(x);
      }
      cursor = str(env.result?.['nextPageCursor']);
      if (cursor === '') break;
    }
    return out;
  }

  /**
   * The account's fills on `symbol` since `sinceLocalMs` from `GET /v5/execution/list` (newest first, 100 a page,
   * followed by nextPageCursor until the page reaches older fills or `maxPages`); returned oldest first.
   */
  async tradeHistory(symbol: string, sinceLocalMs: number, maxPages = 20): Promise<ExchangeFill[]> {
    // startTime alone means [startTime, startTime + 7 days]: never start more than 7 days back, or the newest fills
    // would fall outside the window (an older open order's earlier fills are then out of reach)
    const floor = this.clock.nowMs() - 7 * 86_400_000 + 60_000;
    const since = Math.max(floor, Math.floor(sinceLocalMs + this.clock.offsetMs));
    const base = `category=${this.category}&symbol=${symbol}&execType=Trade&startTime=${since}&limit=100`;
    const out: ExchangeFill[] = [];
    let cursor = '';
    for (let page = 0; page < maxPages; page++) {
      const res = await this.get('/v5/execution/list', cursor === '' ? base : base + '&cursor=' + cursor);
      const env = this.envelope(res);
      if ('ok' in env) throw new Error(`${this.venue} execution list: ${env.ok ? '' : env.reason}`);
      if (env.code !== 0) throw new Error(`${this.venue} execution list: ${env.code} ${env.msg}`);
      let older = false;
      for (const it of arr(env.result?.['list'])) {
        const j = obj(it);
        const f = j ? toExchangeFill(j, this.venue, this.scale) : undefined;
        if (!f) continue;
        if (f.timeMs > 0 && f.timeMs < since) older = true;
        else out.push(f);
      }
      cursor = str(env.result?.['nextPageCursor']);
      if (older || cursor === '') break;
    }
    return out.reverse();
  }

  /** The unified wallet (spot and linear share it): `walletBalance` per coin (see VenueGateway.balances). */
  async balances(): Promise<Map<string, number>> {
    const res = await this.get('/v5/account/wallet-balance', 'accountType=UNIFIED');
    const env = this.envelope(res);
    if ('ok' in env) throw new Error(`${this.venue} wallet-balance: ${env.ok ? '' : env.reason}`);
    if (env.code !== 0) throw new Error(`${this.venue} wallet-balance: ${env.code} ${env.msg}`);
    const account = obj(arr(env.result?.['list'])[0]);
    if (!account) throw new Error(`${this.venue} wallet-balance: no account in the answer`);
    const out = new Map<string, number>();
    for (const it of arr(account['coin'])) {
      const j = obj(it);
      const coin = j ? j['coin'] : undefined;
      const wb = j ? j['walletBalance'] : undefined;
      const v = typeof wb === 'string' && /^[0-9]+(\.[0-9]+)?$/.test(wb) ? Number(wb) : Number.NaN;
      if (typeof coin !== 'string' || coin === '' || !Number.isFinite(v))
        throw new Error(`${this.venue} wallet-balance: a balance that is not a number (${JSON.stringify(it).slice(0, 120)})`);
      out.set(coin, v);
    }
    return out;
  }

  async positions(): Promise<ExchangePosition[]> {
    if (this.category === 'spot') return [];
    const res = await this.get('/v5/position/list', `category=linear&settleCoin=${this.cfg.settleCoin ?? 'USDT'}`);
    const env = this.envelope(res);
    if ('ok' in env) throw new Error(`${this.venue} positions: ${env.ok ? '' : env.reason}`);
    if (env.code !== 0) throw new Error(`${this.venue} positions: ${env.code} ${env.msg}`);
    const out: ExchangePosition[] = [];
    for (const it of arr(env.result?.['list'])) {
      const j = obj(it);
      const p = j ? toExchangePosition({ category: 'linear', ...j }, this.scale) : undefined;
      if (p && p.qty !== 0) out.push(p);
    }
    return out;
  }
}
