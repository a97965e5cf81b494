/**
 * REST endpoint names and the per-UID rate limits: per API key per endpoint (and category for order endpoints) per
 * window, shared by REST and the trade WS; batch requests weigh as many orders as they carry. Plus the per-IP limit
 * of REST (HTTP 403 when over).
 */
import { RateLimiter, type RateCheck } from '../core/ratelimit.js';
import type { Category } from './common.js';
import { DEFAULT_RATE_LIMITS, type BybitRateLimits } from './options.js';

export type Endpoint =
  | 'tickers'
  | 'recentTrade'
  | 'kline'
  | 'systemStatus'
  | 'coinInfo'
  | 'queryApi'
  | 'accountInfo'
  | 'feeRate'
  | 'setLeverage'
  | 'setMarginMode'
  | 'switchMode'
  | 'dcpInfo'
  | 'setDcp'
  | 'time'
  | 'instruments'
  | 'orderbook'
  | 'create'
  | 'cancel'
  | 'cancelAll'
  | 'amend'
  | 'createBatch'
  | 'amendBatch'
  | 'cancelBatch'
  | 'history'
  | 'realtime'
  | 'positions'
  | 'wallet'
  | 'executions';

/** order endpoints: limited per category, delayed by the `latencyMs` fault */
export const ORDER_EPS: ReadonlySet<string> = new Set(['create', 'cancel', 'cancelAll', 'amend', 'createBatch', 'amendBatch', 'cancelBatch']);

/** batch requests weigh as many orders as they carry (Bybit: "batch limit counts orders") */
export function batchWeight(ep: Endpoint, p: Record<string, unknown>): number {
  if (ep !== 'createBatch' && ep !== 'amendBatch' && ep !== 'cancelBatch') return 1;
  const r = p['request'];
  return Array.isArray(r) && r.length > 0 ? r.length : 1;
}

export class Limits {
  private readonly limits: BybitRateLimits;
  private readonly limiters = new Map<string, RateLimiter>();
  /** per IP across all REST endpoints */
  readonly ip: RateLimiter;

  constructor(overrides: Partial<BybitRateLimits> | undefined) {
    this.limits = { ...DEFAULT_RATE_LIMITS, ...(overrides ?? {}) };
    this.ip = new RateLimiter({ limit: this.limits.ipPer5s, intervalMs: 5000, sliding: true });
  }

  /** count `weight` against the key's limit of the endpoint (and category) */
  hit(apiKey: string, ep: Endpoint, category: Category | undefined, now: number, weight = 1): RateCheck {
    const cat = category ?? 'linear';
    let limit: number;
    if (ep === 'create' || ep === 'createBatch') limit = this.limits.create[cat];
    else if (ep === 'cancel' || ep === 'cancelBatch') limit = this.limits.cancel[cat];
    else if (ep === 'cancelAll') limit = this.limits.cancelAll[cat];
    else if (ep === 'amend' || ep === 'amendBatch') limit = this.limits.amend[cat];
    else if (ep === 'setDcp') limit = this.limits.setDcp;
    else limit = this.limits.query;
    const name = ORDER_EPS.has(ep) ? `${ep}|${cat}` : ep;
    let l = this.limiters.get(name);
    if (!l) {
      l = new RateLimiter({ limit, intervalMs: this.limits.windowMs, sliding: true });
      this.limiters.set(name, l);
    }
    return l.hit(apiKey, weight, now);
  }
}
