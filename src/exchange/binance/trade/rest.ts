/**
 * Binance order gateway over REST (Spot `/api/v3`, USD-M `/fapi/v1`), one undici Pool per host.
 *
 * - New orders are built from the per-instrument template and signed over the exact body sent.
 * - Responses: 200 -> ack with the reported status; error codes -> mapBinanceError -> the base class reaction
 *   (reject / backoff / halt / resync / query-then-resend). Rate-limit headers are read on every response.
 * - USD-M: `countdownCancelAll` dead man's switch per symbol, re-armed while healthy; cancel-all also cancels the
 *   algo (conditional) book (`/fapi/v1/algoOpenOrders`).
 * - The user data stream (private fills) is attached by `userStream` (see userstream.ts).
 */
import { BaseGateway, OK, fail, type RecoveryOptions, type SendOutcome, transportOutcome } from '../../../orders/basegw.js';
import { ServerClock, type ClockSyncOptions } from '../../../net/clock.js';
import type { GatewayOrder, VenueGateway } from '../../../orders/gateway.js';
import { BINANCE_ID_PATTERNS, obj, parseJsonIds, parseJsonSafe, str, num, type Json } from '../../../codec/json.js';
import { BINANCE_SPOT_LIMITS, BINANCE_USDM_LIMITS, VenueRateLimiter, retryAfterSec, type BinanceLimits } from '../../../net/ratelimit.js';
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
import { toExchangeFill, toExchangeOrder, toExchangePosition } from './parse.js';
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
  /** USD-M dead man's switch; false to disable (default 30 s countdown, refreshed every 10 s) */
  deadManSwitch?: { countdownMs: number; refreshMs: number } | false;
  recovery?: RecoveryOptions;
  clockSync?: ClockSyncOptions;
  hops?: HopRecorder;
  /** the account's limits (default: the venue's documented defaults; read exchangeInfo.rateLimits at start) */
  limits?: BinanceLimits;
}

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
  /** private stream attached by start() (userstream.ts) */
  userStream: { start(): Promise<void>; stop(): Promise<void> } | undefined;

  constructor(cfg: BinanceGatewayConfig) {
    const isSpot = cfg.venue === 'binanceSpot';
    const prefix = isSpot ? '/api/v3' : '/fapi/v1';
    const rest = new RestClient(cfg.restBaseUrl, { connections: cfg.connections ?? 2, timeoutMs: cfg.timeoutMs ?? 5000 });
    const clock = new ServerClock(async () => {
      const r = await rest.request('GET', prefix + '/time');
      const t = num(obj(parseJsonSafe(r.text))?.['serverTime']);
      if (!(t > 0)) throw new Error(`bad /time answer ${r.status}`);
      return t;
    }, cfg.clockSync);
    super(cfg.venue, clock, new VenueRateLimiter(cfg.limits ?? (isSpot ? BINANCE_SPOT_LIMITS : BINANCE_USDM_LIMITS)), cfg.hops, cfg.recovery);
    this.cfg = cfg;
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
    this.restHeaders = { 'x-mbx-apikey': this.restKey };
    this.formHeaders = { 'x-mbx-apikey': this.restKey, 'content-type': 'application/x-www-form-urlencoded' };
  }

  async start(): Promise<void> {
    await this.rest.warm(this.prefix + '/ping');
    this.rest.keepWarm(this.prefix + '/ping');
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

  /** Signed request (cold path); throws RestError on transport failure. */
  async signed(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, params: string): Promise<RestResponse> {
    if (this.limiter.isBanned(this.clock.nowMs())) throw new Error(`${this.venue}: IP banned (418) until ${this.limiter.bannedUntilMs}`);
    const q = this.signedQuery(params);
    const res =
      method === 'POST' || method === 'PUT'
        ? await this.rest.request(method, path, { body: q, headers: this.formHeaders })
        : await this.rest.request(method, path, { query: q, headers: this.restHeaders });
    this.noteResponse(res);
    return res;
  }

  protected noteResponse(res: RestResponse): void {
    const now = this.clock.nowMs();
    this.limiter.fromBinanceHeaders(res.headers, now);
    if (res.status === 429) this.limiter.on429(retryAfterSec(res.headers), now);
    else if (res.status === 418) this.limiter.on418(retryAfterSec(res.headers), now);
    else if (res.status >= 500) this.limiter.on5xx(res.status);
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
    let res: RestResponse;
    const p = this.rest.request('POST', this.prefix + '/order', { body, headers: this.formHeaders });
    this.recordWrite(o);
    try {
      res = await p;
    } catch (err) {
      return transportOutcome(err);
    } finally {
      this.bodyWriters.push(w);
    }
    this.noteResponse(res);
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
    const p = this.amendParams(o, price, qty, t);
    const q = Object.entries(p)
      .map(([k, v]) => k + '=' + encodeURIComponent(v))
      .join('&');
    let res: RestResponse;
    try {
      res = await this.signed('PUT', this.prefix + (this.isSpot ? '/order/amend/keepPriority' : '/order'), q);
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

  async openAlgoOrders(symbol?: string): Promise<Json[]> {
    const res = await this.signed('GET', this.prefix + '/openAlgoOrders', symbol !== undefined ? 'symbol=' + encodeURIComponent(symbol) : '');
    if (res.status !== 200) throw new Error(`${this.venue} openAlgoOrders: ${res.status} ${res.text}`);
    const j = parseJsonSafe(res.text);
    const list = Array.isArray(j) ? j : ((obj(j)?.['orders'] as unknown[] | undefined) ?? []);
    return list.map((x) => obj(x)).filter((x): x is Json => x !== undefined);
  }
}
