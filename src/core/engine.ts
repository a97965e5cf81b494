/**
 * The engine: BotState + hot loop + strategy + pre-trade risk + ledger + journal + order entry.
 *
 * Data flow: adapters write BotState and call `onBookUpdate(slot)` (event path -> strategy.onBook); the loop
 * calls strategy.onTick every period; the strategy calls this object's `OrderApi` (risk check, ledger intent,
 * journal, then `OrderEntry.place`); the order-entry layer calls `onOrderEvent` (ledger, journal, strategy).
 *
 * Trading states: `running` (strategy orders allowed), `stopped` (strategy not called, its orders refused; open
 * orders stay), `killed` (everything refused, see killswitch.ts). Manual orders (control plane) pass `stopped`.
 */
import type { BotState } from './botstate.js';
import { F } from './botstate.js';
import type { Instrument } from './types.js';
import { VENUE_INDEX } from './types.js';
import type { OrderApi, OrderEvent, OrderEventSink, OrderRequest } from '../orders/types.js';
import { Hop, Transport, type HopRecorder } from '../latency/hops.js';
import { nowNs, wallNowMs } from '../latency/clock.js';
import { HotLoop } from './loop.js';
import { Ledger } from './ledger.js';
import { OrderIds } from './ids.js';
import type { OrderEntry } from './orderentry.js';
import { PreTradeRisk, Refusal } from '../risk/pretrade.js';
import { StrategyRunner, type PortfolioView, type Strategy, type StrategyContext } from '../strategy/types.js';
import type { Config } from '../config/schema.js';
import type { Journal } from '../persist/journal.js';
import { writeSnapshot } from '../persist/snapshot.js';
import type { Logger } from '../util/log.js';

export interface EngineOptions {
  config: Config;
  state: BotState;
  instruments: Instrument[];
  entry: OrderEntry;
  hops: HopRecorder;
  journal?: Journal | undefined;
  strategy?: Strategy | undefined;
  ledger?: Ledger | undefined;
  ids?: OrderIds | undefined;
  logger?: Logger | undefined;
}

export type TradingState = 'running' | 'stopped' | 'killed';

export class Engine implements OrderApi, OrderEventSink, PortfolioView {
  readonly state: BotState;
  readonly instruments: Instrument[];
  readonly entry: OrderEntry;
  readonly hops: HopRecorder;
  readonly loop: HotLoop;
  readonly risk: PreTradeRisk;
  readonly ledger: Ledger;
  readonly ids: OrderIds;
  readonly runner: StrategyRunner | undefined;
  readonly journal: Journal | undefined;
  config: Config;
  private readonly log: Logger | undefined;
  trading: TradingState = 'running';
  /** counters */
  ordersSent = 0;
  cancelsSent = 0;
  acks = 0;
  rejects = 0;
  cancels = 0;
  expires = 0;
  cancelRejects = 0;
  readonly rejectsByReason = new Map<string, number>();
  /** rolling window of order sends / rejects (kill-switch reject-rate trigger) */
  private readonly rateRing: Float64Array;
  private readonly rateRej: Uint8Array;
  private ratePos = 0;
  private snapTimer: NodeJS.Timeout | undefined;
  private readonly slotIndex = new Map<string, number>();
  /** instruments indexed by BotState slot */
  private readonly bySlot: Instrument[] = [];
  /** hooks for the kill switch / control plane */
  onAfterEvent: ((ev: OrderEvent) => void) | undefined;
  startedAtMs = 0;
  /** true while the strategy runs from the event path (decide / tick-to-trade hops are measured there only) */
  private inBookEvent = false;
  /** when the event path handed the current book update to the strategy (ns) */
  private bookNs = 0;

  constructor(o: EngineOptions) {
    this.config = o.config;
    // the per-transport order-hop histograms exist before the first order (their first record would allocate)
    for (const ins of o.instruments) {
      for (const hop of [Hop.Sign, Hop.Write, Hop.Ack, Hop.Fill, Hop.TickToTrade]) {
        o.hops.prepare(hop, VENUE_INDEX[ins.venue], Transport.Ws);
        o.hops.prepare(hop, VENUE_INDEX[ins.venue], Transport.Rest);
      }
    }
    this.writeAhead = o.config.persistence.intentWriteAhead;
    this.state = o.state;
    this.instruments = o.instruments;
    this.entry = o.entry;
    this.hops = o.hops;
    this.journal = o.journal;
    this.log = o.logger;
    this.ids = o.ids ?? new OrderIds();
    this.ledger = o.ledger ?? new Ledger(o.instruments, o.state.slots);
    for (const ins of o.instruments) {
      this.slotIndex.set(`${ins.venue}:${ins.symbol}`, ins.slot);
      this.bySlot[ins.slot] = ins;
    }
    const ledger = this.ledger;
    this.risk = new PreTradeRisk(o.state, o.instruments, { position: ledger.position, openBuyQty: ledger.openBuyQty, openSellQty: ledger.openSellQty, openOrders: () => ledger.openCount() }, o.config.risk);
    this.rateRing = new Float64Array(256).fill(-Infinity);
    this.rateRej = new Uint8Array(256);
    // nothing is sent before start(): the run starts the engine last, once every other part is up
    this.risk.notStarted = true;
    this.runner = o.strategy ? new StrategyRunner(o.strategy, o.config.strategy.maxErrors) : undefined;
    if (this.runner) {
      this.runner.onDisabled = (why) => {
        this.log?.error({ why }, 'strategy disabled');
        this.cancelAll();
      };
    }
    this.loop = new HotLoop(
      {
        onTick: (now) => {
          if (this.trading === 'running') this.runner?.tick(now);
        },
        onBook: (slot) => {
          if (this.trading !== 'running' || !this.runner) return;
          // BotState was written just before this call (the feed's commit/ticker): Decide starts here
          this.bookNs = nowNs();
          this.inBookEvent = true;
          this.runner.book(slot);
          this.inBookEvent = false;
        },
      },
      { mode: o.config.loop.mode, periodMs: o.config.loop.periodMs, spinUs: o.config.loop.spinUs, hops: o.hops },
      o.state.slots,
    );
    o.entry.setSink(this);
  }

  /** Start the strategy and the loop (call after recovery/reconciliation). */
  start(): void {
    this.startedAtMs = wallNowMs();
    this.risk.notStarted = false;
    if (this.runner) {
      const ctx: StrategyContext = {
        state: this.state,
        orders: this,
        portfolio: this,
        instruments: this.bySlot,
        slotOf: (v, s) => this.slotIndex.get(`${v}:${s}`) ?? -1,
      };
      try {
        this.runner.strategy.start?.(ctx);
      } catch (e) {
        this.runner.disabled = true;
        this.runner.lastError = (e as Error).message;
        this.log?.error({ err: (e as Error).message }, 'strategy failed to start');
      }
    }
    this.loop.start();
    if (this.journal) {
      this.snapTimer = setInterval(() => this.snapshot(), this.config.persistence.snapshotIntervalMs);
      this.snapTimer.unref();
    }
  }

  /** Adapter hook: a book was written into BotState. */
  onBookUpdate(slot: number): void {
    this.loop.onBookUpdate(slot);
  }

  instrument(slot: number): Instrument | undefined {
    return this.bySlot[slot];
  }

  slotOf(venue: string, symbol: string): number {
    return this.slotIndex.get(`${venue}:${symbol}`) ?? -1;
  }

  // ---- PortfolioView
  position(slot: number): number {
    return this.ledger.position[slot] ?? 0;
  }
  openOrders(slot: number): number {
    return this.ledger.openPerSlot[slot] ?? 0;
  }

  // ---- OrderApi (the strategy's)
  place(req: OrderRequest): string | null {
    return this.send(req, false);
  }

  /** Manual order from the control plane: passes a stopped strategy, never the kill switch or limits. */
  placeManual(req: OrderRequest): { id: string | null; refusal: Refusal } {
    const id = this.send(req, true);
    return { id, refusal: id === null ? this.lastRefusal : Refusal.None };
  }

  lastRefusal: Refusal = Refusal.None;
  private readonly writeAhead: boolean;
  /** fault point for the crash tests: SIGKILL right after the Nth order's send, before its write-behind intent */
  private readonly killAfterSend: number = Number(process.env['TICKWIRE_FAULT_KILL_AFTER_SEND'] ?? 0) || -1;

  /** The order's intent: a preformatted line, one write(2) (no record object, no JSON.stringify). */
  private journalIntent(id: string, ins: Instrument, req: OrderRequest, manual: boolean): void {
    this.journal?.appendIntentNow(id, ins.venue, ins.symbol, req.side, req.type, req.tif, req.price, req.qty, manual, Date.now());
  }

  private send(req: OrderRequest, manual: boolean): string | null {
    const t0 = nowNs();
    const r = this.risk.check(req, t0, manual);
    const t1 = nowNs();
    const ins = this.bySlot[req.slot];
    const v = ins ? VENUE_INDEX[ins.venue] : 0;
    this.hops.record(Hop.Risk, v, t1 - t0);
    if (r !== Refusal.None || !ins) {
      this.lastRefusal = r;
      return null;
    }
    const recv = this.inBookEvent ? this.state.get(req.slot, F.localRecvNs) : 0;
    // BotState written -> strategy decided (the order request reached the engine)
    if (recv > 0) this.hops.record(Hop.Decide, v, t0 - this.bookNs);
    const id = this.ids.next();
    this.ledger.intent(id, req, t1, manual);
    // the intent goes before the send (write-ahead) or, by default, right after it in this same turn
    // (write-behind: see persistence.intentWriteAhead)
    const ahead = this.writeAhead;
    if (ahead) this.journalIntent(id, ins, req, manual);
    this.ordersSent++;
    this.noteSend(false);
    try {
      this.entry.place(id, ins, req);
      if (this.ordersSent === this.killAfterSend) process.kill(process.pid, 'SIGKILL'); // fault point (tests)
      if (!ahead) this.journalIntent(id, ins, req, manual);
    } catch (e) {
      // nothing was sent: close the intent so it does not hold exposure, and tell the caller
      this.ledger.close(id, 'REJECTED');
      if (!ahead) this.journalIntent(id, ins, req, manual);
      this.journal?.append({ t: 'close', id, st: 'REJECTED', why: `send failed: ${(e as Error).message}`, ms: Date.now() });
      this.rejects++;
      this.rejectsByReason.set('SEND_FAILED', (this.rejectsByReason.get('SEND_FAILED') ?? 0) + 1);
      this.log?.error({ id, err: (e as Error).message }, 'order send failed');
      this.lastRefusal = Refusal.None;
      return null;
    }
    const t2 = nowNs();
    // per order transport when the order layer says which one carried it (the WS gateways fall back to REST)
    if (recv > 0) this.hops.recordVia(Hop.TickToTrade, v, this.entry.lastSendVia ?? 0, t2 - recv);
    return id;
  }

  cancel(clientOrderId: string): boolean {
    const o = this.ledger.orders.get(clientOrderId);
    if (!o) return false;
    const ins = this.instrument(o.slot);
    if (!ins) return false;
    if (o.state !== 'CANCEL_PENDING') {
      o.state = 'CANCEL_PENDING';
      this.cancelsSent++;
      const recv = this.inBookEvent ? this.state.get(o.slot, F.localRecvNs) : 0;
      this.entry.cancel(clientOrderId, ins);
      // a requote starts with a cancel: frame received -> cancel bytes written is this reaction's tick-to-trade
      if (recv > 0) this.hops.record(Hop.TickToTrade, VENUE_INDEX[ins.venue], nowNs() - recv);
    }
    return true;
  }

  cancelAll(slot?: number): void {
    for (const o of this.ledger.orders.values()) if (slot === undefined || o.slot === slot) this.cancel(o.id);
  }

  /**
   * Change a live order's price/quantity in place. Never adds exposure: a larger quantity is refused (cancel and
   * place a new order, which passes every risk check); refused once trading is stopped (strategy orders) or killed.
   */
  amend(clientOrderId: string, price: number, qty: number): boolean {
    const o = this.ledger.orders.get(clientOrderId);
    const ins = o ? this.instrument(o.slot) : undefined;
    if (!o || !ins || this.trading === 'killed' || (this.trading === 'stopped' && !o.manual)) return false;
    if (!(qty > 0) || qty > o.qty || !(price > 0 || o.type === 'MARKET')) return false;
    // a new limit price passes the same price band as a new order
    if (o.type === 'LIMIT' && price !== o.price && (this.lastRefusal = this.risk.checkAmendPrice(o.slot, price)) !== Refusal.None) return false;
    return this.entry.amend(clientOrderId, ins, price, qty);
  }

  // ---- OrderEventSink
  onOrderEvent(ev: OrderEvent): void {
    const o = this.ledger.orders.get(ev.clientOrderId);
    const now = nowNs();
    const v = VENUE_INDEX[ev.venue] ?? 0;
    switch (ev.kind) {
      case 'ack':
        this.acks++;
        if (o && o.sentNs > 0 && !this.entry.recordsOrderHops) this.hops.record(Hop.Ack, v, now - o.sentNs);
        break;
      case 'reject':
        this.rejects++;
        this.noteSend(true);
        this.rejectsByReason.set(ev.reason || String(ev.code), (this.rejectsByReason.get(ev.reason || String(ev.code)) ?? 0) + 1);
        break;
      case 'fill':
        if (o && o.sentNs > 0 && o.filled === 0 && !this.entry.recordsOrderHops) this.hops.record(Hop.Fill, v, now - o.sentNs);
        break;
      case 'cancel':
        this.cancels++;
        break;
      case 'expire':
        this.expires++;
        break;
      case 'cancelReject':
        this.cancelRejects++;
        // the order is still live: let the strategy retry
        if (o && o.state === 'CANCEL_PENDING') o.state = 'ACKED';
        break;
      default:
        break;
    }
    if (ev.kind !== 'cancelReject') this.ledger.apply(ev);
    this.journal?.append({
      t: 'event', id: ev.clientOrderId, v: ev.venue, s: ev.symbol, k: ev.kind, st: ev.state, x: ev.exchangeOrderId, tid: ev.tradeId,
      px: ev.fillPrice, qty: ev.fillQty, cum: ev.cumQty, fee: ev.fee, fa: ev.feeAsset, ms: ev.exchTimeMs,
      // an amend's new price/quantity, so that replay changes the order (and its exposure) as live trading did
      ...(ev.kind === 'amend' && ev.orderQty > 0 ? { op: ev.orderPrice, oq: ev.orderQty } : {}),
    });
    this.runner?.orderEvent(ev);
    this.onAfterEvent?.(ev);
  }

  private noteSend(reject: boolean): void {
    this.rateRing[this.ratePos] = nowNs();
    this.rateRej[this.ratePos] = reject ? 1 : 0;
    this.ratePos = (this.ratePos + 1) & 255;
  }

  /** Rejects / sends within the window (for the reject-rate trigger). */
  rejectRate(windowMs: number): { sends: number; rejects: number } {
    const since = nowNs() - windowMs * 1e6;
    let sends = 0;
    let rejects = 0;
    for (let i = 0; i < 256; i++) {
      if ((this.rateRing[i] as number) >= since) {
        if (this.rateRej[i] === 1) rejects++;
        else sends++;
      }
    }
    return { sends, rejects };
  }

  pnl(): number {
    return this.ledger.pnl((s) => this.state.get(s, F.mid));
  }

  stopTrading(): void {
    if (this.trading === 'killed') return;
    this.trading = 'stopped';
    this.risk.stopped = true;
  }

  startTrading(): boolean {
    if (this.trading === 'killed') return false;
    this.trading = 'running';
    this.risk.stopped = false;
    this.runner?.reset();
    return true;
  }

  /** Kill switch: refuse everything from now on (the kill switch then cancels). */
  block(): void {
    this.trading = 'killed';
    this.risk.killed = true;
    this.runner?.strategy.stop?.();
  }

  snapshot(): void {
    const j = this.journal;
    if (!j || j.closed) return;
    try {
      j.flush();
      writeSnapshot(this.config.persistence.dir, { version: 1, journalOffset: j.size, writtenAtMs: Date.now(), ledger: this.ledger.snapshot(), nextId: this.ids.peekNext() });
    } catch (e) {
      this.log?.error({ err: (e as Error).message }, 'snapshot failed');
    }
  }

  /** Stop the loop and timers; flush the journal (does not cancel orders). */
  shutdown(): void {
    this.loop.stop();
    if (this.snapTimer) clearInterval(this.snapTimer);
    this.snapshot();
    this.journal?.close();
  }

  status(): Record<string, unknown> {
    const positions: Record<string, number> = {};
    for (const ins of this.instruments) positions[`${ins.venue}:${ins.symbol}`] = this.ledger.positionReal(ins.slot);
    return {
      trading: this.trading,
      strategy: this.runner ? { name: this.runner.strategy.name, disabled: this.runner.disabled, errors: this.runner.errors, lastError: this.runner.lastError } : null,
      orders: { sent: this.ordersSent, open: this.ledger.openCount(), acks: this.acks, rejects: this.rejects, cancels: this.cancels, expires: this.expires, cancelRejects: this.cancelRejects },
      fills: this.ledger.fills,
      dupFills: this.ledger.dupFills,
      unknownFills: this.ledger.unknownFills,
      volumeQuote: this.ledger.volumeQuote,
      positions,
      pnl: this.pnl(),
      loop: { mode: this.loop.mode, ticks: this.loop.ticks, skipped: this.loop.skipped, bookEvents: this.loop.bookEvents, maxLatenessUs: this.loop.maxLatenessNs / 1000 },
      riskRefusals: this.risk.totalRefusals(),
      journal: this.journal ? { records: this.journal.records, bytes: this.journal.size, batches: this.journal.batches, fsyncs: this.journal.fsyncs, writeErrors: this.journal.writeErrors } : null,
    };
  }
}
