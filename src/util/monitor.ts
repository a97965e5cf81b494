/**
 * Reading the hop histograms without stalling the loop: interval rolls, totals, dumps to files, live snapshot.
 *
 * Every `rollMs` (default 1 s) the monitor swaps the recorder's interval (O(slots) pointer work) and folds the
 * ended interval into a running total and a since-last-dump histogram per slot, one slot at a time with a
 * `setImmediate` between steps, so the loop is never held for more than one slot's fold (tens of µs).
 * Dumps (periodic, on SIGURG, on kill switch, on exit) write what accumulated since the previous dump:
 *
 *   <dir>/<UTC stamp>-<seq>-<reason>/dump.json                      all non-empty slots, lossless (see histio.ts)
 *   <dir>/<UTC stamp>-<seq>-<reason>/<hop>.<venue>.<transport>.hgrm  percentile distribution text, µs
 *
 * `tickwire hist print|merge|plot <dir>` merges any set of dumps (intervals add up to the whole run).
 *
 * For the live page, each roll also keeps, per slot, the percentile curve of the total (as `hist plot` draws it) and
 * the interval's p50/p99 in a fixed ring covering the last `historyMs` (typed arrays allocated once per slot; the
 * hot path is not involved: it only records into the interval the roll swapped out).
 *
 * Engine wiring (src/core): `const mon = new LatencyMonitor(recorder, { dir }).start();` then
 * `await mon.dump('kill')` on kill switch, `await mon.stop()` on graceful shutdown (writes the 'exit' dump),
 * and on the control plane `latencyPageHtml(...)` (src/app/live.ts) + `mon.snapshot()` as JSON.
 */
import { mkdirPrivate, mkdirPrivateAsync, writeFilePrivate, writeFilePrivateAsync } from './private.js';
import { join } from 'node:path';
import type * as hdr from 'hdr-histogram-js';
import { log } from './log.js';
import { buildHistogram, DEFAULT_HIGHEST_NS, HopRecorder, keyOfSlot, SLOT_COUNT, type IntervalSet, type SlotKey } from './hops.js';
import { DUMP_FORMAT, encodeHistogram, percentileCurveNs, summarize, toHgrm, type Curve, type DumpFile, type Summary } from './histio.js';

export interface LatencyMonitorOptions {
  /** dump folder; without it no files are written (live snapshot only) */
  dir?: string;
  /** interval length, ms (default 1000) */
  rollMs?: number;
  /** periodic dump every N ms (default 60000; 0 = never) */
  dumpEveryMs?: number;
  /**
   * signal that triggers a dump (default SIGURG: ignored by default, so a stray `kill -URG` never kills anything;
   * null = none). `tickwire run` passes SIGUSR2 (a dump only, never the kill switch). SIGUSR1 belongs to Node's inspector.
   */
  signal?: NodeJS.Signals | null;
  /** write a synchronous 'exit' dump from process.on('exit') if stop() was not called (default true with dir) */
  exitDump?: boolean;
  /** how far back the live p50/p99 series go, ms (default 600000 = 10 min; one point per roll, at most 3600 points) */
  historyMs?: number;
}

export interface LiveRow extends SlotKey {
  /** the last completed interval, null if nothing was recorded in it */
  interval: Summary | null;
  /** since the monitor started */
  total: Summary;
  clamped: number;
  /** percentile curve of the total (x = log10(1/(1-p)), y = ns), as `tickwire hist plot` draws it */
  curve: Curve;
  /** p50 / p99 of each recent interval, aligned with LiveSnapshot.recentEndMs; null = nothing recorded then */
  recent: { p50: (number | null)[]; p99: (number | null)[] };
}

export interface LiveSnapshot {
  /** wall epoch ms of the snapshot */
  at: number;
  pid: number;
  /** wall epoch ms when the monitor started / the last interval ended */
  startedAt: number;
  intervalEndMs: number;
  intervalMs: number;
  /** units of every figure in rows */
  unit: 'ns';
  /**
   * wall epoch ms at which each of the recent intervals ended, oldest first (at most historyMs back); only those
   * after `recentSince` when that is not null
   */
  recentEndMs: number[];
  /** the `since` this answer continues (the series hold only later intervals), or null: the whole ring */
  recentSince: number | null;
  /** how many intervals the ring holds at most (a page keeps that many) */
  recentMax: number;
  rows: LiveRow[];
}

interface SlotState {
  total: hdr.Histogram;
  sinceDump: hdr.Histogram;
  totalSummary: Summary;
  interval: Summary | null;
  clampedLow: number;
  clampedHigh: number;
  dumpLow: number;
  dumpHigh: number;
  curve: Curve;
  /** ring of interval p50 / p99, ns, indexed like LatencyMonitor.histEnd; -1 = nothing recorded in that interval */
  p50s: Float64Array;
  p99s: Float64Array;
}

/** The default dump signal: `kill -URG <pid>` writes a dump. */
export const DUMP_SIGNAL: NodeJS.Signals = 'SIGURG';

/** x step of the live curves (20 points per decade: smooth at the page's plot size, half of `hist plot`'s JSON) */
export const LIVE_CURVE_STEP = 0.05;
const MAX_HISTORY_POINTS = 3600;

const monitors = new WeakMap<HopRecorder, LatencyMonitor>();

function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/:/g, '-');
}

export class LatencyMonitor {
  readonly recorder: HopRecorder;
  readonly dir: string | undefined;
  readonly rollMs: number;
  readonly dumpEveryMs: number;
  private readonly signal: NodeJS.Signals | null;
  private readonly exitDump: boolean;
  private readonly slots: (SlotState | undefined)[] = new Array<SlotState | undefined>(SLOT_COUNT).fill(undefined);
  private chain: Promise<unknown> = Promise.resolve();
  private rolling = false;
  private rollTimer: NodeJS.Timeout | undefined;
  private dumpTimer: NodeJS.Timeout | undefined;
  private seq = 0;
  private lastDumpMs: number;
  private intervalEndMs = 0;
  /** how many recent intervals the p50/p99 series hold */
  readonly historyPoints: number;
  /** ring of interval end times (wall ms) for the p50/p99 series: `histHead` is the next write, `histCount` filled */
  private readonly histEnd: Float64Array;
  private histHead = 0;
  private histCount = 0;
  readonly startedAt = Date.now();
  private stopped = false;
  private readonly onSignal = (): void => {
    void this.dump('signal');
  };
  private readonly onExit = (): void => {
    if (!this.stopped && this.dir) this.dumpSync('exit');
  };

  constructor(recorder: HopRecorder, opts: LatencyMonitorOptions = {}) {
    this.recorder = recorder;
    this.dir = opts.dir;
    this.rollMs = opts.rollMs ?? 1000;
    this.dumpEveryMs = opts.dumpEveryMs ?? 60_000;
    this.signal = opts.signal === undefined ? DUMP_SIGNAL : opts.signal;
    this.exitDump = opts.exitDump ?? opts.dir !== undefined;
    this.lastDumpMs = Date.now();
    const historyMs = opts.historyMs ?? 600_000;
    const points = Math.ceil(historyMs / (this.rollMs > 0 ? this.rollMs : 1000));
    // one spare place: the one a roll in progress writes (slot by slot), which snapshot() never reads
    this.historyPoints = Math.min(MAX_HISTORY_POINTS, Math.max(2, Number.isFinite(points) ? points : 2));
    this.histEnd = new Float64Array(this.historyPoints + 1);
    monitors.set(recorder, this);
    recorder.totals = (slot) => this.slots[slot]?.total;
  }

  /** Start the roll timer, the periodic dump timer, the signal and exit handlers. Timers are unref'd. */
  start(): this {
    if (this.rollMs > 0) {
      this.rollTimer = setInterval(() => {
        if (!this.rolling) void this.roll();
      }, this.rollMs);
      this.rollTimer.unref();
    }
    if (this.dir && this.dumpEveryMs > 0) {
      this.dumpTimer = setInterval(() => void this.dump('periodic'), this.dumpEveryMs);
      this.dumpTimer.unref();
    }
    if (this.signal) process.on(this.signal, this.onSignal);
    if (this.exitDump) process.on('exit', this.onExit);
    return this;
  }

  /** End the current interval and fold it into the totals, one slot per loop turn. Serialised. */
  roll(): Promise<void> {
    const p = this.chain.then(() => this.rollSteps());
    this.chain = p.catch(() => undefined);
    return p;
  }

  private async rollSteps(): Promise<void> {
    this.rolling = true;
    try {
      const set = this.recorder.swapInterval();
      let work = 0;
      for (let s = 0; s < SLOT_COUNT; s++) {
        if (this.foldSlot(set, s) && ++work % 2 === 0) await yieldToLoop();
      }
      this.endInterval(set.endMs);
      this.recorder.recycle(set);
    } finally {
      this.rolling = false;
    }
  }

  private rollSync(): void {
    const set = this.recorder.swapInterval();
    for (let s = 0; s < SLOT_COUNT; s++) this.foldSlot(set, s);
    this.endInterval(set.endMs);
    this.recorder.recycle(set);
  }

  /** The roll's interval is folded into every slot: close its place in the p50/p99 ring. */
  private endInterval(endMs: number): void {
    // strictly increasing (two rolls within one ms), so that an end time names one interval for `since`
    this.intervalEndMs = this.histCount > 0 ? Math.max(endMs, this.intervalEndMs + 1) : endMs;
    endMs = this.intervalEndMs;
    this.histEnd[this.histHead] = endMs;
    this.histHead = (this.histHead + 1) % this.histEnd.length;
    if (this.histCount < this.histEnd.length - 1) this.histCount++;
  }

  private foldSlot(set: IntervalSet, s: number): boolean {
    const h = set.histograms[s];
    const st0 = this.slots[s];
    if (h === undefined || h.totalCount === 0) {
      if (st0) {
        st0.interval = null;
        st0.p50s[this.histHead] = -1;
        st0.p99s[this.histHead] = -1;
      }
      return false;
    }
    const st =
      st0 ??
      (this.slots[s] = {
        total: buildHistogram(DEFAULT_HIGHEST_NS, 64),
        sinceDump: buildHistogram(DEFAULT_HIGHEST_NS, 64),
        totalSummary: summarize(h),
        interval: null,
        clampedLow: 0,
        clampedHigh: 0,
        dumpLow: 0,
        dumpHigh: 0,
        curve: { x: [], y: [] },
        p50s: new Float64Array(this.histEnd.length).fill(-1),
        p99s: new Float64Array(this.histEnd.length).fill(-1),
      });
    st.total.add(h);
    st.sinceDump.add(h);
    const low = set.clampedLow[s] ?? 0;
    const high = set.clampedHigh[s] ?? 0;
    st.clampedLow += low;
    st.clampedHigh += high;
    st.dumpLow += low;
    st.dumpHigh += high;
    st.interval = summarize(h);
    st.totalSummary = summarize(st.total);
    st.curve = percentileCurveNs(st.total, LIVE_CURVE_STEP);
    st.p50s[this.histHead] = st.interval.p50;
    st.p99s[this.histHead] = st.interval.p99;
    HopRecorder.resetSlot(set, s);
    return true;
  }

  /**
   * What the live page shows: cheap (summaries and curves precomputed at each roll; the rings read oldest first).
   * With `sinceMs` (the end of the last interval a page already has), the series hold only the intervals after it,
   * unless intervals after it already left the ring (or it is unknown here): then the whole ring (`recentSince` null).
   */
  snapshot(sinceMs?: number): LiveSnapshot {
    const len = this.histEnd.length;
    let first = (this.histHead - this.histCount + len) % len;
    let n = this.histCount;
    let recentSince: number | null = null;
    if (sinceMs !== undefined && n > 0 && sinceMs >= this.histEnd[first]! && sinceMs <= this.intervalEndMs) {
      recentSince = sinceMs;
      while (n > 0 && this.histEnd[first]! <= sinceMs) {
        first = (first + 1) % len;
        n--;
      }
    }
    const recentEndMs: number[] = [];
    for (let k = 0; k < n; k++) recentEndMs.push(this.histEnd[(first + k) % len]!);
    const ring = (a: Float64Array): (number | null)[] => {
      const out: (number | null)[] = [];
      for (let k = 0; k < n; k++) {
        const v = a[(first + k) % len]!;
        out.push(v < 0 ? null : v);
      }
      return out;
    };
    const rows: LiveRow[] = [];
    for (let s = 0; s < SLOT_COUNT; s++) {
      const st = this.slots[s];
      if (!st || st.totalSummary.count === 0) continue;
      rows.push({
        ...keyOfSlot(s),
        interval: st.interval,
        total: st.totalSummary,
        clamped: st.clampedLow + st.clampedHigh,
        curve: st.curve,
        recent: { p50: ring(st.p50s), p99: ring(st.p99s) },
      });
    }
    return {
      at: Date.now(),
      pid: process.pid,
      startedAt: this.startedAt,
      intervalEndMs: this.intervalEndMs,
      intervalMs: this.rollMs,
      unit: 'ns',
      recentEndMs,
      recentSince,
      recentMax: this.historyPoints,
      rows,
    };
  }

  /** The running total of one slot (read-only), e.g. for /metrics. */
  total(slot: number): hdr.Histogram | undefined {
    return this.slots[slot]?.total;
  }

  /**
   * Roll, then write what accumulated since the previous dump into a new timestamped folder under `dir`
   * (or this monitor's dir). Resolves to that folder, or undefined when there is no dir. Never throws:
   * a write error is logged and resolves undefined.
   */
  dump(reason: string, dir: string | undefined = this.dir): Promise<string | undefined> {
    const p = this.chain.then(async () => {
      await this.rollSteps();
      if (!dir) return undefined;
      const { folder, files } = this.beginDump(reason, dir);
      for (let s = 0; s < SLOT_COUNT; s++) if (this.dumpSlot(s, files)) await yieldToLoop();
      files[0]![1] = this.endDump(files);
      try {
        await mkdirPrivateAsync(folder);
        for (const [name, text] of files) await writeFilePrivateAsync(join(folder, name), text);
        return folder;
      } catch (e) {
        log().warn({ err: e, folder }, 'latency dump failed');
        return undefined;
      }
    });
    this.chain = p.catch(() => undefined);
    return p;
  }

  /** Synchronous dump for process 'exit' handlers (no event loop left). */
  dumpSync(reason: string, dir: string | undefined = this.dir): string | undefined {
    if (!dir) return undefined;
    if (!this.recorder.busy) this.rollSync(); // else a roll is half-way: its interval misses this dump
    const { folder, files } = this.beginDump(reason, dir);
    for (let s = 0; s < SLOT_COUNT; s++) this.dumpSlot(s, files);
    files[0]![1] = this.endDump(files);
    try {
      mkdirPrivate(folder);
      for (const [name, text] of files) writeFilePrivate(join(folder, name), text);
      return folder;
    } catch (e) {
      process.stderr.write(`latency dump failed: ${String(e)}\n`);
      return undefined;
    }
  }

  private pending: { dump: DumpFile } | undefined;

  /** files[0] is dump.json, filled by endDump() */
  private beginDump(reason: string, dir: string): { folder: string; files: [string, string][] } {
    const now = Date.now();
    const seq = ++this.seq;
    const folder = join(dir, `${stamp(now)}-${String(seq).padStart(4, '0')}-${reason.replace(/[^a-zA-Z0-9_-]/g, '_')}`);
    this.pending = {
      dump: { format: DUMP_FORMAT, reason, pid: process.pid, seq, startMs: this.lastDumpMs, endMs: now, unit: 'ns', hgrmUnit: 'us', histograms: [] },
    };
    this.lastDumpMs = now;
    return { folder, files: [['dump.json', '']] };
  }

  private dumpSlot(s: number, files: [string, string][]): boolean {
    const st = this.slots[s];
    if (!st || st.sinceDump.totalCount === 0 || !this.pending) return false;
    const key = keyOfSlot(s);
    const h = st.sinceDump;
    this.pending.dump.histograms.push({ ...key, ...summarize(h), clampedLow: st.dumpLow, clampedHigh: st.dumpHigh, encoded: encodeHistogram(h) });
    files.push([`${key.hop}.${key.venue}.${key.transport}.hgrm`, toHgrm(h)]);
    h.reset();
    st.dumpLow = 0;
    st.dumpHigh = 0;
    return true;
  }

  private endDump(_files: [string, string][]): string {
    const d = this.pending?.dump;
    this.pending = undefined;
    return d ? JSON.stringify(d, null, 1) + '\n' : '';
  }

  /** Stop timers and handlers; write a last dump (reason 'exit' by default; null = none). */
  async stop(reason: string | null = 'exit'): Promise<string | undefined> {
    if (this.rollTimer) clearInterval(this.rollTimer);
    if (this.dumpTimer) clearInterval(this.dumpTimer);
    if (this.signal) process.off(this.signal, this.onSignal);
    if (this.exitDump) process.off('exit', this.onExit);
    const out = reason && this.dir ? await this.dump(reason) : undefined;
    this.stopped = true;
    await this.chain;
    return out;
  }

  /** Detach from the recorder: total() falls back to the active interval. */
  detach(): void {
    if (monitors.get(this.recorder) === this) monitors.delete(this.recorder);
    this.recorder.totals = undefined;
  }
}

/**
 * Dump a recorder's histograms into `dir` (what the engine calls on kill switch, or from its own exit path).
 * With a LatencyMonitor attached to the recorder, delegates to it (what accumulated since its previous dump);
 * otherwise swaps the recorder's interval and writes that interval (everything since the previous swap).
 */
export async function dumpHistograms(dir: string, source: HopRecorder | LatencyMonitor, reason: string): Promise<string | undefined> {
  const mon = source instanceof LatencyMonitor ? source : monitors.get(source);
  if (mon) return mon.dump(reason, dir);
  const tmp = new LatencyMonitor(source as HopRecorder, { dir, rollMs: 0, dumpEveryMs: 0, signal: null, exitDump: false });
  try {
    return await tmp.dump(reason);
  } finally {
    tmp.detach();
  }
}

/** Synchronous variant for process.on('exit'). */
export function dumpHistogramsSync(dir: string, source: HopRecorder | LatencyMonitor, reason: string): string | undefined {
  const mon = source instanceof LatencyMonitor ? source : monitors.get(source);
  if (mon) return mon.dumpSync(reason, dir);
  const tmp = new LatencyMonitor(source as HopRecorder, { dir, rollMs: 0, dumpEveryMs: 0, signal: null, exitDump: false });
  try {
    return tmp.dumpSync(reason);
  } finally {
    tmp.detach();
  }
}
