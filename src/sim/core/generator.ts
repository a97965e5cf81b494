/**
 * Seeded synthetic market data: drives the synthetic liquidity of a set of books.
 *
 * Per book a ladder of `levelsPerSide` levels per side around a mid that random-walks in ticks. Each step works on
 * ONE book (chosen by the PRNG) as ONE batch (one onLevels, updateId + 1):
 *  - mostly size changes of 1-3 levels (top-heavy), occasionally a removal that leaves a hole;
 *  - sometimes the mid moves by 1-2 ticks: the crossed levels of one side are removed, the other side's new best
 *    levels appear and the far ends of the ladder roll (4 changes per tick moved);
 *  - sometimes an aggressive synthetic order sweeps the best level(s): public trades, and the fills of any user
 *    order resting there (the way the engine's quotes get filled).
 *
 * Rate: `rate` level updates per second across all books. In real time a timer loop computes how many updates are
 * due from the elapsed wall time and produces them in batches (capped per turn so the event loop breathes).
 *
 * Deterministic mode: event times come from a virtual clock derived from the number of updates produced
 * (`startMs + produced * 1000 / rate`), so the same seed gives the same sequence of batches, trades and timestamps
 * regardless of the machine's speed; wall time only paces the production.
 */
import type { MatchingBook } from './book.js';
import { parseScaled } from '../../util/fixed.js';
import type { SimSide } from './types.js';

/** xoshiro128** PRNG (32-bit state words), seeded through splitmix32. `next()` in [0, 1). No allocation. */
export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  constructor(seed: number) {
    let s = seed >>> 0;
    const sm = (): number => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = sm();
    this.b = sm();
    this.c = sm();
    this.d = sm();
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }
  /** uniform 32-bit unsigned integer */
  u32(): number {
    const r = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return r;
  }
  next(): number {
    return this.u32() / 4294967296;
  }
  /** integer in [0, n) */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

export interface GeneratorOptions {
  books: MatchingBook[];
  seed: number;
  /** level updates per second across all books; default 2,000 */
  rate?: number;
  /** ladder depth per side; default 200 */
  levelsPerSide?: number;
  /** virtual clock (deterministic mode); otherwise batches take each book's own clock */
  deterministic?: boolean;
  /** virtual clock origin in ms; default 1,767,225,600,000 (2026-01-01T00:00:00Z) */
  startMs?: number;
  /** probability that a step moves the mid; default 0.08 */
  moveProbability?: number;
  /** probability that a step is an aggressive sweep; default 0.03 */
  sweepProbability?: number;
  /** mean level size in quote currency; default 20,000 */
  levelNotional?: number;
}

interface BookState {
  book: MatchingBook;
  /** price of the ladder's best bid (price units, a multiple of tick); asks start at bid + spread */
  bid: number;
  /** price units per tick (tickSize in 10^-priceDecimals units: 5 for "0.05") */
  tick: number;
  /** qty units per step (stepSize in 10^-qtyDecimals units) */
  step: number;
  /** spread in ticks */
  spread: number;
  /** mean level size in steps */
  meanLots: number;
}

export const DEFAULT_VIRTUAL_START_MS = 1_767_225_600_000;

export class Generator {
  readonly rate: number;
  readonly levelsPerSide: number;
  readonly deterministic: boolean;
  private readonly rng: Prng;
  private readonly states: BookState[] = [];
  private readonly startMs: number;
  private readonly pMove: number;
  private readonly pSweep: number;
  /** level updates produced so far */
  produced = 0;
  steps = 0;
  sweeps = 0;
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  private running = false;
  private wallStart = 0;
  private producedAtStart = 0;

  constructor(opts: GeneratorOptions) {
    this.rate = opts.rate ?? 2000;
    if (!(this.rate > 0)) throw new Error('generator: rate must be > 0');
    this.levelsPerSide = Math.max(2, opts.levelsPerSide ?? 200);
    this.deterministic = opts.deterministic ?? false;
    this.rng = new Prng(opts.seed);
    this.startMs = opts.startMs ?? DEFAULT_VIRTUAL_START_MS;
    this.pMove = opts.moveProbability ?? 0.08;
    this.pSweep = opts.sweepProbability ?? 0.03;
    const notional = opts.levelNotional ?? 20_000;
    for (const book of opts.books) {
      const ins = book.instrument;
      const mid = parseScaled(ins.initialPrice, ins.priceDecimals);
      if (!(mid > 0)) throw new Error(`generator: bad initialPrice ${ins.initialPrice} for ${ins.market}:${ins.symbol}`);
      const px = Number(ins.initialPrice);
      const tick = book.tickUnits;
      const step = book.stepUnits;
      const meanLots = Math.max(1, Math.round(notional / px / Number(ins.stepSize)));
      // the ladder's prices are multiples of the tick (in price units); the best bid stays above levelsPerSide ticks
      const bidTicks = Math.max(this.levelsPerSide + 1, Math.floor(mid / tick));
      this.states.push({ book, bid: bidTicks * tick, tick, step, spread: 1, meanLots });
    }
  }

  /** Virtual time (deterministic mode): start + produced * 1000 / rate, integer ms. */
  virtualNowMs(): number {
    return this.startMs + Math.floor((this.produced * 1000) / this.rate);
  }

  private batchTime(_st: BookState): number | undefined {
    return this.deterministic ? this.virtualNowMs() : undefined;
  }

  /** a level size in qty units (a multiple of the step) */
  private size(st: BookState): number {
    // skewed: many small, some large (mean ~ meanLots steps)
    const u = this.rng.next();
    return Math.max(1, Math.round(st.meanLots * (0.05 + 1.9 * u * u * 1.5))) * st.step;
  }

  /** Fill every book's ladder (one batch per book). Done by the first step or start(); idempotent. */
  seedBooks(): void {
    if (this.seeded) return;
    this.seeded = true;
    for (const st of this.states) {
      const book = st.book;
      book.beginBatch(this.batchTime(st));
      for (let i = 0; i < this.levelsPerSide; i++) {
        book.setSynthetic('BUY', st.bid - i * st.tick, this.size(st));
        book.setSynthetic('SELL', st.bid + (st.spread + i) * st.tick, this.size(st));
      }
      this.produced += book.endBatch();
    }
  }

  private seeded = false;

  /** One step on one book; returns the level updates it produced. */
  step(): number {
    if (!this.seeded) this.seedBooks();
    const n = this.states.length;
    if (n === 0) return 0;
    const st = this.states[n === 1 ? 0 : this.rng.int(n)]!;
    const book = st.book;
    const N = this.levelsPerSide;
    book.beginBatch(this.batchTime(st));
    const r = this.rng.next();
    const t = st.tick;
    if (r < this.pMove) {
      const k = this.rng.next() < 0.85 ? 1 : 2;
      const up = this.rng.next() < 0.5;
      if (up) {
        for (let i = 0; i < k; i++) {
          book.setSynthetic('SELL', st.bid + (st.spread + i) * t, 0);
          book.setSynthetic('BUY', st.bid - (N - 1 - i) * t, 0);
        }
        for (let i = 1; i <= k; i++) {
          book.setSynthetic('BUY', st.bid + i * t, this.size(st));
          book.setSynthetic('SELL', st.bid + (st.spread + N - 1 + i) * t, this.size(st));
        }
        st.bid += k * t;
      } else if (st.bid - k * t > (N + 1) * t) {
        for (let i = 0; i < k; i++) {
          book.setSynthetic('BUY', st.bid - i * t, 0);
          book.setSynthetic('SELL', st.bid + (st.spread + N - 1 - i) * t, 0);
        }
        for (let i = 1; i <= k; i++) {
          book.setSynthetic('SELL', st.bid + (st.spread - i) * t, this.size(st));
          book.setSynthetic('BUY', st.bid - (N - 1 + i) * t, this.size(st));
        }
        st.bid -= k * t;
      }
    } else if (r < this.pMove + this.pSweep) {
      const side: SimSide = this.rng.next() < 0.5 ? 'BUY' : 'SELL';
      const bestQty = side === 'BUY' ? book.bestAskQty() : book.bestBidQty();
      if (bestQty > 0) {
        // a whole number of steps, so user orders (multiples of the step) fill in steps
        const qty = Math.max(1, Math.round((bestQty / st.step) * (0.3 + this.rng.next() * 1.2))) * st.step;
        book.sweepSynthetic(side, qty);
        this.sweeps++;
      }
    } else {
      const m = 1 + this.rng.int(3);
      for (let j = 0; j < m; j++) {
        const u = this.rng.next();
        const d = Math.floor(N * u * u); // top-heavy
        const bid = this.rng.next() < 0.5;
        const price = bid ? st.bid - d * t : st.bid + (st.spread + d) * t;
        const qty = this.rng.next() < 0.08 && d > 0 ? 0 : this.size(st);
        book.setSynthetic(bid ? 'BUY' : 'SELL', price, qty);
      }
    }
    const produced = book.endBatch();
    this.produced += produced;
    this.steps++;
    return produced;
  }

  /** Produce at least `updates` level updates (synchronously). Returns the number produced. */
  produce(updates: number): number {
    const target = this.produced + updates;
    const before = this.produced;
    let guard = 0;
    while (this.produced < target) {
      if (this.step() === 0 && ++guard > 1_000_000) break;
    }
    return this.produced - before;
  }

  /** Produce what `ms` of virtual time at `rate` holds. */
  runVirtual(ms: number): number {
    return this.produce(Math.floor((ms * this.rate) / 1000));
  }

  /** Start producing in real time at `rate`. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.seedBooks();
    this.wallStart = performance.now();
    this.producedAtStart = this.produced;
    this.loop();
  }

  stop(): void {
    this.running = false;
    if (this.timer !== undefined) {
      clearTimeout(this.timer as NodeJS.Timeout);
      clearImmediate(this.timer as NodeJS.Immediate);
      this.timer = undefined;
    }
  }

  private readonly loop = (): void => {
    this.timer = undefined;
    if (!this.running) return;
    const elapsed = performance.now() - this.wallStart;
    const due = this.producedAtStart + Math.floor((elapsed * this.rate) / 1000) - this.produced;
    // at most ~20 ms worth per turn so I/O is served between turns
    const cap = Math.max(1, Math.ceil(this.rate / 50));
    if (due > 0) this.produce(due < cap ? due : cap);
    if (!this.running) return;
    const behind = this.producedAtStart + Math.floor(((performance.now() - this.wallStart) * this.rate) / 1000) - this.produced;
    if (behind > 0) this.timer = setImmediate(this.loop);
    else {
      // sleep until the next update is due (>= 1 ms)
      const nextInMs = Math.max(1, Math.ceil(((this.produced - this.producedAtStart + 1) * 1000) / this.rate - (performance.now() - this.wallStart)));
      this.timer = setTimeout(this.loop, nextInMs);
    }
  };

  get isRunning(): boolean {
    return this.running;
  }
}
