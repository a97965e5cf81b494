/**
 * Order and trade history of the accounts of one Binance venue, for `GET /api/v3/allOrders`, `/api/v3/myTrades`,
 * `/fapi/v1/allOrders` and `/fapi/v1/userTrades` (ccxt's fetchOrders / fetchClosedOrders / fetchMyTrades).
 *
 * A book listener that keeps references (no copies) to the core's order records, which the core updates in place,
 * and to its fill objects, in two bounded rings per venue (the oldest entries fall out). Only non-synthetic
 * accounts' orders reach `onOrder`. Orders the core refused without a trade (an expired FOK) are not recorded.
 */
import type { SimBook, SimBookListener, SimFill, SimLevelChange, SimOrder } from '../core/types.js';

export interface HistFill {
  symbol: string;
  order: SimOrder;
  fill: SimFill;
}

export class BnHistory implements SimBookListener {
  private readonly orders: Array<SimOrder | undefined>;
  private readonly seen = new Set<SimOrder>();
  private oHead = 0;
  // fills as three parallel rings of references (no allocation per fill)
  private readonly fSym: Array<string | undefined>;
  private readonly fOrder: Array<SimOrder | undefined>;
  private readonly fFill: Array<SimFill | undefined>;
  private fHead = 0;

  constructor(
    private readonly books: Map<string, SimBook>,
    readonly capacity = 20_000,
  ) {
    this.orders = new Array<SimOrder | undefined>(capacity).fill(undefined);
    this.fSym = new Array<string | undefined>(capacity).fill(undefined);
    this.fOrder = new Array<SimOrder | undefined>(capacity).fill(undefined);
    this.fFill = new Array<SimFill | undefined>(capacity).fill(undefined);
    for (const b of books.values()) b.addListener(this);
  }

  close(): void {
    for (const b of this.books.values()) b.removeListener(this);
  }

  onLevels(_s: string, _c: readonly SimLevelChange[], _u: number, _t: number): void {}
  onTrade(): void {}

  onOrder(symbol: string, order: SimOrder, fill: SimFill | undefined): void {
    if (!this.seen.has(order)) {
      const old = this.orders[this.oHead];
      if (old) this.seen.delete(old);
      this.orders[this.oHead] = order;
      this.oHead = (this.oHead + 1) % this.capacity;
      this.seen.add(order);
    }
    if (fill) {
      this.fSym[this.fHead] = symbol;
      this.fOrder[this.fHead] = order;
      this.fFill[this.fHead] = fill;
      this.fHead = (this.fHead + 1) % this.capacity;
    }
  }

  /** orders of an account on a symbol, oldest first (order ids grow with time) */
  ordersOf(accountId: string, symbol: string): SimOrder[] {
    const out: SimOrder[] = [];
    for (let i = 0; i < this.capacity; i++) {
      const o = this.orders[(this.oHead + i) % this.capacity];
      if (o && o.accountId === accountId && o.symbol === symbol) out.push(o);
    }
    return out;
  }

  /** fills of an account on a symbol, oldest first */
  fillsOf(accountId: string, symbol: string): HistFill[] {
    const out: HistFill[] = [];
    for (let i = 0; i < this.capacity; i++) {
      const k = (this.fHead + i) % this.capacity;
      const fill = this.fFill[k];
      if (fill && fill.accountId === accountId && this.fSym[k] === symbol) out.push({ symbol, order: this.fOrder[k]!, fill });
    }
    return out;
  }
}
