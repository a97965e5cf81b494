/**
 * Rate limits checked before sending, from the venues' own signals, against the simulator with low limits: the engine
 * refuses (or holds back) locally before the venue would refuse, the simulator never answers 429 / -1003 / 10006,
 * and the local refusals are counted in the /metrics counters (gatewayDegradations, what /metrics serves).
 *
 * Each case drives the venue past its limit in a way that the simulator would refuse without the local check (a
 * burst inside one turn, a weight the venue counted that only its own answers tell), so each fails without it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { BinanceWsApiGateway } from '../../src/exchange/binance/trade/wsapi.js';
import type { BybitTradeWsGateway } from '../../src/exchange/bybit/trade/tradews.js';
import { createBybitGateways, type BybitRestGateway } from '../../src/exchange/bybit/trade/index.js';
import { fetchBinanceLimits } from '../../src/exchange/registry.js';
import { LocalRateLimitError } from '../../src/net/ratelimit.js';
import { gatewayDegradations, type BaseGateway } from '../../src/orders/basegw.js';
import type { OrderManager } from '../../src/orders/manager.js';
import { startSim, type SimHandle, type SimOptions } from '../../src/sim/index.js';
import { Degradations } from '../../src/util/degrade.js';
import { bbo, instrumentOf, manager, until, untilState, type Recorder, binanceGatewayOn } from './harness.js';

let s: SimHandle | undefined;
let m: OrderManager | undefined;
afterEach(async () => {
  await m?.stop();
  await s?.close();
  m = undefined;
  s = undefined;
});

/** a clock offset that puts the simulator's time just past a minute boundary: the test runs inside one window */
const minuteStart = (): number => 60_000 - (Date.now() % 60_000) + 200;

/** the /metrics counters of the gateway (the same source /metrics renders) */
function metric(gw: BaseGateway, name: string, labels: Record<string, string>): number {
  const m = new Degradations().add(gatewayDegradations([gw])).metrics();
  return (m.find((x) => x.name === name)?.samples ?? [])
    .filter((x) => Object.entries(labels).every(([k, v]) => x.labels?.[k] === v))
    .reduce((a, x) => a + x.value, 0);
}

async function binance(transport: 'rest' | 'wsapi', limits: NonNullable<NonNullable<SimOptions['venueOptions']>['binanceSpot']>['limits']) {
  s = await startSim({
    venues: ['binanceSpot'],
    seed: 7,
    symbols: ['BTCUSDT'],
    rate: 200,
    clockOffsetMs: { binanceSpot: minuteStart() },
    venueOptions: { binanceSpot: { limits: { banAfter: 1, ...limits } } },
  });
  const ep = s.endpoints.binanceSpot!;
  const i = instrumentOf(s, 'binanceSpot');
  const gw = binanceGatewayOn(s, 'binanceSpot', {
    transport,
    recovery: { queryDelayMs: 10 },
    limits: await fetchBinanceLimits(ep.restBaseUrl, 'spot'), // the venue's limits at start
    maxLimitWaitMs: 0, // refuse at once (a window is a minute: the test does not wait for it)
  });
  const mr = manager(i, gw);
  m = mr.m;
  await m.start();
  return { gw, rec: mr.rec, i, sim: s, m };
}

const lot = (qtyDecimals: number, n = 1): number => 2 * n * 10 ** Math.max(0, qtyDecimals - 3);

/** the venue refused nothing: no 429 / 418 answer (-1003, -1015, 10006), no reject with the venue's rate reason */
function venueRefusedNothing(gw: BaseGateway, rec: Recorder): void {
  expect(gw.limiter.counts.got429, 'venue answered 429 / -1003 / -1015 / 10006').toBe(0);
  expect(gw.limiter.counts.got418, 'venue banned the IP').toBe(0);
  expect(rec.events.filter((e) => e.reason.startsWith('RATE_LIMITED:') || e.reason.startsWith('BANNED'))).toEqual([]);
}

describe('Binance REST: every call booked at its documented weight', () => {
  it('calls that are not orders stop at their share of the weight; orders still go; an order burst stops at the 10 s count', async () => {
    const { gw, rec, i, sim, m: mgr } = await binance('rest', { weightPerMin: 200, orders10s: 5, ordersLong: 1_000_000 });
    expect(gw.limiter.weight.limit).toBe(200);
    // GET /api/v3/openOrders without a symbol weighs 80: the third would take the venue past 200 (429, then a ban)
    let refused: unknown;
    for (let k = 0; k < 3 && refused === undefined; k++) await gw.openOrders().catch((e: unknown) => (refused = e));
    expect(refused).toBeInstanceOf(LocalRateLimitError);
    expect(metric(gw, 'tickwire_requests_refused_local_total', { venue: 'binanceSpot' })).toBe(1);
    // the order path keeps its reserve: an order and its cancel still go
    const { bid } = bbo(sim, 'binanceSpot');
    const price = Math.max(1, bid - 500);
    const first = mgr.place({ slot: 0, side: 'BUY', type: 'LIMIT', tif: 'GTC', price, qty: lot(i.qtyDecimals) })!;
    await untilState(mgr, first, ['ACKED']);
    // six orders in one turn: the account's 5 per 10 s (less the headroom) lets three more through
    const ids = Array.from({ length: 6 }, () => mgr.place({ slot: 0, side: 'BUY', type: 'LIMIT', tif: 'GTC', price, qty: lot(i.qtyDecimals) })!);
    await until(() => ids.every((id) => ['ACKED', 'REJECTED'].includes(mgr.order(id)?.state ?? '')), 4000, 'burst settled');
    const local = rec.events.filter((e) => e.kind === 'reject' && e.reason === 'RATE_LIMITED_LOCAL').length;
    expect(local).toBe(3);
    expect(metric(gw, 'tickwire_orders_refused_local_total', { venue: 'binanceSpot', reason: 'rate_budget' })).toBe(3);
    await gw.cancelAll('BTCUSDT');
    venueRefusedNothing(gw, rec);
  });
});

describe('Binance WS API: rateLimits in every answer', () => {
  it('weight the venue counted elsewhere (same IP) is learned from an order answer, and a call that would pass the limit is refused', async () => {
    const { gw, rec, i, sim, m: mgr } = await binance('wsapi', { weightPerMin: 200, orders10s: 100, ordersLong: 1_000_000 });
    // another client on this IP uses weight (as a book snapshot or a second process would): the gateway sees none of it
    const url = sim.endpoints.binanceSpot!.restBaseUrl + '/api/v3/ping';
    let used = 0;
    while (used < 130) used = Number((await fetch(url)).headers.get('x-mbx-used-weight-1m'));
    expect(gw.limiter.usedWeight1m).toBeLessThan(100);
    const { bid } = bbo(sim, 'binanceSpot');
    const id = mgr.place({ slot: 0, side: 'BUY', type: 'LIMIT', tif: 'GTC', price: Math.max(1, bid - 500), qty: lot(i.qtyDecimals) })!;
    await untilState(mgr, id, ['ACKED']);
    const ws = (gw as BinanceWsApiGateway).session.rpc.counts;
    await until(() => ws.responses > 0, 4000, 'the WS API answer'); // the order went over the WS API
    expect(gw.limiter.usedWeight1m).toBeGreaterThanOrEqual(130); // the answer's rateLimits
    // all open orders (weight 80): 130 + 80 > 200 at the venue; refused here (limit × (headroom − reserve) = 150)
    await expect(gw.openOrders()).rejects.toBeInstanceOf(LocalRateLimitError);
    expect(metric(gw, 'tickwire_requests_refused_local_total', { venue: 'binanceSpot' })).toBe(1);
    // the order path still has room
    expect(mgr.cancel(id)).toBe(true);
    await untilState(mgr, id, ['CANCELED']);
    venueRefusedNothing(gw, rec);
  });
});

for (const transport of ['rest', 'ws'] as const) {
  describe(`Bybit ${transport === 'rest' ? 'REST X-Bapi-Limit headers' : 'trade WS header limit fields'}`, () => {
    it('a burst of orders and of cancels stops at the endpoint limit the answers state; queries wait for room', async () => {
      s = await startSim({
        venues: ['bybit'],
        seed: 7,
        symbols: ['BTCUSDT'],
        rate: 200,
        venueOptions: { bybit: { rateLimits: { create: { linear: 3, spot: 3 }, cancel: { linear: 2, spot: 2 }, query: 4 } } },
      });
      const sim = s;
      const ep = sim.endpoints.bybit!;
      const i = instrumentOf(sim, 'bybitLinear');
      const [gw] = createBybitGateways([
        {
          category: 'linear',
          restBaseUrl: ep.restBaseUrl,
          wsApiUrl: ep.wsApiUrl,
          wsPrivateUrl: ep.wsPrivateUrl!,
          apiKey: ep.apiKey,
          apiSecret: ep.apiSecret,
          instruments: [{ symbol: i.symbol, priceDecimals: i.priceDecimals, qtyDecimals: i.qtyDecimals }],
          transport,
          timeoutMs: 2000,
          recovery: { queryDelayMs: 10 },
        },
      ]) as [BybitRestGateway];
      const mr = manager(i, gw);
      m = mr.m;
      const mgr = m;
      const rec = mr.rec;
      await mgr.start();
      const { bid } = bbo(sim, 'bybitLinear');
      const place = (): string => mgr.place({ slot: 0, side: 'BUY', type: 'LIMIT', tif: 'GTC', price: Math.max(1, bid - 500), qty: lot(i.qtyDecimals) })!;

      // the first answer states the create limit (3 per second); a burst of four then sends two and refuses two
      const first = place();
      await untilState(mgr, first, ['ACKED']);
      if (transport === 'ws') expect((gw as BybitTradeWsGateway).rpc.counts.sent).toBeGreaterThan(0); // over the trade WS
      expect(gw.slotCreate.limit).toBe(3);
      const burst = [place(), place(), place(), place()];
      await until(() => burst.every((id) => ['ACKED', 'REJECTED'].includes(mgr.order(id)?.state ?? '')), 4000, 'burst settled');
      expect(burst.map((id) => mgr.order(id)!.state)).toEqual(['ACKED', 'ACKED', 'REJECTED', 'REJECTED']);
      expect(rec.events.filter((e) => e.kind === 'reject').map((e) => e.reason)).toEqual(['RATE_LIMITED_LOCAL', 'RATE_LIMITED_LOCAL']);
      expect(metric(gw, 'tickwire_orders_refused_local_total', { venue: 'bybitLinear', reason: 'rate_budget' })).toBe(2);

      // cancels: the first answer states 2 per second; two more in one turn: one goes, one is refused here
      const acked = [first, burst[0]!, burst[1]!];
      mgr.cancel(acked[0]!);
      await untilState(mgr, acked[0]!, ['CANCELED']);
      mgr.cancel(acked[1]!);
      mgr.cancel(acked[2]!);
      await until(() => rec.events.some((e) => e.kind === 'cancelReject'), 4000, 'cancel refused');
      expect(rec.events.filter((e) => e.kind === 'cancelReject').map((e) => [e.clientOrderId, e.reason])).toEqual([[acked[2], 'RATE_LIMITED_LOCAL']]);
      await untilState(mgr, acked[1]!, ['CANCELED']);
      expect(metric(gw, 'tickwire_requests_refused_local_total', { venue: 'bybitLinear' })).toBe(1);

      // queries (4 per second): the first answer states it; six more at once: the ones without room wait for it
      await gw.openOrders();
      const lists = await Promise.all(Array.from({ length: 6 }, () => gw.openOrders()));
      expect(lists.every((l) => l.some((o) => o.clientOrderId === acked[2]))).toBe(true);
      expect(metric(gw, 'tickwire_requests_deferred_local_total', { venue: 'bybitLinear' })).toBeGreaterThan(0);
      expect(metric(gw, 'tickwire_requests_refused_local_total', { venue: 'bybitLinear' })).toBe(1);

      venueRefusedNothing(gw, rec);
    });
  });
}
