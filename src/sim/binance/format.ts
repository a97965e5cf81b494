/**
 * Wire formatting of Binance payloads by string building (no JSON.stringify on the hot path).
 * Spot prints prices and quantities with 8 decimals ("0.35210000"); USD-M with the symbol's own decimals ("7.6110").
 * Ids held as decimal strings (USD-M ids may exceed 2^53) are printed as bare JSON numbers, as Binance does.
 */
import { formatScaled } from '../../util/fixed.js';
import type { SimFill, SimInstrument, SimOrder } from '../core/types.js';

export type BnKind = 'spot' | 'usdm';

/** Decimal string of `units` scaled by 10^decimals, padded or cut to `wire` decimals. */
export function decStr(units: number, decimals: number, wire: number): string {
  const s = formatScaled(units, decimals);
  if (wire === decimals) return s;
  if (wire > decimals) return (decimals === 0 ? s + '.' : s) + ZEROS.slice(0, wire - decimals);
  const cut = s.slice(0, s.length - (decimals - wire));
  return wire === 0 ? cut.slice(0, -1) : cut;
}
const ZEROS = '0000000000000000000000000000';

/** Number formatting for one instrument on one venue. */
export class InstFmt {
  readonly pxWire: number;
  readonly qtyWire: number;
  readonly quoteWire: number;
  readonly tickUnits: number;
  readonly stepUnits: number;
  readonly zeroPx: string;
  readonly zeroQty: string;
  constructor(
    readonly inst: SimInstrument,
    readonly kind: BnKind,
  ) {
    this.pxWire = kind === 'spot' ? 8 : inst.priceDecimals;
    this.qtyWire = kind === 'spot' ? 8 : inst.qtyDecimals;
    this.quoteWire = 8;
    this.tickUnits = scaledOf(inst.tickSize, inst.priceDecimals);
    this.stepUnits = scaledOf(inst.stepSize, inst.qtyDecimals);
    this.zeroPx = decStr(0, 0, this.pxWire);
    this.zeroQty = decStr(0, 0, this.qtyWire);
  }
  px(ticks: number): string {
    return decStr(ticks, this.inst.priceDecimals, this.pxWire);
  }
  qty(lots: number): string {
    return decStr(lots, this.inst.qtyDecimals, this.qtyWire);
  }
  /** quote amount of price(ticks)*qty(lots) */
  quote(tl: number): string {
    return decStr(tl, this.inst.priceDecimals + this.inst.qtyDecimals, this.quoteWire);
  }
  /** average fill price of an order ("0" style when unfilled) */
  avgPx(o: SimOrder, wire = this.pxWire): string {
    if (o.filledLots <= 0) return wire === this.pxWire ? this.zeroPx : decStr(0, 0, wire);
    const ticks = o.cumQuoteTL / o.filledLots;
    return (ticks / 10 ** this.inst.priceDecimals).toFixed(wire);
  }
}

function scaledOf(step: string, decimals: number): number {
  const dot = step.indexOf('.');
  const int = dot < 0 ? step : step.slice(0, dot);
  let frac = dot < 0 ? '' : step.slice(dot + 1);
  frac = (frac + ZEROS).slice(0, decimals);
  return Number(int + frac) || 1;
}

/** Binance order type / timeInForce names of a core order. */
export function typeName(o: SimOrder, kind: BnKind): string {
  if (o.stop) return o.stop.type;
  if (kind === 'spot' && o.tif === 'POST_ONLY') return 'LIMIT_MAKER';
  return o.type;
}
export function tifName(o: SimOrder, kind: BnKind): string {
  if (o.tif === 'POST_ONLY') return kind === 'spot' ? 'GTC' : 'GTX';
  if (o.type === 'MARKET') return 'GTC';
  return o.tif;
}

/** Order id as a JSON number (the string holds only digits). */
export function idNum(id: string): string {
  return id.length > 0 ? id : '0';
}

/** JSON string literal; fast path for the identifier-safe strings we validate on input. */
export function q(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 32 || c === 34 || c === 92 || c > 126) return JSON.stringify(s);
  }
  return '"' + s + '"';
}

// ---------------------------------------------------------------- Spot REST / WS API order shapes

/** a Spot order's `stopPrice` (0 unless a stop order) */
function stopPx(o: SimOrder, f: InstFmt): string {
  return o.stop ? f.px(o.stop.stopTicks) : f.zeroPx;
}
/** when the order started working on the book: -1 for a stop order not yet triggered */
function workingMs(o: SimOrder): number {
  return o.stop ? o.stop.workingMs : o.createdMs;
}

export function spotOrderResult(o: SimOrder, f: InstFmt, respType: 'ACK' | 'RESULT' | 'FULL', fills: readonly SimFill[], transactTime: number): string {
  let s = `{"symbol":${q(o.symbol)},"orderId":${idNum(o.orderId)},"orderListId":-1,"clientOrderId":${q(o.clientOrderId)},"transactTime":${transactTime}`;
  if (respType === 'ACK') return s + '}';
  s +=
    `,"price":"${o.type === 'MARKET' ? f.zeroPx : f.px(o.priceTicks)}","origQty":"${f.qty(o.qtyLots)}","executedQty":"${f.qty(o.filledLots)}"` +
    `,"origQuoteOrderQty":"${f.zeroPx}","cummulativeQuoteQty":"${f.quote(o.cumQuoteTL)}","status":"${o.status}","timeInForce":"${tifName(o, 'spot')}"` +
    `,"type":"${typeName(o, 'spot')}","side":"${o.side}"${o.stop ? `,"stopPrice":"${stopPx(o, f)}"` : ''},"workingTime":${workingMs(o)},"selfTradePreventionMode":"NONE"`;
  if (respType === 'RESULT') return s + '}';
  s += ',"fills":[';
  for (let i = 0; i < fills.length; i++) {
    const x = fills[i]!;
    s +=
      (i ? ',' : '') +
      `{"price":"${f.px(x.priceTicks)}","qty":"${f.qty(x.qtyLots)}","commission":"${amt(x.fee)}","commissionAsset":${q(feeAssetOf(x, o.side === 'BUY' ? f.inst.base : f.inst.quote))},"tradeId":${x.tradeId}}`;
  }
  return s + ']}';
}

/** GET /api/v3/order, openOrders entries */
export function spotOrderQuery(o: SimOrder, f: InstFmt): string {
  const open = (o.status === 'NEW' || o.status === 'PARTIALLY_FILLED') && workingMs(o) >= 0;
  return (
    `{"symbol":${q(o.symbol)},"orderId":${idNum(o.orderId)},"orderListId":-1,"clientOrderId":${q(o.clientOrderId)}` +
    `,"price":"${o.type === 'MARKET' ? f.zeroPx : f.px(o.priceTicks)}","origQty":"${f.qty(o.qtyLots)}","executedQty":"${f.qty(o.filledLots)}"` +
    `,"cummulativeQuoteQty":"${f.quote(o.cumQuoteTL)}","status":"${o.status}","timeInForce":"${tifName(o, 'spot')}","type":"${typeName(o, 'spot')}"` +
    `,"side":"${o.side}","stopPrice":"${stopPx(o, f)}","icebergQty":"${f.zeroQty}","time":${o.stop?.placedMs ?? o.createdMs},"updateTime":${o.updatedMs}` +
    `,"isWorking":${open},"workingTime":${workingMs(o)},"origQuoteOrderQty":"${f.zeroPx}","selfTradePreventionMode":"NONE"}`
  );
}

/** DELETE /api/v3/order, openOrders.cancelAll entries */
export function spotCancelResult(o: SimOrder, f: InstFmt, cancelClientId: string, transactTime: number): string {
  return (
    `{"symbol":${q(o.symbol)},"origClientOrderId":${q(o.clientOrderId)},"orderId":${idNum(o.orderId)},"orderListId":-1,"clientOrderId":${q(cancelClientId)}` +
    `,"transactTime":${transactTime},"price":"${o.type === 'MARKET' ? f.zeroPx : f.px(o.priceTicks)}","origQty":"${f.qty(o.qtyLots)}","executedQty":"${f.qty(o.filledLots)}"` +
    `,"origQuoteOrderQty":"${f.zeroPx}","cummulativeQuoteQty":"${f.quote(o.cumQuoteTL)}","status":"${o.status}","timeInForce":"${tifName(o, 'spot')}"` +
    `,"type":"${typeName(o, 'spot')}","side":"${o.side}"${o.stop ? `,"stopPrice":"${stopPx(o, f)}"` : ''},"selfTradePreventionMode":"NONE"}`
  );
}

// ---------------------------------------------------------------- USD-M REST / WS API order shapes

/** POST/DELETE /fapi/v1/order (2026-07 shape: no avgPrice/cumQuote); `query` adds them back (GET order / openOrders). */
export function usdmOrder(o: SimOrder, f: InstFmt, query: boolean): string {
  let s =
    `{"orderId":${idNum(o.orderId)},"symbol":${q(o.symbol)},"status":"${o.status}","clientOrderId":${q(o.clientOrderId)}` +
    `,"price":"${o.type === 'MARKET' ? f.zeroPx : f.px(o.priceTicks)}"`;
  // real GET /fapi/v1/order: avgPrice with (at least) 5 decimals, cumQuote exact ("3057.89000", "21.40523" for ETHUSDT)
  if (query) s += `,"avgPrice":"${f.avgPx(o, Math.max(5, f.pxWire))}"`;
  s += `,"origQty":"${f.qty(o.qtyLots)}","executedQty":"${f.qty(o.filledLots)}"`;
  if (query) {
    const qd = f.inst.priceDecimals + f.inst.qtyDecimals;
    s += `,"cumQuote":"${decStr(o.cumQuoteTL, qd, o.cumQuoteTL === 0 ? f.pxWire : qd)}"`;
  }
  s +=
    `,"timeInForce":"${tifName(o, 'usdm')}","type":"${o.type}","reduceOnly":${o.reduceOnly},"closePosition":false,"side":"${o.side}"` +
    `,"positionSide":"BOTH","stopPrice":"${f.zeroPx}","workingType":"CONTRACT_PRICE","priceProtect":false,"origType":"${o.type}"` +
    `,"priceMatch":"NONE","selfTradePreventionMode":"EXPIRE_MAKER","goodTillDate":0,"time":${o.createdMs},"updateTime":${o.updatedMs}}`;
  return s;
}

// ---------------------------------------------------------------- user data events

export function executionReport(
  o: SimOrder,
  fill: SimFill | undefined,
  f: InstFmt,
  execType: string,
  eventMs: number,
  execId: number,
  origClientId: string,
  clientId?: string,
): string {
  const working = o.stop ? o.stop.workingMs : o.createdMs;
  const open = (o.status === 'NEW' || o.status === 'PARTIALLY_FILLED') && working >= 0;
  const lastQty = fill ? f.qty(fill.qtyLots) : f.zeroQty;
  const lastPx = fill ? f.px(fill.priceTicks) : f.zeroPx;
  const lastQuote = fill ? f.quote(fill.priceTicks * fill.qtyLots) : f.zeroPx;
  const commAsset = fill ? q(feeAssetOf(fill, o.side === 'BUY' ? f.inst.base : f.inst.quote)) : 'null';
  return (
    `{"e":"executionReport","E":${eventMs},"s":${q(o.symbol)},"c":${q(clientId ?? o.clientOrderId)},"S":"${o.side}","o":"${typeName(o, 'spot')}"` +
    `,"f":"${tifName(o, 'spot')}","q":"${f.qty(o.qtyLots)}","p":"${o.type === 'MARKET' ? f.zeroPx : f.px(o.priceTicks)}","P":"${o.stop ? f.px(o.stop.stopTicks) : f.zeroPx}","F":"${f.zeroQty}"` +
    `,"g":-1,"C":${q(origClientId)},"x":"${execType}","X":"${o.status}","r":"NONE","i":${idNum(o.orderId)},"l":"${lastQty}","z":"${f.qty(o.filledLots)}"` +
    `,"L":"${lastPx}","n":"${fill ? amt(fill.fee) : '0'}","N":${commAsset},"T":${fill ? fill.timeMs : o.updatedMs},"t":${fill ? fill.tradeId : -1}` +
    `,"I":${execId},"w":${open},"m":${fill ? fill.maker : false},"M":false,"O":${o.stop?.placedMs ?? o.createdMs},"Z":"${f.quote(o.cumQuoteTL)}","Y":"${lastQuote}"` +
    // W (working time) only once the order is on the book: absent for a stop order waiting for its trigger
    `,"Q":"${f.zeroPx}"${working >= 0 ? `,"W":${working}` : ''},"V":"NONE"}`
  );
}

export function orderTradeUpdate(o: SimOrder, fill: SimFill | undefined, f: InstFmt, execType: string, eventMs: number): string {
  const t = fill ? fill.timeMs : o.updatedMs;
  return (
    `{"e":"ORDER_TRADE_UPDATE","T":${t},"E":${eventMs},"o":{"s":${q(o.symbol)},"c":${q(o.clientOrderId)},"S":"${o.side}","o":"${o.type}"` +
    `,"f":"${tifName(o, 'usdm')}","q":"${f.qty(o.qtyLots)}","p":"${o.type === 'MARKET' ? '0' : f.px(o.priceTicks)}","ap":"${f.avgPx(o)}","sp":"0"` +
    `,"x":"${execType}","X":"${o.status}","i":${idNum(o.orderId)},"l":"${fill ? f.qty(fill.qtyLots) : '0'}","z":"${f.qty(o.filledLots)}"` +
    `,"L":"${fill ? f.px(fill.priceTicks) : '0'}","N":${q(fill ? feeAssetOf(fill, f.inst.quote) : f.inst.quote)},"n":"${fill ? amt(fill.fee) : '0'}","T":${t},"t":${fill ? fill.tradeId : 0},"b":"0","a":"0"` +
    `,"m":${fill ? fill.maker : false},"R":${o.reduceOnly},"wt":"CONTRACT_PRICE","ot":"${o.type}","ps":"BOTH","cp":false,"AP":"0","cr":"0"` +
    `,"pP":false,"si":0,"ss":0,"rp":"0","V":"EXPIRE_MAKER","pm":"NONE","gtd":0}}`
  );
}

export function tradeLite(o: SimOrder, fill: SimFill, f: InstFmt, eventMs: number): string {
  return (
    `{"e":"TRADE_LITE","E":${eventMs},"T":${fill.timeMs},"s":${q(o.symbol)},"q":"${f.qty(o.qtyLots)}","p":"${o.type === 'MARKET' ? '0' : f.px(o.priceTicks)}"` +
    `,"m":${fill.maker},"c":${q(o.clientOrderId)},"S":"${o.side}","L":"${f.px(fill.priceTicks)}","l":"${f.qty(fill.qtyLots)}","t":${fill.tradeId},"i":${idNum(o.orderId)}}`
  );
}

/** the asset a fill's fee was paid in (the core sets it; `standard` for a fill no account booked) */
export function feeAssetOf(fill: SimFill, standard: string): string {
  return fill.feeAsset !== '' ? fill.feeAsset : standard;
}

/** Fixed-point text of a float amount (balances are floats in the core: reporting only). */
export function amt(x: number, decimals = 8): string {
  return (Number.isFinite(x) ? x : 0).toFixed(decimals);
}
