/**
 * What the OrderManager needs from a venue. One implementation per (exchange, transport): Binance REST, Binance WS
 * API, Bybit REST, Bybit trade WS. Results are reported through `onEvent` as normalized OrderEvents.
 */
import type { VenueId } from '../model/types.js';
import type { AlgoEvent, ExchangeAlgo, ExchangeFill, ExchangeOrder, ExchangePosition, GatewayAlgo, GatewayOrder, OrderEvent } from '../model/orders.js';

export type { GatewayAlgo, GatewayOrder };

export interface VenueGateway {
  readonly venue: VenueId;
  /** set by the OrderManager before start(); the event object may be reused after the call returns */
  onEvent: (ev: OrderEvent) => void;
  /** set by the OrderManager: the private stream re-subscribed after a gap (events may have been missed) */
  onStreamResync: () => void;
  /** connect, pre-warm, sync the clock, start keep-alives */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** true while the venue refuses sends (418 ban, 429 backoff window, disconnected) */
  isHalted(): boolean;
  /** an operator's resume after a halt (auth failure, a ban without an end): orders are sent again */
  resume?(): void;
  /** the manager refused an order because isHalted(): count it with the gateway's own local refusals */
  noteRefusedWhileHalted?(): void;
  /**
   * Build and sign a representative order for `symbol` into the gateway's own buffers and send nothing: the order
   * path's code and data stay hot between rare orders (engine.keepWarmUs). No state changes, no I/O.
   */
  warm?(symbol: string): void;
  /**
   * Everything is being cancelled (a stop, the kill switch, the watchdog): an order whose outcome was unknown and that
   * a query proves absent is rejected instead of sent again, so that no resend lands after the cancel-all was
   * verified. Until `resume()`.
   */
  stopResends?(reason: string): void;
  /** Send a new order; returns at once, outcome arrives via onEvent. */
  place(o: GatewayOrder): void;
  cancel(o: GatewayOrder): void;
  /** Change price/qty of an open order; false when the venue/transport cannot. Result: an 'amend' event
   * (code 0 = done, else the reason), source 'rest' | 'wsapi'. */
  amend?(o: GatewayOrder, price: number, qty: number): boolean;
  /** Cancel every open order (one symbol or all known symbols), including USD-M algo orders. */
  cancelAll(symbol?: string): Promise<void>;
  queryOrder(symbol: string, clientOrderId: string): Promise<ExchangeOrder | null>;
  openOrders(symbol?: string): Promise<ExchangeOrder[]>;
  positions(): Promise<ExchangePosition[]>;
  /**
   * Spot venues: the wallet's balance per asset (free + locked, asset units) from the venue's account endpoint
   * (Binance `GET /api/v3/account`, Bybit `GET /v5/account/wallet-balance`: the unified wallet). Whole or nothing: a
   * balance that is not a non-negative number rejects the answer, naming it. The balance reconciliation reads it.
   */
  balances?(): Promise<Map<string, number>>;
  /** The account's fills on `symbol` since `sinceLocalMs` (local wall clock ms; the gateway applies its server
   * clock offset), oldest first, every page. Used to backfill fills a private-stream gap lost. */
  tradeHistory?(symbol: string, sinceLocalMs: number): Promise<ExchangeFill[]>;

  // algo / conditional orders (a venue without them leaves these out; the owner then refuses algo orders)
  /** set by the OrderManager: every algo update (answers, ALGO_UPDATE / conditional order events, queries) */
  onAlgoEvent?: (ev: AlgoEvent) => void;
  /** Send a new algo order; returns at once, the outcome arrives via onAlgoEvent (and onEvent for the order its
   * trigger places). */
  algoPlace?: ((a: GatewayAlgo) => void) | undefined;
  algoCancel?: ((a: GatewayAlgo) => void) | undefined;
  /** the venue's open (untriggered) algo orders, one symbol or all known symbols */
  algoOpen?: ((symbol?: string) => Promise<ExchangeAlgo[]>) | undefined;
}

/** Why a venue refused or failed a request, as the engine reacts to it. */
export type FailureClass =
  | 'rejected' // definitive: the order does not exist
  | 'unknown' // outcome unknown (timeout, 5xx, disconnect): query before anything else
  | 'rateLimited' // 429 / 10006: back off, nothing was done
  | 'banned' // 418: halt the venue
  | 'clock' // -1021 / 10002: resync the clock, then one retry with the same id
  | 'duplicate' // the client id exists: the first attempt landed; query it
  | 'auth'; // bad key / signature / permissions: halt

export interface MappedError {
  cls: FailureClass;
  /** short machine reason for the event's `reason` */
  reason: string;
}
