/**
 * L2 order book shared by every venue: aggregated levels, integer prices (price units) and sizes (qty units).
 *
 * Layout: per side one sorted Float64Array of keys and one of sizes, best level at the END (index n-1), so the
 * levels that change most often (near the top) move the fewest elements on insert. Bids use key = price, asks
 * key = -price, so both sides are ascending and share one code path.
 *
 * Deletes leave a tombstone (size 0, key kept) instead of shifting the array, except at the top, where the
 * entry is simply popped (with any tombstones under it), so the entry at n-1 is always a live level. A level
 * that comes back at a tombstoned price (levels flicker a lot) is a plain store. Tombstones are compacted in one
 * pass when they exceed a quarter of the side (amortised O(1) per delete).
 *
 * Costs: best bid/ask O(1); update of an existing or tombstoned level O(log n); delete O(log n); insert of a new
 * price O(log n) + a shift of the entries between it and the top (native memmove for long shifts); depth(n)
 * O(n + tombstones in range). No allocation per update: arrays only grow (doubling) when a side exceeds its
 * capacity, which a warmed-up book never does in steady state.
 */

export const BID = 0;
/** Entries a level search walks down linearly from its upper bound before galloping. */
const LINEAR_REACH = 16;
export const ASK = 1;
export type BookSide = typeof BID | typeof ASK;

export class L2Book {
  private bidKey: Float64Array;
  private bidQty: Float64Array;
  private askKey: Float64Array;
  private askQty: Float64Array;
  /** physical entries (live + tombstones) */
  private nBid = 0;
  private nAsk = 0;
  /** tombstones among them */
  private tBid = 0;
  private tAsk = 0;
  private readonly onePx = new Float64Array(1);
  private readonly oneQty = new Float64Array(1);

  constructor(initialCapacity = 1024) {
    const c = Math.max(8, initialCapacity | 0);
    this.bidKey = new Float64Array(c);
    this.bidQty = new Float64Array(c);
    this.askKey = new Float64Array(c);
    this.askQty = new Float64Array(c);
  }

  /** Remove every level (snapshot reset). */
  clear(): void {
    this.nBid = 0;
    this.nAsk = 0;
    this.tBid = 0;
    this.tAsk = 0;
  }

  /** Best bid price, 0 when the side is empty. */
  bestBidPx(): number {
    return this.nBid > 0 ? (this.bidKey[this.nBid - 1] as number) : 0;
  }
  bestBidQty(): number {
    return this.nBid > 0 ? (this.bidQty[this.nBid - 1] as number) : 0;
  }
  /** Best ask price, 0 when the side is empty. */
  bestAskPx(): number {
    return this.nAsk > 0 ? -(this.askKey[this.nAsk - 1] as number) : 0;
  }
  bestAskQty(): number {
    return this.nAsk > 0 ? (this.askQty[this.nAsk - 1] as number) : 0;
  }

  /** Both sides non-empty and best bid >= best ask. */
  crossed(): boolean {
    return this.nBid > 0 && this.nAsk > 0 && (this.bidKey[this.nBid - 1] as number) >= -(this.askKey[this.nAsk - 1] as number);
  }

  /** Live levels on a side. */
  size(side: BookSide): number {
    return side === BID ? this.nBid - this.tBid : this.nAsk - this.tAsk;
  }

  /**
   * Set the absolute size of a level; qty 0 deletes it (deleting an absent level is a no-op, as both venues
   * specify). Returns false only for invalid input (negative or non-finite numbers); the book is then unchanged.
   */
  set(side: BookSide, px: number, qty: number): boolean {
    if (!(qty >= 0) || !(px >= 0)) return false;
    this.onePx[0] = px;
    this.oneQty[0] = qty;
    this.applySide(side, this.onePx, this.oneQty, 1);
    return true;
  }

  /**
   * Apply `n` levels of one side (absolute sizes, 0 deletes) from parallel arrays: the hot path. Negative or NaN
   * values must have been rejected by the parser (they are skipped here).
   */
  applySide(side: BookSide, pxs: Float64Array, qtys: Float64Array, n: number): void {
    const ask = side === ASK;
    let keys = ask ? this.askKey : this.bidKey;
    let qs = ask ? this.askQty : this.bidQty;
    let len = ask ? this.nAsk : this.nBid;
    let tombs = ask ? this.tAsk : this.tBid;
    // Both venues list a message's levels best first, so keys decrease along the batch: the previous level's
    // index bounds the search from above (walk, then gallop down from it); the first level starts at the top.
    let prevKey = Infinity;
    let prevI = len;
    for (let j = 0; j < n; j++) {
      const px = pxs[j] as number;
      const qty = qtys[j] as number;
      if (!(qty >= 0) || !(px >= 0)) continue;
      const key = ask ? -px : px;
      // lower bound: first i with keys[i] >= key. It is at most `hi`: the top (keys[len-1] >= key), or the
      // previous level's index when this key is lower. Walk down linearly for up to LINEAR_REACH entries (levels
      // of a message are mostly close together: one mispredicted branch at the loop exit instead of one every
      // other step of a binary search), then gallop and binary-search the last step.
      let i: number;
      if (len === 0 || (keys[len - 1] as number) < key) i = len;
      else {
        const hi = key < prevKey && prevI < len ? prevI : len;
        const stop = hi > LINEAR_REACH ? hi - LINEAR_REACH : 0;
        i = hi;
        while (i > stop && (keys[i - 1] as number) >= key) i--;
        if (i === stop && stop > 0 && (keys[stop - 1] as number) >= key) {
          let h = stop - 1; // keys[h] >= key
          let step = 1;
          let lo = h - 1;
          while (lo >= 0 && (keys[lo] as number) >= key) {
            h = lo;
            step <<= 1;
            lo = h - step;
          }
          lo = lo < 0 ? 0 : lo + 1;
          while (lo < h) {
            const mid = (lo + h) >>> 1;
            if ((keys[mid] as number) < key) lo = mid + 1;
            else h = mid;
          }
          i = h;
        }
      }
      prevKey = key;
      prevI = i;
      if (i < len && keys[i] === key) {
        const old = qs[i] as number;
        if (qty !== 0) {
          qs[i] = qty;
          if (old === 0) tombs--;
          continue;
        }
        if (old === 0) continue; // already deleted
        if (i === len - 1) {
          // the top level: pop it and any tombstones under it, so the top stays live
          len--;
          while (len > 0 && qs[len - 1] === 0) {
            len--;
            tombs--;
          }
        } else {
          qs[i] = 0;
          tombs++;
          if (tombs > 16 && tombs * 4 > len) {
            len = compact(keys, qs, len);
            tombs = 0;
          }
        }
        continue;
      }
      if (qty === 0) continue; // deleting an absent level: nothing to do
      if (len === keys.length) {
        if (tombs > 0) {
          // make room by dropping tombstones first; the insert position moves down by those below it
          let below = 0;
          for (let m = 0; m < i; m++) if (qs[m] === 0) below++;
          len = compact(keys, qs, len);
          tombs = 0;
          i -= below;
        }
        if (len === keys.length) {
          if (ask) {
            this.nAsk = len;
            this.growAsk();
            keys = this.askKey;
            qs = this.askQty;
          } else {
            this.nBid = len;
            this.growBid();
            keys = this.bidKey;
            qs = this.bidQty;
          }
        }
      }
      if (len - i > 16) {
        keys.copyWithin(i + 1, i, len);
        qs.copyWithin(i + 1, i, len);
      } else {
        for (let m = len; m > i; m--) {
          keys[m] = keys[m - 1] as number;
          qs[m] = qs[m - 1] as number;
        }
      }
      keys[i] = key;
      qs[i] = qty;
      len++;
    }
    if (ask) {
      this.nAsk = len;
      this.tAsk = tombs;
    } else {
      this.nBid = len;
      this.tBid = tombs;
    }
  }

  /** Size at a price, 0 if absent. */
  qtyAt(side: BookSide, px: number): number {
    const keys = side === BID ? this.bidKey : this.askKey;
    const n = side === BID ? this.nBid : this.nAsk;
    const key = side === BID ? px : -px;
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((keys[mid] as number) < key) lo = mid + 1;
      else hi = mid;
    }
    return lo < n && keys[lo] === key ? ((side === BID ? this.bidQty : this.askQty)[lo] as number) : 0;
  }

  /**
   * Copy the top `n` live levels of a side, best first, into caller-provided buffers. Returns the count written.
   */
  depth(side: BookSide, n: number, outPx: Float64Array | number[], outQty: Float64Array | number[]): number {
    const keys = side === BID ? this.bidKey : this.askKey;
    const qtys = side === BID ? this.bidQty : this.askQty;
    const len = side === BID ? this.nBid : this.nAsk;
    let k = n;
    if (k > outPx.length) k = outPx.length;
    if (k > outQty.length) k = outQty.length;
    const sign = side === BID ? 1 : -1;
    let w = 0;
    for (let j = len - 1; j >= 0 && w < k; j--) {
      const q = qtys[j] as number;
      if (q === 0) continue;
      outPx[w] = sign * (keys[j] as number);
      outQty[w] = q;
      w++;
    }
    return w;
  }

  /** Levels as [px, qty][] best first (allocates; tests and REST-style dumps only). */
  levels(side: BookSide, n = Infinity): Array<[number, number]> {
    const k = Math.min(n, this.size(side));
    const px = new Float64Array(k);
    const q = new Float64Array(k);
    const w = this.depth(side, k, px, q);
    const out: Array<[number, number]> = [];
    for (let i = 0; i < w; i++) out.push([px[i] as number, q[i] as number]);
    return out;
  }

  private growBid(): void {
    const c = this.bidKey.length * 2;
    const k = new Float64Array(c);
    k.set(this.bidKey);
    const q = new Float64Array(c);
    q.set(this.bidQty);
    this.bidKey = k;
    this.bidQty = q;
  }

  private growAsk(): void {
    const c = this.askKey.length * 2;
    const k = new Float64Array(c);
    k.set(this.askKey);
    const q = new Float64Array(c);
    q.set(this.askQty);
    this.askKey = k;
    this.askQty = q;
  }
}

/** Drop tombstones (size 0) in place, keeping order; returns the new length. */
function compact(keys: Float64Array, qs: Float64Array, len: number): number {
  let w = 0;
  for (let r = 0; r < len; r++) {
    const q = qs[r] as number;
    if (q === 0) continue;
    if (w !== r) {
      keys[w] = keys[r] as number;
      qs[w] = q;
    }
    w++;
  }
  return w;
}
