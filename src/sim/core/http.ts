/**
 * uWebSockets.js HTTP plumbing (native uWS or the compat server, see src/util/uws.ts) shared by the simulator's venue layers (and its control endpoint).
 *
 * uWS rules this module encodes, so venue code does not have to remember them:
 *  - An HttpRequest is only valid synchronously inside the route handler: copy what you need first
 *    (`requestInfo`) before any await or timer.
 *  - An HttpResponse used after the handler returns (async answer, body read, delayed answer) MUST have an
 *    onAborted handler, and must not be touched after the client went away: `guardAbort` / `isOpen`.
 *  - Writes outside the handler's synchronous part must be corked (`send` always corks).
 *  - A chunk given to onData is neutered after the callback: copy it (`readBody` does).
 *
 * uWS keeps only ONE onAborted handler per response; `guardAbort` installs it once and fans out to callbacks.
 * Never call `res.onAborted` yourself on a response these helpers touch: it would replace theirs, and a later
 * write to an aborted response crashes the process. Use `guardAbort(res, cb)`.
 */
import { closeListenSocket, listenPort, type HttpRequest, type HttpResponse, type ListenSocket, type TemplatedApp } from '../../util/uws.js';

/** Extra state we hang on a uWS response object (uWS allows user properties on it). */
interface ResState {
  __simAborted?: boolean;
  __simDone?: boolean;
  __simAbortCbs?: Array<() => void>;
}

/** Attach the (single) onAborted handler to `res` if not yet done; optional callback runs on abort. Idempotent. */
export function guardAbort(res: HttpResponse, onAbort?: () => void): void {
  const s = res as unknown as ResState;
  if (onAbort) (s.__simAbortCbs ??= []).push(onAbort);
  if (s.__simAborted !== undefined) return;
  s.__simAborted = false;
  res.onAborted(() => {
    s.__simAborted = true;
    const cbs = s.__simAbortCbs;
    if (cbs) for (const cb of cbs) cb();
  });
}

/** True while the response can still be written (not aborted by the client and not yet ended by us). */
export function isOpen(res: HttpResponse): boolean {
  const s = res as unknown as ResState;
  return s.__simAborted !== true && s.__simDone !== true;
}

/** What a handler usually needs from a request, copied out (valid after the handler returns). */
export interface RequestInfo {
  method: string; // upper case: GET, POST, DELETE, PUT
  path: string; // URL path without the query: /api/v3/order
  /** raw query string exactly as sent (without '?'); Binance signs this exact text */
  rawQuery: string;
  /** header names lower case */
  headers: Map<string, string>;
}

/** Copy method, path, raw query and all headers out of a uWS request (call synchronously in the handler). */
export function requestInfo(req: HttpRequest): RequestInfo {
  const headers = new Map<string, string>();
  req.forEach((k, v) => {
    headers.set(k, v);
  });
  return {
    method: req.getCaseSensitiveMethod().toUpperCase(),
    path: req.getUrl(),
    rawQuery: req.getQuery() ?? '',
    headers,
  };
}

/** A parsed `application/x-www-form-urlencoded` string that keeps its raw text (for signature checks). */
export interface ParsedQuery {
  raw: string;
  /** decoded name -> decoded value; on a repeated name the LAST value wins (`all` keeps every pair) */
  params: Map<string, string>;
  /** every pair in order, decoded */
  all: Array<[string, string]>;
  /** true when some component had a broken %-escape (the value is then kept raw) */
  malformed: boolean;
}

function decodeComponent(s: string, q: { malformed: boolean }): string {
  if (s.indexOf('%') < 0 && s.indexOf('+') < 0) return s;
  const t = s.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(t);
  } catch {
    q.malformed = true;
    return t;
  }
}

/** Parse a query string or form body ("a=1&b=x%20y"). A leading '?' is ignored. Empty pieces are skipped. */
export function parseQuery(raw: string): ParsedQuery {
  const text = raw.charCodeAt(0) === 63 /* ? */ ? raw.slice(1) : raw;
  const out: ParsedQuery = { raw: text, params: new Map(), all: [], malformed: false };
  if (text.length === 0) return out;
  for (const piece of text.split('&')) {
    if (piece.length === 0) continue;
    const eq = piece.indexOf('=');
    const k = decodeComponent(eq < 0 ? piece : piece.slice(0, eq), out);
    const v = eq < 0 ? '' : decodeComponent(piece.slice(eq + 1), out);
    out.params.set(k, v);
    out.all.push([k, v]);
  }
  return out;
}

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`request body exceeds ${limit} bytes`);
  }
}
export class RequestAbortedError extends Error {
  constructor() {
    super('client aborted the request');
  }
}

/**
 * Read the whole request body. Installs the abort guard; rejects with RequestAbortedError if the client goes away
 * and with BodyTooLargeError beyond `maxBytes` (default 1 MiB; the response is then still writable: answer 413).
 * Call synchronously in the route handler (uWS delivers data right after it).
 */
export function readBody(res: HttpResponse, maxBytes = 1 << 20, onLastChunk?: () => void): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    let settled = false;
    guardAbort(res, () => {
      if (!settled) {
        settled = true;
        reject(new RequestAbortedError());
      }
    });
    const chunks: Buffer[] = [];
    let size = 0;
    res.onData((chunk, isLast) => {
      if (settled) return;
      size += chunk.byteLength;
      if (size > maxBytes) {
        settled = true;
        reject(new BodyTooLargeError(maxBytes));
        return;
      }
      // the ArrayBuffer is neutered after this callback: copy
      if (chunk.byteLength > 0) chunks.push(Buffer.from(new Uint8Array(chunk).slice()));
      if (isLast) {
        onLastChunk?.();
        settled = true;
        resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
      }
    });
  });
}

const STATUS_TEXT: Record<number, string> = {
  200: '200 OK',
  201: '201 Created',
  204: '204 No Content',
  400: '400 Bad Request',
  401: '401 Unauthorized',
  403: '403 Forbidden',
  404: '404 Not Found',
  405: '405 Method Not Allowed',
  408: '408 Request Timeout',
  409: '409 Conflict',
  413: '413 Payload Too Large',
  415: '415 Unsupported Media Type',
  418: "418 I'm a teapot",
  429: '429 Too Many Requests',
  500: '500 Internal Server Error',
  502: '502 Bad Gateway',
  503: '503 Service Unavailable',
  504: '504 Gateway Timeout',
};

/** "429 Too Many Requests" for 429; "599 Unknown" style for codes not in the table. */
export function statusLine(status: number): string {
  return STATUS_TEXT[status] ?? `${status} Status`;
}

export type Headers = Record<string, string> | ReadonlyArray<readonly [string, string]>;

export const JSON_CT = 'application/json;charset=UTF-8';

/**
 * Write status, headers and body in one corked batch and end the response. Content-Type defaults to JSON unless a
 * `content-type` header is given. Returns false (and writes nothing) if the response was aborted or already ended.
 */
export function send(res: HttpResponse, status: number, body: string | Uint8Array, headers?: Headers): boolean {
  if (!isOpen(res)) return false;
  (res as unknown as ResState).__simDone = true;
  res.cork(() => {
    res.writeStatus(statusLine(status));
    let hasCt = false;
    if (headers) {
      if (Array.isArray(headers)) {
        for (const [k, v] of headers as ReadonlyArray<readonly [string, string]>) {
          if (!hasCt && k.toLowerCase() === 'content-type') hasCt = true;
          res.writeHeader(k, v);
        }
      } else {
        for (const k in headers) {
          if (!hasCt && k.toLowerCase() === 'content-type') hasCt = true;
          res.writeHeader(k, (headers as Record<string, string>)[k]!);
        }
      }
    }
    if (!hasCt) res.writeHeader('Content-Type', JSON_CT);
    res.end(body);
  });
  return true;
}

/** `send` with a JSON-serialised value. */
export function sendJson(res: HttpResponse, status: number, value: unknown, headers?: Headers): boolean {
  return send(res, status, JSON.stringify(value), headers);
}

/**
 * Answer after `delayMs` (the `latencyMs` fault); immediately when delayMs <= 0. Safe if the client aborts in the
 * meantime (nothing is written). The abort guard is installed before the delay, as uWS requires.
 */
export function sendAfter(res: HttpResponse, delayMs: number, status: number, body: string | Uint8Array, headers?: Headers): void {
  if (!(delayMs > 0)) {
    send(res, status, body, headers);
    return;
  }
  guardAbort(res);
  setTimeout(() => send(res, status, body, headers), delayMs);
}

/** Run `fn` after `delayMs` (or now), only if `res` is still open; for answers computed at the end of a delay. */
export function afterDelay(res: HttpResponse, delayMs: number, fn: () => void): void {
  if (!(delayMs > 0)) {
    fn();
    return;
  }
  guardAbort(res);
  setTimeout(() => {
    if (isOpen(res)) fn();
  }, delayMs);
}

export interface Listening {
  socket: ListenSocket;
  host: string;
  /** the real port (the OS's choice when 0 was asked) */
  port: number;
}

/** Listen on host:port (port 0 = OS-chosen). Rejects with a clear error if the bind fails. */
export function listen(app: TemplatedApp, host: string, port = 0): Promise<Listening> {
  return new Promise((resolve, reject) => {
    app.listen(host, port, (socket) => {
      if (!socket) {
        reject(new Error(`cannot listen on ${host}:${port} (address in use or not available)`));
        return;
      }
      resolve({ socket, host, port: listenPort(socket) });
    });
  });
}

const closedSockets = new WeakSet<object>();

/** Stop accepting connections (open connections are the caller's to close). Safe to call twice. */
export function closeListen(l: Listening | ListenSocket | undefined): void {
  if (!l) return;
  const s = (l as Listening).socket ?? (l as ListenSocket);
  if (closedSockets.has(s)) return;
  closedSockets.add(s);
  closeListenSocket(s);
}

/** "http://127.0.0.1:port" (IPv6 hosts bracketed). */
export function baseUrl(scheme: 'http' | 'ws', host: string, port: number): string {
  const h = host.includes(':') ? `[${host}]` : host;
  return `${scheme}://${h}:${port}`;
}
