/**
 * REST transport: one undici Pool per origin (shared by every gateway on that host), keep-alive, pipelining 1,
 * connections opened at start (`warm`) and kept warm by the periodic time sync; a timeout per request.
 *
 * Errors are classified for the order logic: `notSent` (connection refused: nothing reached the exchange, safe to
 * resend) vs `unknown` (timeout / reset after the bytes may have left: query before anything else).
 *
 * ## The request is written inside `request()` (eager write)
 * undici >= 7.28 (GHSA-35p6-xmwp-9g52, response-queue poisoning) never writes a request onto a reused idle
 * keep-alive socket in the call that dispatches it: it marks the socket "validating" and writes from a
 * `setImmediate`, so that bytes / FIN / RST already pending on that socket are read first (unsolicited bytes on an
 * idle socket make undici destroy it; the request then goes on another connection). For an order sent from a
 * market-data handler that means the bytes leave only after everything else the event loop does in that turn.
 * There is no option to turn it off. What the check buys is that the socket was read through a poll phase since its
 * last bytes arrived; this module proves the same thing ahead of time: every pooled socket is watched, and a
 * `setImmediate` after its last `readable` event (the check phase: every I/O event that was pending in that
 * iteration has been handled) marks it `ready` (it stays ready while no further byte arrives). When a request is
 * dispatched, a ready, idle, undici-"used" socket is marked validated (undici's own state 2: what its immediate
 * would have set) and undici writes at once; a socket that was not chosen is set back to undici's "not validated".
 * A socket that saw bytes in the current turn is not ready, and keeps undici's deferred check.
 * What this gives up against undici's check: an event the kernel had queued for the socket in the same poll batch
 * as the caller's own event, but that libuv hands over after it, is read after the write instead of before (an
 * event that arrives once the poll has begun escapes undici's check too). A FIN met that way fails the request as
 * `unknown` (the order logic then queries); unsolicited bytes met that way would be taken as the answer, which
 * needs the venue itself (TLS) to send a response nobody asked for.
 * The state is undici's private per-socket field, found by its symbol's description; if a future undici renames it,
 * nothing is marked and requests are written as undici decides (`stats.deferred` counts them; the test
 * test/orders/rest.test.ts fails then, so an upgrade cannot lose this silently).
 *
 * ## One reused handler per request, no response stream
 * Requests go through `Pool.dispatch` with pooled handler objects (no undici RequestHandler/AsyncResource, no
 * body Readable, no `body.text()` hops): the response's chunks are kept and decoded once at the end.
 */
import { Pool, buildConnector, type Dispatcher } from 'undici';
import type { Socket } from 'node:net';
import type { HeaderBag } from './ratelimit.js';

export interface RestResponse {
  status: number;
  headers: HeaderBag;
  text: string;
}

export class RestError extends Error {
  constructor(
    message: string,
    readonly kind: 'notSent' | 'unknown',
    readonly causeCode: string,
  ) {
    super(message);
  }
}

export interface RestClientOptions {
  connections?: number;
  timeoutMs?: number;
  keepAliveMs?: number;
  /** write requests inside `request()` when a pooled socket is proven idle (default true; see the module doc) */
  eagerWrite?: boolean;
}

/** one pooled socket as seen by the eager-write check */
interface WatchedSocket {
  readonly s: Socket;
  /** read through a check phase since its last `readable`, and no byte since */
  ready: boolean;
  /** bytesRead when it became ready */
  readAt: number;
  /** a check-phase mark is scheduled */
  scheduled: boolean;
  /** marked validated for the request being dispatched */
  armed: boolean;
  /** undici's private per-socket fields (found once; null = not found) */
  kVal: symbol | null | undefined;
  kUsed: symbol | null | undefined;
}

interface PoolEntry {
  pool: Pool;
  refs: number;
  socks: WatchedSocket[];
  stats: RestStats;
}

export interface RestStats {
  /** requests whose bytes were on a socket when `request()` returned */
  written: number;
  /** requests that undici queued or deferred (connecting, every socket busy, or its idle-socket check) */
  deferred: number;
}

const pools = new Map<string, PoolEntry>();

function markReady(w: WatchedSocket): void {
  w.scheduled = false;
  if (w.s.destroyed) return;
  w.ready = true;
  w.readAt = w.s.bytesRead;
}

function watch(entry: PoolEntry, s: Socket): void {
  const w: WatchedSocket = { s, ready: false, readAt: 0, scheduled: false, armed: false, kVal: undefined, kUsed: undefined };
  entry.socks.push(w);
  // 'readable' only: a 'data' listener would switch the stream to flowing mode under undici's parser
  s.on('readable', () => {
    w.ready = false;
    if (!w.scheduled) {
      w.scheduled = true;
      setImmediate(markReady, w);
    }
  });
  s.once('close', () => {
    w.ready = false;
    const i = entry.socks.indexOf(w);
    if (i >= 0) entry.socks.splice(i, 1);
  });
}

function symbolOf(s: Socket, description: string): symbol | null {
  for (const k of Object.getOwnPropertySymbols(s)) if (k.description === description) return k;
  return null;
}

/** Mark every ready idle socket validated. */
function arm(socks: WatchedSocket[]): void {
  for (let i = 0; i < socks.length; i++) {
    const w = socks[i]!;
    const s = w.s as unknown as Record<symbol, unknown> & Socket;
    if (!w.ready || s.destroyed || s.bytesRead !== w.readAt) continue;
    if (w.kVal === undefined) {
      w.kVal = symbolOf(s, 'kIdleSocketValidation');
      w.kUsed = symbolOf(s, 'kSocketUsed');
    }
    if (w.kVal === null || w.kUsed === null || w.kVal === undefined || w.kUsed === undefined) continue;
    // 0 = idle, not checked yet; a used socket would get undici's deferred check: it has had it already
    if (s[w.kVal] === 0 && s[w.kUsed] === true) {
      s[w.kVal] = 2;
      w.armed = true;
    }
  }
}

/** After dispatch: undo the mark on sockets that were not written. */
function disarm(socks: WatchedSocket[]): void {
  for (let i = 0; i < socks.length; i++) {
    const w = socks[i]!;
    const s = w.s as unknown as Record<symbol, unknown> & Socket;
    if (!w.armed) continue;
    w.armed = false;
    if (s[w.kVal!] === 2)
      s[w.kVal!] = 0; // not chosen: undici's own check applies again
    else w.ready = false; // written: busy until its response
  }
}

function acquirePool(origin: string, connections: number, keepAliveMs: number): PoolEntry {
  const e = pools.get(origin);
  if (e) {
    e.refs++;
    return e;
  }
  const base = buildConnector({}); // undici's default connector (sets TCP_NODELAY on every socket)
  const entry: PoolEntry = { pool: undefined as unknown as Pool, refs: 1, socks: [], stats: { written: 0, deferred: 0 } };
  entry.pool = new Pool(origin, {
    connections,
    pipelining: 1,
    keepAliveTimeout: keepAliveMs,
    keepAliveMaxTimeout: keepAliveMs,
    connect: (opts, cb) => {
      base(opts, (err, sock) => {
        if (sock) watch(entry, sock);
        if (err) cb(err, null);
        else cb(null, sock!);
      });
    },
  });
  pools.set(origin, entry);
  return entry;
}

async function releasePool(origin: string): Promise<void> {
  const e = pools.get(origin);
  if (!e) return;
  if (--e.refs > 0) return;
  pools.delete(origin);
  await e.pool.destroy().catch(() => undefined);
}

const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);

/** lowercase name -> value (a repeated header: an array), as undici's `request()` gives them */
function headerBag(raw: Buffer[]): HeaderBag {
  const h: HeaderBag = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const k = raw[i]!.toString('latin1').toLowerCase();
    const v = raw[i + 1]!.toString('utf8');
    const prev = h[k];
    if (prev === undefined) h[k] = v;
    else if (Array.isArray(prev)) prev.push(v);
    else h[k] = [prev, v];
  }
  return h;
}

/** One request's undici handler; pooled (reused once it has settled). */
class Exchange implements Dispatcher.DispatchHandler {
  method = '';
  path = '';
  status = 0;
  headers: HeaderBag = {};
  private readonly chunks: Buffer[] = [];
  private resolve: ((r: RestResponse) => void) | undefined;
  private reject: ((e: RestError) => void) | undefined;
  readonly settle = (resolve: (r: RestResponse) => void, reject: (e: RestError) => void): void => {
    this.resolve = resolve;
    this.reject = reject;
  };

  constructor(private readonly free: Exchange[]) {}

  /** undici called onRequestSent: the whole request is on the socket */
  sent = false;

  onConnect(): void {}

  onRequestSent(): void {
    this.sent = true;
  }

  onHeaders(statusCode: number, raw: Buffer[]): boolean {
    this.status = statusCode;
    this.headers = headerBag(raw);
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.chunks.push(chunk);
    return true;
  }

  onComplete(): void {
    const c = this.chunks;
    const text = c.length === 0 ? '' : c.length === 1 ? c[0]!.toString('utf8') : Buffer.concat(c).toString('utf8');
    const res: RestResponse = { status: this.status, headers: this.headers, text };
    const done = this.resolve;
    if (!done) return; // settled already (undici calls one of onComplete/onError once; never act twice)
    this.release();
    done(res);
  }

  onError(err: Error): void {
    const code = (err as { code?: string }).code ?? (err as { cause?: { code?: string } }).cause?.code ?? 'ERR';
    const e = new RestError(`${this.method} ${this.path}: ${err.message}`, NOT_SENT.has(code) ? 'notSent' : 'unknown', code);
    const fail = this.reject;
    if (!fail) return;
    this.release();
    fail(e);
  }

  private release(): void {
    this.chunks.length = 0;
    this.headers = {};
    this.resolve = undefined;
    this.reject = undefined;
    this.free.push(this);
  }
}

export class RestClient {
  readonly origin: string;
  private readonly entry: PoolEntry;
  private readonly pool: Pool;
  readonly timeoutMs: number;
  private readonly connections: number;
  private readonly eager: boolean;
  private closed = false;
  private warmTimer: NodeJS.Timeout | undefined;
  private readonly free: Exchange[] = [];

  constructor(baseUrl: string, opts: RestClientOptions = {}) {
    this.origin = new URL(baseUrl).origin;
    this.connections = opts.connections ?? 2;
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.eager = opts.eagerWrite ?? true;
    this.entry = acquirePool(this.origin, this.connections, opts.keepAliveMs ?? 60_000);
    this.pool = this.entry.pool;
  }

  /** how requests on this host's pool left (shared by every client of the origin) */
  get stats(): Readonly<RestStats> {
    return this.entry.stats;
  }

  /**
   * Send a request; its bytes are on the socket when this returns whenever a pooled connection is idle and proven
   * clean (module doc). Resolves with the whole response; rejects with a RestError.
   */
  request(
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    path: string,
    opts: { query?: string; body?: string | Uint8Array; headers?: Record<string, string>; timeoutMs?: number } = {},
  ): Promise<RestResponse> {
    const t = opts.timeoutMs ?? this.timeoutMs;
    const fullPath = opts.query !== undefined && opts.query.length > 0 ? path + '?' + opts.query : path;
    const x = this.free.pop() ?? new Exchange(this.free);
    x.method = method;
    x.path = path;
    const p = new Promise<RestResponse>(x.settle);
    // a fresh options object: the Pool queues it as is while every connection is busy
    const o: Dispatcher.DispatchOptions = { method, path: fullPath, headers: opts.headers ?? {}, body: opts.body ?? null, headersTimeout: t, bodyTimeout: t };
    const socks = this.entry.socks;
    x.sent = false;
    if (this.eager) arm(socks);
    this.pool.dispatch(o, x); // errors (closed pool, bad arguments) arrive through x.onError
    if (this.eager) disarm(socks);
    if (x.sent) this.entry.stats.written++;
    else this.entry.stats.deferred++;
    return p;
  }

  /** Open every pool connection now (concurrent GETs), so the first order does not pay for a handshake. */
  async warm(path: string): Promise<void> {
    const reqs: Array<Promise<unknown>> = [];
    for (let i = 0; i < this.connections; i++) reqs.push(this.request('GET', path).catch(() => undefined));
    await Promise.all(reqs);
  }

  /**
   * Keep every pooled connection warm: `connections` concurrent GETs every intervalMs (a single periodic request
   * would keep only one socket alive; the venue closes idle ones). `gate(n)` false skips a round.
   */
  keepWarm(path: string, intervalMs = 15_000, gate?: (requests: number) => boolean): void {
    if (this.warmTimer) return;
    // `gate`: the venue's rate budget books the round's requests first, or skips the round
    this.warmTimer = setInterval(() => {
      if (!gate || gate(this.connections)) void this.warm(path);
    }, intervalMs);
    this.warmTimer.unref();
  }

  async close(): Promise<void> {
    if (this.warmTimer) clearInterval(this.warmTimer);
    this.warmTimer = undefined;
    if (this.closed) return;
    this.closed = true;
    await releasePool(this.origin);
  }
}
