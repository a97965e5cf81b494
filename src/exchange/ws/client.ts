/**
 * Managed WebSocket connection shared by market data and (later) order entry.
 *
 * - Frames reach `onFrame(bytes, recvNs)` as the Buffer the `ws` library assembled (no copy, no string); text
 *   frames are not UTF-8 validated here (skipUTF8Validation): the byte parsers only trust ASCII structure.
 * - Pings: the server's WS pings are answered by `ws` (autoPong; Binance: 20 s spot / 3 min futures). An
 *   application ping (`appPing`, Bybit `{"op":"ping"}` every 20 s) is sent on a timer.
 * - Reconnect with jittered exponential backoff; every attempt passes a per-host sliding-window limiter kept
 *   below the venues' limits (Binance 300 connects / 5 min / IP, Bybit 500 / 5 min per domain).
 * - Planned rotation (`maxLifetimeMs`, Binance closes every connection after 24 h): a replacement is opened
 *   first; both deliver frames until the replacement has delivered `rotateOverlapFrames` frames (the book
 *   sync drops the duplicates), then the old one is closed. No reconnect gap.
 * - Staleness watchdog: no frame for `staleAfterMs` -> onStale(); the next frame -> onFresh(); no frame and
 *   no server ping for `deadAfterMs` -> the socket is dropped and reconnected (a quiet market is not a dead
 *   connection: Binance pings every 20 s / 3 min).
 * - close(): stops timers, closes sockets, no reconnect.
 */
import WebSocket from 'ws';
import { nowNs } from '../../latency/clock.js';
import { log } from '../../util/log.js';

export interface ManagedWsOptions {
  name: string;
  url: string;
  /** hot path: one complete message */
  onFrame(data: Buffer, recvNs: number): void;
  /** after each (re)connect, before frames flow: send subscriptions here */
  onOpen?(ws: ManagedWs, reconnect: boolean, send: (text: string) => void): void;
  /** the connection dropped (not called for planned rotations or close()) */
  onDisconnect?(ws: ManagedWs, code: number, reason: string): void;
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

export class ManagedWs {
  readonly opts: ManagedWsOptions;
  private sock: WebSocket | undefined;
  /** a rotation replacement while it is warming up */
  private next: WebSocket | undefined;
  private nextFrames = 0;
  private closed = false;
  private attempt = 0;
  private connects = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private watchTimer: NodeJS.Timeout | undefined;
  private rotateTimer: NodeJS.Timeout | undefined;
  lastFrameNs = 0;
  /** last frame or server ping: the connection is alive even when the market is quiet */
  lastAliveNs = 0;
  stale = false;
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
  }

  get connected(): boolean {
    return this.sock !== undefined && this.sock.readyState === WebSocket.OPEN;
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
    ws.on('open', () => {
      this.opts.onOpen?.(this, false, (t) => ws.send(t));
    });
    const onClose = () => {
      if (this.next === ws) this.next = undefined;
    };
    ws.on('close', onClose);
    ws.on('error', () => {});
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of [this.reconnectTimer, this.pingTimer, this.rotateTimer]) if (t) clearTimeout(t);
    if (this.watchTimer) clearInterval(this.watchTimer);
    const socks = [this.sock, this.next].filter((s): s is WebSocket => s !== undefined);
    this.sock = undefined;
    this.next = undefined;
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
    ws.on('ping', () => {
      if (ws === this.sock) this.lastAliveNs = nowNs();
    });
    ws.on('message', (data: Buffer, _isBinary: boolean) => {
      const recvNs = nowNs();
      if (ws === this.next) {
        this.nextFrames++;
        if (this.nextFrames >= (this.opts.rotateOverlapFrames ?? 20)) this.promote();
      } else if (ws !== this.sock) return; // old socket after promotion: drop
      this.lastFrameNs = recvNs;
      this.lastAliveNs = recvNs;
      this.framesIn++;
      this.bytesIn += data.length;
      if (this.stale) {
        this.stale = false;
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
      this.connects++;
      this.lastFrameNs = nowNs();
      this.lastAliveNs = this.lastFrameNs;
      this.opts.onOpen?.(this, reconnect, (t) => ws.send(t));
      this.schedulePing();
      this.scheduleRotate();
      for (const w of this.openWaiters.splice(0)) w();
    });
    ws.on('error', (err: Error) => {
      log().warn({ conn: this.opts.name, err: err.message }, 'ws error');
    });
    ws.on('close', (code: number, reason: Buffer) => {
      if (ws !== this.sock) return; // a rotated-out socket
      this.sock = undefined;
      if (this.pingTimer) clearTimeout(this.pingTimer);
      if (this.rotateTimer) clearTimeout(this.rotateTimer);
      if (this.closed) return;
      if (opened) this.opts.onDisconnect?.(this, code, reason.toString());
      if (this.next && this.next.readyState === WebSocket.OPEN) {
        // the replacement is ready: use it at once
        this.promote();
        return;
      }
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
    nw.removeAllListeners('close');
    nw.on('close', (code: number, reason: Buffer) => {
      if (nw !== this.sock) return;
      this.sock = undefined;
      if (this.pingTimer) clearTimeout(this.pingTimer);
      if (this.rotateTimer) clearTimeout(this.rotateTimer);
      if (this.closed) return;
      this.opts.onDisconnect?.(this, code, reason.toString());
      this.reconnects++;
      const d = backoffMs(this.attempt++, this.opts.backoffInitialMs ?? 250, this.opts.backoffMaxMs ?? 30_000);
      this.reconnectTimer = setTimeout(() => this.connect(true), d);
    });
    nw.on('error', () => {});
    if (old) old.close(1000);
    this.schedulePing();
    this.scheduleRotate();
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

  private scheduleRotate(): void {
    const life = this.opts.maxLifetimeMs ?? 0;
    if (life <= 0) return;
    if (this.rotateTimer) clearTimeout(this.rotateTimer);
    this.rotateTimer = setTimeout(() => this.rotate(), life);
    this.rotateTimer.unref?.();
  }

  private watch(): void {
    if (this.closed || !this.connected) return;
    const stale = this.opts.staleAfterMs ?? 0;
    const age = (nowNs() - this.lastFrameNs) / 1e6;
    if (!this.stale && age >= stale) {
      this.stale = true;
      this.opts.onStale?.(this);
    }
    const dead = this.opts.deadAfterMs ?? Math.max(10_000, 4 * stale);
    const silent = (nowNs() - this.lastAliveNs) / 1e6;
    if (dead > 0 && silent >= dead) {
      log().warn({ conn: this.opts.name, silentMs: Math.round(silent) }, 'ws connection silent (no frame, no ping): reconnecting');
      this.lastFrameNs = nowNs();
      this.lastAliveNs = this.lastFrameNs;
      this.drop();
    }
  }
}
