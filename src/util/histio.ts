/**
 * Histogram files: the dump format (JSON, lossless) and the standard HdrHistogram percentile-distribution text
 * (`.hgrm`, as `outputPercentileDistribution` prints it), reading them back, merging, summaries.
 *
 * Units: histograms hold nanoseconds. `.hgrm` files are written in MICROSECONDS (outputValueUnitScalingRatio 1000,
 * the usual choice for ns recordings, and what HdrHistogram's plotter then labels); `parseHgrm` assumes µs unless
 * told otherwise.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import * as hdr from 'hdr-histogram-js';
import { buildHistogram, DEFAULT_HIGHEST_NS, type SlotKey } from './hops.js';

export const DUMP_FORMAT = 'tickwire-hist/1';
/** .hgrm values are µs: ns / 1000 */
export const HGRM_SCALE = 1000;

export interface Summary {
  count: number;
  /** ns */
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  p9999: number;
  max: number;
}

export interface DumpEntry extends SlotKey, Summary {
  /** values < 0 or NaN recorded as 0 / values above the highest trackable value recorded as that value */
  clampedLow: number;
  clampedHigh: number;
  /** the histogram, lossless: hdr-histogram-js encodeIntoCompressedBase64 (V2 compressed, as the Java log format) */
  encoded: string;
}

export interface DumpFile {
  format: typeof DUMP_FORMAT;
  /** periodic | signal | kill | exit | manual | ... */
  reason: string;
  pid: number;
  seq: number;
  /** wall epoch ms of the covered period */
  startMs: number;
  endMs: number;
  unit: 'ns';
  hgrmUnit: 'us';
  histograms: DumpEntry[];
}

export const PERCENTILES: readonly [keyof Summary, number][] = [
  ['p50', 50],
  ['p90', 90],
  ['p99', 99],
  ['p999', 99.9],
  ['p9999', 99.99],
];

/** The JsHistogram members the one-pass readers use (public in the JS class, undeclared in its types). */
interface CountsView {
  countsArrayLength: number;
  getCountAtIndex(i: number): number;
  subBucketHalfCountMagnitude: number;
  subBucketHalfCount: number;
  subBucketCount: number;
  bucketCount: number;
  unitMagnitude: number;
  numberOfSignificantValueDigits: number;
}

function countsView(h: hdr.Histogram): CountsView | undefined {
  const c = h as unknown as Partial<CountsView>;
  return typeof c.getCountAtIndex === 'function' &&
    typeof c.countsArrayLength === 'number' &&
    typeof c.subBucketHalfCountMagnitude === 'number' &&
    typeof c.unitMagnitude === 'number'
    ? (c as CountsView)
    : undefined;
}

/** The counts array itself (TypedArrayHistogram's `_counts`), read directly; else the accessor. */
function countsOf(v: CountsView): ArrayLike<number> {
  const a = (v as unknown as { _counts?: unknown })._counts;
  if (ArrayBuffer.isView(a) && (a as unknown as ArrayLike<number>).length >= v.countsArrayLength) return a as unknown as ArrayLike<number>;
  return Float64Array.from({ length: v.countsArrayLength }, (_, i) => v.getCountAtIndex(i));
}

/** Formatters as the library builds them per call (Intl.NumberFormat is costly to construct: built once here). */
const formatters = new Map<string, (x: number) => string>();
function fmt(size: number, frac: number): (x: number) => string {
  const k = size + '/' + frac;
  let f = formatters.get(k);
  if (!f) {
    const nf = new Intl.NumberFormat('en-US', { maximumFractionDigits: frac, minimumFractionDigits: frac, useGrouping: false });
    f = (x) => padLeft(nf.format(x), size);
    formatters.set(k, f);
  }
  return f;
}

/**
 * Bucket geometry of counts index `i`, by arithmetic (what the library's valueFromIndex /
 * lowest-, median-, highestEquivalentValue compute through several method calls each): the lowest value of the
 * bucket and its width. Writes into `out` (no allocation).
 */
function bucketAt(v: CountsView, i: number, out: { lowest: number; size: number }): void {
  let b = Math.floor(i / v.subBucketHalfCount) - 1;
  let sb = (i % v.subBucketHalfCount) + v.subBucketHalfCount;
  if (b < 0) {
    sb -= v.subBucketHalfCount;
    b = 0;
  }
  const size = 2 ** (b + v.unitMagnitude);
  out.lowest = sb * size;
  out.size = size;
}

const SUMMARY_PCTS = [50, 90, 99, 99.9, 99.99] as const;
const ulp = (x: number): number => 2 ** (Math.floor(Math.log2(x)) - 52);

/**
 * count, min, mean, percentiles, max of a histogram. One pass over the counts array with the bucket geometry by
 * arithmetic: the same values as hdr-histogram-js's `getValueAtPercentile` (same count-at-percentile rounding,
 * highest equivalent value) and `mean` (median equivalent value of each bucket, summed in index order), which walk
 * the array five times plus once through the recorded-values iterator (~80% of the latency monitor's CPU in a
 * wire-to-wire profile, holding the loop for milliseconds each second). Falls back to the library's getters for
 * histograms without the JS internals.
 */
export function summarize(h: hdr.Histogram): Summary {
  const count = h.totalCount;
  if (count === 0) return { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, p9999: 0, max: 0 };
  // getValueAtPercentile answers the highest value equivalent to the bucket (up to 0.1% above what was
  // recorded); clamp to the recorded max so that no percentile reads above max
  const max = h.maxValue;
  const v = countsView(h);
  if (!v) return summarizeSlow(h);
  const want = SUMMARY_PCTS.map((p) => {
    const fp = (p / 100) * count;
    return Math.max(Math.ceil(fp - ulp(fp)), 1);
  });
  const got = [0, 0, 0, 0, 0];
  const at = { lowest: 0, size: 0 };
  let next = 0;
  let running = 0;
  let sum = 0;
  let lowestSeen = -1;
  const n = v.countsArrayLength;
  const counts = countsOf(v);
  for (let i = 0; i < n; i++) {
    const k = counts[i]!;
    if (k === 0) continue;
    bucketAt(v, i, at);
    if (lowestSeen < 0) lowestSeen = at.lowest;
    sum += (at.lowest + Math.floor(at.size / 2)) * k;
    running += k;
    while (next < 5 && running >= want[next]!) got[next++] = Math.min(at.lowest + at.size - 1, max);
    if (running >= count) break;
  }
  return {
    count,
    min: h.minNonZeroValue === Number.MAX_SAFE_INTEGER ? 0 : Math.min(h.minNonZeroValue, Math.max(lowestSeen, 0)),
    mean: sum / count,
    p50: got[0]!,
    p90: got[1]!,
    p99: got[2]!,
    p999: got[3]!,
    p9999: got[4]!,
    max,
  };
}

/** A percentile curve: points (x[k], y[k]), x = log10(1/(1-p)) (0 = 0%, 1 = 90%, 2 = 99%, ...), y in ns. */
export interface Curve {
  x: number[];
  y: number[];
}

/**
 * The percentile curve `tickwire hist plot` draws (src/util/plot.ts percentileCurve), in one pass over the counts:
 * points at x = 0, step, 2*step, ... below log10(count) (at least 1), then (that end, max). x is rounded to 4
 * decimals and y is the library's getValueAtPercentile at that x (lowest equivalent value at 0%), clamped to max as
 * in summarize. An empty histogram has no points.
 */
export function percentileCurveNs(h: hdr.Histogram, step = 0.05): Curve {
  const count = h.totalCount;
  const x: number[] = [];
  const y: number[] = [];
  if (count === 0 || !(step > 0)) return { x, y };
  const max = h.maxValue;
  const xMax = Math.max(1, Math.log10(count));
  for (let k = 0; k * step < xMax; k++) x.push(Math.round(k * step * 1e4) / 1e4);
  const pct = (xi: number): number => 100 * (1 - 10 ** -xi);
  const v = countsView(h);
  if (!v) {
    for (const xi of x) y.push(Math.min(h.getValueAtPercentile(pct(xi)), max));
  } else {
    const want = x.map((xi) => {
      const fp = (pct(xi) / 100) * count;
      return Math.max(Math.ceil(fp - (fp > 0 ? ulp(fp) : 0)), 1);
    });
    const at = { lowest: 0, size: 0 };
    const counts = countsOf(v);
    const n = v.countsArrayLength;
    let next = 0;
    let running = 0;
    for (let i = 0; i < n && next < want.length; i++) {
      const c = counts[i]!;
      if (c === 0) continue;
      running += c;
      if (running < want[next]!) continue;
      bucketAt(v, i, at);
      while (next < want.length && running >= want[next]!) {
        y.push(Math.min(x[next] === 0 ? at.lowest : at.lowest + at.size - 1, max));
        next++;
      }
    }
  }
  x.push(Math.round(xMax * 1e4) / 1e4);
  y.push(max);
  return { x, y };
}

function padLeft(s: string, size: number): string {
  return s.length < size ? ' '.repeat(size - s.length) + s : s;
}

/**
 * The standard percentile distribution text (HdrHistogram's `outputPercentileDistribution`), byte for byte what
 * hdr-histogram-js prints, in one pass over the counts (the library's percentile iterator, mean and standard
 * deviation walk the array three times through method calls: ~11 ms for a histogram of 100,000 values over
 * 3 µs..9 ms, which a dump used to spend on the event loop per slot; `npm run bench -- --filter latency-read`). Falls back to the library for histograms without the JS internals.
 */
export function percentileDistribution(h: hdr.Histogram, ticksPerHalfDistance = 5, scale = 1): string {
  const v = countsView(h);
  if (!v) return h.outputPercentileDistribution(ticksPerHalfDistance, scale);
  const digits = v.numberOfSignificantValueDigits;
  const counts = countsOf(v);
  const valueF = fmt(12, digits);
  const pctF = fmt(2, 12);
  const lastF = fmt(14, 2);
  let out = '       Value     Percentile TotalCount 1/(1-Percentile)\n\n';
  const total = h.totalCount;
  const n = v.countsArrayLength;
  const at = { lowest: 0, size: 0 };
  // the library's PercentileIterator, state for state
  let idx = 0;
  let toCurrent = 0;
  let fresh = true;
  let level = 0;
  let reachedLast = false;
  for (;;) {
    if (!(toCurrent < total)) {
      if (!reachedLast && total > 0) {
        level = 100;
        reachedLast = true;
      } else break;
    }
    let emitted = false;
    while (idx < n) {
      const c = counts[idx]!;
      if (fresh) {
        toCurrent += c;
        fresh = false;
      }
      if (c !== 0 && (100 * toCurrent) / total >= level) {
        bucketAt(v, idx, at);
        const value = at.lowest + at.size - 1;
        const line = valueF(value / scale) + ' ' + pctF(level / 100) + ' ' + padLeft(String(toCurrent), 10);
        out += level < 100 ? line + ' ' + lastF(1 / (1 - level / 100)) + '\n' : line + '\n';
        const ticks = ticksPerHalfDistance * 2 ** (Math.floor(Math.log2(100 / (100 - level))) + 1);
        level += 100 / ticks;
        emitted = true;
        break;
      }
      idx++;
      fresh = true;
    }
    if (!emitted) throw new Error('percentileDistribution: index out of bounds');
  }
  // mean (summarize's) and standard deviation as the library computes them (median equivalent values, index order)
  const mean = summarize(h).mean;
  let dev = 0;
  let count = 0;
  for (let i = 0; i < n && count < total; i++) {
    const c = counts[i]!;
    if (c === 0) continue;
    bucketAt(v, i, at);
    const d = at.lowest + Math.floor(at.size / 2) - mean;
    dev += d * d * c;
    count += c;
  }
  const std = total === 0 ? 0 : Math.sqrt(dev / total);
  const intF = (x: number): string => padLeft(String(x), 12);
  out += `#[Mean    = ${valueF(mean / scale)}, StdDeviation   = ${valueF(std / scale)}]
#[Max     = ${valueF(h.maxValue / scale)}, Total count    = ${intF(total)}]
#[Buckets = ${intF(v.bucketCount)}, SubBuckets     = ${intF(v.subBucketCount)}]
`;
  return out;
}

/** The same summary from the library's own getters (reference for the one-pass version; slow). */
export function summarizeSlow(h: hdr.Histogram): Summary {
  const count = h.totalCount;
  if (count === 0) return { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, p9999: 0, max: 0 };
  const max = h.maxValue;
  const at = (p: number): number => Math.min(h.getValueAtPercentile(p), max);
  return {
    count,
    min: h.minNonZeroValue === Number.MAX_SAFE_INTEGER ? 0 : Math.min(h.minNonZeroValue, h.getValueAtPercentile(0)),
    mean: h.mean,
    p50: at(50),
    p90: at(90),
    p99: at(99),
    p999: at(99.9),
    p9999: at(99.99),
    max,
  };
}

/** The standard percentile distribution text, values in µs. */
export function toHgrm(h: hdr.Histogram, ticksPerHalfDistance = 5): string {
  return percentileDistribution(h, ticksPerHalfDistance, HGRM_SCALE);
}

/**
 * Read a percentile-distribution text back into a histogram (ns). The text lists the value at each percentile
 * step with the running total count, so the rebuilt histogram has exactly the same total count and its values
 * are exact at the printed steps (values between steps are attributed to the next step's value).
 */
export function parseHgrm(text: string, unitNs = HGRM_SCALE): hdr.Histogram {
  const h = buildHistogram(DEFAULT_HIGHEST_NS, 64);
  let prevTotal = 0;
  let lines = 0;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith('Value')) continue;
    const cols = line.split(/\s+/);
    if (cols.length < 3) continue;
    const value = Number(cols[0]);
    const pct = Number(cols[1]);
    const total = Number(cols[2]);
    if (!Number.isFinite(value) || !Number.isFinite(pct) || !Number.isFinite(total)) throw new Error(`not a percentile distribution line: ${line}`);
    lines++;
    const delta = total - prevTotal;
    if (delta > 0) h.recordValueWithCount(Math.min(Math.round(value * unitNs), DEFAULT_HIGHEST_NS), delta);
    prevTotal = Math.max(prevTotal, total);
  }
  if (lines === 0) throw new Error('no percentile distribution lines');
  return h;
}

export function encodeHistogram(h: hdr.Histogram): string {
  return hdr.encodeIntoCompressedBase64(h);
}

export function decodeHistogram(encoded: string): hdr.Histogram {
  return hdr.decodeFromCompressedBase64(encoded, 64, false);
}

export function keyString(k: SlotKey): string {
  return `${k.hop}/${k.venue}/${k.transport}`;
}

/** One merged series: a key and its histogram (64-bit counts). */
export interface Series {
  key: SlotKey;
  histogram: hdr.Histogram;
  clampedLow: number;
  clampedHigh: number;
  /** files merged into it */
  sources: number;
}

/** Accumulates histograms by key. */
export class Merger {
  readonly series = new Map<string, Series>();
  files = 0;
  startMs = Number.POSITIVE_INFINITY;
  endMs = 0;

  add(key: SlotKey, h: hdr.Histogram, clampedLow = 0, clampedHigh = 0): void {
    const k = keyString(key);
    let s = this.series.get(k);
    if (!s) {
      s = { key: { ...key }, histogram: buildHistogram(DEFAULT_HIGHEST_NS, 64), clampedLow: 0, clampedHigh: 0, sources: 0 };
      this.series.set(k, s);
    }
    s.histogram.add(h);
    s.clampedLow += clampedLow;
    s.clampedHigh += clampedHigh;
    s.sources++;
  }

  addDump(d: DumpFile): void {
    if (d.format !== DUMP_FORMAT) throw new Error(`not a ${DUMP_FORMAT} dump`);
    this.files++;
    this.startMs = Math.min(this.startMs, d.startMs);
    this.endMs = Math.max(this.endMs, d.endMs);
    for (const e of d.histograms) this.add(e, decodeHistogram(e.encoded), e.clampedLow, e.clampedHigh);
  }

  /** Sorted by hop order, then venue, then transport. */
  sorted(): Series[] {
    return [...this.series.values()].sort((a, b) => keyString(a.key).localeCompare(keyString(b.key)));
  }
}

/** A `.hgrm` file name says its key: `<hop>.<venue>.<transport>.hgrm` (dumps write them so). */
export function keyOfHgrmFile(file: string): SlotKey {
  const parts = basename(file)
    .replace(/\.hgrm$/, '')
    .split('.');
  if (parts.length >= 3) return { hop: parts[0] as SlotKey['hop'], venue: parts[1] ?? 'none', transport: (parts[2] ?? 'any') as SlotKey['transport'] };
  return { hop: (parts[0] ?? 'unknown') as SlotKey['hop'], venue: 'file', transport: 'any' };
}

/**
 * Collect dump inputs from files and folders (recursively): `*.json` dumps are read losslessly; a `.hgrm` is
 * read only when no dump JSON sits in the same folder (the JSON holds the same data, exactly).
 */
export function collectInputs(paths: string[]): { json: string[]; hgrm: string[] } {
  const json: string[] = [];
  const hgrm: string[] = [];
  const walk = (p: string): void => {
    const st = statSync(p);
    if (st.isDirectory()) {
      for (const f of readdirSync(p).sort()) walk(join(p, f));
    } else if (p.endsWith('.json')) {
      json.push(p);
    } else if (p.endsWith('.hgrm')) {
      hgrm.push(p);
    }
  };
  for (const p of paths) walk(p);
  const jsonDirs = new Set<string>();
  const dumps: string[] = [];
  for (const f of json) {
    try {
      const d = JSON.parse(readFileSync(f, 'utf8')) as { format?: string };
      if (d.format === DUMP_FORMAT) {
        dumps.push(f);
        jsonDirs.add(dirname(f));
      }
    } catch {
      /* not ours */
    }
  }
  return { json: dumps, hgrm: hgrm.filter((f) => !jsonDirs.has(dirname(f)) || paths.includes(f)) };
}

export function mergeInputs(paths: string[]): Merger {
  const m = new Merger();
  const { json, hgrm } = collectInputs(paths);
  for (const f of json) m.addDump(JSON.parse(readFileSync(f, 'utf8')) as DumpFile);
  for (const f of hgrm) {
    m.files++;
    m.add(keyOfHgrmFile(f), parseHgrm(readFileSync(f, 'utf8')));
  }
  return m;
}

export function fmtUs(ns: number): string {
  const us = ns / 1000;
  if (us >= 100_000) return `${(us / 1000).toFixed(0)}ms`;
  if (us >= 1000) return (us / 1000).toFixed(2) + 'ms';
  if (us >= 100) return us.toFixed(0);
  if (us >= 10) return us.toFixed(1);
  return us.toFixed(2);
}

/** A percentile table, µs (ms where marked). */
export function percentileTable(series: Series[]): string {
  const head = ['hop', 'venue', 'transport', 'count', 'p50', 'p90', 'p99', 'p99.9', 'p99.99', 'max', 'clamped'];
  const rows = series.map((s) => {
    const m = summarize(s.histogram);
    return [
      s.key.hop,
      s.key.venue,
      s.key.transport,
      String(m.count),
      fmtUs(m.p50),
      fmtUs(m.p90),
      fmtUs(m.p99),
      fmtUs(m.p999),
      fmtUs(m.p9999),
      fmtUs(m.max),
      String(s.clampedLow + s.clampedHigh),
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string => r.map((c, i) => (i < 3 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return [line(head), ...rows.map(line)].join('\n') + '\n(latencies in µs unless marked ms)\n';
}
