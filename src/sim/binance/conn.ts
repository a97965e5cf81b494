/** WebSocket connection bookkeeping shared by the market streams, the private streams and the WS API. */
import type { HttpRequest, HttpResponse, WebSocket, WebSocketBehavior } from '../../util/uws.js';
import type { ParsedQuery } from '../core/http.js';
import { parseQuery } from '../core/http.js';

export type ConnKind = 'market' | 'private' | 'wsapi';

export interface ConnData {
  kind: ConnKind;
  /** market streams: '' (spot), 'public' | 'market' | 'legacy' (USD-M) */
  route: string;
  /** combined-stream wrapper `{"stream","data"}` */
  combined: boolean;
  path: string;
  query: ParsedQuery;
  ip: string;
  /** market: subscribed stream names */
  streams: Set<string>;
  lastPongMs: number;
  openedMs: number;
  closed: boolean;
  /** private (USD-M): listenKeys of this connection and the event filter per key (undefined = all) */
  keys?: Map<string, Set<string> | undefined>;
  /** WS API session */
  session?: WsApiSession;
}

export interface WsApiSession {
  /** API key authenticated by session.logon */
  logonKey: string | undefined;
  logonAt: number;
  /** Spot user-data subscriptions: id -> account id */
  subs: Map<number, string>;
  nextSubId: number;
  returnRateLimits: boolean;
}

export type BnSocket = WebSocket<ConnData>;

/** Registry of live sockets by kind (closeConnections fault, ping timer, shutdown). */
export class ConnSet {
  readonly all = new Set<BnSocket>();
  add(ws: BnSocket): void {
    this.all.add(ws);
  }
  delete(ws: BnSocket): void {
    this.all.delete(ws);
  }
  closeKind(which: ConnKind | 'all'): void {
    for (const ws of [...this.all]) {
      const d = ws.getUserData();
      if (which === 'all' || d.kind === which) {
        d.closed = true;
        try {
          ws.close();
        } catch {
          /* already gone */
        }
      }
    }
  }
}

/** Standard uWS upgrade: copy what we need from the request, then upgrade with `data`. */
export type UpgradeContext = Parameters<NonNullable<WebSocketBehavior<ConnData>['upgrade']>>[2];

export function upgradeWith(
  res: HttpResponse,
  req: HttpRequest,
  context: UpgradeContext,
  make: (path: string, query: ParsedQuery, ip: string) => ConnData | undefined,
): void {
  const path = req.getUrl();
  const query = parseQuery(req.getQuery() ?? '');
  const key = req.getHeader('sec-websocket-key');
  const proto = req.getHeader('sec-websocket-protocol');
  const ext = req.getHeader('sec-websocket-extensions');
  const ip = Buffer.from(res.getRemoteAddressAsText()).toString();
  const data = make(path, query, ip);
  if (!data) {
    res.writeStatus('400 Bad Request').end();
    return;
  }
  res.upgrade(data, key, proto, ext, context);
}

export function newConnData(kind: ConnKind, route: string, combined: boolean, path: string, query: ParsedQuery, ip: string): ConnData {
  return { kind, route, combined, path, query, ip, streams: new Set(), lastPongMs: Date.now(), openedMs: Date.now(), closed: false };
}

/** Send text if the socket is still open; never throws. */
export function wsSend(ws: BnSocket, text: string): void {
  const d = ws.getUserData();
  if (d.closed) return;
  try {
    ws.send(text, false, false);
  } catch {
    d.closed = true;
  }
}
