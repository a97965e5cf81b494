/**
 * The hot loop: a fixed cadence (default 10 ms) calling `onTick`, plus an event path (`onBookUpdate`) that the
 * market-data adapters call right after they wrote a book into BotState, which runs `onBook(slot)` at once.
 *
 * Schedule: absolute deadlines `t0 + k * period` (no drift: a late tick does not push the next one). A tick that
 * would start more than one period late is skipped and counted (`skipped`), so a stall never causes a burst.
 *
 * Modes:
 * - `timer`: setTimeout to the deadline. Node checks timers against a ms clock and fires up to ~1.5 ms early,
 *   so every wake-up re-checks the clock and re-arms when early (never runs a tick before its deadline).
 * - `precise`: setTimeout until `spinUs` before the deadline, then spin on the clock from setImmediate (I/O
 *   callbacks, including the adapters' frames, still run between two checks), and for the last 50 µs without
 *   yielding. Costs CPU in the spin window.
 * - `busy`: busy-poll for a dedicated core. The loop is always re-armed with setImmediate, never with a timer, so
 *   libuv polls for I/O with a zero timeout and the thread never sleeps: a frame is read as soon as it arrives, with
 *   no wake-up to pay (~50 µs across vCPUs here, ../shared/perf-notes.md). Costs a full core; each turn allocates
 *   one Immediate (young-generation garbage, reclaimed by cheap scavenges: LATENCY.md "Busy-poll").
 *
 * - `external` (a backtest): no timers and no spinning; whoever owns the (virtual) clock calls `runDue()`, which runs
 *   every tick whose deadline has passed, each with its deadline as `now`, so that the ticks depend on the clock only,
 *   never on the machine's speed.
 *
 * Lateness (actual start - deadline, ns) of every tick goes to `Hop.LoopLateness` of the HopRecorder (not in external mode).
 */
import { nowNs } from '../util/clock.js';
import { Hop, NO_VENUE, type HopRecorder } from '../util/hops.js';

/** precise mode: below this much time to the deadline, spin without yielding */
const FINAL_SPIN_NS = 50_000;

export interface LoopHandlers {
  onTick(nowNs: number): void;
  onBook(slot: number): void;
  /** busy mode: called on every poll turn between ticks (keep it short: it delays the next poll) */
  onIdle?(nowNs: number): void;
}

export type LoopMode = 'timer' | 'precise' | 'busy';

export interface LoopOptions {
  mode: LoopMode;
  periodMs: number;
  /** precise mode: start spinning this many µs before the deadline */
  spinUs?: number;
  hops?: HopRecorder;
  clock?: () => number;
  /** driven from outside through `runDue()` (a backtest's virtual clock); no timers */
  external?: boolean;
}

export class HotLoop {
  readonly periodNs: number;
  readonly mode: LoopMode;
  /** busy mode: loop turns that found the deadline not reached yet (the poll rate) */
  spins = 0;
  private readonly spinNs: number;
  private readonly clock: () => number;
  private readonly hops: HopRecorder | undefined;
  private readonly external: boolean;
  private readonly h: LoopHandlers;
  private running = false;
  private t0 = 0;
  /** index of the next tick to run: its deadline is t0 + k * period */
  private k = 0;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  /** re-entrancy guard: an adapter callback arriving inside a handler is deferred, not nested */
  private inHandler = false;
  private pendingBooks: Uint8Array;
  private pendingAny = false;

  /** ticks run */
  ticks = 0;
  /** ticks skipped because the loop was more than one period late */
  skipped = 0;
  /** event-path invocations */
  bookEvents = 0;
  /** wake-ups that came before the deadline (timer fired early) */
  earlyWakeups = 0;
  /** worst lateness seen, ns */
  maxLatenessNs = 0;
  private readonly boundTick = (): void => this.wake();

  constructor(handlers: LoopHandlers, opts: LoopOptions, slots = 64) {
    this.h = handlers;
    this.mode = opts.mode;
    this.periodNs = Math.round(opts.periodMs * 1e6);
    this.spinNs = (opts.spinUs ?? 3000) * 1000;
    this.clock = opts.clock ?? nowNs;
    this.hops = opts.hops;
    this.external = opts.external === true;
    this.pendingBooks = new Uint8Array(slots);
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Deadline of tick k. */
  deadline(k: number): number {
    return this.t0 + k * this.periodNs;
  }

  /** Start time (clock ns) of tick 0. */
  get startNs(): number {
    return this.t0;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.t0 = this.clock();
    this.k = 0;
    if (!this.external) this.wake();
  }

  /** Deadline of the next tick, ns of the loop's clock. */
  get nextDeadlineNs(): number {
    return this.deadline(this.k);
  }

  /** External mode: run every tick whose deadline is at or before the clock, each with its deadline as `now`. */
  runDue(): number {
    let n = 0;
    const now = this.clock();
    while (this.running && this.deadline(this.k) <= now) {
      const dl = this.deadline(this.k);
      this.k++;
      this.ticks++;
      n++;
      this.inHandler = true;
      try {
        this.h.onTick(dl);
      } finally {
        this.inHandler = false;
      }
      if (this.pendingAny) this.drainPending();
    }
    return n;
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
  }

  /**
   * Event path: an adapter wrote `slot` into BotState. Runs `onBook(slot)` now (synchronously, in the adapter's
   * callback); if a handler is already running (re-entrant call) the slot is marked and handled right after it.
   */
  onBookUpdate(slot: number): void {
    if (!this.running) return;
    if (this.inHandler) {
      if (slot < this.pendingBooks.length) {
        this.pendingBooks[slot] = 1;
        this.pendingAny = true;
      }
      return;
    }
    this.inHandler = true;
    try {
      this.bookEvents++;
      this.h.onBook(slot);
    } finally {
      this.inHandler = false;
    }
    if (this.pendingAny) this.drainPending();
  }

  private drainPending(): void {
    this.pendingAny = false;
    const p = this.pendingBooks;
    for (let s = 0; s < p.length; s++) {
      if (p[s] === 1) {
        p[s] = 0;
        this.onBookUpdate(s);
      }
    }
  }

  private wake(): void {
    this.timer = undefined;
    this.immediate = undefined;
    if (!this.running) return;
    let now = this.clock();
    let dl = this.deadline(this.k);
    // precise mode, last few µs: spin synchronously (a setImmediate turn costs more than what is left)
    if (this.mode === 'precise' && now < dl && dl - now <= FINAL_SPIN_NS) {
      while (now < dl) now = this.clock();
    }
    if (now < dl) {
      if (this.mode === 'busy') {
        this.spins++;
        this.immediate = setImmediate(this.boundTick);
        if (this.h.onIdle !== undefined) {
          this.inHandler = true;
          try {
            this.h.onIdle(now);
          } finally {
            this.inHandler = false;
          }
          if (this.pendingAny) this.drainPending();
        }
        return;
      }
      this.earlyWakeups += this.ticks > 0 || this.k > 0 ? 1 : 0;
      this.arm(now, dl);
      return;
    }
    // more than a full period late: skip the missed deadlines (absolute schedule, no burst)
    if (now - dl >= this.periodNs) {
      const behind = Math.floor((now - dl) / this.periodNs);
      this.skipped += behind;
      this.k += behind;
      dl = this.deadline(this.k);
    }
    const late = now - dl;
    if (late > this.maxLatenessNs) this.maxLatenessNs = late;
    this.hops?.record(Hop.LoopLateness, NO_VENUE, late);
    this.k++;
    this.ticks++;
    this.inHandler = true;
    try {
      this.h.onTick(now);
    } finally {
      this.inHandler = false;
    }
    if (this.pendingAny) this.drainPending();
    if (this.running) this.arm(this.clock(), this.deadline(this.k));
  }

  private arm(now: number, dl: number): void {
    const remaining = dl - now;
    if (this.mode === 'busy') this.immediate = setImmediate(this.boundTick);
    else if (this.mode === 'precise') {
      const sleep = remaining - this.spinNs;
      if (sleep >= 1e6) this.timer = setTimeout(this.boundTick, Math.floor(sleep / 1e6));
      else this.immediate = setImmediate(this.boundTick);
    } else {
      // timers here fire early; wake() re-checks and re-arms, so round up
      this.timer = setTimeout(this.boundTick, Math.max(1, Math.ceil(remaining / 1e6)));
    }
  }
}
