/**
 * Hop latency recording: one HDR histogram per (hop, venue, transport), values in nanoseconds.
 *
 * Hot path: `record()` / `recordOn()` increment a typed-array slot of a pre-built hdr-histogram-js histogram
 * (32-bit counts, 3 significant digits, 1 ns .. `highestNs`): no allocation, no branch that can throw
 * (out-of-range values are clamped and counted, see clampedLow/clampedHigh).
 *
 * Interval histograms: the recorder holds two sets of histograms. Recording goes into the active set;
 * `swapInterval()` exchanges the sets in O(1) and hands the set that just ended to a reader (src/util/monitor.ts
 * folds it into totals and dumps it, in small asynchronous steps), which gives it back with `recycle()`. A dump
 * therefore never reads a histogram that is being written, and never stalls the loop for longer than one step.
 *
 * Transport: hops that go over an order transport (sign, write, ack, fill, tick_to_trade, socket_to_send) are recorded with
 * `recordVia(hop, venue, transport, ns)`: under `Transport.Any` (all transports) and under Ws or Rest (the split);
 * `recordOn` records under one transport only, `record(hop, venue, ns)` under `Transport.Any` only. Histograms for Any exist from construction; the ws/rest ones are created on their first
 * record (one allocation per slot per process; call `prepare()` at start-up to pay it before trading).
 */
import * as hdr from 'hdr-histogram-js';
import { VENUES, type VenueId } from '../model/types.js';

export const enum Hop {
  /** frame received -> parsed */
  Parse = 0,
  /** parsed -> book applied */
  Apply = 1,
  /** book applied -> BotState written */
  StateWrite = 2,
  /** BotState written -> strategy decided */
  Decide = 3,
  /** decided -> risk passed */
  Risk = 4,
  /** risk passed -> order signed */
  Sign = 5,
  /** signed -> bytes written to the socket */
  Write = 6,
  /** bytes written -> ack received */
  Ack = 7,
  /** bytes written -> fill received */
  Fill = 8,
  /** exchange event time -> local receive (feed delay; clocks of two machines, ms precision) */
  FeedDelay = 9,
  /** frame received -> BotState written (what the strategy waits for) */
  RecvToState = 10,
  /** frame received -> order bytes written (tick to trade) */
  TickToTrade = 11,
  /** hot loop lateness against the scheduled tick */
  LoopLateness = 12,
  /**
   * frame readable on the socket -> the order's bytes handed to the socket layer, before the write syscall: the
   * engine's own time per trigger (tick_to_trade also holds the write, whose syscall runs the receiver's loopback TCP
   * path and, on a shared vCPU, the receiver itself)
   */
  SocketToSend = 13,
}

export const HOP_NAMES = [
  'parse',
  'apply',
  'state_write',
  'decide',
  'risk',
  'sign',
  'write',
  'ack',
  'fill',
  'feed_delay',
  'recv_to_state',
  'tick_to_trade',
  'loop_lateness',
  'socket_to_send',
] as const;
export type HopName = (typeof HOP_NAMES)[number];
export const HOP_COUNT = HOP_NAMES.length;

/** Venue index for hops that belong to no venue (loop lateness). */
export const NO_VENUE = VENUES.length;
/** Venue names by index, `none` last (NO_VENUE). */
export const VENUE_NAMES: readonly string[] = [...VENUES, 'none'];

/** Order transport dimension. `Any` is what `record()` uses. */
export const enum Transport {
  Any = 0,
  Ws = 1,
  Rest = 2,
}
export const TRANSPORT_NAMES = ['any', 'ws', 'rest'] as const;
export type TransportName = (typeof TRANSPORT_NAMES)[number];
export const TRANSPORT_COUNT = TRANSPORT_NAMES.length;

/** Histogram shape used everywhere (recording, dumps, merges) so that they add up bucket for bucket. */
export const HIST_LOWEST_NS = 1;
export const HIST_DIGITS = 3;
/** 10 s: anything slower is an outage, not a latency; clamped and counted. */
export const DEFAULT_HIGHEST_NS = 10_000_000_000;

export function buildHistogram(highestNs = DEFAULT_HIGHEST_NS, bits: 32 | 64 = 32): hdr.Histogram {
  return hdr.build({
    bitBucketSize: bits,
    lowestDiscernibleValue: HIST_LOWEST_NS,
    highestTrackableValue: highestNs,
    numberOfSignificantValueDigits: HIST_DIGITS,
    useWebAssembly: false,
  });
}

/** The JsHistogram members the fast record path uses (public in the JS class, partly undeclared in its types). */
interface FastHistogram {
  incrementCountAtIndex(index: number): void;
  updateMinAndMax(value: number): void;
  incrementTotalCount(): void;
  countsArrayIndex(value: number): number;
  leadingZeroCountBase: number;
  subBucketHalfCountMagnitude: number;
  subBucketHalfCount: number;
  subBucketCount: number;
  unitMagnitude: number;
}

/** Shape constants of every histogram built by buildHistogram (checked at load). */
const SHAPE = buildHistogram(1_000_000) as unknown as FastHistogram;
const FAST_HALF_MAG = SHAPE.subBucketHalfCountMagnitude;
const FAST_HALF_COUNT = SHAPE.subBucketHalfCount;
const FAST_SUB_MASK = SHAPE.subBucketCount - 1;
/** Java's leadingZeroCountBase (64 - unitMagnitude - subBucketHalfCountMagnitude - 1) for a 32-bit clz */
const FAST_LZ_BASE = 32 - SHAPE.unitMagnitude - FAST_HALF_MAG - 1;
if (SHAPE.unitMagnitude !== 0 || typeof SHAPE.incrementTotalCount !== 'function' || typeof SHAPE.incrementCountAtIndex !== 'function') {
  throw new Error('hdr-histogram-js internals changed: update the fast path in src/util/hops.ts');
}

/** Returned by total() for a slot with no records yet while a monitor is attached (never recorded into). */
const EMPTY_TOTAL = buildHistogram(1_000_000);

/** Counts-array index the fast path computes (exported for the test that checks it against hdr's own). */
export function fastIndexOf(v: number): number {
  const bucket = FAST_LZ_BASE - Math.clz32(v | FAST_SUB_MASK);
  return ((bucket + 1) << FAST_HALF_MAG) + (v >>> bucket) - FAST_HALF_COUNT;
}

/** One set of interval histograms (what `swapInterval()` returns). Indexed by slot (see `slotOf`). */
export interface IntervalSet {
  readonly histograms: (hdr.Histogram | undefined)[];
  /** per slot: values < 0 or NaN, recorded as 0 */
  readonly clampedLow: Float64Array;
  /** per slot: values > highestNs, recorded as highestNs */
  readonly clampedHigh: Float64Array;
  /** wall epoch ms when this interval started / ended (ended = 0 while active) */
  startMs: number;
  endMs: number;
}

export interface SlotKey {
  hop: HopName;
  venue: string;
  transport: TransportName;
}

const VENUE_WIDTH = VENUES.length + 1;
export const SLOT_COUNT = HOP_COUNT * VENUE_WIDTH * TRANSPORT_COUNT;

/** Slot index of (hop, venue, transport). */
export function slotOf(hop: Hop, venue: number, transport: Transport = Transport.Any): number {
  return (hop * VENUE_WIDTH + venue) * TRANSPORT_COUNT + transport;
}

export function keyOfSlot(slot: number): SlotKey {
  const transport = slot % TRANSPORT_COUNT;
  const hv = (slot - transport) / TRANSPORT_COUNT;
  const venue = hv % VENUE_WIDTH;
  const hop = (hv - venue) / VENUE_WIDTH;
  return { hop: HOP_NAMES[hop] ?? 'parse', venue: VENUE_NAMES[venue] ?? 'none', transport: TRANSPORT_NAMES[transport] ?? 'any' };
}

function newSet(): IntervalSet {
  return {
    histograms: new Array<hdr.Histogram | undefined>(SLOT_COUNT).fill(undefined),
    clampedLow: new Float64Array(SLOT_COUNT),
    clampedHigh: new Float64Array(SLOT_COUNT),
    startMs: Date.now(),
    endMs: 0,
  };
}

export class HopRecorder {
  readonly highestNs: number;
  private active: IntervalSet;
  private spare: IntervalSet | undefined;
  /** the set handed out by swapInterval() and not yet recycled */
  private lent: IntervalSet | undefined;

  constructor(highestNs = DEFAULT_HIGHEST_NS) {
    this.highestNs = highestNs;
    this.active = newSet();
    this.spare = newSet();
    for (let hop = 0; hop < HOP_COUNT; hop++) {
      for (let v = 0; v < VENUE_WIDTH; v++) this.prepare(hop, v, Transport.Any);
    }
  }

  /** Build the histograms of one slot now (start-up), so that its first record does not allocate. */
  prepare(hop: Hop, venue: number, transport: Transport = Transport.Any): void {
    if (!(hop >= 0 && hop < HOP_COUNT && venue >= 0 && venue < VENUE_WIDTH && transport >= 0 && transport < TRANSPORT_COUNT)) return;
    const slot = slotOf(hop, venue, transport);
    for (const set of [this.active, this.spare, this.lent]) {
      if (set && set.histograms[slot] === undefined) set.histograms[slot] = buildHistogram(this.highestNs);
    }
  }

  /** Record a hop duration in ns under transport Any. Allocation-free; ignores unknown hop/venue indexes. */
  record(hop: Hop, venueIdx: number, ns: number): void {
    if (venueIdx >>> 0 >= VENUE_WIDTH) return;
    this.recordSlot((hop * VENUE_WIDTH + venueIdx) * TRANSPORT_COUNT, ns);
  }

  /** Record a hop duration in ns for one order transport. */
  recordOn(hop: Hop, venueIdx: number, transport: Transport, ns: number): void {
    if (venueIdx >>> 0 >= VENUE_WIDTH || transport >>> 0 >= TRANSPORT_COUNT) return;
    this.recordSlot((hop * VENUE_WIDTH + venueIdx) * TRANSPORT_COUNT + transport, ns);
  }

  /**
   * An order-path hop: recorded under Any (every transport: what the kill switch, /metrics and the run summary
   * read) and, when `transport` is Ws or Rest, under that transport too (the per-transport split in dumps).
   */
  recordVia(hop: Hop, venueIdx: number, transport: number, ns: number): void {
    if (venueIdx >>> 0 >= VENUE_WIDTH) return;
    const base = (hop * VENUE_WIDTH + venueIdx) * TRANSPORT_COUNT;
    this.recordSlot(base, ns);
    if (transport === Transport.Ws || transport === Transport.Rest) this.recordSlot(base + transport, ns);
  }

  private recordSlot(slot: number, ns: number): void {
    const set = this.active;
    let h = set.histograms[slot];
    if (h === undefined) {
      h = this.create(slot);
      if (h === undefined) return;
    }
    let v: number;
    if (ns >= 0) {
      if (ns <= this.highestNs) {
        v = Math.floor(ns);
      } else {
        v = this.highestNs;
        set.clampedHigh[slot]! += 1;
      }
    } else {
      v = 0;
      set.clampedLow[slot]! += 1;
    }
    const f = h as unknown as FastHistogram;
    if (v < 4294967296) {
      // hdr's countsArrayIndex uses log2/pow (~100 ns); this is the Java bit-twiddling version for values < 2^32
      // with unitMagnitude 0 (lowest 1 ns), checked against countsArrayIndex in test/latency/hops.test.ts.
      const bucket = FAST_LZ_BASE - Math.clz32(v | FAST_SUB_MASK);
      f.incrementCountAtIndex(((bucket + 1) << FAST_HALF_MAG) + (v >>> bucket) - FAST_HALF_COUNT);
      f.updateMinAndMax(v);
      f.incrementTotalCount();
    } else {
      h.recordValue(v);
    }
  }

  /** Cold path of recordSlot: first record of a lazily created slot (one allocation per slot per process). */
  private create(slot: number): hdr.Histogram | undefined {
    if (!(slot >= 0 && slot < SLOT_COUNT)) return undefined;
    const k = keyOfSlot(slot);
    this.prepare(HOP_NAMES.indexOf(k.hop), VENUE_NAMES.indexOf(k.venue), TRANSPORT_NAMES.indexOf(k.transport));
    return this.active.histograms[slot];
  }

  /**
   * The histogram currently being recorded into for a slot (the active interval). Read-only use: reading it
   * while the loop records is fine in one thread, but prefer `swapInterval()` for anything costly.
   */
  get(hop: Hop, venue: number, transport: Transport = Transport.Any): hdr.Histogram | undefined {
    if (venue >>> 0 >= VENUE_WIDTH) return undefined;
    return this.active.histograms[slotOf(hop, venue, transport)];
  }

  /**
   * Everything recorded so far for a slot. Without a LatencyMonitor nothing swaps intervals, so this is the active
   * histogram; with one attached it is the monitor's running total (lags by at most one roll, default 1 s).
   * Use this (not `get`) for summaries, /metrics and kill-switch checks.
   */
  total(hop: Hop, venue: number, transport: Transport = Transport.Any): hdr.Histogram | undefined {
    if (venue >>> 0 >= VENUE_WIDTH) return undefined;
    const slot = slotOf(hop, venue, transport);
    if (this.totals) return this.totals(slot) ?? EMPTY_TOTAL;
    return this.active.histograms[slot];
  }

  /** Set by LatencyMonitor: where totals live once intervals are being swapped. */
  totals: ((slot: number) => hdr.Histogram | undefined) | undefined = undefined;

  venueName(venue: number): VenueId | 'none' {
    return VENUES[venue] ?? 'none';
  }

  /** Whether an interval handed out by swapInterval() is still being read. */
  get busy(): boolean {
    return this.lent !== undefined;
  }

  /**
   * End the current interval: recording continues at once into the other set (O(1), allocation-free).
   * Returns the set that just ended; read it, then give it back with `recycle()`. Throws if the previous
   * interval was not recycled yet (one reader at a time).
   */
  swapInterval(): IntervalSet {
    const next = this.spare;
    if (next === undefined || this.lent !== undefined) throw new Error('HopRecorder.swapInterval: previous interval not recycled');
    const ended = this.active;
    const now = Date.now();
    ended.endMs = now;
    next.startMs = now;
    next.endMs = 0;
    // slots created lazily while `next` was out must exist in it too
    for (let s = 0; s < SLOT_COUNT; s++) {
      if (ended.histograms[s] !== undefined && next.histograms[s] === undefined) next.histograms[s] = buildHistogram(this.highestNs);
    }
    this.active = next;
    this.spare = undefined;
    this.lent = ended;
    return ended;
  }

  /** Give back an interval set after reading it: its histograms are reset (only the ones that have counts). */
  recycle(set: IntervalSet): void {
    if (set !== this.lent) throw new Error('HopRecorder.recycle: not the interval handed out');
    for (let s = 0; s < SLOT_COUNT; s++) {
      const h = set.histograms[s];
      if (h !== undefined && h.totalCount > 0) h.reset();
      if (h === undefined && this.active.histograms[s] !== undefined) set.histograms[s] = buildHistogram(this.highestNs);
    }
    set.clampedLow.fill(0);
    set.clampedHigh.fill(0);
    this.lent = undefined;
    this.spare = set;
  }

  /** Reset one slot of an interval set (used by readers that recycle in steps). */
  static resetSlot(set: IntervalSet, slot: number): void {
    const h = set.histograms[slot];
    if (h !== undefined && h.totalCount > 0) h.reset();
    set.clampedLow[slot] = 0;
    set.clampedHigh[slot] = 0;
  }
}
