/**
 * Binance request semantics shared by REST and the WebSocket API: parameter validation with the real error codes,
 * order placement / cancel / query against the core's books, and the JSON bodies of the answers.
 * An operation returns the result JSON text or a `BnError`.
 */
import { randomBytes } from 'node:crypto';
import { parseScaled } from '../../util/fixed.js';
import {
  accountProfileOf,
  type SimAccount,
  type SimBalances,
  type SimBook,
  type SimContext,
  type SimMarketId,
  type SimNewOrder,
  type SimOrder,
  type SimSide,
  type SimTimeInForce,
} from '../core/types.js';
import { BnError, E } from './errors.js';
import { FILTERS } from './info.js';
import { InstFmt, amt, idNum, q, spotCancelResult, spotOrderQuery, spotOrderResult, tifName, typeName, usdmOrder, type BnKind } from './format.js';

export interface Params {
  get(k: string): string | undefined;
  has(k: string): boolean;
}

export type Op = string | BnError;

const DEC_RE = /^([0-9]{1,20})(\.[0-9]{1,20})?$/;
const DEC_RANGE = '^([0-9]{1,20})(\\.[0-9]{1,20})?$';
const SPOT_CID_RE = /^[a-zA-Z0-9-_]{1,36}$/;
const USDM_CID_RE = /^[.A-Z:/a-z0-9_-]{1,36}$/;
const INT_RE = /^[0-9]{1,20}$/;
const ID_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

export function genClientId(prefix = ''): string {
  const b = randomBytes(22);
  let s = prefix;
  for (let i = 0; s.length < 22; i++) s += ID_CHARS[b[i]! % 62];
  return s;
}

function decimalsOf(text: string): number {
  const dot = text.indexOf('.');
  if (dot < 0) return 0;
  let end = text.length;
  while (end > dot + 1 && text.charCodeAt(end - 1) === 48) end--;
  return end - dot - 1;
}

/** A symbol's book and formatter. */
export interface SymRef {
  book: SimBook;
  fmt: InstFmt;
}

/** Callbacks to the user-data layer for events the core does not emit (rejects the venue turns into EXPIRED). */
export interface OpsHooks {
  syntheticOrderEvents?(symbol: string, order: SimOrder, statuses: Array<'NEW' | 'EXPIRED'>): void;
  /** the client id of the cancel request being executed (Spot executionReport `c` on CANCELED); undefined after */
  cancelId?(id: string | undefined): void;
  /** an amend of this order is being executed (its no-fill event is AMENDMENT / REPLACED; `origClientOrderId` is the
   * client id before it, Spot `C`); undefined after. Returns nothing; `amendExecId` gives the event's execution id. */
  amending?(a: { orderId: string; origClientOrderId: string } | undefined): void;
  /** Spot: the execution id (`I`) of the last REPLACED event (the keepPriority response's executionId) */
  amendExecId?(): number;
}

/** Spot stop orders held outside the book until their trigger (stops.ts); this interface keeps the import one-way. */
export interface SpotStopOrders {
  /** the account's waiting stop orders on the symbol (they count toward MAX_NUM_ORDERS too) */
  count(accountId: string, symbol: string): number;
  hasOpenClientId(accountId: string, clientOrderId: string): boolean;
  place(book: SimBook, fmt: InstFmt, o: SimNewOrder, stopType: string, stopTicks: number): SimOrder | BnError;
  get(accountId: string, symbol: string, ref: { orderId?: string; clientOrderId?: string }): SimOrder | undefined;
  cancel(accountId: string, symbol: string, ref: { orderId?: string; clientOrderId?: string }): SimOrder | undefined;
  cancelAll(accountId: string, symbol: string): SimOrder[];
  open(accountId: string, symbol: string): SimOrder[];
}

const SPOT_STOP_TYPES: ReadonlySet<string> = new Set(['STOP_LOSS', 'STOP_LOSS_LIMIT', 'TAKE_PROFIT', 'TAKE_PROFIT_LIMIT']);

/** [initialLeverage, notionalFloor, notionalCap, maintMarginRatio] per bracket; `cum` is derived */
export const LEVERAGE_BRACKETS: ReadonlyArray<readonly [number, number, number, number]> = [
  [125, 0, 50_000, 0.004],
  [100, 50_000, 600_000, 0.005],
  [75, 600_000, 3_000_000, 0.0065],
  [50, 3_000_000, 12_000_000, 0.01],
  [25, 12_000_000, 70_000_000, 0.02],
  [20, 70_000_000, 100_000_000, 0.025],
  [10, 100_000_000, 230_000_000, 0.05],
  [5, 230_000_000, 480_000_000, 0.1],
  [4, 480_000_000, 600_000_000, 0.125],
  [3, 600_000_000, 800_000_000, 0.15],
  [2, 800_000_000, 1_200_000_000, 0.25],
  [1, 1_200_000_000, 1_800_000_000, 0.5],
];

export class BnOps {
  readonly fmts = new Map<string, InstFmt>();
  readonly isSpot: boolean;
  /** Spot: the stop orders waiting for their trigger (set by the venue) */
  stops: SpotStopOrders | undefined;
  constructor(
    readonly ctx: SimContext,
    readonly market: SimMarketId,
    readonly kind: BnKind,
    readonly hooks: OpsHooks = {},
  ) {
    this.isSpot = kind === 'spot';
    for (const [sym, book] of ctx.books.get(market) ?? []) this.fmts.set(sym, new InstFmt(book.instrument, kind));
  }

  now(): number {
    return this.ctx.nowMs(this.market);
  }

  books(): Map<string, SimBook> {
    return this.ctx.books.get(this.market) ?? new Map();
  }

  sym(p: Params, required = true): SymRef | BnError | undefined {
    const s = p.get('symbol');
    if (s === undefined || s.length === 0) return required ? E.mandatory('symbol') : undefined;
    const book = this.books().get(s);
    const fmt = this.fmts.get(s);
    if (!book || !fmt) {
      if (!/^[A-Z0-9-_.]{1,20}$/.test(s)) return E.illegalChars('symbol', '^[A-Z0-9-_.]{1,20}$');
      return E.badSymbol();
    }
    return { book, fmt };
  }

  // ---------------------------------------------------------------------------------------- value parsing
  private qty(text: string | undefined, f: InstFmt, name = 'quantity'): number | BnError {
    if (text === undefined || text.length === 0) return E.mandatory(name);
    if (!DEC_RE.test(text)) return E.illegalChars(name, DEC_RANGE);
    const ins = f.inst;
    const lots = parseScaled(text, ins.qtyDecimals);
    if (this.isSpot) {
      if (Number.isNaN(lots)) return decimalsOf(text) > 8 ? E.precision(name) : E.filter('LOT_SIZE');
      const min = parseScaled(ins.minQty, ins.qtyDecimals);
      const max = parseScaled(ins.maxQty, ins.qtyDecimals);
      if (lots <= 0 || lots < min || lots > max || lots % f.stepUnits !== 0) return E.filter('LOT_SIZE');
      return lots;
    }
    if (Number.isNaN(lots)) return E.futPrecision();
    if (lots <= 0) return E.futQtyZero();
    if (lots % f.stepUnits !== 0) return E.futStep();
    if (lots < parseScaled(ins.minQty, ins.qtyDecimals)) return new BnError(400, -4004, 'Quantity less than min quantity.');
    if (lots > parseScaled(ins.maxQty, ins.qtyDecimals)) return E.futQtyMax();
    return lots;
  }

  private price(text: string | undefined, f: InstFmt, name = 'price'): number | BnError {
    if (text === undefined || text.length === 0) return E.mandatory(name);
    if (!DEC_RE.test(text)) return E.illegalChars(name, DEC_RANGE);
    const ticks = parseScaled(text, f.inst.priceDecimals);
    if (this.isSpot) {
      if (Number.isNaN(ticks)) return decimalsOf(text) > 8 ? E.precision(name) : E.filter('PRICE_FILTER');
      if (ticks <= 0 || ticks % f.tickUnits !== 0 || ticks > FILTERS.maxPrice * 10 ** f.inst.priceDecimals) return E.filter('PRICE_FILTER');
      return ticks;
    }
    if (Number.isNaN(ticks)) return E.futPrecision();
    if (ticks <= 0) return new BnError(400, -4001, 'Price less than 0.');
    if (ticks > FILTERS.maxPrice * 10 ** f.inst.priceDecimals) return E.futPriceMax();
    if (ticks % f.tickUnits !== 0) return E.futTick();
    return ticks;
  }

  /**
   * The reference price of the percent filters, in ticks: the book's mid (the one side when the other is empty; 0 when
   * the book is empty: no reference, no check). Binance uses the weighted average price over avgPriceMins (Spot) and
   * the mark price (USD-M); the sim's mark is its mid (premiumIndex), so both markets use the mid, consistently.
   */
  private refTicks(book: SimBook): number {
    const b = book.bestBid();
    const a = book.bestAsk();
    return b && a ? (b.priceTicks + a.priceTicks) / 2 : ((b ?? a)?.priceTicks ?? 0);
  }

  /**
   * The filters a new order meets beyond its price and quantity fields (checked by `price` and `qty`): MAX_NUM_ORDERS
   * (open orders of the account on the symbol; Spot -1013, USD-M -2025), and for a LIMIT price (`ticks` > 0) Spot
   * PERCENT_PRICE_BY_SIDE and NOTIONAL maxNotional (-1013) or USD-M PERCENT_PRICE (-4016 above, -4024 below, with the
   * bound rounded inward to the tick); a USD-M MARKET order whose best opposite price is outside PERCENT_PRICE: -4131.
   * Multipliers are in 1e-4 units so the comparison is exact. `isNew` false (a USD-M modify to a new price): the
   * order is already counted, only the price filters apply.
   */
  private filters(acc: SimAccount, book: SimBook, f: InstFmt, side: SimSide, ticks: number, lots: number, isNew = true): BnError | undefined {
    const open = book.openCountOf(acc.id) + (this.stops?.count(acc.id, f.inst.symbol) ?? 0);
    if (isNew && open >= (this.isSpot ? FILTERS.spotMaxOrders : FILTERS.usdmMaxOrders)) {
      return this.isSpot ? E.filter('MAX_NUM_ORDERS') : E.futMaxOrders();
    }
    const ref = this.refTicks(book);
    if (this.isSpot) {
      if (ticks <= 0) return undefined;
      if (ref > 0 && (ticks * 10_000 > ref * FILTERS.spotPctUp4 || ticks * 10_000 < ref * FILTERS.spotPctDown4)) return E.filter('PERCENT_PRICE_BY_SIDE');
      const ins = f.inst;
      if ((ticks / 10 ** ins.priceDecimals) * (lots / 10 ** ins.qtyDecimals) > FILTERS.spotMaxNotional) return E.filter('NOTIONAL');
      return undefined;
    }
    if (ref <= 0) return undefined;
    const up = ref * FILTERS.usdmPctUp4;
    const down = ref * FILTERS.usdmPctDown4;
    if (ticks <= 0) {
      const best = side === 'BUY' ? book.bestAsk() : book.bestBid();
      if (best && (side === 'BUY' ? best.priceTicks * 10_000 > up : best.priceTicks * 10_000 < down)) return E.futPctMarket();
      return undefined;
    }
    if (ticks * 10_000 > up) return E.futPctUp(f.px(Math.floor(up / 10_000 / f.tickUnits) * f.tickUnits));
    if (ticks * 10_000 < down) return E.futPctDown(f.px(Math.ceil(down / 10_000 / f.tickUnits) * f.tickUnits));
    return undefined;
  }

  private clientId(p: Params, name: string): string | BnError {
    const c = p.get(name);
    if (c === undefined || c.length === 0) return genClientId(this.isSpot ? '' : 'x-sim');
    if (this.isSpot) return SPOT_CID_RE.test(c) ? c : E.illegalChars(name, '^[a-zA-Z0-9-_]{1,36}$');
    if (c.length > 36) return E.futClientIdLen();
    return USDM_CID_RE.test(c) ? c : E.illegalChars(name, '^[\\.A-Z\\:/a-z0-9_-]{1,36}$');
  }

  private side(p: Params): SimSide | BnError {
    const s = p.get('side');
    if (s === undefined || s.length === 0) return E.mandatory('side');
    if (s !== 'BUY' && s !== 'SELL') return E.invalidSide();
    return s;
  }

  // ---------------------------------------------------------------------------------------- orders
  /** New order (REST POST order, WS API order.place). */
  place(acc: SimAccount, p: Params): Op {
    const sr = this.sym(p);
    if (sr instanceof BnError) return sr;
    const { book, fmt } = sr!;
    const side = this.side(p);
    if (side instanceof BnError) return side;
    const type = p.get('type');
    if (type === undefined || type.length === 0) return E.mandatory('type');
    const tifText = p.get('timeInForce');
    let tif: SimTimeInForce = 'GTC';
    let simType: 'LIMIT' | 'MARKET';
    let stopType = '';
    if (this.isSpot) {
      if (SPOT_STOP_TYPES.has(type)) {
        // the _LIMIT types work as LIMIT orders (timeInForce, price), the others as MARKET; trailing stops are off
        // in this simulator (exchangeInfo allowTrailingStop false), refused as the venue refuses them there
        if (p.has('trailingDelta')) return E.rejected('Trailing stop orders are not supported for this symbol.');
        stopType = type;
        if (type.endsWith('_LIMIT')) {
          simType = 'LIMIT';
          if (!tifText) return E.mandatory('timeInForce');
          if (tifText !== 'GTC' && tifText !== 'IOC' && tifText !== 'FOK') return E.invalidTif();
          tif = tifText;
        } else {
          simType = 'MARKET';
          if (tifText !== undefined) return E.notRequired('timeInForce');
          if (p.has('price')) return E.notRequired('price');
        }
      } else if (type === 'LIMIT') {
        simType = 'LIMIT';
        if (!tifText) return E.mandatory('timeInForce');
        if (tifText !== 'GTC' && tifText !== 'IOC' && tifText !== 'FOK') return E.invalidTif();
        tif = tifText;
      } else if (type === 'LIMIT_MAKER') {
        simType = 'LIMIT';
        tif = 'POST_ONLY';
      } else if (type === 'MARKET') {
        simType = 'MARKET';
        if (tifText !== undefined) return E.notRequired('timeInForce');
        if (p.has('price')) return E.notRequired('price');
      } else return E.invalidType();
    } else {
      if (['STOP', 'STOP_MARKET', 'TAKE_PROFIT', 'TAKE_PROFIT_MARKET', 'TRAILING_STOP_MARKET'].includes(type)) return E.futUseAlgo();
      if (type === 'LIMIT') {
        simType = 'LIMIT';
        if (!tifText) return E.mandatory('timeInForce');
        if (tifText === 'GTX') tif = 'POST_ONLY';
        else if (tifText === 'GTC' || tifText === 'IOC' || tifText === 'FOK') tif = tifText;
        else return E.invalidTif();
      } else if (type === 'MARKET') simType = 'MARKET';
      else return E.invalidType();
      // one-way: BOTH (or none); hedge mode: LONG or SHORT on every order, and no reduceOnly (the side says it)
      const ps = p.get('positionSide');
      if (accountProfileOf(this.ctx).binanceUsdmHedge) {
        if (ps !== 'LONG' && ps !== 'SHORT') return new BnError(400, -4061, "Order's position side does not match user's setting.");
        if (p.has('reduceOnly')) return E.notRequired('reduceonly');
      } else if (ps !== undefined && ps !== 'BOTH') return new BnError(400, -4061, "Order's position side does not match user's setting.");
    }
    let reduceOnly = false;
    const ro = p.get('reduceOnly');
    if (ro !== undefined) {
      if (this.isSpot) return E.invalidParam('reduceOnly');
      if (ro !== 'true' && ro !== 'false') return E.invalidParam('reduceOnly');
      reduceOnly = ro === 'true';
    }
    let lots: number | BnError;
    if (type === 'MARKET' && this.isSpot && !p.has('quantity') && p.has('quoteOrderQty')) {
      lots = this.lotsForQuote(book, fmt, side, p.get('quoteOrderQty')!);
    } else lots = this.qty(p.get('quantity'), fmt);
    if (lots instanceof BnError) return lots;
    let ticks = 0;
    if (simType === 'LIMIT') {
      const t = this.price(p.get('price'), fmt);
      if (t instanceof BnError) return t;
      ticks = t;
    }
    const cid = this.clientId(p, 'newClientOrderId');
    if (cid instanceof BnError) return cid;
    const rt = p.get('newOrderRespType');
    let respType: 'ACK' | 'RESULT' | 'FULL';
    if (rt === undefined || rt.length === 0) respType = this.isSpot && (type === 'LIMIT' || type === 'MARKET') ? 'FULL' : 'ACK';
    else if (rt === 'ACK' || rt === 'RESULT' || (rt === 'FULL' && this.isSpot)) respType = rt;
    else return E.invalidParam('newOrderRespType');
    // USD-M minimum notional (reduce-only exempt), against the best opposite price for MARKET
    const ins = fmt.inst;
    if (!this.isSpot && !reduceOnly) {
      let pxTicks = ticks;
      if (simType === 'MARKET') {
        const best = side === 'BUY' ? book.bestAsk() : book.bestBid();
        pxTicks = best ? best.priceTicks : 0;
      }
      if (pxTicks > 0 && (pxTicks / 10 ** ins.priceDecimals) * (lots / 10 ** ins.qtyDecimals) < Number(ins.minNotional) * (1 - 1e-9)) {
        return E.futMinNotional(ins.minNotional);
      }
    }
    let stopTicks = 0;
    if (stopType !== '') {
      const st = this.price(p.get('stopPrice'), fmt, 'stopPrice');
      if (st instanceof BnError) return st;
      stopTicks = st;
    }
    const ff = this.filters(acc, book, fmt, side, ticks, lots);
    if (ff) return ff;
    const order: SimNewOrder = { accountId: acc.id, clientOrderId: cid, side, type: simType, tif, priceTicks: ticks, qtyLots: lots, reduceOnly };
    const now = this.now();
    if (stopType !== '') {
      const so = this.stops ? this.stops.place(book, fmt, order, stopType, stopTicks) : E.rejected('Unsupported order combination');
      return so instanceof BnError ? so : spotOrderResult(so, fmt, respType, [], now);
    }
    if (this.stops?.hasOpenClientId(acc.id, cid)) return E.rejected('Duplicate order sent.');
    const r = book.submit(order);
    if (r.ok) {
      if (this.isSpot) return spotOrderResult(r.order, fmt, respType, r.fills, now);
      if (respType === 'ACK') return usdmOrder({ ...r.order, status: 'NEW', filledLots: 0, cumQuoteTL: 0, updatedMs: r.order.createdMs }, fmt, false);
      return usdmOrder(r.order, fmt, false);
    }
    switch (r.reason) {
      case 'FOK_NOT_FILLED':
        if (this.isSpot) {
          const o: SimOrder = r.order
            ? { ...r.order, status: 'EXPIRED', updatedMs: now }
            : {
                orderId: '0',
                clientOrderId: cid,
                accountId: acc.id,
                symbol: ins.symbol,
                side,
                type: simType,
                tif,
                priceTicks: ticks,
                qtyLots: lots,
                filledLots: 0,
                cumQuoteTL: 0,
                reduceOnly,
                status: 'EXPIRED',
                createdMs: now,
                updatedMs: now,
              };
          this.hooks.syntheticOrderEvents?.(ins.symbol, o, ['NEW', 'EXPIRED']);
          return spotOrderResult(o, fmt, respType, [], now);
        }
        return E.futFok();
      case 'POST_ONLY_WOULD_TAKE':
        return this.isSpot ? E.rejected('Order would immediately match and take.') : E.futGtx();
      case 'DUPLICATE_CLIENT_ID':
        return this.isSpot ? E.rejected('Duplicate order sent.') : E.futDuplicate();
      case 'REDUCE_ONLY':
        return this.isSpot ? E.invalidParam('reduceOnly') : E.futReduceOnly();
      case 'INSUFFICIENT_BALANCE':
        return this.isSpot ? E.rejected('Account has insufficient balance for requested action.') : E.futMarginInsufficient();
      case 'MIN_NOTIONAL':
        return this.isSpot ? E.filter('NOTIONAL') : E.futMinNotional(ins.minNotional);
      case 'BAD_QTY':
        return this.isSpot ? E.filter('LOT_SIZE') : E.futStep();
      case 'BAD_PRICE':
        return this.isSpot ? E.filter('PRICE_FILTER') : E.futTick();
      default:
        return E.rejected('Unknown order sent.');
    }
  }

  /** quantity a MARKET `quoteOrderQty` buys/sells: walk the opposite side until the quote amount is spent */
  private lotsForQuote(book: SimBook, f: InstFmt, side: SimSide, text: string): number | BnError {
    if (!DEC_RE.test(text)) return E.illegalChars('quoteOrderQty', DEC_RANGE);
    const ins = f.inst;
    const d = book.depth(1000);
    const levels = side === 'BUY' ? d.asks : d.bids;
    if (levels.length === 0) return E.rejected('Order book liquidity is less than symbol minimum quantity.');
    const pScale = 10 ** ins.priceDecimals;
    const qScale = 10 ** ins.qtyDecimals;
    let left = Number(text);
    let lots = 0;
    for (const [px, qty] of levels) {
      const price = px / pScale;
      const can = Math.floor((left / price) * qScale + 1e-9);
      const take = Math.min(can, qty);
      lots += take;
      left -= (take / qScale) * price;
      if (take < qty) break;
    }
    lots -= lots % f.stepUnits;
    if (lots <= 0) return E.filter('LOT_SIZE');
    return lots;
  }

  private orderRef(p: Params, cidName: string): { orderId?: string; clientOrderId?: string } | BnError {
    const oid = p.get('orderId');
    const cid = p.get(cidName);
    if ((oid === undefined || oid.length === 0) && (cid === undefined || cid.length === 0)) return E.eitherParam('orderId', cidName);
    const ref: { orderId?: string; clientOrderId?: string } = {};
    if (oid !== undefined && oid.length > 0) {
      if (!INT_RE.test(oid)) return E.illegalChars('orderId', '^[0-9]{1,20}$');
      ref.orderId = oid;
    }
    if (cid !== undefined && cid.length > 0) ref.clientOrderId = cid;
    return ref;
  }

  cancel(acc: SimAccount, p: Params): Op {
    const sr = this.sym(p);
    if (sr instanceof BnError) return sr;
    const { book, fmt } = sr!;
    const ref = this.orderRef(p, 'origClientOrderId');
    if (ref instanceof BnError) return ref;
    let cancelId = '';
    if (this.isSpot) {
      const c = this.clientId(p, 'newClientOrderId');
      if (c instanceof BnError) return c;
      cancelId = c;
    }
    const sym = fmt.inst.symbol;
    if (ref.orderId !== undefined && ref.clientOrderId !== undefined) {
      const o = this.stops?.get(acc.id, sym, { orderId: ref.orderId }) ?? book.getOrder(acc.id, { orderId: ref.orderId });
      if (!o || o.clientOrderId !== ref.clientOrderId) return E.cancelRejected();
      delete ref.clientOrderId;
    }
    this.hooks.cancelId?.(cancelId);
    let r: ReturnType<SimBook['cancel']>;
    try {
      const s = this.stops?.cancel(acc.id, sym, ref);
      if (s) return spotCancelResult(s, fmt, cancelId, this.now());
      r = book.cancel(acc.id, ref);
    } finally {
      this.hooks.cancelId?.(undefined);
    }
    if (!r.ok) return E.cancelRejected();
    return this.isSpot ? spotCancelResult(r.order, fmt, cancelId, this.now()) : usdmOrder(r.order, fmt, false);
  }

  /**
   * Spot `PUT /api/v3/order/amend/keepPriority` / WS API `order.amend.keepPriority`: reduce the quantity of an open
   * order in place (queue priority kept). `newQty` < the order's quantity (and above what is filled); the order gets
   * `newClientOrderId` (random when not sent). Errors: -2013 unknown/closed order, -2038 (quantity increase / no
   * change), -1013 LOT_SIZE.
   */
  amendKeepPriority(acc: SimAccount, p: Params): Op {
    if (!this.isSpot) return E.unknown();
    const sr = this.sym(p);
    if (sr instanceof BnError) return sr;
    const { book, fmt } = sr!;
    const ref = this.orderRef(p, 'origClientOrderId');
    if (ref instanceof BnError) return ref;
    const lots = this.qty(p.get('newQty'), fmt, 'newQty');
    if (lots instanceof BnError) return lots;
    const cid = this.clientId(p, 'newClientOrderId');
    if (cid instanceof BnError) return cid;
    const o = ref.orderId !== undefined ? book.getOrder(acc.id, { orderId: ref.orderId }) : book.getOrder(acc.id, ref);
    if (!o || (ref.orderId !== undefined && ref.clientOrderId !== undefined && o.clientOrderId !== ref.clientOrderId)) return E.noSuchOrder();
    if (o.status !== 'NEW' && o.status !== 'PARTIALLY_FILLED') return E.noSuchOrder();
    if (lots === o.qtyLots) return new BnError(400, -2038, 'The requested action would change no state; rejecting');
    if (lots > o.qtyLots) return new BnError(400, -2038, 'Order amend (quantity increase) is not supported.');
    if (lots <= o.filledLots) return E.filter('LOT_SIZE');
    const orig = o.clientOrderId;
    this.hooks.amending?.({ orderId: o.orderId, origClientOrderId: orig });
    let r: ReturnType<SimBook['amend']>;
    try {
      r = book.amend(acc.id, { orderId: o.orderId }, { qtyLots: lots, clientOrderId: cid });
    } finally {
      this.hooks.amending?.(undefined);
    }
    if (!r.ok) {
      if (r.reason === 'DUPLICATE_CLIENT_ID') return new BnError(400, -2038, 'Duplicate order sent.');
      if (r.reason === 'BAD_QTY') return E.filter('LOT_SIZE');
      return E.noSuchOrder();
    }
    const a = r.order;
    const zero = fmt.zeroPx;
    return (
      `{"transactTime":${this.now()},"executionId":${this.hooks.amendExecId?.() ?? 0},"amendedOrder":{"symbol":${q(a.symbol)},` +
      `"orderId":${idNum(a.orderId)},"orderListId":-1,"origClientOrderId":${q(orig)},"clientOrderId":${q(a.clientOrderId)},` +
      `"price":"${fmt.px(a.priceTicks)}","qty":"${fmt.qty(a.qtyLots)}","executedQty":"${fmt.qty(a.filledLots)}","preventedQty":"${fmt.zeroQty}",` +
      `"quoteOrderQty":"${zero}","cumulativeQuoteQty":"${fmt.quote(a.cumQuoteTL)}","status":"${a.status}","timeInForce":"${tifName(a, 'spot')}",` +
      `"type":"${typeName(a, 'spot')}","side":"${a.side}","workingTime":${a.createdMs},"selfTradePreventionMode":"NONE"}}`
    );
  }

  /**
   * USD-M `PUT /fapi/v1/order` / WS API `order.modify`: new price and quantity (both required) of an open LIMIT order;
   * the order goes to the back of its (new) level's queue, a crossing price trades at once. As Binance documents, the
   * order is CANCELED instead when it is partially filled and the new quantity is not above the filled part, or when
   * it is post-only (GTX) and the new price would take. Errors: -2013 unknown/closed order, -5027 nothing to change,
   * -1130 side not the order's, the price/quantity filters of a new order. `modifyId` (optional) is echoed.
   */
  modify(acc: SimAccount, p: Params): Op {
    if (this.isSpot) return E.unknown();
    const sr = this.sym(p);
    if (sr instanceof BnError) return sr;
    const { book, fmt } = sr!;
    const side = this.side(p);
    if (side instanceof BnError) return side;
    const ref = this.orderRef(p, 'origClientOrderId');
    if (ref instanceof BnError) return ref;
    const pm = p.get('priceMatch');
    if (pm !== undefined && pm !== '' && pm !== 'NONE') return E.invalidParam('priceMatch');
    const lots = this.qty(p.get('quantity'), fmt);
    if (lots instanceof BnError) return lots;
    const ticks = this.price(p.get('price'), fmt);
    if (ticks instanceof BnError) return ticks;
    const midText = p.get('modifyId');
    if (midText !== undefined && midText !== '' && !INT_RE.test(midText)) return E.illegalChars('modifyId', '^[0-9]{1,20}$');
    const mid = midText !== undefined && midText !== '' ? `,"modifyId":${midText}` : '';
    const o = ref.orderId !== undefined ? book.getOrder(acc.id, { orderId: ref.orderId }) : book.getOrder(acc.id, ref);
    if (!o || (ref.orderId !== undefined && ref.clientOrderId !== undefined && o.clientOrderId !== ref.clientOrderId)) return E.noSuchOrder();
    if ((o.status !== 'NEW' && o.status !== 'PARTIALLY_FILLED') || o.type !== 'LIMIT') return E.noSuchOrder();
    if (side !== o.side) return E.invalidParam('side');
    if (ticks === o.priceTicks && lots === o.qtyLots) return new BnError(400, -5027, 'No need to modify the order.');
    if (ticks !== o.priceTicks) {
      const ff = this.filters(acc, book, fmt, side, ticks, lots, false);
      if (ff) return ff;
    }
    const ins = fmt.inst;
    if (!o.reduceOnly && (ticks / 10 ** ins.priceDecimals) * (lots / 10 ** ins.qtyDecimals) < Number(ins.minNotional) * (1 - 1e-9)) {
      return E.futMinNotional(ins.minNotional);
    }
    const out = (x: SimOrder): string => usdmOrder(x, fmt, false).slice(0, -1) + mid + '}';
    if (lots <= o.filledLots) {
      const c = book.cancel(acc.id, { orderId: o.orderId });
      return c.ok ? out(c.order) : E.noSuchOrder();
    }
    this.hooks.amending?.({ orderId: o.orderId, origClientOrderId: o.clientOrderId });
    let r: ReturnType<SimBook['amend']>;
    try {
      r = book.amend(acc.id, { orderId: o.orderId }, { priceTicks: ticks, qtyLots: lots });
    } finally {
      this.hooks.amending?.(undefined);
    }
    if (!r.ok) {
      switch (r.reason) {
        case 'POST_ONLY_WOULD_TAKE': {
          const c = book.cancel(acc.id, { orderId: o.orderId });
          return c.ok ? out(c.order) : E.noSuchOrder();
        }
        case 'BAD_PRICE':
          return E.futTick();
        case 'BAD_QTY':
          return E.futStep();
        default:
          return E.noSuchOrder();
      }
    }
    return out(r.order);
  }

  cancelAll(acc: SimAccount, p: Params): Op {
    const sr = this.sym(p);
    if (sr instanceof BnError) return sr;
    const { book, fmt } = sr!;
    const orders = [...(this.stops?.cancelAll(acc.id, fmt.inst.symbol) ?? []), ...book.cancelAll(acc.id)];
    if (!this.isSpot) return '{"code":200,"msg":"The operation of cancel all open order is done."}';
    if (orders.length === 0) return E.cancelRejected();
    const now = this.now();
    return '[' + orders.map((o) => spotCancelResult(o, fmt, genClientId(), now)).join(',') + ']';
  }

  query(acc: SimAccount, p: Params, openOnly = false): Op {
    const sr = this.sym(p);
    if (sr instanceof BnError) return sr;
    const { book, fmt } = sr!;
    const ref = this.orderRef(p, 'origClientOrderId');
    if (ref instanceof BnError) return ref;
    const o = this.stops?.get(acc.id, fmt.inst.symbol, ref) ?? book.getOrder(acc.id, ref);
    if (!o || (ref.orderId !== undefined && ref.clientOrderId !== undefined && o.clientOrderId !== ref.clientOrderId)) return E.noSuchOrder();
    if (openOnly && o.status !== 'NEW' && o.status !== 'PARTIALLY_FILLED') return E.noSuchOrder();
    return this.isSpot ? spotOrderQuery(o, fmt) : usdmOrder(o, fmt, true);
  }

  openOrders(acc: SimAccount, p: Params): Op {
    const sr = this.sym(p, false);
    if (sr instanceof BnError) return sr;
    const list: string[] = [];
    const add = (book: SimBook, fmt: InstFmt): void => {
      for (const o of book.openOrders(acc.id)) list.push(this.isSpot ? spotOrderQuery(o, fmt) : usdmOrder(o, fmt, true));
      for (const o of this.stops?.open(acc.id, fmt.inst.symbol) ?? []) list.push(spotOrderQuery(o, fmt));
    };
    if (sr) add(sr.book, sr.fmt);
    else for (const [s, book] of this.books()) add(book, this.fmts.get(s)!);
    return '[' + list.join(',') + ']';
  }

  // ---------------------------------------------------------------------------------------- account
  /** this venue's wallet of the account (Spot and USD-M wallets are separate, as on Binance) */
  wallet(acc: SimAccount): SimBalances {
    return acc.wallets[this.isSpot ? 'binanceSpot' : 'binanceUsdm'];
  }

  /** this venue's maker / taker rates from the simulator's fee table */
  feeRates(): { maker: number; taker: number } {
    return this.ctx.fees.rates[this.market];
  }

  spotAccount(acc: SimAccount): string {
    const bal: string[] = [];
    for (const [asset, b] of this.wallet(acc)) bal.push(`{"asset":${q(asset)},"free":"${amt(b.free)}","locked":"${amt(b.locked)}"}`);
    const r = this.feeRates();
    // makerCommission / takerCommission: the rate in units of 0.01 % (Binance's integer form: 0.1 % -> 10)
    return (
      `{"makerCommission":${Math.round(r.maker * 10_000)},"takerCommission":${Math.round(r.taker * 10_000)},"buyerCommission":0,"sellerCommission":0,` +
      `"commissionRates":{"maker":"${amt(r.maker)}","taker":"${amt(r.taker)}","buyer":"0.00000000","seller":"0.00000000"},` +
      `"canTrade":true,"canWithdraw":false,"canDeposit":false,"brokered":false,"requireSelfTradePrevention":false,"preventSor":false,` +
      `"updateTime":${this.now()},"accountType":"SPOT","balances":[${bal.join(',')}],"permissions":["SPOT"],"uid":1}`
    );
  }

  /** GET /api/v3/account/commission (WS API account.commission): the symbol's rates and the account's BNB discount */
  spotCommission(acc: SimAccount, p: Params): Op {
    const sr = this.sym(p);
    if (sr instanceof BnError) return sr;
    const r = this.feeRates();
    const zero = '{"maker":"0.00000000","taker":"0.00000000","buyer":"0.00000000","seller":"0.00000000"}';
    return (
      `{"symbol":${q(sr!.fmt.inst.symbol)},"standardCommission":{"maker":"${amt(r.maker)}","taker":"${amt(r.taker)}","buyer":"0.00000000","seller":"0.00000000"},` +
      `"specialCommission":${zero},"taxCommission":${zero},"discount":{"enabledForAccount":${acc.bnbBurn.binanceSpot},"enabledForSymbol":true,` +
      `"discountAsset":"BNB","discount":"${amt(this.ctx.fees.bnbDiscount.binanceSpot)}"}}`
    );
  }

  /** POST /sapi/v1/bnbBurn (spotBNBBurn) and POST /fapi/v1/feeBurn (feeBurn): the account's BNB fee discount on or off */
  setBnbBurn(acc: SimAccount, p: Params, param: 'spotBNBBurn' | 'feeBurn'): boolean | BnError {
    const v = p.get(param);
    if (v === undefined || v.length === 0) return E.mandatory(param);
    if (v !== 'true' && v !== 'false') return E.invalidParam(param);
    acc.bnbBurn[this.isSpot ? 'binanceSpot' : 'binanceUsdm'] = v === 'true';
    return v === 'true';
  }

  /** positions of a USD-M account (all symbols with a book; zero rows included for symbols traded) */
  positions(
    acc: SimAccount,
    symbol?: string,
  ): Array<{ symbol: string; amt: string; entry: string; mark: string; upnl: number; notional: number; fmt: InstFmt }> {
    const out: Array<{ symbol: string; amt: string; entry: string; mark: string; upnl: number; notional: number; fmt: InstFmt }> = [];
    for (const [sym, book] of this.books()) {
      if (symbol !== undefined && sym !== symbol) continue;
      const fmt = this.fmts.get(sym)!;
      const pos = acc.positions.get(`${this.market}:${sym}`);
      const size = pos?.sizeLots ?? 0;
      const ins = fmt.inst;
      const bb = book.bestBid();
      const ba = book.bestAsk();
      const markTicks = bb && ba ? (bb.priceTicks + ba.priceTicks) / 2 : (bb?.priceTicks ?? ba?.priceTicks ?? 0);
      const qty = size / 10 ** ins.qtyDecimals;
      const mark = markTicks / 10 ** ins.priceDecimals;
      const entry = (pos?.entryPriceTicks ?? 0) / 10 ** ins.priceDecimals;
      out.push({
        symbol: sym,
        amt: (size < 0 ? '-' : '') + fmt.qty(Math.abs(size)),
        entry: size === 0 ? '0.0' : entry.toFixed(ins.priceDecimals),
        mark: mark.toFixed(8),
        upnl: size === 0 ? 0 : (mark - entry) * qty,
        notional: qty * mark,
        fmt,
      });
    }
    return out;
  }

  positionRisk(acc: SimAccount, p: Params, version: 2 | 3): Op {
    const sr = this.sym(p, false);
    if (sr instanceof BnError) return sr;
    const now = this.now();
    const rows = this.positions(acc, sr ? sr.fmt.inst.symbol : undefined).map((r) =>
      version === 2
        ? `{"symbol":"${r.symbol}","positionAmt":"${r.amt}","entryPrice":"${r.entry}","breakEvenPrice":"${r.entry}","markPrice":"${r.mark}","unRealizedProfit":"${amt(r.upnl)}","liquidationPrice":"0","leverage":"20","maxNotionalValue":"25000000","marginType":"cross","isolatedMargin":"0.00000000","isAutoAddMargin":"false","positionSide":"BOTH","notional":"${amt(r.notional)}","isolatedWallet":"0","updateTime":${now}}`
        : `{"symbol":"${r.symbol}","positionSide":"BOTH","positionAmt":"${r.amt}","entryPrice":"${r.entry}","breakEvenPrice":"${r.entry}","markPrice":"${r.mark}","unRealizedProfit":"${amt(r.upnl)}","liquidationPrice":"0","isolatedMargin":"0","notional":"${amt(r.notional)}","marginAsset":"USDT","isolatedWallet":"0","initialMargin":"${amt(Math.abs(r.notional) / 20)}","maintMargin":"0","positionInitialMargin":"${amt(Math.abs(r.notional) / 20)}","openOrderInitialMargin":"0","adl":0,"bidNotional":"0","askNotional":"0","updateTime":${now}}`,
    );
    return '[' + rows.join(',') + ']';
  }

  futBalance(acc: SimAccount): string {
    const now = this.now();
    const rows: string[] = [];
    for (const [asset, b] of this.wallet(acc)) {
      const wb = amt(b.free + b.locked);
      rows.push(
        `{"accountAlias":"SgsR","asset":${q(asset)},"balance":"${wb}","crossWalletBalance":"${wb}","crossUnPnl":"0.00000000","availableBalance":"${amt(b.free)}","maxWithdrawAmount":"${amt(b.free)}","marginAvailable":true,"updateTime":${now}}`,
      );
    }
    return '[' + rows.join(',') + ']';
  }

  futAccount(acc: SimAccount): string {
    let wallet = 0;
    const assets: string[] = [];
    for (const [asset, b] of this.wallet(acc)) {
      const wb = b.free + b.locked;
      if (asset === 'USDT' || asset === 'USDC') wallet += wb;
      assets.push(
        `{"asset":${q(asset)},"walletBalance":"${amt(wb)}","unrealizedProfit":"0.00000000","marginBalance":"${amt(wb)}","maintMargin":"0.00000000","initialMargin":"0.00000000","positionInitialMargin":"0.00000000","openOrderInitialMargin":"0.00000000","crossWalletBalance":"${amt(wb)}","crossUnPnl":"0.00000000","availableBalance":"${amt(b.free)}","maxWithdrawAmount":"${amt(b.free)}","updateTime":${this.now()}}`,
      );
    }
    let upnl = 0;
    const pos = this.positions(acc)
      .filter((r) => r.amt !== r.fmt.zeroQty)
      .map((r) => {
        upnl += r.upnl;
        return `{"symbol":"${r.symbol}","positionSide":"BOTH","positionAmt":"${r.amt}","unrealizedProfit":"${amt(r.upnl)}","isolatedMargin":"0","notional":"${amt(r.notional)}","isolatedWallet":"0","initialMargin":"${amt(Math.abs(r.notional) / 20)}","maintMargin":"0","updateTime":${this.now()}}`;
      });
    const w = amt(wallet);
    return (
      `{"totalInitialMargin":"0.00000000","totalMaintMargin":"0.00000000","totalWalletBalance":"${w}","totalUnrealizedProfit":"${amt(upnl)}",` +
      `"totalMarginBalance":"${amt(wallet + upnl)}","totalPositionInitialMargin":"0.00000000","totalOpenOrderInitialMargin":"0.00000000",` +
      `"totalCrossWalletBalance":"${w}","totalCrossUnPnl":"${amt(upnl)}","availableBalance":"${w}","maxWithdrawAmount":"${w}",` +
      `"assets":[${assets.join(',')}],"positions":[${pos.join(',')}]}`
    );
  }

  // ---------------------------------------------------------------------------------------- market data
  /** depth limit -> [levels, weight] or error */
  depthLimit(p: Params): [number, number] | BnError {
    const l = p.get('limit');
    if (this.isSpot) {
      let n = 100;
      if (l !== undefined && l.length > 0) {
        if (!INT_RE.test(l)) return E.illegalChars('limit', '^[0-9]{1,20}$');
        n = Math.min(5000, Math.max(1, Number(l)));
      }
      return [n, n <= 100 ? 5 : n <= 500 ? 25 : n <= 1000 ? 50 : 250];
    }
    let n = 500;
    if (l !== undefined && l.length > 0) {
      if (!INT_RE.test(l)) return E.illegalChars('limit', '^[0-9]{1,20}$');
      n = Number(l);
      if (![5, 10, 20, 50, 100, 500, 1000].includes(n)) return E.invalidParam('limit');
    }
    return [n, n <= 50 ? 2 : n === 100 ? 5 : n === 500 ? 10 : 20];
  }

  /** GET /api/v3/ticker/bookTicker, /fapi/v1/ticker/bookTicker: best bid/ask of one symbol (object), of `symbols`
   * (Spot, JSON array) or of all (array). USD-M adds `lastUpdateId` and `time`. */
  bookTicker(p: Params): Op {
    const one = (r: SymRef): string => {
      const b = r.book.bestBid();
      const a = r.book.bestAsk();
      const f = r.fmt;
      const body =
        `"symbol":"${f.inst.symbol}","bidPrice":"${b ? f.px(b.priceTicks) : f.zeroPx}","bidQty":"${b ? f.qty(b.qtyLots) : f.zeroQty}",` +
        `"askPrice":"${a ? f.px(a.priceTicks) : f.zeroPx}","askQty":"${a ? f.qty(a.qtyLots) : f.zeroQty}"`;
      return this.isSpot ? `{${body}}` : `{"lastUpdateId":${r.book.updateId},${body},"time":${this.now()}}`;
    };
    if (p.has('symbol')) {
      const sr = this.sym(p);
      return sr instanceof BnError ? sr : one(sr!);
    }
    let names: string[] = [...this.books().keys()];
    const ss = p.get('symbols');
    if (this.isSpot && ss !== undefined) {
      let want: unknown;
      try {
        want = JSON.parse(ss);
      } catch {
        return E.invalidJson();
      }
      if (!Array.isArray(want) || want.length === 0 || !want.every((x) => typeof x === 'string')) return E.invalidJson();
      for (const w of want as string[]) if (!this.books().has(w)) return E.badSymbol();
      names = want as string[];
    }
    const out: string[] = [];
    for (const n of names) out.push(one({ book: this.books().get(n)!, fmt: this.fmts.get(n)! }));
    return '[' + out.join(',') + ']';
  }

  /** GET /fapi/v1/leverageBracket: the notional brackets of every symbol (array) or of `symbol` (one object).
   * The same standard table for every simulated symbol (the shape of BTCUSDT's real one). */
  leverageBracket(p: Params): Op {
    const one = (symbol: string): string => {
      let s = '';
      let cum = 0;
      let prevMmr = 0;
      for (let i = 0; i < LEVERAGE_BRACKETS.length; i++) {
        const [lev, floor, cap, mmr] = LEVERAGE_BRACKETS[i]!;
        cum += floor * (mmr - prevMmr);
        prevMmr = mmr;
        s +=
          (i ? ',' : '') +
          `{"bracket":${i + 1},"initialLeverage":${lev},"notionalCap":${cap},"notionalFloor":${floor},"maintMarginRatio":${mmr},"cum":${Math.round(cum * 100) / 100}}`;
      }
      return `{"symbol":"${symbol}","brackets":[${s}]}`;
    };
    if (p.has('symbol')) {
      const sr = this.sym(p);
      return sr instanceof BnError ? sr : one(sr!.fmt.inst.symbol);
    }
    return '[' + [...this.books().keys()].map(one).join(',') + ']';
  }

  depth(p: Params, levels: number): Op {
    const sr = this.sym(p);
    if (sr instanceof BnError) return sr;
    const { book, fmt } = sr!;
    const d = book.depth(levels);
    const side = (lv: Array<[number, number]>): string => {
      let s = '';
      for (let i = 0; i < lv.length; i++) s += (i ? ',' : '') + '["' + fmt.px(lv[i]![0]) + '","' + fmt.qty(lv[i]![1]) + '"]';
      return s;
    };
    if (this.isSpot) return `{"lastUpdateId":${d.updateId},"bids":[${side(d.bids)}],"asks":[${side(d.asks)}]}`;
    const now = this.now();
    return `{"lastUpdateId":${d.updateId},"E":${now},"T":${now},"bids":[${side(d.bids)}],"asks":[${side(d.asks)}]}`;
  }
}
