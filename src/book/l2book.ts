/**
 * L2 order book shared by every venue: aggregated levels, integer prices (price units) and sizes (qty units).
 *
 * Layout: per side one sorted Float64Array of keys and one of sizes, best level at the END (index n-1), so the
 * levels that change most often (near the top) move the fewest elements on insert/delete. Bids use key = price,
 * asks key = -price, so both sides are ascending and share one code path.
 *
 * Costs: best bid/ask O(1); set/delete = O(log n) binary search + a memmove of the levels between the changed
 * level and the top (copyWithin, i.e. a native memmove; zero for top-of-book changes); depth(n) O(n).
 * No allocation per update: the arrays only grow (doubling) when a side exceeds its capacity, which a
 * warmed-up book never does in steady state.
 */

export const BID = 0;
export const ASK = 1;
export type BookSide = typeof BID | typeof ASK;

export class L2Book {
  private bidKey: Float64Array;
  private bidQty: Float64Array;
  private askKey: Float64Array;
  private askQty: Float64Array;
  nBid = 0;
  nAsk = 0;

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

  size(side: BookSide): number {
    return side === BID ? this.nBid : this.nAsk;
  }

  /**
   * Set the absolute size of a level; qty 0 deletes it (deleting an absent level is a no-op, as both venues
   * specify). Returns false only for invalid input (negative or non-finite numbers); the book is then unchanged.
   */
  set(side: BookSide, px: number, qty: number): boolean {
    if (!(qty >= 0) || !(px >= 0)) return false;
    if (side === BID) {
      this.nBid = upsert(this.bidKey, this.bidQty, this.nBid, px, qty);
      if (this.nBid < 0) {
        this.growBid();
        this.nBid = upsert(this.bidKey, this.bidQty, -this.nBid - 1, px, qty);
      }
    } else {
      this.nAsk = upsert(this.askKey, this.askQty, this.nAsk, -px, qty);
      if (this.nAsk < 0) {
        this.growAsk();
        this.nAsk = upsert(this.askKey, this.askQty, -this.nAsk - 1, -px, qty);
      }
    }
    return true;
  }

  /**
   * Apply `n` levels of one side (absolute sizes, 0 deletes) from parallel arrays: the hot path. Same result as
   * n calls of set(), in one loop with the search and shift inlined. Negative or NaN values must have been
   * rejected by the parser (they are skipped here).
   */
  applySide(side: BookSide, pxs: Float64Array, qtys: Float64Array, n: number): void {
    const ask = side === ASK;
    let keys = ask ? this.askKey : this.bidKey;
    let qs = ask ? this.askQty : this.bidQty;
    let len = ask ? this.nAsk : this.nBid;
    for (let j = 0; j < n; j++) {
      const px = pxs[j] as number;
      const qty = qtys[j] as number;
      if (!(qty >= 0) || !(px >= 0)) continue;
      const key = ask ? -px : px;
      // lower bound: first i with keys[i] >= key; probe the top levels linearly, then binary search
      let i: number;
      if (len === 0 || (keys[len - 1] as number) < key) i = len;
      else {
        const stop = len > 8 ? len - 8 : 0;
        i = len - 1;
        while (i > stop && (keys[i - 1] as number) >= key) i--;
        if (i === stop && stop > 0 && (keys[stop - 1] as number) >= key) {
          let lo = 0;
          let hi = stop - 1;
          while (lo < hi) {
            const mid = (lo + hi) >>> 1;
            if ((keys[mid] as number) < key) lo = mid + 1;
            else hi = mid;
          }
          i = lo;
        }
      }
      if (i < len && keys[i] === key) {
        if (qty !== 0) {
          qs[i] = qty;
          continue;
        }
        // delete: shift the levels above it down by one
        if (len - 1 - i > 16) {
          keys.copyWithin(i, i + 1, len);
          qs.copyWithin(i, i + 1, len);
        } else {
          for (let m = i; m < len - 1; m++) {
            keys[m] = keys[m + 1] as number;
            qs[m] = qs[m + 1] as number;
          }
        }
        len--;
        continue;
      }
      if (qty === 0) continue; // deleting an absent level: nothing to do
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
    if (ask) this.nAsk = len;
    else this.nBid = len;
  }

  /** Size at a price, 0 if absent. */
  qtyAt(side: BookSide, px: number): number {
    const keys = side === BID ? this.bidKey : this.askKey;
    const n = side === BID ? this.nBid : this.nAsk;
    const key = side === BID ? px : -px;
    const i = lowerBound(keys, n, key);
    return i < n && keys[i] === key ? ((side === BID ? this.bidQty : this.askQty)[i] as number) : 0;
  }

  /**
   * Copy the top `n` levels of a side, best first, into caller-provided buffers. Returns the count written.
   */
  depth(side: BookSide, n: number, outPx: Float64Array | number[], outQty: Float64Array | number[]): number {
    const keys = side === BID ? this.bidKey : this.askKey;
    const qtys = side === BID ? this.bidQty : this.askQty;
    const len = side === BID ? this.nBid : this.nAsk;
    let k = n < len ? n : len;
    if (k > outPx.length) k = outPx.length;
    if (k > outQty.length) k = outQty.length;
    const sign = side === BID ? 1 : -1;
    for (let i = 0; i < k; i++) {
      const j = len - 1 - i;
      outPx[i] = sign * (keys[j] as number);
      outQty[i] = qtys[j] as number;
    }
    return k;
  }

  /** Levels as [px, qty][] best first (allocates; tests and REST-style dumps only). */
  levels(side: BookSide, n = Infinity): Array<[number, number]> {
    const len = side === BID ? this.nBid : this.nAsk;
    const k = Math.min(n, len);
    const px = new Float64Array(k);
    const q = new Float64Array(k);
    this.depth(side, k, px, q);
    const out: Array<[number, number]> = [];
    for (let i = 0; i < k; i++) out.push([px[i] as number, q[i] as number]);
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

/** First index in [0,n) with keys[i] >= key (n if none). Checks the top first: most changes are near it. */
function lowerBound(keys: Float64Array, n: number, key: number): number {
  if (n === 0) return 0;
  if ((keys[n - 1] as number) < key) return n;
  // linear probe of the top levels first (most changes are there), then binary search below them
  const stop = n > 8 ? n - 8 : 0;
  let i = n - 1;
  while (i > stop && (keys[i - 1] as number) >= key) i--;
  if (i > stop || (keys[i] as number) < key) return (keys[i] as number) < key ? i + 1 : i;
  let lo = 0;
  let hi = i;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((keys[mid] as number) < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Returns the new length, or -(n+1) when an insert needs more capacity (caller grows and retries). */
function upsert(keys: Float64Array, qtys: Float64Array, n: number, key: number, qty: number): number {
  const i = lowerBound(keys, n, key);
  if (i < n && keys[i] === key) {
    if (qty === 0) {
      if (n - 1 - i > 16) {
        keys.copyWithin(i, i + 1, n);
        qtys.copyWithin(i, i + 1, n);
      } else {
        for (let j = i; j < n - 1; j++) {
          keys[j] = keys[j + 1] as number;
          qtys[j] = qtys[j + 1] as number;
        }
      }
      return n - 1;
    }
    qtys[i] = qty;
    return n;
  }
  if (qty === 0) return n;
  if (n === keys.length) return -(n + 1);
  if (n - i > 16) {
    keys.copyWithin(i + 1, i, n);
    qtys.copyWithin(i + 1, i, n);
  } else {
    for (let j = n; j > i; j--) {
      keys[j] = keys[j - 1] as number;
      qtys[j] = qtys[j - 1] as number;
    }
  }
  keys[i] = key;
  qtys[i] = qty;
  return n + 1;
}
