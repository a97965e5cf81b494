/**
 * Bybit v5 private stream (`order`, `execution`, `position`, `wallet`) and REST order parsing into the shared
 * OrderEvent / ExchangeOrder / ExchangePosition. One frame carries a `data` array: a handler call per item.
 *
 * `order` pushes are status updates (fills come from `execution` with their execId, which dedupes them):
 * New -> ack; PartiallyFilled / Filled -> status-only fill (fillQty 0, cumQty); Cancelled / PartiallyFilledCanceled /
 * Deactivated -> cancel; Rejected -> reject.
 *
 * A frame is read whole or not at all: one malformed item (a field missing or of the wrong type, a number that is not
 * an exact decimal) makes the frame 'malformed' and none of its items is reported (the stream owner counts it and
 * reconciles). The byte path (fastparse.ts) reads the same items the same way.
 */
import { blankAlgoEvent, orderEventProblem, resetOrderEvent } from '../../../model/orders.js';
import type { AlgoEvent, AlgoState, ExchangeAlgo } from '../../../model/orders.js';
import type { VenueId } from '../../../model/types.js';
import { arr, boolOk, decNumOf, idOf, idString, num, obj, str, uintOf, unitsOf, type Json } from '../../../codec/json.js';
import { scaled, type ScaleLookup } from '../../../codec/scale.js';
import type { ExchangeFill, ExchangeOrder, ExchangePosition, OrderEvent, OrderEventKind, OrderState, TimeInForce } from '../../../model/orders.js';
import { nowNs } from '../../../util/clock.js';

export function venueOfCategory(c: string): VenueId | undefined {
  return c === 'spot' ? 'bybitSpot' : c === 'linear' ? 'bybitLinear' : undefined;
}

export function mapStatus(s: string): OrderState {
  switch (s) {
    case 'New':
    case 'Untriggered':
    case 'Triggered':
    case 'Created':
      return 'ACKED';
    case 'PartiallyFilled':
      return 'PARTIALLY_FILLED';
    case 'Filled':
      return 'FILLED';
    case 'Cancelled':
    case 'PartiallyFilledCanceled':
    case 'Deactivated':
      return 'CANCELED';
    case 'Rejected':
      return 'REJECTED';
    default:
      return 'ACKED';
  }
}

export function kindOf(state: OrderState): OrderEventKind {
  switch (state) {
    case 'PARTIALLY_FILLED':
    case 'FILLED':
      return 'fill';
    case 'CANCELED':
      return 'cancel';
    case 'REJECTED':
      return 'reject';
    case 'EXPIRED':
      return 'expire';
    default:
      return 'ack';
  }
}

function mapTif(t: string): TimeInForce {
  return t === 'PostOnly' ? 'POST_ONLY' : t === 'IOC' || t === 'FOK' ? t : 'GTC';
}

function reset(out: OrderEvent, venue: VenueId): void {
  resetOrderEvent(out, venue, 'stream');
}

export type PrivateFrameKind = 'order' | 'execution' | 'position' | 'wallet' | 'auth' | 'subscribe' | 'pong' | 'other' | 'malformed';

export interface PrivateHandlers {
  order(ev: OrderEvent): void;
  /** a conditional order's own update (Untriggered / Triggered / Deactivated); without this handler it is skipped */
  algo?(ev: AlgoEvent): void;
  positions?(p: ExchangePosition[]): void;
  wallet?(data: unknown[]): void;
  /** op replies: auth / subscribe acks (success flag, message, and the request's req_id or '') */
  op?(op: string, success: boolean, msg: string, reqId: string): void;
}

export function parsePrivateFrame(text: string, scale: ScaleLookup, out: OrderEvent, h: PrivateHandlers, localNs = nowNs()): PrivateFrameKind {
  let msg: Json | undefined;
  try {
    msg = obj(JSON.parse(text)); // Bybit sends every id as a string; numbers (seq, times) stay below 2^53
  } catch {
    return 'malformed';
  }
  if (!msg) return 'malformed';
  const op = str(msg['op']);
  if (op !== '') {
    h.op?.(op, msg['success'] === true || msg['retCode'] === 0, str(msg['ret_msg']) || str(msg['retMsg']), str(msg['req_id']));
    return op === 'auth' ? 'auth' : op === 'subscribe' ? 'subscribe' : op === 'pong' || op === 'ping' ? 'pong' : 'other';
  }
  const topic = typeof msg['topic'] === 'string' ? msg['topic'] : ''; // a topic of another type is no topic
  const data = arr(msg['data']);
  const base = topic.split('.')[0];
  switch (base) {
    case 'order':
    case 'execution': {
      // whole or nothing: every item is checked before the first is reported
      if (!Array.isArray(msg['data'])) return 'malformed';
      const item = base === 'order' ? orderItem : executionItem;
      for (const it of data) {
        const o = obj(it);
        if (!o) return 'malformed';
        if (base === 'order' && isConditionalStatus(o['orderStatus'])) {
          if (conditionalItem(o, scale, localNs) === 'bad') return 'malformed';
        } else if (item(o, scale, out, localNs) === 'bad') return 'malformed';
      }
      for (const it of data) {
        const o = obj(it)!;
        if (base === 'order' && isConditionalStatus(o['orderStatus'])) {
          const a = conditionalItem(o, scale, localNs);
          if (typeof a !== 'string') h.algo?.(a);
        } else if (item(o, scale, out, localNs) === 'event') h.order(out);
      }
      return base === 'order' ? 'order' : 'execution';
    }
    case 'position': {
      const list: ExchangePosition[] = [];
      for (const it of data) {
        const p = obj(it);
        const pos = p ? toExchangePosition(p, scale) : undefined;
        if (pos) list.push(pos);
      }
      h.positions?.(list);
      return 'position';
    }
    case 'wallet':
      h.wallet?.(data);
      return 'wallet';
    default:
      return 'other';
  }
}

/** the statuses of a conditional order before (or instead of) the order its trigger places */
export function isConditionalStatus(s: unknown): boolean {
  return s === 'Untriggered' || s === 'Triggered' || s === 'Deactivated';
}

export function conditionalState(s: string): AlgoState {
  return s === 'Untriggered' ? 'OPEN' : s === 'Triggered' ? 'TRIGGERED' : 'CANCELED';
}

/**
 * A conditional order's `order` push item (Untriggered / Triggered / Deactivated) as an algo update. Strict like
 * orderItem: category, symbol, orderStatus, orderLinkId strings (the link id non-empty: the engine names its
 * conditional orders), orderId an id, updatedTime an integer. The order a trigger places keeps the orderId and
 * orderLinkId (Triggered reports them as that order's ids). A new object per item (cold).
 */
export function conditionalItem(o: Json, scale: ScaleLookup, localNs: number): AlgoEvent | 'skip' | 'bad' {
  const cat = o['category'];
  const symbol = o['symbol'];
  if (typeof cat !== 'string' || typeof symbol !== 'string') return 'bad';
  const venue = venueOfCategory(cat);
  if (!venue || !scale(venue, symbol)) return 'skip';
  const status = o['orderStatus'];
  const link = o['orderLinkId'];
  const id = idOf(o['orderId']);
  const t = optUint(o['updatedTime']);
  if (typeof status !== 'string' || typeof link !== 'string' || id === undefined || Number.isNaN(t)) return 'bad';
  if (link === '') return 'skip'; // not placed by us (we always name our orders)
  const ev = blankAlgoEvent();
  ev.venue = venue;
  ev.symbol = symbol;
  ev.state = conditionalState(status);
  ev.kind = ev.state === 'OPEN' ? 'ack' : ev.state === 'TRIGGERED' ? 'trigger' : 'cancel';
  ev.clientAlgoId = link;
  ev.algoId = id;
  if (ev.state === 'TRIGGERED') {
    ev.orderId = id;
    ev.orderClientId = link;
  }
  ev.exchTimeMs = t;
  ev.localNs = localNs;
  ev.source = 'stream';
  return ev;
}

/** A `/v5/order/realtime` item of a conditional order (orderFilter=StopOrder) as an open algo order. */
export function toExchangeAlgo(o: Json, venue: VenueId, scale: ScaleLookup): ExchangeAlgo | undefined {
  const symbol = str(o['symbol']);
  const sc = scale(venue, symbol);
  if (!sc) return undefined;
  const status = str(o['orderStatus']);
  if (!isConditionalStatus(status)) return undefined;
  const side = str(o['side']) === 'Sell' ? 'SELL' : 'BUY';
  const dir = num(o['triggerDirection']);
  const triggerPrice = unitsOf(o['triggerPrice'], sc.priceDecimals);
  const market = str(o['orderType']) === 'Market';
  const price = market ? 0 : unitsOf(o['price'], sc.priceDecimals);
  const qty = unitsOf(o['qty'], sc.qtyDecimals);
  if (!Number.isSafeInteger(triggerPrice) || !Number.isSafeInteger(price) || !Number.isSafeInteger(qty) || (dir !== 1 && dir !== 2)) return undefined;
  return {
    venue,
    symbol,
    clientAlgoId: str(o['orderLinkId']),
    algoId: idString(o['orderId']),
    side,
    // a buy that waits for a rise (a sell for a fall) is a stop; the other way a take-profit
    kind: (side === 'BUY') === (dir === 1) ? 'STOP' : 'TAKE_PROFIT',
    triggerPrice,
    price,
    qty,
    reduceOnly: o['reduceOnly'] === true,
    state: conditionalState(status),
    updateTimeMs: num(o['updatedTime']),
  };
}

/** What one `order` / `execution` item is: an event (now in `out`), one that is not ours ('skip'), or malformed. */
export type ItemResult = 'event' | 'skip' | 'bad';

/** absent -> 0, else a non-negative integer (NaN: not one) */
function optUint(v: unknown): number {
  return v === undefined ? 0 : uintOf(v);
}

/** absent or null -> '', a string -> itself, anything else -> undefined (malformed) */
function optStr(v: unknown): string | undefined {
  return v === undefined || v === null ? '' : typeof v === 'string' ? v : undefined;
}

/**
 * An `order` push item into `out`. Strict: category, symbol, orderStatus, orderLinkId strings, orderId an id,
 * cumExecQty a decimal string, rejectReason a string, updatedTime an integer; another category or an unknown symbol
 * is not ours ('skip').
 */
export function orderItem(o: Json, scale: ScaleLookup, out: OrderEvent, localNs: number): ItemResult {
  const cat = o['category'];
  const symbol = o['symbol'];
  if (typeof cat !== 'string' || typeof symbol !== 'string') return 'bad';
  const venue = venueOfCategory(cat);
  if (!venue) return 'skip';
  const sc = scale(venue, symbol);
  if (!sc) return 'skip';
  const status = o['orderStatus'];
  const link = o['orderLinkId'];
  const id = idOf(o['orderId']);
  const rr = optStr(o['rejectReason']);
  if (typeof status !== 'string' || typeof link !== 'string' || id === undefined || rr === undefined) return 'bad';
  reset(out, venue);
  out.symbol = symbol;
  out.state = mapStatus(status);
  out.kind = kindOf(out.state);
  out.clientOrderId = link;
  out.exchangeOrderId = id;
  out.cumQty = unitsOf(o['cumExecQty'], sc.qtyDecimals);
  if (rr !== '' && rr !== 'EC_NoError') out.reason = rr; // e.g. a post-only accepted then cancelled: EC_PostOnlyWillTakeLiquidity
  out.exchTimeMs = optUint(o['updatedTime']);
  out.localNs = localNs;
  return orderEventProblem(out) === '' ? 'event' : 'bad';
}

/**
 * An `execution` item into `out`. Strict: category, symbol, orderLinkId strings, orderId and execId ids, execPrice
 * and execQty decimal strings, execFee a decimal string ('' or absent: 0), leavesQty a decimal string or '',
 * feeCurrency a string, isMaker a boolean, execTime an integer. Funding, settlement, ADL (execType) and other
 * categories or symbols are not our fills ('skip').
 */
export function executionItem(o: Json, scale: ScaleLookup, out: OrderEvent, localNs: number): ItemResult {
  const cat = o['category'];
  const t = optStr(o['execType']);
  const symbol = o['symbol'];
  if (typeof cat !== 'string' || t === undefined || typeof symbol !== 'string') return 'bad';
  const venue = venueOfCategory(cat);
  if (!venue) return 'skip';
  if (t !== 'Trade' && t !== '') return 'skip'; // funding, settlement, ADL... are not our fills
  const sc = scale(venue, symbol);
  if (!sc) return 'skip';
  const link = o['orderLinkId'];
  const id = idOf(o['orderId']);
  const execId = idOf(o['execId']);
  const leaves = optStr(o['leavesQty']);
  const feeAsset = optStr(o['feeCurrency']);
  const fee = o['execFee'];
  if (typeof link !== 'string' || id === undefined || execId === undefined || leaves === undefined || feeAsset === undefined || !boolOk(o['isMaker']))
    return 'bad';
  const leavesN = leaves === '' ? -1 : decNumOf(leaves);
  reset(out, venue);
  out.symbol = symbol;
  out.kind = 'fill';
  out.clientOrderId = link;
  out.exchangeOrderId = id;
  out.state = leavesN === 0 ? 'FILLED' : 'PARTIALLY_FILLED';
  out.tradeId = execId;
  out.fillPrice = unitsOf(o['execPrice'], sc.priceDecimals);
  out.fillQty = unitsOf(o['execQty'], sc.qtyDecimals);
  out.fee = fee === undefined || fee === '' ? 0 : decNumOf(fee);
  out.feeAsset = feeAsset;
  out.maker = o['isMaker'] === true;
  out.exchTimeMs = optUint(o['execTime']);
  out.localNs = localNs;
  return leavesN === leavesN && orderEventProblem(out) === '' ? 'event' : 'bad';
}

export function toExchangePosition(p: Json, scale: ScaleLookup): ExchangePosition | undefined {
  const venue = venueOfCategory(str(p['category']) || 'linear');
  if (!venue) return undefined;
  const symbol = str(p['symbol']);
  const sc = scale(venue, symbol);
  if (!sc) return undefined;
  const size = scaled(p['size'], sc.qtyDecimals);
  return {
    venue,
    symbol,
    qty: str(p['side']) === 'Sell' ? -size : size,
    entryPrice: Number(str(p['entryPrice']) || str(p['avgPrice']) || '0') * 10 ** sc.priceDecimals,
  };
}

/** `/v5/order/realtime` list item */
export function toExchangeOrder(o: Json, venue: VenueId, scale: ScaleLookup): ExchangeOrder | undefined {
  const symbol = str(o['symbol']);
  const sc = scale(venue, symbol);
  if (!sc) return undefined;
  return {
    venue,
    symbol,
    clientOrderId: str(o['orderLinkId']),
    exchangeOrderId: idString(o['orderId']),
    side: str(o['side']) === 'Sell' ? 'SELL' : 'BUY',
    type: str(o['orderType']) === 'Market' ? 'MARKET' : 'LIMIT',
    tif: mapTif(str(o['timeInForce'])),
    price: scaled(o['price'], sc.priceDecimals),
    qty: scaled(o['qty'], sc.qtyDecimals),
    filledQty: scaled(o['cumExecQty'], sc.qtyDecimals),
    state: mapStatus(str(o['orderStatus'])),
    updateTimeMs: num(o['updatedTime']),
  };
}

/** A `GET /v5/execution/list` item (execType Trade only; funding, settlement, ADL are not our fills). */
export function toExchangeFill(o: Json, venue: VenueId, scale: ScaleLookup): ExchangeFill | undefined {
  const t = str(o['execType']);
  if (t !== 'Trade' && t !== '') return undefined;
  const symbol = str(o['symbol']);
  const sc = scale(venue, symbol);
  if (!sc) return undefined;
  const tradeId = str(o['execId']);
  if (tradeId === '') return undefined;
  return {
    venue,
    symbol,
    clientOrderId: str(o['orderLinkId']),
    exchangeOrderId: idString(o['orderId']),
    tradeId,
    side: str(o['side']) === 'Sell' ? 'SELL' : 'BUY',
    price: scaled(o['execPrice'], sc.priceDecimals),
    qty: scaled(o['execQty'], sc.qtyDecimals),
    fee: num(o['execFee']),
    feeAsset: str(o['feeCurrency']),
    maker: o['isMaker'] === true,
    timeMs: num(o['execTime']),
  };
}
