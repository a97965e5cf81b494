/**
 * Venue rate-limit state from response headers, checked before every send.
 *
 * Binance: `X-MBX-USED-WEIGHT-1M` (per IP), `X-MBX-ORDER-COUNT-10S` / `-1M` / `-1D` (per account).
 * Bybit: `X-Bapi-Limit` (cap), `X-Bapi-Limit-Status` (remaining), `X-Bapi-Limit-Reset-Timestamp` (ms), per endpoint.
 * 429 backs off for Retry-After seconds (nothing was done); 418 halts the venue until Retry-After (IP ban).
 */

export interface BinanceLimits {
  weightPerMinute: number;
  ordersPer10s: number;
  ordersPerMinute: number;
  /** fraction of a limit at which we stop sending before the exchange refuses us */
  headroom: number;
}

export const BINANCE_SPOT_LIMITS: BinanceLimits = { weightPerMinute: 6000, ordersPer10s: 50, ordersPerMinute: 0, headroom: 0.95 };
export const BINANCE_USDM_LIMITS: BinanceLimits = { weightPerMinute: 2400, ordersPer10s: 300, ordersPerMinute: 1200, headroom: 0.95 };

export type HeaderBag = Record<string, string | string[] | undefined>;

function header(h: HeaderBag, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

export class VenueRateLimiter {
  usedWeight1m = 0;
  orders10s = 0;
  orders1m = 0;
  private weightWindowEndMs = 0;
  private orders10sEndMs = 0;
  private orders1mEndMs = 0;
  /** 429: no sends until then */
  backoffUntilMs = 0;
  /** 418 / 403: venue halted until then (Infinity = until restarted) */
  bannedUntilMs = 0;
  /** Bybit per-endpoint: path -> reset time when exhausted */
  private readonly exhausted = new Map<string, number>();
  /** responses seen: 429 (back off), 418 / Bybit 403 (banned), 5xx (outcome unknown) */
  readonly counts = { refusedLocal: 0, got429: 0, got418: 0, got5xx: 0 };
  /** Retry-After (s) of the last 429 / 418, 0 when none was given; status of the last 5xx */
  last429RetryAfterSec = 0;
  last418RetryAfterSec = 0;
  last5xxStatus = 0;

  constructor(private readonly limits: BinanceLimits = BINANCE_USDM_LIMITS) {}

  /** ms to wait before an order may be sent (0 = go; Infinity = banned) */
  orderWaitMs(nowMs: number, path = ''): number {
    if (this.bannedUntilMs > nowMs) return this.bannedUntilMs === Infinity ? Infinity : this.bannedUntilMs - nowMs;
    if (this.backoffUntilMs > nowMs) return this.backoffUntilMs - nowMs;
    const l = this.limits;
    if (l.ordersPer10s > 0 && nowMs < this.orders10sEndMs && this.orders10s >= l.ordersPer10s * l.headroom) return this.orders10sEndMs - nowMs;
    if (l.ordersPerMinute > 0 && nowMs < this.orders1mEndMs && this.orders1m >= l.ordersPerMinute * l.headroom) return this.orders1mEndMs - nowMs;
    if (path !== '') {
      const reset = this.exhausted.get(path);
      if (reset !== undefined) {
        if (reset > nowMs) return reset - nowMs;
        this.exhausted.delete(path);
      }
    }
    return 0;
  }

  /** ms to wait before a request of `weight` may be sent */
  weightWaitMs(nowMs: number, weight: number): number {
    if (this.bannedUntilMs > nowMs) return this.bannedUntilMs === Infinity ? Infinity : this.bannedUntilMs - nowMs;
    if (this.backoffUntilMs > nowMs) return this.backoffUntilMs - nowMs;
    if (nowMs < this.weightWindowEndMs && this.usedWeight1m + weight > this.limits.weightPerMinute * this.limits.headroom)
      return this.weightWindowEndMs - nowMs;
    return 0;
  }

  isBanned(nowMs: number): boolean {
    return this.bannedUntilMs > nowMs;
  }

  fromBinanceHeaders(h: HeaderBag, nowMs: number): void {
    const w = header(h, 'x-mbx-used-weight-1m');
    if (w !== undefined) {
      this.usedWeight1m = Number(w) || 0;
      this.weightWindowEndMs = (Math.floor(nowMs / 60000) + 1) * 60000;
    }
    const o10 = header(h, 'x-mbx-order-count-10s');
    if (o10 !== undefined) {
      this.orders10s = Number(o10) || 0;
      this.orders10sEndMs = (Math.floor(nowMs / 10000) + 1) * 10000;
    }
    const o1 = header(h, 'x-mbx-order-count-1m');
    if (o1 !== undefined) {
      this.orders1m = Number(o1) || 0;
      this.orders1mEndMs = (Math.floor(nowMs / 60000) + 1) * 60000;
    }
  }

  fromBybitHeaders(h: HeaderBag, path: string, nowMs: number): void {
    const status = header(h, 'x-bapi-limit-status');
    if (status === undefined) return;
    const remaining = Number(status);
    if (remaining <= 0) {
      const reset = Number(header(h, 'x-bapi-limit-reset-timestamp') ?? 0);
      this.exhausted.set(path, reset > nowMs ? reset : nowMs + 1000);
    } else this.exhausted.delete(path);
  }

  /** Bybit trade-WS responses carry the same fields in a `header` object */
  fromBybitWsHeader(h: Record<string, unknown> | undefined, path: string, nowMs: number): void {
    if (!h) return;
    const bag: HeaderBag = {};
    for (const [k, v] of Object.entries(h)) bag[k.toLowerCase()] = typeof v === 'string' ? v : String(v);
    this.fromBybitHeaders(bag, path, nowMs);
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

export function retryAfterSec(h: HeaderBag): number | undefined {
  const v = header(h, 'retry-after');
  if (v === undefined) return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}
