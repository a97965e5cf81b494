/**
 * Builds a `StrategyContext` from its parts: the engine passes all of them; a unit test (or a trader testing a
 * strategy without an engine) passes the few it has and gets working defaults. The market view reads BotState
 * (one preallocated `TopOfBook` per slot: no allocation per read); depth comes from the wiring's L2 books when it has
 * them.
 */
import { F, type BotState } from '../model/botstate.js';
import type { Instrument } from '../model/types.js';
import type { OrderApi, OrderView } from '../model/orders.js';
import type { MarketView, PortfolioView, RiskView, StrategyContext, StrategyLog, TopOfBook } from './types.js';

/** What depth reads need of a book (src/book L2Book has it): levels from the best, into caller-owned arrays. */
export interface DepthSource {
  depth(side: 0 | 1, n: number, outPx: Float64Array | number[], outQty: Float64Array | number[]): number;
}

export interface ContextParts {
  state: BotState;
  orders: OrderApi;
  portfolio: PortfolioView;
  /** instruments by slot */
  instruments: readonly Instrument[];
  slotOf(venue: string, symbol: string): number;
  order?: (clientOrderId: string) => OrderView | undefined;
  risk?: RiskView;
  /** the L2 book of a slot (networked wiring), undefined where there is none */
  book?: (slot: number) => DepthSource | undefined;
  log?: StrategyLog;
}

const NO_LOG: StrategyLog = { info() {}, warn() {}, error() {} };
/** no risk to ask (unit tests): no limit */
const NO_RISK: RiskView = {
  headroom: () => Number.MAX_SAFE_INTEGER,
  openOrdersLeft: () => Number.MAX_SAFE_INTEGER,
  ordersLeftThisSecond: () => Number.MAX_SAFE_INTEGER,
};

class BotStateMarket implements MarketView {
  private readonly tops: TopOfBook[] = [];
  constructor(
    private readonly state: BotState,
    private readonly book: ((slot: number) => DepthSource | undefined) | undefined,
  ) {
    for (let s = 0; s < state.slots; s++) this.tops.push({ bidPx: 0, bidQty: 0, askPx: 0, askQty: 0, mid: 0, tradable: false, exchEventMs: 0, updates: 0 });
  }

  top(slot: number): Readonly<TopOfBook> {
    const t = this.tops[slot];
    if (t === undefined) throw new RangeError(`no slot ${slot}`);
    const s = this.state;
    t.bidPx = s.get(slot, F.bidPx);
    t.bidQty = s.get(slot, F.bidQty);
    t.askPx = s.get(slot, F.askPx);
    t.askQty = s.get(slot, F.askQty);
    t.mid = s.get(slot, F.mid);
    t.tradable = s.tradable(slot);
    t.exchEventMs = s.get(slot, F.exchEventMs);
    t.updates = s.get(slot, F.updates);
    return t;
  }

  tradable(slot: number): boolean {
    return slot >= 0 && slot < this.state.slots && this.state.tradable(slot);
  }

  depth(slot: number, side: 'bid' | 'ask', n: number, outPx: Float64Array | number[], outQty: Float64Array | number[]): number {
    if (!this.tradable(slot)) return 0;
    const b = this.book?.(slot);
    return b ? b.depth(side === 'bid' ? 0 : 1, n, outPx, outQty) : 0;
  }
}

export function strategyContext(p: ContextParts): StrategyContext {
  return {
    state: p.state,
    orders: p.orders,
    portfolio: p.portfolio,
    market: new BotStateMarket(p.state, p.book),
    risk: p.risk ?? NO_RISK,
    order: p.order ?? (() => undefined),
    instruments: p.instruments,
    slotOf: p.slotOf,
    log: p.log ?? NO_LOG,
  };
}
