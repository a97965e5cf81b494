/** WebSocket connection state shared by the public, private and trade sockets of the Bybit venue. */
import type { WebSocket, WebSocketBehavior } from '../../util/uws.js';
import type { Category } from './common.js';

export type WsKind = 'public' | 'private' | 'trade';

export interface ConnData {
  kind: WsKind;
  category: Category | undefined;
  connId: string;
  /** subscribed topic names (public: topic; private: topic) */
  topics: Set<string>;
  apiKey: string | undefined;
  reqIds: Set<string> | undefined;
  closed: boolean;
  /** `?max_active_time=` of private/trade sockets: close after this long without a message from the client (0 = off) */
  maxIdleMs: number;
  lastRecvMs: number;
  /** when the socket was opened (Date.now(); the connection lifetime counts from here) */
  openedMs: number;
}

export type Ws = WebSocket<ConnData>;

export type UpgradeContext = Parameters<NonNullable<WebSocketBehavior<ConnData>['upgrade']>>[2];

/** send a text frame unless the socket has closed */
export function sendWs(ws: Ws, text: string): void {
  if (ws.getUserData().closed) return;
  ws.send(text, false, false);
}

/** `?max_active_time=`: "30s".."600s" or "1m".."10m" (Bybit's range, lower bound `minSec`) in ms; anything else: 0 (off) */
export function parseMaxActiveTime(text: string, minSec: number): number {
  const m = /^(\d+)(s|m)$/.exec(text);
  if (!m) return 0;
  const sec = Number(m[1]) * (m[2] === 'm' ? 60 : 1);
  if (sec < minSec || sec > 600) return 0;
  return sec * 1000;
}
