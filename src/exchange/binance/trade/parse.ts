/**
 * Binance order/user-data parsing into the shared OrderEvent / ExchangeOrder / ExchangePosition.
 *
 * Sources: Spot `executionReport` (WS API user data stream, wrapped as {"subscriptionId":N,"event":{..}}),
 * USD-M `ORDER_TRADE_UPDATE`, `TRADE_LITE`, `ACCOUNT_UPDATE`, `listenKeyExpired`; REST/WS API order responses and
 * queries. Order ids can exceed 2^53: frames go through parseJsonIds (the id keys quoted when long), ids through idString.
 */
import { resetOrderEvent } from '../../../orders/types.js';
import type { VenueId } from '../../../core/types.js';
import { BINANCE_ID_PATTERNS, idString, num, obj, parseJsonIds, str, type Json } from '../../../orders/json.js';
import { scaled, type ScaleLookup } from '../../../orders/scale.js';
import type { ExchangeFill, ExchangeOrder, ExchangePosition, OrderEvent, OrderEventKind, OrderState, OrderType, TimeInForce } from '../../../orders/types.js';
import { nowNs } from '../../../latency/clock.js';

export function mapStatus(x: string): OrderState {
  switch (x) {
    case 'NEW':
      return 'ACKED';
    case 'PARTIALLY_FILLED':
      return 'PARTIALLY_FILLED';
    case 'FILLED':
      return 'FILLED';
    case 'CANCELED':
      return 'CANCELED';
    case 'PENDING_CANCEL':
      return 'CANCEL_PENDING';
    case 'REJECTED':
      return 'REJECTED';
    case 'EXPIRED':
    case 'EXPIRED_IN_MATCH':
      return 'EXPIRED';
    default:
      return 'ACKED';
  }
}

export function mapExecType(x: string): OrderEventKind {
  switch (x) {
    case 'TRADE':
    case 'CALCULATED':
      return 'fill';
    case 'CANCELED':
      return 'cancel';
    case 'REJECTED':
      return 'reject';
    case 'EXPIRED':
    case 'TRADE_PREVENTION':
      return 'expire';
    case 'AMENDMENT':
    case 'REPLACED':
      return 'amend';
    default:
      return 'ack';
  }
}

function mapType(t: string): OrderType {
  return t === 'MARKET' ? 'MARKET' : 'LIMIT';
}

function mapTif(type: string, tif: string): TimeInForce {
  if (type === 'LIMIT_MAKER' || tif === 'GTX') return 'POST_ONLY';
  return tif === 'IOC' || tif === 'FOK' ? tif : 'GTC';
}

function reset(out: OrderEvent, venue: VenueId, source: OrderEvent['source']): void {
  resetOrderEvent(out, venue, source);
}

export type UserFrameKind = 'order' | 'account' | 'listenKeyExpired' | 'terminated' | 'other' | 'malformed' | 'unknownSymbol';

export interface UserFrameHandlers {
  order(ev: OrderEvent): void;
  positions?(p: ExchangePosition[]): void;
  listenKeyExpired?(): void;
  terminated?(): void;
}

/**
 * Parse one user-data frame (Spot WS API wrapped or bare executionReport; USD-M private stream events, bare or
 * in a combined-stream {"stream","data"} wrapper). Calls the handlers; returns what it was.
 */
export function parseUserFrame(text: string, venue: VenueId, scale: ScaleLookup, out: OrderEvent, h: UserFrameHandlers, localNs = nowNs()): UserFrameKind {
  let msg: Json | undefined;
  try {
    msg = obj(parseJsonIds(text, BINANCE_ID_PATTERNS));
  } catch {
    return 'malformed';
  }
  if (!msg) return 'malformed';
  const inner = obj(msg['event']) ?? obj(msg['data']) ?? msg;
  return parseUserEvent(inner, venue, scale, out, h, localNs);
}

export function parseUserEvent(e: Json, venue: VenueId, scale: ScaleLookup, out: OrderEvent, h: UserFrameHandlers, localNs: number): UserFrameKind {
  const type = str(e['e']);
  switch (type) {
    case 'executionReport':
      return executionReport(e, venue, scale, out, h, localNs);
    case 'ORDER_TRADE_UPDATE': {
      const o = obj(e['o']);
      if (!o) return 'malformed';
      return orderTradeUpdate(o, num(e['E']), venue, scale, out, h, localNs);
    }
    case 'TRADE_LITE':
      return tradeLite(e, venue, scale, out, h, localNs);
    case 'ACCOUNT_UPDATE': {
      h.positions?.(accountUpdatePositions(e, venue, scale));
      return 'account';
    }
    case 'listenKeyExpired':
      h.listenKeyExpired?.();
      return 'listenKeyExpired';
    case 'eventStreamTerminated':
      h.terminated?.();
      return 'terminated';
    default:
      return 'other';
  }
}

function executionReport(e: Json, venue: VenueId, scale: ScaleLookup, out: OrderEvent, h: UserFrameHandlers, localNs: number): UserFrameKind {
  const symbol = str(e['s']);
  const sc = scale(venue, symbol);
  if (!sc) return 'unknownSymbol';
  reset(out, venue, 'stream');
  const x = str(e['x']);
  const orig = str(e['C']);
  out.symbol = symbol;
  out.kind = mapExecType(x);
  out.clientOrderId = x === 'CANCELED' && orig !== '' ? orig : str(e['c']);
  out.exchangeOrderId = idString(e['i']);
  out.state = mapStatus(str(e['X']));
  out.cumQty = scaled(e['z'], sc.qtyDecimals);
  if (out.kind === 'fill') {
    const t = idString(e['t']);
    out.tradeId = t === '-1' ? '' : t;
    out.fillPrice = scaled(e['L'], sc.priceDecimals);
    out.fillQty = scaled(e['l'], sc.qtyDecimals);
    out.fee = num(e['n']);
    out.feeAsset = str(e['N']);
    out.maker = e['m'] === true;
  }
  if (out.kind === 'reject') out.reason = str(e['r']);
  if (out.kind === 'amend') {
    out.orderPrice = scaled(e['p'], sc.priceDecimals);
    out.orderQty = scaled(e['q'], sc.qtyDecimals);
  }
  out.exchTimeMs = num(e['T']) || num(e['E']);
  out.localNs = localNs;
  h.order(out);
  return 'order';
}

function orderTradeUpdate(o: Json, eventMs: number, venue: VenueId, scale: ScaleLookup, out: OrderEvent, h: UserFrameHandlers, localNs: number): UserFrameKind {
  const symbol = str(o['s']);
  const sc = scale(venue, symbol);
  if (!sc) return 'unknownSymbol';
  reset(out, venue, 'stream');
  out.symbol = symbol;
  out.kind = mapExecType(str(o['x']));
  out.clientOrderId = str(o['c']);
  out.exchangeOrderId = idString(o['i']);
  out.state = mapStatus(str(o['X']));
  out.cumQty = scaled(o['z'], sc.qtyDecimals);
  if (out.kind === 'fill') {
    out.tradeId = idString(o['t']);
    out.fillPrice = scaled(o['L'], sc.priceDecimals);
    out.fillQty = scaled(o['l'], sc.qtyDecimals);
    out.fee = num(o['n']);
    out.feeAsset = str(o['N']);
    out.maker = o['m'] === true;
  }
  if (out.kind === 'amend') {
    out.orderPrice = scaled(o['p'], sc.priceDecimals);
    out.orderQty = scaled(o['q'], sc.qtyDecimals);
  }
  out.exchTimeMs = num(o['T']) || eventMs;
  out.localNs = localNs;
  h.order(out);
  return 'order';
}

function tradeLite(e: Json, venue: VenueId, scale: ScaleLookup, out: OrderEvent, h: UserFrameHandlers, localNs: number): UserFrameKind {
  const symbol = str(e['s']);
  const sc = scale(venue, symbol);
  if (!sc) return 'unknownSymbol';
  reset(out, venue, 'stream');
  out.symbol = symbol;
  out.kind = 'fill';
  out.clientOrderId = str(e['c']);
  out.exchangeOrderId = idString(e['i']);
  out.state = 'PARTIALLY_FILLED'; // TRADE_LITE has no status: the machine completes it from quantities
  out.tradeId = idString(e['t']);
  out.fillPrice = scaled(e['L'], sc.priceDecimals);
  out.fillQty = scaled(e['l'], sc.qtyDecimals);
  out.maker = e['m'] === true;
  out.exchTimeMs = num(e['T']) || num(e['E']);
  out.localNs = localNs;
  h.order(out);
  return 'order';
}

/** ACCOUNT_UPDATE positions (one-way mode: positionSide BOTH; hedge-mode LONG/SHORT kept as separate entries). */
export function accountUpdatePositions(e: Json, venue: VenueId, scale: ScaleLookup): ExchangePosition[] {
  const a = obj(e['a']);
  const list = a && Array.isArray(a['P']) ? (a['P'] as unknown[]) : [];
  const out: ExchangePosition[] = [];
  for (const it of list) {
    const p = obj(it);
    if (!p) continue;
    const symbol = str(p['s']);
    const sc = scale(venue, symbol);
    if (!sc) continue;
    out.push({ venue, symbol, qty: scaled(p['pa'], sc.qtyDecimals), entryPrice: Number(str(p['ep']) || '0') * 10 ** sc.priceDecimals });
  }
  return out;
}

/** An order object from REST/WS API (place result, query, openOrders entry, cancel result). */
export function toExchangeOrder(o: Json, venue: VenueId, scale: ScaleLookup): ExchangeOrder | undefined {
  const symbol = str(o['symbol']);
  const sc = scale(venue, symbol);
  if (!sc) return undefined;
  const type = str(o['type']);
  return {
    venue,
    symbol,
    // cancel results carry the cancelled order's id in origClientOrderId
    clientOrderId: str(o['origClientOrderId']) || str(o['clientOrderId']),
    exchangeOrderId: idString(o['orderId']),
    side: str(o['side']) === 'SELL' ? 'SELL' : 'BUY',
    type: mapType(type),
    tif: mapTif(type, str(o['timeInForce'])),
    price: scaled(o['price'], sc.priceDecimals),
    qty: scaled(o['origQty'], sc.qtyDecimals),
    filledQty: scaled(o['executedQty'], sc.qtyDecimals),
    state: mapStatus(str(o['status'])),
    updateTimeMs: num(o['updateTime']) || num(o['transactTime']) || num(o['time']),
  };
}

/** positionRisk entries */
export function toExchangePosition(p: Json, venue: VenueId, scale: ScaleLookup): ExchangePosition | undefined {
  const symbol = str(p['symbol']);
  const sc = scale(venue, symbol);
  if (!sc) return undefined;
  return { venue, symbol, qty: scaled(p['positionAmt'], sc.qtyDecimals), entryPrice: Number(str(p['entryPrice']) || '0') * 10 ** sc.priceDecimals };
}

/** A Spot `GET /api/v3/myTrades` or USD-M `GET /fapi/v1/userTrades` row (no client id: match by orderId). */
export function toExchangeFill(t: Json, venue: VenueId, scale: ScaleLookup): ExchangeFill | undefined {
  const symbol = str(t['symbol']);
  const sc = scale(venue, symbol);
  if (!sc) return undefined;
  const tradeId = idString(t['id']);
  const exchangeOrderId = idString(t['orderId']);
  if (tradeId === '' || exchangeOrderId === '') return undefined;
  // Spot: isBuyer; USD-M: side (and buyer)
  const buy = t['side'] !== undefined ? str(t['side']) === 'BUY' : t['isBuyer'] === true || t['buyer'] === true;
  return {
    venue, symbol, clientOrderId: '', exchangeOrderId, tradeId, side: buy ? 'BUY' : 'SELL',
    price: scaled(t['price'], sc.priceDecimals), qty: scaled(t['qty'], sc.qtyDecimals),
    fee: num(t['commission']), feeAsset: str(t['commissionAsset']),
    maker: t['isMaker'] === true || t['maker'] === true, timeMs: num(t['time']),
  };
}
