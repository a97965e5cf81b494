/**
 * Request/response correlation over one managed WebSocket (the market-data team's ManagedWs from
 * src/net/ws.ts: reconnect with backoff, app pings). Used by the Binance WS API and the Bybit trade WS.
 *
 * - `call(id, frame)` sends a prepared frame (string, or the bytes of a text frame) and resolves with the parsed
 *   response whose id matches. The frame is on the socket when `call` returns (ws writes synchronously).
 * - Timeouts: one sweep timer for all pending calls (a deadline per call), not a `setTimeout` per request.
 * - Responses for ids never sent (or already timed out) are counted and handed to `onUnsolicited`.
 * - On disconnect every pending call on that socket is rejected with `WsDisconnected` (its outcome is unknown: the
 *   gateway queries before it resends); after a reconnect `onOpen` runs again (session logon / auth) before `ready`.
 * - Planned rotation (`maxLifetimeMs`, before the venue's 24 h cut): a replacement socket is opened and set up by
 *   `onOpen` (on that socket: `callRaw(..., via)`) while the current one keeps serving; new calls go to the
 *   replacement once it is set up; calls in flight on the old one get their answers there, then it is closed.
 *   `ready` stays true throughout.
 */
import { ManagedWs, sendOn, type WsConn } from './ws.js';
import { obj, parseJsonSafe, type Json } from '../codec/json.js';

export class WsDisconnected extends Error {
  constructor(readonly sent: boolean) {
    super(sent ? 'disconnected with the request in flight' : 'not connected');
  }
}

export class WsTimeout extends Error {
  constructor() {
    super('ws request timed out');
  }
}

interface Pending {
  resolve(v: Json): void;
  reject(e: Error): void;
  /** nowMs() after which the sweep rejects it with WsTimeout */
  deadline: number;
  /** the socket it was sent on */
  conn: WsConn;
}

/** How often the timeout sweep looks at pending calls: a timeout fires up to this much late. */
const SWEEP_MS = 100;

export interface WsRpcOptions {
  name: string;
  url: string;
  /** key of the response id ('id' for Binance, 'reqId' for Bybit trade WS) */
  idKey: string;
  timeoutMs?: number;
  /**
   * After each (re)connect and on each rotation replacement: authenticate, sending on `via` (callRaw's last
   * argument). A reconnect's calls wait for it (`ready`); a replacement takes over when it resolves.
   */
  onOpen?(rpc: WsRpc, reconnect: boolean, via: WsConn, rotation: boolean): Promise<void>;
  onUnsolicited?(msg: Json, recvNs: number): void;
  onDisconnect?(): void;
  /** hot path before any parse: true = the frame was fully handled from its bytes (e.g. a user-data fill) */
  onRawFrame?(data: Buffer, recvNs: number): boolean;
  /** frame text -> object; default parseJsonSafe (every 16+ digit integer kept exact) */
  parse?(text: string): unknown;
  appPing?: string;
  appPingIntervalMs?: number;
  /** rotate the socket make-before-break after this long (0 = never; callers default to DEFAULT_SOCKET_LIFETIME_MS) */
  maxLifetimeMs?: number;
}

export class WsRpc {
  readonly ws: ManagedWs;
  private readonly pending = new Map<string, Pending>();
  private readyPromise: Promise<void> = Promise.resolve();
  private readyOk = false;
  private seq = 0;
  private readonly prefix: string;
  private sweepTimer: NodeJS.Timeout | undefined;
  readonly counts = { sent: 0, responses: 0, unsolicited: 0, malformed: 0, timeouts: 0, disconnects: 0 };

  constructor(readonly opts: WsRpcOptions) {
    this.prefix = opts.name.replace(/[^A-Za-z0-9]/g, '').slice(0, 6) + Date.now().toString(36) + '-';
    const wsOpts: ConstructorParameters<typeof ManagedWs>[0] = {
      name: opts.name,
      url: opts.url,
      onFrame: (data, recvNs) => this.onFrame(data, recvNs),
      onOpen: (_ws, reconnect, _send, conn, rotation) => {
        const p = opts.onOpen ? opts.onOpen(this, reconnect, conn, rotation) : Promise.resolve();
        // a rotation replacement: the current socket stays ready; ManagedWs promotes the replacement when p resolves
        if (rotation) return p;
        this.readyOk = false;
        this.readyPromise = p.then(() => {
          this.readyOk = true;
        });
        this.readyPromise.catch(() => undefined);
        return undefined;
      },
      onDisconnect: (_ws, _code, _reason, conn) => {
        this.readyOk = false;
        this.counts.disconnects++;
        this.failOn(conn);
        opts.onDisconnect?.();
      },
      onRetired: (conn) => this.failOn(conn),
      rotateWhenReady: true,
      rotateDrained: (conn) => {
        for (const p of this.pending.values()) if (p.conn === conn) return false;
        return true;
      },
      // an answer in flight on the old socket arrives within the call timeout (or the sweep rejects it)
      rotateDrainMs: (opts.timeoutMs ?? 5000) + 1000,
      staleAfterMs: 0,
      deadAfterMs: 0,
      backoffInitialMs: 50,
      backoffMaxMs: 5000,
    };
    if (opts.appPing !== undefined) wsOpts.appPing = opts.appPing;
    if (opts.appPingIntervalMs !== undefined) wsOpts.appPingIntervalMs = opts.appPingIntervalMs;
    if (opts.maxLifetimeMs !== undefined && opts.maxLifetimeMs > 0) wsOpts.maxLifetimeMs = opts.maxLifetimeMs;
    this.ws = new ManagedWs(wsOpts);
  }

  /** Connect and authenticate (bounded by timeoutMs). */
  async start(timeoutMs = 10_000): Promise<void> {
    await withTimeout(this.ws.start(), timeoutMs, `${this.opts.name}: connect timeout`);
    await withTimeout(this.readyPromise, timeoutMs, `${this.opts.name}: session setup timeout`);
  }

  get ready(): boolean {
    return this.readyOk && this.ws.connected;
  }

  nextId(): string {
    return this.prefix + (++this.seq).toString(36);
  }

  /**
   * Send a frame whose id is `id` (on the current socket, or on `via` during its setup); resolves with the response.
   * Rejects WsDisconnected / WsTimeout.
   */
  call(id: string, frame: string | Buffer, timeoutMs = this.opts.timeoutMs ?? 5000, via?: WsConn): Promise<Json> {
    return new Promise<Json>((resolve, reject) => {
      const conn = via ?? this.ws.current;
      if (conn === undefined || !sendOn(conn, frame)) {
        reject(new WsDisconnected(false));
        return;
      }
      this.counts.sent++;
      this.pending.set(id, { resolve, reject, deadline: Date.now() + timeoutMs, conn });
      if (this.sweepTimer === undefined) {
        this.sweepTimer = setInterval(this.sweep, SWEEP_MS);
        this.sweepTimer.unref();
      }
    });
  }

  /** Reject every call past its deadline; stop when nothing is pending. */
  private readonly sweep = (): void => {
    const now = Date.now();
    for (const [id, p] of this.pending) {
      if (p.deadline > now) continue;
      this.pending.delete(id);
      this.counts.timeouts++;
      p.reject(new WsTimeout());
    }
    if (this.pending.size === 0 && this.sweepTimer !== undefined) {
      clearInterval(this.sweepTimer);
      this.sweepTimer = undefined;
    }
  };

  /** For session setup inside onOpen (the connection is open but not yet `ready`), on the socket `via`. */
  callRaw(id: string, frame: string, timeoutMs?: number, via?: WsConn): Promise<Json> {
    return this.call(id, frame, timeoutMs, via);
  }

  /** Open the replacement socket now (what the lifetime timer does). */
  rotate(): void {
    this.ws.rotate();
  }

  send(text: string): boolean {
    return this.ws.send(text);
  }

  /** Drop the socket (as a network failure would); the reconnect path follows. */
  drop(): void {
    this.ws.drop();
  }

  async close(): Promise<void> {
    this.failAll(false);
    await this.ws.close();
  }

  /** reject every call (sent = their outcome is unknown) */
  private failAll(sent: boolean): void {
    if (this.sweepTimer !== undefined) {
      clearInterval(this.sweepTimer);
      this.sweepTimer = undefined;
    }
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      p.reject(new WsDisconnected(sent));
    }
  }

  /** a socket went away: reject the calls sent on it (outcome unknown); calls on other sockets stay */
  private failOn(conn: WsConn): void {
    for (const [id, p] of this.pending) {
      if (p.conn !== conn) continue;
      this.pending.delete(id);
      p.reject(new WsDisconnected(true));
    }
  }

  private onFrame(data: Buffer, recvNs: number): void {
    if (this.opts.onRawFrame?.(data, recvNs)) {
      this.counts.unsolicited++;
      return;
    }
    let msg: Json | undefined;
    try {
      const text = data.toString('utf8');
      msg = obj(this.opts.parse ? this.opts.parse(text) : parseJsonSafe(text));
    } catch {
      msg = undefined;
    }
    if (!msg) {
      this.counts.malformed++;
      return;
    }
    const idv = msg[this.opts.idKey];
    const id = typeof idv === 'string' ? idv : typeof idv === 'number' ? String(idv) : '';
    if (id !== '') {
      const p = this.pending.get(id);
      if (p) {
        this.pending.delete(id);
        this.counts.responses++;
        p.resolve(msg);
        return;
      }
    }
    this.counts.unsolicited++;
    this.opts.onUnsolicited?.(msg, recvNs);
  }
}

export function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(message)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
