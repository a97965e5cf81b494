/**
 * The uWebSockets.js API subset tickwire uses, on node:http + the `ws` package: the server where no native uWS
 * build loads (Node 22/24 on glibc < 2.38). `src/util/uws.ts` chooses between the two; code is written against the
 * uWS types and runs unchanged on either.
 *
 * uWS behaviour kept here, because the simulator and its tests rely on it (checked against uWS v20.30 natively):
 *  - Routing by path without the query: static segments beat `:param` beat `*`, then a ws route beats a method
 *    beats `any`, then registration order. `/a/*` matches `/a/` and `/a/b/c` but not `/a`; `/ws` does not match `/ws/`. A request no
 *    route takes (or every route yields) gets no answer: the connection is closed. A `ws` route takes only upgrade
 *    requests; an upgrade request on an HTTP route is answered as HTTP (then the connection closes).
 *  - HttpRequest is valid only while its handler runs (using it later throws); `getQuery()` is undefined without a
 *    query, `getQuery(key)` decodes the value; header names are lower case, duplicates kept (first wins for getHeader).
 *  - HttpResponse: status, then headers in the order written (duplicates kept), then Date and Content-Length.
 *    A handler that returns without answering must have called `onAborted`, else this throws (uWS terminates).
 *    `onAborted` (one handler, the last set) runs when the client goes away before `end`; any use of an aborted or
 *    ended response throws. `onData` chunks are ArrayBuffers detached after the callback (copy what you keep); the
 *    last call has isLast = true (an empty chunk when there is no body).
 *  - WebSocket: messages as ArrayBuffer (detached after the callback), `send` returns 1 (sent), 0 (buffered:
 *    backpressure) or 2 (dropped: buffered amount already above maxBackpressure, default 64 KiB). Published
 *    messages are written in one batch per socket once the publishing callback is done (as uWS drains its topic
 *    tree), direct sends at once. `end(code, msg)`
 *    and `close()` (abrupt, code 1006) run the close handler synchronously; after it every method but getUserData throws. Pub/sub per
 *    App (`ws.publish` skips the sender); a closing socket leaves its topics before its close handler runs.
 *    idleTimeout (s, 0 = off, else >= 8): no frame received for that long closes the socket (1006); with
 *    sendPingsAutomatically (default on) a ping goes out a margin (4/8/16 s) before. maxPayloadLength (default
 *    16 KiB): a larger message closes the socket (1006 for the server, abrupt for the client).
 *  - HTTP/1.1 keep-alive with a 10 s idle timeout; no Host header is required.
 * Not implemented (throws): SSL apps, server names, fragments, listen_unix, compression other than DISABLED.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocketServer, WebSocket as WsSocket } from 'ws';
import type * as U from '@trufflesuite/uws-js-unofficial';

type RecognizedString = U.RecognizedString;
type Handler = (res: U.HttpResponse, req: U.HttpRequest) => void | Promise<void>;

const EMPTY = new ArrayBuffer(0);
// the native builds' texts
const INVALID_REQ =
  'uWS.HttpRequest must not be accessed after await or route handler return. See documentation for uWS.HttpRequest and consult the user manual.';
const INVALID_RES =
  'uWS.HttpResponse must not be accessed after uWS.HttpResponse.onAborted callback, or after a successful response. See documentation for uWS.HttpResponse and consult the user manual.';
const INVALID_WS = 'Invalid access of closed uWS.WebSocket/SSLWebSocket.';
const NO_ANSWER = 'Returning from a request handler without responding or attaching an onAborted handler is forbidden!';

/** uWS send results */
const BACKPRESSURE = 0;
const SUCCESS = 1;
const DROPPED = 2;

function text(s: RecognizedString): string {
  if (typeof s === 'string') return s;
  if (s instanceof ArrayBuffer) return Buffer.from(s).toString();
  return Buffer.from(s.buffer, s.byteOffset, s.byteLength).toString();
}

function bytes(s: RecognizedString): string | Buffer {
  if (typeof s === 'string') return s;
  if (s instanceof ArrayBuffer) return Buffer.from(s);
  return Buffer.from(s.buffer, s.byteOffset, s.byteLength);
}

/** Hand `fn` a private copy of `b` as an ArrayBuffer and detach it afterwards, as uWS does with its own memory. */
function lend(b: Uint8Array, fn: (ab: ArrayBuffer) => void): void {
  if (b.byteLength === 0) {
    fn(new ArrayBuffer(0));
    return;
  }
  const ab = new ArrayBuffer(b.byteLength);
  new Uint8Array(ab).set(b);
  try {
    fn(ab);
  } finally {
    structuredClone(ab, { transfer: [ab] });
  }
}

function toArrayBuffer(s: string): ArrayBuffer {
  const b = Buffer.from(s);
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

// ------------------------------------------------------------------------------------------------ routing

/** segment kinds, in priority order */
const STATIC = 0;
const PARAM = 1;
const WILD = 2;

interface WsRoute {
  behavior: U.WebSocketBehavior<unknown>;
  wss: WebSocketServer;
  idleMs: number;
  marginMs: number;
  pings: boolean;
  maxBackpressure: number;
}

interface Route {
  /** lower case method, or '*' for any */
  method: string;
  segs: string[];
  kinds: number[];
  order: number;
  handler?: Handler;
  ws?: WsRoute;
}

function compareRoutes(a: Route, b: Route): number {
  const n = Math.max(a.kinds.length, b.kinds.length);
  for (let i = 0; i < n; i++) {
    const d = (a.kinds[i] ?? -1) - (b.kinds[i] ?? -1);
    if (d !== 0) return d;
  }
  return priority(a) - priority(b) || a.order - b.order;
}

/** uWS: a ws route first (it yields to the others unless the request is an upgrade), then a method, then `any` */
function priority(r: Route): number {
  return r.ws ? 0 : r.method === '*' ? 2 : 1;
}

/** Parameters of `path` (split on '/') under `r`, or undefined when it does not match. */
function matchRoute(r: Route, parts: string[]): string[] | undefined {
  const segs = r.segs;
  const kinds = r.kinds;
  let params: string[] | undefined;
  for (let i = 0; i < segs.length; i++) {
    const k = kinds[i]!;
    if (k === WILD) return parts.length > i ? (params ?? []) : undefined;
    if (i >= parts.length) return undefined;
    if (k === STATIC) {
      if (segs[i] !== parts[i]) return undefined;
    } else (params ??= []).push(parts[i]!);
  }
  return parts.length === segs.length ? (params ?? []) : undefined;
}

function splitUrl(url: string): { path: string; query: string | undefined } {
  const q = url.indexOf('?');
  return q < 0 ? { path: url, query: undefined } : { path: url.slice(0, q), query: url.slice(q + 1) };
}

// ------------------------------------------------------------------------------------------------ request

class CompatRequest {
  valid = true;
  yielded = false;
  params: string[] = [];
  constructor(
    private readonly node: IncomingMessage,
    private readonly path: string,
    private readonly query: string | undefined,
  ) {}

  private check(): void {
    if (!this.valid) throw new Error(INVALID_REQ);
  }
  getHeader(lowerCaseKey: RecognizedString): string {
    this.check();
    const key = text(lowerCaseKey);
    const raw = this.node.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) {
      const k = raw[i]!;
      if (k.length === key.length && k.toLowerCase() === key) return raw[i + 1]!;
    }
    return '';
  }
  getParameter(index: number): string {
    this.check();
    return this.params[index] as string;
  }
  getUrl(): string {
    this.check();
    return this.path;
  }
  getMethod(): string {
    this.check();
    return (this.node.method ?? 'GET').toLowerCase();
  }
  getCaseSensitiveMethod(): string {
    this.check();
    return this.node.method ?? 'GET';
  }
  getQuery(key?: string): string {
    this.check();
    const q = this.query;
    if (key === undefined || q === undefined) return q as string;
    for (const piece of q.split('&')) {
      const eq = piece.indexOf('=');
      if ((eq < 0 ? piece : piece.slice(0, eq)) !== key) continue;
      const v = eq < 0 ? '' : piece.slice(eq + 1);
      try {
        return decodeURIComponent(v);
      } catch {
        return v;
      }
    }
    return undefined as unknown as string;
  }
  forEach(cb: (key: string, value: string) => void): void {
    this.check();
    const raw = this.node.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) cb(raw[i]!.toLowerCase(), raw[i + 1]!);
  }
  setYield(y: boolean): this {
    this.check();
    this.yielded = y;
    return this;
  }
}

// ------------------------------------------------------------------------------------------------ response

/** An upgrade request's socket (its response, if any, is written raw: node:http no longer owns it). */
interface RawSide {
  socket: Socket;
  head: Buffer;
  route: Route | undefined;
}

class CompatResponse {
  private statusCode = 200;
  private statusText = 'OK';
  private statusSet = false;
  private readonly headers: string[] = [];
  private done = false;
  private aborted = false;
  private abortCb: (() => void) | undefined;
  private dataCb: ((chunk: ArrayBuffer, isLast: boolean) => void) | undefined;
  private bodyLeft: number;
  private dataHooked = false;
  private lastSent = false;
  private written = 0;
  /** the request handler has returned */
  handled = false;
  [key: string]: unknown;

  constructor(
    private readonly app: CompatApp,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse | undefined,
    private readonly raw: RawSide | undefined,
  ) {
    const cl = req.headers['content-length'];
    this.bodyLeft = req.headers['transfer-encoding'] !== undefined ? -1 : cl !== undefined ? Number(cl) || 0 : 0;
    if (res) res.on('close', () => this.gone());
    else raw!.socket.once('close', () => this.gone());
  }

  /** the connection closed; before our answer that is an abort */
  private gone(): void {
    if (this.done || this.aborted) return;
    this.aborted = true;
    this.abortCb?.();
  }
  private check(): void {
    if (this.done || this.aborted) throw new Error(INVALID_RES);
  }
  get answered(): boolean {
    return this.done || this.aborted;
  }
  get hasAbortHandler(): boolean {
    return this.abortCb !== undefined;
  }

  pause(): void {
    (this.res?.socket ?? this.raw?.socket)?.pause();
  }
  resume(): void {
    (this.res?.socket ?? this.raw?.socket)?.resume();
  }
  writeStatus(status: RecognizedString): this {
    this.check();
    if (this.statusSet || this.headers.length > 0) return this; // uWS: the status goes first, once
    const s = text(status);
    const sp = s.indexOf(' ');
    this.statusCode = Number(sp < 0 ? s : s.slice(0, sp)) || 200;
    this.statusText = sp < 0 ? '' : s.slice(sp + 1);
    this.statusSet = true;
    return this;
  }
  writeHeader(key: RecognizedString, value: RecognizedString): this {
    this.check();
    this.headers.push(text(key), text(value));
    return this;
  }
  private head(len: number | undefined, close: boolean): void {
    const res = this.res;
    if (res) {
      if (res.headersSent) return;
      if (close) res.shouldKeepAlive = false;
      res.sendDate = false; // written here, in uWS's order: user headers, Date, Content-Length
      const h = len === undefined ? [...this.headers, 'Date', httpDate()] : [...this.headers, 'Date', httpDate(), 'Content-Length', String(len)];
      res.writeHead(this.statusCode, this.statusText, h);
      return;
    }
    let s = `HTTP/1.1 ${this.statusCode} ${this.statusText}\r\n`;
    for (let i = 0; i < this.headers.length; i += 2) s += `${this.headers[i]}: ${this.headers[i + 1]}\r\n`;
    s += `Date: ${httpDate()}\r\nContent-Length: ${len ?? 0}\r\nConnection: close\r\n\r\n`;
    this.raw!.socket.write(s);
  }
  write(chunk: RecognizedString): boolean {
    this.check();
    if (!this.res) throw new Error('compat server: write() on an upgrade request is not supported; use end()');
    this.head(undefined, false);
    const b = bytes(chunk);
    this.written += Buffer.byteLength(b);
    return this.res.write(b);
  }
  end(body?: RecognizedString, closeConnection?: boolean): this {
    this.check();
    const b = body === undefined ? '' : bytes(body);
    this.done = true;
    if (this.res) {
      if (!this.res.headersSent) this.head(Buffer.byteLength(b), closeConnection === true);
      this.res.end(b);
    } else {
      this.head(Buffer.byteLength(b), true);
      this.raw!.socket.end(b);
    }
    return this;
  }
  endWithoutBody(reportedContentLength?: number, closeConnection?: boolean): this {
    this.check();
    this.done = true;
    if (this.res) {
      this.head(reportedContentLength ?? 0, closeConnection === true);
      this.res.end();
    } else {
      this.head(reportedContentLength ?? 0, true);
      this.raw!.socket.end();
    }
    return this;
  }
  tryEnd(fullBodyOrChunk: RecognizedString, totalSize: number): [boolean, boolean] {
    this.check();
    if (!this.res) throw new Error('compat server: tryEnd() on an upgrade request is not supported; use end()');
    this.head(totalSize, false);
    const b = bytes(fullBodyOrChunk);
    this.written += Buffer.byteLength(b);
    if (this.written >= totalSize) {
      this.done = true;
      this.res.end(b);
      return [true, true];
    }
    return [this.res.write(b), false];
  }
  close(): this {
    this.check();
    (this.res?.socket ?? this.raw!.socket).destroy();
    this.gone();
    return this;
  }
  getWriteOffset(): number {
    this.check();
    return this.written;
  }
  onWritable(handler: (offset: number) => boolean): this {
    this.res?.on('drain', () => handler(this.written));
    return this;
  }
  onAborted(handler: () => void): this {
    this.abortCb = handler;
    return this;
  }
  onData(handler: (chunk: ArrayBuffer, isLast: boolean) => void): this {
    this.dataCb = handler;
    if (this.dataHooked) return this;
    this.dataHooked = true;
    if (this.bodyLeft === 0) {
      // no body: one empty last chunk, once the handler has returned (as uWS parses on after it)
      if (this.handled) this.deliverEmptyLast();
      return this;
    }
    if (!this.res) return this;
    this.req.on('data', (chunk: Buffer) => {
      if (this.bodyLeft > 0) this.bodyLeft = Math.max(0, this.bodyLeft - chunk.byteLength);
      const last = this.bodyLeft === 0;
      if (last) this.lastSent = true;
      if (this.aborted) return;
      const cb = this.dataCb;
      if (cb) lend(chunk, (ab) => cb(ab, last));
    });
    this.req.on('end', () => {
      if (!this.lastSent && !this.aborted) this.deliverEmptyLast();
    });
    return this;
  }
  /** called by the app after the handler returned */
  afterHandler(): void {
    this.handled = true;
    if (this.dataHooked && this.bodyLeft === 0 && !this.lastSent) this.deliverEmptyLast();
  }
  private deliverEmptyLast(): void {
    if (this.lastSent) return;
    this.lastSent = true;
    this.dataCb?.(new ArrayBuffer(0), true);
  }
  private remote(): string {
    return (this.res?.socket ?? this.raw?.socket)?.remoteAddress ?? this.req.socket.remoteAddress ?? '';
  }
  getRemoteAddress(): ArrayBuffer {
    return ipBytes(this.remote());
  }
  getRemoteAddressAsText(): ArrayBuffer {
    return toArrayBuffer(this.remote());
  }
  getProxiedRemoteAddress(): ArrayBuffer {
    return EMPTY;
  }
  getProxiedRemoteAddressAsText(): ArrayBuffer {
    return EMPTY;
  }
  cork(cb: () => void): this {
    const sock = this.res?.socket ?? this.raw?.socket;
    if (!sock || sock.destroyed) {
      cb();
      return this;
    }
    sock.cork();
    try {
      cb();
    } finally {
      sock.uncork();
    }
    return this;
  }
  upgrade<T>(userData: T, _key: RecognizedString, protocol: RecognizedString, _ext: RecognizedString, context: U.us_socket_context_t): void {
    this.check();
    const raw = this.raw;
    const route = context as unknown as Route;
    if (!raw || !route.ws) throw new Error('compat server: upgrade() outside a ws route');
    this.done = true;
    const proto = text(protocol);
    (this.req as IncomingMessage & { uwsProtocol?: string }).uwsProtocol = proto;
    route.ws.wss.handleUpgrade(this.req, raw.socket, raw.head, (sock) => this.app.opened(route.ws!, sock, userData, raw.socket.remoteAddress ?? ''));
  }
}

let dateSec = -1;
let dateText = '';
/** the Date header's value, formatted once a second */
function httpDate(): string {
  const now = Date.now();
  const sec = Math.floor(now / 1000);
  if (sec !== dateSec) {
    dateSec = sec;
    dateText = new Date(now).toUTCString();
  }
  return dateText;
}

function ipBytes(ip: string): ArrayBuffer {
  const v4 = /^(?:::ffff:)?(\d+)\.(\d+)\.(\d+)\.(\d+)$/i.exec(ip);
  if (v4) return new Uint8Array([Number(v4[1]), Number(v4[2]), Number(v4[3]), Number(v4[4])]).buffer;
  return toArrayBuffer(ip);
}

// ------------------------------------------------------------------------------------------------ websocket

const SEND_TEXT = { binary: false, compress: false, fin: true } as const;
const SEND_BINARY = { binary: true, compress: false, fin: true } as const;

class CompatWebSocket<T> {
  closed = false;
  readonly topics = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private pinged = false;

  constructor(
    private readonly app: CompatApp,
    private readonly route: WsRoute,
    private readonly sock: WsSocket,
    private readonly userData: T,
    private readonly remote: string,
  ) {
    const b = route.behavior as U.WebSocketBehavior<T>;
    sock.on('message', (data: Buffer, isBinary: boolean) => {
      this.received();
      const m = b.message;
      if (m && !this.closed) lend(data, (ab) => void m(this, ab, isBinary));
    });
    sock.on('ping', (data: Buffer) => {
      this.received();
      if (b.ping && !this.closed) lend(data, (ab) => b.ping!(this, ab));
    });
    sock.on('pong', (data: Buffer) => {
      this.received();
      if (b.pong && !this.closed) lend(data, (ab) => b.pong!(this, ab));
    });
    // A protocol error (oversized message, invalid UTF-8 or frame): uWS drops the connection without a close frame
    // (the client sees 1006) and reports 1006 with the reason to the close handler. ws would send a close frame
    // (1009, 1007, 1002) first, so drop the socket before ws's own handler runs.
    const receiver = (sock as unknown as { _receiver?: NodeJS.EventEmitter })._receiver;
    receiver?.prependListener('error', (err: Error & { code?: string }) => {
      this.errorReason = err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? 'Received too big message' : err.message;
      (sock as unknown as { _socket?: Socket })._socket?.destroy();
    });
    sock.on('error', () => undefined); // reported through 'close'
    sock.on('close', (code: number, reason: Buffer) => {
      if (this.errorReason !== undefined) this.finish(1006, Buffer.from(this.errorReason));
      else this.finish(code, reason);
    });
    if (b.drain) {
      const drain = b.drain;
      (sock as unknown as { _socket: Socket })._socket.on('drain', () => {
        if (!this.closed) drain(this);
      });
    }
    if (route.idleMs > 0) {
      this.timer = setTimeout(() => this.idle(), route.idleMs - (route.pings ? route.marginMs : 0));
      this.timer.unref();
    }
  }
  private errorReason: string | undefined;

  private received(): void {
    if (this.timer) {
      this.pinged = false;
      this.timer.refresh();
    }
  }
  private idle(): void {
    if (this.closed) return;
    if (this.route.pings && !this.pinged) {
      this.pinged = true;
      this.sock.ping();
      this.timer = setTimeout(() => this.idle(), this.route.marginMs);
      this.timer.unref();
      return;
    }
    this.sock.terminate();
    this.finish(1006, Buffer.from('WebSocket timed out from inactivity'));
  }

  /** leave every topic, then tell the behaviour (once) */
  private finish(code: number, reason: Buffer | ArrayBuffer | undefined): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    for (const t of this.topics) this.app.leave(t, this);
    this.topics.clear();
    const c = this.route.behavior.close;
    if (!c) return;
    if (reason instanceof ArrayBuffer) c(this as CompatWebSocket<unknown>, code, reason);
    else lend(reason ?? Buffer.alloc(0), (ab) => c(this as CompatWebSocket<unknown>, code, ab));
  }
  private check(): void {
    if (this.closed) throw new Error(INVALID_WS);
  }

  /** send as uWS: 2 when the buffer is already above maxBackpressure, else 1 (flushed) or 0 (buffered) */
  sendData(data: string | Buffer, isBinary: boolean): number {
    const sock = this.sock;
    if (sock.readyState !== WsSocket.OPEN) return DROPPED;
    const max = this.route.maxBackpressure;
    if (max > 0 && sock.bufferedAmount > max) return DROPPED;
    sock.send(data, isBinary ? SEND_BINARY : SEND_TEXT);
    return sock.bufferedAmount > 0 ? BACKPRESSURE : SUCCESS;
  }
  /** publish: like sendData, but the socket stays corked until the app's flush (one write per socket per tick) */
  sendBatched(data: string | Buffer, isBinary: boolean): void {
    const s = (this.sock as unknown as { _socket?: Socket })._socket;
    if (s && !s.destroyed && s.writableCorked === 0) {
      s.cork();
      this.app.uncorkSoon(s);
    }
    this.sendData(data, isBinary);
  }
  send(message: RecognizedString, isBinary = false, _compress = false): number {
    this.check();
    return this.sendData(bytes(message), isBinary);
  }
  sendFirstFragment(): boolean {
    throw new Error('compat server: fragments are not supported');
  }
  sendFragment(): boolean {
    throw new Error('compat server: fragments are not supported');
  }
  sendLastFragment(): boolean {
    throw new Error('compat server: fragments are not supported');
  }
  getBufferedAmount(): number {
    this.check();
    return this.sock.bufferedAmount;
  }
  end(code?: number, shortMessage?: RecognizedString): void {
    this.check();
    const msg = shortMessage === undefined ? undefined : bytes(shortMessage);
    try {
      this.sock.close(code, msg);
    } catch {
      this.sock.terminate(); // a code ws refuses to send (1005, 1006, ...): drop the connection
    }
    this.finish(code ?? 1005, shortMessage === undefined ? undefined : Buffer.from(msg!));
  }
  close(): void {
    this.check();
    this.sock.terminate();
    this.finish(1006, undefined);
  }
  ping(message?: RecognizedString): number {
    this.check();
    if (this.sock.readyState !== WsSocket.OPEN) return DROPPED;
    this.sock.ping(message === undefined ? undefined : bytes(message));
    return this.sock.bufferedAmount > 0 ? BACKPRESSURE : SUCCESS;
  }
  subscribe(topic: RecognizedString): boolean {
    this.check();
    const t = text(topic);
    if (this.topics.has(t)) return true;
    this.topics.add(t);
    this.app.join(t, this);
    return true;
  }
  unsubscribe(topic: RecognizedString): boolean {
    this.check();
    const t = text(topic);
    if (!this.topics.delete(t)) return false;
    this.app.leave(t, this);
    return true;
  }
  isSubscribed(topic: RecognizedString): boolean {
    this.check();
    return this.topics.has(text(topic));
  }
  getTopics(): string[] {
    this.check();
    return [...this.topics];
  }
  publish(topic: RecognizedString, message: RecognizedString, isBinary = false, _compress = false): boolean {
    this.check();
    return this.app.publishFrom(this, topic, message, isBinary);
  }
  cork(cb: () => void): this {
    this.check();
    const s = (this.sock as unknown as { _socket?: Socket })._socket;
    if (!s || s.destroyed) {
      cb();
      return this;
    }
    s.cork();
    try {
      cb();
    } finally {
      s.uncork();
    }
    return this;
  }
  getRemoteAddress(): ArrayBuffer {
    this.check();
    return ipBytes(this.remote);
  }
  getRemoteAddressAsText(): ArrayBuffer {
    this.check();
    return toArrayBuffer(this.remote);
  }
  /** valid after close too (uWS keeps the user data until the close handler's caller is done) */
  getUserData(): T {
    return this.userData;
  }
}

// ------------------------------------------------------------------------------------------------ app

class CompatListenSocket {
  constructor(
    readonly server: Server,
    readonly port: number,
  ) {}
}

/** A listen socket of the compat server (rather than a native one). */
export function isCompatListenSocket(s: unknown): boolean {
  return s instanceof CompatListenSocket;
}

const HTTP_IDLE_MS = 10_000; // uWS's HTTP idle timeout

function wsRoute(b: U.WebSocketBehavior<unknown>): WsRoute {
  const idle = b.idleTimeout ?? 120;
  if (idle !== 0 && idle < 8) throw new Error('idleTimeout must be either 0 or greater than 8!');
  if (b.compression !== undefined && b.compression !== DISABLED) throw new Error('compat server: only compression DISABLED is supported');
  // uWS: the ping goes out `margin` before the timeout, margin 4, 8 or 16 s by the timeout's size
  let margin = 4;
  while (idle - margin * 2 >= margin * 2 && margin < 16) margin <<= 1;
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    clientTracking: false,
    maxPayload: b.maxPayloadLength ?? 16 * 1024,
    handleProtocols: (_set, req) => (req as IncomingMessage & { uwsProtocol?: string }).uwsProtocol || false,
  });
  return {
    behavior: b,
    wss,
    idleMs: idle * 1000,
    marginMs: margin * 1000,
    pings: b.sendPingsAutomatically ?? true,
    maxBackpressure: b.maxBackpressure ?? 64 * 1024,
  };
}

export class CompatApp {
  private readonly routes: Route[] = [];
  private readonly topics = new Map<string, Set<CompatWebSocket<unknown>>>();

  private add(method: string, pattern: RecognizedString, handler: Handler | undefined, ws: WsRoute | undefined): this {
    const segs = text(pattern).split('/');
    const kinds = segs.map((s) => (s === '*' ? WILD : s.startsWith(':') ? PARAM : STATIC));
    const r: Route = { method, segs, kinds, order: this.routes.length };
    if (handler) r.handler = handler;
    if (ws) r.ws = ws;
    this.routes.push(r);
    this.routes.sort(compareRoutes);
    return this;
  }
  get(p: RecognizedString, h: Handler): this {
    return this.add('get', p, h, undefined);
  }
  post(p: RecognizedString, h: Handler): this {
    return this.add('post', p, h, undefined);
  }
  options(p: RecognizedString, h: Handler): this {
    return this.add('options', p, h, undefined);
  }
  del(p: RecognizedString, h: Handler): this {
    return this.add('delete', p, h, undefined);
  }
  patch(p: RecognizedString, h: Handler): this {
    return this.add('patch', p, h, undefined);
  }
  put(p: RecognizedString, h: Handler): this {
    return this.add('put', p, h, undefined);
  }
  head(p: RecognizedString, h: Handler): this {
    return this.add('head', p, h, undefined);
  }
  connect(p: RecognizedString, h: Handler): this {
    return this.add('connect', p, h, undefined);
  }
  trace(p: RecognizedString, h: Handler): this {
    return this.add('trace', p, h, undefined);
  }
  any(p: RecognizedString, h: Handler): this {
    return this.add('*', p, h, undefined);
  }
  ws<T>(p: RecognizedString, behavior: U.WebSocketBehavior<T>): this {
    return this.add('get', p, undefined, wsRoute(behavior as U.WebSocketBehavior<unknown>));
  }

  listen(...args: unknown[]): this {
    const cb = args[args.length - 1] as (s: U.us_listen_socket | false) => void;
    const host = typeof args[0] === 'string' ? args[0] : undefined;
    const port = (typeof args[0] === 'number' ? args[0] : args[1]) as number;
    const server = createServer({ requireHostHeader: false, noDelay: true }, (req, res) => this.onRequest(req, res));
    server.keepAliveTimeout = HTTP_IDLE_MS;
    server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => this.onUpgrade(req, socket, head));
    const fail = (): void => cb(false);
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      const addr = server.address();
      const token = new CompatListenSocket(server, typeof addr === 'object' && addr ? addr.port : port);
      cb(token as unknown as U.us_listen_socket);
    });
    return this;
  }
  listen_unix(): this {
    throw new Error('compat server: listen_unix is not supported');
  }

  publish(topic: RecognizedString, message: RecognizedString, isBinary = false, _compress = false): boolean {
    return this.publishFrom(undefined, topic, message, isBinary);
  }
  numSubscribers(topic: RecognizedString): number {
    return this.topics.get(text(topic))?.size ?? 0;
  }
  addServerName(): this {
    throw new Error('compat server: server names (SSL) are not supported');
  }
  domain(): this {
    throw new Error('compat server: server names (SSL) are not supported');
  }
  removeServerName(): this {
    throw new Error('compat server: server names (SSL) are not supported');
  }
  missingServerName(): this {
    throw new Error('compat server: server names (SSL) are not supported');
  }

  /** @internal */
  publishFrom(from: CompatWebSocket<unknown> | undefined, topic: RecognizedString, message: RecognizedString, isBinary: boolean): boolean {
    const subs = this.topics.get(text(topic));
    if (!subs || subs.size === 0) return true;
    const data = typeof message === 'string' ? Buffer.from(message) : bytes(message); // encoded once for all
    for (const ws of subs) if (ws !== from) ws.sendBatched(data, isBinary);
    return true;
  }
  private readonly corked: Socket[] = [];
  private flushQueued = false;
  /** @internal uncork `s` once the current callback is done: uWS too drains published messages in batches */
  uncorkSoon(s: Socket): void {
    this.corked.push(s);
    if (this.flushQueued) return;
    this.flushQueued = true;
    process.nextTick(() => {
      this.flushQueued = false;
      for (const c of this.corked) c.uncork();
      this.corked.length = 0;
    });
  }
  /** @internal */
  join(topic: string, ws: CompatWebSocket<unknown>): void {
    let s = this.topics.get(topic);
    if (!s) this.topics.set(topic, (s = new Set()));
    s.add(ws);
  }
  /** @internal */
  leave(topic: string, ws: CompatWebSocket<unknown>): void {
    const s = this.topics.get(topic);
    if (!s) return;
    s.delete(ws);
    if (s.size === 0) this.topics.delete(topic);
  }
  /** @internal an upgrade completed */
  opened(route: WsRoute, sock: WsSocket, userData: unknown, remote: string): void {
    const ws = new CompatWebSocket(this, route, sock, userData, remote);
    const open = route.behavior.open;
    if (open) void open(ws);
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const { path, query } = splitUrl(req.url ?? '/');
    const method = (req.method ?? 'GET').toLowerCase();
    const parts = path.split('/');
    const r = new CompatResponse(this, req, res, undefined);
    const q = new CompatRequest(req, path, query);
    let taken = false;
    for (const route of this.routes) {
      if (route.ws || (route.method !== method && route.method !== '*')) continue;
      const params = matchRoute(route, parts);
      if (!params) continue;
      q.params = params;
      q.yielded = false;
      void route.handler!(r as unknown as U.HttpResponse, q as unknown as U.HttpRequest);
      if (!q.yielded) {
        taken = true;
        break;
      }
    }
    q.valid = false;
    if (!taken) {
      res.socket?.destroy();
      return;
    }
    r.afterHandler();
    if (!r.answered && !r.hasAbortHandler) throw new Error(NO_ANSWER);
  }

  private onUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const { path, query } = splitUrl(req.url ?? '/');
    const method = (req.method ?? 'GET').toLowerCase();
    const parts = path.split('/');
    const q = new CompatRequest(req, path, query);
    let taken: CompatResponse | undefined;
    socket.on('error', () => undefined);
    for (const route of this.routes) {
      if (route.method !== method && route.method !== '*') continue;
      const params = matchRoute(route, parts);
      if (!params) continue;
      q.params = params;
      q.yielded = false;
      const r = new CompatResponse(this, req, undefined, { socket, head, route });
      if (route.ws) {
        const up = route.ws.behavior.upgrade;
        if (up) void up(r as unknown as U.HttpResponse, q as unknown as U.HttpRequest, route as unknown as U.us_socket_context_t);
        else r.upgrade({}, '', q.getHeader('sec-websocket-protocol'), '', route as unknown as U.us_socket_context_t);
      } else void route.handler!(r as unknown as U.HttpResponse, q as unknown as U.HttpRequest);
      if (!q.yielded) {
        taken = r;
        break;
      }
    }
    q.valid = false;
    if (!taken) {
      socket.destroy();
      return;
    }
    taken.afterHandler();
    if (!taken.answered && !taken.hasAbortHandler) throw new Error(NO_ANSWER);
  }
}

// ------------------------------------------------------------------------------------------------ module

export const DISABLED = 0;
export const SHARED_COMPRESSOR = 1;
export const SHARED_DECOMPRESSOR = 1;

export function App(): CompatApp {
  return new CompatApp();
}

/** Stop accepting connections. Open WebSockets and requests in flight stay; node:http also drops idle keep-alive
 * connections here (uWS keeps them until their idle timeout), which a client sees as a closed idle connection. */
export function us_listen_socket_close(s: U.us_listen_socket): void {
  (s as unknown as CompatListenSocket).server.close();
}

export function us_socket_local_port(s: U.us_socket): number {
  return (s as unknown as CompatListenSocket).port;
}

/** The compat server as the uWS module type (only the subset above is real). */
export const uwsCompat = {
  App,
  us_listen_socket_close,
  us_socket_local_port,
  DISABLED,
  SHARED_COMPRESSOR,
  SHARED_DECOMPRESSOR,
} as unknown as typeof U;
