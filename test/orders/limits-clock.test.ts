import { describe, expect, it } from 'vitest';
import { BINANCE_USDM_LIMITS, VenueRateLimiter, retryAfterSec } from '../../src/net/ratelimit.js';
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
    const l = new VenueRateLimiter();
    l.fromBybitHeaders({ 'x-bapi-limit': '10', 'x-bapi-limit-status': '0', 'x-bapi-limit-reset-timestamp': '5000' }, '/v5/order/create', 4000);
    expect(l.orderWaitMs(4000, '/v5/order/create')).toBe(1000);
    expect(l.orderWaitMs(4000, '/v5/order/cancel')).toBe(0);
    l.fromBybitWsHeader({ 'X-Bapi-Limit-Status': '9' }, '/v5/order/create', 4100);
    expect(l.orderWaitMs(4100, '/v5/order/create')).toBe(0);
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
