/**
 * Bybit's per-IP limit (600 HTTP requests per 5 s across its hosts, HTTP 403 beyond: ../shared/exchange/bybit.md §8)
 * is checked before sending: every REST request of every Bybit gateway of the process is booked in one IP window, so
 * with the simulator's limit lowered the engine refuses (or holds back) requests and orders locally and the simulator
 * never answers 403. Without the window the same bursts get 403 (which halts the venue for 10 min).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createBybitGateways, type BybitRestGateway } from '../../src/exchange/bybit/trade/index.js';
import { IpWindow, LocalRateLimitError } from '../../src/net/ratelimit.js';
import { startSim, type SimHandle } from '../../src/sim/index.js';
import { bbo, instrumentOf, manager, until } from './harness.js';

let s: SimHandle | undefined;
let gws: BybitRestGateway[] = [];
afterEach(async () => {
  for (const g of gws) await g.stop();
  await s?.close();
  gws = [];
  s = undefined;
});

/** the simulator with an IP limit of `ipPer5s` (per-UID limits out of the way), and spot + linear gateways on one window */
async function setup(ipPer5s: number, ip: IpWindow, maxLimitWaitMs: number): Promise<{ sim: SimHandle; linear: BybitRestGateway; spot: BybitRestGateway }> {
  s = await startSim({
    venues: ['bybit'],
    seed: 7,
    symbols: ['BTCUSDT'],
    rate: 200,
    venueOptions: {
      bybit: { rateLimits: { ipPer5s, query: 10_000, create: { linear: 10_000, spot: 10_000 }, cancel: { linear: 10_000, spot: 10_000 } } },
    },
  });
  const ep = s.endpoints.bybit!;
  const cfg = (category: 'linear' | 'spot') => {
    const i = instrumentOf(s!, category === 'linear' ? 'bybitLinear' : 'bybitSpot');
    return {
      category,
      restBaseUrl: ep.restBaseUrl,
      apiKey: ep.apiKey,
      apiSecret: ep.apiSecret,
      instruments: [{ symbol: i.symbol, priceDecimals: i.priceDecimals, qtyDecimals: i.qtyDecimals }],
      transport: 'rest' as const,
      privateStream: false,
      timeoutMs: 2000,
      maxLimitWaitMs,
      ipWindow: ip,
      recovery: { queryDelayMs: 10 },
    };
  };
  gws = createBybitGateways([cfg('linear'), cfg('spot')]);
  const [linear, spot] = gws as [BybitRestGateway, BybitRestGateway];
  await linear.start();
  await spot.start();
  return { sim: s, linear, spot };
}

const no403 = (...g: BybitRestGateway[]): void => {
  for (const x of g) expect(x.limiter.counts.got418, `${x.venue}: the venue answered 403`).toBe(0);
};

describe('Bybit per-IP request limit', () => {
  it('a burst of queries from two gateways stops at the shared IP window: the rest are refused here, none gets 403', async () => {
    const ip = new IpWindow(20, 5000);
    const { linear, spot } = await setup(20, ip, 0);
    const calls = Array.from({ length: 30 }, (_, k) => (k % 2 ? spot : linear).openOrders());
    const res = await Promise.allSettled(calls);
    const ok = res.filter((r) => r.status === 'fulfilled').length;
    const refused = res.filter((r) => r.status === 'rejected' && r.reason instanceof LocalRateLimitError).length;
    expect(ok + refused).toBe(30); // nothing failed any other way (a 403 would)
    expect(refused).toBeGreaterThan(0);
    expect(ip.refused).toBe(refused);
    no403(linear, spot);
    // the venue would still take one more now: the window kept a margin under its limit
    expect(ok).toBeLessThanOrEqual(ip.capacity);
  });

  it('queries that may wait are held back until the window has room, then all succeed without a 403', async () => {
    const ip = new IpWindow(12, 5000);
    const { linear, spot } = await setup(12, ip, 10_000);
    const res = await Promise.all(Array.from({ length: 10 }, (_, k) => (k % 2 ? spot : linear).openOrders()));
    expect(res).toHaveLength(10);
    expect(ip.deferred).toBeGreaterThan(0);
    no403(linear, spot);
  }, 20_000);

  it('orders the window has no room for are refused locally (RATE_LIMITED_LOCAL), not sent into a 403', async () => {
    const ip = new IpWindow(20, 5000);
    const { sim, linear, spot } = await setup(20, ip, 0);
    const i = instrumentOf(sim, 'bybitLinear');
    const { m, rec } = manager(i, linear);
    const { bid } = bbo(sim, 'bybitLinear');
    // the window nearly full of queries (start's requests included); then five orders, fewer than the per-UID
    // create limit (10 per second before an answer): only the IP window stops them
    await Promise.allSettled(Array.from({ length: ip.capacity - 8 }, () => spot.openOrders()));
    const room = Array.from({ length: ip.capacity + 1 }, (_, k) => k).findIndex((k) => ip.waitMs(Date.now(), k + 1) > 0);
    expect(room).toBeLessThan(5);
    const ids = Array.from(
      { length: 5 },
      () => m.place({ slot: 0, side: 'BUY', type: 'LIMIT', tif: 'GTC', price: Math.max(1, bid - 500), qty: 2 * 10 ** Math.max(0, i.qtyDecimals - 3) })!,
    );
    await until(() => ids.every((id) => ['ACKED', 'REJECTED'].includes(m.order(id)?.state ?? '')), 4000, 'orders settled');
    const rejects = rec.events.filter((e) => e.kind === 'reject');
    expect(rejects.length).toBe(5 - room);
    expect(new Set(rejects.map((e) => e.reason))).toEqual(new Set(['RATE_LIMITED_LOCAL']));
    no403(linear, spot);
  });
});
