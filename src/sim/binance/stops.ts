/**
 * Spot stop orders: STOP_LOSS, STOP_LOSS_LIMIT, TAKE_PROFIT, TAKE_PROFIT_LIMIT (`POST /api/v3/order`, WS API
 * `order.place`). A stop order gets its order id at once and waits outside the book as NEW (`isWorking` false,
 * `workingTime` -1; listed by openOrders, found by the order query, cancelled by cancel and cancel-all, each as an
 * executionReport). When the market reaches its `stopPrice` it enters the book under the same order id and client
 * id, as the MARKET (STOP_LOSS, TAKE_PROFIT) or LIMIT (the _LIMIT types) order it works as; its venue type and stop
 * price stay on it (`SimOrder.stop`).
 *
 * Trigger (spot-docs rest-api.md "Trigger order price rules"): a BUY STOP_LOSS / SELL TAKE_PROFIT waits above the
 * market, a SELL STOP_LOSS / BUY TAKE_PROFIT below it. The venue compares with the last traded price; the simulator's
 * market price for stops is the touch the triggered order would meet (best ask for a BUY, best bid for a SELL), the
 * same rule as its USD-M algo orders (algo.ts), so a test moves the book to trigger. A stop price the market has
 * already reached is refused at placement: -2010 "Order would trigger immediately.".
 */
import type { SimBook, SimBookListener, SimContext, SimMarketId, SimNewOrder, SimOrder } from '../core/types.js';
import { type BnError, E } from './errors.js';
import type { InstFmt } from './format.js';
import { FILTERS } from './info.js';
import type { SpotStopOrders } from './ops.js';
import type { UserData } from './userdata.js';

/** how many finished (cancelled / expired before working) stop orders are kept for the order query */
const KEEP_CLOSED = 1000;

export class SpotStops implements SimBookListener, SpotStopOrders {
  /** waiting stop orders by order id */
  private readonly pending = new Map<string, SimOrder>();
  /** stop orders that ended without working (cancelled, expired at their trigger), oldest first */
  private readonly closed = new Map<string, SimOrder>();
  private readonly checkQueued = new Set<string>();

  constructor(
    private readonly ctx: SimContext,
    private readonly market: SimMarketId,
    private readonly ud: UserData,
  ) {
    for (const book of ctx.books.get(market)?.values() ?? []) book.addListener(this);
  }

  close(): void {
    for (const book of this.ctx.books.get(this.market)?.values() ?? []) book.removeListener(this);
  }

  private now(): number {
    return this.ctx.nowMs(this.market);
  }

  count(accountId: string, symbol: string): number {
    if (this.pending.size === 0) return 0;
    let n = 0;
    for (const o of this.pending.values()) if (o.accountId === accountId && o.symbol === symbol) n++;
    return n;
  }

  hasOpenClientId(accountId: string, cid: string): boolean {
    if (this.pending.size === 0) return false;
    for (const o of this.pending.values()) if (o.accountId === accountId && o.clientOrderId === cid) return true;
    return false;
  }

  /**
   * Place a stop order whose fields ops.ts has validated (quantity, price, time in force, client id, the filters).
   * MAX_NUM_ALGO_ORDERS counts the account's waiting stop orders on the symbol: the venue answers -2010
   * "Filter failure: MAX_NUM_ALGO_ORDERS" (reported by users of the real API, JKorf/Binance.Net#1212; spot-docs
   * errors.md: "Account has too many open stop loss and/or take profit orders on the symbol.").
   */
  place(book: SimBook, fmt: InstFmt, o: SimNewOrder, stopType: string, stopTicks: number): SimOrder | BnError {
    const symbol = fmt.inst.symbol;
    if (this.count(o.accountId, symbol) >= FILTERS.spotMaxAlgoOrders) return E.rejected('Filter failure: MAX_NUM_ALGO_ORDERS');
    if (this.reached(o.side, stopType, stopTicks, book)) return E.rejected('Order would trigger immediately.');
    const existing = book.getOrder(o.accountId, { clientOrderId: o.clientOrderId });
    if ((existing && (existing.status === 'NEW' || existing.status === 'PARTIALLY_FILLED')) || this.hasOpenClientId(o.accountId, o.clientOrderId)) {
      return E.rejected('Duplicate order sent.');
    }
    const now = this.now();
    const order: SimOrder = {
      orderId: book.allocOrderId(),
      clientOrderId: o.clientOrderId,
      accountId: o.accountId,
      symbol,
      side: o.side,
      type: o.type,
      tif: o.tif,
      priceTicks: o.type === 'MARKET' ? 0 : o.priceTicks,
      qtyLots: o.qtyLots,
      filledLots: 0,
      cumQuoteTL: 0,
      reduceOnly: false,
      status: 'NEW',
      createdMs: now,
      updatedMs: now,
      stop: { type: stopType, stopTicks, placedMs: now, workingMs: -1 },
    };
    this.pending.set(order.orderId, order);
    this.ud.onOrder(symbol, order, undefined);
    return order;
  }

  /** the account's waiting stop orders on a symbol */
  open(accountId: string, symbol: string): SimOrder[] {
    const out: SimOrder[] = [];
    for (const o of this.pending.values()) if (o.accountId === accountId && o.symbol === symbol) out.push(o);
    return out;
  }

  /** a waiting (or ended-before-working) stop order by order id or client id */
  get(accountId: string, symbol: string, ref: { orderId?: string; clientOrderId?: string }): SimOrder | undefined {
    const match = (o: SimOrder): boolean =>
      o.accountId === accountId && o.symbol === symbol && (ref.orderId !== undefined ? o.orderId === ref.orderId : o.clientOrderId === ref.clientOrderId);
    if (ref.orderId !== undefined) {
      const o = this.pending.get(ref.orderId) ?? this.closed.get(ref.orderId);
      return o && match(o) ? o : undefined;
    }
    for (const o of this.pending.values()) if (match(o)) return o;
    let last: SimOrder | undefined;
    for (const o of this.closed.values()) if (match(o)) last = o;
    return last;
  }

  /** cancel a waiting stop order (its executionReport carries the cancel's client id set by ops.ts); undefined if none */
  cancel(accountId: string, symbol: string, ref: { orderId?: string; clientOrderId?: string }): SimOrder | undefined {
    const o = this.get(accountId, symbol, ref);
    if (!o || !this.pending.has(o.orderId)) return undefined;
    this.end(o, 'CANCELED');
    return o;
  }

  cancelAll(accountId: string, symbol: string): SimOrder[] {
    const out = this.open(accountId, symbol);
    for (const o of out) this.end(o, 'CANCELED');
    return out;
  }

  private end(o: SimOrder, status: 'CANCELED' | 'EXPIRED'): void {
    this.pending.delete(o.orderId);
    o.status = status;
    o.updatedMs = this.now();
    this.closed.set(o.orderId, o);
    if (this.closed.size > KEEP_CLOSED) this.closed.delete(this.closed.keys().next().value!);
    this.ud.onOrder(o.symbol, o, undefined);
  }

  // ------------------------------------------------------------------------------------------ triggering
  /** has the market reached the stop price (see the header) */
  private reached(side: 'BUY' | 'SELL', stopType: string, stopTicks: number, book: SimBook): boolean {
    const above = (side === 'BUY') === stopType.startsWith('STOP_LOSS'); // waits above the market
    const touch = side === 'BUY' ? book.bestAskPrice() : book.bestBidPrice();
    if (touch === 0) return false;
    return above ? touch >= stopTicks : touch <= stopTicks;
  }

  onLevels(symbol: string): void {
    if (this.pending.size === 0 || this.checkQueued.has(symbol)) return;
    // never mutate a book from inside its own listener: check after the batch
    this.checkQueued.add(symbol);
    queueMicrotask(() => {
      this.checkQueued.delete(symbol);
      this.check(symbol);
    });
  }
  onTrade(): void {}
  onOrder(): void {}

  private check(symbol: string): void {
    const book = this.ctx.books.get(this.market)?.get(symbol);
    if (!book) return;
    for (const o of [...this.pending.values()]) {
      if (o.symbol !== symbol || !this.pending.has(o.orderId) || !this.reached(o.side, o.stop!.type, o.stop!.stopTicks, book)) continue;
      this.trigger(o, book);
    }
  }

  /** the stop order starts working: it enters the book under its own ids (the book reports it as NEW, w true) */
  private trigger(o: SimOrder, book: SimBook): void {
    this.pending.delete(o.orderId);
    const r = book.submit({
      accountId: o.accountId,
      clientOrderId: o.clientOrderId,
      side: o.side,
      type: o.type,
      tif: o.tif,
      priceTicks: o.priceTicks,
      qtyLots: o.qtyLots,
      reduceOnly: false,
      orderId: o.orderId,
      stop: { ...o.stop!, workingMs: this.now() },
    });
    // refused by the book at its trigger (balance, post-only, FOK): the venue expires it
    if (!r.ok && !r.order) {
      this.pending.set(o.orderId, o);
      this.end(o, 'EXPIRED');
    } else if (!r.ok && r.order) this.ud.syntheticOrderEvents(o.symbol, r.order, ['NEW', 'EXPIRED']);
  }
}
