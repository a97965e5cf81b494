/**
 * Binance order/user-data parsing into the shared OrderEvent / ExchangeOrder / ExchangePosition.
 *
 * Sources: Spot `executionReport` (WS API user data stream, wrapped as {"subscriptionId":N,"event":{..}}),
 * USD-M `ORDER_TRADE_UPDATE`, `TRADE_LITE`, `ACCOUNT_UPDATE`, `listenKeyExpired`; REST/WS API order responses and
 * queries. Order ids can exceed 2^53: frames go through parseJsonIds (the id keys quoted when long), ids through idString.
 *
 * Private-stream events are read strictly and whole (the byte path, fastparse.ts, reads exactly the same): the
 * fields an event needs must be there with their documented types (s, c, x, X, i strings / ids; z, L, l, p, q
 * decimal strings, exactly scaled; n a decimal string; T, E non-negative integers; m a boolean), else the frame is
 * 'malformed' and nothing of it is reported (the stream owner counts it and reconciles).
 */
import { blankAlgoEvent, orderEventProblem, resetOrderEvent } from '../../../model/orders.js';
import type { AlgoEvent, AlgoEventKind, AlgoKind, AlgoState, ExchangeAlgo } from '../../../model/orders.js';
import type { VenueId } from '../../../model/types.js';
import { BINANCE_ID_PATTERNS, boolOk, decNumOf, idOf, idString, num, obj, parseJsonIds, str, uintOf, unitsOf, type Json } from '../../../codec/json.js';
import { scaled, type ScaleLookup } from '../../../codec/scale.js';
import type { ExchangeFill, ExchangeOrder, ExchangePosition, OrderEvent, OrderEventKind, OrderState, OrderType, TimeInForce } from '../../../model/orders.js';
import { nowNs } from '../../../util/clock.js';

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

export type UserFrameKind = 'order' | 'algo' | 'account' | 'listenKeyExpired' | 'terminated' | 'other' | 'malformed' | 'unknownSymbol';

export interface UserFrameHandlers {
  order(ev: OrderEvent): void;
  /** USD-M ALGO_UPDATE (without this handler the event is 'other') */
  algo?(ev: AlgoEvent): void;
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
      return orderTradeUpdate(o, e['E'] === undefined ? 0 : uintOf(e['E']), venue, scale, out, h, localNs);
    }
    case 'TRADE_LITE':
      return tradeLite(e, venue, scale, out, h, localNs);
    case 'ALGO_UPDATE': {
      if (!h.algo) return 'other';
      const o = obj(e['o']);
      if (!o) return 'malformed';
      const ev = algoUpdate(o, e, venue, scale, localNs);
      if (typeof ev === 'string') return ev;
      h.algo(ev);
      return 'algo';
    }
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

/** absent -> 0, else a non-negative integer (NaN when it is not one) */
function optUint(v: unknown): number {
  return v === undefined ? 0 : uintOf(v);
}

/** absent or null -> '', a string -> itself, anything else -> undefined (malformed) */
function optStr(v: unknown): string | undefined {
  return v === undefined || v === null ? '' : typeof v === 'string' ? v : undefined;
}

function executionReport(e: Json, venue: VenueId, scale: ScaleLookup, out: OrderEvent, h: UserFrameHandlers, localNs: number): UserFrameKind {
  const symbol = e['s'];
  if (typeof symbol !== 'string') return 'malformed';
  const sc = scale(venue, symbol);
  if (!sc) return 'unknownSymbol';
  const x = e['x'];
  const X = e['X'];
  const c = e['c'];
  const orig = optStr(e['C']);
  const i = idOf(e['i']);
  if (typeof x !== 'string' || typeof X !== 'string' || typeof c !== 'string' || orig === undefined || i === undefined) return 'malformed';
  reset(out, venue, 'stream');
  out.symbol = symbol;
  out.kind = mapExecType(x);
  out.clientOrderId = x === 'CANCELED' && orig !== '' ? orig : c;
  out.exchangeOrderId = i;
  out.state = mapStatus(X);
  out.cumQty = unitsOf(e['z'], sc.qtyDecimals);
  if (out.kind === 'fill') {
    const t = idOf(e['t']);
    const feeAsset = optStr(e['N']);
    if (t === undefined || feeAsset === undefined || !boolOk(e['m'])) return 'malformed';
    out.tradeId = t === '-1' ? '' : t;
    out.fillPrice = unitsOf(e['L'], sc.priceDecimals);
    out.fillQty = unitsOf(e['l'], sc.qtyDecimals);
    out.fee = e['n'] === undefined ? 0 : decNumOf(e['n']);
    out.feeAsset = feeAsset;
    out.maker = e['m'] === true;
  }
  if (out.kind === 'reject') {
    const r = optStr(e['r']);
    if (r === undefined) return 'malformed';
    out.reason = r;
  }
  if (out.kind === 'amend') {
    out.orderPrice = unitsOf(e['p'], sc.priceDecimals);
    out.orderQty = unitsOf(e['q'], sc.qtyDecimals);
  }
  const T = optUint(e['T']);
  const E = optUint(e['E']);
  out.exchTimeMs = T || E;
  out.localNs = localNs;
  if (Number.isNaN(T) || Number.isNaN(E) || orderEventProblem(out) !== '') return 'malformed';
  h.order(out);
  return 'order';
}

function orderTradeUpdate(o: Json, eventMs: number, venue: VenueId, scale: ScaleLookup, out: OrderEvent, h: UserFrameHandlers, localNs: number): UserFrameKind {
  const symbol = o['s'];
  if (typeof symbol !== 'string') return 'malformed';
  const sc = scale(venue, symbol);
  if (!sc) return 'unknownSymbol';
  const x = o['x'];
  const X = o['X'];
  const c = o['c'];
  const i = idOf(o['i']);
  if (typeof x !== 'string' || typeof X !== 'string' || typeof c !== 'string' || i === undefined) return 'malformed';
  reset(out, venue, 'stream');
  out.symbol = symbol;
  out.kind = mapExecType(x);
  out.clientOrderId = c;
  out.exchangeOrderId = i;
  out.state = mapStatus(X);
  out.cumQty = unitsOf(o['z'], sc.qtyDecimals);
  if (out.kind === 'fill') {
    const t = idOf(o['t']);
    const feeAsset = optStr(o['N']);
    if (t === undefined || feeAsset === undefined || !boolOk(o['m'])) return 'malformed';
    out.tradeId = t;
    out.fillPrice = unitsOf(o['L'], sc.priceDecimals);
    out.fillQty = unitsOf(o['l'], sc.qtyDecimals);
    out.fee = o['n'] === undefined ? 0 : decNumOf(o['n']);
    out.feeAsset = feeAsset;
    out.maker = o['m'] === true;
  }
  if (out.kind === 'amend') {
    out.orderPrice = unitsOf(o['p'], sc.priceDecimals);
    out.orderQty = unitsOf(o['q'], sc.qtyDecimals);
  }
  const T = optUint(o['T']);
  out.exchTimeMs = T || eventMs;
  out.localNs = localNs;
  if (Number.isNaN(T) || Number.isNaN(eventMs) || orderEventProblem(out) !== '') return 'malformed';
  h.order(out);
  return 'order';
}

function tradeLite(e: Json, venue: VenueId, scale: ScaleLookup, out: OrderEvent, h: UserFrameHandlers, localNs: number): UserFrameKind {
  const symbol = e['s'];
  if (typeof symbol !== 'string') return 'malformed';
  const sc = scale(venue, symbol);
  if (!sc) return 'unknownSymbol';
  const c = e['c'];
  const i = idOf(e['i']);
  const t = idOf(e['t']);
  if (typeof c !== 'string' || i === undefined || t === undefined || !boolOk(e['m'])) return 'malformed';
  reset(out, venue, 'stream');
  out.symbol = symbol;
  out.kind = 'fill';
  out.clientOrderId = c;
  out.exchangeOrderId = i;
  out.state = 'PARTIALLY_FILLED'; // TRADE_LITE has no status: the machine completes it from quantities
  out.tradeId = t;
  out.fillPrice = unitsOf(e['L'], sc.priceDecimals);
  out.fillQty = unitsOf(e['l'], sc.qtyDecimals);
  out.maker = e['m'] === true;
  const T = optUint(e['T']);
  const E = optUint(e['E']);
  out.exchTimeMs = T || E;
  out.localNs = localNs;
  if (Number.isNaN(T) || Number.isNaN(E) || orderEventProblem(out) !== '') return 'malformed';
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
    venue,
    symbol,
    clientOrderId: '',
    exchangeOrderId,
    tradeId,
    side: buy ? 'BUY' : 'SELL',
    price: scaled(t['price'], sc.priceDecimals),
    qty: scaled(t['qty'], sc.qtyDecimals),
    fee: num(t['commission']),
    feeAsset: str(t['commissionAsset']),
    maker: t['isMaker'] === true || t['maker'] === true,
    timeMs: num(t['time']),
  };
}

// ---- algo orders (USD-M) -----------------------------------------------------------------------------------

/** ALGO_UPDATE `X` / `algoStatus` in engine terms (undefined: not a documented status) */
export function mapAlgoStatus(x: string): AlgoState | undefined {
  switch (x) {
    case 'NEW':
      return 'OPEN';
    case 'TRIGGERING':
      return 'TRIGGERING';
    case 'TRIGGERED':
      return 'TRIGGERED';
    case 'FINISHED':
      return 'FINISHED';
    case 'CANCELED':
      return 'CANCELED';
    case 'REJECTED':
      return 'REJECTED';
    case 'EXPIRED':
      return 'EXPIRED';
    default:
      return undefined;
  }
}

export function algoKindOfState(s: AlgoState): AlgoEventKind {
  switch (s) {
    case 'TRIGGERED':
    case 'FINISHED':
      return 'trigger';
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

/** Binance algo `type` -> kind and whether it places a market order (undefined: not one we trade) */
export function algoTypeOf(t: string): { kind: AlgoKind; market: boolean } | undefined {
  switch (t) {
    case 'STOP_MARKET':
      return { kind: 'STOP', market: true };
    case 'STOP':
      return { kind: 'STOP', market: false };
    case 'TAKE_PROFIT_MARKET':
      return { kind: 'TAKE_PROFIT', market: true };
    case 'TAKE_PROFIT':
      return { kind: 'TAKE_PROFIT', market: false };
    default:
      return undefined;
  }
}

/**
 * One ALGO_UPDATE (`{e,E,T,o:{caid,aid,at,o,s,S,X,ai,...}}`), read whole: caid and s strings, aid an id, X a
 * documented status, ai a string ('' until the trigger placed its order), T/E non-negative integers; else
 * 'malformed' and nothing is reported. A new object per update (cold: algo updates are rare).
 */
function algoUpdate(o: Json, e: Json, venue: VenueId, scale: ScaleLookup, localNs: number): AlgoEvent | UserFrameKind {
  const symbol = o['s'];
  if (typeof symbol !== 'string') return 'malformed';
  if (!scale(venue, symbol)) return 'unknownSymbol';
  const caid = o['caid'];
  const aid = idOf(o['aid']);
  const X = o['X'];
  const ai = optStr(o['ai']);
  if (typeof caid !== 'string' || caid === '' || aid === undefined || typeof X !== 'string' || ai === undefined) return 'malformed';
  const state = mapAlgoStatus(X);
  if (state === undefined) return 'malformed';
  const T = optUint(e['T']);
  const E = optUint(e['E']);
  if (Number.isNaN(T) || Number.isNaN(E)) return 'malformed';
  const ev = blankAlgoEvent();
  ev.venue = venue;
  ev.symbol = symbol;
  ev.kind = algoKindOfState(state);
  ev.clientAlgoId = caid;
  ev.algoId = aid;
  ev.state = state;
  ev.orderId = ai;
  ev.exchTimeMs = T || E;
  ev.localNs = localNs;
  ev.source = 'stream';
  return ev;
}

/** An algo order object (`POST /fapi/v1/algoOrder` answer, `GET /fapi/v1/openAlgoOrders` entry); undefined when
 * a field it needs is missing or not a number. */
export function toExchangeAlgo(j: Json, venue: VenueId, scale: ScaleLookup): ExchangeAlgo | undefined {
  const symbol = str(j['symbol']);
  const sc = scale(venue, symbol);
  if (!sc) return undefined;
  const t = algoTypeOf(str(j['orderType']) || str(j['type']));
  const state = mapAlgoStatus(str(j['algoStatus']));
  const clientAlgoId = str(j['clientAlgoId']);
  const algoId = idString(j['algoId']);
  if (!t || !state || clientAlgoId === '' || algoId === '') return undefined;
  const triggerPrice = unitsOf(j['triggerPrice'], sc.priceDecimals);
  const price = t.market ? 0 : unitsOf(j['price'], sc.priceDecimals);
  const qty = unitsOf(j['quantity'], sc.qtyDecimals);
  if (!Number.isSafeInteger(triggerPrice) || !Number.isSafeInteger(price) || !Number.isSafeInteger(qty)) return undefined;
  return {
    venue,
    symbol,
    clientAlgoId,
    algoId,
    side: str(j['side']) === 'SELL' ? 'SELL' : 'BUY',
    kind: t.kind,
    triggerPrice,
    price,
    qty,
    reduceOnly: j['reduceOnly'] === true,
    state,
    updateTimeMs: num(j['updateTime']) || num(j['createTime']),
  };
}
