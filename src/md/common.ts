/**
 * Cross-venue market-data pieces: symbol lookup from bytes, level scratch buffers, counters.
 */
import { Reason, REASON_COUNT, REASON_NAMES, type Scanner, hashSymbol } from '../codec/scan.js';

/**
 * Symbol -> small index, looked up from the bytes of a string value without creating a string. Matching is
 * ASCII case-insensitive ("nknusdt@depth" and "NKNUSDT" find the same entry); the hash is verified against
 * the stored bytes so an unknown symbol can never alias a known one.
 */
export class SymbolTable {
  private readonly byHash = new Map<number, number>();
  readonly names: string[] = [];
  private readonly upper: Uint8Array[] = [];
  /**
   * Open-addressing hash -> index table for the hot lookup (a Map.get on a Smi key costs ~20-30 ns here; two
   * typed-array loads do not): slot = hash & mask, linear probing, `tIdx` holds index + 1 (0 = empty). At most
   * half full; rebuilt when a symbol is added (cold).
   */
  private tHash = new Int32Array(16);
  private tIdx = new Int32Array(16);
  private tMask = 15;

  add(symbol: string): number {
    const u = symbol.toUpperCase();
    const existing = this.indexOf(u);
    if (existing >= 0) return existing;
    const h = hashSymbol(u);
    if (this.byHash.has(h)) throw new Error(`symbol hash collision: ${u} vs ${this.names[this.byHash.get(h) as number]}`);
    const idx = this.names.length;
    this.byHash.set(h, idx);
    this.names.push(u);
    const bytes = new Uint8Array(u.length);
    for (let i = 0; i < u.length; i++) bytes[i] = u.charCodeAt(i);
    this.upper.push(bytes);
    this.rebuild();
    return idx;
  }

  private rebuild(): void {
    let cap = 16;
    while (cap < this.names.length * 4) cap *= 2;
    const th = new Int32Array(cap);
    const ti = new Int32Array(cap);
    const mask = cap - 1;
    for (const [h, i] of this.byHash) {
      let k = h & mask;
      while (ti[k] !== 0) k = (k + 1) & mask;
      th[k] = h;
      ti[k] = i + 1;
    }
    this.tHash = th;
    this.tIdx = ti;
    this.tMask = mask;
  }

  indexOf(symbol: string): number {
    const u = symbol.toUpperCase();
    const i = this.byHash.get(hashSymbol(u));
    return i !== undefined && this.names[i] === u ? i : -1;
  }

  /**
   * Index of the symbol whose case-folded hash is `h` and whose bytes are b[start, start+len) (compared up to
   * `len` or the first `stop` byte), or -1.
   */
  lookup(h: number, b: Uint8Array, start: number, len: number, stop: number): number {
    const th = this.tHash;
    const ti = this.tIdx;
    const mask = this.tMask;
    let k = h & mask;
    let i = -1;
    for (;;) {
      const x = ti[k] as number;
      if (x === 0) return -1;
      if (th[k] === h) {
        i = x - 1;
        break;
      }
      k = (k + 1) & mask;
    }
    const want = this.upper[i] as Uint8Array;
    let n = 0;
    while (n < len) {
      let c = b[start + n] as number;
      if (c === stop) break;
      if (c >= 97 && c <= 122) c -= 32;
      if (n >= want.length || c !== want[n]) return -1;
      n++;
    }
    return n === want.length ? i : -1;
  }

  get size(): number {
    return this.names.length;
  }
}

/** Parsed price levels of one side of one message, reused for every frame. */
export class LevelScratch {
  px: Float64Array;
  qty: Float64Array;
  n = 0;
  constructor(capacity = 1024) {
    this.px = new Float64Array(capacity);
    this.qty = new Float64Array(capacity);
  }
  push(px: number, qty: number): void {
    if (this.n === this.px.length) {
      const c = this.px.length * 2;
      const p = new Float64Array(c);
      p.set(this.px);
      const q = new Float64Array(c);
      q.set(this.qty);
      this.px = p;
      this.qty = q;
    }
    this.px[this.n] = px;
    this.qty[this.n] = qty;
    this.n++;
  }
}

const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18];

/**
 * Read `[["px","qty"],...]` at the scanner's position into `out` (appending). On error the scanner's `err` is
 * set; the caller discards `out`. Prices must be positive (a level at price 0 is refused: Reason.ZeroPrice), sizes
 * non-negative (0 deletes); anything but an array of such levels is refused with a reason, never read as "no change". A tight loop handles the compact form the venues send; anything else (spaces,
 * extra fields, bad numbers, a scale > 9) is re-read from the start by the general path, which sets the precise
 * reason.
 *
 * The fast loop converts each decimal in the same pass that finds its end: integer digits and fraction digits go
 * into two separate small-integer accumulators (<= 9 digits each: int32 arithmetic and two short independent
 * multiply-add chains instead of one long one), fraction digits beyond the instrument's scale must be zeros
 * (Binance pads to 8), and the scaled value is hi * 10^dec + lo * 10^(dec - f). Anything outside that shape
 * (sign, exponent, > 9 integer digits, a significant digit beyond the scale, a missing quote) leaves the fast
 * loop. Bytes past the frame read as `undefined`, which fails every comparison, so the digit loops need no
 * bounds check; each number's closing quote and separators are checked against the frame end.
 */
export function readLevels(sc: Scanner, pxDec: number, qtyDec: number, out: LevelScratch): void {
  sc.ws();
  const b = sc.b;
  const e = sc.end;
  const p0 = sc.p;
  const n0 = out.n;
  // biome-ignore lint/suspicious/noConfusingLabels: a labelled block is the hot path's early exit (break fast), no flag variable
  fast: if (p0 < e && b[p0] === 91 && pxDec <= 9 && qtyDec <= 9) {
    let p = p0 + 1;
    if (b[p] === 93) {
      if (p >= e) break fast;
      sc.p = p + 1;
      return;
    }
    const pxMul = POW10[pxDec] as number;
    const qMul = POW10[qtyDec] as number;
    let opx = out.px;
    let oq = out.qty;
    let n = n0;
    for (;;) {
      if (b[p] !== 91 || b[p + 1] !== 34) break fast;
      p += 2;
      // ---- price ----
      let s = p;
      let hi = 0;
      let c = b[p] as number;
      while (c >= 48 && c <= 57) {
        hi = hi * 10 + (c - 48);
        c = b[++p] as number;
      }
      if (p === s || p - s > 9) break fast;
      let lo = 0;
      let f = 0;
      if (c === 46) {
        c = b[++p] as number;
        s = p;
        const lim = p + pxDec;
        while (p < lim && c >= 48 && c <= 57) {
          lo = lo * 10 + (c - 48);
          c = b[++p] as number;
        }
        f = p - s;
        while (c === 48) c = b[++p] as number;
        if (p === s) break fast; // "1." is not a decimal
      }
      if (c !== 34 || b[p + 1] !== 44 || b[p + 2] !== 34 || p + 2 >= e) break fast;
      const px = hi * pxMul + lo * (POW10[pxDec - f] as number);
      if (px === 0) break fast; // a price of zero: the general path names it
      p += 3;
      // ---- quantity ----
      s = p;
      hi = 0;
      c = b[p] as number;
      while (c >= 48 && c <= 57) {
        hi = hi * 10 + (c - 48);
        c = b[++p] as number;
      }
      if (p === s || p - s > 9) break fast;
      lo = 0;
      f = 0;
      if (c === 46) {
        c = b[++p] as number;
        s = p;
        const lim = p + qtyDec;
        while (p < lim && c >= 48 && c <= 57) {
          lo = lo * 10 + (c - 48);
          c = b[++p] as number;
        }
        f = p - s;
        while (c === 48) c = b[++p] as number;
        if (p === s) break fast;
      }
      if (c !== 34 || b[p + 1] !== 93 || p + 2 >= e) break fast;
      const q = hi * qMul + lo * (POW10[qtyDec - f] as number);
      if (px > 9007199254740991 || q > 9007199254740991) break fast;
      if (n === opx.length) {
        out.n = n;
        out.push(px, q); // grows the arrays (a warmed-up scratch never does)
        opx = out.px;
        oq = out.qty;
      } else {
        opx[n] = px;
        oq[n] = q;
      }
      n++;
      p += 2;
      c = b[p] as number;
      if (c === 44) {
        p++;
        continue;
      }
      if (c === 93) {
        out.n = n;
        sc.p = p + 1;
        return;
      }
      break fast;
    }
  }
  out.n = n0;
  sc.p = p0;
  readLevelsSlow(sc, pxDec, qtyDec, out);
}

function readLevelsSlow(sc: Scanner, pxDec: number, qtyDec: number, out: LevelScratch): void {
  if (!sc.expect(91 /* [ */)) return;
  let first = true;
  while (sc.moreItems(first)) {
    first = false;
    if (!sc.expect(91)) return;
    const px = sc.dec(pxDec);
    if (px === 0) {
      sc.fail(Reason.ZeroPrice);
      return;
    }
    if (!sc.expect(44 /* , */)) return;
    const q = sc.dec(qtyDec);
    if (sc.err !== Reason.Ok) return;
    // Bybit may append fields to a level one day: skip anything after the size
    while (sc.peek() === 44) {
      sc.p++;
      sc.skip();
    }
    if (!sc.expect(93 /* ] */)) return;
    out.push(px, q);
  }
}

/** Why a book resync started: index into `MdCounters.resyncReasons`, names in RESYNC_REASON_NAMES. */
export const enum ResyncReason {
  /** not counted (the first sync) */
  None = 0,
  /** sequence gap */
  Gap = 1,
  /** crossed book after an update or a snapshot */
  Crossed = 2,
  /** the connection dropped: every book on it starts over */
  Disconnect = 3,
  /** a diff rejected whole by the parser (applying around it would skip an update) */
  RejectedDiff = 4,
}

export const RESYNC_REASON_NAMES = ['none', 'gap', 'crossed', 'disconnect', 'rejected_diff'] as const;
export const RESYNC_REASON_COUNT = RESYNC_REASON_NAMES.length;

/** Counters of one adapter (all numbers, read by tests, /metrics and reports). */
export class MdCounters {
  frames = 0;
  bytes = 0;
  /** hot frames applied to a book / BotState */
  applied = 0;
  /** cold frames (acks, pongs, control responses) handled by the JSON.parse fallback */
  cold = 0;
  /** recognised but unused streams (kline, tickers...) */
  ignored = 0;
  /** frames rejected, by Reason */
  readonly parseErrors = new Float64Array(REASON_COUNT);
  /** sequence gaps detected (each triggers a resync) */
  gaps = 0;
  /** duplicate or older-than-book diffs ignored */
  duplicates = 0;
  /** diffs dropped before sync as the exchange's algorithm says (u <= lastUpdateId) */
  preSyncDropped = 0;
  /** crossed books detected (each triggers a resync) */
  crossed = 0;
  /** resyncs started (gap, crossed, reconnect, snapshot too old) */
  resyncs = 0;
  /** resyncs started, by ResyncReason */
  readonly resyncReasons = new Float64Array(RESYNC_REASON_COUNT);
  /** snapshots applied */
  snapshots = 0;
  /** REST snapshot requests that failed (HTTP error, bad body), retried with backoff */
  snapshotFailures = 0;
  /** the last failure's error and the wait before the retry (Retry-After on 429/418) */
  lastSnapshotError = '';
  lastSnapshotRetryMs = 0;
  /** REST snapshots refetched because older than the buffered diffs */
  snapshotsTooOld = 0;
  /** deltas received while no snapshot was held (Bybit) */
  deltasWithoutSnapshot = 0;
  /** staleness marks set by the watchdog (per book) */
  staleMarks = 0;
  /** books fresh again after a stale mark */
  staleRecoveries = 0;
  /** socket (re)connects after the first */
  reconnects = 0;
  /** planned connection replacements (Binance 24 h rotation) */
  rotations = 0;

  /** Count a resync started for `reason` (cold: a resync is rare). */
  resync(reason: ResyncReason): void {
    this.resyncs++;
    this.resyncReasons[reason] = (this.resyncReasons[reason] as number) + 1;
  }

  resyncsByName(): Record<string, number> {
    const o: Record<string, number> = {};
    for (let i = 1; i < RESYNC_REASON_COUNT; i++)
      if ((this.resyncReasons[i] as number) > 0) o[RESYNC_REASON_NAMES[i] as string] = this.resyncReasons[i] as number;
    return o;
  }

  /** Count a rejected frame; returns the new count for that reason. */
  reject(reason: number): number {
    const n = (this.parseErrors[reason] ?? 0) + 1;
    this.parseErrors[reason] = n;
    return n;
  }

  parseErrorsByName(): Record<string, number> {
    const o: Record<string, number> = {};
    for (let i = 1; i < REASON_COUNT; i++) if ((this.parseErrors[i] as number) > 0) o[REASON_NAMES[i] as string] = this.parseErrors[i] as number;
    return o;
  }

  totalParseErrors(): number {
    let s = 0;
    for (let i = 1; i < REASON_COUNT; i++) s += this.parseErrors[i] as number;
    return s;
  }

  snapshot(): Record<string, number | Record<string, number>> {
    return {
      frames: this.frames,
      bytes: this.bytes,
      applied: this.applied,
      cold: this.cold,
      ignored: this.ignored,
      parseErrors: this.parseErrorsByName(),
      gaps: this.gaps,
      duplicates: this.duplicates,
      preSyncDropped: this.preSyncDropped,
      crossed: this.crossed,
      resyncs: this.resyncs,
      resyncReasons: this.resyncsByName(),
      snapshots: this.snapshots,
      snapshotFailures: this.snapshotFailures,
      snapshotsTooOld: this.snapshotsTooOld,
      deltasWithoutSnapshot: this.deltasWithoutSnapshot,
      staleMarks: this.staleMarks,
      staleRecoveries: this.staleRecoveries,
      reconnects: this.reconnects,
      rotations: this.rotations,
    };
  }
}

/**
 * Counts every rejected frame and keeps the first 200 bytes of one of them per reason as a sample; the
 * `Degradations` reporter logs each batch (count per reason since its last line, with the sample) and clears the
 * sample it showed (`takeSample`), so a storm of bad frames costs counters, not log lines. Cold path: called only
 * on rejects; at most one copy per reason per reporter interval.
 */
export class RejectedFrames {
  private readonly sample: Array<string | undefined> = new Array<string | undefined>(REASON_NAMES.length).fill(undefined);

  constructor(
    private readonly counters: MdCounters,
    readonly venue: string,
  ) {}

  reject(r: number, buf: Uint8Array): void {
    this.counters.reject(r);
    if (this.sample[r] === undefined) this.sample[r] = Buffer.from(buf.buffer, buf.byteOffset, Math.min(buf.length, 200)).toString('latin1');
  }

  /** The sample frame of `reason` since the last call (then cleared). */
  takeSample(reason: number): string | undefined {
    const s = this.sample[reason];
    this.sample[reason] = undefined;
    return s;
  }
}

/** Store a per-symbol value in a decimals table, growing it for a symbol index added later (cold path). */
export function setSymbolDecimals(table: Int32Array, sym: number, v: number): Int32Array {
  let t = table;
  if (sym >= t.length) {
    t = new Int32Array(sym + 8);
    t.set(table);
  }
  t[sym] = v;
  return t;
}
