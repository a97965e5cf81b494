/**
 * One symbol's local book plus its BotState slot: the venue-independent half of book sync.
 *
 * Venue sync logic (src/exchange/<venue>/md/sync.ts) decides WHETHER a message applies; this class applies
 * levels, detects a crossed book, writes top of book into BotState and keeps the validity/staleness flags.
 *
 * Zero allocation: large numbers (sequences ~1e11, epoch ms, ns) never cross a function call as arguments or
 * return values (V8 would box each into a new HeapNumber unless the call is inlined). The caller stores the
 * inputs in the Double fields below (`seq`, `eventMs`, `recvNs`, ...), then calls commit()/ticker()/trade()
 * without arguments; BotState is written directly through its typed arrays with the same seqlock protocol as
 * BotState.writeTop/writeTrade.
 *
 * Event path: `onTop(slot)` is called once per frame whose updates changed top of book in BotState, by the
 * market-data adapter after it has written BotState and recorded the frame's hops (`flushTop()`), so the engine's
 * reaction (strategy, risk, order send) is not counted in the adapter's apply / recv_to_state hops; a REST
 * snapshot (and the buffered diffs replayed on it) also ends in one `flushTop()`.
 */
import { BID, ASK, L2Book } from '../book/l2book.js';
import { type BotState, F, FIELDS_PER_SLOT, FLAG_CROSSED, FLAG_STALE, FLAG_VALID, I, INTS_PER_SLOT } from '../model/botstate.js';
import type { Instrument } from '../model/types.js';
import type { LevelScratch, MdCounters } from './common.js';
import { nowNs, wallMsOf } from '../util/clock.js';
import { Hop, type HopRecorder } from '../util/hops.js';

export class BookFeed {
  readonly book: L2Book;
  /** seq of the last top of book written to BotState (bookTicker and book compete by sequence) */
  topSeq = -0.5;
  /** mirrors FLAG_VALID so the hot path does not touch Atomics on every update */
  valid = false;
  stale = false;
  readonly slot: number;

  // ---- inputs of commit() / ticker() / trade(); fractional initial values give V8 Double fields ----
  /** exchange sequence of the update (Binance u, Bybit u) */
  seq = 0.5;
  /** exchange event time, epoch ms (0 if unknown) */
  eventMs = 0.5;
  /** local receive time of the frame, ns (src/util/clock.ts) */
  recvNs = 0.5;
  bidPx = 0.5;
  bidQty = 0.5;
  askPx = 0.5;
  askQty = 0.5;
  tradePx = 0.5;
  tradeQty = 0.5;
  /** +1 buyer aggressor, -1 seller */
  tradeSide = 0;
  tradeMs = 0.5;

  /** stamp `appliedNs` in commit()/ticker() (set by an adapter that records hops) */
  stampNs = false;
  /** ns when the last commit()/ticker() began: the book was applied, BotState not written yet (hop state_write) */
  appliedNs = 0.5;

  /** the engine's event path: called by `flushTop()` when top of book changed since the last call */
  onTop: ((slot: number) => void) | null = null;
  /** called after each trade was written to BotState (paper trading's matcher; null otherwise) */
  onTrade: ((slot: number) => void) | null = null;
  /** top of book written to BotState since the last `flushTop()` */
  topChanged = false;

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
    if (bids.n > 0) this.book.applySide(BID, bids.px, bids.qty, bids.n);
    if (asks.n > 0) this.book.applySide(ASK, asks.px, asks.qty, asks.n);
  }

  /**
   * After an applied update (inputs: seq, eventMs, recvNs): crossed check, top of book to BotState, validity
   * flag. Returns false when the book is crossed (flags set: caller must resync).
   */
  commit(): boolean {
    if (this.stampNs) this.appliedNs = nowNs();
    const book = this.book;
    if (book.crossed()) {
      this.counters.crossed++;
      this.valid = false;
      this.state.setFlag(this.slot, FLAG_CROSSED);
      this.state.clearFlag(this.slot, FLAG_VALID);
      return false;
    }
    if (this.seq > this.topSeq) {
      this.topSeq = this.seq;
      this.bidPx = book.bestBidPx();
      this.bidQty = book.bestBidQty();
      this.askPx = book.bestAskPx();
      this.askQty = book.bestAskQty();
      this.writeTop();
    }
    if (!this.valid) {
      this.valid = true;
      this.state.clearFlag(this.slot, FLAG_CROSSED);
      this.state.setFlag(this.slot, FLAG_VALID);
    }
    this.counters.applied++;
    return true;
  }

  /** A best bid/ask message (Binance bookTicker; inputs seq, bid/ask px/qty, eventMs, recvNs): written when newer. */
  ticker(): void {
    if (this.stampNs) this.appliedNs = nowNs();
    if (this.seq > this.topSeq && this.bidPx < this.askPx) {
      this.topSeq = this.seq;
      this.writeTop();
      this.counters.applied++;
    } else {
      this.counters.duplicates++;
    }
  }

  /**
   * Called by the adapter at the end of a frame (after its hop stamps) and after a REST snapshot: runs `onTop`
   * once if this frame changed top of book. Cleared before the call, so an `onTop` that throws does not repeat.
   */
  flushTop(): void {
    if (this.topChanged) {
      this.topChanged = false;
      const h = this.onTop;
      if (h !== null) h(this.slot);
    }
  }

  /** Last trade (inputs tradePx, tradeQty, tradeSide, tradeMs, recvNs). */
  trade(): void {
    const st = this.state;
    const f = st.f64;
    const o = this.slot * FIELDS_PER_SLOT;
    const v = this.slot * INTS_PER_SLOT + I.version;
    Atomics.add(st.i32, v, 1);
    f[o + F.lastTradePx] = this.tradePx;
    f[o + F.lastTradeQty] = this.tradeQty;
    f[o + F.lastTradeSide] = this.tradeSide;
    f[o + F.lastTradeMs] = this.tradeMs;
    f[o + F.lastMsgNs] = this.recvNs;
    Atomics.add(st.i32, v, 1);
    this.counters.applied++;
    const h = this.onTrade;
    if (h !== null) h(this.slot);
  }

  /**
   * The frame's market-data hops, at its end (both venues' adapters): parse (received -> parsed), apply (parsed ->
   * book applied: `appliedNs`, stamped when this frame reached commit()/ticker()), state_write (-> BotState written),
   * recv_to_state, and feed_delay from the exchange's event time (`exchMs` > 0). A frame that never reached
   * commit()/ticker() (a trade) has apply = parsed -> now.
   */
  recordHops(hops: HopRecorder, venue: number, recvNs: number, parsedNs: number, exchMs: number): void {
    const t = nowNs();
    hops.record(Hop.Parse, venue, parsedNs - recvNs);
    const ap = this.appliedNs;
    if (ap >= parsedNs && ap <= t) {
      hops.record(Hop.Apply, venue, ap - parsedNs);
      hops.record(Hop.StateWrite, venue, t - ap);
    } else hops.record(Hop.Apply, venue, t - parsedNs);
    hops.record(Hop.RecvToState, venue, t - recvNs);
    if (exchMs > 0) hops.record(Hop.FeedDelay, venue, (wallMsOf(recvNs) - exchMs) * 1e6);
  }

  /** Same layout and seqlock as BotState.writeTop, from the fields (no boxed arguments). */
  private writeTop(): void {
    const st = this.state;
    const f = st.f64;
    const o = this.slot * FIELDS_PER_SLOT;
    const v = this.slot * INTS_PER_SLOT + I.version;
    const bid = this.bidPx;
    const ask = this.askPx;
    Atomics.add(st.i32, v, 1);
    f[o + F.bidPx] = bid;
    f[o + F.bidQty] = this.bidQty;
    f[o + F.askPx] = ask;
    f[o + F.askQty] = this.askQty;
    f[o + F.mid] = (bid + ask) / 2;
    f[o + F.spread] = ask - bid;
    f[o + F.seq] = this.seq;
    f[o + F.exchEventMs] = this.eventMs;
    f[o + F.localRecvNs] = this.recvNs;
    f[o + F.lastMsgNs] = this.recvNs;
    f[o + F.updates] = (f[o + F.updates] as number) + 1;
    Atomics.add(st.i32, v, 1);
    this.topChanged = true;
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
      this.counters.staleRecoveries++;
      this.state.clearFlag(this.slot, FLAG_STALE);
    }
  }

  /** Note a message on this symbol's feed (for readers of BotState lastMsgNs). */
  touch(recvNs: number): void {
    this.state.f64[this.slot * FIELDS_PER_SLOT + F.lastMsgNs] = recvNs;
  }
}
