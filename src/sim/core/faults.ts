/**
 * Fault registry of the simulator (implements SimContext's takeFault / peekFault / onFault) and the clock with a
 * per-market offset and the `clockSkewMs` fault.
 *
 * Kinds and how long they last:
 *  - counted (consumed by takeFault, `count` times, default 1): dropDiff, duplicateDiff, malformedFrame, httpStatus;
 *  - one-shot (consumed once): reorderDiff, oversizedFrame;
 *  - immediate: closeConnections is only announced to the onFault hooks (venues close their sockets at once), not
 *    kept; every injected fault is announced to the hooks;
 *  - immediate: snapshotReset, orderbookRestart (Bybit) act through the hooks at once and are not kept either;
 *  - persistent (peekFault, never consumed; a new one of the same kind and market replaces it): clockSkewMs,
 *    latencyMs (market may be 'all'); stallStream lasts `ms` from injection then disappears; tradeServiceRestart
 *    (Bybit) lasts `ms` if given, else until clear;
 *  - clear: removes every fault.
 * Faults are validated (zod) on the control endpoint: `parseFault` gives a clear message naming the bad field.
 */
import { z } from 'zod';
import type { SimFault, SimMarketId } from './types.js';

type Kind = SimFault['kind'];
type Of<K extends Kind> = Extract<SimFault, { kind: K }>;

const market = z.enum(['binanceSpot', 'binanceUsdm', 'bybitSpot', 'bybitLinear']);
const bybitMarket = z.enum(['bybitSpot', 'bybitLinear']);
const marketOrAll = z.union([market, z.literal('all')]);
const count = z.number().int().positive().max(1_000_000).optional();

export const SimFaultSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('dropDiff'), market, symbol: z.string().min(1), count }),
  z.strictObject({ kind: z.literal('duplicateDiff'), market, symbol: z.string().min(1), count }),
  z.strictObject({ kind: z.literal('reorderDiff'), market, symbol: z.string().min(1) }),
  z.strictObject({ kind: z.literal('stallStream'), market, ms: z.number().int().positive().max(3_600_000) }),
  z.strictObject({ kind: z.literal('closeConnections'), market, which: z.enum(['market', 'private', 'wsapi', 'all']).optional() }),
  z.strictObject({ kind: z.literal('malformedFrame'), market, count }),
  z.strictObject({
    kind: z.literal('oversizedFrame'),
    market,
    bytes: z
      .number()
      .int()
      .positive()
      .max(256 * 1024 * 1024)
      .optional(),
  }),
  z.strictObject({
    kind: z.literal('httpStatus'),
    market,
    status: z.union([z.literal(429), z.literal(418), z.literal(500), z.literal(502), z.literal(503), z.literal(504)]),
    count,
    retryAfterSec: z.number().int().nonnegative().max(86_400).optional(),
  }),
  z.strictObject({ kind: z.literal('clockSkewMs'), market: marketOrAll, ms: z.number().int().min(-86_400_000).max(86_400_000) }),
  z.strictObject({ kind: z.literal('latencyMs'), market: marketOrAll, ms: z.number().int().nonnegative().max(60_000) }),
  z.strictObject({
    kind: z.literal('snapshotReset'),
    market: bybitMarket,
    symbol: z.string().min(1),
    depth: z.union([z.literal(1), z.literal(50), z.literal(200), z.literal(1000)]).optional(),
  }),
  z.strictObject({ kind: z.literal('orderbookRestart'), market: bybitMarket, symbol: z.string().min(1) }),
  z.strictObject({ kind: z.literal('tradeServiceRestart'), market: bybitMarket, ms: z.number().int().positive().max(3_600_000).optional() }),
  z.strictObject({ kind: z.literal('clear') }),
]);

/** Validate an untrusted value as a SimFault; `{ ok: false, error }` names the offending field. */
export function parseFault(value: unknown): { ok: true; fault: SimFault } | { ok: false; error: string } {
  const r = SimFaultSchema.safeParse(value);
  if (r.success) return { ok: true, fault: stripUndefined(r.data) as SimFault };
  const msg = r.error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : '(fault)'}: ${i.message}`).join('; ');
  return { ok: false, error: `invalid fault: ${msg}` };
}

function stripUndefined<T extends object>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as T;
}

interface Entry {
  fault: SimFault;
  /** remaining uses (counted / one-shot); Infinity for persistent */
  left: number;
  /** expiry (performance.now ms) for stallStream */
  until: number;
}

const PERSISTENT: ReadonlySet<Kind> = new Set<Kind>(['clockSkewMs', 'latencyMs', 'stallStream', 'tradeServiceRestart']);
/** announced to the hooks only (the venue acts at once), never kept */
const IMMEDIATE: ReadonlySet<Kind> = new Set<Kind>(['closeConnections', 'snapshotReset', 'orderbookRestart']);

function marketOf(f: SimFault): SimMarketId | 'all' | undefined {
  return 'market' in f ? f.market : undefined;
}
function symbolOf(f: SimFault): string | undefined {
  return 'symbol' in f ? f.symbol : undefined;
}

export class FaultRegistry {
  private entries: Entry[] = [];
  private readonly hooks: Array<(f: SimFault) => void> = [];
  /** faults injected so far (for /state) */
  injected = 0;

  /** Add a fault (already validated). Runs onFault hooks. `clear` empties the registry. */
  inject(f: SimFault): void {
    this.injected++;
    if (f.kind === 'clear') {
      this.entries = [];
    } else if (IMMEDIATE.has(f.kind)) {
      // acts at once through the hooks; nothing to keep
    } else {
      const m = marketOf(f);
      if (PERSISTENT.has(f.kind)) {
        // replace the previous persistent fault of that kind and market
        this.entries = this.entries.filter((e) => !(e.fault.kind === f.kind && marketOf(e.fault) === m));
        const until =
          f.kind === 'stallStream' ? performance.now() + f.ms : f.kind === 'tradeServiceRestart' && f.ms !== undefined ? performance.now() + f.ms : Infinity;
        this.entries.push({ fault: f, left: Infinity, until });
      } else {
        const n = 'count' in f && typeof f.count === 'number' ? f.count : 1;
        this.entries.push({ fault: f, left: n, until: Infinity });
      }
    }
    for (const h of this.hooks) {
      try {
        h(f);
      } catch {
        /* a venue hook failing must not break injection */
      }
    }
  }

  clear(): void {
    this.inject({ kind: 'clear' });
  }

  onFault(cb: (f: SimFault) => void): void {
    this.hooks.push(cb);
  }

  private find(market: SimMarketId, kind: Kind, symbol: string | undefined): number {
    const now = this.entries.length > 0 ? performance.now() : 0;
    for (let i = 0; i < this.entries.length; i++) {
      const e = this.entries[i]!;
      if (e.fault.kind !== kind) continue;
      if (e.until <= now) {
        this.entries.splice(i--, 1);
        continue;
      }
      const m = marketOf(e.fault);
      if (m !== market && m !== 'all') continue;
      const s = symbolOf(e.fault);
      if (s !== undefined && symbol !== undefined && s.toUpperCase() !== symbol.toUpperCase()) continue;
      return i;
    }
    return -1;
  }

  /** Consume one use of a pending fault of `kind` for `market` (and `symbol` where the fault names one). */
  takeFault<K extends Kind>(market: SimMarketId, kind: K, symbol?: string): Of<K> | undefined {
    if (this.entries.length === 0) return undefined;
    const i = this.find(market, kind, symbol);
    if (i < 0) return undefined;
    const e = this.entries[i]!;
    if (e.left !== Infinity && --e.left <= 0) this.entries.splice(i, 1);
    return e.fault as Of<K>;
  }

  /** The active fault of `kind` for `market` without consuming it (market-specific wins over 'all'). */
  peekFault<K extends Kind>(market: SimMarketId, kind: K): Of<K> | undefined {
    if (this.entries.length === 0) return undefined;
    let all: Of<K> | undefined;
    const now = performance.now();
    for (let i = 0; i < this.entries.length; i++) {
      const e = this.entries[i]!;
      if (e.fault.kind !== kind) continue;
      if (e.until <= now) {
        this.entries.splice(i--, 1);
        continue;
      }
      const m = marketOf(e.fault);
      if (m === market) return e.fault as Of<K>;
      if (m === 'all') all = e.fault as Of<K>;
    }
    return all;
  }

  /** Active faults with their remaining uses (for /state). */
  list(): Array<{ fault: SimFault; left: number | null }> {
    const now = performance.now();
    this.entries = this.entries.filter((e) => e.until > now);
    return this.entries.map((e) => ({ fault: e.fault, left: e.left === Infinity ? null : e.left }));
  }
}

/**
 * Server clock per market: base clock (wall time, or the generator's virtual clock in deterministic mode) plus a
 * configured offset per market plus the active `clockSkewMs` fault.
 */
export class SimClock {
  private readonly offsets = new Map<SimMarketId, number>();
  constructor(
    private readonly faults: FaultRegistry,
    private base: () => number = Date.now,
  ) {}
  setBase(fn: () => number): void {
    this.base = fn;
  }
  setOffset(market: SimMarketId, ms: number): void {
    this.offsets.set(market, ms);
  }
  nowMs(market: SimMarketId): number {
    const skew = this.faults.peekFault(market, 'clockSkewMs');
    return this.base() + (this.offsets.get(market) ?? 0) + (skew ? skew.ms : 0);
  }
}
