/**
 * BotState: the one struct the market-data adapters write and the engine reads.
 *
 * Fixed layout over a SharedArrayBuffer, one slot per instrument, so a worker thread can read it without copying
 * (post the `buffer` once; wrap it with `BotState.fromBuffer`). Numbers only, no objects: reading a field is an
 * indexed load, writing never allocates.
 *
 * Consistency: a per-slot seqlock. The writer makes the slot's version odd, writes, makes it even; a reader in
 * another thread retries while the version is odd or changed under it. In the same thread (the default
 * deployment) the reader always sees a consistent slot.
 *
 * Units: prices in price units (integer, 10^-priceDecimals of the instrument), sizes in quantity units.
 */

/** Float64 fields per slot. */
export const F = {
  bidPx: 0,
  bidQty: 1,
  askPx: 2,
  askQty: 3,
  /** (bid+ask)/2 in price units; may end in .5 */
  mid: 4,
  /** ask - bid in price units */
  spread: 5,
  lastTradePx: 6,
  lastTradeQty: 7,
  /** +1 buyer aggressor, -1 seller aggressor, 0 none */
  lastTradeSide: 8,
  lastTradeMs: 9,
  /** exchange event time of the last applied update, epoch ms */
  exchEventMs: 10,
  /** local monotonic receive time of the frame behind the last update, ns (src/util/clock.ts) */
  localRecvNs: 11,
  /** exchange sequence of the last applied update (Binance u, Bybit u); exact up to 2^53 */
  seq: 12,
  /** count of applied book updates */
  updates: 13,
  /** count of resyncs of this book */
  resyncs: 14,
  /** slow signals, written by background tasks, never awaited by the loop */
  fundingRate: 15,
  openInterest: 16,
  signal: 17,
  /** local monotonic ns of the last message of any kind on this symbol's feed (staleness watchdog input) */
  lastMsgNs: 18,
} as const;
export const FIELDS_PER_SLOT = 20; // room for two more without a layout change

/** Int32 fields per slot. */
export const I = {
  /** seqlock version: odd while a write is in progress */
  version: 0,
  /** FLAG_* bits */
  flags: 1,
} as const;
export const INTS_PER_SLOT = 4;

export const FLAG_VALID = 1; // book synced and not crossed
export const FLAG_STALE = 2; // no message within the staleness limit
export const FLAG_CROSSED = 4; // best bid >= best ask seen: book invalid until resync
export const FLAG_HALTED = 8; // trading blocked on this symbol by risk / kill switch

export class BotState {
  readonly slots: number;
  readonly f64: Float64Array;
  readonly i32: Int32Array;
  readonly buffer: SharedArrayBuffer;

  private constructor(buffer: SharedArrayBuffer, slots: number) {
    this.buffer = buffer;
    this.slots = slots;
    this.f64 = new Float64Array(buffer, 0, slots * FIELDS_PER_SLOT);
    this.i32 = new Int32Array(buffer, slots * FIELDS_PER_SLOT * 8, slots * INTS_PER_SLOT);
  }

  static create(slots: number): BotState {
    const buf = new SharedArrayBuffer(slots * FIELDS_PER_SLOT * 8 + slots * INTS_PER_SLOT * 4);
    return new BotState(buf, slots);
  }

  /** Wrap a buffer received from another thread (no copy). */
  static fromBuffer(buffer: SharedArrayBuffer, slots: number): BotState {
    return new BotState(buffer, slots);
  }

  get(slot: number, field: number): number {
    return this.f64[slot * FIELDS_PER_SLOT + field] as number;
  }

  set(slot: number, field: number, v: number): void {
    this.f64[slot * FIELDS_PER_SLOT + field] = v;
  }

  flags(slot: number): number {
    return Atomics.load(this.i32, slot * INTS_PER_SLOT + I.flags);
  }

  setFlag(slot: number, bit: number): void {
    Atomics.or(this.i32, slot * INTS_PER_SLOT + I.flags, bit);
  }

  clearFlag(slot: number, bit: number): void {
    Atomics.and(this.i32, slot * INTS_PER_SLOT + I.flags, ~bit);
  }

  /** Tradable: valid, not stale, not crossed, not halted. */
  tradable(slot: number): boolean {
    return (this.flags(slot) & (FLAG_VALID | FLAG_STALE | FLAG_CROSSED | FLAG_HALTED)) === FLAG_VALID;
  }

  beginWrite(slot: number): void {
    Atomics.add(this.i32, slot * INTS_PER_SLOT + I.version, 1);
  }

  endWrite(slot: number): void {
    Atomics.add(this.i32, slot * INTS_PER_SLOT + I.version, 1);
  }

  version(slot: number): number {
    return Atomics.load(this.i32, slot * INTS_PER_SLOT + I.version);
  }

  /**
   * Write top of book in one seqlocked step. Called by adapters after a book update; no allocation.
   */
  writeTop(slot: number, bidPx: number, bidQty: number, askPx: number, askQty: number, seq: number, exchEventMs: number, localRecvNs: number): void {
    const o = slot * FIELDS_PER_SLOT;
    const f = this.f64;
    this.beginWrite(slot);
    f[o + F.bidPx] = bidPx;
    f[o + F.bidQty] = bidQty;
    f[o + F.askPx] = askPx;
    f[o + F.askQty] = askQty;
    f[o + F.mid] = (bidPx + askPx) / 2;
    f[o + F.spread] = askPx - bidPx;
    f[o + F.seq] = seq;
    f[o + F.exchEventMs] = exchEventMs;
    f[o + F.localRecvNs] = localRecvNs;
    f[o + F.lastMsgNs] = localRecvNs;
    f[o + F.updates] = (f[o + F.updates] as number) + 1;
    this.endWrite(slot);
  }

  writeTrade(slot: number, px: number, qty: number, side: number, timeMs: number, localRecvNs: number): void {
    const o = slot * FIELDS_PER_SLOT;
    const f = this.f64;
    this.beginWrite(slot);
    f[o + F.lastTradePx] = px;
    f[o + F.lastTradeQty] = qty;
    f[o + F.lastTradeSide] = side;
    f[o + F.lastTradeMs] = timeMs;
    f[o + F.lastMsgNs] = localRecvNs;
    this.endWrite(slot);
  }

  /**
   * Consistent copy of one slot's float fields into `out` (length >= FIELDS_PER_SLOT) for readers in other
   * threads; retries while a write is in progress. Returns the flags read with it.
   */
  readSlot(slot: number, out: Float64Array): number {
    const o = slot * FIELDS_PER_SLOT;
    for (;;) {
      const v1 = this.version(slot);
      if ((v1 & 1) === 0) {
        for (let i = 0; i < FIELDS_PER_SLOT; i++) out[i] = this.f64[o + i] as number;
        const flags = this.flags(slot);
        if (this.version(slot) === v1) return flags;
      }
    }
  }
}
