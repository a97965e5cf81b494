/**
 * The order state machine shared by every venue, and positions derived from fills.
 *
 *   NEW_PENDING -> ACKED -> PARTIALLY_FILLED -> FILLED | CANCELED | REJECTED | EXPIRED
 *   any open state -> CANCEL_PENDING (local: a cancel was sent) -> CANCELED | FILLED | ... ; cancelReject -> back
 *
 * Updates arrive from several sources (REST/WS API responses, private streams, queries), duplicated and out of
 * order. The rules that make that safe:
 * - States only move forward (rank order); an older state arriving late (ack after a fill) changes nothing.
 * - A fill is a fact: it is applied whatever the state (fill after cancel = the cancel raced a fill), once per
 *   tradeId (duplicates dropped). Fill quantity completing the order makes it FILLED even after a CANCELED/REJECTED
 *   (a cancel cannot apply to a filled order; a "duplicate client id" reject of a resend means the first landed).
 * - Terminal states are final, except that FILLED overrides the other terminals for the reason above.
 * - Positions and average entry price come from applied fills only.
 */
import type { Side, VenueId } from '../core/types.js';
import { TERMINAL_STATES, type OrderEvent, type OrderState, type OrderType, type TimeInForce } from './types.js';

const RANK: Record<OrderState, number> = {
  NEW_PENDING: 0,
  ACKED: 1,
  PARTIALLY_FILLED: 2,
  CANCEL_PENDING: 2,
  FILLED: 4,
  CANCELED: 3,
  REJECTED: 3,
  EXPIRED: 3,
};

export function isTerminal(s: OrderState): boolean {
  return TERMINAL_STATES.has(s);
}

/** Net position of one symbol on one venue, in quantity units; prices in price units. */
export class Position {
  /** signed quantity units: + long, - short */
  qty = 0;
  /** average entry price of the open position (price units, may be fractional) */
  avgPrice = 0;
  /** realized PnL in price units x quantity units (divide by 10^(pd+qd) for quote currency) */
  realized = 0;
  fees = 0;
  fills = 0;

  constructor(readonly venue: VenueId, readonly symbol: string) {}

  applyFill(side: Side, price: number, qty: number): void {
    if (qty <= 0) return;
    this.fills++;
    const signed = side === 'BUY' ? qty : -qty;
    const cur = this.qty;
    if (cur === 0 || (cur > 0) === (signed > 0)) {
      const absCur = Math.abs(cur);
      this.avgPrice = (this.avgPrice * absCur + price * qty) / (absCur + qty);
      this.qty = cur + signed;
      return;
    }
    // reducing, closing or flipping
    const closing = Math.min(Math.abs(cur), qty);
    this.realized += (price - this.avgPrice) * closing * (cur > 0 ? 1 : -1);
    this.qty = cur + signed;
    if (this.qty === 0) this.avgPrice = 0;
    else if ((this.qty > 0) !== (cur > 0)) this.avgPrice = price; // flipped: the remainder opened at this price
  }
}

export class Positions {
  private readonly map = new Map<string, Position>();

  get(venue: VenueId, symbol: string): Position {
    const key = venue + ':' + symbol;
    let p = this.map.get(key);
    if (!p) {
      p = new Position(venue, symbol);
      this.map.set(key, p);
    }
    return p;
  }

  find(venue: VenueId, symbol: string): Position | undefined {
    return this.map.get(venue + ':' + symbol);
  }

  all(): Position[] {
    return [...this.map.values()];
  }
}

export interface TrackedOrder {
  readonly clientOrderId: string;
  readonly venue: VenueId;
  readonly symbol: string;
  readonly slot: number;
  readonly side: Side;
  readonly type: OrderType;
  readonly tif: TimeInForce;
  price: number;
  qty: number;
  readonly reduceOnly: boolean;
  exchangeOrderId: string;
  state: OrderState;
  /** state to return to when a cancel is rejected */
  preCancelState: OrderState;
  filledQty: number;
  /** sum of fill price x fill qty (price units x qty units) */
  filledNotional: number;
  /** highest cumulative quantity any source reported */
  reportedCumQty: number;
  fees: number;
  code: number;
  reason: string;
  createdNs: number;
  updatedNs: number;
  /** ns when the order bytes were written (latency hops) */
  sentNs: number;
  /** transport of the last send (`Transport` of src/latency/hops.ts: 1 ws, 2 rest; 0 unknown): per-transport hops */
  sentVia: number;
  /** an amend in flight: the price/qty it asks for (0 = none) */
  amendPrice: number;
  amendQty: number;
  /** tradeIds already applied */
  readonly tradeIds: Set<string>;
  readonly position: Position;
}

export type ApplyResult = 'applied' | 'duplicate' | 'stale' | 'unknown';

export interface NewOrderSpec {
  clientOrderId: string;
  venue: VenueId;
  symbol: string;
  slot: number;
  side: Side;
  type: OrderType;
  tif: TimeInForce;
  price: number;
  qty: number;
  reduceOnly: boolean;
  nowNs: number;
}

export function avgFillPrice(o: TrackedOrder): number {
  return o.filledQty > 0 ? o.filledNotional / o.filledQty : 0;
}

/** Orders by client id, with the transitions above. */
export class OrderStore {
  private readonly orders = new Map<string, TrackedOrder>();
  readonly positions = new Positions();
  /** counters for visibility */
  readonly counts = { duplicates: 0, stale: 0, unknown: 0, fillsAfterTerminal: 0 };

  create(s: NewOrderSpec): TrackedOrder {
    if (this.orders.has(s.clientOrderId)) throw new Error(`duplicate client order id ${s.clientOrderId}`);
    const o: TrackedOrder = {
      clientOrderId: s.clientOrderId, venue: s.venue, symbol: s.symbol, slot: s.slot, side: s.side, type: s.type, tif: s.tif,
      price: s.price, qty: s.qty, reduceOnly: s.reduceOnly, exchangeOrderId: '', state: 'NEW_PENDING', preCancelState: 'NEW_PENDING',
      filledQty: 0, filledNotional: 0, reportedCumQty: 0, fees: 0, code: 0, reason: '', createdNs: s.nowNs, updatedNs: s.nowNs, sentNs: 0, sentVia: 0, amendPrice: 0, amendQty: 0,
      tradeIds: new Set(), position: this.positions.get(s.venue, s.symbol),
    };
    this.orders.set(s.clientOrderId, o);
    return o;
  }

  get(clientOrderId: string): TrackedOrder | undefined {
    return this.orders.get(clientOrderId);
  }

  open(venue?: VenueId): TrackedOrder[] {
    const out: TrackedOrder[] = [];
    for (const o of this.orders.values()) if (!isTerminal(o.state) && (venue === undefined || o.venue === venue)) out.push(o);
    return out;
  }

  all(): IterableIterator<TrackedOrder> {
    return this.orders.values();
  }

  /** Mark a cancel as sent. false when the order is unknown or already terminal. */
  markCancelPending(clientOrderId: string, nowNs: number): boolean {
    const o = this.orders.get(clientOrderId);
    if (!o || isTerminal(o.state)) return false;
    if (o.state !== 'CANCEL_PENDING') {
      o.preCancelState = o.state;
      o.state = 'CANCEL_PENDING';
      o.updatedNs = nowNs;
    }
    return true;
  }

  /** client ids in the order they became terminal (through `apply`), from `terminalHead` on */
  private terminalQ: string[] = [];
  private terminalHead = 0;

  /**
   * Forget terminal orders beyond the newest `keep` (late duplicates for them then count as unknown): the oldest
   * to become terminal go first. O(orders dropped): no scan or sort of the whole table (that was a few ms every
   * 1,000 events once 10,000 terminal orders were kept, on the event loop).
   */
  prune(keep: number): number {
    let dropped = 0;
    const q = this.terminalQ;
    while (q.length - this.terminalHead > keep) {
      const id = q[this.terminalHead++]!;
      const o = this.orders.get(id);
      if (o && isTerminal(o.state)) {
        this.orders.delete(id);
        dropped++;
      }
    }
    if (this.terminalHead > 4096 && this.terminalHead * 2 > q.length) {
      this.terminalQ = q.slice(this.terminalHead);
      this.terminalHead = 0;
    }
    return dropped;
  }

  apply(ev: OrderEvent): ApplyResult {
    const o = this.orders.get(ev.clientOrderId);
    const wasTerminal = o !== undefined && isTerminal(o.state);
    const r = this.applyTo(o, ev);
    if (o && !wasTerminal && isTerminal(o.state)) this.terminalQ.push(o.clientOrderId);
    return r;
  }

  private applyTo(o: TrackedOrder | undefined, ev: OrderEvent): ApplyResult {
    if (!o) {
      this.counts.unknown++;
      return 'unknown';
    }
    if (ev.exchangeOrderId !== '' && o.exchangeOrderId === '') o.exchangeOrderId = ev.exchangeOrderId;
    if (ev.cumQty > o.reportedCumQty) o.reportedCumQty = ev.cumQty;
    o.updatedNs = ev.localNs;

    if (ev.kind === 'fill' && ev.fillQty > 0) {
      if (ev.tradeId !== '') {
        if (o.tradeIds.has(ev.tradeId)) {
          this.counts.duplicates++;
          return 'duplicate';
        }
        o.tradeIds.add(ev.tradeId);
      }
      if (isTerminal(o.state)) this.counts.fillsAfterTerminal++;
      o.filledQty += ev.fillQty;
      o.filledNotional += ev.fillPrice * ev.fillQty;
      o.fees += ev.fee;
      o.position.applyFill(o.side, ev.fillPrice, ev.fillQty);
      o.position.fees += ev.fee;
      this.afterFill(o);
      // the source may also say FILLED (e.g. executionReport X=FILLED) before our sum gets there
      if (ev.state === 'FILLED') this.advance(o, 'FILLED');
      return 'applied';
    }

    if (ev.kind === 'cancelReject') {
      if (o.state !== 'CANCEL_PENDING') return 'stale';
      o.state = o.preCancelState;
      o.code = ev.code;
      o.reason = ev.reason;
      return 'applied';
    }

    if (ev.kind === 'amend' && ev.source === 'stream' && ev.orderQty > 0) {
      // the exchange reports the order as amended (Binance AMENDMENT / REPLACED): its price and quantity now, whatever
      // became of our request's answer (a timed-out amend that did happen is learned here)
      if (isTerminal(o.state)) return this.stale();
      if (ev.orderPrice > 0) o.price = ev.orderPrice;
      o.qty = ev.orderQty;
      if (o.filledQty >= o.qty) o.state = 'FILLED';
      return 'applied';
    }

    if (ev.kind === 'amend' && o.amendQty > 0 && ev.source !== 'stream') {
      // the answer to our amend request: code 0 = the new price/qty stand
      if (ev.code === 0) {
        o.price = o.amendPrice;
        o.qty = o.amendQty;
      } else {
        o.code = ev.code;
        o.reason = ev.reason;
      }
      o.amendPrice = 0;
      o.amendQty = 0;
      if (!isTerminal(o.state) && o.filledQty >= o.qty) o.state = 'FILLED';
      return 'applied';
    }

    if (ev.kind === 'reject') {
      o.code = ev.code;
      o.reason = ev.reason;
    }
    return this.advance(o, ev.state) ? 'applied' : this.stale();
  }

  private stale(): ApplyResult {
    this.counts.stale++;
    return 'stale';
  }

  private afterFill(o: TrackedOrder): void {
    if (o.filledQty >= o.qty) {
      o.state = 'FILLED';
      return;
    }
    switch (o.state) {
      case 'NEW_PENDING':
      case 'ACKED':
      case 'REJECTED':
        o.state = 'PARTIALLY_FILLED';
        break;
      case 'CANCEL_PENDING':
        o.preCancelState = 'PARTIALLY_FILLED';
        break;
      default:
        break;
    }
  }

  /** Move forward to `target`; false when it is not forward. */
  private advance(o: TrackedOrder, target: OrderState): boolean {
    const cur = o.state;
    if (cur === target) return false;
    if (isTerminal(cur)) {
      if (target === 'FILLED') {
        o.state = 'FILLED';
        return true;
      }
      return false;
    }
    if (isTerminal(target)) {
      o.state = target;
      return true;
    }
    if (target === 'CANCEL_PENDING') {
      // an exchange saying "pending cancel" (Binance PENDING_CANCEL)
      o.preCancelState = cur;
      o.state = 'CANCEL_PENDING';
      return true;
    }
    if (cur === 'CANCEL_PENDING') {
      if (RANK[target] > RANK[o.preCancelState]) {
        o.preCancelState = target;
        return true;
      }
      return false;
    }
    if (RANK[target] > RANK[cur]) {
      o.state = target;
      return true;
    }
    return false;
  }
}
