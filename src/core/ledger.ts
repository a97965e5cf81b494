/**
 * The engine's own books: orders it sent (until terminal), positions and cash per instrument slot, and the
 * fills already counted (dedup by venue+symbol+tradeId). One apply logic serves live trading and recovery
 * (journal replay), so a restart rebuilds exactly the state the crashed process had.
 */
import type { Instrument, Side } from './types.js';
import type { ExchangeOrder, OrderEvent, OrderRequest, OrderState, OrderType, TimeInForce } from '../orders/types.js';
import { TERMINAL_STATES } from '../orders/types.js';

export interface LiveOrder {
  id: string;
  slot: number;
  side: Side;
  type: OrderType;
  tif: TimeInForce;
  price: number;
  qty: number;
  filled: number;
  state: OrderState;
  exchangeOrderId: string;
  /** local ns when sent (for ack/fill latency) */
  sentNs: number;
  manual: boolean;
}

export interface LedgerSnapshot {
  positions: Record<string, number>;
  cash: Record<string, number>;
  fees: Record<string, number>;
  orders: LiveOrder[];
  /** recently closed orders (late fills), bounded */
  closed?: LiveOrder[];
  /** most recent trade keys, bounded */
  trades: string[];
  fills: number;
  volumeQuote: number;
}

const MAX_TRADE_KEYS = 100_000;
const MAX_CLOSED = 10_000;

export class Ledger {
  readonly orders = new Map<string, LiveOrder>();
  /** orders that reached a terminal state recently: a venue may report the fill after the final status */
  private readonly closedOrders = new Map<string, LiveOrder>();
  /** fills of orders this ledger does not know (not booked) */
  unknownFills = 0;
  readonly position: Float64Array;
  readonly openBuyQty: Float64Array;
  readonly openSellQty: Float64Array;
  /** quote currency spent (-) / received (+) per slot */
  readonly cash: Float64Array;
  readonly fees: Float64Array;
  readonly openPerSlot: Int32Array;
  private readonly seen = new Set<string>();
  private readonly seenOrder: string[] = [];
  private readonly qScale: Float64Array;
  private readonly pScale: Float64Array;
  private readonly bySlotKey = new Map<string, number>();
  fills = 0;
  dupFills = 0;
  volumeQuote = 0;

  constructor(readonly instruments: readonly Instrument[], slots: number) {
    this.position = new Float64Array(slots);
    this.openBuyQty = new Float64Array(slots);
    this.openSellQty = new Float64Array(slots);
    this.cash = new Float64Array(slots);
    this.fees = new Float64Array(slots);
    this.openPerSlot = new Int32Array(slots);
    this.qScale = new Float64Array(slots).fill(1);
    this.pScale = new Float64Array(slots).fill(1);
    for (const ins of instruments) {
      this.qScale[ins.slot] = 10 ** ins.qtyDecimals;
      this.pScale[ins.slot] = 10 ** ins.priceDecimals;
      this.bySlotKey.set(`${ins.venue}:${ins.symbol}`, ins.slot);
    }
  }

  slotOf(venue: string, symbol: string): number {
    return this.bySlotKey.get(`${venue}:${symbol}`) ?? -1;
  }

  openCount(): number {
    return this.orders.size;
  }

  private exposureAdd(o: LiveOrder, sign: 1 | -1): void {
    const rest = (o.qty - o.filled) * sign;
    if (o.side === 'BUY') this.openBuyQty[o.slot]! += rest;
    else this.openSellQty[o.slot]! += rest;
    this.openPerSlot[o.slot]! += sign;
  }

  /** An order is about to be sent (journal: intent). */
  intent(id: string, req: OrderRequest, sentNs: number, manual: boolean): LiveOrder {
    const o: LiveOrder = {
      id, slot: req.slot, side: req.side, type: req.type, tif: req.tif, price: req.price, qty: req.qty, filled: 0,
      state: 'NEW_PENDING', exchangeOrderId: '', sentNs, manual,
    };
    this.orders.set(id, o);
    this.exposureAdd(o, 1);
    return o;
  }

  /** Take over an order found on the exchange (reconciliation). */
  adopt(x: ExchangeOrder, slot: number): LiveOrder {
    const existing = this.orders.get(x.clientOrderId);
    if (existing) this.drop(existing);
    const o: LiveOrder = {
      id: x.clientOrderId, slot, side: x.side, type: x.type, tif: x.tif, price: x.price, qty: x.qty, filled: x.filledQty,
      state: x.state, exchangeOrderId: x.exchangeOrderId, sentNs: 0, manual: false,
    };
    this.orders.set(o.id, o);
    this.exposureAdd(o, 1);
    return o;
  }

  private drop(o: LiveOrder): void {
    this.exposureAdd(o, -1);
    this.orders.delete(o.id);
    this.closedOrders.set(o.id, o);
    if (this.closedOrders.size > MAX_CLOSED) {
      const oldest = this.closedOrders.keys().next().value;
      if (oldest !== undefined) this.closedOrders.delete(oldest);
    }
  }

  /** Forget a live order (it is gone from the exchange). */
  close(id: string, state: OrderState): void {
    const o = this.orders.get(id);
    if (!o) return;
    o.state = state;
    this.drop(o);
  }

  /**
   * Apply an order event. Returns the fill quantity booked (0 for non-fills, duplicates and fills of orders this
   * ledger does not know).
   */
  apply(ev: OrderEvent): number {
    const live = this.orders.get(ev.clientOrderId);
    const o = live ?? this.closedOrders.get(ev.clientOrderId);
    let counted = 0;
    if (ev.kind === 'fill' && ev.fillQty > 0) {
      const key = `${ev.venue}:${ev.symbol}:${ev.tradeId}`;
      if (ev.tradeId !== '' && this.seen.has(key)) {
        this.dupFills++;
      } else {
        if (ev.tradeId !== '') this.remember(key);
        if (!o) {
          // not an order of ours (foreign, or an orphan being cancelled): its side is unknown, so it is not
          // booked; counted, and a futures position difference is settled by reconciliation
          this.unknownFills++;
        } else {
          const slot = o.slot;
          counted = ev.fillQty;
          this.fillAt(slot, o.side, ev.fillPrice, ev.fillQty, ev.fee, ev.feeAsset === (this.instruments[slot]?.quote ?? ''));
          const rest = o.qty - o.filled;
          const take = counted > rest ? rest : counted;
          o.filled += take;
          // a closed order's remaining exposure was already released when it closed
          if (live) {
            if (o.side === 'BUY') this.openBuyQty[slot]! -= take;
            else this.openSellQty[slot]! -= take;
          }
        }
      }
    }
    if (live) {
      if (ev.exchangeOrderId !== '') live.exchangeOrderId = ev.exchangeOrderId;
      if (ev.kind === 'amend' && ev.orderQty > 0 && !TERMINAL_STATES.has(ev.state)) {
        // amended in place: the open exposure follows the new quantity (and the order its new price)
        this.exposureAdd(live, -1);
        live.qty = ev.orderQty;
        if (ev.orderPrice > 0) live.price = ev.orderPrice;
        this.exposureAdd(live, 1);
      }
      live.state = ev.state;
      if (TERMINAL_STATES.has(ev.state)) this.drop(live);
    }
    return counted;
  }

  /**
   * Book a fill on a slot (also used for fills learned by reconciliation and replayed from the journal). The
   * boundary of the positions: a price, quantity or fee that is not a finite number (or a negative quantity or
   * price) throws, so that it can never make PnL NaN and blind the drawdown trigger. The order owner refuses such
   * events before they get here; this guards every other path (reconciliation, recovery).
   */
  fillAt(slot: number, side: Side, price: number, qty: number, fee: number, feeInQuote: boolean): void {
    if (!(price >= 0 && price < Infinity && qty >= 0 && qty < Infinity && fee > -Infinity && fee < Infinity)) {
      throw new RangeError(`refused to book a fill with price ${price}, qty ${qty}, fee ${fee} on slot ${slot}`);
    }
    const notional = (price / (this.pScale[slot] as number)) * (qty / (this.qScale[slot] as number));
    if (side === 'BUY') {
      this.position[slot]! += qty;
      this.cash[slot]! -= notional;
    } else {
      this.position[slot]! -= qty;
      this.cash[slot]! += notional;
    }
    if (feeInQuote) this.fees[slot]! += fee;
    this.fills++;
    this.volumeQuote += notional;
  }

  private remember(key: string): void {
    this.seen.add(key);
    this.seenOrder.push(key);
    if (this.seenOrder.length > MAX_TRADE_KEYS) {
      const old = this.seenOrder.splice(0, MAX_TRADE_KEYS / 2);
      for (const k of old) this.seen.delete(k);
    }
  }

  hasTrade(venue: string, symbol: string, tradeId: string): boolean {
    return this.seen.has(`${venue}:${symbol}:${tradeId}`);
  }

  /** PnL in quote currency: cash + position marked at `mark(slot)` - fees. */
  pnl(mark: (slot: number) => number): number {
    let p = 0;
    for (const ins of this.instruments) {
      const s = ins.slot;
      const pos = this.position[s] as number;
      const m = mark(s);
      p += (this.cash[s] as number) - (this.fees[s] as number);
      if (pos !== 0 && m > 0) p += (m / (this.pScale[s] as number)) * (pos / (this.qScale[s] as number));
    }
    return p;
  }

  positionReal(slot: number): number {
    return (this.position[slot] as number) / (this.qScale[slot] as number);
  }

  snapshot(): LedgerSnapshot {
    const positions: Record<string, number> = {};
    const cash: Record<string, number> = {};
    const fees: Record<string, number> = {};
    for (const ins of this.instruments) {
      const k = `${ins.venue}:${ins.symbol}`;
      positions[k] = this.position[ins.slot] as number;
      cash[k] = this.cash[ins.slot] as number;
      fees[k] = this.fees[ins.slot] as number;
    }
    const closed = [...this.closedOrders.values()].slice(-1000).map((o) => ({ ...o }));
    return { positions, cash, fees, orders: [...this.orders.values()].map((o) => ({ ...o })), closed, trades: this.seenOrder.slice(-10_000), fills: this.fills, volumeQuote: this.volumeQuote };
  }

  restore(s: LedgerSnapshot): void {
    for (const ins of this.instruments) {
      const k = `${ins.venue}:${ins.symbol}`;
      this.position[ins.slot] = s.positions[k] ?? 0;
      this.cash[ins.slot] = s.cash[k] ?? 0;
      this.fees[ins.slot] = s.fees[k] ?? 0;
    }
    this.orders.clear();
    this.openBuyQty.fill(0);
    this.openSellQty.fill(0);
    this.openPerSlot.fill(0);
    for (const o of s.orders) {
      if (o.slot < 0 || o.slot >= this.position.length) continue;
      const c = { ...o };
      this.orders.set(c.id, c);
      this.exposureAdd(c, 1);
    }
    this.closedOrders.clear();
    for (const o of s.closed ?? []) this.closedOrders.set(o.id, { ...o });
    for (const t of s.trades) this.remember(t);
    this.fills = s.fills;
    this.volumeQuote = s.volumeQuote;
  }
}
