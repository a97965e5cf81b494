/**
 * Bybit v5 private stream (`order`, `execution`, `position`, `wallet`) and REST order parsing into the shared
 * OrderEvent / ExchangeOrder / ExchangePosition. One frame carries a `data` array: a handler call per item.
 *
 * `order` pushes are status updates (fills come from `execution` with their execId, which dedupes them):
 * New -> ack; PartiallyFilled / Filled -> status-only fill (fillQty 0, cumQty); Cancelled / PartiallyFilledCanceled /
 * Deactivated -> cancel; Rejected -> reject.
 */
import { resetOrderEvent } from '../../../orders/types.js';
import type { VenueId } from '../../../core/types.js';
import { arr, idString, num, obj, str, type Json } from '../../../orders/json.js';
import { scaled, type ScaleLookup } from '../../../orders/scale.js';
import type { ExchangeFill, ExchangeOrder, ExchangePosition, OrderEvent, OrderEventKind, OrderState, TimeInForce } from '../../../orders/types.js';
import { nowNs } from '../../../latency/clock.js';

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
  const topic = str(msg['topic']);
  const data = arr(msg['data']);
  const base = topic.split('.')[0];
  switch (base) {
    case 'order':
      for (const it of data) {
        const o = obj(it);
        if (o) orderItem(o, scale, out, h, localNs);
      }
      return 'order';
    case 'execution':
      for (const it of data) {
        const o = obj(it);
        if (o) executionItem(o, scale, out, h, localNs);
      }
      return 'execution';
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

function orderItem(o: Json, scale: ScaleLookup, out: OrderEvent, h: PrivateHandlers, localNs: number): void {
  const venue = venueOfCategory(str(o['category']));
  if (!venue) return;
  const symbol = str(o['symbol']);
  const sc = scale(venue, symbol);
  if (!sc) return;
  reset(out, venue);
  out.symbol = symbol;
  out.state = mapStatus(str(o['orderStatus']));
  out.kind = kindOf(out.state);
  out.clientOrderId = str(o['orderLinkId']);
  out.exchangeOrderId = idString(o['orderId']);
  out.cumQty = scaled(o['cumExecQty'], sc.qtyDecimals);
  const rr = str(o['rejectReason']);
  if (rr !== '' && rr !== 'EC_NoError') out.reason = rr; // e.g. a post-only accepted then cancelled: EC_PostOnlyWillTakeLiquidity
  out.exchTimeMs = num(o['updatedTime']);
  out.localNs = localNs;
  h.order(out);
}

export function executionItem(o: Json, scale: ScaleLookup, out: OrderEvent, h: PrivateHandlers, localNs: number): void {
  const venue = venueOfCategory(str(o['category']));
  if (!venue) return;
  const t = str(o['execType']);
  if (t !== 'Trade' && t !== '') return; // funding, settlement, ADL... are not our fills
  const symbol = str(o['symbol']);
  const sc = scale(venue, symbol);
  if (!sc) return;
  reset(out, venue);
  out.symbol = symbol;
  out.kind = 'fill';
  out.clientOrderId = str(o['orderLinkId']);
  out.exchangeOrderId = idString(o['orderId']);
  const leaves = str(o['leavesQty']);
  out.state = leaves !== '' && Number(leaves) === 0 ? 'FILLED' : 'PARTIALLY_FILLED';
  out.tradeId = str(o['execId']);
  out.fillPrice = scaled(o['execPrice'], sc.priceDecimals);
  out.fillQty = scaled(o['execQty'], sc.qtyDecimals);
  out.fee = num(o['execFee']);
  out.feeAsset = str(o['feeCurrency']);
  out.maker = o['isMaker'] === true;
  out.exchTimeMs = num(o['execTime']);
  out.localNs = localNs;
  h.order(out);
}

export function toExchangePosition(p: Json, scale: ScaleLookup): ExchangePosition | undefined {
  const venue = venueOfCategory(str(p['category']) || 'linear');
  if (!venue) return undefined;
  const symbol = str(p['symbol']);
  const sc = scale(venue, symbol);
  if (!sc) return undefined;
  const size = scaled(p['size'], sc.qtyDecimals);
  return { venue, symbol, qty: str(p['side']) === 'Sell' ? -size : size, entryPrice: Number(str(p['entryPrice']) || str(p['avgPrice']) || '0') * 10 ** sc.priceDecimals };
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
    venue, symbol, clientOrderId: str(o['orderLinkId']), exchangeOrderId: idString(o['orderId']), tradeId,
    side: str(o['side']) === 'Sell' ? 'SELL' : 'BUY',
    price: scaled(o['execPrice'], sc.priceDecimals), qty: scaled(o['execQty'], sc.qtyDecimals),
    fee: num(o['execFee']), feeAsset: str(o['feeCurrency']), maker: o['isMaker'] === true, timeMs: num(o['execTime']),
  };
}
