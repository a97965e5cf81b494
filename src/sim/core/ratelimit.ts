/**
 * Cheap request-weight counters for the venues' rate-limit headers and their 429 / 418 answers.
 *
 * - `FixedWindow`: weight used in the current window aligned to the epoch (Binance's X-MBX-USED-WEIGHT-1M and
 *   X-MBX-ORDER-COUNT-10S reset at minute / 10 s boundaries of server time).
 * - `SlidingWindow`: weight in the last `intervalMs`, kept in `buckets` sub-windows (Bybit's per-second limits).
 * - `RateLimiter`: one counter per key (API key or IP) with a limit, an over-limit answer (429) and, after
 *   `banAfter` over-limit hits inside one window, a ban (418) for `banMs`, as Binance does.
 *
 * All methods take `nowMs` (the venue's server clock, `ctx.nowMs(market)`); no timers, no allocation per hit.
 */

export interface WindowCounter {
  readonly intervalMs: number;
  /** add `weight` at `nowMs`; returns the weight used in the window including this one */
  add(weight: number, nowMs: number): number;
  /** weight used in the window at `nowMs` */
  used(nowMs: number): number;
  /** epoch ms at which the used weight next drops (end of the current window / oldest bucket) */
  resetAtMs(nowMs: number): number;
}

export class FixedWindow implements WindowCounter {
  private windowStart = -1;
  private total = 0;
  constructor(readonly intervalMs: number) {
    if (!(intervalMs > 0)) throw new Error('FixedWindow: intervalMs must be > 0');
  }
  private roll(nowMs: number): void {
    const start = nowMs - (nowMs % this.intervalMs);
    if (start !== this.windowStart) {
      this.windowStart = start;
      this.total = 0;
    }
  }
  add(weight: number, nowMs: number): number {
    this.roll(nowMs);
    this.total += weight;
    return this.total;
  }
  used(nowMs: number): number {
    this.roll(nowMs);
    return this.total;
  }
  resetAtMs(nowMs: number): number {
    return nowMs - (nowMs % this.intervalMs) + this.intervalMs;
  }
}

export class SlidingWindow implements WindowCounter {
  private readonly bucketMs: number;
  private readonly counts: Float64Array;
  private readonly starts: Float64Array;
  constructor(
    readonly intervalMs: number,
    buckets = 10,
  ) {
    if (!(intervalMs > 0) || !(buckets >= 1)) throw new Error('SlidingWindow: intervalMs > 0 and buckets >= 1');
    this.bucketMs = Math.max(1, Math.ceil(intervalMs / buckets));
    const n = Math.ceil(intervalMs / this.bucketMs);
    this.counts = new Float64Array(n);
    this.starts = new Float64Array(n).fill(-Infinity);
  }
  private slot(nowMs: number): number {
    const start = nowMs - (nowMs % this.bucketMs);
    const i = Math.floor(start / this.bucketMs) % this.counts.length;
    if (this.starts[i] !== start) {
      this.starts[i] = start;
      this.counts[i] = 0;
    }
    return i;
  }
  add(weight: number, nowMs: number): number {
    const i = this.slot(nowMs);
    this.counts[i]! += weight;
    return this.used(nowMs);
  }
  used(nowMs: number): number {
    const oldest = nowMs - this.intervalMs;
    let sum = 0;
    for (let i = 0; i < this.counts.length; i++) {
      const s = this.starts[i]!;
      if (s > oldest && s <= nowMs) sum += this.counts[i]!;
    }
    return sum;
  }
  resetAtMs(nowMs: number): number {
    const oldest = nowMs - this.intervalMs;
    let min = Infinity;
    for (let i = 0; i < this.counts.length; i++) {
      const s = this.starts[i]!;
      if (s > oldest && s <= nowMs && this.counts[i]! > 0 && s < min) min = s;
    }
    return min === Infinity ? nowMs : min + this.intervalMs;
  }
}

export interface RateCheck {
  /** 'ok' serve; 'limited' answer 429 (Binance -1003); 'banned' answer 418 */
  verdict: 'ok' | 'limited' | 'banned';
  /** weight used in the window after this request (what the used-weight header reports) */
  used: number;
  limit: number;
  /** seconds until the client may retry (Retry-After) when not ok */
  retryAfterSec: number;
  /** epoch ms at which the window resets (Bybit's X-Bapi-Limit-Reset-Timestamp) */
  resetAtMs: number;
}

export interface RateLimiterOptions {
  limit: number;
  intervalMs: number;
  sliding?: boolean;
  /** over-limit requests inside one window before a ban (418); 0 = never ban. Default 0. */
  banAfter?: number;
  /** ban length; default 2 minutes (Binance starts at 2 min) */
  banMs?: number;
  /** at most this many keys kept (oldest dropped); default 10,000 */
  maxKeys?: number;
}

interface KeyState {
  counter: WindowCounter;
  overHits: number;
  overWindowEnd: number;
  bannedUntil: number;
}

/** Per-key weight limiter. Over-limit requests do not count toward the weight (as on Binance). */
export class RateLimiter {
  private readonly keys = new Map<string, KeyState>();
  constructor(readonly opts: RateLimiterOptions) {}

  private state(key: string): KeyState {
    let s = this.keys.get(key);
    if (!s) {
      if (this.keys.size >= (this.opts.maxKeys ?? 10_000)) {
        const first = this.keys.keys().next();
        if (!first.done) this.keys.delete(first.value);
      }
      s = {
        counter: this.opts.sliding ? new SlidingWindow(this.opts.intervalMs) : new FixedWindow(this.opts.intervalMs),
        overHits: 0,
        overWindowEnd: 0,
        bannedUntil: 0,
      };
      this.keys.set(key, s);
    }
    return s;
  }

  /** Account for a request of `weight` by `key` at `nowMs` and say whether to serve it. */
  hit(key: string, weight: number, nowMs: number): RateCheck {
    const s = this.state(key);
    const limit = this.opts.limit;
    if (s.bannedUntil > nowMs) {
      return { verdict: 'banned', used: s.counter.used(nowMs), limit, retryAfterSec: Math.ceil((s.bannedUntil - nowMs) / 1000), resetAtMs: s.bannedUntil };
    }
    const before = s.counter.used(nowMs);
    const resetAtMs = s.counter.resetAtMs(nowMs);
    if (before + weight > limit) {
      if (nowMs >= s.overWindowEnd) {
        s.overHits = 0;
        s.overWindowEnd = resetAtMs;
      }
      s.overHits++;
      const banAfter = this.opts.banAfter ?? 0;
      if (banAfter > 0 && s.overHits >= banAfter) {
        s.bannedUntil = nowMs + (this.opts.banMs ?? 120_000);
        return { verdict: 'banned', used: before, limit, retryAfterSec: Math.ceil((s.bannedUntil - nowMs) / 1000), resetAtMs: s.bannedUntil };
      }
      return { verdict: 'limited', used: before, limit, retryAfterSec: Math.max(1, Math.ceil((resetAtMs - nowMs) / 1000)), resetAtMs };
    }
    const used = s.counter.add(weight, nowMs);
    return { verdict: 'ok', used, limit, retryAfterSec: 0, resetAtMs };
  }

  /** Weight used by `key` now (for headers on requests that do not count). */
  used(key: string, nowMs: number): number {
    const s = this.keys.get(key);
    return s ? s.counter.used(nowMs) : 0;
  }

  /** Forget all keys (tests, `clear` fault). */
  reset(): void {
    this.keys.clear();
  }
}
