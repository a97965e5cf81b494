/**
 * Binance WebSocket API order transport (Spot `/ws-api/v3`, USD-M `/ws-fapi/v1`).
 *
 * - `session.logon` with the Ed25519 key on every (re)connect, so `order.place` / `order.cancel` /
 *   `openOrders.cancelAll` carry no per-request signature (only `timestamp`). Without an Ed25519 key each request is
 *   signed with HMAC over the sorted params (slower, but works on both markets).
 * - Request ids are correlated by WsRpc; a disconnect with requests in flight makes their outcome unknown: the
 *   base class queries (REST) and resends with the same client id only when the order is proven absent.
 * - Queries, USD-M cancel-all (+ algo book), the dead man's switch and the clock stay on REST.
 * - While the WS session is down, orders go over REST instead of waiting.
 * - Rate limits: REST and the WS API share the IP's weight and the account's order counts (one limiter). Each
 *   request is booked at its documented weight before it is sent and every answer's `rateLimits` (REQUEST_WEIGHT,
 *   ORDERS: count and limit) replaces the local count (src/net/ratelimit.ts).
 * - The session socket is rotated make-before-break before Binance's 24 h cut (`socketLifetimeMs`, default 23 h):
 *   the replacement logs on (and, for the user stream, subscribes) first, then takes new requests; answers to
 *   requests in flight still arrive on the old socket, which is closed after them.
 */
import { fail, type SendOutcome } from '../../../orders/basegw.js';
import { BINANCE_ID_PATTERNS, num, obj, parseJsonIds, str, type Json } from '../../../codec/json.js';
import { Ed25519Signer, HmacSha256, binanceWsApiPayload } from '../../../codec/sign.js';
import { WsDisconnected, WsRpc, WsTimeout } from '../../../net/wsrpc.js';
import { DEFAULT_SOCKET_LIFETIME_MS, type WsConn } from '../../../net/ws.js';
import type { GatewayOrder } from '../../../orders/gateway.js';
import { nowNs } from '../../../util/clock.js';
import { Transport } from '../../../util/hops.js';
import { log } from '../../../util/log.js';
import { mapBinanceError } from './errors.js';
import { BinanceRestGateway, type BinanceCallCost, type BinanceGatewayConfig } from './rest.js';
import type { BinanceOrderTemplate } from './template.js';

export type WsParams = Record<string, string | number | boolean>;

/** A Binance WS API session (logon on every connect); shared by the order gateway and the Spot user stream. */
export class BinanceWsApiSession {
  readonly rpc: WsRpc;
  private readonly ed: Ed25519Signer | undefined;
  private readonly hmac: HmacSha256 | undefined;
  loggedOn = false;

  constructor(
    readonly name: string,
    url: string,
    private readonly cfg: Pick<BinanceGatewayConfig, 'apiKey' | 'apiSecret' | 'ed25519ApiKey' | 'ed25519PrivateKeyPem' | 'timeoutMs' | 'socketLifetimeMs'>,
    private readonly nowMs: () => number,
    hooks: {
      onRawFrame?(data: Buffer, recvNs: number): boolean;
      onUnsolicited?(msg: Json, recvNs: number): void;
      /** after logon on a new socket (send its requests `via` it); rotation = a replacement of a live session */
      afterLogon?(s: BinanceWsApiSession, reconnect: boolean, via: WsConn, rotation: boolean): Promise<void>;
      onDisconnect?(): void;
    } = {},
  ) {
    if (cfg.ed25519PrivateKeyPem && cfg.ed25519ApiKey) this.ed = new Ed25519Signer(cfg.ed25519PrivateKeyPem);
    else if (cfg.apiSecret && cfg.apiKey) this.hmac = new HmacSha256(cfg.apiSecret);
    else throw new Error(`${name}: WS API needs an Ed25519 key (or an HMAC key for per-request signatures)`);
    const rpcOpts: ConstructorParameters<typeof WsRpc>[0] = {
      name,
      url,
      idKey: 'id',
      timeoutMs: cfg.timeoutMs ?? 5000,
      parse: (t) => parseJsonIds(t, BINANCE_ID_PATTERNS),
      maxLifetimeMs: cfg.socketLifetimeMs ?? DEFAULT_SOCKET_LIFETIME_MS,
      onOpen: async (_rpc, reconnect, via, rotation) => {
        // a rotation replacement logs on beside the live session, which stays logged on until the replacement takes over
        if (!rotation) this.loggedOn = false;
        if (this.ed) {
          const r = await this.request('session.logon', this.signParams({ apiKey: cfg.ed25519ApiKey!, timestamp: this.nowMs() }), true, via);
          if (num(r['status']) !== 200) throw new Error(`${name}: session.logon failed: ${JSON.stringify(r['error'])}`);
          this.loggedOn = true;
        }
        await hooks.afterLogon?.(this, reconnect, via, rotation);
      },
    };
    if (hooks.onUnsolicited) rpcOpts.onUnsolicited = hooks.onUnsolicited;
    if (hooks.onRawFrame) rpcOpts.onRawFrame = hooks.onRawFrame;
    if (hooks.onDisconnect) rpcOpts.onDisconnect = hooks.onDisconnect;
    this.rpc = new WsRpc(rpcOpts);
  }

  /** params + apiKey + signature (sorted-params payload) */
  signParams(p: WsParams): WsParams {
    if (this.ed) {
      const withKey = { ...p, apiKey: this.cfg.ed25519ApiKey! };
      return { ...withKey, signature: this.ed.base64(binanceWsApiPayload(withKey)) };
    }
    const withKey = { ...p, apiKey: this.cfg.apiKey! };
    return { ...withKey, signature: this.hmac!.hex(binanceWsApiPayload(withKey)) };
  }

  /** params for a SIGNED method: logged-on sessions send only the timestamp */
  authParams(p: WsParams): WsParams {
    return this.loggedOn ? p : this.signParams(p);
  }

  /** raw = during session setup (before `ready`), sent on `via` (the socket being set up) */
  request(method: string, params: WsParams, raw = false, via?: WsConn): Promise<Json> {
    const id = this.rpc.nextId();
    const frame = JSON.stringify({ id, method, params });
    return raw ? this.rpc.callRaw(id, frame, undefined, via) : this.rpc.call(id, frame);
  }

  start(): Promise<void> {
    return this.rpc.start();
  }

  close(): Promise<void> {
    return this.rpc.close();
  }
}

/** WS API methods' costs (as their REST twins; USD-M order.modify: IP weight 0, 1 order) */
const wsCost = (weight: number, orders: number): BinanceCallCost => ({ weight, orders, orderPath: true });

export class BinanceWsApiGateway extends BinanceRestGateway {
  readonly session: BinanceWsApiSession;
  private readonly amendCost: BinanceCallCost;
  private readonly cancelAllCost = wsCost(1, 0);

  constructor(cfg: BinanceGatewayConfig) {
    super(cfg);
    this.amendCost = this.isSpot ? wsCost(4, 0) : wsCost(0, 1);
    if (!cfg.wsApiUrl) throw new Error(`${cfg.venue}: wsApiUrl required for transport 'wsapi'`);
    this.session = new BinanceWsApiSession(`${cfg.venue}-wsapi`, cfg.wsApiUrl, cfg, () => this.clock.nowMs());
  }

  override async start(): Promise<void> {
    await super.start();
    await this.session.start();
  }

  override async stop(): Promise<void> {
    await this.session.close().catch(() => undefined);
    await super.stop();
  }

  /** An answer's `rateLimits` settle the request booked at `bookedAt` (no answer: it is only released). */
  private settle(r: Json | undefined, bookedAt: number, c: BinanceCallCost): void {
    const now = this.clock.nowMs();
    if (r) this.limiter.fromBinanceRateLimits(r['rateLimits'], now, bookedAt, c.weight, c.orders);
    else this.limiter.releaseBinance(now, bookedAt, c.weight, c.orders);
  }

  /** WS API error / status -> outcome (429/418 also update the limiter). */
  private wsOutcome(r: Json): SendOutcome | undefined {
    const status = num(r['status']);
    if (status === 200) return undefined;
    const err = obj(r['error']);
    const code = num(err?.['code']);
    const msg = str(err?.['msg']);
    const now = this.clock.nowMs();
    const retryAt = num(obj(err?.['data'])?.['retryAfter']);
    if (status === 429) this.limiter.on429(retryAt > now ? Math.ceil((retryAt - now) / 1000) : undefined, now);
    if (status === 418) {
      this.limiter.on418(retryAt > now ? Math.ceil((retryAt - now) / 1000) : undefined, now);
      this.onBanned('418 (IP banned)');
    }
    if (status >= 500) this.limiter.on5xx(status);
    const m = mapBinanceError(status, code, msg);
    return fail(m.cls, code, m.reason + (msg ? ': ' + msg : ''));
  }

  private static wsFailure(err: unknown): SendOutcome {
    if (err instanceof WsDisconnected) return fail(err.sent ? 'unknown' : 'notSent', 0, 'WS_DISCONNECTED');
    if (err instanceof WsTimeout) return fail('unknown', 0, 'WS_TIMEOUT');
    return fail('unknown', 0, 'WS_ERROR:' + String(err));
  }

  /** The WS API frame of a never-sent order, as sendPlace builds it on a logged-on session (else REST's). */
  override warm(symbol: string): void {
    if (!this.session.rpc.ready || !this.session.loggedOn) {
      super.warm(symbol);
      return;
    }
    const t = this.buildFields(this.warmOrderOf(symbol));
    if (t) t.wsPlace(this.w, 'warm', this.f, this.recvWindow);
  }

  protected override async sendPlace(o: GatewayOrder, attempt: number): Promise<SendOutcome> {
    if (!this.session.rpc.ready) return super.sendPlace(o, attempt); // session down: REST meanwhile
    const t0 = nowNs();
    const t = this.buildFields(o);
    if (!t) return fail('rejected', 0, 'UNKNOWN_SYMBOL');
    const id = this.session.rpc.nextId();
    let frame: string | Buffer;
    // logged on: the template's bytes as they are (a view of its buffer; ws copies them while masking)
    if (this.session.loggedOn) frame = t.wsPlace(this.w, id, this.f, this.recvWindow).view();
    else {
      // no session: per-request signature over the sorted params
      const p = JSON.parse(t.wsPlace(this.w, id, this.f, this.recvWindow).toString()) as { params: Record<string, string | number> };
      frame = JSON.stringify({ id, method: 'order.place', params: this.session.signParams(p.params) });
    }
    this.recordSign(t0, Transport.Ws);
    o.sentNs = nowNs();
    o.sentVia = Transport.Ws;
    const pc = this.placeCost;
    const bookedAt = this.clock.nowMs(); // placeWithRecovery checked the budget in this turn
    this.limiter.bookBinance(bookedAt, pc.weight, pc.orders);
    let r: Json;
    try {
      const p = this.session.rpc.call(id, frame);
      this.recordWrite(o);
      r = await p;
    } catch (err) {
      this.settle(undefined, bookedAt, pc);
      return BinanceWsApiGateway.wsFailure(err);
    }
    this.settle(r, bookedAt, pc);
    return this.answer(r, false);
  }

  protected override async sendCancel(o: GatewayOrder): Promise<SendOutcome> {
    if (!this.session.rpc.ready) return super.sendCancel(o);
    const c = this.cancelCost;
    const refused = this.refusedNow('cancel', c);
    if (refused) return refused;
    const p: Record<string, string | number> = { symbol: o.symbol, timestamp: this.clock.nowMs(), recvWindow: this.recvWindow };
    if (o.exchangeOrderId !== '') p['orderId'] = Number(o.exchangeOrderId) <= Number.MAX_SAFE_INTEGER ? Number(o.exchangeOrderId) : o.exchangeOrderId;
    else p['origClientOrderId'] = o.clientOrderId;
    const bookedAt = this.clock.nowMs();
    this.limiter.bookBinance(bookedAt, c.weight, c.orders);
    let r: Json;
    try {
      r = await this.session.request('order.cancel', this.session.authParams(p));
    } catch (err) {
      this.settle(undefined, bookedAt, c);
      return BinanceWsApiGateway.wsFailure(err);
    }
    this.settle(r, bookedAt, c);
    return this.answer(r, false);
  }

  protected override async sendAmend(o: GatewayOrder, price: number, qty: number, t: BinanceOrderTemplate): Promise<SendOutcome> {
    if (!this.session.rpc.ready) return super.sendAmend(o, price, qty, t);
    const c = this.amendCost;
    const refused = this.refusedNow('amend', c);
    if (refused) return refused;
    const p: Record<string, string | number> = { ...this.amendParams(o, price, qty, t), timestamp: this.clock.nowMs(), recvWindow: this.recvWindow };
    const bookedAt = this.clock.nowMs();
    this.limiter.bookBinance(bookedAt, c.weight, c.orders);
    let r: Json;
    try {
      r = await this.session.request(this.isSpot ? 'order.amend.keepPriority' : 'order.modify', this.session.authParams(p));
    } catch (err) {
      this.settle(undefined, bookedAt, c);
      return BinanceWsApiGateway.wsFailure(err);
    }
    this.settle(r, bookedAt, c);
    return this.answer(r, true);
  }

  /** A WS API response to order.place / order.cancel (reported as the order's status) or to an amend. */
  private answer(r: Json, amend: boolean): SendOutcome {
    const bad = this.wsOutcome(r);
    if (bad) return bad;
    const res = obj(r['result']);
    if (!res) return fail('unknown', 0, 'MALFORMED_RESPONSE');
    return amend ? this.amendAnswer(res, 'wsapi') : this.reportOrderObject(res, 'wsapi');
  }

  protected override afterAmend(o: GatewayOrder, out: SendOutcome): void {
    super.afterAmend(o, out, 'wsapi');
  }

  override async cancelAll(symbol?: string): Promise<void> {
    if (!this.isSpot || !this.session.rpc.ready) return super.cancelAll(symbol); // USD-M ws-fapi has no cancel-all
    const symbols = symbol !== undefined ? [symbol] : [...this.templates.keys()];
    const errors: string[] = [];
    await Promise.all(
      symbols.map(async (s) => {
        const c = this.cancelAllCost;
        const bookedAt = await this.budget('openOrders.cancelAll', c);
        let r: Json;
        try {
          r = await this.session.request('openOrders.cancelAll', this.session.authParams({ symbol: s, timestamp: this.clock.nowMs() }));
        } catch (err) {
          this.settle(undefined, bookedAt, c);
          throw err;
        }
        this.settle(r, bookedAt, c);
        const status = num(r['status']);
        if (status === 200) {
          const list = r['result'];
          if (Array.isArray(list))
            for (const it of list) {
              const j = obj(it);
              if (j && j['orderId'] !== undefined) this.reportOrderObject(j, 'wsapi');
            }
        } else if (num(obj(r['error'])?.['code']) !== -2011) errors.push(`${s}: ${JSON.stringify(r['error'])}`);
      }),
    );
    if (errors.length > 0) {
      log().warn({ venue: this.venue, errors }, 'openOrders.cancelAll failed; falling back to REST');
      await super.cancelAll(symbol);
    }
  }
}
