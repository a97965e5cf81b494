import { describe, expect, it } from 'vitest';
import { BINANCE_USDM_LIMITS, BybitSlot, VenueRateLimiter, retryAfterSec } from '../../src/net/ratelimit.js';
import { ServerClock } from '../../src/net/clock.js';
import { mapBinanceError } from '../../src/exchange/binance/trade/errors.js';
import { mapBybitError } from '../../src/exchange/bybit/trade/errors.js';

describe('rate limiter', () => {
  it('stops sending orders near the 10 s order count until the window ends', () => {
    const l = new VenueRateLimiter(BINANCE_USDM_LIMITS);
    const now = 1_700_000_003_000;
    l.fromBinanceHeaders({ 'x-mbx-order-count-10s': '290', 'x-mbx-used-weight-1m': '10' }, now);
    expect(l.orderWaitMs(now)).toBe(7000);
    expect(l.orderWaitMs(now + 7000)).toBe(0);
  });
  it('weight near the minute limit defers weighted requests', () => {
    const l = new VenueRateLimiter(BINANCE_USDM_LIMITS);
    l.fromBinanceHeaders({ 'x-mbx-used-weight-1m': '2275' }, 30_000);
    expect(l.weightWaitMs(30_000, 10)).toBe(30_000);
    expect(l.weightWaitMs(30_000, 1)).toBe(0);
  });
  it('429 backs off by Retry-After; 418 bans until Retry-After (or until cleared)', () => {
    const l = new VenueRateLimiter();
    l.on429(retryAfterSec({ 'retry-after': '3' }), 1000);
    expect(l.orderWaitMs(1000)).toBe(3000);
    l.on418(undefined, 1000);
    expect(l.isBanned(1e15)).toBe(true);
    l.clearBan();
    expect(l.orderWaitMs(1000)).toBe(0);
  });
  it('Bybit per-endpoint exhaustion until the reset timestamp', () => {
    const l = new VenueRateLimiter({ weightPerMinute: 1e12, ordersPer10s: 0, ordersPerMinute: 0, headroom: 1 });
    const create = new BybitSlot('/v5/order/create', 10);
    const cancel = new BybitSlot('/v5/order/cancel', 10);
    create.book(3990);
    l.fromBybitHeaders({ 'x-bapi-limit': '10', 'x-bapi-limit-status': '0', 'x-bapi-limit-reset-timestamp': '5000' }, create, 4000);
    expect(l.orderWaitMs(4000, create)).toBe(1000);
    expect(l.orderWaitMs(4000, cancel)).toBe(0);
    l.fromBybitWsHeader({ 'X-Bapi-Limit': '10', 'X-Bapi-Limit-Status': '9', 'X-Bapi-Limit-Reset-Timestamp': '4100' }, create, 4100);
    expect(l.orderWaitMs(4100, create)).toBe(0);
  });
  it('Bybit: sends booked since the last answer count on top of it, until the window has passed', () => {
    const l = new VenueRateLimiter({ weightPerMinute: 1e12, ordersPer10s: 0, ordersPerMinute: 0, headroom: 1 });
    const s = new BybitSlot('/v5/order/create', 10);
    s.book(1000);
    l.fromBybitHeaders({ 'x-bapi-limit': '4', 'x-bapi-limit-status': '2', 'x-bapi-limit-reset-timestamp': '1000' }, s, 1000);
    expect(s.limit).toBe(4);
    s.book(1001);
    expect(l.orderWaitMs(1001, s)).toBe(0); // 2 counted + 1 booked < 4
    s.book(1002);
    expect(l.orderWaitMs(1002, s)).toBe(1000); // 4: full until the answer's count and the bookings have left the window
    expect(l.orderWaitMs(2002, s)).toBe(0);
  });
  it('Binance: bookings count until the answer; the venue count replaces the local one (plus what is in flight)', () => {
    const l = new VenueRateLimiter({ weightPerMinute: 100, ordersPer10s: 10, ordersPerMinute: 0, headroom: 0.9, orderReserve: 0.2 });
    const t = 60_000;
    l.bookBinance(t, 20, 0);
    l.bookBinance(t, 20, 0);
    expect(l.usedWeight1m).toBe(40);
    l.fromBinanceHeaders({ 'x-mbx-used-weight-1m': '21' }, t + 5, t, 20, 0); // the first answer: 21 at the venue, 20 in flight
    expect(l.usedWeight1m).toBe(41);
    // other calls may use up to 100 × (0.9 − 0.2) = 70, the order path up to 90
    expect(l.weightWaitMs(t + 5, 30, false)).toBe(59_995);
    expect(l.weightWaitMs(t + 5, 29, false)).toBe(0);
    expect(l.weightWaitMs(t + 5, 49, true)).toBe(0);
    expect(l.weightWaitMs(t + 5, 50, true)).toBe(59_995);
    // an answer from the previous minute says nothing of this one
    l.fromBinanceHeaders({ 'x-mbx-used-weight-1m': '95' }, t + 60_001, t, 20, 0);
    expect(l.usedWeight1m).toBe(0);
  });
  it('Binance WS API rateLimits: counts and limits as the venue states them; a malformed entry is ignored', () => {
    const l = new VenueRateLimiter({ weightPerMinute: 6000, ordersPer10s: 50, ordersPerMinute: 0, ordersPerDay: 160_000, headroom: 0.95 });
    const t = 120_000;
    l.bookBinance(t, 1, 1);
    l.fromBinanceRateLimits(
      [
        { rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 40, count: 30 },
        { rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: 5, count: 5 },
        { rateLimitType: 'ORDERS', interval: 'DAY', intervalNum: 1, limit: 100, count: 'x' },
      ],
      t + 1,
      t,
      1,
      1,
    );
    expect(l.weight.limit).toBe(40);
    expect(l.usedWeight1m).toBe(30);
    expect(l.orders10s.limit).toBe(5);
    expect(l.orderWaitMs(t + 1)).toBe(9_999);
    expect(l.ordersLong.limit).toBe(160_000);
    expect(l.ordersLong.used).toBe(1); // the booking stays: the malformed count did not replace it
  });
});

describe('server clock', () => {
  it('takes the offset of the lowest-RTT sample', async () => {
    let n = 0;
    const c = new ServerClock(
      async () => {
        n++;
        return Date.now() + 5000;
      },
      { samples: 3 },
    );
    await c.sync();
    expect(n).toBe(3);
    expect(Math.abs(c.offsetMs - 5000)).toBeLessThan(200);
    expect(Math.abs(c.nowMs() - (Date.now() + 5000))).toBeLessThan(200);
  });
  it('a burst of timestamp rejects causes one resync, and none for requests stamped after it', async () => {
    let n = 0;
    const c = new ServerClock(
      async () => {
        n++;
        await new Promise((r) => setTimeout(r, 5));
        return Date.now();
      },
      { samples: 1 },
    );
    const stamped = Date.now() - 10;
    await Promise.all([c.requestResync(stamped), c.requestResync(stamped), c.requestResync(stamped)]);
    expect(n).toBe(1);
    await c.requestResync(stamped); // the clock was refreshed after that request was stamped
    expect(n).toBe(1);
    await c.requestResync(Date.now() + 1);
    expect(n).toBe(2);
  });
});

describe('error mapping', () => {
  it('Binance', () => {
    expect(mapBinanceError(400, -1021, '')).toEqual({ cls: 'clock', reason: 'TIMESTAMP_OUTSIDE_RECV_WINDOW' });
    expect(mapBinanceError(400, -2010, 'Duplicate order sent.').cls).toBe('duplicate');
    expect(mapBinanceError(400, -4116, 'ClientOrderId is duplicated.').cls).toBe('duplicate');
    expect(mapBinanceError(400, -2010, 'Order would immediately match and take.').reason).toBe('POST_ONLY_WOULD_TAKE');
    expect(mapBinanceError(400, -5022, '').reason).toBe('POST_ONLY_WOULD_TAKE');
    expect(mapBinanceError(400, -2010, 'Account has insufficient balance for requested action.').reason).toBe('INSUFFICIENT_BALANCE');
    expect(mapBinanceError(418, -1003, '').cls).toBe('banned');
    expect(mapBinanceError(429, -1003, '').cls).toBe('rateLimited');
    expect(mapBinanceError(503, 0, 'Unknown error').cls).toBe('unknown');
    expect(mapBinanceError(400, -1007, '').cls).toBe('unknown');
    expect(mapBinanceError(401, -2015, '').cls).toBe('auth');
    expect(mapBinanceError(400, -1013, 'Filter failure: LOT_SIZE')).toEqual({ cls: 'rejected', reason: 'FILTER:LOT_SIZE' });
  });
  it('Bybit', () => {
    expect(mapBybitError(200, 10002, '').cls).toBe('clock');
    expect(mapBybitError(200, 110072, '').cls).toBe('duplicate');
    expect(mapBybitError(200, 10019, '').cls).toBe('unknown');
    expect(mapBybitError(200, 10006, '').cls).toBe('rateLimited');
    expect(mapBybitError(200, 110094, '').reason).toBe('MIN_NOTIONAL');
    expect(mapBybitError(200, 170131, '').reason).toBe('INSUFFICIENT_BALANCE');
    expect(mapBybitError(403, 0, '').cls).toBe('banned');
    expect(mapBybitError(502, 0, '').cls).toBe('unknown');
  });
});
