/**
 * Binance private user data, normalized into OrderEvents for the gateway.
 *
 * - Spot: the listenKey endpoints are gone (2026-02); subscribe through the WS API: `session.logon` (Ed25519) +
 *   `userDataStream.subscribe`, or `userDataStream.subscribe.signature` with an HMAC key. Frames arrive as
 *   `{"subscriptionId":N,"event":{...}}`. Re-subscribed on every reconnect.
 * - USD-M: `POST /fapi/v1/listenKey`, keep-alive `PUT` every `keepAliveMs` (default 30 min), stream on
 *   `{wsStreamBaseUrl}/private/ws?listenKey=K`. `listenKeyExpired` (or -1125 on keep-alive) -> a clean
 *   re-subscribe: new key, new connection, old one closed.
 * After any (re)subscribe `onResubscribed` runs so the owner can reconcile what it may have missed (the manager
 * queries order states and backfills fills from the trade history).
 * Both streams rotate make-before-break before Binance's 24 h cut (`socketLifetimeMs`, default 23 h): the
 * replacement subscribes (Spot: logs on and subscribes; USD-M: connects with the same listenKey) while the old one
 * still delivers; during the overlap both deliver, and the order owner drops the duplicates (fills by trade id,
 * states only move forward). Nothing was missed, so a rotation needs no reconciliation. A disconnect of the USD-M stream checks its key
 * with a keep-alive: a dead key (-1125) is renewed instead of reconnecting with it forever.
 */
import { DEFAULT_SOCKET_LIFETIME_MS, ManagedWs } from '../../../net/ws.js';
import { obj, parseJsonSafe, str, type Json } from '../../../codec/json.js';
import { blankOrderEvent, type ExchangePosition, type OrderEvent } from '../../../model/orders.js';
import { log, registerSecret } from '../../../util/log.js';
import { withTimeout, type WsRpc } from '../../../net/wsrpc.js';
import { BinanceFastUserParser } from './fastparse.js';
import { parseUserEvent, parseUserFrame, type UserFrameHandlers } from './parse.js';
import type { BinanceRestGateway } from './rest.js';
import { BinanceWsApiSession } from './wsapi.js';

export interface UserStreamHooks {
  onPositions?(p: ExchangePosition[]): void;
  onResubscribed?(): void;
}

/**
 * A user-data frame refused as malformed (parse.ts: nothing of it was reported): counted, logged at the 1st, 10th,
 * 100th..., and treated as a stream problem: it may have carried a fill, so the owner reconciles (order states,
 * trade history) as after a re-subscribe.
 */
function rejectedUserFrame(counts: { malformed: number }, venue: string, head: string, hooks: UserStreamHooks): void {
  const n = ++counts.malformed;
  if (Number.isInteger(Math.log10(n))) log().warn({ venue, count: n, frame: head.slice(0, 200) }, 'user-data frame rejected: reconciling');
  hooks.onResubscribed?.();
}

export class BinanceSpotUserStream {
  private readonly session: BinanceWsApiSession;
  private readonly ev: OrderEvent = blankOrderEvent();
  private readonly fast: BinanceFastUserParser;
  private readonly fastHandlers: UserFrameHandlers;
  readonly counts = { events: 0, subscribes: 0, malformed: 0, fast: 0 };

  constructor(
    private readonly gw: BinanceRestGateway,
    private readonly hooks: UserStreamHooks = {},
  ) {
    const cfg = gw.cfg;
    if (!cfg.wsApiUrl) throw new Error('binanceSpot user stream needs wsApiUrl');
    this.fast = new BinanceFastUserParser('binanceSpot', gw.scale);
    this.fastHandlers = { order: (ev) => this.gw.onEvent(ev) };
    this.session = new BinanceWsApiSession('binanceSpot-user', cfg.wsApiUrl, cfg, () => gw.clock.nowMs(), {
      // executionReport from its bytes; everything else (responses, account events) through JSON.parse
      onRawFrame: (data, recvNs) => {
        if (this.fast.parse(data, this.ev, this.fastHandlers, recvNs) !== 'order') return false;
        this.counts.events++;
        this.counts.fast++;
        return true;
      },
      onUnsolicited: (msg, recvNs) => this.onMessage(msg, recvNs),
      afterLogon: async (s, reconnect, via) => {
        const r = s.loggedOn
          ? await s.request('userDataStream.subscribe', {}, true, via)
          : await s.request('userDataStream.subscribe.signature', s.signParams({ timestamp: gw.clock.nowMs() }), true, via);
        if (Number(r['status']) !== 200) throw new Error(`userDataStream.subscribe failed: ${JSON.stringify(r['error'])}`);
        this.counts.subscribes++;
        if (reconnect) this.hooks.onResubscribed?.();
      },
    });
  }

  private onMessage(msg: Json, recvNs: number): void {
    const e = obj(msg['event']);
    if (!e) return;
    this.counts.events++;
    const k = parseUserEvent(
      e,
      'binanceSpot',
      this.gw.scale,
      this.ev,
      {
        order: (ev) => this.gw.onEvent(ev),
        positions: (p) => this.hooks.onPositions?.(p),
        terminated: () => this.session.rpc.drop(), // reconnect + re-subscribe
      },
      recvNs,
    );
    if (k === 'malformed') rejectedUserFrame(this.counts, 'binanceSpot', JSON.stringify(e), this.hooks);
  }

  start(): Promise<void> {
    return this.session.start();
  }

  stop(): Promise<void> {
    return this.session.close();
  }

  /** test hook: drop the connection */
  drop(): void {
    this.session.rpc.drop();
  }

  /** the session's socket (rotation counters, tests) */
  get rpc(): WsRpc {
    return this.session.rpc;
  }
}

export class BinanceUsdmUserStream {
  private ws: ManagedWs | undefined;
  private listenKey = '';
  private keepAliveTimer: NodeJS.Timeout | undefined;
  private readonly ev: OrderEvent = blankOrderEvent();
  private renewing: Promise<void> | undefined;
  private stopped = false;
  private readonly fast: BinanceFastUserParser;
  private readonly handlers: UserFrameHandlers;
  readonly counts = { events: 0, renewals: 0, malformed: 0, fast: 0 };

  constructor(
    private readonly gw: BinanceRestGateway,
    private readonly hooks: UserStreamHooks = {},
    private readonly keepAliveMs = 30 * 60_000,
  ) {
    if (!gw.cfg.wsStreamBaseUrl) throw new Error('binanceUsdm user stream needs wsStreamBaseUrl');
    this.fast = new BinanceFastUserParser('binanceUsdm', gw.scale);
    this.handlers = {
      order: (ev) => this.gw.onEvent(ev),
      algo: (ev) => this.gw.onAlgoEvent(ev),
      positions: (p) => this.hooks.onPositions?.(p),
      listenKeyExpired: () => void this.renew(),
    };
  }

  private async newKey(): Promise<string> {
    const res = await this.gw.unsigned('POST', '/fapi/v1/listenKey', true); // booked at its weight
    const k = str(obj(parseJsonSafe(res.text))?.['listenKey']);
    if (res.status !== 200 || k === '') throw new Error(`listenKey: ${res.status} ${res.text}`);
    registerSecret(k); // it is in the stream's URL: no log line may carry it
    return k;
  }

  private async connect(reconnect: boolean): Promise<void> {
    this.listenKey = await this.newKey();
    const base = this.gw.cfg.wsStreamBaseUrl!.replace(/\/$/, '');
    const old = this.ws;
    const ws = new ManagedWs({
      name: 'binanceUsdm-user',
      url: `${base}/private/ws?listenKey=${this.listenKey}`,
      onFrame: (data, recvNs) => this.onFrame(data, recvNs),
      onOpen: (_w, rc) => {
        if (rc) this.hooks.onResubscribed?.();
      },
      // the key may be gone (expired or closed without a listenKeyExpired we saw): reconnecting with it would fail
      // forever. A keep-alive answers -1125 for a dead key, which renews it (new key, new connection).
      onDisconnect: (w) => {
        if (w === this.ws && !this.stopped) void this.keepAlive().catch(() => undefined);
      },
      backoffInitialMs: 50,
      backoffMaxMs: 5000,
      maxLifetimeMs: this.gw.cfg.socketLifetimeMs ?? DEFAULT_SOCKET_LIFETIME_MS,
      // the replacement delivers from its open (the key is in its URL); the old one closes after what is in its pipe
      rotateWhenReady: true,
    });
    this.ws = ws;
    await withTimeout(ws.start(), 10_000, 'binanceUsdm user stream connect timeout');
    if (old) await old.close();
    if (reconnect) this.hooks.onResubscribed?.();
  }

  private onFrame(data: Buffer, recvNs: number): void {
    this.counts.events++;
    // ORDER_TRADE_UPDATE / TRADE_LITE from their bytes; the rest through JSON.parse
    if (this.fast.parse(data, this.ev, this.handlers, recvNs) === 'order') {
      this.counts.fast++;
      return;
    }
    const k = parseUserFrame(data.toString('utf8'), 'binanceUsdm', this.gw.scale, this.ev, this.handlers, recvNs);
    if (k === 'malformed') rejectedUserFrame(this.counts, 'binanceUsdm', data.toString('latin1', 0, Math.min(data.length, 200)), this.hooks);
  }

  /** Clean re-subscribe: a new key and connection (listenKeyExpired, -1125). */
  renew(): Promise<void> {
    if (this.renewing || this.stopped) return this.renewing ?? Promise.resolve();
    this.counts.renewals++;
    this.renewing = this.connect(true)
      .catch((err: unknown) => log().error({ err: String(err) }, 'listenKey renew failed'))
      .finally(() => {
        this.renewing = undefined;
      });
    return this.renewing;
  }

  async keepAlive(): Promise<void> {
    const res = await this.gw.unsigned('PUT', '/fapi/v1/listenKey', true);
    if (res.status !== 200) {
      if (res.text.includes('-1125')) await this.renew();
      else log().warn({ status: res.status }, 'listenKey keep-alive failed');
    }
  }

  async start(): Promise<void> {
    await this.connect(false);
    this.keepAliveTimer = setInterval(() => void this.keepAlive().catch(() => undefined), this.keepAliveMs);
    this.keepAliveTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.keepAliveTimer) clearInterval(this.keepAliveTimer);
    await this.renewing;
    await this.ws?.close();
  }

  get currentListenKey(): string {
    return this.listenKey;
  }

  drop(): void {
    this.ws?.drop();
  }

  /** the stream's socket (rotation counters, tests) */
  get conn(): ManagedWs | undefined {
    return this.ws;
  }
}
