/**
 * The rate-limit checks on the order path allocate nothing: the wait before an order, its booking and the answer's
 * settling (Binance X-MBX headers and WS API rateLimits, Bybit X-Bapi-Limit headers and trade-WS header fields on a
 * precomputed per-endpoint slot). The answers' header objects are made once, as the HTTP / JSON layers hand them over.
 * The clock here counts from 1000: a real epoch-ms timestamp (> 2^31) is a heap number wherever it crosses a call that
 * is not inlined, on this path as on every other that reads the clock; that cost is not the limiter's.
 * The WS API's `rateLimits` come inside an answer that is JSON-parsed whole anyway: bounded, not zero.
 */
import { describe, expect, it } from 'vitest';
import { BINANCE_SPOT_LIMITS, BybitSlot, VenueRateLimiter } from '../../src/net/ratelimit.js';
import { expectAllocationAtMost, expectNoAllocation } from '../helpers/alloc.js';

describe('rate limits on the order path: no allocation', () => {
  it('Binance: wait, book, settle from the X-MBX headers (REST) and from WS API rateLimits', () => {
    const l = new VenueRateLimiter({ ...BINANCE_SPOT_LIMITS, weightPerMinute: 1e9, ordersPer10s: 1e9, ordersPerDay: 1e12 });
    const h = { 'x-mbx-used-weight-1m': '12', 'x-mbx-order-count-10s': '3', 'x-mbx-order-count-1d': '40' };
    const rl = [
      { rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 1e9, count: 12 },
      { rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: 1e9, count: 3 },
      { rateLimitType: 'ORDERS', interval: 'DAY', intervalNum: 1, limit: 1e12, count: 40 },
    ];
    const clock = new Float64Array([1000]); // the time outside the loop, unboxed (a captured let would box it)
    let go = 0;
    const run = (n: number): void => {
      let t = clock[0]!;
      for (let k = 0; k < n; k++) {
        t += 7;
        if (l.binanceWaitMs(t, 1, 1, true) === 0) go++;
        l.bookBinance(t, 1, 1);
        if (ws) l.fromBinanceRateLimits(rl, t + 1, t, 1, 1);
        else l.fromBinanceHeaders(h, t + 1, t, 1, 1);
      }
      clock[0] = t;
    };
    let ws = false;
    expectNoAllocation('binance limiter, REST headers', run, 50_000);
    expect(go).toBeGreaterThan(0);
    expect(l.usedWeight1m).toBe(12);
    ws = true;
    expectAllocationAtMost('binance limiter, WS API rateLimits', run, 50_000, 32);
    expect(l.usedWeight1m).toBe(12);
  });
  it('Bybit: wait, book, settle from REST headers and trade-WS header fields', () => {
    const l = new VenueRateLimiter({ weightPerMinute: 1e12, ordersPer10s: 0, ordersPerMinute: 0, headroom: 1 });
    const slot = new BybitSlot('/v5/order/create', 10);
    const h = { 'x-bapi-limit': '1000000', 'x-bapi-limit-status': '999990', 'x-bapi-limit-reset-timestamp': '1000' };
    const wsh: Record<string, unknown> = { 'X-Bapi-Limit': '1000000', 'X-Bapi-Limit-Status': '999990', 'X-Bapi-Limit-Reset-Timestamp': '1000' };
    const clock = new Float64Array([1000]);
    let go = 0;
    const run = (n: number): void => {
      let t = clock[0]!;
      for (let k = 0; k < n; k++) {
        t += 3;
        if (l.orderWaitMs(t, slot) === 0) go++;
        slot.book(t);
        if ((k & 1) === 0) l.fromBybitHeaders(h, slot, t + 1);
        else l.fromBybitWsHeader(wsh, slot, t + 1);
      }
      clock[0] = t;
    };
    expectNoAllocation('bybit slot', run, 50_000);
    expect(go).toBeGreaterThan(0);
    expect(slot.limit).toBe(1_000_000);
  });
});
