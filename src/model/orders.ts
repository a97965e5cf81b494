/**
 * Order entry contract shared by the engine (strategy, risk, kill switch, persistence) and the venue gateways.
 * Binance and Bybit differ in protocol only: both produce the same OrderEvent and drive the same state machine.
 *
 * Prices/quantities are integer price/quantity units of the instrument (see Instrument in src/model/types.ts).
 * Exchange order ids are strings end to end (a real USD-M id is 8389765739703625592 > 2^53).
 */
import type { Side, VenueId } from './types.js';

export type OrderType = 'LIMIT' | 'MARKET';
/** POST_ONLY = Binance LIMIT_MAKER (spot) / GTX (USD-M), Bybit PostOnly. */
export type TimeInForce = 'GTC' | 'IOC' | 'FOK' | 'POST_ONLY';

/** Engine-side order states (one machine for every venue). */
export type OrderState = 'NEW_PENDING' | 'ACKED' | 'PARTIALLY_FILLED' | 'FILLED' | 'CANCEL_PENDING' | 'CANCELED' | 'REJECTED' | 'EXPIRED';

export const TERMINAL_STATES: ReadonlySet<OrderState> = new Set(['FILLED', 'CANCELED', 'REJECTED', 'EXPIRED']);

/** What a strategy asks for. */
export interface OrderRequest {
  /** BotState slot of the instrument */
  slot: number;
  side: Side;
  type: OrderType;
  tif: TimeInForce;
  /** 0 for MARKET */
  price: number;
  qty: number;
  reduceOnly?: boolean;
}

/** The API a strategy is given. Synchronous: the result of a send arrives later as an OrderEvent. */
export interface OrderApi {
  /** Returns the client order id, or null when risk (or the kill switch) refused it (the reason is counted). */
  place(req: OrderRequest): string | null;
  cancel(clientOrderId: string): boolean;
  /** Cancel every open order, on one instrument slot or (no argument) everywhere. */
  cancelAll(slot?: number): void;
  /** Change price/qty where the venue supports it; false when it does not. */
  amend(clientOrderId: string, price: number, qty: number): boolean;
  /** A conditional (algo) order: the client algo id, or null when refused (risk, the kill switch, a venue without
   * algo orders). Its updates arrive as algo events; the order its trigger places arrives as an ordinary order. */
  placeAlgo(req: AlgoRequest): string | null;
  cancelAlgo(clientAlgoId: string): boolean;
}

export type OrderEventKind = 'ack' | 'reject' | 'fill' | 'cancel' | 'expire' | 'amend' | 'cancelReject';

/**
 * One normalized order update / fill, from any source: REST or WS API response, private stream, or a query made
 * to learn an order's outcome. The object may be reused by the producer: consumers copy what they keep.
 */
export interface OrderEvent {
  venue: VenueId;
  symbol: string;
  kind: OrderEventKind;
  clientOrderId: string;
  /** '' until known */
  exchangeOrderId: string;
  /** exchange status after this event, in engine terms */
  state: OrderState;
  /** fill fields (kind === 'fill'); tradeId unique per venue+symbol, used to drop duplicate fills */
  tradeId: string;
  fillPrice: number;
  fillQty: number;
  /** cumulative filled quantity reported by the exchange (0 if the source does not say) */
  cumQty: number;
  fee: number;
  feeAsset: string;
  maker: boolean;
  /** kind 'amend' from a private stream: the order's price / quantity after the amend (0 = not given) */
  orderPrice: number;
  orderQty: number;
  /** exchange error code and text for rejects ('' / 0 otherwise) */
  code: number;
  reason: string;
  exchTimeMs: number;
  /** local monotonic receive time (ns) */
  localNs: number;
  source: 'rest' | 'wsapi' | 'stream' | 'query';
}

/** Clear a reused event's per-update fields (a producer's first step for each update; no allocation). */
export function resetOrderEvent(e: OrderEvent, venue: VenueId, source: OrderEvent['source']): void {
  e.venue = venue;
  e.exchangeOrderId = '';
  e.tradeId = '';
  e.fillPrice = 0;
  e.fillQty = 0;
  e.cumQty = 0;
  e.fee = 0;
  e.feeAsset = '';
  e.maker = false;
  e.orderPrice = 0;
  e.orderQty = 0;
  e.code = 0;
  e.reason = '';
  e.exchTimeMs = 0;
  e.source = source;
}

export function blankOrderEvent(): OrderEvent {
  return {
    venue: 'binanceSpot',
    symbol: '',
    kind: 'ack',
    clientOrderId: '',
    exchangeOrderId: '',
    state: 'NEW_PENDING',
    tradeId: '',
    fillPrice: 0,
    fillQty: 0,
    cumQty: 0,
    fee: 0,
    feeAsset: '',
    maker: false,
    orderPrice: 0,
    orderQty: 0,
    code: 0,
    reason: '',
    exchTimeMs: 0,
    localNs: 0,
    source: 'stream',
  };
}

/** An order as the exchange reports it on a query (reconciliation after restart, outcome of an unknown send). */
export interface ExchangeOrder {
  venue: VenueId;
  symbol: string;
  clientOrderId: string;
  exchangeOrderId: string;
  side: Side;
  type: OrderType;
  tif: TimeInForce;
  price: number;
  qty: number;
  filledQty: number;
  state: OrderState;
  updateTimeMs: number;
}

/** One fill as the exchange's trade history reports it (Binance myTrades / userTrades, Bybit execution list). */
export interface ExchangeFill {
  venue: VenueId;
  symbol: string;
  /** '' when the source does not say (Binance trade history: match by exchangeOrderId) */
  clientOrderId: string;
  exchangeOrderId: string;
  /** the same id the private stream reports (Binance `t` = `id`, Bybit execId) */
  tradeId: string;
  side: Side;
  price: number;
  qty: number;
  fee: number;
  feeAsset: string;
  maker: boolean;
  timeMs: number;
}

export interface ExchangePosition {
  venue: VenueId;
  symbol: string;
  /** signed quantity units */
  qty: number;
  /** average entry price in price units (may be fractional) */
  entryPrice: number;
}

export interface OrderEventSink {
  onOrderEvent(ev: OrderEvent): void;
  /** the owner took over an order found on the exchange (reconciliation): the journal records it */
  onAdopt?(o: OrderView, why: string): void;
  /** the owner ended an order outside an event (never reached the exchange, a send that threw) */
  onClose?(o: OrderView, why: string): void;
  /** an algo (conditional) order update the algo owner applied (the event carries its state after it) */
  onAlgoEvent?(ev: AlgoEvent, a: AlgoView): void;
}

function unitsOk(v: number): boolean {
  return Number.isSafeInteger(v) && v >= 0;
}

/**
 * What the state machine, the positions and risk may take from an event: '' when every number of it is in range,
 * else the name of the first field that is not. Prices and quantities are non-negative integers of at most 2^53 - 1
 * (scaled units; NaN and Infinity are not), a fill with a quantity has a positive price, the fee and the times are
 * finite. The parsers check it before they report an event; OrderManager checks it again at its one entry point.
 */
export function orderEventProblem(e: OrderEvent): string {
  if (!unitsOk(e.fillPrice)) return 'fillPrice';
  if (!unitsOk(e.fillQty)) return 'fillQty';
  if (!unitsOk(e.cumQty)) return 'cumQty';
  if (!unitsOk(e.orderPrice)) return 'orderPrice';
  if (!unitsOk(e.orderQty)) return 'orderQty';
  if (!Number.isFinite(e.fee)) return 'fee';
  if (!(e.exchTimeMs >= 0) || !Number.isFinite(e.exchTimeMs)) return 'exchTimeMs';
  if (!Number.isFinite(e.localNs)) return 'localNs';
  if (!Number.isFinite(e.code)) return 'code';
  if (e.kind === 'fill' && e.fillQty > 0 && e.fillPrice === 0) return 'fillPrice';
  return '';
}

/**
 * The one record of an order. Its owner (src/orders/state.ts OrderStore, driven by OrderManager) is the only code
 * that writes it; every other module gets it read-only (`OrderView`), and a venue gateway the fields it sends
 * (`GatewayOrder`).
 */
export interface TrackedOrder {
  readonly clientOrderId: string;
  readonly venue: VenueId;
  readonly symbol: string;
  readonly slot: number;
  readonly side: Side;
  readonly type: OrderType;
  readonly tif: TimeInForce;
  price: number;
  qty: number;
  readonly reduceOnly: boolean;
  /** sent from the control plane or the kill switch (passes a stopped strategy) */
  readonly manual: boolean;
  exchangeOrderId: string;
  state: OrderState;
  /** state to return to when a cancel is rejected */
  preCancelState: OrderState;
  filledQty: number;
  /** sum of fill price x fill qty (price units x qty units) */
  filledNotional: number;
  /** highest cumulative quantity any source reported */
  reportedCumQty: number;
  fees: number;
  /** fills applied */
  fills: number;
  code: number;
  reason: string;
  createdNs: number;
  /** wall clock ms of creation (trade-history queries start here; survives a restart, unlike createdNs) */
  createdMs: number;
  updatedNs: number;
  /** ns when the order bytes were written (latency hops) */
  sentNs: number;
  /** transport of the last send (`Transport` of src/util/hops.ts: 1 ws, 2 rest; 0 unknown): per-transport hops */
  sentVia: number;
  /** an amend in flight: the price/qty it asks for (0 = none) */
  amendPrice: number;
  amendQty: number;
}

/** What every module outside the order layer gets: the owner's record, read-only. */
export type OrderView = Readonly<TrackedOrder>;

/** What a venue gateway reads of an order (and stamps: sentNs, sentVia). */
export type GatewayOrder = Pick<
  TrackedOrder,
  'clientOrderId' | 'symbol' | 'side' | 'type' | 'tif' | 'price' | 'qty' | 'reduceOnly' | 'exchangeOrderId' | 'state'
> & {
  sentNs: number;
  /** order transport the last attempt went over: `Transport` of src/util/hops.ts (1 ws, 2 rest; 0 unknown) */
  sentVia: number;
};

// ---- algo / conditional orders ------------------------------------------------------------------------------

/**
 * A conditional order: it waits outside the book until the market reaches `triggerPrice`, then the venue places an
 * order (market when `price` is 0, else limit at `price`). STOP triggers when the price moves against the order's
 * side (a BUY stop when the price rises to the trigger, a SELL stop when it falls to it); TAKE_PROFIT the other way.
 * Binance USD-M: `/fapi/v1/algoOrder` (STOP_MARKET, STOP, TAKE_PROFIT_MARKET, TAKE_PROFIT); Bybit v5: an order with
 * `triggerPrice` + `triggerDirection` (spot `orderFilter=StopOrder`).
 */
export type AlgoKind = 'STOP' | 'TAKE_PROFIT';

/** What a strategy (or the control plane) asks for. */
export interface AlgoRequest {
  slot: number;
  side: Side;
  kind: AlgoKind;
  /** price units */
  triggerPrice: number;
  /** limit price once triggered; 0 = a market order */
  price: number;
  qty: number;
  /** of the limit order once triggered (default GTC) */
  tif?: TimeInForce;
  reduceOnly?: boolean;
}

/**
 * Engine-side algo states (one machine for every venue):
 *   NEW_PENDING -> OPEN -> TRIGGERING -> TRIGGERED -> FINISHED; any open state -> CANCEL_PENDING (local) ->
 *   CANCELED (cancelReject -> back); REJECTED, EXPIRED. Once TRIGGERED the order it placed is an ordinary order of
 *   the order owner (its child); FINISHED (Binance) says that order is done.
 */
export type AlgoState = 'NEW_PENDING' | 'OPEN' | 'TRIGGERING' | 'CANCEL_PENDING' | 'TRIGGERED' | 'FINISHED' | 'CANCELED' | 'REJECTED' | 'EXPIRED';

export const ALGO_TERMINAL: ReadonlySet<AlgoState> = new Set(['TRIGGERED', 'FINISHED', 'CANCELED', 'REJECTED', 'EXPIRED']);

export type AlgoEventKind = 'ack' | 'trigger' | 'cancel' | 'reject' | 'expire' | 'cancelReject';

/** One normalized algo update (ALGO_UPDATE, a Bybit conditional order event, an answer or a query). Reusable:
 * consumers copy what they keep. */
export interface AlgoEvent {
  venue: VenueId;
  symbol: string;
  kind: AlgoEventKind;
  clientAlgoId: string;
  /** the venue's id of the algo order ('' until known) */
  algoId: string;
  state: AlgoState;
  /** the order the trigger placed: its exchange id and client id ('' until known) */
  orderId: string;
  orderClientId: string;
  code: number;
  reason: string;
  exchTimeMs: number;
  localNs: number;
  source: OrderEvent['source'];
}

export function blankAlgoEvent(): AlgoEvent {
  return {
    venue: 'binanceUsdm',
    symbol: '',
    kind: 'ack',
    clientAlgoId: '',
    algoId: '',
    state: 'NEW_PENDING',
    orderId: '',
    orderClientId: '',
    code: 0,
    reason: '',
    exchTimeMs: 0,
    localNs: 0,
    source: 'stream',
  };
}

/** An algo order as the venue lists it (open algo orders: reconciliation, the kill switch's verification). */
export interface ExchangeAlgo {
  venue: VenueId;
  symbol: string;
  clientAlgoId: string;
  algoId: string;
  side: Side;
  kind: AlgoKind;
  triggerPrice: number;
  price: number;
  qty: number;
  reduceOnly: boolean;
  state: AlgoState;
  updateTimeMs: number;
}

/** The one record of an algo order; its owner (src/orders/algo.ts AlgoStore) is the only writer. */
export interface TrackedAlgo {
  readonly clientAlgoId: string;
  readonly venue: VenueId;
  readonly symbol: string;
  readonly slot: number;
  readonly side: Side;
  readonly kind: AlgoKind;
  readonly triggerPrice: number;
  /** 0 = market once triggered */
  readonly price: number;
  readonly qty: number;
  readonly tif: TimeInForce;
  readonly reduceOnly: boolean;
  readonly manual: boolean;
  algoId: string;
  state: AlgoState;
  preCancelState: AlgoState;
  /** the order the trigger placed, booked in the order owner: client id ('' until triggered) and exchange id */
  childId: string;
  childExchangeId: string;
  code: number;
  reason: string;
  createdNs: number;
  createdMs: number;
  updatedNs: number;
}

export type AlgoView = Readonly<TrackedAlgo>;

/** What a venue gateway reads of an algo order. */
export type GatewayAlgo = Pick<
  TrackedAlgo,
  'clientAlgoId' | 'symbol' | 'side' | 'kind' | 'triggerPrice' | 'price' | 'qty' | 'tif' | 'reduceOnly' | 'algoId' | 'state'
>;
