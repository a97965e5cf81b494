/**
 * Strategy interface. A strategy is a small synchronous object: the engine calls it from the hot loop
 * (`onTick`, every period), from the event path (`onBook(slot)`, right after an adapter updated a book) and on
 * every order event. It reads BotState and its positions, and acts through an `OrderApi` whose calls return at
 * once (the result arrives later as an OrderEvent). It cannot block the loop: no promises are awaited, and
 * exceptions are caught by the `StrategyRunner`, counted, and the strategy is disabled after `maxErrors`.
 */
import type { BotState } from '../model/botstate.js';
import type { Instrument } from '../model/types.js';
import type { AlgoEvent, OrderApi, OrderEvent } from '../model/orders.js';

/** Read access to the engine's own books: positions and open orders. */
export interface PortfolioView {
  /** signed position in quantity units of the slot's instrument */
  position(slot: number): number;
  /** open (not terminal) orders on the slot */
  openOrders(slot: number): number;
}

export interface StrategyContext {
  state: BotState;
  orders: OrderApi;
  portfolio: PortfolioView;
  /** instruments by slot */
  instruments: readonly Instrument[];
  /** slot of venue+symbol, or -1 */
  slotOf(venue: string, symbol: string): number;
}

export interface Strategy {
  readonly name: string;
  /** called once before the first tick */
  start?(ctx: StrategyContext): void;
  onTick(nowNs: number): void;
  onBook(slot: number): void;
  onOrderEvent(ev: OrderEvent): void;
  /** an update of one of its algo (conditional) orders (`orders.placeAlgo`); the order a trigger places then
   * arrives through onOrderEvent under the id `AlgoView.childId` names */
  onAlgoEvent?(ev: AlgoEvent): void;
  /** new parameters (control plane `reload`); validated by the caller */
  setParams?(params: unknown): void;
  /** the strategy is being stopped or disabled: drop local quote state (the engine cancels the orders) */
  stop?(): void;
}

/** Guards a strategy: exceptions caught and counted; disabled after maxErrors. */
export class StrategyRunner {
  errors = 0;
  disabled = false;
  lastError = '';
  /** called once when the runner disables the strategy (the engine cancels its orders) */
  onDisabled: ((why: string) => void) | undefined;

  constructor(
    readonly strategy: Strategy,
    readonly maxErrors: number,
  ) {}

  private fail(e: unknown): void {
    this.errors++;
    this.lastError = e instanceof Error ? e.message : String(e);
    if (this.errors >= this.maxErrors && !this.disabled) {
      this.disabled = true;
      try {
        this.strategy.stop?.();
      } catch {
        /* already failing */
      }
      this.onDisabled?.(`strategy ${this.strategy.name} disabled after ${this.errors} errors; last: ${this.lastError}`);
    }
  }

  tick(nowNs: number): void {
    if (this.disabled) return;
    try {
      this.strategy.onTick(nowNs);
    } catch (e) {
      this.fail(e);
    }
  }

  book(slot: number): void {
    if (this.disabled) return;
    try {
      this.strategy.onBook(slot);
    } catch (e) {
      this.fail(e);
    }
  }

  orderEvent(ev: OrderEvent): void {
    if (this.disabled) return;
    try {
      this.strategy.onOrderEvent(ev);
    } catch (e) {
      this.fail(e);
    }
  }

  algoEvent(ev: AlgoEvent): void {
    if (this.disabled || !this.strategy.onAlgoEvent) return;
    try {
      this.strategy.onAlgoEvent(ev);
    } catch (e) {
      this.fail(e);
    }
  }

  /** re-enable after an operator fixed the cause (control plane `start`) */
  reset(): void {
    this.errors = 0;
    this.disabled = false;
  }
}
