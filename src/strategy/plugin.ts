/**
 * Strategies by name or by file. The shipped strategies and a plug-in module are built the same way: a
 * `StrategyFactory` called with their parameters, returning a `Strategy` (src/strategy/types.ts), which the engine
 * drives through the same `StrategyRunner`.
 *
 * A plug-in is an ES module (`strategy.module`, `tickwire run --strategy FILE`) whose default export, or named
 * export `createStrategy`, is one of:
 *  - a factory function `(params) => Strategy`;
 *  - a class, constructed as `new Class(params)`;
 *  - a strategy object (its parameters then reach it through `setParams` only on reload).
 * Fail closed: a module that cannot be imported, exports none of these, builds something that is not a strategy, or
 * throws while building, is refused with a `StrategyLoadError` naming the file (the run then exits 1, no order sent).
 */
import { pathToFileURL } from 'node:url';
import type { Strategy, StrategyFactory } from './types.js';
import { MarketMaker } from './marketmaker.js';
import { CrossVenueSignal } from './crossvenue.js';
import { TriggerFollower, type TriggerFollowerParams } from './triggerfollower.js';
import type { CrossVenueParams, MarketMakerParams } from '../config/schema.js';

/** The shipped strategies, by `strategy.name`: the same factory shape a plug-in exports. */
export const BUILTIN_STRATEGIES = {
  marketMaker: ((p: MarketMakerParams) => new MarketMaker(p)) satisfies StrategyFactory<MarketMakerParams>,
  crossVenue: ((p: CrossVenueParams) => new CrossVenueSignal(p)) satisfies StrategyFactory<CrossVenueParams>,
  triggerFollower: ((p: TriggerFollowerParams) => new TriggerFollower(p)) satisfies StrategyFactory<TriggerFollowerParams>,
} as const;

export class StrategyLoadError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`strategy module ${file}: ${message}`);
    this.name = 'StrategyLoadError';
  }
}

/** Members a strategy may have; each one present must be a function. */
const HANDLERS = ['start', 'stop', 'setParams', 'onTick', 'onBook', 'onOrderEvent', 'onAck', 'onFill', 'onCancel', 'onReject', 'onAlgoEvent'] as const;
/** At least one of these: a strategy that hears nothing can do nothing. */
const EVENTS = ['onTick', 'onBook', 'onOrderEvent', 'onAck', 'onFill', 'onCancel', 'onReject', 'onAlgoEvent'] as const;

/** '' when `s` is a usable strategy, else what is wrong with it. */
export function strategyProblem(s: unknown): string {
  if (s === null || typeof s !== 'object') return `expected a strategy object, got ${s === null ? 'null' : typeof s}`;
  const o = s as Record<string, unknown>;
  if (typeof o['name'] !== 'string' || o['name'].length === 0) return 'the strategy has no `name` (a non-empty string)';
  for (const h of HANDLERS) if (o[h] !== undefined && typeof o[h] !== 'function') return `\`${h}\` must be a function, got ${typeof o[h]}`;
  if (!EVENTS.some((h) => typeof o[h] === 'function')) return `the strategy handles no event (give it at least one of ${EVENTS.join(', ')})`;
  return '';
}

function isClass(f: (...a: unknown[]) => unknown): boolean {
  return /^class[\s{]/.test(Function.prototype.toString.call(f));
}

/** Build the strategy a module exported (see the header); throws StrategyLoadError naming `file`. */
export function strategyFromExports(mod: Record<string, unknown>, params: unknown, file: string): Strategy {
  const exp = mod['default'] ?? mod['createStrategy'];
  if (exp === undefined)
    throw new StrategyLoadError(file, 'exports no strategy (a default export or `createStrategy`: a factory, a class or a strategy object)');
  let built: unknown;
  if (typeof exp === 'function') {
    const f = exp as (...a: unknown[]) => unknown;
    try {
      built = isClass(f) ? new (f as unknown as new (p: unknown) => unknown)(params) : f(params);
    } catch (e) {
      throw new StrategyLoadError(file, `building the strategy threw: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (built instanceof Promise) throw new StrategyLoadError(file, 'the factory returned a Promise: a strategy is built synchronously');
  } else built = exp;
  const why = strategyProblem(built);
  if (why !== '') throw new StrategyLoadError(file, why);
  return built as Strategy;
}

/** Import a plug-in module (an absolute path) and build its strategy with `params`. */
export async function loadStrategyModule(file: string, params: unknown): Promise<Strategy> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (e) {
    throw new StrategyLoadError(file, `cannot be imported: ${e instanceof Error ? e.message : String(e)}`);
  }
  return strategyFromExports(mod, params, file);
}
