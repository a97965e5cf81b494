/**
 * Bybit private stream (`/v5/private`): `auth` (HMAC over "GET/realtime" + expires) then subscribe `order`,
 * `execution`, `position`, `wallet`; app ping every 20 s. Re-authenticated and re-subscribed on every reconnect.
 * Disconnection Protection: `setDcpTopics(['dcp.future', ...])` adds a separate subscribe (req_id `dcp`, so a refusal
 * never touches the order topics), sent at once when connected and again on every (re)connect and rotation.
 * One connection serves every category: events are routed to the gateway of their venue (bybitSpot / bybitLinear).
 * Rotation (`maxLifetimeMs`, default 23 h; Bybit documents no lifetime but may drop a socket at any time): a
 * replacement authenticates and subscribes (req_ids `auth-r` / `sub-r`, so its acks are told apart from the live
 * socket's) while the old one still delivers; it takes over at its subscribe ack and the old one is closed after
 * what is in its pipe. During the overlap both deliver; the order owner drops the duplicates (fills by execId,
 * states only move forward). Nothing is missed, so a rotation needs no reconciliation.
 */
import { DEFAULT_SOCKET_LIFETIME_MS, ManagedWs } from '../../../net/ws.js';
import { HmacSha256, bybitWsAuthSignature } from '../../../codec/sign.js';
import { blankOrderEvent, type AlgoEvent, type ExchangePosition, type OrderEvent } from '../../../model/orders.js';
import type { ScaleLookup } from '../../../codec/scale.js';
import { withTimeout } from '../../../net/wsrpc.js';
import { wallNowMs } from '../../../util/clock.js';
import type { VenueId } from '../../../model/types.js';
import { log } from '../../../util/log.js';
import { parsePrivateFrame, type PrivateHandlers } from './parse.js';

const DCP_REQ_ID = 'dcp';

export interface BybitPrivateOptions {
  url: string;
  apiKey: string;
  apiSecret: string;
  scale: ScaleLookup;
  /** per venue: where order events go */
  route(venue: VenueId): ((ev: OrderEvent) => void) | undefined;
  /** per venue: where conditional (algo) order updates go */
  routeAlgo?(venue: VenueId): ((ev: AlgoEvent) => void) | undefined;
  onPositions?(p: ExchangePosition[]): void;
  onResubscribed?(): void;
  topics?: string[];
  /** server clock offset (ms) for `expires` */
  offsetMs?(): number;
  /** rotate the socket make-before-break after this long (default 23 h) */
  maxLifetimeMs?: number;
}

/** req_ids of a rotation replacement's setup */
const ROTATE_AUTH = 'auth-r';
const ROTATE_SUB = 'sub-r';

export class BybitPrivateStream {
  private readonly ws: ManagedWs;
  private readonly ev: OrderEvent = blankOrderEvent();
  private readonly hmac: HmacSha256;
  private authed = false;
  private resyncPending = false;
  private authWaiters: Array<() => void> = [];
  private dcpTopics: string[] = [];
  private dcpAcked = false;
  /** the rotation replacement being set up: settled by its auth / subscribe acks */
  private rotating: { resolve(): void; reject(e: Error): void } | undefined;
  readonly counts = { frames: 0, malformed: 0, authFailures: 0 };
  /** made once (not a fresh closure object per frame) */
  private readonly handlers: PrivateHandlers;

  constructor(private readonly o: BybitPrivateOptions) {
    this.hmac = new HmacSha256(o.apiSecret);
    this.handlers = {
      order: (ev) => this.o.route(ev.venue)?.(ev),
      algo: (ev) => this.o.routeAlgo?.(ev.venue)?.(ev),
      positions: (p) => this.o.onPositions?.(p),
      op: (op, ok, msg, reqId) => this.onOp(op, ok, msg, reqId),
    };
    this.ws = new ManagedWs({
      name: 'bybit-private',
      url: o.url,
      onFrame: (data, recvNs) => this.onFrame(data, recvNs),
      onOpen: (_w, reconnect, send, _conn, rotation) => {
        const expires = Math.floor(wallNowMs() + (o.offsetMs?.() ?? 0)) + 10_000;
        const auth = (reqId: string) => JSON.stringify({ req_id: reqId, op: 'auth', args: [o.apiKey, expires, bybitWsAuthSignature(this.hmac, expires)] });
        const sub = (reqId: string) => JSON.stringify({ req_id: reqId, op: 'subscribe', args: o.topics ?? ['order', 'execution', 'position', 'wallet'] });
        if (rotation) {
          // the live socket stays authed and subscribed; this one takes over at its subscribe ack
          this.rotating?.reject(new Error('superseded'));
          const ready = new Promise<void>((resolve, reject) => {
            this.rotating = { resolve, reject };
          });
          const t = setTimeout(() => this.settleRotation(new Error('bybit private rotation: no subscribe ack')), 10_000);
          t.unref();
          send(auth(ROTATE_AUTH));
          send(sub(ROTATE_SUB));
          if (this.dcpTopics.length > 0) send(JSON.stringify({ req_id: DCP_REQ_ID, op: 'subscribe', args: this.dcpTopics }));
          return ready.finally(() => clearTimeout(t));
        }
        this.authed = false;
        send(auth('auth'));
        send(sub('sub'));
        this.dcpAcked = false;
        if (this.dcpTopics.length > 0) send(JSON.stringify({ req_id: DCP_REQ_ID, op: 'subscribe', args: this.dcpTopics }));
        if (reconnect) this.resyncPending = true; // reported once the subscribe is acknowledged
        return undefined;
      },
      appPing: '{"op":"ping"}',
      appPingIntervalMs: 20_000,
      backoffInitialMs: 50,
      backoffMaxMs: 5000,
      maxLifetimeMs: o.maxLifetimeMs ?? DEFAULT_SOCKET_LIFETIME_MS,
      rotateWhenReady: true,
    });
  }

  /** the replacement's setup ended: ok (undefined) or failed */
  private settleRotation(err: Error | undefined): void {
    const r = this.rotating;
    if (!r) return;
    this.rotating = undefined;
    if (err) r.reject(err);
    else r.resolve();
  }

  private onOp(op: string, ok: boolean, msg: string, reqId: string): void {
    if (reqId === ROTATE_AUTH || reqId === ROTATE_SUB) {
      if (!ok) {
        if (op === 'auth') this.counts.authFailures++;
        log().warn({ op, retMsg: msg }, 'bybit private rotation refused: the current connection keeps serving');
        this.settleRotation(new Error(`bybit private rotation: ${op} refused: ${msg}`));
      } else if (op === 'subscribe') this.settleRotation(undefined);
      return;
    }
    if (op === 'subscribe' && reqId === DCP_REQ_ID) {
      this.dcpAcked = ok;
      if (ok) log().info({ topics: this.dcpTopics }, 'bybit DCP topics subscribed');
      else log().warn({ topics: this.dcpTopics, retMsg: msg }, 'bybit DCP subscribe refused: the exchange will not cancel on disconnect');
      return;
    }
    if (op === 'subscribe' && ok && this.resyncPending) {
      this.resyncPending = false;
      this.o.onResubscribed?.();
    }
    if (op === 'auth') {
      if (ok) {
        this.authed = true;
        for (const w of this.authWaiters.splice(0)) w();
      } else {
        this.counts.authFailures++;
        log().error({ retMsg: msg }, 'bybit private auth failed');
      }
    }
  }

  private onFrame(data: Buffer, recvNs: number): void {
    this.counts.frames++;
    // JSON.parse for every frame: the byte-level parser (fastparse.ts) measured no faster on Bybit's execution
    // pushes (bench/suites/orders-parse.ts: 3.3 vs 3.1 µs), so it is not used here
    const k = parsePrivateFrame(data.toString('utf8'), this.o.scale, this.ev, this.handlers, recvNs);
    if (k === 'malformed') {
      // nothing of the frame was reported (whole or nothing): it may have carried a fill, so learn what it said from
      // the exchange (order states, trade history), as after a stream gap
      const n = ++this.counts.malformed;
      if (Number.isInteger(Math.log10(n)))
        log().warn({ count: n, frame: data.toString('latin1', 0, Math.min(data.length, 200)) }, 'bybit private frame rejected: reconciling');
      this.o.onResubscribed?.();
    }
  }

  async start(): Promise<void> {
    const authed = new Promise<void>((r) => this.authWaiters.push(r));
    await withTimeout(this.ws.start(), 10_000, 'bybit private connect timeout');
    await withTimeout(authed, 10_000, 'bybit private auth timeout');
  }

  stop(): Promise<void> {
    return this.ws.close();
  }

  get isAuthed(): boolean {
    return this.authed;
  }

  drop(): void {
    this.ws.drop();
  }

  /** the stream's socket (rotation counters, tests) */
  get conn(): ManagedWs {
    return this.ws;
  }

  /**
   * Subscribe these `dcp.*` topics (replacing any earlier set) now if connected, and on every later (re)connect.
   * Cold path (start).
   */
  setDcpTopics(topics: string[]): void {
    this.dcpTopics = [...topics];
    this.dcpAcked = false;
    // connected: `auth` went first in onOpen, so this subscribe follows it; not connected: onOpen sends it
    if (topics.length > 0) this.ws.send(JSON.stringify({ req_id: DCP_REQ_ID, op: 'subscribe', args: this.dcpTopics }));
  }

  /** the current connection's dcp subscribe was acknowledged (false while reconnecting) */
  get dcpSubscribed(): boolean {
    return this.dcpAcked && this.ws.connected;
  }
}
