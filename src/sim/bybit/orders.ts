/**
 * Bybit order parameters -> the core's SimNewOrder, and SimOrder / SimFill -> Bybit's JSON (REST list items,
 * private `order` / `execution` / `execution.fast` items). Field names and JSON types follow
 * fixtures/bybit/docs_private_order_message.json and docs_private_execution_message.json.
 */
import type { SimBook, SimFill, SimNewOrder, SimOrder, SimOrderStatus, SimTimeInForce } from '../core/types.js';
import { InstrumentFmt, PRICE_LIMIT_RATIOS, isPlainDecimal, q, type Category } from './common.js';
import { rateStr } from '../core/fees.js';
import type { BybitError } from './errors.js';

/** Generated orderLinkIds (client gave none) start with a character Bybit forbids in real ones. */
export const GENERATED_LINK_PREFIX = '~';
export function linkIdOut(clientOrderId: string): string {
  return clientOrderId.startsWith(GENERATED_LINK_PREFIX) ? '' : clientOrderId;
}

const LINK_ID_RE = /^[A-Za-z0-9_-]{1,36}$/;

function err(code: number, msg: string): BybitError {
  return { code, msg };
}

/** Validate a create-order argument object (REST body or trade-WS arg) into a core order. */
export function parseCreate(
  a: Record<string, unknown>,
  category: Category,
  fmt: InstrumentFmt,
  book: SimBook,
  accountId: string,
  nextLinkId: () => string,
  /** the linear account is in hedge mode: positionIdx 1 (Buy side) or 2 (Sell side) on every order */
  hedge = false,
): SimNewOrder | BybitError {
  const spot = category === 'spot';
  // TP/SL on an order is not simulated: refuse it rather than place a plain order silently (conditional orders,
  // triggerPrice, are taken by conditional.ts before this)
  for (const k of ['takeProfit', 'stopLoss']) {
    const v = a[k];
    if (v !== undefined && v !== null && v !== '' && v !== '0') return err(10001, `params error: ${k} is not supported by the simulator`);
  }
  const side = a['side'];
  if (side !== 'Buy' && side !== 'Sell') return err(10001, 'params error: Side invalid');
  const orderType = a['orderType'];
  if (orderType !== 'Market' && orderType !== 'Limit') return err(10001, 'params error: OrderType invalid');
  let tif: SimTimeInForce;
  const tifIn = a['timeInForce'];
  if (tifIn === undefined || tifIn === '') tif = orderType === 'Market' ? 'IOC' : 'GTC';
  else if (tifIn === 'GTC') tif = 'GTC';
  else if (tifIn === 'IOC') tif = 'IOC';
  else if (tifIn === 'FOK') tif = 'FOK';
  else if (tifIn === 'PostOnly') tif = 'POST_ONLY';
  else return err(10001, 'params error: TimeInForce invalid');
  if (orderType === 'Market') tif = tif === 'FOK' ? 'FOK' : 'IOC';

  const link = a['orderLinkId'];
  let clientOrderId: string;
  if (link === undefined || link === '') clientOrderId = nextLinkId();
  else if (typeof link !== 'string' || !LINK_ID_RE.test(link)) return err(10001, 'params error: orderLinkId invalid');
  else clientOrderId = link;

  const pIdx = a['positionIdx'];
  if (hedge && !spot) {
    if (pIdx !== 1 && pIdx !== 2 && pIdx !== '1' && pIdx !== '2') return err(10001, 'position idx not match position mode');
  } else if (pIdx !== undefined && pIdx !== 0 && pIdx !== '0') return err(10001, 'position idx not match position mode');

  let reduceOnly = false;
  const ro = a['reduceOnly'];
  if (ro !== undefined) {
    if (typeof ro !== 'boolean') return err(10001, 'params error: reduceOnly invalid');
    reduceOnly = spot ? false : ro;
  }

  // price
  let priceTicks = 0;
  const priceIn = a['price'];
  if (orderType === 'Limit') {
    if (priceIn === undefined || priceIn === '') return err(10001, 'params error: price invalid');
    if (!isPlainDecimal(priceIn) || Number(priceIn) <= 0) return err(10001, 'params error: price invalid');
    priceTicks = parsePrecise(priceIn, fmt.priceDecimals);
    if (Number.isNaN(priceTicks)) return spot ? err(170134, 'Order price has too many decimals.') : err(10001, 'params error: price invalid');
    if (priceTicks % fmt.tickUnits !== 0) return spot ? err(170134, 'Order price has too many decimals.') : err(10001, 'params error: price invalid');
    if (priceTicks <= 0) return spot ? err(170133, 'Order price lower than the minimum.') : err(110003, 'Order price is out of permissible range');
    const limit = checkPriceLimit(book, fmt, side === 'Buy', priceTicks);
    if (limit) return limit;
  } else if (priceIn !== undefined && priceIn !== '' && !isPlainDecimal(priceIn)) {
    return err(10001, 'params error: price invalid');
  }

  // quantity
  const qtyIn = a['qty'];
  if (!isPlainDecimal(qtyIn) || Number(qtyIn) <= 0) return err(10001, 'params error: qty invalid');
  let qtyLots: number;
  const marketUnit = a['marketUnit'];
  if (spot && orderType === 'Market' && side === 'Buy' && marketUnit !== 'baseCoin') {
    // spot market buy: qty is a quote amount by default (marketUnit=quoteCoin)
    const quote = Number(qtyIn);
    if (quote < fmt.minNotional) return err(170140, 'Order value exceeded lower limit.');
    qtyLots = baseLotsForQuote(book, fmt, quote);
    if (qtyLots <= 0) return err(170136, 'Order quantity lower than the minimum.');
  } else {
    qtyLots = parsePrecise(qtyIn, fmt.qtyDecimals);
    if (Number.isNaN(qtyLots) || qtyLots % fmt.stepUnits !== 0) {
      return spot ? err(170137, 'Order quantity has too many decimals.') : err(10001, 'params error: qty invalid');
    }
    if (qtyLots < fmt.minQtyLots) {
      return spot ? err(170136, 'Order quantity lower than the minimum.') : err(10001, 'The number of contracts below min limit allowed');
    }
    if (qtyLots > fmt.maxQtyLots) {
      return spot ? err(170135, 'Order quantity too large.') : err(10001, 'The number of contracts exceeds maximum limit allowed');
    }
    // minimum notional (reduce-only orders are exempt on linear)
    const refTicks = orderType === 'Limit' ? priceTicks : refPrice(book, side === 'Buy');
    if (refTicks > 0 && !reduceOnly) {
      const notional = fmt.priceFloat(refTicks) * fmt.qtyFloat(qtyLots);
      if (notional + 1e-12 < fmt.minNotional) {
        return spot
          ? err(170140, 'Order value exceeded lower limit.')
          : err(110094, `Order does not meet minimum order value ${fmt.inst.minNotional}${fmt.inst.quote}`);
      }
    }
  }
  return {
    accountId,
    clientOrderId,
    side: side === 'Buy' ? 'BUY' : 'SELL',
    type: orderType === 'Market' ? 'MARKET' : 'LIMIT',
    tif,
    priceTicks,
    qtyLots,
    reduceOnly,
  };
}

/** parseScaled but NaN when there are more significant decimals than allowed */
function parsePrecise(text: string, decimals: number): number {
  const dot = text.indexOf('.');
  if (dot >= 0) {
    let end = text.length;
    while (end > dot + 1 && text.charCodeAt(end - 1) === 48) end--;
    if (end - dot - 1 > decimals) return NaN;
  }
  let v = 0;
  let frac = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      frac = 0;
      continue;
    }
    if (frac >= 0) {
      if (frac >= decimals) continue;
      frac++;
    }
    v = v * 10 + (c - 48);
  }
  if (frac < 0) frac = 0;
  for (let i = frac; i < decimals; i++) v *= 10;
  return v;
}

/**
 * Bybit's price limits of a limit order (docs: "Set Price Limit Behaviour"; x, y = priceLimitRatioX, Y), with the
 * index price = the mark price = the book's mid (the simulator has no separate index, and no premium):
 * - spot:    max buy  = min(max(index, index * (1 + x) + premium), index * (1 + y))
 *            min sell = max(min(index, index * (1 - x) + premium), index * (1 - y))
 * - futures: max buy  = min(max(index, mark * (1 + x)), mark * (1 + y))
 *            min sell = max(min(index, mark * (1 - x)), mark * (1 - y))
 * Both come to mid * (1 +- x); in price units, the max buy rounded down and the min sell up to the tick. undefined
 * while the book has no bid or no ask (no reference price: no limit checked).
 */
export function priceLimits(book: SimBook, fmt: InstrumentFmt): { maxBuy: number; minSell: number } | undefined {
  const b = book.bestBid();
  const a = book.bestAsk();
  if (!b || !a) return undefined;
  const mid = (b.priceTicks + a.priceTicks) / 2;
  const index = mid;
  const mark = mid;
  const { x, y } = PRICE_LIMIT_RATIOS[fmt.category];
  const hi = fmt.category === 'spot' ? Math.min(Math.max(index, index * (1 + x)), index * (1 + y)) : Math.min(Math.max(index, mark * (1 + x)), mark * (1 + y));
  const lo = fmt.category === 'spot' ? Math.max(Math.min(index, index * (1 - x)), index * (1 - y)) : Math.max(Math.min(index, mark * (1 - x)), mark * (1 - y));
  const t = fmt.tickUnits;
  // 1e-9: a product like 97000.5 * 1.01 must not lose its last tick to binary rounding
  return { maxBuy: Math.floor(hi / t + 1e-9) * t, minSell: Math.ceil(lo / t - 1e-9) * t };
}

/**
 * A limit price outside the linear priceFilter (minPrice / maxPrice) or Bybit's price limits: spot 170193 / 170194
 * with the limit in the text (spot rejects: lpaSpot off), linear 110003 (the simulator rejects; an account with
 * lpaPerp on would have the price moved to the limit instead). undefined = within.
 */
export function checkPriceLimit(book: SimBook, fmt: InstrumentFmt, buy: boolean, priceTicks: number): BybitError | undefined {
  const spot = fmt.category === 'spot';
  if (!spot && (priceTicks < fmt.minPriceTicks || priceTicks > fmt.maxPriceTicks)) return err(110003, 'Order price is out of permissible range');
  const l = priceLimits(book, fmt);
  if (!l) return undefined;
  if (buy && priceTicks > l.maxBuy)
    return spot ? err(170193, `Buy order price cannot be higher than ${fmt.price(l.maxBuy)}.`) : err(110003, 'Order price is out of permissible range');
  if (!buy && priceTicks < l.minSell)
    return spot ? err(170194, `Sell order price cannot be lower than ${fmt.price(l.minSell)}.`) : err(110003, 'Order price is out of permissible range');
  return undefined;
}

function refPrice(book: SimBook, buy: boolean): number {
  const l = buy ? book.bestAsk() : book.bestBid();
  if (l) return l.priceTicks;
  const o = buy ? book.bestBid() : book.bestAsk();
  return o ? o.priceTicks : 0;
}

/** Base lots a quote amount buys walking the asks (spot market buy in quoteCoin units), floored to the step. */
function baseLotsForQuote(book: SimBook, fmt: InstrumentFmt, quote: number): number {
  const asks = book.depth(1000).asks;
  let left = quote;
  let lots = 0;
  for (const [p, qty] of asks) {
    const px = fmt.priceFloat(p);
    const levelQuote = px * fmt.qtyFloat(qty);
    if (levelQuote >= left) {
      lots += Math.floor((left / px) * fmt.qtyMul);
      left = 0;
      break;
    }
    lots += qty;
    left -= levelQuote;
  }
  return lots - (lots % fmt.stepUnits);
}

export function statusOut(o: SimOrder, category: Category): string {
  return statusName(o.status, o.filledLots > 0, category);
}

export function statusName(s: SimOrderStatus, anyFill: boolean, category: Category): string {
  switch (s) {
    case 'NEW':
      return 'New';
    case 'PARTIALLY_FILLED':
      return 'PartiallyFilled';
    case 'FILLED':
      return 'Filled';
    case 'REJECTED':
      return 'Rejected';
    case 'CANCELED':
    case 'EXPIRED':
      return category === 'spot' && anyFill ? 'PartiallyFilledCanceled' : 'Cancelled';
  }
}

const TIF_OUT: Record<SimTimeInForce, string> = { GTC: 'GTC', IOC: 'IOC', FOK: 'FOK', POST_ONLY: 'PostOnly' };

/** What the venue remembers about an order beyond the core's SimOrder. */
export interface OrderExtra {
  cancelType: string; // UNKNOWN, CancelByUser, ...
  rejectReason: string; // EC_NoError, ...
  cumFee: number;
  feeCoin: string;
  lastPriceOnCreated: string;
}

export function avgPriceOut(o: SimOrder, fmt: InstrumentFmt): string {
  if (o.filledLots <= 0) return '';
  const units = o.cumQuoteTL / o.filledLots;
  // average may fall between ticks: print with extra precision, trimmed
  if (Number.isInteger(units)) return fmt.price(units);
  return InstrumentFmt.amount(units / fmt.priceMul, fmt.priceDecimals + 4);
}

function cumValue(o: SimOrder, fmt: InstrumentFmt): number {
  return o.cumQuoteTL / fmt.priceMul / fmt.qtyMul;
}

/** The conditional fields of an order (conditional.ts): its status before it placed its order, and its trigger. */
export interface CondFields {
  /** Untriggered | Triggered | Deactivated; '' once its order is in the book (the order's own status) */
  status: string;
  stopOrderType: string;
  triggerPrice: string;
  triggerDirection: number;
  triggerBy: string;
}

/** One order item with exactly the keys of the private `order` push (docs fixture). */
export function orderItemJson(o: SimOrder, category: Category, fmt: InstrumentFmt, x: OrderExtra, c?: CondFields): string {
  const leaves = isOpen(o.status) ? o.qtyLots - o.filledLots : 0;
  const leavesValue = o.type === 'LIMIT' ? InstrumentFmt.amount(fmt.priceFloat(o.priceTicks) * fmt.qtyFloat(leaves)) : '0';
  const price = o.type === 'MARKET' ? (category === 'spot' ? '0' : fmt.price(o.priceTicks)) : fmt.price(o.priceTicks);
  const fee = InstrumentFmt.amount(x.cumFee);
  const feeDetail = x.cumFee !== 0 ? `{${q(x.feeCoin)}:"${fee}"}` : '{}';
  return (
    `{"symbol":"${fmt.inst.symbol}","orderId":${q(o.orderId)},"side":"${o.side === 'BUY' ? 'Buy' : 'Sell'}",` +
    `"orderType":"${o.type === 'MARKET' ? 'Market' : 'Limit'}","cancelType":"${x.cancelType}","price":"${price}",` +
    `"qty":"${fmt.qty(o.qtyLots)}","orderIv":"","timeInForce":"${TIF_OUT[o.tif]}","orderStatus":"${c && c.status !== '' ? c.status : statusOut(o, category)}",` +
    `"orderLinkId":${q(linkIdOut(o.clientOrderId))},"lastPriceOnCreated":"${x.lastPriceOnCreated}","reduceOnly":${o.reduceOnly},` +
    `"leavesQty":"${fmt.qty(leaves)}","leavesValue":"${leavesValue}","cumExecQty":"${fmt.qty(o.filledLots)}",` +
    `"cumExecValue":"${InstrumentFmt.amount(cumValue(o, fmt))}","avgPrice":"${avgPriceOut(o, fmt)}","blockTradeId":"",` +
    `"positionIdx":0,"cumExecFee":"${fee}","closedPnl":"0","createdTime":"${o.createdMs}","updatedTime":"${o.updatedMs}",` +
    `"rejectReason":"${x.rejectReason}","stopOrderType":"${c?.stopOrderType ?? ''}","tpslMode":"","triggerPrice":"${c?.triggerPrice ?? ''}",` +
    `"takeProfit":"","stopLoss":"","tpTriggerBy":"","slTriggerBy":"","tpLimitPrice":"","slLimitPrice":"",` +
    `"triggerDirection":${c?.triggerDirection ?? 0},"triggerBy":"${c?.triggerBy ?? ''}","closeOnTrigger":false,"category":"${category}","placeType":"",` +
    `"smpType":"None","smpGroup":0,"smpOrderId":"","feeCurrency":"${category === 'spot' ? x.feeCoin : ''}",` +
    `"cumFeeDetail":${feeDetail},"rpiTakerAccess":false,"rpiMatchedQty":"0"}`
  );
}

export function isOpen(s: SimOrderStatus): boolean {
  return s === 'NEW' || s === 'PARTIALLY_FILLED';
}

export interface ExecInfo {
  execId: string;
  fee: number;
  feeRate: number;
  feeCoin: string;
  seq: number;
  markPrice: string;
  closedLots: number;
  execPnl: number;
}

/** One execution item with exactly the keys of the private `execution` push (docs fixture). */
export function executionItemJson(o: SimOrder, f: SimFill, category: Category, fmt: InstrumentFmt, e: ExecInfo, withCategory = true): string {
  const leaves = isOpen(o.status) ? o.qtyLots - o.filledLots : 0;
  const execValue = fmt.priceFloat(f.priceTicks) * fmt.qtyFloat(f.qtyLots);
  return (
    (withCategory ? `{"category":"${category}",` : '{') +
    `"symbol":"${fmt.inst.symbol}","closedSize":"${category === 'linear' ? fmt.qty(e.closedLots) : ''}",` +
    `"execFee":"${InstrumentFmt.amount(e.fee)}","execId":"${e.execId}","execPrice":"${fmt.price(f.priceTicks)}",` +
    `"execQty":"${fmt.qty(f.qtyLots)}","execType":"Trade","execValue":"${InstrumentFmt.amount(execValue)}",` +
    `"feeRate":"${rateStr(e.feeRate)}","tradeIv":"","markIv":"","blockTradeId":"","markPrice":"${e.markPrice}","indexPrice":"",` +
    `"underlyingPrice":"","leavesQty":"${fmt.qty(leaves)}","orderId":${q(o.orderId)},"orderLinkId":${q(linkIdOut(o.clientOrderId))},` +
    `"orderPrice":"${o.type === 'MARKET' && category === 'spot' ? '0' : fmt.price(o.priceTicks)}","orderQty":"${fmt.qty(o.qtyLots)}",` +
    `"orderType":"${o.type === 'MARKET' ? 'Market' : 'Limit'}","stopOrderType":"UNKNOWN","side":"${f.side === 'BUY' ? 'Buy' : 'Sell'}",` +
    `"execTime":"${f.timeMs}","isLeverage":"0","isMaker":${f.maker},"seq":${e.seq},"marketUnit":"",` +
    `"execPnl":"${category === 'linear' ? InstrumentFmt.amount(e.execPnl) : '0'}","createType":"${category === 'linear' ? 'CreateByUser' : ''}",` +
    `"extraFees":[],"feeCurrency":"${e.feeCoin}"}`
  );
}

/** One `execution.fast` item (no fees; lowest latency). */
export function fastExecutionItemJson(o: SimOrder, f: SimFill, category: Category, fmt: InstrumentFmt, e: ExecInfo): string {
  return (
    `{"category":"${category}","symbol":"${fmt.inst.symbol}","orderId":${q(o.orderId)},"isMaker":${f.maker},` +
    `"orderLinkId":${q(linkIdOut(o.clientOrderId))},"execId":"${e.execId}","execPrice":"${fmt.price(f.priceTicks)}",` +
    `"execQty":"${fmt.qty(f.qtyLots)}","side":"${f.side === 'BUY' ? 'Buy' : 'Sell'}","execTime":"${f.timeMs}","seq":${e.seq}}`
  );
}
