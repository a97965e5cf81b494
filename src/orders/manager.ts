/**
 * OrderManager: the order owner's interface (the state machine and portfolio in OrderStore, the one id generator)
 * over the venue gateways. Risk sits in front of it (the engine's job). Every module that wants an order changed
 * calls a method here; everything else reads `order()` / `store` / `portfolio`.
 *
 * - intent() + send() (the engine: the intent is journaled between the two or right after), or place() (both).
 * - Every OrderEvent from a gateway (responses, private streams, queries, trade history) goes through the state
 *   machine; the events that changed something are passed on to subscribers (engine, journal, strategy).
 *   Duplicates / stale updates are counted, not forwarded.
 * - adopt() / close(): reconciliation's and the send path's only ways to add or end an order outside an event;
 *   subscribers hear of them (onAdopt / onClose) so the journal records them.
 * - reconcile(): the one reconciliation, after a stream gap and (with `startup`) at start.
 */
import type { Instrument, Side, VenueId } from '../model/types.js';
import { nowNs } from '../util/clock.js';
import { Hop, type HopRecorder } from '../util/hops.js';
import { VENUE_INDEX } from '../model/types.js';
import { log } from '../util/log.js';
import type { GatewayOrder, VenueGateway } from './gateway.js';
import { OrderIds } from '../model/ids.js';
import { OrderStore, isTerminal, type OrderView, type TrackedOrder } from './state.js';
import type { Portfolio } from './portfolio.js';
import {
  blankOrderEvent,
  orderEventProblem,
  type ExchangeFill,
  type ExchangeOrder,
  type ExchangePosition,
  type OrderApi,
  type OrderEvent,
  type OrderEventSink,
  type OrderRequest,
  type OrderState,
} from '../model/orders.js';
import { kindOfState } from './basegw.js';
import { AlgoStore, isAlgoTerminal } from './algo.js';
import {
  blankAlgoEvent,
  type AlgoEvent,
  type AlgoRequest,
  type AlgoState,
  type AlgoView,
  type ExchangeAlgo,
  type GatewayAlgo,
  type TrackedAlgo,
} from '../model/orders.js';

export interface OrderManagerOptions {
  instruments: readonly Instrument[];
  gateways: readonly VenueGateway[];
  ids?: OrderIds;
  hops?: HopRecorder;
  /** BotState slots (default: highest instrument slot + 1) */
  slots?: number;
  /** terminal orders kept for late updates */
  keepTerminal?: number;
  /** after a stream gap, fills are backfilled for open orders and orders active within this window (default 10 min) */
  backfillWindowMs?: number;
}

/** how far before an order's creation time the trade-history query starts (clock error) */
const BACKFILL_MARGIN_MS = 5_000;

export interface CancelAllReport {
  venue: VenueId;
  /** open orders the exchange still reports after the cancel-all (should be 0) */
  remaining: number;
  error?: string;
}

/** What reconciliation at start adds to the stream-gap run (persist/reconcile.ts passes it). */
export interface StartupReconcile {
  /** open orders of ours (our id prefix) the owner does not know: tracked and kept, or tracked and cancelled */
  orphans: 'adopt' | 'cancel';
  /** the one id that may have been sent without a journal record (src/persist/recover.ts) */
  probeId?: string | undefined;
  /** filled in by the run(s) */
  report: StartupReport;
}

export interface StartupReport {
  adopted: string[];
  canceled: string[];
  closed: Array<{ id: string; state: string }>;
  /** fills booked by reconciliation (trade history, or estimated when the venue has no history) */
  fillsBooked: number;
  /** fills booked without a trade id: the exchange reported more filled than its trade history showed */
  fillsEstimated: number;
  /** orders the exchange had that the journal never recorded (the probe id, found terminal); filled in lots */
  unjournaled: Array<{ id: string; state: string; filled: number }>;
}

export function blankStartupReport(): StartupReport {
  return { adopted: [], canceled: [], closed: [], fillsBooked: 0, fillsEstimated: 0, unjournaled: [] };
}

export class OrderManager implements OrderApi {
  readonly store: OrderStore;
  /** the algo (conditional) orders: their one record and state machine (src/orders/algo.ts) */
  readonly algos: AlgoStore;
  readonly portfolio: Portfolio;
  readonly ids: OrderIds;
  private readonly bySlot = new Map<number, Instrument>();
  private readonly gateways = new Map<VenueId, VenueGateway>();
  private readonly sinks: OrderEventSink[] = [];
  private hops: HopRecorder | undefined;
  private readonly keepTerminal: number;
  readonly counts = {
    placed: 0,
    refused: 0,
    events: 0,
    applied: 0,
    duplicate: 0,
    stale: 0,
    unknown: 0,
    invalid: 0,
    reconciles: 0,
    backfilled: 0,
    backfillErrors: 0,
    estimated: 0,
    /** reconciliations after a gap that the venue failed (a query or the trade history), run again after a pause */
    reconcileRetries: 0,
  };
  private readonly backfillWindowMs: number;
  private readonly reconciling = new Map<VenueId, Promise<number>>();
  private readonly reconcileNext = new Map<VenueId, Promise<number>>();
  /** a failed reconciliation after a gap is run again after these pauses (ms), then left to the next gap */
  private static readonly RECONCILE_RETRY_MS = [500, 1000, 2000, 4000, 8000, 15000];
  private readonly retryTimers = new Map<VenueId, NodeJS.Timeout>();
  private readonly retryAttempt = new Map<VenueId, number>();
  private stopped = false;

  constructor(opts: OrderManagerOptions) {
    for (const i of opts.instruments) this.bySlot.set(i.slot, i);
    this.store = new OrderStore(opts.instruments, opts.slots);
    this.portfolio = this.store.portfolio;
    this.algos = new AlgoStore(this.portfolio, opts.instruments);
    for (const g of opts.gateways) {
      this.gateways.set(g.venue, g);
      g.onEvent = (ev) => this.onEvent(ev);
      if (g.algoPlace) g.onAlgoEvent = (ev) => this.onAlgoEvent(ev);
      g.onStreamResync = () => {
        this.reconcile(g.venue).catch((err: unknown) => log().warn({ venue: g.venue, err: String(err) }, 'reconcile failed'));
      };
    }
    this.ids = opts.ids ?? new OrderIds();
    this.hops = opts.hops;
    this.keepTerminal = opts.keepTerminal ?? 10_000;
    this.backfillWindowMs = opts.backfillWindowMs ?? 10 * 60_000;
  }

  /** the ack / fill hops are recorded here (the engine gives its recorder when the wiring did not) */
  useHops(h: HopRecorder): void {
    this.hops ??= h;
  }

  subscribe(sink: OrderEventSink): () => void {
    this.sinks.push(sink);
    return () => {
      const i = this.sinks.indexOf(sink);
      if (i >= 0) this.sinks.splice(i, 1);
    };
  }

  gateway(venue: VenueId): VenueGateway | undefined {
    return this.gateways.get(venue);
  }

  venues(): VenueId[] {
    return [...this.gateways.keys()];
  }

  instrument(slot: number): Instrument | undefined {
    return this.bySlot.get(slot);
  }

  async start(): Promise<void> {
    await Promise.all([...this.gateways.values()].map((g) => g.start()));
  }

  /**
   * An operator's resume (control plane `POST /start`): every venue halted until an operator says so (an auth
   * failure, an IP ban without an end) sends orders again, and resends are on again after a kill switch. Returns the
   * venues that were halted.
   */
  resumeHalted(): VenueId[] {
    const out: VenueId[] = [];
    for (const [venue, gw] of this.gateways) {
      const halted = gw.isHalted();
      gw.resume?.(); // also lets a gateway send again what a stop or the kill switch kept from being resent
      if (halted && gw.resume) out.push(venue);
    }
    return out;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.retryTimers.values()) clearTimeout(t);
    this.retryTimers.clear();
    await Promise.all([...this.gateways.values()].map((g) => g.stop().catch(() => undefined)));
  }

  /** transport the last send went over (`Transport` of src/util/hops.ts; 0 = refused or not known) */
  lastSentVia = 0;
  /** when the last send handed its bytes to the socket layer (ns; 0 = not sent at once, e.g. refused or waiting) */
  lastSentNs = 0;

  /** Everything is being cancelled: no gateway sends an order of unknown outcome again (VenueGateway.stopResends). */
  stopResends(reason: string): void {
    for (const g of this.gateways.values()) g.stopResends?.(reason);
  }

  /** Build and sign a never-sent order for `symbol` on its venue's gateway (keeps the order path hot; no I/O). */
  warm(venue: VenueId, symbol: string): void {
    this.gateways.get(venue)?.warm?.(symbol);
  }

  /** The owner's read-only record of an order (undefined once pruned or never known). */
  order(clientOrderId: string): OrderView | undefined {
    return this.store.get(clientOrderId);
  }

  /**
   * Step 1 of a send: a client id from the one generator and a NEW_PENDING record (its open quantity counts in the
   * exposure from here). Null when the slot has no instrument. Risk is the caller's (the engine's) job.
   */
  intent(req: OrderRequest, manual: boolean, now: number): OrderView | null {
    const inst = this.bySlot.get(req.slot);
    if (!inst) return null;
    this.counts.placed++;
    return this.store.create({
      clientOrderId: this.ids.next(),
      venue: inst.venue,
      symbol: inst.symbol,
      slot: inst.slot,
      side: req.side,
      type: req.type,
      tif: req.tif,
      price: req.type === 'MARKET' ? 0 : req.price,
      qty: req.qty,
      reduceOnly: req.reduceOnly === true,
      manual,
      nowNs: now,
    });
  }

  /**
   * Step 2: hand the order to its venue's gateway (returns at once; the outcome arrives as events). A venue with no
   * gateway, or a halted one, answers with a reject event on the next turn, like a venue would.
   */
  send(view: OrderView): void {
    const o = this.store.get(view.clientOrderId);
    if (o?.state !== 'NEW_PENDING') throw new Error(`send: ${view.clientOrderId} is not a new order`);
    const gw = this.gateways.get(o.venue);
    if (!gw || gw.isHalted()) {
      if (gw) gw.noteRefusedWhileHalted?.();
      this.counts.refused++;
      this.lastSentVia = 0;
      this.lastSentNs = 0;
      this.rejectLater(o, gw ? 'venue halted' : `no order gateway for ${o.venue}`);
      return;
    }
    gw.place(o);
    this.lastSentVia = o.sentVia;
    this.lastSentNs = o.sentNs;
  }

  private rejectLater(o: TrackedOrder, reason: string): void {
    const ev = blankOrderEvent();
    ev.venue = o.venue;
    ev.symbol = o.symbol;
    ev.kind = 'reject';
    ev.state = 'REJECTED';
    ev.clientOrderId = o.clientOrderId;
    ev.reason = reason;
    ev.code = -1;
    ev.source = 'rest';
    setImmediate(() => {
      ev.localNs = nowNs();
      this.onEvent(ev);
    });
  }

  /** OrderApi without risk (tests, tools): null when refused here (no gateway, halted venue, bad numbers). */
  place(req: OrderRequest): string | null {
    const inst = this.bySlot.get(req.slot);
    const gw = inst ? this.gateways.get(inst.venue) : undefined;
    if (!inst || !gw || gw.isHalted() || req.qty <= 0 || (req.type === 'LIMIT' && req.price <= 0)) {
      this.counts.refused++;
      if (gw?.isHalted()) gw.noteRefusedWhileHalted?.();
      return null;
    }
    const o = this.intent(req, false, nowNs())!;
    this.send(o);
    return o.clientOrderId;
  }

  cancel(clientOrderId: string): boolean {
    const o = this.store.get(clientOrderId);
    if (!o || isTerminal(o.state)) return false;
    const gw = this.gateways.get(o.venue);
    if (!gw) return false;
    this.store.markCancelPending(clientOrderId, nowNs());
    gw.cancel(o);
    return true;
  }

  cancelAll(slot?: number): void {
    if (slot !== undefined) {
      const inst = this.bySlot.get(slot);
      const gw = inst ? this.gateways.get(inst.venue) : undefined;
      if (inst && gw) this.cancelAllOn(inst.venue, gw, inst.symbol);
      return;
    }
    for (const [venue, gw] of this.gateways) this.cancelAllOn(venue, gw, undefined);
  }

  private cancelAllOn(venue: VenueId, gw: VenueGateway, symbol: string | undefined): void {
    const marked: string[] = [];
    for (const o of this.store.open(venue)) {
      if (symbol !== undefined && o.symbol !== symbol) continue;
      if (this.store.markCancelPending(o.clientOrderId, nowNs())) marked.push(o.clientOrderId);
    }
    gw.cancelAll(symbol).catch((err: unknown) => {
      log().warn({ venue, symbol, err: String(err) }, 'cancelAll failed: learning the true state by query');
      // the cancel-all may not have happened: undo CANCEL_PENDING, then ask the exchange
      this.undoCancels(venue, marked, 'CANCEL_ALL_FAILED');
      this.reconcile(venue).catch(() => undefined);
    });
  }

  /** a cancel that did not happen: each order back to its state before the cancel, through the state machine */
  private undoCancels(venue: VenueId, ids: readonly string[], reason: string): void {
    const ev = blankOrderEvent();
    for (const id of ids) {
      const o = this.store.get(id);
      if (o?.state !== 'CANCEL_PENDING') continue;
      ev.venue = venue;
      ev.symbol = o.symbol;
      ev.kind = 'cancelReject';
      ev.clientOrderId = id;
      ev.state = o.preCancelState;
      ev.reason = reason;
      ev.localNs = nowNs();
      ev.source = 'rest';
      this.onEvent(ev);
    }
  }

  /** Amend where the venue supports it (Bybit; Binance USD-M price/qty; Binance Spot quantity decrease only); false
   * otherwise (the engine cancels and re-places). The answer arrives as an 'amend' event. */
  amend(clientOrderId: string, price: number, qty: number): boolean {
    const o = this.store.get(clientOrderId);
    if (!o || isTerminal(o.state) || o.state === 'CANCEL_PENDING' || o.amendQty > 0 || qty <= 0 || (o.type === 'LIMIT' && price <= 0)) return false;
    const gw = this.gateways.get(o.venue);
    if (!gw?.amend) return false;
    o.amendPrice = price;
    o.amendQty = qty;
    if (gw.amend(o, price, qty)) return true;
    o.amendPrice = 0;
    o.amendQty = 0;
    return false;
  }

  /** Take over an order found on the exchange (see OrderStore.adopt); subscribers hear of it (journal). */
  adopt(x: ExchangeOrder, slot: number, filled: number, why: string): OrderView {
    const o = this.store.adopt(x, slot, filled, nowNs());
    for (let i = 0; i < this.sinks.length; i++) this.sinks[i]!.onAdopt?.(o, why);
    return o;
  }

  /** End an order that is not open on the exchange (never reached it; a send that threw). */
  close(clientOrderId: string, state: OrderState, why: string): boolean {
    if (!this.store.close(clientOrderId, state, nowNs())) return false;
    const o = this.store.get(clientOrderId)!;
    for (let i = 0; i < this.sinks.length; i++) this.sinks[i]!.onClose?.(o, why);
    return true;
  }

  /**
   * A position difference the venue reports and no order explains (reconciliation at start, futures): booked on the
   * portfolio without an order, at `price`. The caller journals it.
   */
  bookAdjustment(venue: VenueId, symbol: string, slot: number, side: Side, price: number, qty: number): void {
    this.store.bookUnattributed(venue, symbol, slot, side, price, qty, '');
  }

  /**
   * The one way an OrderEvent reaches the state machine and the portfolio (and, through the sinks, the journal,
   * the engine's counters and the strategy). An event with a number out of range (NaN, Infinity, a negative or
   * fractional quantity: orderEventProblem) is refused here whatever produced it: counted (`invalid`), logged (1st,
   * 10th, 100th...), never booked, and treated as a stream problem: the venue is reconciled.
   * The event the sinks see carries the owner's state after it (a rejected cancel: the state before the cancel).
   */
  private onEvent(ev: OrderEvent): void {
    this.counts.events++;
    const problem = orderEventProblem(ev);
    if (problem !== '') {
      const n = ++this.counts.invalid;
      if (Number.isInteger(Math.log10(n))) {
        log().warn(
          {
            venue: ev.venue,
            symbol: ev.symbol,
            clientOrderId: ev.clientOrderId,
            kind: ev.kind,
            source: ev.source,
            field: problem,
            value: String(ev[problem as keyof OrderEvent]),
            count: n,
          },
          'order event refused: number out of range',
        );
      }
      // a query answer that is itself bad must not start another query
      if (ev.source !== 'query') this.reconcile(ev.venue).catch((err: unknown) => log().warn({ venue: ev.venue, err: String(err) }, 'reconcile failed'));
      return;
    }
    let o = this.store.get(ev.clientOrderId);
    // an order the owner does not know may be the one an algo order's trigger placed (cold: unknown orders only)
    if (!o && this.algos.forOrder(ev.venue, ev.clientOrderId, ev.exchangeOrderId)) o = this.bookChild(ev.venue, ev.clientOrderId, ev.exchangeOrderId);
    const before = o?.state;
    const r = this.store.apply(ev);
    this.counts[r]++;
    if (r !== 'applied' || !o) return;
    if (ev.kind === 'cancelReject') ev.state = o.state;
    // an accepted amend answer carries no price/qty of its own (the store kept the request's): give the sinks the
    // order's new price and quantity, as a stream amendment does
    if (ev.kind === 'amend' && ev.code === 0 && ev.orderQty === 0) {
      ev.orderPrice = o.price;
      ev.orderQty = o.qty;
    }
    if (this.hops && o.sentNs > 0) {
      if (before === 'NEW_PENDING' && ev.kind !== 'fill') this.hops.recordVia(Hop.Ack, VENUE_INDEX[o.venue], o.sentVia, ev.localNs - o.sentNs);
      if (ev.kind === 'fill' && ev.fillQty > 0 && o.fills === 1) this.hops.recordVia(Hop.Fill, VENUE_INDEX[o.venue], o.sentVia, ev.localNs - o.sentNs);
    }
    for (let i = 0; i < this.sinks.length; i++) this.sinks[i]!.onOrderEvent(ev);
    if (isTerminal(o.state) && this.counts.applied % 1000 === 0) this.store.prune(this.keepTerminal);
  }

  // ---- algo (conditional) orders ----------------------------------------------------------------------------

  /** The algo owner's read-only record of an algo order. */
  algo(clientAlgoId: string): AlgoView | undefined {
    return this.algos.get(clientAlgoId);
  }

  /** true when the venue of `slot` takes algo orders (Binance USD-M, Bybit) */
  algoSupported(slot: number): boolean {
    const inst = this.bySlot.get(slot);
    return inst !== undefined && this.gateways.get(inst.venue)?.algoPlace !== undefined;
  }

  /**
   * Step 1 of an algo send: a client id from the one generator and a NEW_PENDING algo record (its quantity counts in
   * the open exposure from here). Null when the slot has no instrument. Risk is the caller's job.
   */
  algoIntent(req: AlgoRequest, manual: boolean, now: number): AlgoView | null {
    const inst = this.bySlot.get(req.slot);
    if (!inst) return null;
    this.counts.placed++;
    return this.algos.create({
      clientAlgoId: this.ids.next(),
      venue: inst.venue,
      symbol: inst.symbol,
      slot: inst.slot,
      side: req.side,
      kind: req.kind,
      triggerPrice: req.triggerPrice,
      price: req.price > 0 ? req.price : 0,
      qty: req.qty,
      tif: req.tif ?? 'GTC',
      reduceOnly: req.reduceOnly === true,
      manual,
      nowNs: now,
    });
  }

  /** Step 2: hand the algo order to its venue (outcome as algo events). No gateway / no algo support / halted:
   * a reject on the next turn. */
  algoSend(view: AlgoView): void {
    const a = this.algos.get(view.clientAlgoId);
    if (a?.state !== 'NEW_PENDING') throw new Error(`algoSend: ${view.clientAlgoId} is not a new algo order`);
    const gw = this.gateways.get(a.venue);
    if (!gw?.algoPlace || gw.isHalted()) {
      if (gw?.isHalted()) gw.noteRefusedWhileHalted?.();
      this.counts.refused++;
      const ev = blankAlgoEvent();
      ev.venue = a.venue;
      ev.symbol = a.symbol;
      ev.kind = 'reject';
      ev.state = 'REJECTED';
      ev.clientAlgoId = a.clientAlgoId;
      ev.code = -1;
      ev.reason = !gw ? `no order gateway for ${a.venue}` : !gw.algoPlace ? `${a.venue} takes no algo orders` : 'venue halted';
      ev.source = 'rest';
      setImmediate(() => {
        ev.localNs = nowNs();
        this.onAlgoEvent(ev);
      });
      return;
    }
    gw.algoPlace(a);
  }

  /** Both steps without risk (tests, tools): null when refused here. */
  placeAlgo(req: AlgoRequest): string | null {
    if (!this.algoSupported(req.slot) || !(req.qty > 0) || !(req.triggerPrice > 0)) {
      this.counts.refused++;
      return null;
    }
    const a = this.algoIntent(req, false, nowNs())!;
    this.algoSend(a);
    return a.clientAlgoId;
  }

  cancelAlgo(clientAlgoId: string): boolean {
    const a = this.algos.get(clientAlgoId);
    if (!a || isAlgoTerminal(a.state)) return false;
    const gw = this.gateways.get(a.venue);
    if (!gw?.algoCancel) return false;
    this.algos.markCancelPending(clientAlgoId, nowNs());
    gw.algoCancel(a);
    return true;
  }

  /** Every algo update of a gateway (answers, streams, queries): the algo machine, then the sinks. */
  private onAlgoEvent(ev: AlgoEvent): void {
    this.counts.events++;
    const r = this.algos.apply(ev);
    if (r === 'unknown') {
      this.counts.unknown++;
      return;
    }
    const a = this.algos.get(ev.clientAlgoId)!;
    // the trigger placed an order: book it in the order owner now (its events may come before or after this)
    if ((a.state === 'TRIGGERED' || a.state === 'FINISHED') && a.childId === '' && (ev.orderId !== '' || ev.orderClientId !== ''))
      this.bookChild(a.venue, ev.orderClientId !== '' ? ev.orderClientId : a.clientAlgoId, ev.orderId, a);
    if (r !== 'applied') {
      this.counts.stale++;
      return;
    }
    this.counts.applied++;
    if (ev.kind === 'cancelReject') ev.state = a.state;
    for (let i = 0; i < this.sinks.length; i++) this.sinks[i]!.onAlgoEvent?.(ev, a);
  }

  /**
   * Book the order an algo's trigger placed as an order of the owner (an adoption: the journal records it), linked
   * to its algo parent. Its events then go through the one state machine and its fills move the portfolio once.
   */
  private bookChild(venue: VenueId, clientOrderId: string, exchangeOrderId: string, parent?: TrackedAlgo): TrackedOrder | undefined {
    const a = parent ?? this.algos.forOrder(venue, clientOrderId, exchangeOrderId);
    if (!a) return undefined;
    const known = this.store.get(clientOrderId);
    if (known) {
      this.algos.link(a, clientOrderId, exchangeOrderId, nowNs());
      return known;
    }
    const market = a.price === 0;
    const x: ExchangeOrder = {
      venue,
      symbol: a.symbol,
      clientOrderId,
      exchangeOrderId,
      side: a.side,
      type: market ? 'MARKET' : 'LIMIT',
      tif: market ? 'IOC' : a.tif,
      price: a.price,
      qty: a.qty,
      filledQty: 0,
      state: 'NEW_PENDING',
      updateTimeMs: Date.now(),
    };
    this.algos.link(a, clientOrderId, exchangeOrderId, nowNs());
    this.adopt(x, a.slot, 0, `algo ${a.clientAlgoId} triggered: its order`);
    return this.store.get(clientOrderId);
  }

  /** Open algo orders on the venue (empty for a venue without them). */
  async openAlgos(venue: VenueId): Promise<ExchangeAlgo[]> {
    const gw = this.gateways.get(venue);
    if (!gw) throw new Error(`no gateway for ${venue}`);
    return gw.algoOpen ? gw.algoOpen() : [];
  }

  /**
   * Reconciliation's algo part (before the orders' part, so that an order a missed trigger placed is queried and
   * its fills backfilled with the rest): the venue's open algo orders are taken as they are (start: unknown ones of
   * ours adopted or cancelled, foreign ones cancelled); an algo order the owner holds open that the venue no longer
   * lists triggered or ended while we did not listen: the order its trigger placed is looked up by the algo's client
   * id; found, it is booked (linked) and the algo is TRIGGERED; not found, the algo is closed (CANCELED; at start a
   * NEW_PENDING one is REJECTED: it never reached the venue).
   */
  private async reconcileAlgos(venue: VenueId, gw: VenueGateway, start: StartupReconcile | undefined): Promise<void> {
    if (!gw.algoOpen) return;
    const listed = await gw.algoOpen();
    const seen = new Set<string>();
    const ev = blankAlgoEvent();
    for (const x of listed) {
      const slot = this.portfolio.slotOf(x.venue, x.symbol);
      if (slot < 0) continue;
      seen.add(x.clientAlgoId);
      if (this.algos.get(x.clientAlgoId)) {
        this.feedAlgo(venue, x.symbol, x.clientAlgoId, x.algoId, x.state, ev);
        continue;
      }
      if (!start) continue;
      if (this.ids.isOurs(x.clientAlgoId)) {
        this.algos.adopt(x, slot, false, nowNs());
        if (start.orphans === 'adopt') {
          start.report.adopted.push(x.clientAlgoId);
          continue;
        }
        this.cancelAlgo(x.clientAlgoId);
      } else gw.algoCancel?.(foreignAlgo(x));
      start.report.canceled.push(x.clientAlgoId);
    }
    for (const a of this.algos.open(venue)) {
      if (seen.has(a.clientAlgoId)) continue;
      if (a.state === 'NEW_PENDING' && !start) continue; // its answer may still be on its way
      const child = await gw.queryOrder(a.symbol, a.clientAlgoId);
      if (child) {
        this.bookChild(venue, child.clientOrderId, child.exchangeOrderId, a);
        this.feedAlgo(venue, a.symbol, a.clientAlgoId, '', 'TRIGGERED', ev);
        continue;
      }
      const state: AlgoState = a.state === 'NEW_PENDING' ? 'REJECTED' : 'CANCELED';
      if (this.algos.close(a.clientAlgoId, state, 'not open on the venue and no order of its trigger', nowNs())) {
        log().warn({ venue, clientAlgoId: a.clientAlgoId, state }, 'reconcile: algo order gone from the venue: closed');
        start?.report.closed.push({ id: a.clientAlgoId, state });
      }
    }
  }

  private feedAlgo(venue: VenueId, symbol: string, clientAlgoId: string, algoId: string, state: AlgoState, ev: AlgoEvent): void {
    ev.venue = venue;
    ev.symbol = symbol;
    ev.kind = state === 'TRIGGERED' ? 'trigger' : 'ack';
    ev.clientAlgoId = clientAlgoId;
    ev.algoId = algoId;
    ev.state = state;
    ev.orderId = '';
    ev.orderClientId = '';
    ev.code = 0;
    ev.reason = '';
    ev.exchTimeMs = Date.now();
    ev.localNs = nowNs();
    ev.source = 'query';
    this.onAlgoEvent(ev);
  }

  // ---- exchange queries ---------------------------------------------------------------------------------------

  async openOrders(venue: VenueId): Promise<ExchangeOrder[]> {
    const gw = this.gateways.get(venue);
    if (!gw) throw new Error(`no gateway for ${venue}`);
    return gw.openOrders();
  }

  async positions(venue: VenueId): Promise<ExchangePosition[]> {
    const gw = this.gateways.get(venue);
    if (!gw) throw new Error(`no gateway for ${venue}`);
    return gw.positions();
  }

  private venuesOf(instruments: readonly Instrument[]): VenueId[] {
    const out: VenueId[] = [];
    for (const i of instruments) if (this.gateways.has(i.venue) && !out.includes(i.venue)) out.push(i.venue);
    return out;
  }

  /** Open orders on the exchanges of these instruments (kill switch and stop verification, reconciliation). */
  async openOrdersOf(instruments: readonly Instrument[]): Promise<ExchangeOrder[]> {
    const want = new Set(instruments.map((i) => `${i.venue}:${i.symbol}`));
    const out: ExchangeOrder[] = [];
    for (const v of this.venuesOf(instruments)) {
      for (const o of await this.openOrders(v)) if (want.has(`${o.venue}:${o.symbol}`)) out.push(o);
      // algo / conditional orders are open orders too (a stop must leave none): listed as orders named by their client algo id
      for (const a of await this.openAlgos(v))
        if (want.has(`${a.venue}:${a.symbol}`) && !out.some((o) => o.clientOrderId === a.clientAlgoId)) out.push(algoAsOrder(a));
    }
    return out;
  }

  /** A spot venue's wallet balances per asset (free + locked); undefined when its gateway cannot read them. */
  async balances(venue: VenueId): Promise<Map<string, number> | undefined> {
    const gw = this.gateways.get(venue);
    return gw?.balances ? gw.balances() : undefined;
  }

  /** Futures positions of these instruments (spot: none). */
  async positionsOf(instruments: readonly Instrument[]): Promise<ExchangePosition[]> {
    const want = new Set(instruments.map((i) => `${i.venue}:${i.symbol}`));
    const out: ExchangePosition[] = [];
    for (const v of this.venuesOf(instruments)) {
      if (v !== 'binanceUsdm' && v !== 'bybitLinear') continue;
      for (const p of await this.positions(v)) if (want.has(`${p.venue}:${p.symbol}`)) out.push(p);
    }
    return out;
  }

  /** The venues' cancel-all on every venue of these instruments (algo/conditional included); throws naming the failures. */
  async cancelAllOf(instruments: readonly Instrument[]): Promise<void> {
    const errs: string[] = [];
    await Promise.all(
      this.venuesOf(instruments).map(async (v) => {
        try {
          await this.gateways.get(v)!.cancelAll();
        } catch (err) {
          errs.push(`${v}: ${String((err as Error)?.message ?? err)}`);
        }
      }),
    );
    if (errs.length > 0) throw new Error(errs.join('; '));
  }

  /** Query an order (by client id); a known order's answer is also fed through the state machine by the gateway. */
  async queryOrder(clientOrderId: string, venue?: VenueId, symbol?: string): Promise<ExchangeOrder | null> {
    const o = this.store.get(clientOrderId);
    const v = o?.venue ?? venue;
    const s = o?.symbol ?? symbol;
    if (v === undefined || s === undefined) throw new Error(`unknown order ${clientOrderId}: give venue and symbol`);
    const gw = this.gateways.get(v);
    if (!gw) throw new Error(`no gateway for ${v}`);
    return gw.queryOrder(s, clientOrderId);
  }

  // ---- reconciliation -------------------------------------------------------------------------------------

  /**
   * The one reconciliation: after a private-stream gap (reconnect, listenKey expiry, WS API session drop), on an
   * event refused for its numbers, on demand, and (with `startup`) at start before the strategy runs. Learns what
   * the streams missed, through the same state machine as stream events:
   * 1. (start) The exchange's open orders: an unknown one of ours (our id prefix) is adopted (tracked), then kept or
   *    cancelled per `orphans`; a foreign one is cancelled. The probe id (recover.ts) that is not open is queried:
   *    found, it is adopted (its fills booked below) and reported as `unjournaled`.
   * 2. Query the state of every order the owner holds open (also learns exchange ids of unacknowledged orders).
   *    (start) An order the exchange does not know is closed as REJECTED: it never reached it. Nothing is re-sent.
   * 3. Backfill fills from the venue's trade history for the orders open or active within `backfillWindowMs`: each
   *    fill whose trade id the owner has not applied is fed as a 'fill' event (source 'query') with its real trade
   *    id, exchange order id, price and fee. The store drops a trade id it has (stream and history report the same id).
   * 4. (start) What the exchange reports filled beyond what the history gave (a venue without history) is booked at
   *    the order's price without a trade id, counted (`estimated`) and logged.
   * Runs are serialized per venue (a resync during a run schedules one more run). Returns how many orders were checked.
   */
  reconcile(venue: VenueId, startup?: StartupReconcile): Promise<number> {
    const prev = this.reconciling.get(venue);
    if (prev) {
      if (startup) return prev.catch(() => 0).then(() => this.reconcile(venue, startup));
      // one follow-up run covers every resync that arrives while a run is in progress
      let next = this.reconcileNext.get(venue);
      if (!next) {
        next = prev
          .catch(() => 0)
          .then(() => {
            this.reconcileNext.delete(venue);
            return this.reconcile(venue);
          });
        this.reconcileNext.set(venue, next);
      }
      return next;
    }
    const failed = { v: false };
    const run = this.reconcileOnce(venue, startup, failed).finally(() => {
      if (this.reconciling.get(venue) === run) this.reconciling.delete(venue);
      if (!startup) this.afterGapReconcile(venue, failed.v);
    });
    this.reconciling.set(venue, run);
    return run;
  }

  /**
   * A reconciliation after a gap that the venue failed in part (a 429 or 5xx on a query or on the trade history) would
   * leave the gap's fills unbooked until the next gap: run it again after a pause that grows (RECONCILE_RETRY_MS),
   * counted and logged; a complete run resets the pauses.
   */
  private afterGapReconcile(venue: VenueId, failed: boolean): void {
    if (!failed) {
      this.retryAttempt.delete(venue);
      return;
    }
    const n = this.retryAttempt.get(venue) ?? 0;
    const wait = OrderManager.RECONCILE_RETRY_MS[n];
    if (this.stopped || wait === undefined || this.retryTimers.has(venue)) {
      if (wait === undefined) log().error({ venue, attempts: n }, 'reconciliation after a stream gap kept failing: left to the next gap');
      return;
    }
    this.retryAttempt.set(venue, n + 1);
    this.counts.reconcileRetries++;
    log().warn({ venue, attempt: n + 1, retryInMs: wait }, 'reconciliation after a stream gap failed in part: running it again');
    const t = setTimeout(() => {
      this.retryTimers.delete(venue);
      if (!this.stopped) this.reconcile(venue).catch((err: unknown) => log().warn({ venue, err: String(err) }, 'reconcile failed'));
    }, wait);
    t.unref();
    this.retryTimers.set(venue, t);
  }

  private async reconcileOnce(venue: VenueId, start: StartupReconcile | undefined, failed: { v: boolean } = { v: false }): Promise<number> {
    const gw = this.gateways.get(venue);
    if (!gw) return 0;
    this.counts.reconciles++;
    const rep = start?.report;
    const fillsBefore = this.portfolio.fills;
    if (start && rep) await this.sweepOpen(venue, gw, start, rep);
    if (start) await this.reconcileAlgos(venue, gw, start);
    else
      await this.reconcileAlgos(venue, gw, undefined).catch((err: unknown) => {
        failed.v = true;
        log().warn({ venue, err: String(err) }, 'reconcile: algo orders could not be read');
      });

    const now = nowNs();
    const windowNs = this.backfillWindowMs * 1e6;
    const active: TrackedOrder[] = [];
    for (const o of this.store.all()) {
      if (o.venue !== venue) continue;
      if (!isTerminal(o.state) || now - o.updatedNs <= windowNs || o.filledQty < o.reportedCumQty) active.push(o);
    }
    const open = active.filter((o) => !isTerminal(o.state));
    const ev = blankOrderEvent();
    await Promise.all(
      open.map(async (o) => {
        // at start a query that fails fails the start (fail closed); after a gap the next resync tries again
        const q = start
          ? await gw.queryOrder(o.symbol, o.clientOrderId)
          : await gw.queryOrder(o.symbol, o.clientOrderId).catch(() => {
              failed.v = true;
              return undefined;
            });
        if (q === undefined) return;
        if (q === null) {
          if (start && rep && this.close(o.clientOrderId, 'REJECTED', 'unknown to exchange (never reached it)'))
            rep.closed.push({ id: o.clientOrderId, state: 'REJECTED' });
          return;
        }
        this.feedQuery(venue, q, ev);
        if (rep && isTerminal(o.state)) rep.closed.push({ id: o.clientOrderId, state: o.state });
      }),
    );
    if (gw.tradeHistory && active.length > 0 && !(await this.backfill(venue, gw, active))) failed.v = true;
    if (rep) {
      // 4. what the exchange says filled and no trade of the history covered
      for (const o of active) {
        const missing = o.reportedCumQty - o.filledQty;
        if (missing <= 0) continue;
        const px = o.price > 0 ? o.price : o.filledQty > 0 ? Math.round(o.filledNotional / o.filledQty) : 0;
        if (px <= 0) {
          log().error(
            { venue, clientOrderId: o.clientOrderId, missing },
            'reconcile: a fill the trade history does not show and no price to book it at: not booked',
          );
          continue;
        }
        this.feedFill(venue, o, '', o.exchangeOrderId, px, missing, 0, '', false, Date.now(), ev);
        this.counts.estimated++;
        rep.fillsEstimated++;
        log().warn(
          { venue, clientOrderId: o.clientOrderId, qty: missing, price: px },
          'reconcile: filled while down, not in the trade history: booked at the order price without a trade id',
        );
      }
      rep.fillsBooked += this.portfolio.fills - fillsBefore;
    }
    return open.length;
  }

  /** Start-up step 1: orphans and the probe. */
  private async sweepOpen(venue: VenueId, gw: VenueGateway, start: StartupReconcile, rep: StartupReport): Promise<void> {
    const seen = new Set<string>();
    for (const x of await gw.openOrders()) {
      const slot = this.portfolio.slotOf(x.venue, x.symbol);
      if (slot < 0) continue;
      seen.add(x.clientOrderId);
      if (this.store.get(x.clientOrderId)) {
        // known and open: the exchange's view is taken (step 2 queries its state, step 3 books missed fills)
        rep.adopted.push(x.clientOrderId);
        continue;
      }
      if (this.ids.isOurs(x.clientOrderId)) {
        this.adopt(x, slot, 0, start.orphans === 'adopt' ? 'reconcile: orphan of ours adopted' : 'reconcile: orphan of ours, cancelled');
        if (start.orphans === 'adopt') {
          rep.adopted.push(x.clientOrderId);
          continue;
        }
        this.cancel(x.clientOrderId);
      } else {
        // not ours: never tracked (its fills are not ours to book), only cancelled
        gw.cancel(foreignOrder(x));
      }
      rep.canceled.push(x.clientOrderId);
    }
    const probe = start.probeId;
    if (probe === undefined || seen.has(probe) || this.store.get(probe) || rep.unjournaled.length > 0) return;
    for (const i of this.bySlot.values()) {
      if (i.venue !== venue) continue;
      const x = await gw.queryOrder(i.symbol, probe);
      if (!x) continue;
      // sent, then killed before its intent was written: tracked now, so its fills are booked from the history
      this.adopt(x, i.slot, 0, 'reconcile: unjournaled order (sent, then killed before its intent was written)');
      if (!isTerminal(x.state)) {
        // opened between the open-orders list and this query: cancel it like an orphan
        this.cancel(x.clientOrderId);
        rep.canceled.push(x.clientOrderId);
      }
      rep.unjournaled.push({ id: x.clientOrderId, state: x.state, filled: x.filledQty });
      break;
    }
  }

  private feedQuery(venue: VenueId, q: ExchangeOrder, ev: OrderEvent): void {
    ev.venue = venue;
    ev.symbol = q.symbol;
    ev.kind = kindOfState(q.state);
    ev.clientOrderId = q.clientOrderId;
    ev.exchangeOrderId = q.exchangeOrderId;
    ev.state = q.state;
    ev.tradeId = '';
    ev.fillPrice = 0;
    ev.fillQty = 0;
    ev.cumQty = q.filledQty;
    ev.fee = 0;
    ev.feeAsset = '';
    ev.orderPrice = 0;
    ev.orderQty = 0;
    ev.code = 0;
    ev.reason = '';
    ev.exchTimeMs = q.updateTimeMs;
    ev.localNs = nowNs();
    ev.source = 'query';
    this.onEvent(ev);
  }

  private feedFill(
    venue: VenueId,
    o: OrderView,
    tradeId: string,
    exchangeOrderId: string,
    price: number,
    qty: number,
    fee: number,
    feeAsset: string,
    maker: boolean,
    timeMs: number,
    ev: OrderEvent,
  ): void {
    ev.venue = venue;
    ev.symbol = o.symbol;
    ev.kind = 'fill';
    ev.clientOrderId = o.clientOrderId;
    ev.exchangeOrderId = exchangeOrderId;
    ev.state = 'PARTIALLY_FILLED'; // the machine completes the order from quantities
    ev.tradeId = tradeId;
    ev.fillPrice = price;
    ev.fillQty = qty;
    ev.cumQty = 0;
    ev.fee = fee;
    ev.feeAsset = feeAsset;
    ev.maker = maker;
    ev.orderPrice = 0;
    ev.orderQty = 0;
    ev.code = 0;
    ev.reason = '';
    ev.exchTimeMs = timeMs;
    ev.localNs = nowNs();
    ev.source = 'query';
    this.onEvent(ev);
  }

  /** Feed the fills of `orders` that the trade history has and the owner has not applied. */
  /** false when the trade history of some symbol could not be read */
  private async backfill(venue: VenueId, gw: VenueGateway, orders: TrackedOrder[]): Promise<boolean> {
    let ok = true;
    const bySymbol = new Map<string, TrackedOrder[]>();
    for (const o of orders) {
      let l = bySymbol.get(o.symbol);
      if (!l) bySymbol.set(o.symbol, (l = []));
      l.push(o);
    }
    await Promise.all(
      [...bySymbol].map(async ([symbol, list]) => {
        let firstMs = Infinity;
        const byClient = new Map<string, TrackedOrder>();
        const byExch = new Map<string, TrackedOrder>();
        for (const o of list) {
          if (o.createdMs < firstMs) firstMs = o.createdMs;
          byClient.set(o.clientOrderId, o);
          if (o.exchangeOrderId !== '') byExch.set(o.exchangeOrderId, o);
        }
        let fills: ExchangeFill[];
        try {
          // a margin for clock error between our creation time and the exchange's fill time
          fills = await gw.tradeHistory!(symbol, firstMs - BACKFILL_MARGIN_MS);
        } catch (err) {
          this.counts.backfillErrors++;
          ok = false;
          log().warn({ venue, symbol, err: String(err) }, 'fill backfill failed');
          return;
        }
        const ev = blankOrderEvent();
        for (const f of fills) {
          const o = (f.clientOrderId !== '' ? byClient.get(f.clientOrderId) : undefined) ?? byExch.get(f.exchangeOrderId);
          if (!o || this.store.hasTrade(venue, o.symbol, f.tradeId, o.clientOrderId)) continue;
          const before = this.counts.applied;
          this.feedFill(venue, o, f.tradeId, f.exchangeOrderId, f.price, f.qty, f.fee, f.feeAsset, f.maker, f.timeMs, ev);
          if (this.counts.applied > before) this.counts.backfilled++;
        }
      }),
    );
    return ok;
  }

  /** Kill switch: cancel everything everywhere (incl. algo orders), then verify by querying open orders. */
  async cancelAllEverywhere(): Promise<CancelAllReport[]> {
    const reports = await Promise.all(
      [...this.gateways].map(async ([venue, gw]): Promise<CancelAllReport> => {
        for (const o of this.store.open(venue)) this.store.markCancelPending(o.clientOrderId, nowNs());
        for (const a of this.algos.open(venue)) this.algos.markCancelPending(a.clientAlgoId, nowNs());
        let error: string | undefined;
        for (let attempt = 0; attempt < 2; attempt++) {
          try {
            await gw.cancelAll();
            const left = [...(await gw.openOrders()), ...(gw.algoOpen ? await gw.algoOpen() : [])];
            if (left.length === 0) return { venue, remaining: 0 };
            if (attempt === 1) return { venue, remaining: left.length };
          } catch (err) {
            error = String((err as Error)?.message ?? err);
          }
        }
        return error === undefined ? { venue, remaining: -1 } : { venue, remaining: -1, error };
      }),
    );
    return reports;
  }
}

/** an open algo order as an open order (open-order checks of the stops and the kill switch) */
function algoAsOrder(a: ExchangeAlgo): ExchangeOrder {
  return {
    venue: a.venue,
    symbol: a.symbol,
    clientOrderId: a.clientAlgoId,
    exchangeOrderId: a.algoId,
    side: a.side,
    type: a.price > 0 ? 'LIMIT' : 'MARKET',
    tif: 'GTC',
    price: a.price,
    qty: a.qty,
    filledQty: 0,
    state: 'ACKED',
    updateTimeMs: a.updateTimeMs,
  };
}

/** a gateway algo order for cancelling one the owner does not track */
function foreignAlgo(x: ExchangeAlgo): GatewayAlgo {
  return {
    clientAlgoId: x.clientAlgoId,
    symbol: x.symbol,
    side: x.side,
    kind: x.kind,
    triggerPrice: x.triggerPrice,
    price: x.price,
    qty: x.qty,
    tif: 'GTC',
    reduceOnly: x.reduceOnly,
    algoId: x.algoId,
    state: x.state,
  };
}

/** a gateway order for cancelling an exchange order the owner does not track */
function foreignOrder(x: ExchangeOrder): GatewayOrder {
  return {
    clientOrderId: x.clientOrderId,
    symbol: x.symbol,
    side: x.side as Side,
    type: x.type,
    tif: x.tif,
    price: x.price,
    qty: x.qty,
    reduceOnly: false,
    exchangeOrderId: x.exchangeOrderId,
    state: x.state,
    sentNs: 0,
    sentVia: 0,
  };
}
