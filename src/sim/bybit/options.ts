/**
 * What `createBybitVenue` takes and returns: the venue options (push intervals, rate limits, idle timeouts, DCP) and
 * the handle with the test/control hooks beyond `SimVenueHandle`.
 */
import type { TemplatedApp } from '../../util/uws.js';
import type { SimVenueHandle } from '../core/types.js';
import type { Category } from './common.js';
import type { Depth } from './feeds.js';

export interface BybitRateLimits {
  /** per UID per endpoint per window (default window 1000 ms, as Bybit) */
  windowMs: number;
  create: Record<Category, number>;
  cancel: Record<Category, number>;
  cancelAll: Record<Category, number>;
  amend: Record<Category, number>;
  query: number;
  /** POST /v5/order/disconnected-cancel-all (Bybit: 5/s) */
  setDcp: number;
  /** per IP across all REST endpoints per 5 s; over it answers HTTP 403 */
  ipPer5s: number;
}

export const DEFAULT_RATE_LIMITS: BybitRateLimits = {
  windowMs: 1000,
  create: { linear: 10, spot: 20 },
  cancel: { linear: 10, spot: 20 },
  cancelAll: { linear: 10, spot: 20 },
  amend: { linear: 10, spot: 10 },
  query: 50,
  setDcp: 5,
  ipPer5s: 600,
};

export interface BybitVenueOptions {
  host: string;
  port?: number;
  app?: TemplatedApp;
  /** push interval per depth in ms; default Bybit's (1:10, 50:20, 200:100, 1000:200) scaled by ctx.depthIntervalMs/100 */
  intervalsMs?: Partial<Record<Depth, number>>;
  rateLimits?: Partial<BybitRateLimits>;
  /** idle timeout of WS connections without any message from the client, seconds (Bybit: 600) */
  idleTimeoutSec?: number;
  /** lower bound of `?max_active_time=` on private/trade sockets, seconds (Bybit: 30; tests may lower it) */
  minMaxActiveTimeSec?: number;
  /**
   * Close every WebSocket (public, private, trade) this long after it opened, ms; default 0 = never: Bybit documents
   * no connection lifetime (only the idle timeout and `max_active_time`). Tests set it to exercise rotation.
   */
  connLifetimeMs?: number;
  /** first `u` of a topic (default 1,000,000 so that u == 1 is only ever a restart) */
  firstUpdateId?: number;
  /**
   * Disconnection Protection (DCP) per product, as switched on by Bybit's account manager (not self-service):
   * default off for every product. When on, `GET /v5/account/query-dcp-info` lists the product and
   * `POST /v5/order/disconnected-cancel-all` sets its window.
   */
  dcpEnabled?: Partial<Record<DcpProduct, boolean>>;
  /** initial DCP time window in seconds (Bybit's default: 10) */
  dcpDefaultWindowSec?: number;
}

/** DCP products (`/v5/order/disconnected-cancel-all` `product`) */
export type DcpProduct = 'DERIVATIVES' | 'SPOT' | 'OPTIONS';

/** The venue handle, with test/control hooks beyond SimVenueHandle. */
export interface BybitVenueHandle extends SimVenueHandle {
  /** push a fresh `snapshot` on a depth topic (or all depths of the symbol) mid-stream, u continuing (+1) */
  pushSnapshot(category: Category, symbol: string, depth?: Depth): void;
  /** simulate a service restart of the symbol's orderbook topics: next message is a snapshot with u == 1 */
  restartOrderbook(category: Category, symbol: string): void;
  /** the trade WS answers every request with 10019 ("restarting") and closes the connection, while on */
  setTradeServiceRestarting(on: boolean): void;
  /** current `u` of a depth topic (tests) */
  topicUpdateId(category: Category, symbol: string, depth: Depth): number | undefined;
  /** open WS connections by kind (tests) */
  connectionCount(kind: 'public' | 'private' | 'trade'): number;
  /** DCP of an account (tests): window, armed (a live dcp-subscribed connection), countdown running, countdowns started, fired */
  dcpState(apiKey: string, product: DcpProduct): { windowSec: number; armed: boolean; pending: boolean; started: number; fired: number };
}
