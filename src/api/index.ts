/**
 * tickwire's public API: what `import { ... } from 'tickwire'` gives a project that installs it (package.json
 * `exports`, built into dist/src/api/ with its types). The Strategy interface and everything a strategy touches:
 * its context (markets, orders, positions, risk headroom, a log), the order contract, instruments, and helpers to
 * convert human prices and sizes into the integer units the engine speaks. docs/strategy-guide.md explains it.
 *
 * This module only re-exports: nothing inside src imports it (the layer rule in .dependency-cruiser.cjs), so the
 * public surface changes only here.
 */
export type {
  Strategy,
  StrategyContext,
  StrategyFactory,
  StrategyLog,
  MarketView,
  TopOfBook,
  RiskView,
  PortfolioView,
} from '../strategy/types.js';
export type { ContextParts, DepthSource } from '../strategy/context.js';
export type {
  OrderApi,
  OrderRequest,
  OrderEvent,
  OrderEventKind,
  OrderState,
  OrderType,
  TimeInForce,
  OrderView,
} from '../model/orders.js';
export type { Instrument, Side, VenueId } from '../model/types.js';
export type { BotState } from '../model/botstate.js';

export { strategyContext } from '../strategy/context.js';
export { TERMINAL_STATES } from '../model/orders.js';
export { F as BOOK_FIELDS } from '../model/botstate.js';

import type { Strategy, StrategyFactory } from '../strategy/types.js';
import { formatScaled } from '../util/fixed.js';

/** Types a factory (or a strategy object) where the language cannot: `export default defineStrategy((p) => ({ ... }))`. */
export function defineStrategy<P = unknown>(factory: StrategyFactory<P>): StrategyFactory<P>;
export function defineStrategy<S extends Strategy>(strategy: S): S;
export function defineStrategy(x: unknown): unknown {
  return x;
}

/** A human number in integer units of `decimals` places (price 27123.45 at 2 -> 2712345), rounded to the nearest unit. */
export function toUnits(value: number, decimals: number): number {
  return Math.round(value * 10 ** decimals);
}

/** Integer units back to a human number (2712345 at 2 -> 27123.45). */
export function fromUnits(units: number, decimals: number): number {
  return units / 10 ** decimals;
}

/** Integer units as an exact decimal string (2712345 at 2 -> "27123.45"): for logs and reports. */
export function formatUnits(units: number, decimals: number): string {
  return formatScaled(units, decimals);
}
