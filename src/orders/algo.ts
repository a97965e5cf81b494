/**
 * The algo-order owner: the one record of every algo (conditional) order and its one state machine, beside the
 * order owner (OrderStore, state.ts) and driven by the same OrderManager. It never holds an ordinary order: when an
 * algo order triggers, the order the venue places is booked in OrderStore (its child, linked here by client id and
 * exchange id), and only that order's fills move the portfolio.
 *
 *   NEW_PENDING -> OPEN -> TRIGGERING -> TRIGGERED -> FINISHED
 *   any open state -> CANCEL_PENDING (local: a cancel was sent) -> CANCELED ; cancelReject -> back
 *   REJECTED, EXPIRED
 *
 * Same rules as the order machine: states only move forward (an ack after the trigger changes nothing); a trigger is
 * a fact, so TRIGGERED/FINISHED override CANCELED/REJECTED/EXPIRED (a cancel that raced the trigger lost).
 * While an algo order is open its quantity counts in the portfolio's open exposure and open-order count (risk sees
 * the worst case); that share is released when it triggers (its child then carries its own) or ends.
 */
import type { Instrument, VenueId } from '../model/types.js';
import {
  ALGO_TERMINAL,
  type AlgoEvent,
  type AlgoKind,
  type AlgoState,
  type AlgoView,
  type ExchangeAlgo,
  type TimeInForce,
  type TrackedAlgo,
} from '../model/orders.js';
import type { Portfolio } from './portfolio.js';

export type { AlgoView, TrackedAlgo };

const RANK: Record<AlgoState, number> = {
  NEW_PENDING: 0,
  OPEN: 1,
  CANCEL_PENDING: 1,
  TRIGGERING: 2,
  TRIGGERED: 4,
  FINISHED: 5,
  CANCELED: 3,
  REJECTED: 3,
  EXPIRED: 3,
};

export function isAlgoTerminal(s: AlgoState): boolean {
  return ALGO_TERMINAL.has(s);
}

export interface NewAlgoSpec {
  clientAlgoId: string;
  venue: VenueId;
  symbol: string;
  slot: number;
  side: 'BUY' | 'SELL';
  kind: AlgoKind;
  triggerPrice: number;
  price: number;
  qty: number;
  tif: TimeInForce;
  reduceOnly: boolean;
  manual: boolean;
  nowNs: number;
  nowMs?: number;
}

export type AlgoApplyResult = 'applied' | 'stale' | 'unknown';

export class AlgoStore {
  private readonly algos = new Map<string, TrackedAlgo>();
  /** exchange id of a triggered order -> its algo (a venue that gives the placed order a client id of its own) */
  private readonly byChildExchangeId = new Map<string, TrackedAlgo>();
  readonly counts = { stale: 0, unknown: 0, triggered: 0 };

  constructor(
    private readonly portfolio: Portfolio,
    readonly instruments: readonly Instrument[] = [],
  ) {}

  /** An algo order holds exposure while it is open and has not placed its order yet. */
  private static holds(a: TrackedAlgo): boolean {
    return !isAlgoTerminal(a.state) && a.childId === '';
  }

  private settle(a: TrackedAlgo, heldBefore: boolean): void {
    const held = AlgoStore.holds(a);
    if (held !== heldBefore) this.portfolio.exposure(a.slot, a.side, a.qty, held ? 1 : -1, true);
  }

  create(s: NewAlgoSpec): TrackedAlgo {
    if (this.algos.has(s.clientAlgoId)) throw new Error(`duplicate client algo id ${s.clientAlgoId}`);
    const a: TrackedAlgo = {
      clientAlgoId: s.clientAlgoId,
      venue: s.venue,
      symbol: s.symbol,
      slot: s.slot,
      side: s.side,
      kind: s.kind,
      triggerPrice: s.triggerPrice,
      price: s.price,
      qty: s.qty,
      tif: s.tif,
      reduceOnly: s.reduceOnly,
      manual: s.manual,
      algoId: '',
      state: 'NEW_PENDING',
      preCancelState: 'NEW_PENDING',
      childId: '',
      childExchangeId: '',
      code: 0,
      reason: '',
      createdNs: s.nowNs,
      createdMs: s.nowMs ?? Date.now(),
      updatedNs: s.nowNs,
    };
    this.algos.set(a.clientAlgoId, a);
    this.settle(a, false);
    return a;
  }

  get(clientAlgoId: string): TrackedAlgo | undefined {
    return this.algos.get(clientAlgoId);
  }

  open(venue?: VenueId): TrackedAlgo[] {
    const out: TrackedAlgo[] = [];
    for (const a of this.algos.values()) if (!isAlgoTerminal(a.state) && (venue === undefined || a.venue === venue)) out.push(a);
    return out;
  }

  all(): IterableIterator<TrackedAlgo> {
    return this.algos.values();
  }

  /**
   * The algo order an order event belongs to when the order owner does not know the order: the order a trigger
   * placed, reported before (or without) the algo's own TRIGGERED update. Matched by the algo's client id (the id
   * the venue gives the placed order: Binance's triggered order carries the clientAlgoId, a Bybit conditional order
   * keeps its orderLinkId) or by the placed order's exchange id from an earlier update. Cold: unknown orders only.
   */
  forOrder(venue: VenueId, clientOrderId: string, exchangeOrderId: string): TrackedAlgo | undefined {
    const a = this.algos.get(clientOrderId);
    if (a && a.venue === venue && (a.childId === '' || a.childId === clientOrderId)) return a;
    if (exchangeOrderId === '') return undefined;
    const b = this.byChildExchangeId.get(exchangeOrderId);
    return b && b.venue === venue ? b : undefined;
  }

  /** The order a trigger placed is booked in the order owner under `childId`: link it, release the algo's exposure. */
  link(a: TrackedAlgo, childId: string, childExchangeId: string, nowNs: number): void {
    const held = AlgoStore.holds(a);
    if (a.childId === '') {
      a.childId = childId;
      this.counts.triggered++;
    }
    if (childExchangeId !== '' && a.childExchangeId === '') {
      a.childExchangeId = childExchangeId;
      this.byChildExchangeId.set(childExchangeId, a);
    }
    // the venue placed its order: the algo has triggered whatever update says so first
    this.advance(a, 'TRIGGERED');
    a.updatedNs = nowNs;
    this.settle(a, held);
  }

  markCancelPending(clientAlgoId: string, nowNs: number): boolean {
    const a = this.algos.get(clientAlgoId);
    if (!a || isAlgoTerminal(a.state)) return false;
    const held = AlgoStore.holds(a);
    if (a.state !== 'CANCEL_PENDING') {
      a.preCancelState = a.state;
      a.state = 'CANCEL_PENDING';
      a.updatedNs = nowNs;
    }
    this.settle(a, held);
    return true;
  }

  apply(ev: AlgoEvent): AlgoApplyResult {
    const a = this.algos.get(ev.clientAlgoId);
    if (!a) {
      this.counts.unknown++;
      return 'unknown';
    }
    const held = AlgoStore.holds(a);
    if (ev.algoId !== '' && a.algoId === '') a.algoId = ev.algoId;
    if (ev.orderId !== '' && a.childExchangeId === '') {
      a.childExchangeId = ev.orderId;
      this.byChildExchangeId.set(ev.orderId, a);
    }
    a.updatedNs = ev.localNs;
    let r: AlgoApplyResult;
    if (ev.kind === 'cancelReject') {
      if (a.state === 'CANCEL_PENDING') {
        a.state = a.preCancelState;
        a.code = ev.code;
        a.reason = ev.reason;
        r = 'applied';
      } else r = 'stale';
    } else {
      if (ev.kind === 'reject') {
        a.code = ev.code;
        a.reason = ev.reason;
      }
      r = this.advance(a, ev.state) ? 'applied' : 'stale';
    }
    if (r === 'stale') this.counts.stale++;
    this.settle(a, held);
    return r;
  }

  /** Take over an open algo order found on the venue (reconciliation). */
  adopt(x: ExchangeAlgo, slot: number, manual: boolean, nowNs: number): TrackedAlgo {
    let a = this.algos.get(x.clientAlgoId);
    if (!a)
      a = this.create({
        clientAlgoId: x.clientAlgoId,
        venue: x.venue,
        symbol: x.symbol,
        slot,
        side: x.side,
        kind: x.kind,
        triggerPrice: x.triggerPrice,
        price: x.price,
        qty: x.qty,
        tif: 'GTC',
        reduceOnly: x.reduceOnly,
        manual,
        nowNs,
        nowMs: x.updateTimeMs > 0 ? x.updateTimeMs : Date.now(),
      });
    const held = AlgoStore.holds(a);
    if (x.algoId !== '') a.algoId = x.algoId;
    this.advance(a, x.state);
    this.settle(a, held);
    return a;
  }

  /** End an algo order the venue does not list as open (never reached it, or gone while we did not listen). */
  close(clientAlgoId: string, state: AlgoState, reason: string, nowNs: number): boolean {
    const a = this.algos.get(clientAlgoId);
    if (!a || isAlgoTerminal(a.state)) return false;
    const held = AlgoStore.holds(a);
    a.state = isAlgoTerminal(state) ? state : 'REJECTED';
    a.reason = reason;
    a.updatedNs = nowNs;
    this.settle(a, held);
    return true;
  }

  /** Move forward to `target`; false when it is not forward. */
  private advance(a: TrackedAlgo, target: AlgoState): boolean {
    const cur = a.state;
    if (cur === target) return false;
    if (isAlgoTerminal(cur)) {
      // a trigger is a fact: it beats a cancel / reject / expiry that raced it; FINISHED follows TRIGGERED
      if ((target === 'TRIGGERED' || target === 'FINISHED') && RANK[target] > RANK[cur]) {
        a.state = target;
        return true;
      }
      return false;
    }
    if (isAlgoTerminal(target)) {
      a.state = target;
      return true;
    }
    if (cur === 'CANCEL_PENDING') {
      if (RANK[target] > RANK[a.preCancelState]) {
        a.preCancelState = target;
        return true;
      }
      return false;
    }
    if (target === 'CANCEL_PENDING') {
      a.preCancelState = cur;
      a.state = 'CANCEL_PENDING';
      return true;
    }
    if (RANK[target] > RANK[cur]) {
      a.state = target;
      return true;
    }
    return false;
  }
}
