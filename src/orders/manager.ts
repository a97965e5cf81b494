/**
 * OrderManager: the engine's OrderApi over the venue gateways. Risk sits in front of it (the engine's job).
 *
 * - place(): a client id from the generator, a NEW_PENDING record in the OrderStore, then the venue's gateway.
 * - Every OrderEvent from a gateway (responses, private streams, queries) goes through the state machine; the
 *   events that changed something are passed on to subscribers (engine, journal). Duplicates / stale updates are
 *   counted, not forwarded.
 * - Reconciliation helpers for the engine: openOrders, positions, queryOrder, cancelAllEverywhere (kill switch).
 */
import type { Instrument, VenueId } from '../core/types.js';
import { nowNs, wallMsOf } from '../latency/clock.js';
import { Hop, type HopRecorder } from '../latency/hops.js';
import { VENUE_INDEX } from '../core/types.js';
import { log } from '../util/log.js';
import type { VenueGateway } from './gateway.js';
import { ClientIdGenerator } from './ids.js';
import { OrderStore, isTerminal, type TrackedOrder } from './state.js';
import { blankOrderEvent, orderEventProblem, type ExchangeFill, type ExchangeOrder, type ExchangePosition, type OrderApi, type OrderEvent, type OrderEventSink, type OrderRequest } from './types.js';
import { kindOfState } from './basegw.js';

export interface OrderManagerOptions {
  instruments: readonly Instrument[];
  gateways: readonly VenueGateway[];
  ids?: ClientIdGenerator;
  hops?: HopRecorder;
  /** terminal orders kept for late updates */
  keepTerminal?: number;
  /** after a stream gap, fills are backfilled for open orders and orders active within this window (default 10 min) */
  backfillWindowMs?: number;
}

/** how far before an order's local creation time the trade-history query starts (clock error) */
const BACKFILL_MARGIN_MS = 5_000;

export interface CancelAllReport {
  venue: VenueId;
  /** open orders the exchange still reports after the cancel-all (should be 0) */
  remaining: number;
  error?: string;
}

export class OrderManager implements OrderApi {
  readonly store = new OrderStore();
  readonly ids: ClientIdGenerator;
  private readonly bySlot = new Map<number, Instrument>();
  private readonly gateways = new Map<VenueId, VenueGateway>();
  private readonly sinks: OrderEventSink[] = [];
  private readonly hops: HopRecorder | undefined;
  private readonly keepTerminal: number;
  readonly counts = { placed: 0, refused: 0, events: 0, applied: 0, duplicate: 0, stale: 0, unknown: 0, invalid: 0, reconciles: 0, backfilled: 0, backfillErrors: 0 };
  private readonly backfillWindowMs: number;
  private readonly reconciling = new Map<VenueId, Promise<number>>();
  private readonly reconcileNext = new Map<VenueId, Promise<number>>();

  constructor(opts: OrderManagerOptions) {
    for (const i of opts.instruments) this.bySlot.set(i.slot, i);
    for (const g of opts.gateways) {
      this.gateways.set(g.venue, g);
      g.onEvent = (ev) => this.onEvent(ev);
      g.onStreamResync = () => {
        this.reconcile(g.venue).catch((err: unknown) => log().warn({ venue: g.venue, err: String(err) }, 'reconcile failed'));
      };
    }
    this.ids = opts.ids ?? new ClientIdGenerator();
    this.hops = opts.hops;
    this.keepTerminal = opts.keepTerminal ?? 10_000;
    this.backfillWindowMs = opts.backfillWindowMs ?? 10 * 60_000;
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

  async start(): Promise<void> {
    await Promise.all([...this.gateways.values()].map((g) => g.start()));
  }

  async stop(): Promise<void> {
    await Promise.all([...this.gateways.values()].map((g) => g.stop().catch(() => undefined)));
  }

  /** transport the last `place` went over (`Transport` of src/latency/hops.ts; 0 = refused or not known) */
  lastSentVia = 0;

  place(req: OrderRequest): string | null {
    const inst = this.bySlot.get(req.slot);
    const gw = inst ? this.gateways.get(inst.venue) : undefined;
    if (!inst || !gw || gw.isHalted() || req.qty <= 0 || (req.type === 'LIMIT' && req.price <= 0)) {
      this.counts.refused++;
      if (gw && gw.isHalted()) gw.noteRefusedWhileHalted?.();
      return null;
    }
    const id = this.ids.next();
    const o = this.store.create({
      clientOrderId: id, venue: inst.venue, symbol: inst.symbol, slot: inst.slot, side: req.side, type: req.type, tif: req.tif,
      price: req.type === 'MARKET' ? 0 : req.price, qty: req.qty, reduceOnly: req.reduceOnly === true, nowNs: nowNs(),
    });
    this.counts.placed++;
    gw.place(o);
    this.lastSentVia = o.sentVia;
    return id;
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
      const ev = blankOrderEvent();
      for (const id of marked) {
        const o = this.store.get(id);
        if (!o || o.state !== 'CANCEL_PENDING') continue;
        ev.venue = venue;
        ev.symbol = o.symbol;
        ev.kind = 'cancelReject';
        ev.clientOrderId = id;
        ev.state = o.preCancelState;
        ev.reason = 'CANCEL_ALL_FAILED';
        ev.localNs = nowNs();
        ev.source = 'rest';
        this.onEvent(ev);
      }
      this.reconcile(venue).catch(() => undefined);
    });
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

  order(clientOrderId: string): TrackedOrder | undefined {
    return this.store.get(clientOrderId);
  }

  /**
   * The one way an OrderEvent reaches the state machine, the positions and (through the sinks) the ledger and risk.
   * An event with a number out of range (NaN, Infinity, a negative or fractional quantity: orderEventProblem) is
   * refused here whatever produced it: counted (`invalid`), logged (1st, 10th, 100th...), never booked, and treated
   * as a stream problem: the venue is reconciled (order states queried, fills backfilled from the trade history).
   */
  private onEvent(ev: OrderEvent): void {
    this.counts.events++;
    const problem = orderEventProblem(ev);
    if (problem !== '') {
      const n = ++this.counts.invalid;
      if (Number.isInteger(Math.log10(n))) {
        log().warn({ venue: ev.venue, symbol: ev.symbol, clientOrderId: ev.clientOrderId, kind: ev.kind, source: ev.source, field: problem, value: String(ev[problem as keyof OrderEvent]), count: n }, 'order event refused: number out of range');
      }
      // a query answer that is itself bad must not start another query
      if (ev.source !== 'query') this.reconcile(ev.venue).catch((err: unknown) => log().warn({ venue: ev.venue, err: String(err) }, 'reconcile failed'));
      return;
    }
    const o = this.store.get(ev.clientOrderId);
    const before = o?.state;
    const r = this.store.apply(ev);
    this.counts[r]++;
    if (r !== 'applied') return;
    // an accepted amend answer carries no price/qty of its own (the store kept the request's): give the sinks the
    // order's new price and quantity, as a stream amendment does
    if (o && ev.kind === 'amend' && ev.code === 0 && ev.orderQty === 0) {
      ev.orderPrice = o.price;
      ev.orderQty = o.qty;
    }
    if (o && this.hops && o.sentNs > 0) {
      if (before === 'NEW_PENDING' && ev.kind !== 'fill') this.hops.recordVia(Hop.Ack, VENUE_INDEX[o.venue], o.sentVia, ev.localNs - o.sentNs);
      if (ev.kind === 'fill' && ev.fillQty > 0 && o.tradeIds.size === 1) this.hops.recordVia(Hop.Fill, VENUE_INDEX[o.venue], o.sentVia, ev.localNs - o.sentNs);
    }
    for (let i = 0; i < this.sinks.length; i++) this.sinks[i]!.onOrderEvent(ev);
    if (o && isTerminal(o.state) && this.counts.applied % 1000 === 0) this.store.prune(this.keepTerminal);
  }

  // ---- reconciliation helpers -----------------------------------------------------------------------------

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

  /** Query an order we know (by client id); its result is also fed through the state machine. */
  async queryOrder(clientOrderId: string, venue?: VenueId, symbol?: string): Promise<ExchangeOrder | null> {
    const o = this.store.get(clientOrderId);
    const v = o?.venue ?? venue;
    const s = o?.symbol ?? symbol;
    if (v === undefined || s === undefined) throw new Error(`unknown order ${clientOrderId}: give venue and symbol`);
    const gw = this.gateways.get(v);
    if (!gw) throw new Error(`no gateway for ${v}`);
    return gw.queryOrder(s, clientOrderId);
  }

  /**
   * After a private-stream gap (reconnect, listenKey expiry, WS API session drop), at start after a restart, or on
   * demand: learn what the stream may have missed, through the same state machine as stream events.
   * 1. Query the state of every order we think is open (also learns exchange ids of unacknowledged orders).
   * 2. Backfill fills from the venue's trade history (`tradeHistory`) for the orders that were open or active within
   *    `backfillWindowMs`: each fill whose tradeId the order has not applied yet is fed as a 'fill' event (source
   *    'query'); positions and average prices then come out as if the stream had delivered it. Duplicates cannot
   *    happen: the store drops a tradeId it has (stream and history report the same id).
   * Runs are serialized per venue (a resync during a run schedules one more run). Returns how many orders were checked.
   */
  reconcile(venue: VenueId): Promise<number> {
    const prev = this.reconciling.get(venue);
    if (prev) {
      // one follow-up run covers every resync that arrives while a run is in progress
      let next = this.reconcileNext.get(venue);
      if (!next) {
        next = prev.catch(() => 0).then(() => {
          this.reconcileNext.delete(venue);
          return this.reconcile(venue);
        });
        this.reconcileNext.set(venue, next);
      }
      return next;
    }
    const run = this.reconcileOnce(venue).finally(() => {
      if (this.reconciling.get(venue) === run) this.reconciling.delete(venue);
    });
    this.reconciling.set(venue, run);
    return run;
  }

  private async reconcileOnce(venue: VenueId): Promise<number> {
    const gw = this.gateways.get(venue);
    if (!gw) return 0;
    this.counts.reconciles++;
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
        const q = await gw.queryOrder(o.symbol, o.clientOrderId).catch(() => undefined);
        if (!q) return;
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
        ev.exchTimeMs = q.updateTimeMs;
        ev.localNs = nowNs();
        ev.source = 'query';
        this.onEvent(ev);
      }),
    );
    if (gw.tradeHistory && active.length > 0) await this.backfill(venue, gw, active);
    return open.length;
  }

  /** Feed the fills of `orders` that the trade history has and the orders have not applied. */
  private async backfill(venue: VenueId, gw: VenueGateway, orders: TrackedOrder[]): Promise<void> {
    const bySymbol = new Map<string, TrackedOrder[]>();
    for (const o of orders) {
      let l = bySymbol.get(o.symbol);
      if (!l) bySymbol.set(o.symbol, (l = []));
      l.push(o);
    }
    await Promise.all(
      [...bySymbol].map(async ([symbol, list]) => {
        let firstNs = Infinity;
        const byClient = new Map<string, TrackedOrder>();
        const byExch = new Map<string, TrackedOrder>();
        for (const o of list) {
          if (o.createdNs < firstNs) firstNs = o.createdNs;
          byClient.set(o.clientOrderId, o);
          if (o.exchangeOrderId !== '') byExch.set(o.exchangeOrderId, o);
        }
        let fills: ExchangeFill[];
        try {
          // a margin for clock error between our creation time and the exchange's fill time
          fills = await gw.tradeHistory!(symbol, wallMsOf(firstNs) - BACKFILL_MARGIN_MS);
        } catch (err) {
          this.counts.backfillErrors++;
          log().warn({ venue, symbol, err: String(err) }, 'fill backfill failed');
          return;
        }
        const ev = blankOrderEvent();
        for (const f of fills) {
          const o = (f.clientOrderId !== '' ? byClient.get(f.clientOrderId) : undefined) ?? byExch.get(f.exchangeOrderId);
          if (!o || o.tradeIds.has(f.tradeId)) continue;
          ev.venue = venue;
          ev.symbol = f.symbol;
          ev.kind = 'fill';
          ev.clientOrderId = o.clientOrderId;
          ev.exchangeOrderId = f.exchangeOrderId;
          ev.state = 'PARTIALLY_FILLED'; // the machine completes the order from quantities
          ev.tradeId = f.tradeId;
          ev.fillPrice = f.price;
          ev.fillQty = f.qty;
          ev.cumQty = 0;
          ev.fee = f.fee;
          ev.feeAsset = f.feeAsset;
          ev.maker = f.maker;
          ev.code = 0;
          ev.reason = '';
          ev.exchTimeMs = f.timeMs;
          ev.localNs = nowNs();
          ev.source = 'query';
          const before = this.counts.applied;
          this.onEvent(ev);
          if (this.counts.applied > before) this.counts.backfilled++;
        }
      }),
    );
  }

  /** Kill switch: cancel everything everywhere (incl. algo orders), then verify by querying open orders. */
  async cancelAllEverywhere(): Promise<CancelAllReport[]> {
    const reports = await Promise.all(
      [...this.gateways].map(async ([venue, gw]): Promise<CancelAllReport> => {
        for (const o of this.store.open(venue)) this.store.markCancelPending(o.clientOrderId, nowNs());
        let error: string | undefined;
        for (let attempt = 0; attempt < 2; attempt++) {
          try {
            await gw.cancelAll();
            const left = await gw.openOrders();
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
