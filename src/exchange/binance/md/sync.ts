/**
 * Binance local order book sync, exactly as documented (see ../shared/exchange/binance.md §3), checked on every
 * message:
 *
 * Spot: buffer diffs; REST snapshot (lastUpdateId = L); drop diffs with u <= L; the first applied one must have
 *   U <= L+1 <= u; afterwards U == previous u + 1.
 * USD-M: buffer diffs; REST snapshot; drop diffs with u < L; the first applied one must have U <= L <= u;
 *   afterwards pu == previous u.
 * A diff with u <= previous u is a duplicate (ignored, counted). Anything else out of line is a gap: book
 * invalid, counted, buffer from this diff on, fetch a new snapshot. A crossed book after an update is treated
 * the same way, and so is a diff the parser refused (parser.ts: whole or not at all). A snapshot older than the
 * buffered diffs is fetched again.
 *
 * Buffering during a resync copies frames (allocation only while unsynced; none in steady state).
 */
import type { BookFeed } from '../../../md/feed.js';
import { ResyncReason, type LevelScratch } from '../../../md/common.js';
import { BnMsg, type BinanceParser } from './parser.js';

export const enum BnSyncState {
  /** waiting for a REST snapshot, buffering diffs */
  Buffering = 0,
  /** snapshot applied, waiting for the diff that straddles it */
  WaitFirst = 1,
  Live = 2,
}

export interface SnapshotRequest {
  symbol: string;
  /** identifies the sync attempt; a reply for an older epoch is ignored */
  epoch: number;
}

export class BinanceBookSync {
  state: BnSyncState = BnSyncState.Buffering;
  /** last applied u (or the snapshot's lastUpdateId); fractional start value: a V8 Double field */
  lastU = -0.5;
  epoch = 0;
  snapshotPending = false;
  private buffer: Uint8Array[] = [];
  private bufferU: number[] = [];

  constructor(
    readonly feed: BookFeed,
    readonly futures: boolean,
    /** ask the adapter for a REST snapshot; it calls onSnapshot(epoch, ...) later */
    private readonly requestSnapshot: (req: SnapshotRequest) => void,
    readonly maxBuffered = 5000,
  ) {}

  get symbol(): string {
    return this.feed.inst.symbol;
  }

  /**
   * Start (or restart) a sync from scratch: invalid book, empty buffer, snapshot requested on the first diff.
   * Counted by `reason` (ResyncReason.None: not counted).
   */
  reset(reason: ResyncReason): void {
    if (reason !== ResyncReason.None) this.feed.counters.resync(reason);
    this.feed.invalidate();
    this.state = BnSyncState.Buffering;
    this.lastU = -1;
    this.epoch++;
    this.snapshotPending = false;
    this.buffer = [];
    this.bufferU = [];
  }

  /** A parsed depthUpdate for this symbol; `frame` is the raw bytes (copied only while buffering). */
  onDiff(p: BinanceParser, frame: Uint8Array): void {
    if (this.state === BnSyncState.Buffering) {
      this.bufferFrame(p, frame);
      return;
    }
    const U = p.U;
    const u = p.u;
    const c = this.feed.counters;
    if (this.futures && p.pu < 0) {
      c.reject(9 /* MissingField */);
      return;
    }
    if (this.state === BnSyncState.WaitFirst) {
      const L = this.lastU;
      if (this.futures ? u < L : u <= L) {
        c.preSyncDropped++;
        return;
      }
      if (this.futures ? U > L : U > L + 1) {
        this.gap(p, frame);
        return;
      }
    } else {
      if (u <= this.lastU) {
        c.duplicates++;
        return;
      }
      if (this.futures ? p.pu !== this.lastU : U !== this.lastU + 1) {
        this.gap(p, frame);
        return;
      }
    }
    const feed = this.feed;
    feed.applyLevels(p.bids, p.asks);
    this.lastU = u;
    this.state = BnSyncState.Live;
    feed.seq = u;
    feed.eventMs = p.E >= 0 ? p.E : 0;
    feed.recvNs = p.recvNs;
    if (!feed.commit()) {
      // crossed: the book is wrong somewhere; start over from a snapshot (this diff is already in it)
      this.reset(ResyncReason.Crossed);
      this.bufferFrame(p, frame);
    }
  }

  /**
   * REST snapshot for `epoch`. Levels already scaled. `reparse` re-parses a buffered frame into the parser and
   * returns whether it is a diff for this symbol.
   */
  onSnapshot(epoch: number, lastUpdateId: number, bids: LevelScratch, asks: LevelScratch, eventMs: number, recvNs: number, p: BinanceParser): void {
    if (epoch !== this.epoch || this.state !== BnSyncState.Buffering) return; // reply to an abandoned attempt
    this.snapshotPending = false;
    const L = lastUpdateId;
    const c = this.feed.counters;
    const firstU = this.bufferU.length > 0 ? (this.bufferU[0] as number) : -1;
    if (firstU >= 0 && (this.futures ? L < firstU : L + 1 < firstU)) {
      // the snapshot is older than the first diff we hold: the diffs in between are lost; fetch again
      c.snapshotsTooOld++;
      this.requestNow();
      return;
    }
    const feed = this.feed;
    feed.book.clear();
    feed.applyLevels(bids, asks);
    c.snapshots++;
    this.lastU = L;
    this.state = BnSyncState.WaitFirst;
    feed.seq = L;
    feed.eventMs = eventMs;
    feed.recvNs = recvNs;
    if (!feed.commit()) {
      this.reset(ResyncReason.Crossed);
      this.requestNow();
      return;
    }
    const buffered = this.buffer;
    this.buffer = [];
    this.bufferU = [];
    for (const f of buffered) {
      if (p.parse(f) !== 0 || p.kind !== BnMsg.Depth || p.sym < 0) continue;
      p.recvNs = recvNs;
      this.onDiff(p, f);
    }
  }

  /**
   * A diff of this symbol was refused by the parser (malformed, levels of the wrong type, a price of 0...): the book
   * missed an update, so it starts over from a snapshot (counted in resyncs), never skipping it as "no change".
   */
  rejected(): void {
    this.reset(ResyncReason.RejectedDiff);
    this.requestNow();
  }

  /** Ask for a snapshot unless one is in flight. */
  requestNow(): void {
    if (this.snapshotPending) return;
    this.snapshotPending = true;
    this.requestSnapshot({ symbol: this.feed.inst.symbol, epoch: this.epoch });
  }

  /** The snapshot request failed: allow a new one (the adapter retries with backoff). */
  snapshotFailed(epoch: number): void {
    if (epoch === this.epoch) this.snapshotPending = false;
  }

  private gap(p: BinanceParser, frame: Uint8Array): void {
    this.feed.counters.gaps++;
    this.reset(ResyncReason.Gap);
    this.bufferFrame(p, frame);
  }

  private bufferFrame(p: BinanceParser, frame: Uint8Array): void {
    if (this.buffer.length >= this.maxBuffered) {
      this.buffer.shift();
      this.bufferU.shift();
    }
    this.bufferU.push(p.U);
    this.buffer.push(Uint8Array.prototype.slice.call(frame) as Uint8Array);
    this.requestNow();
  }

  get bufferedCount(): number {
    return this.buffer.length;
  }
}
