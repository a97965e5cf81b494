/**
 * One symbol's local book plus its BotState slot: the venue-independent half of book sync.
 *
 * Venue sync logic (src/exchange/<venue>/md/sync.ts) decides WHETHER a message applies; this class applies
 * levels, detects a crossed book, writes top of book into BotState and keeps the validity/staleness flags.
 */
import { BID, ASK, L2Book } from '../book/l2book.js';
import { BotState, F, FIELDS_PER_SLOT, FLAG_CROSSED, FLAG_STALE, FLAG_VALID } from '../core/botstate.js';
import type { Instrument } from '../core/types.js';
import type { LevelScratch, MdCounters } from './common.js';

export class BookFeed {
  readonly book: L2Book;
  /** seq of the last top of book written to BotState (bookTicker and book compete by sequence) */
  topSeq = -1;
  /** mirrors FLAG_VALID so the hot path does not touch Atomics on every update */
  valid = false;
  stale = false;
  readonly slot: number;

  constructor(
    readonly inst: Instrument,
    readonly state: BotState,
    readonly counters: MdCounters,
    capacity = 1024,
  ) {
    this.book = new L2Book(capacity);
    this.slot = inst.slot;
    if (this.slot < 0 || this.slot >= state.slots) throw new Error(`${inst.symbol}: BotState slot ${this.slot} out of range (0..${state.slots - 1})`);
  }

  /** Apply parsed levels (absolute sizes; 0 deletes). */
  applyLevels(bids: LevelScratch, asks: LevelScratch): void {
    const book = this.book;
    const bp = bids.px;
    const bq = bids.qty;
    for (let i = 0, n = bids.n; i < n; i++) book.set(BID, bp[i] as number, bq[i] as number);
    const ap = asks.px;
    const aq = asks.qty;
    for (let i = 0, n = asks.n; i < n; i++) book.set(ASK, ap[i] as number, aq[i] as number);
  }

  /**
   * After an applied update: crossed check, top of book to BotState, validity flag. Returns false when the book
   * is crossed (flags set: caller must resync).
   */
  commit(seq: number, eventMs: number, recvNs: number): boolean {
    const book = this.book;
    if (book.crossed()) {
      this.counters.crossed++;
      this.valid = false;
      this.state.setFlag(this.slot, FLAG_CROSSED);
      this.state.clearFlag(this.slot, FLAG_VALID);
      return false;
    }
    if (seq > this.topSeq) {
      this.topSeq = seq;
      this.state.writeTop(this.slot, book.bestBidPx(), book.bestBidQty(), book.bestAskPx(), book.bestAskQty(), seq, eventMs, recvNs);
    }
    if (!this.valid) {
      this.valid = true;
      this.state.clearFlag(this.slot, FLAG_CROSSED);
      this.state.setFlag(this.slot, FLAG_VALID);
    }
    this.counters.applied++;
    return true;
  }

  /** A best bid/ask message (Binance bookTicker): written when newer than what BotState holds. */
  ticker(seq: number, bidPx: number, bidQty: number, askPx: number, askQty: number, eventMs: number, recvNs: number): void {
    if (seq > this.topSeq && bidPx < askPx) {
      this.topSeq = seq;
      this.state.writeTop(this.slot, bidPx, bidQty, askPx, askQty, seq, eventMs, recvNs);
      this.counters.applied++;
    } else {
      this.counters.duplicates++;
    }
  }

  trade(px: number, qty: number, side: number, timeMs: number, recvNs: number): void {
    this.state.writeTrade(this.slot, px, qty, side, timeMs, recvNs);
    this.counters.applied++;
  }

  /** Book no longer trustworthy (gap, reconnect): trading blocked until the next good commit. */
  invalidate(): void {
    this.valid = false;
    this.state.clearFlag(this.slot, FLAG_VALID);
    // the next snapshot restarts the sequence: let its top through whatever its id
    this.topSeq = -1;
    const o = this.slot * FIELDS_PER_SLOT + F.resyncs;
    this.state.f64[o] = (this.state.f64[o] as number) + 1;
  }

  markStale(): void {
    if (!this.stale) {
      this.stale = true;
      this.state.setFlag(this.slot, FLAG_STALE);
      this.counters.staleMarks++;
    }
  }

  clearStale(): void {
    if (this.stale) {
      this.stale = false;
      this.state.clearFlag(this.slot, FLAG_STALE);
    }
  }

  /** Note a message on this symbol's feed (for readers of BotState lastMsgNs). */
  touch(recvNs: number): void {
    this.state.f64[this.slot * FIELDS_PER_SLOT + F.lastMsgNs] = recvNs;
  }
}
