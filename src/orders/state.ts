/**
 * The order owner: the one record of every order and the one state machine for every venue. Nothing else changes
 * an order; the engine, kill switch, recovery, reconciliation and control plane call this store's methods (through
 * OrderManager) and read its records (`OrderView`). It also owns the one portfolio (src/orders/portfolio.ts): fills
 * it accepted, deduped here by trade id, are the only thing that moves positions, cash and fees, and its open
 * orders are the exposure risk reads.
 *
 *   NEW_PENDING -> ACKED -> PARTIALLY_FILLED -> FILLED | CANCELED | REJECTED | EXPIRED
 *   any open state -> CANCEL_PENDING (local: a cancel was sent) -> CANCELED | FILLED | ... ; cancelReject -> back
 *
 * Updates arrive from several sources (REST/WS API responses, private streams, queries, the trade history,
 * journal replay), duplicated and out of order. The rules that make that safe:
 * - States only move forward (rank order); an older state arriving late (ack after a fill) changes nothing.
 * - A fill is a fact: it is applied whatever the state (fill after cancel = the cancel raced a fill), once per
 *   venue+symbol+tradeId (duplicates dropped). Fill quantity completing the order makes it FILLED even after a
 *   CANCELED/REJECTED (a cancel cannot apply to a filled order; a "duplicate client id" reject of a resend means
 *   the first landed).
 * - Terminal states are final, except that FILLED overrides the other terminals for the reason above.
 * - A rejected cancel returns the order to its state before the cancel (fills in between included).
 * - Positions, average entry price and realized PnL come from applied fills only.
 */
import type { Instrument, Side, VenueId } from '../model/types.js';
import { Portfolio, type PortfolioSnapshot } from './portfolio.js';
import {
  TERMINAL_STATES,
  type ExchangeOrder,
  type OrderEvent,
  type OrderState,
  type OrderType,
  type OrderView,
  type TimeInForce,
  type TrackedOrder,
} from '../model/orders.js';

export type { OrderView, TrackedOrder };
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

/** What every module outside the order layer gets of the owner: its reads (changes go through OrderManager). */
export interface OwnerReads {
  get(clientOrderId: string): OrderView | undefined;
  open(venue?: VenueId): OrderView[];
  openCount(): number;
  hasTrade(venue: string, symbol: string, tradeId: string, clientOrderId?: string): boolean;
  readonly counts: Readonly<OrderStore['counts']>;
  snapshot(): OwnerSnapshot;
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
  manual?: boolean;
  nowNs: number;
  /** wall clock ms (default: now) */
  nowMs?: number;
}

/** The owner's part of a snapshot (v2): its orders, the portfolio, the last trade ids it applied. */
export interface OwnerSnapshot {
  orders: TrackedOrder[];
  portfolio: PortfolioSnapshot;
  /** `venue:symbol:tradeId`, oldest first, bounded */
  trades: string[];
}

/** v1 snapshots (the engine's Ledger, before the order owner held every order). Read, never written. */
export interface LedgerSnapshotV1 extends PortfolioSnapshot {
  orders: Array<{
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
    sentNs: number;
    manual: boolean;
  }>;
  closed?: LedgerSnapshotV1['orders'];
  trades: string[];
}

export function avgFillPrice(o: OrderView): number {
  return o.filledQty > 0 ? o.filledNotional / o.filledQty : 0;
}

const MAX_TRADE_KEYS = 100_000;
/** terminal orders a snapshot keeps (late fills after a restart still find their order) */
const SNAPSHOT_TERMINAL = 1000;

/**
 * Trades already applied, per venue and symbol, the newest MAX_TRADE_KEYS kept (a ring: the oldest is forgotten
 * first). A trade is its trade id AND its order: when two orders of the account trade with each other (a self-trade)
 * Binance reports both legs under one trade id, and each leg is booked once. The first leg's order is kept as the
 * value of its trade id; a second leg is keyed `tradeId|clientOrderId`. No key string is built for the common case
 * (a trade id seen once): two map lookups.
 */
class TradeIds {
  /** venue -> symbol -> trade key -> client order id of the leg ('' = any order: an unattributed fill, or a key
   * restored from a snapshot written before legs were told apart) */
  private readonly bySym = new Map<string, Map<string, Map<string, string>>>();
  private readonly ringSet: Array<Map<string, string> | undefined> = new Array(MAX_TRADE_KEYS);
  private readonly ringId: string[] = new Array(MAX_TRADE_KEYS);
  private head = 0;
  private size = 0;

  private setOf(venue: string, symbol: string, create: boolean): Map<string, string> | undefined {
    let m = this.bySym.get(venue);
    if (!m) {
      if (!create) return undefined;
      this.bySym.set(venue, (m = new Map()));
    }
    let s = m.get(symbol);
    if (!s && create) m.set(symbol, (s = new Map()));
    return s;
  }

  /** Booked already: this trade of this order (`clientOrderId` given), or this trade id at all (not given). */
  has(venue: string, symbol: string, tradeId: string, clientOrderId?: string): boolean {
    const s = this.setOf(venue, symbol, false);
    if (!s) return false;
    const first = s.get(tradeId);
    if (first === undefined) return false;
    if (clientOrderId === undefined || first === '' || first === clientOrderId) return true;
    return s.has(tradeId + '|' + clientOrderId);
  }

  /** false when already there (see `has`); `clientOrderId` '' for a fill of no order */
  add(venue: string, symbol: string, tradeId: string, clientOrderId = ''): boolean {
    const s = this.setOf(venue, symbol, true)!;
    const first = s.get(tradeId);
    let key = tradeId;
    if (first !== undefined) {
      if (first === '' || first === clientOrderId || clientOrderId === '') return false;
      key = tradeId + '|' + clientOrderId;
      if (s.has(key)) return false;
    }
    s.set(key, clientOrderId);
    const i = (this.head + this.size) % MAX_TRADE_KEYS;
    if (this.size === MAX_TRADE_KEYS) {
      this.ringSet[this.head]?.delete(this.ringId[this.head]!);
      this.head = (this.head + 1) % MAX_TRADE_KEYS;
    } else this.size++;
    this.ringSet[i] = s;
    this.ringId[i] = key;
    return true;
  }

  /** the newest `max` as `venue:symbol:key order`, oldest first (snapshots; cold) */
  keys(max: number): string[] {
    const names = new Map<Map<string, string>, string>();
    for (const [v, m] of this.bySym) for (const [sym, s] of m) names.set(s, `${v}:${sym}:`);
    const out: string[] = [];
    const n = Math.min(max, this.size);
    for (let k = this.size - n; k < this.size; k++) {
      const i = (this.head + k) % MAX_TRADE_KEYS;
      const s = this.ringSet[i]!;
      const key = this.ringId[i]!;
      const id = s.get(key) ?? '';
      out.push(names.get(s)! + key + (id === '' ? '' : ' ' + id));
    }
    return out;
  }

  /** A key of `keys()`; an older snapshot's `venue:symbol:tradeId` matches any order. */
  addKey(key: string): void {
    const a = key.indexOf(':');
    const b = key.indexOf(':', a + 1);
    if (a <= 0 || b <= a) return;
    const rest = key.slice(b + 1);
    const sp = rest.indexOf(' ');
    const k = sp < 0 ? rest : rest.slice(0, sp);
    const id = sp < 0 ? '' : rest.slice(sp + 1);
    const bar = k.indexOf('|');
    this.add(key.slice(0, a), key.slice(a + 1, b), bar < 0 ? k : k.slice(0, bar), id);
  }
}

/** Orders by client id, with the transitions above, and the portfolio their fills move. */
export class OrderStore {
  private readonly orders = new Map<string, TrackedOrder>();
  readonly portfolio: Portfolio;
  private readonly trades = new TradeIds();
  /** counters for visibility */
  readonly counts = { duplicates: 0, stale: 0, unknown: 0, fillsAfterTerminal: 0, unknownFills: 0 };

  /** `slots` defaults to the highest instrument slot + 1 (at least 8: tests that name no instruments). */
  constructor(
    readonly instruments: readonly Instrument[] = [],
    slots?: number,
  ) {
    let n = 8;
    for (const i of instruments) if (i.slot + 1 > n) n = i.slot + 1;
    this.portfolio = new Portfolio(instruments, slots ?? n);
  }

  create(s: NewOrderSpec): TrackedOrder {
    if (this.orders.has(s.clientOrderId)) throw new Error(`duplicate client order id ${s.clientOrderId}`);
    const o: TrackedOrder = {
      clientOrderId: s.clientOrderId,
      venue: s.venue,
      symbol: s.symbol,
      slot: s.slot,
      side: s.side,
      type: s.type,
      tif: s.tif,
      price: s.price,
      qty: s.qty,
      reduceOnly: s.reduceOnly,
      manual: s.manual === true,
      exchangeOrderId: '',
      state: 'NEW_PENDING',
      preCancelState: 'NEW_PENDING',
      filledQty: 0,
      filledNotional: 0,
      reportedCumQty: 0,
      fees: 0,
      fills: 0,
      code: 0,
      reason: '',
      createdNs: s.nowNs,
      createdMs: s.nowMs ?? Date.now(),
      updatedNs: s.nowNs,
      sentNs: 0,
      sentVia: 0,
      amendPrice: 0,
      amendQty: 0,
    };
    this.orders.set(s.clientOrderId, o);
    this.portfolio.exposure(o.slot, o.side, o.qty, 1, true);
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

  /** open orders over every venue (no scan) */
  openCount(): number {
    return this.portfolio.open;
  }

  all(): IterableIterator<TrackedOrder> {
    return this.orders.values();
  }

  hasTrade(venue: string, symbol: string, tradeId: string, clientOrderId?: string): boolean {
    return this.trades.has(venue, symbol, tradeId, clientOrderId);
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

  /** client ids in the order they became terminal, from `terminalHead` on */
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

  /** After any change to `o`: move its open exposure (quantity not yet filled, while open) and the open counts. */
  private settle(o: TrackedOrder, wasOpen: boolean, restBefore: number): void {
    const open = !isTerminal(o.state);
    const left = o.qty - o.filledQty;
    const restAfter = open && left > 0 ? left : 0;
    if (restAfter !== restBefore || open !== wasOpen) {
      this.portfolio.exposure(o.slot, o.side, restAfter - restBefore, 1, false);
      if (open !== wasOpen) this.portfolio.exposure(o.slot, o.side, 0, open ? 1 : -1, true);
    }
    if (wasOpen && !open) this.terminalQ.push(o.clientOrderId);
  }

  private static rest(o: TrackedOrder): number {
    if (isTerminal(o.state)) return 0;
    const left = o.qty - o.filledQty;
    return left > 0 ? left : 0;
  }

  apply(ev: OrderEvent): ApplyResult {
    const o = this.orders.get(ev.clientOrderId);
    if (!o) {
      // a fill of an order we do not know (foreign, or pruned): its side is unknown, so it is not booked and its
      // trade id not remembered (an adoption may still book it from the trade history)
      if (ev.kind === 'fill' && ev.fillQty > 0) this.counts.unknownFills++;
      this.counts.unknown++;
      return 'unknown';
    }
    const wasOpen = !isTerminal(o.state);
    const restBefore = OrderStore.rest(o);
    const r = this.applyTo(o, ev);
    this.settle(o, wasOpen, restBefore);
    return r;
  }

  /**
   * Take over an order found on the exchange (reconciliation: an orphan of ours, the unjournaled probe; recovery
   * replays the journal's adopt records). `filled` is the quantity already booked for it (0 for an orphan: its
   * fills are booked from the trade history with their trade ids); the exchange's cumulative quantity is kept as
   * reported. An order the store has is only brought forward (exchange id, state, filled quantity).
   */
  adopt(x: ExchangeOrder, slot: number, filled: number, nowNs: number): TrackedOrder {
    let o = this.orders.get(x.clientOrderId);
    if (!o) {
      o = this.create({
        clientOrderId: x.clientOrderId,
        venue: x.venue,
        symbol: x.symbol,
        slot,
        side: x.side,
        type: x.type,
        tif: x.tif,
        price: x.price,
        qty: x.qty,
        reduceOnly: false,
        nowNs,
        nowMs: x.updateTimeMs > 0 ? x.updateTimeMs : Date.now(),
      });
    }
    const wasOpen = !isTerminal(o.state);
    const restBefore = OrderStore.rest(o);
    if (x.exchangeOrderId !== '') o.exchangeOrderId = x.exchangeOrderId;
    if (x.filledQty > o.reportedCumQty) o.reportedCumQty = x.filledQty;
    if (filled > o.filledQty) o.filledQty = filled;
    this.advance(o, x.state);
    o.updatedNs = nowNs;
    this.settle(o, wasOpen, restBefore);
    return o;
  }

  /** End an order the exchange does not have open (never reached it, or a send that failed). false when not open. */
  close(clientOrderId: string, state: OrderState, nowNs: number): boolean {
    const o = this.orders.get(clientOrderId);
    if (!o || isTerminal(o.state)) return false;
    const restBefore = OrderStore.rest(o);
    o.state = isTerminal(state) ? state : 'REJECTED';
    o.updatedNs = nowNs;
    this.settle(o, true, restBefore);
    return true;
  }

  /**
   * A fill that belongs to no order record: a futures position adjustment of reconciliation, or an old journal's
   * `fill` record. Booked on the portfolio once per trade id (when it has one). false when it was a duplicate.
   */
  bookUnattributed(venue: string, symbol: string, slot: number, side: Side, price: number, qty: number, tradeId: string): boolean {
    if (tradeId !== '' && !this.trades.add(venue, symbol, tradeId)) {
      this.counts.duplicates++;
      return false;
    }
    this.portfolio.fillAt(slot, side, price, qty, 0, '');
    return true;
  }

  /** v2 snapshot part: open orders and the most recent terminal ones, the portfolio, recent trade ids. */
  snapshot(): OwnerSnapshot {
    const orders: TrackedOrder[] = [];
    for (const o of this.orders.values()) if (!isTerminal(o.state)) orders.push({ ...o });
    const q = this.terminalQ;
    for (let i = Math.max(this.terminalHead, q.length - SNAPSHOT_TERMINAL); i < q.length; i++) {
      const o = this.orders.get(q[i]!);
      if (o && isTerminal(o.state)) orders.push({ ...o });
    }
    return { orders, portfolio: this.portfolio.snapshot(), trades: this.trades.keys(10_000) };
  }

  /** Load a v2 snapshot part (before the journal after it is replayed). */
  restore(s: OwnerSnapshot, nowNs: number): void {
    this.orders.clear();
    this.portfolio.restore(s.portfolio);
    for (const r of s.orders) {
      if (r.slot < 0 || r.slot >= this.portfolio.slots) continue;
      // monotonic times of another process mean nothing here: the orders count as just updated
      const o: TrackedOrder = { ...r, createdNs: nowNs, updatedNs: nowNs, sentNs: 0, sentVia: 0, amendPrice: 0, amendQty: 0 };
      this.orders.set(o.clientOrderId, o);
      if (isTerminal(o.state)) this.terminalQ.push(o.clientOrderId);
      else this.settle(o, false, 0);
    }
    for (const t of s.trades) this.trades.addKey(t);
  }

  /** Load a v1 snapshot (the engine's Ledger): its orders become owner records, its maps the portfolio. */
  restoreV1(l: LedgerSnapshotV1, writtenAtMs: number, nowNs: number): void {
    const bySlot: Array<Instrument | undefined> = [];
    for (const i of this.instruments) bySlot[i.slot] = i;
    const orders: TrackedOrder[] = [];
    for (const x of [...(l.closed ?? []), ...l.orders]) {
      const ins = bySlot[x.slot];
      if (!ins) continue;
      orders.push({
        clientOrderId: x.id,
        venue: ins.venue,
        symbol: ins.symbol,
        slot: x.slot,
        side: x.side,
        type: x.type,
        tif: x.tif,
        price: x.price,
        qty: x.qty,
        reduceOnly: false,
        manual: x.manual,
        exchangeOrderId: x.exchangeOrderId,
        state: x.state,
        preCancelState: x.state === 'CANCEL_PENDING' ? 'ACKED' : x.state,
        filledQty: x.filled,
        filledNotional: x.filled * x.price,
        reportedCumQty: x.filled,
        fees: 0,
        fills: 0,
        code: 0,
        reason: '',
        // a v1 record has no creation time; fills before the snapshot are in it, so history from there on is enough
        createdNs: nowNs,
        createdMs: writtenAtMs,
        updatedNs: nowNs,
        sentNs: 0,
        sentVia: 0,
        amendPrice: 0,
        amendQty: 0,
      });
    }
    this.restore({ orders, portfolio: l, trades: l.trades }, nowNs);
  }

  private applyTo(o: TrackedOrder, ev: OrderEvent): ApplyResult {
    if (ev.exchangeOrderId !== '' && o.exchangeOrderId === '') o.exchangeOrderId = ev.exchangeOrderId;
    if (ev.cumQty > o.reportedCumQty) o.reportedCumQty = ev.cumQty;
    o.updatedNs = ev.localNs;

    if (ev.kind === 'fill' && ev.fillQty > 0) {
      if (ev.tradeId !== '' && !this.trades.add(o.venue, o.symbol, ev.tradeId, o.clientOrderId)) {
        this.counts.duplicates++;
        return 'duplicate';
      }
      if (isTerminal(o.state)) this.counts.fillsAfterTerminal++;
      o.filledQty += ev.fillQty;
      o.filledNotional += ev.fillPrice * ev.fillQty;
      o.fees += ev.fee;
      o.fills++;
      this.portfolio.fillAt(o.slot, o.side, ev.fillPrice, ev.fillQty, ev.fee, ev.feeAsset);
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
