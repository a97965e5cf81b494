/**
 * The Strategy interface: the public API of a strategy, shipped or plug-in (`tickwire run --strategy FILE`, see
 * docs/strategy-guide.md; a project that installs tickwire imports these types from 'tickwire').
 *
 * A strategy is a small synchronous object. The engine calls it from the hot loop (`onTick`, every period), from
 * the event path (`onBook(slot)`, right after a book changed in BotState) and on every order event (`onOrderEvent`,
 * then the per-kind handler: `onAck`, `onFill`, `onCancel`, `onReject`). Every handler is optional. It reads markets,
 * positions, open orders and risk headroom through its `StrategyContext`, and acts through `ctx.orders`, whose calls
 * return at once (the outcome arrives later as an OrderEvent). It cannot block the loop: nothing is awaited.
 *
 * Fail closed: an exception in a handler is caught by the `StrategyRunner`, counted and logged; at
 * `strategy.maxErrors` (default 1) the strategy is halted: trading stops, its orders are cancelled, an operator
 * restarts it (control plane `start`). An exception in `start` is a failed start (no order, exit 1).
 */
import type { BotState } from '../model/botstate.js';
import type { Instrument, Side } from '../model/types.js';
import type { AlgoEvent, OrderApi, OrderEvent, OrderView } from '../model/orders.js';

/** Read access to the engine's own books: positions and open orders. */
export interface PortfolioView {
  /** signed position in quantity units of the slot's instrument */
  position(slot: number): number;
  /** open (not terminal) orders on the slot */
  openOrders(slot: number): number;
}

/** Top of book of one slot, in the instrument's price / quantity units (0 when the book has no such side). */
export interface TopOfBook {
  bidPx: number;
  bidQty: number;
  askPx: number;
  askQty: number;
  /** (bid + ask) / 2, may end in .5 */
  mid: number;
  /** synced, fresh, not crossed, not halted: orders on it can pass risk */
  tradable: boolean;
  /** exchange time of the last applied update, epoch ms */
  exchEventMs: number;
  /** book updates applied so far (changes when the book changed) */
  updates: number;
}

/** Market reads. Nothing here allocates: `top` fills and returns the slot's own object (read it now, copy what you keep). */
export interface MarketView {
  top(slot: number): Readonly<TopOfBook>;
  tradable(slot: number): boolean;
  /**
   * Levels from the best one outwards: fills `outPx[i]` / `outQty[i]` (price / quantity units) for up to `n` levels
   * and returns how many it filled; 0 when the book is not tradable or the venue's wiring has no depth (paper).
   */
  depth(slot: number, side: 'bid' | 'ask', n: number, outPx: Float64Array | number[], outQty: Float64Array | number[]): number;
}

/**
 * Pre-trade risk, seen from the strategy: how much it may still ask for before risk refuses. An order inside the
 * headroom can still be refused by the other checks (price band, minimums, rate, a book that is not tradable).
 */
export interface RiskView {
  /**
   * Quantity units (whole lots) one more order on `side` may have: the smallest room left under
   * `risk.maxOrderQty`, `risk.maxOrderNotional`, `risk.maxPositionPerSymbol` (position + open orders on that side)
   * and `risk.maxTotalNotional`, at the current mid. 0 when nothing is left.
   */
  headroom(slot: number, side: Side): number;
  /** more open orders allowed before `risk.maxOpenOrders` */
  openOrdersLeft(): number;
  /** strategy orders still allowed within the current sliding second (`risk.maxOrdersPerSecond`) */
  ordersLeftThisSecond(): number;
}

/** Logging from a strategy: asynchronous (pino), never on the hot path's clock; fields are redacted like every log line. */
export interface StrategyLog {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export interface StrategyContext {
  /** the raw market struct (fields `F` of src/model/botstate.ts); `market` reads the same numbers */
  state: BotState;
  /** place, cancel, cancelAll, amend (algo orders: see docs/strategy-guide.md) */
  orders: OrderApi;
  portfolio: PortfolioView;
  market: MarketView;
  risk: RiskView;
  /** the order owner's record of one order (read-only), undefined when it does not know the id */
  order(clientOrderId: string): OrderView | undefined;
  /** instruments by slot */
  instruments: readonly Instrument[];
  /** slot of venue+symbol, or -1 */
  slotOf(venue: string, symbol: string): number;
  log: StrategyLog;
}

export interface Strategy {
  readonly name: string;
  /**
   * called once when trading starts, before the first event: resolve slots, check parameters. Orders asked for here
   * are refused (`not_started`): place from the first event. Throwing here fails the start (exit 1, no order).
   */
  start?(ctx: StrategyContext): void;
  /** the loop's tick (every `loop.periodMs`); `nowNs` is the monotonic clock of src/util/clock.ts */
  onTick?(nowNs: number): void;
  /** the book of `slot` changed (BotState is already written) */
  onBook?(slot: number): void;
  /** every order event of its orders (the event carries the owner's state after it); the object is reused: copy what you keep */
  onOrderEvent?(ev: OrderEvent): void;
  /** after `onOrderEvent`, by kind: the venue accepted the order */
  onAck?(ev: OrderEvent): void;
  /** a (partial) fill: `ev.fillQty` at `ev.fillPrice`, `ev.state` says whether the order is done */
  onFill?(ev: OrderEvent): void;
  /** the order ended without (more) fills: cancelled (by anyone) or expired (IOC / FOK) */
  onCancel?(ev: OrderEvent): void;
  /** the venue refused the order (`ev.code`, `ev.reason`) */
  onReject?(ev: OrderEvent): void;
  /** an update of one of its algo (conditional) orders (`orders.placeAlgo`); the order a trigger places then
   * arrives through onOrderEvent under the id `AlgoView.childId` names */
  onAlgoEvent?(ev: AlgoEvent): void;
  /** new parameters (control plane `reload`); throw to refuse them (the reload fails, the old ones stay) */
  setParams?(params: unknown): void;
  /** the strategy is being stopped or halted: drop local quote state (the engine cancels the orders) */
  stop?(): void;
}

/**
 * How a plug-in module builds its strategy: the module's default export (or its named export `createStrategy`) is
 * a factory called with `strategy.params`, a class constructed with them, or a strategy object.
 */
export type StrategyFactory<P = unknown> = (params: P) => Strategy;

/** Guards a strategy: exceptions caught, counted and reported (`onError`); halted after maxErrors. */
export class StrategyRunner {
  /** exceptions since the last reset */
  errors = 0;
  /** exceptions since start (never reset: the /metrics counter) */
  errorsTotal = 0;
  disabled = false;
  /** the run ended (`end`): no more calls */
  ended = false;
  lastError = '';
  /** called once when the runner disables the strategy (the engine stops trading and cancels its orders) */
  onDisabled: ((why: string) => void) | undefined;
  /** called for every exception (the engine logs them, rate limited) */
  onError: ((err: unknown, where: string) => void) | undefined;

  constructor(
    readonly strategy: Strategy,
    readonly maxErrors: number,
  ) {}

  private fail(e: unknown, where: string): void {
    this.errors++;
    this.errorsTotal++;
    this.lastError = `${where}: ${e instanceof Error ? e.message : String(e)}`;
    this.onError?.(e, where);
    if (this.errors >= this.maxErrors && !this.disabled) {
      this.disabled = true;
      try {
        this.strategy.stop?.();
      } catch {
        /* already failing */
      }
      this.onDisabled?.(`strategy ${this.strategy.name} halted after ${this.errors} error(s); last: ${this.lastError}`);
    }
  }

  tick(nowNs: number): void {
    if (this.disabled || this.ended) return;
    try {
      this.strategy.onTick?.(nowNs);
    } catch (e) {
      this.fail(e, 'onTick');
    }
  }

  book(slot: number): void {
    if (this.disabled || this.ended) return;
    try {
      this.strategy.onBook?.(slot);
    } catch (e) {
      this.fail(e, 'onBook');
    }
  }

  orderEvent(ev: OrderEvent): void {
    if (this.disabled || this.ended) return;
    const s = this.strategy;
    try {
      s.onOrderEvent?.(ev);
      switch (ev.kind) {
        case 'ack':
          s.onAck?.(ev);
          break;
        case 'fill':
          s.onFill?.(ev);
          break;
        case 'cancel':
        case 'expire':
          s.onCancel?.(ev);
          break;
        case 'reject':
          s.onReject?.(ev);
          break;
        default:
          break;
      }
    } catch (e) {
      this.fail(e, 'onOrderEvent');
    }
  }

  /** The run ends (graceful stop): the strategy's `stop`, once; an exception there is counted and logged, nothing more. */
  end(): void {
    if (this.disabled || this.ended) return; // a halted strategy was stopped when it was halted
    this.ended = true;
    try {
      this.strategy.stop?.();
    } catch (e) {
      this.errorsTotal++;
      this.onError?.(e, 'stop');
    }
  }

  algoEvent(ev: AlgoEvent): void {
    if (this.disabled || this.ended || !this.strategy.onAlgoEvent) return;
    try {
      this.strategy.onAlgoEvent(ev);
    } catch (e) {
      this.fail(e, 'onAlgoEvent');
    }
  }

  /** re-enable after an operator fixed the cause (control plane `start`) */
  reset(): void {
    this.errors = 0;
    this.disabled = false;
  }
}
