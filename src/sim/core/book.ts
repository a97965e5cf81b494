/**
 * The simulator's matching engine: one `MatchingBook` per market and symbol, implementing `SimBook`.
 *
 * Prices are integer counts of 10^-priceDecimals and quantities of 10^-qtyDecimals (see types.ts): a price must be a
 * multiple of `tickUnits` (tickSize in those units), a quantity of `stepUnits`; notional = price * qty /
 * 10^(priceDecimals + qtyDecimals).
 * - Price-time priority. Each side is an array of price levels sorted so that the BEST level is LAST
 *   (bids ascending, asks descending): the busy end of the book changes with push/pop, binary search finds the rest.
 * - Synthetic liquidity (the market) belongs to the reserved account `SYNTHETIC_ACCOUNT`: at most one synthetic
 *   chunk per level, with its own time priority (set when the chunk appears), trading with user orders like any
 *   other order. A synthetic QUOTE (setSynthetic) crossing synthetic liquidity removes it without a trade, so the
 *   generator and replay can move the market through user orders and fill them; a synthetic SWEEP
 *   (sweepSynthetic) trades with everything it takes (public trades), filling user orders in their turn.
 * - Every mutation batch (a generator step, a replay frame, a submission, a cancel) calls `onLevels` once with all
 *   changed levels (absolute quantities, 0 = removed; a level may appear twice if removed then re-created in a batch)
 *   and increments `updateId` by exactly one. Trades call `onTrade`; user orders call `onOrder`.
 *
 * - `amend` changes an open LIMIT order in place (same id): a smaller quantity at the same price keeps its place in
 *   the queue, a new price or a larger quantity sends it to the back (a crossing price trades first).
 * - Spot books tell the accounts what each RESTING order locks (`BookAccountHooks.syncLock`): funds move free ->
 *   locked when an order rests and back as it fills, shrinks or is cancelled.
 * - Order ids come from an `OrderIdAllocator`, shared by the books of a market in startSim.
 *
 * Listener rules: callbacks run synchronously inside the mutation. The `changes` array and its objects are fresh per
 * batch (a venue may keep them). `SimOrder` objects passed to `onOrder` are the live records: format (or copy) them
 * during the call. `submit` returning `ok: false` emits no `onOrder` (the venue reports the reject itself); an
 * accepted order emits NEW, then one event per fill, then EXPIRED for an IOC/FOK/MARKET remainder.
 */
import { parseScaled } from '../../util/fixed.js';
import type {
  SimBook,
  SimBookListener,
  SimCancelResult,
  SimFill,
  SimInstrument,
  SimLevelChange,
  SimMarketId,
  SimNewOrder,
  SimOrder,
  SimOrderStatus,
  SimPublicTrade,
  SimSide,
  SimSubmitResult,
  SimAmendResult,
} from './types.js';

/** Reserved account that owns the synthetic (generated or replayed) liquidity. Never gets onOrder events. */
export const SYNTHETIC_ACCOUNT = '__sim_synthetic__';

/** What the matching engine needs from the accounts (positions for reduce-only, fills for balances). */
export interface BookAccountHooks {
  /** signed position in lots of `accountId` on this book's symbol (futures markets), 0 if none */
  positionLots(accountId: string, instrument: SimInstrument): number;
  /** a fill of a non-synthetic account happened */
  onFill(instrument: SimInstrument, fill: SimFill): void;
  /** spot: can the account pay for this order (quote for a buy at `priceTicks`, base for a sell)? Default yes.
   * `amending`: the open order being amended (its current lock counts as available). */
  canAfford?(accountId: string, instrument: SimInstrument, side: SimSide, priceTicks: number, qtyLots: number, amending?: SimOrder): boolean;
  /** spot books: an order's resting state changed (rested, partly filled, amended, closed). `resting`: it sits in the
   * book with `qtyLots - filledLots` left at `priceTicks` (lock that much), else it locks nothing. */
  syncLock?(instrument: SimInstrument, order: SimOrder, resting: boolean): void;
}

export interface MatchingBookOptions {
  instrument: SimInstrument;
  /** clock of the market (ctx.nowMs(market)) */
  nowMs: () => number;
  /** order id source shared by the books of one market (startSim makes one per market, so ids are unique across
   * books and markets); default: a private allocator starting at `firstOrderId` */
  ids?: OrderIdAllocator;
  /** first order id (decimal digits) of the private allocator when `ids` is not given; default:
   * `DEFAULT_FIRST_ORDER_ID[market]` */
  firstOrderId?: string;
  /** updateId of the empty book; default 1000 */
  initialUpdateId?: number;
  /** closed orders kept for getOrder, per book; default 10,000 */
  closedOrdersKept?: number;
  /** true for futures markets: reduce-only is checked against the account's position */
  futures?: boolean;
  hooks?: BookAccountHooks;
  /** called when a listener throws (the exception is swallowed so the batch completes) */
  onListenerError?: (e: unknown, instrument: SimInstrument) => void;
}

/** Internal order record (a SimOrder plus its queue sequence). */
interface OrderRec extends SimOrder {
  seq: number;
  open: boolean;
}

class Level {
  price = 0;
  /** aggregated quantity: synthQty + sum of the user orders' remaining */
  qty = 0;
  synthQty = 0;
  synthSeq = 0;
  orders: OrderRec[] = [];
  /** batch in which this level last got a change entry, and that entry */
  chgBatch = -1;
  chg: SimLevelChange | undefined = undefined;
}

/**
 * First order id per market. The ranges are disjoint for any realistic number of orders, so with one allocator per
 * market (startSim) an order id is unique across books AND markets. USD-M ids (like Binance's) and Bybit spot ids
 * (19 digits, like Bybit's) exceed 2^53: ids are decimal strings everywhere.
 */
export const DEFAULT_FIRST_ORDER_ID: Readonly<Record<SimMarketId, string>> = {
  binanceSpot: '1000000',
  bybitLinear: '2000000000',
  bybitSpot: '1850000000000000000',
  binanceUsdm: '8389765739703625000',
};

/** Monotonic order id source (decimal strings); a number counter while ids stay below 2^53, else a bigint. */
export class OrderIdAllocator {
  private n: number;
  private big: bigint | undefined;
  constructor(first: string | bigint | number) {
    const b = BigInt(first);
    if (b < 0n) throw new Error('OrderIdAllocator: first id must be >= 0');
    if (b < BigInt(Number.MAX_SAFE_INTEGER) - 1_000_000_000n) {
      this.n = Number(b);
      this.big = undefined;
    } else {
      this.n = 0;
      this.big = b;
    }
  }
  /** the next id (decimal string) */
  next(): string {
    if (this.big !== undefined) return (this.big++).toString();
    return String(this.n++);
  }
  /** the id `next()` will return, without consuming it */
  peek(): string {
    return this.big !== undefined ? this.big.toString() : String(this.n);
  }
}

/** a step string ("0.05") in units of 10^-decimals (5 for 2 decimals); at least 1 */
export function unitsOfStep(step: string, decimals: number): number {
  const u = parseScaled(step, decimals);
  return u >= 1 && Number.isSafeInteger(u) ? u : 1;
}

function remaining(o: OrderRec): number {
  return o.qtyLots - o.filledLots;
}

export class MatchingBook implements SimBook {
  readonly instrument: SimInstrument;
  private _updateId: number;
  /** best level LAST */
  private readonly bids: Level[] = [];
  private readonly asks: Level[] = [];
  private readonly pool: Level[] = [];
  private readonly listeners: SimBookListener[] = [];
  private readonly nowMs: () => number;
  private readonly hooks: BookAccountHooks | undefined;
  private readonly futures: boolean;

  private readonly ids: OrderIdAllocator;
  private seq = 0;
  private tradeId = 0;
  private readonly openById = new Map<string, OrderRec>();
  /** `${accountId}\u0000${clientOrderId}` -> latest order (open or recently closed) */
  private readonly byClientId = new Map<string, OrderRec>();
  private readonly openByAccount = new Map<string, Map<string, OrderRec>>();
  private readonly closed: Array<OrderRec | undefined>;
  private closedHead = 0;
  private readonly closedById = new Map<string, OrderRec>();

  private readonly minQtyLots: number;
  private readonly maxQtyLots: number;
  private readonly minNotional: number;
  /** tickSize / stepSize in units of 10^-priceDecimals / 10^-qtyDecimals (a price must be a multiple of tickUnits) */
  readonly tickUnits: number;
  readonly stepUnits: number;
  /** 10^-priceDecimals * 10^-qtyDecimals: price units * qty units -> quote amount */
  private readonly notionalScale: number;

  // batch state
  private depthN = 0;
  private batchNo = 0;
  private changes: SimLevelChange[] = [];
  private batchTime = 0;

  /** counters for /state and benchmarks */
  levelUpdates = 0;
  trades = 0;
  batches = 0;
  /** exceptions thrown by listeners (caught: a venue bug must not wedge the book) */
  listenerErrors = 0;
  private readonly onListenerError: ((e: unknown, ins: SimInstrument) => void) | undefined;

  constructor(opts: MatchingBookOptions) {
    this.instrument = opts.instrument;
    this.nowMs = opts.nowMs;
    this.hooks = opts.hooks;
    this.onListenerError = opts.onListenerError;
    this.futures = opts.futures ?? (opts.instrument.market === 'binanceUsdm' || opts.instrument.market === 'bybitLinear');
    this._updateId = opts.initialUpdateId ?? 1000;
    this.ids = opts.ids ?? new OrderIdAllocator(opts.firstOrderId ?? DEFAULT_FIRST_ORDER_ID[opts.instrument.market]);
    this.closed = new Array<OrderRec | undefined>(opts.closedOrdersKept ?? 10_000).fill(undefined);
    const ins = opts.instrument;
    this.minQtyLots = parseScaled(ins.minQty, ins.qtyDecimals) || 0;
    this.maxQtyLots = parseScaled(ins.maxQty, ins.qtyDecimals) || Number.MAX_SAFE_INTEGER;
    this.minNotional = Number(ins.minNotional) || 0;
    this.tickUnits = unitsOfStep(ins.tickSize, ins.priceDecimals);
    this.stepUnits = unitsOfStep(ins.stepSize, ins.qtyDecimals);
    this.notionalScale = 1 / 10 ** (ins.priceDecimals + ins.qtyDecimals);
  }

  get updateId(): number {
    return this._updateId;
  }

  // ------------------------------------------------------------------------------------------------ listeners
  addListener(l: SimBookListener): void {
    if (!this.listeners.includes(l)) this.listeners.push(l);
  }
  removeListener(l: SimBookListener): void {
    const i = this.listeners.indexOf(l);
    if (i >= 0) this.listeners.splice(i, 1);
  }

  // ------------------------------------------------------------------------------------------------ batches
  /** Open a mutation batch (nestable); everything until the matching `endBatch` is one onLevels / updateId. */
  beginBatch(timeMs?: number): void {
    if (this.depthN++ === 0) {
      this.batchNo++;
      this.changes = [];
      this.batchTime = timeMs ?? this.nowMs();
    }
  }

  /** Close a batch; on the outermost close, emit onLevels once if any level changed. Returns the changes count. */
  endBatch(): number {
    if (--this.depthN > 0) return 0;
    if (this.depthN < 0) throw new Error('MatchingBook.endBatch without beginBatch');
    const ch = this.changes;
    const n = ch.length;
    if (n === 0) return 0;
    this._updateId++;
    this.batches++;
    this.levelUpdates += n;
    const ls = this.listeners;
    for (let i = 0; i < ls.length; i++) {
      try {
        ls[i]!.onLevels(this.instrument.symbol, ch, this._updateId, this.batchTime);
      } catch (e) {
        this.listenerFailed(e);
      }
    }
    return n;
  }

  /** A listener threw: the book stays consistent (the batch completes), the error is counted and reported. */
  private listenerFailed(e: unknown): void {
    this.listenerErrors++;
    this.onListenerError?.(e, this.instrument);
  }

  private noteLevel(side: SimSide, lv: Level): void {
    if (lv.chgBatch === this.batchNo && lv.chg) {
      lv.chg.qtyLots = lv.qty;
      return;
    }
    const c: SimLevelChange = { side, priceTicks: lv.price, qtyLots: lv.qty };
    this.changes.push(c);
    lv.chgBatch = this.batchNo;
    lv.chg = c;
  }

  // ------------------------------------------------------------------------------------------------ levels
  /** index of the level with `price` in `arr`, or -(insertion point) - 1. Bids ascending, asks descending. */
  private find(arr: Level[], bid: boolean, price: number): number {
    let lo = 0;
    let hi = arr.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const p = arr[mid]!.price;
      if (p === price) return mid;
      if (bid ? p < price : p > price) lo = mid + 1;
      else hi = mid - 1;
    }
    return -lo - 1;
  }

  private getOrCreate(side: SimSide, price: number): Level {
    const bid = side === 'BUY';
    const arr = bid ? this.bids : this.asks;
    // fast path: the best end
    const n = arr.length;
    if (n > 0) {
      const last = arr[n - 1]!;
      if (last.price === price) return last;
      if (bid ? price > last.price : price < last.price) return this.insertAt(arr, n, price);
    } else {
      return this.insertAt(arr, 0, price);
    }
    const i = this.find(arr, bid, price);
    if (i >= 0) return arr[i]!;
    return this.insertAt(arr, -i - 1, price);
  }

  private insertAt(arr: Level[], i: number, price: number): Level {
    const lv = this.pool.pop() ?? new Level();
    lv.price = price;
    lv.qty = 0;
    lv.synthQty = 0;
    lv.synthSeq = 0;
    lv.orders.length = 0;
    lv.chgBatch = -1;
    lv.chg = undefined;
    if (i === arr.length) arr.push(lv);
    else arr.splice(i, 0, lv);
    return lv;
  }

  private lookup(side: SimSide, price: number): Level | undefined {
    const bid = side === 'BUY';
    const arr = bid ? this.bids : this.asks;
    const n = arr.length;
    if (n === 0) return undefined;
    const last = arr[n - 1]!;
    if (last.price === price) return last;
    const i = this.find(arr, bid, price);
    return i >= 0 ? arr[i] : undefined;
  }

  /** remove an empty level */
  private dropLevel(side: SimSide, lv: Level): void {
    const bid = side === 'BUY';
    const arr = bid ? this.bids : this.asks;
    const n = arr.length;
    if (n > 0 && arr[n - 1] === lv) arr.pop();
    else {
      const i = this.find(arr, bid, lv.price);
      if (i >= 0) arr.splice(i, 1);
    }
    lv.chg = undefined;
    lv.chgBatch = -1;
    this.pool.push(lv);
  }

  // ------------------------------------------------------------------------------------------------ reads
  bestBid(): { priceTicks: number; qtyLots: number } | undefined {
    const lv = this.bids[this.bids.length - 1];
    return lv ? { priceTicks: lv.price, qtyLots: lv.qty } : undefined;
  }
  bestAsk(): { priceTicks: number; qtyLots: number } | undefined {
    const lv = this.asks[this.asks.length - 1];
    return lv ? { priceTicks: lv.price, qtyLots: lv.qty } : undefined;
  }
  /** best bid price (price units) or 0 when the side is empty; no allocation */
  bestBidPrice(): number {
    return this.bids[this.bids.length - 1]?.price ?? 0;
  }
  /** best ask price (price units) or 0 when the side is empty; no allocation */
  bestAskPrice(): number {
    return this.asks[this.asks.length - 1]?.price ?? 0;
  }
  /** aggregated quantity (qty units) at the best bid or 0 when the side is empty; no allocation */
  bestBidQty(): number {
    return this.bids[this.bids.length - 1]?.qty ?? 0;
  }
  /** aggregated quantity (qty units) at the best ask or 0 when the side is empty; no allocation */
  bestAskQty(): number {
    return this.asks[this.asks.length - 1]?.qty ?? 0;
  }
  levelCount(side: SimSide): number {
    return side === 'BUY' ? this.bids.length : this.asks.length;
  }
  depth(depth: number): { bids: Array<[number, number]>; asks: Array<[number, number]>; updateId: number } {
    const bids: Array<[number, number]> = [];
    const asks: Array<[number, number]> = [];
    for (let i = this.bids.length - 1; i >= 0 && bids.length < depth; i--) bids.push([this.bids[i]!.price, this.bids[i]!.qty]);
    for (let i = this.asks.length - 1; i >= 0 && asks.length < depth; i--) asks.push([this.asks[i]!.price, this.asks[i]!.qty]);
    return { bids, asks, updateId: this._updateId };
  }
  /** quantity of synthetic liquidity at a price (0 if none) */
  syntheticQty(side: SimSide, priceTicks: number): number {
    return this.lookup(side, priceTicks)?.synthQty ?? 0;
  }

  // ------------------------------------------------------------------------------------------------ synthetic
  /**
   * Set the synthetic quantity at a price (0 removes it). If the price crosses the opposite side, it first trades
   * with user orders there (and removes opposite synthetic liquidity without a trade), like a real market moving
   * through resting orders. Must be called inside a batch (opens one itself if not). `reportUnchanged`: report the
   * level in the batch even when its quantity does not change (replay re-emits every recorded frame).
   */
  setSynthetic(side: SimSide, priceTicks: number, qtyLots: number, reportUnchanged = false): void {
    this.beginBatch();
    const lv = this.lookup(side, priceTicks);
    const cur = lv ? lv.synthQty : 0;
    if (qtyLots === cur && reportUnchanged) {
      // replay: a recorded level that restates its quantity still appears in the batch (and the batch is emitted)
      if (lv) this.noteLevel(side, lv);
      else this.changes.push({ side, priceTicks, qtyLots: 0 });
    }
    if (qtyLots <= cur) {
      if (lv && qtyLots < cur) {
        lv.qty -= cur - qtyLots;
        lv.synthQty = qtyLots;
        this.noteLevel(side, lv);
        if (lv.qty === 0) this.dropLevel(side, lv);
      }
      this.endBatch();
      return;
    }
    let add = qtyLots - cur;
    if (cur === 0) {
      // a new synthetic chunk may cross the opposite side: trade through it first
      add = this.matchAgainst(side, priceTicks, add, undefined);
      if (add <= 0) {
        this.endBatch();
        return;
      }
    }
    const l2 = lv ?? this.getOrCreate(side, priceTicks);
    if (l2.synthQty === 0) l2.synthSeq = ++this.seq;
    l2.synthQty += add;
    l2.qty += add;
    this.noteLevel(side, l2);
    this.endBatch();
  }

  /** Aggressive synthetic order: take up to `qtyLots` from the opposite side (down to/up to `limitTicks` if given). */
  sweepSynthetic(takerSide: SimSide, qtyLots: number, limitTicks?: number): number {
    this.beginBatch();
    const left = this.matchAgainst(takerSide, limitTicks ?? (takerSide === 'BUY' ? Infinity : -Infinity), qtyLots, undefined, true);
    this.endBatch();
    return qtyLots - left;
  }

  /**
   * A public trade that happened elsewhere (replay of recorded trades): announced to listeners, no level changes and
   * no fills (user orders fill when the recorded levels move through them). Returns the trade id.
   */
  publishTrade(takerSide: SimSide, priceTicks: number, qtyLots: number, timeMs?: number): number {
    const id = ++this.tradeId;
    this.trades++;
    const pt: SimPublicTrade = { tradeId: id, priceTicks, qtyLots, takerSide, timeMs: timeMs ?? this.nowMs() };
    const ls = this.listeners;
    for (let i = 0; i < ls.length; i++) {
      try {
        ls[i]!.onTrade(this.instrument.symbol, pt);
      } catch (e) {
        this.listenerFailed(e);
      }
    }
    return id;
  }

  /** Remove all synthetic liquidity on both sides (replay snapshots), inside the current batch. */
  clearSynthetic(): void {
    this.beginBatch();
    for (const side of ['BUY', 'SELL'] as const) {
      const arr = side === 'BUY' ? this.bids : this.asks;
      for (let i = arr.length - 1; i >= 0; i--) {
        const lv = arr[i]!;
        if (lv.synthQty > 0) {
          lv.qty -= lv.synthQty;
          lv.synthQty = 0;
          this.noteLevel(side, lv);
          if (lv.qty === 0) {
            arr.splice(i, 1);
            lv.chg = undefined;
            lv.chgBatch = -1;
            this.pool.push(lv);
          }
        }
      }
    }
    this.endBatch();
  }

  // ------------------------------------------------------------------------------------------------ matching
  /**
   * Match an aggressor of `side` with limit `limit` (Infinity / -Infinity for market) against the opposite side.
   * `taker` undefined = synthetic aggressor. Returns the quantity left.
   */
  private matchAgainst(side: SimSide, limit: number, qty: number, taker: OrderRec | undefined, synthTrades = false): number {
    const buy = side === 'BUY';
    const oppSide: SimSide = buy ? 'SELL' : 'BUY';
    const opp = buy ? this.asks : this.bids;
    let left = qty;
    while (left > 0 && opp.length > 0) {
      const lv = opp[opp.length - 1]!;
      if (buy ? lv.price > limit : lv.price < limit) break;
      // consume the level in time priority: synthetic chunk vs user orders by seq
      while (left > 0 && lv.qty > 0) {
        const head = lv.orders[0];
        const synthFirst = lv.synthQty > 0 && (head === undefined || lv.synthSeq < head.seq);
        if (synthFirst) {
          if (taker === undefined && !synthTrades) {
            // synthetic quote vs synthetic: no trade, the resting synthetic chunk goes away
            lv.qty -= lv.synthQty;
            lv.synthQty = 0;
            continue;
          }
          const q = left < lv.synthQty ? left : lv.synthQty;
          lv.synthQty -= q;
          lv.qty -= q;
          left -= q;
          this.trade(side, lv.price, q, taker, undefined);
        } else if (head) {
          const r = remaining(head);
          const q = left < r ? left : r;
          lv.qty -= q;
          left -= q;
          this.trade(side, lv.price, q, taker, head);
          if (remaining(head) === 0) lv.orders.shift();
        } else break;
      }
      this.noteLevel(oppSide, lv);
      if (lv.qty === 0) this.dropLevel(oppSide, lv);
      else break; // level not emptied: the aggressor is done (left === 0)
    }
    return left;
  }

  private trade(takerSide: SimSide, price: number, qty: number, taker: OrderRec | undefined, maker: OrderRec | undefined): void {
    const id = ++this.tradeId;
    this.trades++;
    const t = this.batchTime;
    const sym = this.instrument.symbol;
    const ls = this.listeners;
    const pt: SimPublicTrade = { tradeId: id, priceTicks: price, qtyLots: qty, takerSide, timeMs: t };
    for (let i = 0; i < ls.length; i++) {
      try {
        ls[i]!.onTrade(sym, pt);
      } catch (e) {
        this.listenerFailed(e);
      }
    }
    if (maker) this.fill(maker, id, price, qty, true, t);
    if (taker) this.fill(taker, id, price, qty, false, t);
  }

  private fill(o: OrderRec, tradeId: number, price: number, qty: number, maker: boolean, t: number): void {
    o.filledLots += qty;
    o.cumQuoteTL += price * qty;
    o.updatedMs = t;
    const done = o.filledLots >= o.qtyLots;
    o.status = done ? 'FILLED' : 'PARTIALLY_FILLED';
    const f: SimFill = {
      tradeId,
      orderId: o.orderId,
      clientOrderId: o.clientOrderId,
      accountId: o.accountId,
      side: o.side,
      priceTicks: price,
      qtyLots: qty,
      maker,
      timeMs: t,
      fee: 0,
      feeAsset: '',
      feeRate: 0,
    };
    this.hooks?.onFill(this.instrument, f);
    if (done && o.open) this.close(o, 'FILLED');
    if (o.seq > 0) this.lock(o);
    this.emitOrder(o, f);
  }

  /** spot: tell the accounts what an order locks now (resting = open and in the queue) */
  private lock(o: OrderRec): void {
    if (!this.futures && this.hooks?.syncLock) this.hooks.syncLock(this.instrument, o, o.open && o.seq > 0);
  }

  private emitOrder(o: OrderRec, f: SimFill | undefined): void {
    const ls = this.listeners;
    const sym = this.instrument.symbol;
    for (let i = 0; i < ls.length; i++) {
      try {
        ls[i]!.onOrder(sym, o, f);
      } catch (e) {
        this.listenerFailed(e);
      }
    }
  }

  /** move an order from open to the closed ring */
  private close(o: OrderRec, status: SimOrderStatus): void {
    o.status = status;
    if (o.open) {
      o.open = false;
      this.openById.delete(o.orderId);
      const acc = this.openByAccount.get(o.accountId);
      if (acc) {
        acc.delete(o.orderId);
        if (acc.size === 0) this.openByAccount.delete(o.accountId);
      }
    }
    this.remember(o);
  }

  private remember(o: OrderRec): void {
    const old = this.closed[this.closedHead];
    if (old) {
      this.closedById.delete(old.orderId);
      const k = old.accountId + '\u0000' + old.clientOrderId;
      if (this.byClientId.get(k) === old) this.byClientId.delete(k);
    }
    this.closed[this.closedHead] = o;
    this.closedHead = (this.closedHead + 1) % this.closed.length;
    this.closedById.set(o.orderId, o);
  }

  // ------------------------------------------------------------------------------------------------ orders
  /** an order refused by post-only / FOK rules: EXPIRED, kept for getOrder like any closed order */
  private rememberRejected(rec: OrderRec): void {
    rec.status = 'EXPIRED';
    this.byClientId.set(rec.accountId + '\u0000' + rec.clientOrderId, rec);
    this.remember(rec);
  }

  private newRec(o: SimNewOrder, qty: number, now: number): OrderRec {
    const orderId = o.orderId ?? this.ids.next();
    return {
      orderId,
      clientOrderId: o.clientOrderId.length > 0 ? o.clientOrderId : `sim-${orderId}`,
      accountId: o.accountId,
      symbol: this.instrument.symbol,
      side: o.side,
      type: o.type,
      tif: o.tif,
      priceTicks: o.type === 'MARKET' ? 0 : o.priceTicks,
      qtyLots: qty,
      filledLots: 0,
      cumQuoteTL: 0,
      reduceOnly: o.reduceOnly,
      status: 'NEW',
      createdMs: now,
      updatedMs: now,
      stop: o.stop,
      seq: 0,
      open: false,
    };
  }

  /** liquidity available to an aggressor within `limit` (for FOK), stopping once `need` is reached */
  private available(side: SimSide, limit: number, need: number): number {
    const buy = side === 'BUY';
    const opp = buy ? this.asks : this.bids;
    let sum = 0;
    for (let i = opp.length - 1; i >= 0 && sum < need; i--) {
      const lv = opp[i]!;
      if (buy ? lv.price > limit : lv.price < limit) break;
      sum += lv.qty;
    }
    return sum;
  }

  submit(o: SimNewOrder): SimSubmitResult {
    const now = this.nowMs();
    if (o.accountId === SYNTHETIC_ACCOUNT) return { ok: false, reason: 'BAD_QTY' };
    if (!Number.isSafeInteger(o.qtyLots) || o.qtyLots <= 0 || o.qtyLots < this.minQtyLots || o.qtyLots > this.maxQtyLots || o.qtyLots % this.stepUnits !== 0) {
      return { ok: false, reason: 'BAD_QTY' };
    }
    const isMarket = o.type === 'MARKET';
    if (!isMarket && (!Number.isSafeInteger(o.priceTicks) || o.priceTicks <= 0 || o.priceTicks % this.tickUnits !== 0)) {
      return { ok: false, reason: 'BAD_PRICE' };
    }
    if (isMarket && o.tif === 'POST_ONLY') return { ok: false, reason: 'BAD_PRICE' };
    if (o.clientOrderId.length > 0) {
      const prev = this.byClientId.get(o.accountId + '\u0000' + o.clientOrderId);
      if (prev?.open) return { ok: false, reason: 'DUPLICATE_CLIENT_ID' };
    }
    if (!isMarket && this.minNotional > 0 && o.priceTicks * o.qtyLots * this.notionalScale < this.minNotional * (1 - 1e-9)) {
      return { ok: false, reason: 'MIN_NOTIONAL' };
    }
    let qty = o.qtyLots;
    if (o.reduceOnly) {
      if (!this.futures) return { ok: false, reason: 'REDUCE_ONLY' };
      const pos = this.hooks?.positionLots(o.accountId, this.instrument) ?? 0;
      // a reduce-only order must close (part of) an opposite position; its size is capped to the position
      if (pos === 0 || (o.side === 'BUY' ? pos > 0 : pos < 0)) return { ok: false, reason: 'REDUCE_ONLY' };
      const abs = pos < 0 ? -pos : pos;
      if (qty > abs) qty = abs;
    }
    if (!this.futures && this.hooks?.canAfford) {
      // a market buy is priced at the best ask (what it would pay at least)
      const px = isMarket ? (o.side === 'BUY' ? this.bestAskPrice() : 0) : o.priceTicks;
      if (!this.hooks.canAfford(o.accountId, this.instrument, o.side, px, qty)) return { ok: false, reason: 'INSUFFICIENT_BALANCE' };
    }
    const limit = isMarket ? (o.side === 'BUY' ? Infinity : -Infinity) : o.priceTicks;
    if (o.tif === 'POST_ONLY') {
      const best = o.side === 'BUY' ? this.bestAskPrice() : this.bestBidPrice();
      if (best !== 0 && (o.side === 'BUY' ? best <= limit : best >= limit)) {
        const rec = this.newRec(o, qty, now);
        this.rememberRejected(rec);
        return { ok: false, reason: 'POST_ONLY_WOULD_TAKE', order: rec };
      }
    }
    if (o.tif === 'FOK' && this.available(o.side, limit, qty) < qty) {
      const rec = this.newRec(o, qty, now);
      this.rememberRejected(rec);
      return { ok: false, reason: 'FOK_NOT_FILLED', order: rec };
    }

    const rec = this.newRec(o, qty, now);
    rec.open = true;
    this.openById.set(rec.orderId, rec);
    this.byClientId.set(rec.accountId + '\u0000' + rec.clientOrderId, rec);
    let acc = this.openByAccount.get(rec.accountId);
    if (!acc) this.openByAccount.set(rec.accountId, (acc = new Map()));
    acc.set(rec.orderId, rec);

    this.beginBatch(now);
    const fills: SimFill[] = [];
    const collect: SimBookListener = {
      onLevels() {},
      onTrade() {},
      onOrder(_s, ord, f) {
        if (f && ord === rec) fills.push(f);
      },
    };
    this.listeners.push(collect);
    try {
      this.emitOrder(rec, undefined); // NEW
      const left = this.matchAgainst(o.side, limit, qty, rec);
      if (left > 0) {
        if (isMarket || o.tif === 'IOC' || o.tif === 'FOK') {
          rec.updatedMs = now;
          this.close(rec, 'EXPIRED');
          this.emitOrder(rec, undefined);
        } else {
          const lv = this.getOrCreate(o.side, o.priceTicks);
          rec.seq = ++this.seq;
          lv.orders.push(rec);
          lv.qty += left;
          this.noteLevel(o.side, lv);
          this.lock(rec);
        }
      }
    } finally {
      const i = this.listeners.lastIndexOf(collect);
      if (i >= 0) this.listeners.splice(i, 1);
      this.endBatch();
    }
    return { ok: true, order: rec, fills };
  }

  private findOpen(accountId: string, ref: { orderId?: string; clientOrderId?: string }): OrderRec | undefined {
    if (ref.orderId !== undefined && ref.orderId !== '') {
      const o = this.openById.get(ref.orderId);
      return o && o.accountId === accountId ? o : undefined;
    }
    if (ref.clientOrderId !== undefined && ref.clientOrderId !== '') {
      const o = this.byClientId.get(accountId + '\u0000' + ref.clientOrderId);
      return o?.open ? o : undefined;
    }
    return undefined;
  }

  private unlink(o: OrderRec): void {
    const lv = this.lookup(o.side, o.priceTicks);
    if (!lv) return;
    const i = lv.orders.indexOf(o);
    if (i < 0) return;
    lv.orders.splice(i, 1);
    lv.qty -= remaining(o);
    this.noteLevel(o.side, lv);
    if (lv.qty === 0) this.dropLevel(o.side, lv);
  }

  cancel(accountId: string, ref: { orderId?: string; clientOrderId?: string }): SimCancelResult {
    const o = this.findOpen(accountId, ref);
    if (!o) return { ok: false, reason: 'UNKNOWN_ORDER' };
    const now = this.nowMs();
    this.beginBatch(now);
    this.unlink(o);
    o.updatedMs = now;
    this.close(o, 'CANCELED');
    this.lock(o);
    this.emitOrder(o, undefined);
    this.endBatch();
    return { ok: true, order: o };
  }

  /**
   * Amend an open LIMIT order of `accountId`: `qtyLots` is the new TOTAL quantity (filled part included, as Bybit's
   * `qty` and Binance's keepPriority `newQty`), `priceTicks` the new price. Queue priority:
   *  - same price and a smaller quantity: the order keeps its place in the level's queue;
   *  - a new price or a larger quantity: the order goes to the back of the queue (of its new level). A new price that
   *    crosses the book trades at once, as a taker (POST_ONLY: refused with POST_ONLY_WOULD_TAKE, order unchanged).
   * Refusals leave the order unchanged: UNKNOWN_ORDER (not open, not LIMIT, not this account's), BAD_PRICE (not a
   * positive multiple of the tick), BAD_QTY (not a multiple of the step, above maxQty, or not above the filled part),
   * INSUFFICIENT_BALANCE (spot: the larger lock cannot be paid), DUPLICATE_CLIENT_ID (`clientOrderId`, a new client id
   * for the order, is another open order's). Nothing to change: ok, no batch, no event.
   * An accepted change is one batch: onOrder (the amended order, no fill), then fills if it crossed.
   */
  amend(
    accountId: string,
    ref: { orderId?: string; clientOrderId?: string },
    change: { priceTicks?: number; qtyLots?: number; clientOrderId?: string },
  ): SimAmendResult {
    const o = this.findOpen(accountId, ref);
    if (o?.type !== 'LIMIT') return { ok: false, reason: 'UNKNOWN_ORDER' };
    const price = change.priceTicks ?? o.priceTicks;
    const total = change.qtyLots ?? o.qtyLots;
    if (!Number.isSafeInteger(price) || price <= 0 || price % this.tickUnits !== 0) return { ok: false, reason: 'BAD_PRICE' };
    if (!Number.isSafeInteger(total) || total % this.stepUnits !== 0 || total > this.maxQtyLots || total <= o.filledLots) {
      return { ok: false, reason: 'BAD_QTY' };
    }
    const newCid =
      change.clientOrderId !== undefined && change.clientOrderId !== '' && change.clientOrderId !== o.clientOrderId ? change.clientOrderId : undefined;
    if (newCid !== undefined && this.byClientId.get(accountId + '\u0000' + newCid)?.open) return { ok: false, reason: 'DUPLICATE_CLIENT_ID' };
    if (price === o.priceTicks && total === o.qtyLots && newCid === undefined) return { ok: true, order: o, fills: [], keptPriority: true };
    const keep = price === o.priceTicks && total < o.qtyLots;
    if (!keep && price !== o.priceTicks && o.tif === 'POST_ONLY') {
      const best = o.side === 'BUY' ? this.bestAskPrice() : this.bestBidPrice();
      if (best !== 0 && (o.side === 'BUY' ? best <= price : best >= price)) return { ok: false, reason: 'POST_ONLY_WOULD_TAKE' };
    }
    if (!this.futures && this.hooks?.canAfford) {
      // the order's current lock counts as available: only the extra a larger or dearer order needs must be free
      if (this.lockDelta(o, price, total) > 0 && !this.hooks.canAfford(o.accountId, this.instrument, o.side, price, total - o.filledLots, o)) {
        return { ok: false, reason: 'INSUFFICIENT_BALANCE' };
      }
    }
    const now = this.nowMs();
    if (newCid !== undefined) {
      // Binance keepPriority's newClientOrderId: the order answers to the new client id from now on
      const k = accountId + '\u0000' + o.clientOrderId;
      if (this.byClientId.get(k) === o) this.byClientId.delete(k);
      o.clientOrderId = newCid;
      this.byClientId.set(accountId + '\u0000' + newCid, o);
    }
    this.beginBatch(now);
    const fills: SimFill[] = [];
    const collect: SimBookListener = {
      onLevels() {},
      onTrade() {},
      onOrder(_s, ord, f) {
        if (f && ord === o) fills.push(f);
      },
    };
    this.listeners.push(collect);
    try {
      if (keep) {
        const lv = this.lookup(o.side, o.priceTicks);
        const d = o.qtyLots - total;
        o.qtyLots = total;
        o.updatedMs = now;
        this.lock(o);
        if (lv) {
          lv.qty -= d;
          this.noteLevel(o.side, lv);
        }
        this.emitOrder(o, undefined);
      } else {
        this.unlink(o);
        o.seq = 0; // out of the queue: locks nothing while it matches as a taker
        this.lock(o);
        o.priceTicks = price;
        o.qtyLots = total;
        o.updatedMs = now;
        this.emitOrder(o, undefined);
        const left = this.matchAgainst(o.side, price, total - o.filledLots, o);
        if (left > 0 && o.open) {
          const lv = this.getOrCreate(o.side, price);
          o.seq = ++this.seq;
          lv.orders.push(o);
          lv.qty += left;
          this.noteLevel(o.side, lv);
          this.lock(o);
        }
      }
    } finally {
      const i = this.listeners.lastIndexOf(collect);
      if (i >= 0) this.listeners.splice(i, 1);
      this.endBatch();
    }
    return { ok: true, order: o, fills, keptPriority: keep };
  }

  /** quote (BUY) or base (SELL) units an amended order would lock beyond what it locks now (spot) */
  private lockDelta(o: OrderRec, price: number, total: number): number {
    const oldLeft = o.qtyLots - o.filledLots;
    const newLeft = total - o.filledLots;
    return o.side === 'BUY' ? price * newLeft - o.priceTicks * oldLeft : newLeft - oldLeft;
  }

  cancelAll(accountId: string): SimOrder[] {
    const acc = this.openByAccount.get(accountId);
    if (!acc || acc.size === 0) return [];
    const list = [...acc.values()];
    const now = this.nowMs();
    this.beginBatch(now);
    for (const o of list) {
      this.unlink(o);
      o.updatedMs = now;
      this.close(o, 'CANCELED');
      this.lock(o);
      this.emitOrder(o, undefined);
    }
    this.endBatch();
    return list;
  }

  openOrders(accountId: string): SimOrder[] {
    const acc = this.openByAccount.get(accountId);
    return acc ? [...acc.values()] : [];
  }

  getOrder(accountId: string, ref: { orderId?: string; clientOrderId?: string }): SimOrder | undefined {
    if (ref.orderId !== undefined && ref.orderId !== '') {
      const o = this.openById.get(ref.orderId) ?? this.closedById.get(ref.orderId);
      return o && o.accountId === accountId ? o : undefined;
    }
    if (ref.clientOrderId !== undefined && ref.clientOrderId !== '') {
      return this.byClientId.get(accountId + '\u0000' + ref.clientOrderId);
    }
    return undefined;
  }

  openCountOf(accountId: string): number {
    return this.openByAccount.get(accountId)?.size ?? 0;
  }

  allocOrderId(): string {
    return this.ids.next();
  }

  /** number of open user orders (all accounts) */
  openOrderCount(): number {
    return this.openById.size;
  }
}
