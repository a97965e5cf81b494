/**
 * Bybit trade WebSocket (`/v5/trade`) order transport: `auth` once per connection, then `order.create` /
 * `order.cancel` with a header timestamp and no per-request signature. Cancel-all, queries and positions stay on
 * REST (the trade WS documents no cancel-all op).
 *
 * - `10019` (trade service restarting): open a new connection; the request was not accepted -> resend (same
 *   orderLinkId, new reqId) once the new connection is up, or over REST meanwhile.
 * - `20006` (duplicate reqId): never resend with that reqId; a new reqId, same orderLinkId.
 * - disconnect with a request in flight: outcome unknown -> query (REST) -> resend with the same orderLinkId only
 *   if absent (a late original then answers 110072, which leads back to the query).
 * - Rate limits: each op is booked on its endpoint's slot (shared with REST, as Bybit counts them) and every answer's
 *   `header` (`X-Bapi-Limit`, `-Status`, `-Reset-Timestamp`) sets it; cancels and amends the slot refuses are
 *   refused locally (RATE_LIMITED_LOCAL), orders before that (BaseGateway).
 * - The socket is rotated make-before-break after `socketLifetimeMs` (default 23 h): the replacement authenticates
 *   first, then takes new requests; answers in flight arrive on the old one, which is closed after them.
 */
import { fail, type SendOutcome } from '../../../orders/basegw.js';
import { idString, num, obj, str, type Json } from '../../../codec/json.js';
import { HmacSha256, bybitWsAuthSignature } from '../../../codec/sign.js';
import { WsDisconnected, WsRpc, WsTimeout } from '../../../net/wsrpc.js';
import { DEFAULT_SOCKET_LIFETIME_MS } from '../../../net/ws.js';
import type { GatewayOrder } from '../../../orders/gateway.js';
import { nowNs, wallNowMs } from '../../../util/clock.js';
import { Transport } from '../../../util/hops.js';
import { mapBybitError } from './errors.js';
import { BybitRestGateway, type BybitGatewayConfig } from './rest.js';
import type { BybitSlot } from '../../../net/ratelimit.js';

export class BybitTradeWsGateway extends BybitRestGateway {
  readonly rpc: WsRpc;
  private readonly authHmac: HmacSha256;
  readonly wsCounts = { restarts: 0, dupReqIds: 0 };

  constructor(cfg: BybitGatewayConfig) {
    super(cfg);
    this.ordersOverHttp = false; // orders over the trade WS: not in the IP's HTTP request count
    if (!cfg.wsApiUrl) throw new Error(`${this.venue}: wsApiUrl (…/v5/trade) required for transport 'ws'`);
    this.authHmac = new HmacSha256(cfg.apiSecret);
    this.rpc = new WsRpc({
      name: `${this.venue}-trade`,
      url: cfg.wsApiUrl,
      idKey: 'reqId',
      timeoutMs: cfg.timeoutMs ?? 5000,
      parse: (t) => JSON.parse(t), // Bybit ids are strings
      appPing: '{"op":"ping"}',
      appPingIntervalMs: 20_000,
      maxLifetimeMs: cfg.socketLifetimeMs ?? DEFAULT_SOCKET_LIFETIME_MS,
      onOpen: async (rpc, _reconnect, via) => {
        const id = rpc.nextId();
        const expires = Math.floor(wallNowMs() + this.clock.offsetMs) + 10_000;
        const r = await rpc.callRaw(
          id,
          JSON.stringify({ reqId: id, op: 'auth', args: [cfg.apiKey, expires, bybitWsAuthSignature(this.authHmac, expires)] }),
          undefined,
          via,
        );
        if (num(r['retCode']) !== 0) throw new Error(`bybit trade auth failed: ${num(r['retCode'])} ${str(r['retMsg'])}`);
      },
    });
  }

  override async start(): Promise<void> {
    await super.start();
    await this.rpc.start();
  }

  override async stop(): Promise<void> {
    await this.rpc.close().catch(() => undefined);
    await super.stop();
  }

  private static wsFailure(err: unknown): SendOutcome {
    if (err instanceof WsDisconnected) return fail(err.sent ? 'unknown' : 'notSent', 0, 'WS_DISCONNECTED');
    if (err instanceof WsTimeout) return fail('unknown', 0, 'WS_TIMEOUT');
    return fail('unknown', 0, 'WS_ERROR:' + String(err));
  }

  /** send one trade-WS request, handling 20006 (new reqId) and 10019 (reconnect); returns the response */
  private async request(slot: BybitSlot, build: (reqId: string) => string, sentNsOut?: GatewayOrder): Promise<Json | SendOutcome> {
    for (let i = 0; i < 3; i++) {
      if (i > 0) {
        // a retry is a new request on the slot: it must fit too
        const wait = this.limiter.orderWaitMs(this.clock.nowMs(), slot);
        if (wait > 0) {
          slot.refused++;
          this.limiter.noteLocal('retry ' + slot.name, wait, true);
          return fail('rateLimited', 0, 'RATE_LIMITED_LOCAL');
        }
      }
      const id = this.rpc.nextId();
      const frame = build(id);
      if (sentNsOut) {
        sentNsOut.sentNs = nowNs();
        sentNsOut.sentVia = Transport.Ws;
      }
      slot.book(this.clock.nowMs());
      let r: Json;
      try {
        const p = this.rpc.call(id, frame);
        if (sentNsOut) this.recordWrite(sentNsOut);
        r = await p;
      } catch (err) {
        slot.release();
        return BybitTradeWsGateway.wsFailure(err);
      }
      const code = num(r['retCode']);
      this.limiter.fromBybitWsHeader(obj(r['header']), slot, this.clock.nowMs());
      if (code === 10006) this.limiter.counts.got429++; // "Too many visits": Bybit's 429
      if (code === 20006) {
        this.wsCounts.dupReqIds++;
        continue; // never reuse that reqId
      }
      if (code === 10019) {
        this.wsCounts.restarts++;
        this.rpc.drop(); // connect again (ManagedWs reconnects and re-auths)
        return fail('notSent', code, 'SERVICE_RESTARTING');
      }
      return r;
    }
    return fail('unknown', 20006, 'DUPLICATE_REQ_ID');
  }

  /** The trade-WS frame of a never-sent order, as sendPlace builds it (else REST's while the socket is down). */
  override warm(symbol: string): void {
    if (!this.rpc.ready) {
      super.warm(symbol);
      return;
    }
    const t = this.buildFields(this.warmOrderOf(symbol));
    if (t) t.wsCreate(this.w, 'warm', this.f);
  }

  protected override async sendPlace(o: GatewayOrder, attempt: number): Promise<SendOutcome> {
    if (!this.rpc.ready) return super.sendPlace(o, attempt); // trade WS down: REST meanwhile
    const t0 = nowNs();
    const t = this.buildFields(o);
    if (!t) return fail('rejected', 0, 'UNKNOWN_SYMBOL');
    let first = true;
    const r = await this.request(
      this.slotCreate,
      (id) => {
        if (!first) this.f.timestampMs = this.clock.nowMs();
        const s = t.wsCreate(this.w, id, this.f).toString();
        if (first) this.recordSign(t0, Transport.Ws);
        first = false;
        return s;
      },
      o,
    );
    if ('ok' in r) return r as SendOutcome;
    const code = num(r['retCode']);
    if (code !== 0) {
      const m = mapBybitError(200, code, str(r['retMsg']));
      return fail(m.cls, code, m.reason + ': ' + str(r['retMsg']));
    }
    this.emitAccepted(o, idString(obj(r['data'])?.['orderId']), 'wsapi');
    return { ok: true };
  }

  protected override async sendAmend(arg: Json): Promise<SendOutcome> {
    if (!this.rpc.ready) return super.sendAmend(arg);
    const refused = this.refusedNow('amend', this.slotAmend);
    if (refused) return refused;
    const r = await this.request(this.slotAmend, (id) =>
      JSON.stringify({
        reqId: id,
        header: { 'X-BAPI-TIMESTAMP': String(this.clock.nowMs()), 'X-BAPI-RECV-WINDOW': String(this.recvWindow) },
        op: 'order.amend',
        args: [arg],
      }),
    );
    if ('ok' in r) return r as SendOutcome;
    const code = num(r['retCode']);
    if (code !== 0) {
      const m = mapBybitError(200, code, str(r['retMsg']));
      return fail(m.cls, code, m.reason + ': ' + str(r['retMsg']));
    }
    return { ok: true };
  }

  protected override async sendCancel(o: GatewayOrder): Promise<SendOutcome> {
    if (!this.rpc.ready) return super.sendCancel(o);
    const refused = this.refusedNow('cancel', this.slotCancel);
    if (refused) return refused;
    const arg: Json = { category: this.category, symbol: o.symbol };
    if (o.exchangeOrderId !== '') arg['orderId'] = o.exchangeOrderId;
    else arg['orderLinkId'] = o.clientOrderId;
    const r = await this.request(this.slotCancel, (id) =>
      JSON.stringify({
        reqId: id,
        header: { 'X-BAPI-TIMESTAMP': String(this.clock.nowMs()), 'X-BAPI-RECV-WINDOW': String(this.recvWindow) },
        op: 'order.cancel',
        args: [arg],
      }),
    );
    if ('ok' in r) return r as SendOutcome;
    const code = num(r['retCode']);
    if (code !== 0) {
      const m = mapBybitError(200, code, str(r['retMsg']));
      return fail(m.cls, code, m.reason + ': ' + str(r['retMsg']));
    }
    return { ok: true };
  }
}
