/**
 * Managed WebSocket connection shared by market data and (later) order entry.
 *
 * - Frames reach `onFrame(bytes, recvNs)` as the Buffer the `ws` library assembled (no copy, no string), with
 *   `recvNs` = when the socket's chunk holding the frame was read (before `ws` decoded it) for the chunk's first
 *   frame, and when `ws` emitted it for the others; text
 *   frames are not UTF-8 validated here (skipUTF8Validation): the byte parsers only trust ASCII structure.
 * - Pings: the server's WS pings are answered by `ws` (autoPong; Binance: 20 s spot / 3 min futures). An
 *   application ping (`appPing`, Bybit `{"op":"ping"}` every 20 s) is sent on a timer.
 * - Reconnect with jittered exponential backoff; every attempt passes a per-host sliding-window limiter kept
 *   below the venues' limits (Binance 300 connects / 5 min / IP, Bybit 500 / 5 min per domain).
 * - Planned rotation (`maxLifetimeMs`, Binance closes every connection after 24 h): a replacement is opened
 *   first; both deliver frames until the replacement has delivered `rotateOverlapFrames` frames (the book
 *   sync drops the duplicates), then the old one is closed. No reconnect gap.
 * - Sessions (`rotateWhenReady`: WS API, trade WS, private streams): the replacement is promoted when its `onOpen`
 *   promise resolves (logon, auth, subscribe done on that socket), so new sends go to a ready socket; the old one
 *   keeps delivering its frames (answers to requests in flight, events) and is closed once `rotateDrained(old)`
 *   says nothing is in flight on it (or after `rotateDrainMs`). A setup that fails discards the replacement and
 *   tries again after `rotateRetryMs`; the current connection keeps serving meanwhile.
 * - Staleness watchdog: no frame for `staleAfterMs` -> onStale(); the next frame -> onFresh(); no frame and
 *   no server ping for `deadAfterMs` -> the socket is dropped and reconnected (a quiet market is not a dead
 *   connection: Binance pings every 20 s / 3 min).
 * - close(): stops timers, closes sockets, no reconnect.
 * - Degradations (disconnect with its close code and reason, reconnect, rotation, stale and fresh again, silent
 *   drop, socket error) are counted in `WsStats` per connection name (a renewed connection of the same name keeps
 *   counting) and logged, rate-limited, by the `Degradations` reporter through `wsDegradations()`; nothing is logged
 *   from the socket's own events.
 */
import WebSocket from 'ws';
import { nowNs } from '../util/clock.js';
import type { DegradationSample, DegradationSource } from '../util/degrade.js';

/** Degradation counters of every connection of one name (cold paths only, except `fresh`: one increment). */
export class WsStats {
  /** an open connection dropped (not close(), not a rotation) */
  disconnects = 0;
  /** disconnects by close code (1006: no close frame, e.g. a network failure or terminate()) */
  readonly byCode = new Map<number, number>();
  /** close reason text of the last disconnect with that code */
  readonly reasonByCode = new Map<number, string>();
  /** a connection re-opened after a drop */
  reconnects = 0;
  /** planned make-before-break replacements */
  rotations = 0;
  /** replacements whose open or setup failed (the current connection kept serving; retried) */
  rotationFailures = 0;
  /** no frame for staleAfterMs */
  stale = 0;
  /** frames again after stale */
  fresh = 0;
  /** ms the last stale period lasted */
  lastStaleMs = 0;
  /** dropped by the watchdog: no frame and no ping for deadAfterMs */
  dead = 0;
  /** socket errors (failed connects included) */
  errors = 0;
  lastError = '';
}

const statsByName = new Map<string, WsStats>();

/** The counters of connections named `name` (created on first use). */
export function wsStats(name: string): WsStats {
  let s = statsByName.get(name);
  if (!s) {
    s = new WsStats();
    statsByName.set(name, s);
  }
  return s;
}

/** Every connection's degradation counters, for `Degradations` (log lines) and /metrics. */
export function wsDegradations(): DegradationSource {
  return () => {
    const out: DegradationSample[] = [];
    for (const [conn, s] of statsByName) {
      for (const [code, n] of s.byCode) {
        out.push({
          event: 'ws_disconnect',
          metric: 'tickwire_ws_disconnects_total',
          help: 'WebSocket connections dropped, by close code.',
          labels: { conn, code: String(code) },
          value: n,
          msg: 'ws disconnected',
          detail: () => ({ reason: s.reasonByCode.get(code) ?? '' }),
        });
      }
      out.push(
        {
          event: 'ws_reconnect',
          metric: 'tickwire_ws_reconnects_total',
          help: 'WebSocket connections re-opened after a drop.',
          labels: { conn },
          value: s.reconnects,
          level: 'info',
          msg: 'ws reconnected',
        },
        {
          event: 'ws_rotation',
          metric: 'tickwire_ws_rotations_total',
          help: 'Planned WebSocket connection rotations (make before break).',
          labels: { conn },
          value: s.rotations,
          level: 'info',
          msg: 'ws connection rotated',
        },
        {
          event: 'ws_rotation_failed',
          metric: 'tickwire_ws_rotation_failures_total',
          help: 'Planned rotations whose replacement failed to open or set up (retried; the old connection kept serving).',
          labels: { conn },
          value: s.rotationFailures,
          msg: 'ws rotation failed: retrying',
        },
        {
          event: 'ws_stale',
          metric: 'tickwire_ws_stale_total',
          help: 'Connections without a frame for staleAfterMs (feeds marked stale).',
          labels: { conn },
          value: s.stale,
          msg: 'feed stale',
        },
        {
          event: 'ws_fresh',
          metric: 'tickwire_ws_fresh_total',
          help: 'Stale connections that delivered frames again.',
          labels: { conn },
          value: s.fresh,
          level: 'info',
          msg: 'feed fresh again',
          detail: () => ({ lastStaleMs: Math.round(s.lastStaleMs) }),
        },
        {
          event: 'ws_dead',
          metric: 'tickwire_ws_dead_total',
          help: 'Connections dropped by the watchdog (no frame, no ping).',
          labels: { conn },
          value: s.dead,
          msg: 'ws connection silent (no frame, no ping): reconnected',
        },
        {
          event: 'ws_error',
          metric: 'tickwire_ws_errors_total',
          help: 'WebSocket socket errors (failed connects included).',
          labels: { conn },
          value: s.errors,
          msg: 'ws error',
          detail: () => ({ err: s.lastError }),
        },
      );
    }
    return out;
  };
}

export interface ManagedWsOptions {
  name: string;
  url: string;
  /** hot path: one complete message */
  onFrame(data: Buffer, recvNs: number): void;
  /**
   * After each (re)connect and for each rotation replacement, before frames flow: send subscriptions (or log on)
   * here, on `send` / `conn` (that socket, not the current one). With `rotateWhenReady` the returned promise says when
   * a replacement is ready to take over (a rejection discards it).
   */
  onOpen?(ws: ManagedWs, reconnect: boolean, send: (text: string) => void, conn: WsConn, rotation: boolean): void | Promise<void>;
  /** the connection dropped (not called for planned rotations or close()) */
  onDisconnect?(ws: ManagedWs, code: number, reason: string, conn: WsConn): void;
  /** a rotated-out connection closed (its requests still in flight will get no answer) */
  onRetired?(conn: WsConn): void;
  onStale?(ws: ManagedWs): void;
  onFresh?(ws: ManagedWs): void;
  /** text sent every appPingIntervalMs (Bybit: '{"op":"ping"}' every 20000) */
  appPing?: string;
  appPingIntervalMs?: number;
  staleAfterMs?: number;
  /** drop and reconnect after this long without a frame (default 4x staleAfterMs, min 10 s; 0 = never) */
  deadAfterMs?: number;
  /** rotate the connection before the venue's forced disconnect (Binance: 24 h) */
  maxLifetimeMs?: number;
  rotateOverlapFrames?: number;
  /** promote a replacement when its onOpen promise resolves (sessions), not after rotateOverlapFrames frames */
  rotateWhenReady?: boolean;
  /** rotateWhenReady: true once nothing is in flight on the old connection, which is then closed (default: at once) */
  rotateDrained?(old: WsConn): boolean;
  /** rotateWhenReady: close the old connection after this long even if not drained (default 10000) */
  rotateDrainMs?: number;
  /** wait before retrying a failed rotation (default min(30 s, maxLifetimeMs / 10), at least 100 ms) */
  rotateRetryMs?: number;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  /** connects allowed per host per 5 minutes (default 250, under Binance's 300) */
  connectsPer5Min?: number;
  /** max incoming message size (bytes) */
  maxPayload?: number;
  /** start() rejects if no connection opened within this time (default 15000; 0 = wait forever) */
  startTimeoutMs?: number;
}

/** Per-host sliding window of connect attempts. */
const attemptsByHost = new Map<string, number[]>();
const WINDOW_MS = 5 * 60_000;

/** ms to wait before the next connect to `host` is allowed under `limit` attempts / 5 min (0 = now). */
export function connectDelay(host: string, limit: number, nowMs = Date.now()): number {
  const arr = attemptsByHost.get(host) ?? [];
  while (arr.length > 0 && (arr[0] as number) <= nowMs - WINDOW_MS) arr.shift();
  attemptsByHost.set(host, arr);
  if (arr.length < limit) return 0;
  return (arr[0] as number) + WINDOW_MS - nowMs + 1;
}

export function noteAttempt(host: string, nowMs = Date.now()): void {
  const arr = attemptsByHost.get(host) ?? [];
  arr.push(nowMs);
  attemptsByHost.set(host, arr);
}

/** Full-jitter exponential backoff: uniform in [base/2, base], base = min(max, initial * 2^attempt). */
export function backoffMs(attempt: number, initialMs: number, maxMs: number, rnd = Math.random()): number {
  const base = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(base / 2 + (rnd * base) / 2);
}

/** ws send options: always a text frame (the venues' WebSocket APIs speak JSON text) */
const TEXT_FRAME = { binary: false } as const;

/** One socket of a ManagedWs (the current one, a replacement, or a rotated-out one still draining). */
export type WsConn = WebSocket;

/** Send a text frame on one socket if it is open (a Buffer is sent as the bytes of a text frame). */
export function sendOn(conn: WsConn, text: string | Buffer): boolean {
  if (conn.readyState !== WebSocket.OPEN) return false;
  conn.send(text, TEXT_FRAME);
  return true;
}

/** Default planned lifetime of session sockets: an hour under the venues' 24 h limit. */
export const DEFAULT_SOCKET_LIFETIME_MS = 23 * 3_600_000;

export class ManagedWs {
  readonly opts: ManagedWsOptions;
  private sock: WebSocket | undefined;
  /** a rotation replacement while it is warming up */
  private next: WebSocket | undefined;
  private nextFrames = 0;
  /** rotated-out sockets still delivering (answers in flight), closed once drained */
  private readonly draining = new Map<WebSocket, number>();
  private drainTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private watchTimer: NodeJS.Timeout | undefined;
  private rotateTimer: NodeJS.Timeout | undefined;
  lastFrameNs = 0;
  /** last frame or server ping: the connection is alive even when the market is quiet */
  lastAliveNs = 0;
  stale = false;
  /** when the connection went stale (ns) */
  private staleSinceNs = 0;
  /** degradation counters of this connection's name */
  readonly stats: WsStats;
  /** counters */
  framesIn = 0;
  bytesIn = 0;
  reconnects = 0;
  rotations = 0;
  private readonly host: string;
  private openWaiters: Array<() => void> = [];

  constructor(opts: ManagedWsOptions) {
    this.opts = opts;
    this.host = new URL(opts.url).host;
    this.stats = wsStats(opts.name);
  }

  get connected(): boolean {
    return this.sock !== undefined && this.sock.readyState === WebSocket.OPEN;
  }

  /** The socket sends go to (undefined while reconnecting). */
  get current(): WsConn | undefined {
    return this.sock;
  }

  /** Rotated-out sockets not closed yet. */
  get drainingCount(): number {
    return this.draining.size;
  }

  /** Connect (resolves when the first connection is open). */
  /**
   * Connect. Resolves when the first connection is open; rejects after `startTimeoutMs` (default 15 s) with an
   * error naming the URL (reconnect attempts continue until close()).
   */
  start(): Promise<void> {
    const limit = this.opts.startTimeoutMs ?? 15_000;
    const p = new Promise<void>((resolve, reject) => {
      const t = limit > 0 ? setTimeout(() => reject(new Error(`${this.opts.name}: no connection to ${this.opts.url} within ${limit} ms`)), limit) : undefined;
      this.openWaiters.push(() => {
        if (t) clearTimeout(t);
        resolve();
      });
    });
    this.connect(false);
    const stale = this.opts.staleAfterMs ?? 0;
    if (stale > 0) {
      const period = Math.max(5, Math.floor(stale / 4));
      this.watchTimer = setInterval(() => this.watch(), period);
      this.watchTimer.unref?.();
    }
    return p;
  }

  /** Send a text frame (a Buffer is sent as the bytes of a text frame, not as a binary frame). */
  send(text: string | Buffer): boolean {
    const s = this.sock;
    if (!s || s.readyState !== WebSocket.OPEN) return false;
    s.send(text, TEXT_FRAME);
    return true;
  }

  /** Drop the current socket (as if the network failed): the normal reconnect path follows. */
  drop(): void {
    this.sock?.terminate();
  }

  /** Open the replacement now (what the lifetime timer does before 24 h). */
  rotate(): void {
    if (this.closed || this.next) return;
    const ws = this.open();
    this.next = ws;
    this.nextFrames = 0;
    const ready = this.opts.rotateWhenReady === true;
    let failed = false;
    const fail = (): void => {
      if (failed) return;
      failed = true;
      if (this.next === ws) this.next = undefined;
      this.stats.rotationFailures++;
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.terminate();
      this.scheduleRotate(this.retryMs());
    };
    ws.on('open', () => {
      if (this.closed || this.next !== ws) return;
      const p = this.opts.onOpen?.(this, false, (t) => ws.send(t), ws, true);
      if (!ready) return;
      Promise.resolve(p).then(
        () => {
          if (this.next === ws && ws.readyState === WebSocket.OPEN) this.promote();
          else fail();
        },
        () => fail(),
      );
    });
    ws.on('close', () => {
      if (this.next === ws) fail();
    });
    ws.on('error', () => {});
  }

  private retryMs(): number {
    const life = this.opts.maxLifetimeMs ?? 0;
    return this.opts.rotateRetryMs ?? Math.max(100, Math.min(30_000, Math.floor(life / 10)));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of [this.reconnectTimer, this.pingTimer, this.rotateTimer]) if (t) clearTimeout(t);
    if (this.watchTimer) clearInterval(this.watchTimer);
    if (this.drainTimer) clearInterval(this.drainTimer);
    const socks = [this.sock, this.next, ...this.draining.keys()].filter((s): s is WebSocket => s !== undefined);
    this.sock = undefined;
    this.next = undefined;
    this.draining.clear();
    await Promise.all(
      socks.map(
        (s) =>
          new Promise<void>((resolve) => {
            if (s.readyState === WebSocket.CLOSED) return resolve();
            const t = setTimeout(() => {
              s.terminate();
              resolve();
            }, 1000);
            s.once('close', () => {
              clearTimeout(t);
              resolve();
            });
            if (s.readyState === WebSocket.CONNECTING) s.terminate();
            else s.close(1000);
          }),
      ),
    );
    for (const w of this.openWaiters.splice(0)) w();
  }

  private open(): WebSocket {
    noteAttempt(this.host);
    const ws = new WebSocket(this.opts.url, {
      perMessageDeflate: false,
      skipUTF8Validation: true,
      autoPong: true,
      maxPayload: this.opts.maxPayload ?? 64 * 1024 * 1024,
      handshakeTimeout: 10_000,
    });
    ws.binaryType = 'nodebuffer';
    // when the socket became readable: the frames of a chunk are decoded and emitted inside its 'data' event, so
    // a stamp taken first thing in that event is each frame's receive time (it then holds the ws library's own
    // frame decoding, which a stamp in 'message' would miss). Added at open: the socket is attached by then and no
    // frame has been read from it yet.
    let readNs = 0;
    ws.once('open', () => {
      const sock = (ws as unknown as { _socket?: { prependListener(ev: 'data', f: () => void): void } })._socket;
      sock?.prependListener('data', () => {
        readNs = nowNs();
      });
    });
    ws.on('ping', () => {
      if (ws === this.sock) this.lastAliveNs = nowNs();
    });
    ws.on('message', (data: Buffer, _isBinary: boolean) => {
      // the first frame of a chunk: when the chunk was read; a later one of the same chunk: now (its wait behind the
      // frames before it, including any order those triggered, is theirs, not this frame's)
      const recvNs = readNs > 0 ? readNs : nowNs();
      readNs = 0;
      if (ws === this.next) {
        this.nextFrames++;
        if (this.opts.rotateWhenReady !== true && this.nextFrames >= (this.opts.rotateOverlapFrames ?? 20)) this.promote();
      } else if (ws !== this.sock && !this.draining.has(ws)) return; // old socket after promotion: drop (sessions: drain)
      this.lastFrameNs = recvNs;
      this.lastAliveNs = recvNs;
      this.framesIn++;
      this.bytesIn += data.length;
      if (this.stale) {
        this.stale = false;
        this.stats.fresh++;
        this.stats.lastStaleMs = (recvNs - this.staleSinceNs) / 1e6;
        this.opts.onFresh?.(this);
      }
      this.opts.onFrame(data, recvNs);
    });
    return ws;
  }

  private connect(reconnect: boolean): void {
    if (this.closed) return;
    const wait = connectDelay(this.host, this.opts.connectsPer5Min ?? 250);
    if (wait > 0) {
      this.reconnectTimer = setTimeout(() => this.connect(reconnect), wait);
      return;
    }
    const ws = this.open();
    this.sock = ws;
    let opened = false;
    ws.on('open', () => {
      if (this.closed) return;
      opened = true;
      this.attempt = 0;
      if (reconnect) this.stats.reconnects++;
      this.lastFrameNs = nowNs();
      this.lastAliveNs = this.lastFrameNs;
      void this.opts.onOpen?.(this, reconnect, (t) => ws.send(t), ws, false);
      this.schedulePing();
      this.scheduleRotate();
      for (const w of this.openWaiters.splice(0)) w();
    });
    ws.on('error', (err: Error) => {
      this.stats.errors++;
      this.stats.lastError = err.message;
    });
    ws.on('close', (code: number, reason: Buffer) => {
      if (ws !== this.sock) return; // a rotated-out socket
      this.sock = undefined;
      if (this.pingTimer) clearTimeout(this.pingTimer);
      if (this.rotateTimer) clearTimeout(this.rotateTimer);
      if (this.closed) return;
      if (opened) {
        this.noteDisconnect(code, reason);
        this.opts.onDisconnect?.(this, code, reason.toString(), ws);
      }
      if (this.next && this.next.readyState === WebSocket.OPEN && this.opts.rotateWhenReady !== true) {
        // the replacement is ready: use it at once
        this.promote();
        return;
      }
      // a session replacement still setting up: drop it, the reconnect sets up a fresh one
      this.discardNext();
      this.reconnects++;
      const d = backoffMs(this.attempt++, this.opts.backoffInitialMs ?? 250, this.opts.backoffMaxMs ?? 30_000);
      this.reconnectTimer = setTimeout(() => this.connect(true), d);
    });
  }

  private promote(): void {
    const old = this.sock;
    const nw = this.next;
    if (!nw) return;
    this.next = undefined;
    this.sock = nw;
    this.rotations++;
    this.stats.rotations++;
    nw.removeAllListeners('close');
    nw.on('close', (code: number, reason: Buffer) => {
      if (nw !== this.sock) return;
      this.sock = undefined;
      if (this.pingTimer) clearTimeout(this.pingTimer);
      if (this.rotateTimer) clearTimeout(this.rotateTimer);
      if (this.closed) return;
      this.noteDisconnect(code, reason);
      this.opts.onDisconnect?.(this, code, reason.toString(), nw);
      this.discardNext();
      this.reconnects++;
      const d = backoffMs(this.attempt++, this.opts.backoffInitialMs ?? 250, this.opts.backoffMaxMs ?? 30_000);
      this.reconnectTimer = setTimeout(() => this.connect(true), d);
    });
    nw.on('error', () => {});
    if (old) {
      if (this.opts.rotateWhenReady === true) this.retire(old);
      else old.close(1000);
    }
    this.schedulePing();
    this.scheduleRotate();
  }

  /** A replacement that has not taken over is dropped (the current connection went away under it). */
  private discardNext(): void {
    const n = this.next;
    if (!n) return;
    this.next = undefined;
    n.removeAllListeners('close');
    n.on('close', () => {});
    n.terminate();
  }

  /**
   * A rotated-out session socket: its frames are still delivered (answers to requests in flight, events in the
   * pipe); closed once `rotateDrained` says nothing is in flight on it, or after `rotateDrainMs`.
   */
  private retire(old: WebSocket): void {
    this.draining.set(old, Date.now() + (this.opts.rotateDrainMs ?? 10_000));
    old.once('close', () => {
      this.draining.delete(old);
      this.opts.onRetired?.(old);
    });
    if (this.drainStep(old) || this.drainTimer) return;
    // cold: runs only while a rotated-out socket waits for its answers
    this.drainTimer = setInterval(() => {
      let busy = false;
      for (const s of this.draining.keys()) if (!this.drainStep(s)) busy = true;
      if (!busy && this.drainTimer) {
        clearInterval(this.drainTimer);
        this.drainTimer = undefined;
      }
    }, 10);
    this.drainTimer.unref?.();
  }

  /** close a rotated-out socket once drained or past its deadline; true when it is closing */
  private drainStep(s: WebSocket): boolean {
    if (s.readyState !== WebSocket.OPEN) return true;
    if (!(this.opts.rotateDrained?.(s) ?? true) && Date.now() < (this.draining.get(s) ?? 0)) return false;
    s.close(1000);
    return true;
  }

  private noteDisconnect(code: number, reason: Buffer): void {
    const s = this.stats;
    s.disconnects++;
    s.byCode.set(code, (s.byCode.get(code) ?? 0) + 1);
    s.reasonByCode.set(code, reason.toString('utf8', 0, Math.min(reason.length, 200)));
  }

  private schedulePing(): void {
    const ms = this.opts.appPingIntervalMs ?? 0;
    const text = this.opts.appPing;
    if (!text || ms <= 0) return;
    if (this.pingTimer) clearTimeout(this.pingTimer);
    const tick = () => {
      this.send(text);
      this.pingTimer = setTimeout(tick, ms);
      this.pingTimer.unref?.();
    };
    this.pingTimer = setTimeout(tick, ms);
    this.pingTimer.unref?.();
  }

  private scheduleRotate(afterMs?: number): void {
    const life = this.opts.maxLifetimeMs ?? 0;
    if (life <= 0 || this.closed) return;
    if (this.rotateTimer) clearTimeout(this.rotateTimer);
    this.rotateTimer = setTimeout(() => this.rotate(), afterMs ?? life);
    this.rotateTimer.unref?.();
  }

  private watch(): void {
    if (this.closed || !this.connected) return;
    const stale = this.opts.staleAfterMs ?? 0;
    const age = (nowNs() - this.lastFrameNs) / 1e6;
    if (!this.stale && age >= stale) {
      this.stale = true;
      this.staleSinceNs = this.lastFrameNs;
      this.stats.stale++;
      this.opts.onStale?.(this);
    }
    const dead = this.opts.deadAfterMs ?? Math.max(10_000, 4 * stale);
    const silent = (nowNs() - this.lastAliveNs) / 1e6;
    if (dead > 0 && silent >= dead) {
      this.stats.dead++;
      this.lastFrameNs = nowNs();
      this.lastAliveNs = this.lastFrameNs;
      this.drop();
    }
  }
}
