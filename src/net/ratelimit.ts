/**
 * Venue rate limits, checked before every send from the venues' own signals. Nothing here allocates per request.
 *
 * Binance (per IP: request weight per minute; per account: orders per 10 s and per minute (USD-M) / day (Spot)).
 * Every request is booked before it is sent (`bookBinance`: its documented weight, 1 order for an order) and settled
 * when its answer comes (`fromBinanceHeaders`: `X-MBX-USED-WEIGHT-1M`, `X-MBX-ORDER-COUNT-10S/-1M/-1D`; or
 * `fromBinanceRateLimits`: the WS API's `rateLimits`). The venue's count then replaces the local one (plus what is
 * still in flight), so the local count follows the venue (a successful Spot order costs 0 weight, the local booking
 * 1; other processes on the same IP). The windows are fixed and aligned on server time, as Binance's.
 *
 * The weight rule (so that other calls never starve orders): the usable weight per minute is `limit × headroom`.
 * Order-path requests (place, cancel, amend, cancel-all) may use all of it; every other call (queries, open orders,
 * account, trade history, exchangeInfo, listenKey, the dead man's switch) only up to
 * `limit × (headroom − orderReserve)`: the last `orderReserve` of the budget is kept for orders and cancels.
 *
 * Bybit (per UID, per endpoint, 1 s window): one `BybitSlot` per endpoint, precomputed by the gateway (REST and the
 * trade WS share them, as on Bybit). Each answer's `X-Bapi-Limit` / `-Status` / `-Reset-Timestamp` (REST headers,
 * the trade WS's `header` object) sets the slot; sends booked since then count on top of it.
 * Bybit per IP (600 HTTP requests per 5 s, 403 beyond): one `IpWindow` for the process (`BYBIT_IP_WINDOW`) books
 * every REST request of every Bybit gateway before it is sent.
 *
 * 429 backs off for Retry-After seconds (nothing was done); 418 (Bybit 403) bans the IP until Retry-After (ends by
 * itself) or, without one, until an operator resumes.
 */

export interface BinanceLimits {
  weightPerMinute: number;
  ordersPer10s: number;
  /** USD-M: orders per minute (0 = none) */
  ordersPerMinute: number;
  /** Spot: orders per day (0 or absent = none) */
  ordersPerDay?: number;
  /** fraction of a limit at which we stop sending before the exchange refuses us */
  headroom: number;
  /** fraction of the weight limit kept for order-path requests (default 0.2) */
  orderReserve?: number;
}

export const BINANCE_SPOT_LIMITS: BinanceLimits = { weightPerMinute: 6000, ordersPer10s: 50, ordersPerMinute: 0, ordersPerDay: 160_000, headroom: 0.95 };
export const BINANCE_USDM_LIMITS: BinanceLimits = { weightPerMinute: 2400, ordersPer10s: 300, ordersPerMinute: 1200, headroom: 0.95 };

export type HeaderBag = Record<string, string | string[] | undefined>;

function header(h: HeaderBag, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

/** a header's non-negative integer, NaN when absent or not one */
function headerInt(h: HeaderBag, name: string): number {
  const v = header(h, name);
  if (v === undefined || v.length === 0) return NaN;
  const n = Number(v);
  return Number.isInteger(n) && n >= 0 ? n : NaN;
}

/**
 * One fixed window aligned on server time (Binance's minute / 10 s / day counters) with the local bookings:
 * `used` = the venue's last count in this window plus what was booked since and is still in flight.
 */
export class FixedBudget {
  used = 0;
  /** booked and not yet answered (any window) */
  inflight = 0;
  private start = -1;

  constructor(
    /** 0 = no limit */
    public limit: number,
    readonly intervalMs: number,
  ) {}

  private roll(now: number): void {
    const s = now - (now % this.intervalMs);
    if (s !== this.start) {
      this.start = s;
      this.used = this.inflight; // a request in flight may count in the new window
    }
  }

  /** ms until `w` more fits under `limit × frac` (0 = now) */
  waitMs(now: number, w: number, frac: number): number {
    if (this.limit <= 0) return 0;
    this.roll(now);
    return this.used + w > this.limit * frac ? this.start + this.intervalMs - now : 0;
  }

  book(now: number, w: number): void {
    this.roll(now);
    this.used += w;
    this.inflight += w;
  }

  /**
   * The answer to a request of `w` booked at `bookedAt` came with the venue's count (NaN: none). The count is taken
   * only when the request was booked in the current window (an answer from the previous one says nothing of this).
   */
  settle(now: number, w: number, bookedAt: number, count: number): void {
    this.inflight = this.inflight > w ? this.inflight - w : 0;
    this.roll(now);
    if (count === count && bookedAt - (bookedAt % this.intervalMs) === this.start) this.used = count + this.inflight;
  }

  /** end of the current window (epoch ms, server time) */
  endMs(now: number): number {
    return now - (now % this.intervalMs) + this.intervalMs;
  }
}

/**
 * One Bybit endpoint's limit (per UID, per `windowMs`, 1 s on Bybit) from its answers' `X-Bapi-Limit*` fields, plus
 * the sends booked since the last answer. Before the first answer the documented default limit applies.
 */
export class BybitSlot {
  /** X-Bapi-Limit */
  limit: number;
  /** requests the venue counted at the last answer (limit − status), plus what was in flight then */
  private venueUsed = 0;
  /** local time of the last answer with the fields */
  private answerAt = -Infinity;
  /** sends booked since that answer */
  private sinceAnswer = 0;
  /** last booked send */
  private lastBookAt = -Infinity;
  /** booked and not yet answered */
  private inflight = 0;
  /** exhausted until (the reset timestamp of an answer with no requests left) */
  private resetAt = 0;
  /** local refusals because of this slot */
  refused = 0;

  constructor(
    readonly name: string,
    defaultLimit: number,
    readonly windowMs = 1000,
  ) {
    this.limit = defaultLimit;
  }

  /** requests the venue is counting now (estimate, never below the truth unless another client shares the UID) */
  usedEstimate(now: number): number {
    if (now - this.lastBookAt >= this.windowMs && now - this.answerAt >= this.windowMs) return 0;
    return now - this.answerAt < this.windowMs ? this.venueUsed + this.sinceAnswer : this.sinceAnswer;
  }

  /** ms until one more request fits under `limit × headroom` (0 = now) */
  waitMs(now: number, headroom: number): number {
    if (this.resetAt > now) return this.resetAt - now;
    if (this.usedEstimate(now) + 1 <= Math.max(1, Math.floor(this.limit * headroom))) return 0;
    // the answer's count expires one window after it; what was booked, one window after the last booking
    const w = Math.max(this.answerAt + this.windowMs, this.lastBookAt + this.windowMs) - now;
    return w > 0 ? w : 1;
  }

  book(now: number): void {
    this.sinceAnswer++;
    this.inflight++;
    this.lastBookAt = now;
  }

  /** an answer: the request is no longer in flight; the fields (NaN when absent) set the slot */
  settle(now: number, limit: number, status: number, resetTs: number): void {
    if (this.inflight > 0) this.inflight--;
    if (status !== status) return;
    if (limit === limit && limit > 0) this.limit = limit;
    this.venueUsed = Math.max(0, this.limit - status) + this.inflight;
    this.answerAt = now;
    this.sinceAnswer = 0;
    this.resetAt = status <= 0 && resetTs === resetTs && resetTs > now ? resetTs : 0;
  }

  /** an answer without the fields (transport failure): only no longer in flight */
  release(): void {
    if (this.inflight > 0) this.inflight--;
  }
}

/**
 * A per-IP request-count window: at most `limit × headroom` requests in any `windowMs` (sliding, over the local send
 * times). Bybit limits an IP to 600 HTTP requests per 5 s across its REST hosts and answers HTTP 403 beyond, then
 * wants ≥ 10 min of silence (../shared/exchange/bybit.md §8), so every Bybit REST request of the process is booked
 * here before it is sent (`BYBIT_IP_WINDOW`, shared by all Bybit gateways). A booking stays counted `marginMs` beyond
 * the window (the venue counts it when it arrives, a little later). A ring of send times: no allocation per request.
 */
export class IpWindow {
  private cap: number;
  private ring: Float64Array;
  /** next ring slot to write (the oldest booking once the ring is full) */
  private head = 0;
  private count = 0;
  /** requests refused or deferred because of this window */
  refused = 0;
  deferred = 0;

  constructor(
    limit: number,
    readonly windowMs: number,
    readonly headroom = 0.95,
    readonly marginMs = 100,
  ) {
    this.cap = Math.max(1, Math.floor(limit * headroom));
    this.ring = new Float64Array(this.cap);
  }

  /** the usable count per window (`limit × headroom`) */
  get capacity(): number {
    return this.cap;
  }

  /** Change the limit (tests, a venue that states another); bookings so far are forgotten. */
  setLimit(limit: number): void {
    this.cap = Math.max(1, Math.floor(limit * this.headroom));
    this.ring = new Float64Array(this.cap);
    this.head = 0;
    this.count = 0;
  }

  /** ms until `n` more requests fit (0 = now) */
  waitMs(now: number, n = 1): number {
    if (n > this.cap) return Infinity;
    if (this.count + n <= this.cap) return 0;
    // the booking that must leave the window first: the (count + n − cap)-th oldest
    const k = this.count + n - this.cap - 1;
    const oldest = this.ring[(this.head - this.count + k + this.cap * 2) % this.cap]!;
    const w = oldest + this.windowMs + this.marginMs - now;
    return w > 0 ? Math.ceil(w) : 0;
  }

  /** book one request sent now */
  book(now: number): void {
    this.ring[this.head] = now;
    this.head = (this.head + 1) % this.cap;
    if (this.count < this.cap) this.count++;
  }
}

/** Bybit's per-IP limit (600 per 5 s), one window for the whole process: every Bybit gateway books its REST calls here. */
export const BYBIT_IP_WINDOW = new IpWindow(600, 5000);

/** Bybit's documented per-UID limits per second before an answer says otherwise (order endpoints per category). */
export const BYBIT_DEFAULT_LIMITS = {
  spot: { create: 20, cancel: 20, amend: 10, cancelAll: 20 },
  linear: { create: 10, cancel: 10, amend: 10, cancelAll: 10 },
  query: 50,
} as const;

/** Order-path requests may use the whole budget; other calls leave `orderReserve` of it to them. */
export const ORDER_PATH = true;
export const OTHER_CALL = false;

export class VenueRateLimiter {
  readonly weight: FixedBudget;
  readonly orders10s: FixedBudget;
  /** USD-M 1 min, Spot 1 day */
  readonly ordersLong: FixedBudget;
  readonly headroom: number;
  readonly orderReserve: number;
  /** 429: no sends until then */
  backoffUntilMs = 0;
  /** 418 / 403: venue halted until then (Infinity = until resumed) */
  bannedUntilMs = 0;
  /** responses seen: 429 (back off), 418 / Bybit 403 (banned), 5xx (outcome unknown); requests refused locally */
  readonly counts = { refusedLocal: 0, deferredLocal: 0, got429: 0, got418: 0, got5xx: 0 };
  /** Retry-After (s) of the last 429 / 418, 0 when none was given; status of the last 5xx */
  last429RetryAfterSec = 0;
  last418RetryAfterSec = 0;
  last5xxStatus = 0;
  /** what the last local refusal / wait of a non-order request was for, and its wait */
  lastLocalWhat = '';
  lastLocalWaitMs = 0;

  constructor(limits: BinanceLimits = BINANCE_USDM_LIMITS) {
    this.weight = new FixedBudget(limits.weightPerMinute, 60_000);
    this.orders10s = new FixedBudget(limits.ordersPer10s, 10_000);
    const perDay = limits.ordersPerDay ?? 0;
    this.ordersLong = limits.ordersPerMinute > 0 ? new FixedBudget(limits.ordersPerMinute, 60_000) : new FixedBudget(perDay, 86_400_000);
    this.headroom = limits.headroom;
    this.orderReserve = limits.orderReserve ?? 0.2;
  }

  /** the venue's last weight count (plus bookings in flight) in this minute */
  get usedWeight1m(): number {
    return this.weight.used;
  }

  private bannedOrBackoffMs(now: number): number {
    if (this.bannedUntilMs > now) return this.bannedUntilMs === Infinity ? Infinity : this.bannedUntilMs - now;
    if (this.backoffUntilMs > now) return this.backoffUntilMs - now;
    return 0;
  }

  /** ms to wait before an order may be sent (0 = go; Infinity = banned until resumed); Bybit: its endpoint's slot */
  orderWaitMs(nowMs: number, slot?: BybitSlot): number {
    const b = this.bannedOrBackoffMs(nowMs);
    if (b > 0) return b;
    const h = this.headroom;
    let w = this.orders10s.waitMs(nowMs, 1, h);
    if (w > 0) return w;
    w = this.ordersLong.waitMs(nowMs, 1, h);
    if (w > 0) return w;
    return slot ? slot.waitMs(nowMs, h) : 0;
  }

  /** ms to wait before a request of `weight` may be sent (`orderPath`: may use the reserve) */
  weightWaitMs(nowMs: number, weight: number, orderPath = ORDER_PATH): number {
    const b = this.bannedOrBackoffMs(nowMs);
    if (b > 0) return b;
    return this.weight.waitMs(nowMs, weight, orderPath ? this.headroom : this.headroom - this.orderReserve);
  }

  /** Binance: a whole request's wait: its weight, and the order counts when it is an order (0 = go) */
  binanceWaitMs(nowMs: number, weight: number, orders: number, orderPath: boolean): number {
    const w = this.weightWaitMs(nowMs, weight, orderPath);
    if (w > 0 || orders === 0) return w;
    return this.orderWaitMs(nowMs);
  }

  /** Binance: book a request before sending it (its weight; `orders` = 1 for an order) */
  bookBinance(nowMs: number, weight: number, orders: number): void {
    this.weight.book(nowMs, weight);
    if (orders > 0) {
      this.orders10s.book(nowMs, orders);
      this.ordersLong.book(nowMs, orders);
    }
  }

  isBanned(nowMs: number): boolean {
    return this.bannedUntilMs > nowMs;
  }

  /**
   * A REST answer's headers: the venue's counts replace the local ones. `bookedAt`/`weight`/`orders`: what was
   * booked for the request (nothing: an answer to a request that was not booked).
   */
  fromBinanceHeaders(h: HeaderBag, nowMs: number, bookedAt = nowMs, weight = 0, orders = 0): void {
    this.weight.settle(nowMs, weight, bookedAt, headerInt(h, 'x-mbx-used-weight-1m'));
    this.orders10s.settle(nowMs, orders, bookedAt, headerInt(h, 'x-mbx-order-count-10s'));
    this.ordersLong.settle(nowMs, orders, bookedAt, headerInt(h, this.ordersLong.intervalMs === 60_000 ? 'x-mbx-order-count-1m' : 'x-mbx-order-count-1d'));
  }

  /** A request that got no answer (transport failure): no longer in flight; its booking stays counted. */
  releaseBinance(nowMs: number, bookedAt: number, weight: number, orders: number): void {
    this.weight.settle(nowMs, weight, bookedAt, NaN);
    this.orders10s.settle(nowMs, orders, bookedAt, NaN);
    this.ordersLong.settle(nowMs, orders, bookedAt, NaN);
  }

  /**
   * A WS API answer's `rateLimits` ([{rateLimitType, interval, intervalNum, limit, count}]): counts as the REST
   * headers, and the limits themselves as the venue states them. A malformed entry is ignored whole.
   */
  fromBinanceRateLimits(list: unknown, nowMs: number, bookedAt = nowMs, weight = 0, orders = 0): void {
    let wc = NaN;
    let o10 = NaN;
    let oLong = NaN;
    if (Array.isArray(list)) {
      for (let i = 0; i < list.length; i++) {
        const e = list[i] as Record<string, unknown> | null;
        if (e === null || typeof e !== 'object') continue;
        const type = e['rateLimitType'];
        const interval = e['interval'];
        const num = e['intervalNum'];
        const count = e['count'];
        const limit = e['limit'];
        if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) continue;
        if (typeof limit !== 'number' || !Number.isInteger(limit) || limit <= 0) continue;
        if (type === 'REQUEST_WEIGHT' && interval === 'MINUTE' && num === 1) {
          wc = count;
          this.weight.limit = limit;
        } else if (type === 'ORDERS' && interval === 'SECOND' && num === 10) {
          o10 = count;
          this.orders10s.limit = limit;
        } else if (type === 'ORDERS' && num === 1 && (interval === 'MINUTE' ? 60_000 : interval === 'DAY' ? 86_400_000 : 0) === this.ordersLong.intervalMs) {
          oLong = count;
          this.ordersLong.limit = limit;
        }
      }
    }
    this.weight.settle(nowMs, weight, bookedAt, wc);
    this.orders10s.settle(nowMs, orders, bookedAt, o10);
    this.ordersLong.settle(nowMs, orders, bookedAt, oLong);
  }

  /** Bybit REST answer: the endpoint's slot takes X-Bapi-Limit, -Status, -Reset-Timestamp (a failure: released) */
  fromBybitHeaders(h: HeaderBag | undefined, slot: BybitSlot, nowMs: number): void {
    if (!h) {
      slot.release();
      return;
    }
    slot.settle(nowMs, headerInt(h, 'x-bapi-limit'), headerInt(h, 'x-bapi-limit-status'), headerInt(h, 'x-bapi-limit-reset-timestamp'));
  }

  /** Bybit trade-WS answer: the same fields in its `header` object (string values; absent: released) */
  fromBybitWsHeader(h: Record<string, unknown> | undefined, slot: BybitSlot, nowMs: number): void {
    if (!h) {
      slot.release();
      return;
    }
    slot.settle(nowMs, wsInt(h['X-Bapi-Limit']), wsInt(h['X-Bapi-Limit-Status']), wsInt(h['X-Bapi-Limit-Reset-Timestamp']));
  }

  /** a non-order request refused or deferred locally (counted; the gateway's degradation source logs it) */
  noteLocal(what: string, waitMs: number, refused: boolean): void {
    if (refused) this.counts.refusedLocal++;
    else this.counts.deferredLocal++;
    this.lastLocalWhat = what;
    this.lastLocalWaitMs = waitMs;
  }

  on429(retryAfterSec: number | undefined, nowMs: number): void {
    this.counts.got429++;
    this.last429RetryAfterSec = retryAfterSec ?? 0;
    const ms = retryAfterSec !== undefined && retryAfterSec > 0 ? retryAfterSec * 1000 : 1000;
    this.backoffUntilMs = Math.max(this.backoffUntilMs, nowMs + ms);
  }

  on418(retryAfterSec: number | undefined, nowMs: number): void {
    this.counts.got418++;
    this.last418RetryAfterSec = retryAfterSec ?? 0;
    this.bannedUntilMs = retryAfterSec !== undefined && retryAfterSec > 0 ? Math.max(this.bannedUntilMs, nowMs + retryAfterSec * 1000) : Infinity;
  }

  /** a 5xx answer (the order logic treats its outcome as unknown) */
  on5xx(status: number): void {
    this.counts.got5xx++;
    this.last5xxStatus = status;
  }

  /** explicit operator action after a ban */
  clearBan(): void {
    this.bannedUntilMs = 0;
    this.backoffUntilMs = 0;
  }
}

function wsInt(v: unknown): number {
  const n = typeof v === 'string' && v.length > 0 ? Number(v) : typeof v === 'number' ? v : NaN;
  return Number.isInteger(n) && n >= 0 ? n : NaN;
}

/** Thrown by a gateway's non-order call that the local budget refuses (never sent). */
export class LocalRateLimitError extends Error {
  constructor(
    readonly what: string,
    readonly waitMs: number,
  ) {
    super(`${what}: refused locally, the venue's rate limit would refuse it (wait ${waitMs === Infinity ? 'until resumed' : waitMs + ' ms'})`);
  }
}

export function retryAfterSec(h: HeaderBag): number | undefined {
  const v = header(h, 'retry-after');
  if (v === undefined) return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}
