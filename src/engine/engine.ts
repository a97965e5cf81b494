/**
 * The engine: BotState + hot loop + strategy + pre-trade risk + journal, in front of the order owner.
 *
 * Data flow: adapters write BotState and call `onBookUpdate(slot)` (event path -> strategy.onBook); the loop
 * calls strategy.onTick every period; the strategy calls this object's `OrderApi` (risk check, then the owner's
 * intent, the journal's intent record and the owner's send); the owner (src/orders OrderManager + OrderStore: the
 * one record of every order, the one portfolio) calls `onOrderEvent` with the events it applied (journal,
 * counters, strategy). The engine never changes an order or a position itself: it asks the owner and reads it.
 *
 * Trading states: `running` (strategy orders allowed), `stopped` (strategy not called, its orders refused; open
 * orders stay), `killed` (everything refused, see killswitch.ts). Manual orders (control plane) pass `stopped`.
 */
import type { BotState } from '../model/botstate.js';
import { F } from '../model/botstate.js';
import type { Instrument } from '../model/types.js';
import { VENUE_INDEX } from '../model/types.js';
import type { AlgoEvent, AlgoRequest, AlgoView, OrderApi, OrderEvent, OrderEventSink, OrderRequest } from '../model/orders.js';
import { isAlgoTerminal } from '../orders/algo.js';
import { Hop, Transport, type HopRecorder } from '../util/hops.js';
import { nowNs, wallNowMs } from '../util/clock.js';
import { HotLoop } from './loop.js';
import type { OrderIds } from '../model/ids.js';
import type { OrderManager } from '../orders/manager.js';
import type { OrderView, OwnerReads } from '../orders/state.js';
import { isTerminal } from '../orders/state.js';
import type { Portfolio } from '../orders/portfolio.js';
import { PreTradeRisk, Refusal } from '../risk/pretrade.js';
import { StrategyRunner, type PortfolioView, type Strategy, type StrategyContext } from '../strategy/types.js';
import { strategyContext, type DepthSource } from '../strategy/context.js';
import type { Config } from '../config/schema.js';
import type { Journal } from '../persist/journal.js';
import { writeSnapshot } from '../persist/snapshot.js';
import type { Logger } from '../util/log.js';

export interface EngineOptions {
  config: Config;
  state: BotState;
  instruments: Instrument[];
  /** the order owner (its gateways: networked venues or the paper venue) */
  orders: OrderManager;
  hops: HopRecorder;
  journal?: Journal | undefined;
  strategy?: Strategy | undefined;
  logger?: Logger | undefined;
  /** the L2 book of a slot, for the strategy's depth reads (the networked wiring has them) */
  books?: ((slot: number) => DepthSource | undefined) | undefined;
  /**
   * A backtest's virtual clock (ns): risk's order-rate windows, the reject-rate window and the loop's ticks read it,
   * and the loop runs no timers (the backtest calls `loop.runDue()`). Latency hops keep the monotonic clock.
   */
  virtualClock?: (() => number) | undefined;
}

export type TradingState = 'running' | 'stopped' | 'killed';

export class Engine implements OrderApi, OrderEventSink, PortfolioView {
  readonly state: BotState;
  readonly instruments: Instrument[];
  /** the order owner: every order change goes through it */
  readonly orders: OrderManager;
  /** its records (read-only here) */
  readonly store: OwnerReads;
  /** its portfolio (read-only here): positions, cash, fees, open exposure */
  readonly portfolio: Portfolio;
  readonly hops: HopRecorder;
  readonly loop: HotLoop;
  readonly risk: PreTradeRisk;
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
  private readonly books: ((slot: number) => DepthSource | undefined) | undefined;
  /** the strategy's context (set by start) */
  context: StrategyContext | undefined;
  /** true while the strategy runs from the event path (decide / tick-to-trade hops are measured there only) */
  private inBookEvent = false;
  /** when the event path handed the current book update to the strategy (ns) */
  private bookNs = 0;
  /** decision time (risk and reject-rate windows): the backtest's virtual clock, else the monotonic clock */
  private readonly decisionNow: () => number;

  constructor(o: EngineOptions) {
    this.config = o.config;
    this.decisionNow = o.virtualClock ?? nowNs;
    // the per-transport order-hop histograms exist before the first order (their first record would allocate)
    for (const ins of o.instruments) {
      for (const hop of [Hop.Sign, Hop.Write, Hop.Ack, Hop.Fill, Hop.TickToTrade, Hop.SocketToSend]) {
        o.hops.prepare(hop, VENUE_INDEX[ins.venue], Transport.Ws);
        o.hops.prepare(hop, VENUE_INDEX[ins.venue], Transport.Rest);
      }
    }
    this.writeAhead = o.config.persistence.intentWriteAhead;
    this.state = o.state;
    this.instruments = o.instruments;
    this.orders = o.orders;
    this.store = o.orders.store;
    this.portfolio = o.orders.portfolio;
    // third-asset fees (BNB) are valued at the mid of a configured instrument that prices them (src/orders/portfolio.ts)
    this.portfolio.markOf = (slot) => this.state.get(slot, F.mid);
    this.hops = o.hops;
    this.journal = o.journal;
    this.log = o.logger;
    this.ids = o.orders.ids;
    o.orders.useHops(o.hops);
    for (const ins of o.instruments) {
      this.slotIndex.set(`${ins.venue}:${ins.symbol}`, ins.slot);
      this.bySlot[ins.slot] = ins;
    }
    const p = this.portfolio;
    if (p.slots < o.state.slots) throw new Error(`order owner has ${p.slots} slots, BotState ${o.state.slots}`);
    this.risk = new PreTradeRisk(
      o.state,
      o.instruments,
      { position: p.position, openBuyQty: p.openBuyQty, openSellQty: p.openSellQty, openOrders: () => p.open },
      o.config.risk,
    );
    this.rateRing = new Float64Array(256).fill(-Infinity);
    this.rateRej = new Uint8Array(256);
    // nothing is sent before start(): the run starts the engine last, once every other part is up
    this.risk.notStarted = true;
    this.runner = o.strategy ? new StrategyRunner(o.strategy, o.config.strategy.maxErrors) : undefined;
    this.books = o.books;
    if (this.runner) {
      const runner = this.runner;
      // fail closed: a strategy that throws is halted (trading stopped, its orders cancelled) at strategy.maxErrors
      runner.onDisabled = (why) => {
        this.log?.error({ why }, 'strategy halted: trading stopped, cancelling its orders (control plane `start` resumes)');
        this.stopTrading();
        this.cancelAll();
      };
      // every exception counted (tickwire_strategy_errors_total); the first ten logged with their stack, then one in 1000
      runner.onError = (err, where) => {
        const n = runner.errorsTotal;
        if (n <= 10 || n % 1000 === 0)
          this.log?.error(
            { strategy: runner.strategy.name, where, count: n, err: err instanceof Error ? (err.stack ?? err.message) : String(err) },
            'strategy threw',
          );
      };
    }
    this.loop = new HotLoop(
      {
        onTick: (now) => {
          if (this.trading === 'running') this.runner?.tick(now);
        },
        ...(o.config.loop.mode === 'busy' && o.config.loop.warmUs > 0 ? { onIdle: (now: number) => this.keepWarm(now) } : {}),
        onBook: (slot) => {
          if (this.trading !== 'running' || !this.runner) return;
          // BotState was written just before this call (the feed's commit/ticker): Decide starts here
          this.bookNs = nowNs();
          this.inBookEvent = true;
          this.runner.book(slot);
          this.inBookEvent = false;
        },
      },
      o.virtualClock
        ? { mode: o.config.loop.mode, periodMs: o.config.loop.periodMs, clock: o.virtualClock, external: true }
        : { mode: o.config.loop.mode, periodMs: o.config.loop.periodMs, spinUs: o.config.loop.spinUs, hops: o.hops },
      o.state.slots,
    );
    o.orders.subscribe(this);
  }

  /** keep-warm (busy mode, loop.warmUs): last warm-up, ns; next instrument (round robin over bySlot) */
  private warmAtNs = 0;
  private warmNext = 0;
  /** never-sent orders built to keep the order path hot */
  warmups = 0;

  /** Busy-poll idle turn: every loop.warmUs, build and sign a never-sent order for the next instrument. */
  private keepWarm(now: number): void {
    if (this.trading !== 'running' || now - this.warmAtNs < this.config.loop.warmUs * 1000) return;
    this.warmAtNs = now;
    const n = this.bySlot.length;
    for (let i = 0; i < n; i++) {
      const ins = this.bySlot[(this.warmNext + i) % n];
      if (ins === undefined) continue;
      this.warmNext = (this.warmNext + i + 1) % n;
      this.orders.warm(ins.venue, ins.symbol);
      this.warmups++;
      return;
    }
  }

  /**
   * Start the strategy and the loop (call after recovery/reconciliation). Fail closed: a strategy whose `start`
   * throws is a failed start: the engine refuses every order again and the error goes to the caller (`tickwire run`
   * cancels what is open and exits 1 naming the step).
   */
  start(): void {
    this.startedAtMs = wallNowMs();
    if (this.runner) {
      const ctx = this.strategyContext();
      this.context = ctx;
      // risk still refuses every order (not_started) while start() runs: a start that throws leaves nothing behind
      try {
        this.runner.strategy.start?.(ctx);
      } catch (e) {
        this.runner.disabled = true;
        this.runner.lastError = `start: ${(e as Error).message}`;
        this.log?.error({ strategy: this.runner.strategy.name, err: (e as Error).stack ?? (e as Error).message }, 'strategy failed to start');
        throw e;
      }
    }
    this.risk.notStarted = false;
    this.loop.start();
    if (this.journal) {
      this.snapTimer = setInterval(() => this.snapshot(), this.config.persistence.snapshotIntervalMs);
      this.snapTimer.unref();
    }
  }

  /** The strategy's view of this engine (src/strategy/context.ts): markets, orders, positions, risk headroom, a log. */
  private strategyContext(): StrategyContext {
    const log = this.log?.child({ strategy: this.runner?.strategy.name ?? '' });
    const risk = this.risk;
    return strategyContext({
      state: this.state,
      orders: this,
      portfolio: this,
      instruments: this.bySlot,
      slotOf: (v, s) => this.slotIndex.get(`${v}:${s}`) ?? -1,
      order: (id) => this.orders.order(id),
      risk: {
        headroom: (slot, side) => risk.headroom(slot, side),
        openOrdersLeft: () => risk.openOrdersLeft(),
        ordersLeftThisSecond: () => risk.ordersLeftThisSecond(this.decisionNow()),
      },
      ...(this.books ? { book: this.books } : {}),
      ...(log
        ? {
            log: {
              info: (msg: string, f?: Record<string, unknown>) => log.info(f ?? {}, msg),
              warn: (msg: string, f?: Record<string, unknown>) => log.warn(f ?? {}, msg),
              error: (msg: string, f?: Record<string, unknown>) => log.error(f ?? {}, msg),
            },
          }
        : {}),
    });
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
    return this.portfolio.position[slot] ?? 0;
  }
  openOrders(slot: number): number {
    return this.portfolio.openPerSlot[slot] ?? 0;
  }

  /** The owner's record of an order (read-only). */
  order(clientOrderId: string): OrderView | undefined {
    return this.orders.order(clientOrderId);
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
    const r = this.risk.check(req, this.decisionNow === nowNs ? t0 : this.decisionNow(), manual);
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
    const id = this.dispatch(ins, req, manual, t1);
    if (id === null) return null;
    const t2 = nowNs();
    // per order transport when the order layer says which one carried it (the WS gateways fall back to REST)
    if (recv > 0) {
      const via = this.orders.lastSentVia;
      this.hops.recordVia(Hop.TickToTrade, v, via, t2 - recv);
      // the engine's own part: up to the bytes handed to the socket layer (a send that waited is not in it)
      const sent = this.orders.lastSentNs;
      if (sent >= t0) this.hops.recordVia(Hop.SocketToSend, v, via, sent - recv);
    }
    return id;
  }

  /**
   * The one send path after risk (strategy, manual and kill-switch orders): the owner's intent, the journal's
   * intent record (before the send with persistence.intentWriteAhead, else right after it in this same turn), the
   * owner's send. A send that throws closes the intent through the owner (nothing was sent).
   */
  private dispatch(ins: Instrument, req: OrderRequest, manual: boolean, now: number): string | null {
    const o = this.orders.intent(req, manual, now);
    if (!o) {
      this.lastRefusal = Refusal.UnknownSlot;
      return null;
    }
    const id = o.clientOrderId;
    const ahead = this.writeAhead;
    if (ahead) this.journalIntent(id, ins, req, manual);
    this.ordersSent++;
    this.noteSend(false);
    try {
      this.orders.send(o);
      if (this.ordersSent === this.killAfterSend) process.kill(process.pid, 'SIGKILL'); // fault point (tests)
      if (!ahead) this.journalIntent(id, ins, req, manual);
    } catch (e) {
      // nothing was sent: close the intent so it does not hold exposure, and tell the caller
      if (!ahead) this.journalIntent(id, ins, req, manual);
      this.orders.close(id, 'REJECTED', `send failed: ${(e as Error).message}`);
      this.rejects++;
      this.rejectsByReason.set('SEND_FAILED', (this.rejectsByReason.get('SEND_FAILED') ?? 0) + 1);
      this.log?.error({ id, err: (e as Error).message }, 'order send failed');
      this.lastRefusal = Refusal.None;
      return null;
    }
    return id;
  }

  /**
   * The kill switch's flatten order: the same send path (owner, journal, gateway), past the kill switch's own block
   * and the strategy's limits, and only while the engine is killed. Refused (null) otherwise, or when it is not a
   * market order that closes (part of) the position.
   */
  sendFlatten(req: OrderRequest): string | null {
    const ins = this.bySlot[req.slot];
    const pos = this.portfolio.position[req.slot] ?? 0;
    const closes = (req.side === 'SELL' && pos > 0 && req.qty <= pos) || (req.side === 'BUY' && pos < 0 && req.qty <= -pos);
    if (this.trading !== 'killed' || !ins || req.type !== 'MARKET' || !(req.qty > 0) || !closes) {
      this.lastRefusal = Refusal.BadOrder;
      return null;
    }
    return this.dispatch(ins, req, true, nowNs());
  }

  cancel(clientOrderId: string): boolean {
    const o = this.orders.order(clientOrderId);
    if (!o || isTerminal(o.state)) return false;
    // a cancel in flight is not sent again
    if (o.state === 'CANCEL_PENDING') return true;
    const recv = this.inBookEvent ? this.state.get(o.slot, F.localRecvNs) : 0;
    if (!this.orders.cancel(clientOrderId)) return false;
    this.cancelsSent++;
    // a requote starts with a cancel: frame received -> cancel bytes written is this reaction's tick-to-trade
    if (recv > 0) this.hops.record(Hop.TickToTrade, VENUE_INDEX[o.venue], nowNs() - recv);
    return true;
  }

  /** Cancel every open order and algo order, on one slot or everywhere. */
  cancelAll(slot?: number): void {
    for (const o of this.store.open()) if (slot === undefined || o.slot === slot) this.cancel(o.clientOrderId);
    for (const a of this.orders.algos.open()) if (slot === undefined || a.slot === slot) this.cancelAlgo(a.clientAlgoId);
  }

  // ---- algo (conditional) orders
  /**
   * A conditional order (stop / take-profit). Risk checks it as the market order its trigger will place (quantity,
   * notional at the touch, position and open-exposure limits, the order-rate budget, the kill switch, a stopped
   * strategy); a limit price once triggered must pass the price band. Its quantity then counts as open exposure until
   * it triggers. Null when refused (`lastRefusal`), also on a venue without algo orders (BadOrder).
   */
  placeAlgo(req: AlgoRequest): string | null {
    return this.sendAlgo(req, false);
  }

  /** Manual algo order from the control plane: passes a stopped strategy, never the kill switch or limits. */
  placeAlgoManual(req: AlgoRequest): { id: string | null; refusal: Refusal } {
    const id = this.sendAlgo(req, true);
    return { id, refusal: id === null ? this.lastRefusal : Refusal.None };
  }

  private sendAlgo(req: AlgoRequest, manual: boolean): string | null {
    const t0 = nowNs();
    if (!this.orders.algoSupported(req.slot) || !(req.triggerPrice > 0) || !Number.isSafeInteger(req.triggerPrice) || !(req.price >= 0)) {
      this.lastRefusal = this.risk.killed ? Refusal.KillSwitch : Refusal.BadOrder;
      return null;
    }
    const asOrder: OrderRequest = { slot: req.slot, side: req.side, type: 'MARKET', tif: 'IOC', price: 0, qty: req.qty, reduceOnly: req.reduceOnly === true };
    let r = this.risk.check(asOrder, this.decisionNow === nowNs ? t0 : this.decisionNow(), manual);
    if (r === Refusal.None && req.price > 0) r = this.risk.checkAmendPrice(req.slot, req.price);
    const ins = this.bySlot[req.slot];
    if (r !== Refusal.None || !ins) {
      this.lastRefusal = r;
      return null;
    }
    const a = this.orders.algoIntent(req, manual, t0);
    if (!a) {
      this.lastRefusal = Refusal.UnknownSlot;
      return null;
    }
    this.journal?.append({
      t: 'mark',
      what: `algo intent ${a.clientAlgoId}: ${ins.venue}:${ins.symbol} ${a.side} ${a.kind} qty ${a.qty} trigger ${a.triggerPrice} price ${a.price}${manual ? ' manual' : ''}`,
      ms: Date.now(),
    });
    this.ordersSent++;
    this.noteSend(false);
    this.orders.algoSend(a);
    return a.clientAlgoId;
  }

  cancelAlgo(clientAlgoId: string): boolean {
    const a = this.orders.algo(clientAlgoId);
    if (!a || isAlgoTerminal(a.state)) return false;
    if (a.state === 'CANCEL_PENDING') return true;
    if (!this.orders.cancelAlgo(clientAlgoId)) return false;
    this.cancelsSent++;
    return true;
  }

  /** The algo owner's record (read-only). */
  algo(clientAlgoId: string): AlgoView | undefined {
    return this.orders.algo(clientAlgoId);
  }

  /**
   * Change a live order's price/quantity in place. Never adds exposure: a larger quantity is refused (cancel and
   * place a new order, which passes every risk check); refused once trading is stopped (strategy orders) or killed.
   */
  amend(clientOrderId: string, price: number, qty: number): boolean {
    const o = this.orders.order(clientOrderId);
    if (!o || isTerminal(o.state) || this.trading === 'killed' || (this.trading === 'stopped' && !o.manual)) return false;
    if (!(qty > 0) || qty > o.qty || !(price > 0 || o.type === 'MARKET')) return false;
    // a new limit price passes the same price band as a new order
    if (o.type === 'LIMIT' && price !== o.price && (this.lastRefusal = this.risk.checkAmendPrice(o.slot, price)) !== Refusal.None) return false;
    return this.orders.amend(clientOrderId, price, qty);
  }

  // ---- OrderEventSink
  /** An event the owner applied (its state is the owner's state after it): counters, journal, strategy, hooks. */
  onOrderEvent(ev: OrderEvent): void {
    switch (ev.kind) {
      case 'ack':
        this.acks++;
        break;
      case 'reject':
        this.rejects++;
        this.noteSend(true);
        this.rejectsByReason.set(ev.reason || String(ev.code), (this.rejectsByReason.get(ev.reason || String(ev.code)) ?? 0) + 1);
        break;
      case 'cancel':
        this.cancels++;
        break;
      case 'expire':
        this.expires++;
        break;
      case 'cancelReject':
        // the order is still live, in the state the owner restored: the strategy may retry
        this.cancelRejects++;
        break;
      default:
        break;
    }
    this.journal?.append({
      t: 'event',
      id: ev.clientOrderId,
      v: ev.venue,
      s: ev.symbol,
      k: ev.kind,
      st: ev.state,
      x: ev.exchangeOrderId,
      tid: ev.tradeId,
      px: ev.fillPrice,
      qty: ev.fillQty,
      cum: ev.cumQty,
      fee: ev.fee,
      fa: ev.feeAsset,
      ms: ev.exchTimeMs,
      // an amend's new price/quantity, so that replay changes the order (and its exposure) as live trading did
      ...(ev.kind === 'amend' && ev.orderQty > 0 ? { op: ev.orderPrice, oq: ev.orderQty } : {}),
    });
    this.runner?.orderEvent(ev);
    this.onAfterEvent?.(ev);
  }

  /** An algo update the algo owner applied: journaled (a mark), counted, passed to the strategy. */
  onAlgoEvent(ev: AlgoEvent, a: AlgoView): void {
    if (ev.kind === 'reject') {
      this.rejects++;
      this.noteSend(true);
      this.rejectsByReason.set(ev.reason || String(ev.code), (this.rejectsByReason.get(ev.reason || String(ev.code)) ?? 0) + 1);
    } else if (ev.kind === 'cancel') this.cancels++;
    this.journal?.append({
      t: 'mark',
      what: `algo ${ev.clientAlgoId} ${ev.state} (${ev.source}${ev.algoId !== '' ? ' algoId ' + ev.algoId : ''}${a.childId !== '' ? ' order ' + a.childId : ''}${ev.code !== 0 ? ' code ' + ev.code + ' ' + ev.reason : ''}): ${ev.venue}:${ev.symbol}`,
      ms: Date.now(),
    });
    this.runner?.algoEvent(ev);
  }

  /** The owner took over an order found on the exchange: journaled, so that replay rebuilds it. */
  onAdopt(o: OrderView, why: string): void {
    this.journal?.append({
      t: 'adopt',
      id: o.clientOrderId,
      v: o.venue,
      s: o.symbol,
      side: o.side,
      type: o.type,
      tif: o.tif,
      px: o.price,
      qty: o.qty,
      filled: o.filledQty,
      st: o.state,
      x: o.exchangeOrderId,
      ms: Date.now(),
    });
    this.journal?.append({ t: 'mark', what: `${why}: ${o.venue}:${o.symbol}:${o.clientOrderId}`, ms: Date.now() });
  }

  /** The owner ended an order outside an event: journaled. */
  onClose(o: OrderView, why: string): void {
    this.journal?.append({ t: 'close', id: o.clientOrderId, st: o.state, why, ms: Date.now() });
  }

  private noteSend(reject: boolean): void {
    this.rateRing[this.ratePos] = this.decisionNow();
    this.rateRej[this.ratePos] = reject ? 1 : 0;
    this.ratePos = (this.ratePos + 1) & 255;
  }

  /** Rejects / sends within the window (for the reject-rate trigger). */
  rejectRate(windowMs: number): { sends: number; rejects: number } {
    const since = this.decisionNow() - windowMs * 1e6;
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
    return this.portfolio.pnl((s) => this.state.get(s, F.mid));
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
      writeSnapshot(this.config.persistence.dir, {
        version: 2,
        journalOffset: j.size,
        writtenAtMs: Date.now(),
        owner: this.store.snapshot(),
        nextId: this.ids.peekNext(),
      });
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
    for (const ins of this.instruments) positions[`${ins.venue}:${ins.symbol}`] = this.portfolio.positionReal(ins.slot);
    return {
      trading: this.trading,
      strategy: this.runner
        ? { name: this.runner.strategy.name, disabled: this.runner.disabled, errors: this.runner.errors, lastError: this.runner.lastError }
        : null,
      orders: {
        sent: this.ordersSent,
        open: this.store.openCount(),
        openAlgo: this.orders.algos.open().length,
        acks: this.acks,
        rejects: this.rejects,
        cancels: this.cancels,
        expires: this.expires,
        cancelRejects: this.cancelRejects,
      },
      fills: this.portfolio.fills,
      /** fees per commission asset (asset units) */
      fees: this.portfolio.feesByAsset(),
      dupFills: this.store.counts.duplicates,
      unknownFills: this.store.counts.unknownFills,
      volumeQuote: this.portfolio.volumeQuote,
      positions,
      pnl: this.pnl(),
      loop: {
        mode: this.loop.mode,
        ticks: this.loop.ticks,
        skipped: this.loop.skipped,
        bookEvents: this.loop.bookEvents,
        maxLatenessUs: this.loop.maxLatenessNs / 1000,
      },
      riskRefusals: this.risk.totalRefusals(),
      journal: this.journal
        ? {
            records: this.journal.records,
            bytes: this.journal.size,
            batches: this.journal.batches,
            fsyncs: this.journal.fsyncs,
            writeErrors: this.journal.writeErrors,
          }
        : null,
    };
  }
}
