/**
 * Bybit v5 orderbook sync (../shared/exchange/bybit.md §2.1), checked on every message:
 *  - a `snapshot` (or any message with u == 1: service restart) replaces the whole book: no level of the old
 *    book survives (no ghost levels after a reconnect);
 *  - a `delta` applies only when u == previous u + 1; u <= previous u is a duplicate (ignored, counted);
 *    anything else is a gap: book invalid, counted, and the adapter resubscribes the topic to get a new
 *    snapshot; deltas until then are ignored;
 *  - a crossed book after an update is treated like a gap;
 *  - a book message the parser refused (malformed, a price of 0, levels of the wrong type...) is treated like a gap
 *    too: it is never skipped as "no change".
 */
import type { BookFeed } from '../../../md/feed.js';
import type { BybitParser } from './parser.js';
import { ResyncReason } from '../../../md/common.js';

export class BybitBookSync {
  lastU = -0.5;
  /** cross sequence (seq) of the last applied message */
  lastSeq = -0.5;
  hasSnapshot = false;

  constructor(
    readonly feed: BookFeed,
    /** resubscribe the topic (unsubscribe + subscribe) so that the server sends a fresh snapshot */
    private readonly requestResync: (symbol: string) => void,
  ) {}

  get symbol(): string {
    return this.feed.inst.symbol;
  }

  /** Forget the book (reconnect, gap): invalid until the next snapshot. Counted by `reason` (None: not counted). */
  reset(reason: ResyncReason): void {
    if (reason !== ResyncReason.None) this.feed.counters.resync(reason);
    this.feed.invalidate();
    this.hasSnapshot = false;
    this.lastU = -1;
  }

  onBook(p: BybitParser): void {
    const feed = this.feed;
    const c = feed.counters;
    const u = p.u;
    if (p.snapshot || u === 1) {
      feed.book.clear();
      feed.applyLevels(p.bids, p.asks);
      c.snapshots++;
      this.hasSnapshot = true;
      this.lastU = u;
      this.lastSeq = p.seq;
      feed.topSeq = -1; // the sequence may restart
      feed.seq = u;
      feed.eventMs = p.ts >= 0 ? p.ts : 0;
      feed.recvNs = p.recvNs;
      if (!feed.commit()) this.crossed();
      return;
    }
    if (!this.hasSnapshot) {
      c.deltasWithoutSnapshot++;
      return;
    }
    if (u <= this.lastU) {
      c.duplicates++;
      return;
    }
    if (u !== this.lastU + 1) {
      c.gaps++;
      this.reset(ResyncReason.Gap);
      this.requestResync(this.symbol);
      return;
    }
    feed.applyLevels(p.bids, p.asks);
    this.lastU = u;
    this.lastSeq = p.seq;
    feed.seq = u;
    feed.eventMs = p.ts >= 0 ? p.ts : 0;
    feed.recvNs = p.recvNs;
    if (!feed.commit()) this.crossed();
  }

  /** A book message of this symbol was refused by the parser: the book missed it; resync (counted in resyncs). */
  rejected(): void {
    this.reset(ResyncReason.RejectedDiff);
    this.requestResync(this.symbol);
  }

  private crossed(): void {
    this.reset(ResyncReason.Crossed);
    this.requestResync(this.symbol);
  }
}
