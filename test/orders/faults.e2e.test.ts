/**
 * Recovery paths beyond the per-transport suites: Binance WS API disconnect with an order in flight, USD-M
 * listenKey expiry (clean re-subscribe), private stream drop (reconcile), dead man's switch, algo cancel-all.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBinanceGateway } from '../../src/exchange/binance/trade/index.js';
import type { BinanceRestGateway } from '../../src/exchange/binance/trade/rest.js';
import type { BinanceWsApiGateway } from '../../src/exchange/binance/trade/wsapi.js';
import type { BinanceUsdmUserStream } from '../../src/exchange/binance/trade/userstream.js';
import { startBinanceUsdm, type BinanceVenueOptions } from '../../src/sim/binance/index.js';
import { startSim } from '../../src/sim/index.js';
import { startBybit } from '../../src/sim/bybit/index.js';
import type { BybitVenueHandle } from '../../src/sim/bybit/index.js';
import { createBybitGateways } from '../../src/exchange/bybit/trade/index.js';
import type { BybitTradeWsGateway } from '../../src/exchange/bybit/trade/tradews.js';
import type { OrderManager } from '../../src/orders/manager.js';
import { bbo, instrumentOf, manager, until, untilState, type Recorder, type SimHandle } from './harness.js';

describe('binanceUsdm over wsapi: faults', () => {
  let s: SimHandle;
  let gw: BinanceRestGateway;
  let m: OrderManager;
  let rec: Recorder;
  const venue = 'binanceUsdm';
  const lot = 2; // 0.002 BTC

  beforeAll(async () => {
    s = await startSim({
      venues: [venue],
      seed: 11,
      symbols: ['BTCUSDT'],
      rate: 200,
      factories: { binanceUsdm: (ctx, o) => startBinanceUsdm(ctx, { ...o, listenKeyTtlMs: 1500 } as BinanceVenueOptions) },
    });
    const ep = s.endpoints[venue]!;
    const i = instrumentOf(s, venue);
    gw = createBinanceGateway({
      venue,
      restBaseUrl: ep.restBaseUrl,
      wsApiUrl: ep.wsApiUrl,
      wsStreamBaseUrl: ep.wsStreamBaseUrl,
      apiKey: ep.apiKey,
      apiSecret: ep.apiSecret,
      ed25519ApiKey: ep.ed25519ApiKey!,
      ed25519PrivateKeyPem: ep.ed25519PrivateKeyPem!,
      instruments: [{ symbol: i.symbol, priceDecimals: i.priceDecimals, qtyDecimals: i.qtyDecimals }],
      transport: 'wsapi',
      timeoutMs: 1000,
      recovery: { queryDelayMs: 10 },
      deadManSwitch: { countdownMs: 400, refreshMs: 100 },
    });
    ({ m, rec } = manager(i, gw));
    await m.start();
  });
  afterAll(async () => {
    await m?.stop();
    await s?.close();
  });

  it('disconnect with the order in flight: learns the outcome by query, one order only', async () => {
    const { bid } = bbo(s, venue);
    s.inject({ kind: 'latencyMs', market: venue, ms: 300 });
    let id = '';
    try {
      id = m.place({ slot: 0, side: 'BUY', type: 'LIMIT', tif: 'GTC', price: bid - 250, qty: lot })!;
      await new Promise((r) => setTimeout(r, 50));
      s.inject({ kind: 'closeConnections', market: venue, which: 'wsapi' });
    } finally {
      s.clear();
    }
    await untilState(m, id, ['ACKED'], 8000);
    expect((await m.openOrders(venue)).filter((o) => o.clientOrderId === id)).toHaveLength(1);
    await until(() => (gw as BinanceWsApiGateway).session.rpc.ready, 5000, 'WS API session back');
    m.cancel(id);
    await untilState(m, id, ['CANCELED']);
  });

  it('listenKeyExpired -> clean re-subscribe with a new key; fills keep arriving', async () => {
    const us = gw.userStream as BinanceUsdmUserStream;
    const key0 = us.currentListenKey;
    // the sim expires keys after 1.5 s without keep-alive (ours is every 30 min)
    await until(() => us.counts.renewals > 0 && us.currentListenKey !== key0, 6000, 'renewal');
    await new Promise((r) => setTimeout(r, 100));
    const { ask } = bbo(s, venue);
    const id = m.place({ slot: 0, side: 'BUY', type: 'LIMIT', tif: 'IOC', price: ask + 1000, qty: lot })!;
    await until(() => m.order(id)!.filledQty === lot, 4000, 'fill over the new stream');
  });

  it('private stream dropped: the manager reconciles open orders by query', async () => {
    const { bid } = bbo(s, venue);
    const id = m.place({ slot: 0, side: 'BUY', type: 'LIMIT', tif: 'GTC', price: bid - 200, qty: lot })!;
    await untilState(m, id, ['ACKED']);
    // the order is already ACKED, so the reconcile answer is 'stale' for the machine: watch the query count instead
    const q0 = m.store.counts.stale;
    (gw.userStream as BinanceUsdmUserStream).drop();
    await until(() => m.store.counts.stale > q0, 6000, 'reconcile query answer');
    expect(rec.events.filter((e) => e.clientOrderId === id && e.source === 'query')).toHaveLength(0);
    m.cancel(id);
    await untilState(m, id, ['CANCELED']);
  });

  it('algo orders are cancelled by cancelAllEverywhere', async () => {
    const { bid } = bbo(s, venue);
    const i = instrumentOf(s, venue);
    const trig = ((bid - 5000) / 10 ** i.priceDecimals).toFixed(i.priceDecimals);
    const r = await gw.placeAlgo({ symbol: 'BTCUSDT', side: 'SELL', type: 'STOP_MARKET', quantity: '0.002', triggerPrice: trig, clientAlgoId: 'algo-test-1' });
    expect(r.status).toBe(200);
    expect((await gw.openAlgoOrders('BTCUSDT')).length).toBeGreaterThan(0);
    expect(await m.cancelAllEverywhere()).toEqual([{ venue, remaining: 0 }]);
    expect(await gw.openAlgoOrders('BTCUSDT')).toHaveLength(0);
  });

  it("dead man's switch: when refreshes stop, the exchange cancels everything", async () => {
    const { bid } = bbo(s, venue);
    const id = m.place({ slot: 0, side: 'BUY', type: 'LIMIT', tif: 'GTC', price: bid - 200, qty: lot })!;
    await untilState(m, id, ['ACKED']);
    gw.halt('test: engine unhealthy'); // refreshes stop while halted
    await untilState(m, id, ['CANCELED'], 5000);
    gw.resume();
  });
});

describe('bybitLinear over trade WS: 10019 service restarting', () => {
  let s: SimHandle;
  let gw: BybitTradeWsGateway;
  let m: OrderManager;
  let venueHandle: BybitVenueHandle | undefined;
  const venue = 'bybitLinear';

  beforeAll(async () => {
    s = await startSim({
      venues: ['bybit'],
      seed: 12,
      symbols: ['BTCUSDT'],
      rate: 200,
      factories: {
        bybit: async (ctx, o) => {
          const h = (await startBybit(ctx, o)) as BybitVenueHandle;
          venueHandle = h;
          return h;
        },
      },
    });
    const ep = s.endpoints.bybit!;
    const i = instrumentOf(s, venue);
    gw = createBybitGateways([
      {
        category: 'linear',
        restBaseUrl: ep.restBaseUrl,
        wsApiUrl: ep.wsApiUrl,
        wsPrivateUrl: ep.wsPrivateUrl!,
        apiKey: ep.apiKey,
        apiSecret: ep.apiSecret,
        instruments: [{ symbol: i.symbol, priceDecimals: i.priceDecimals, qtyDecimals: i.qtyDecimals }],
        transport: 'ws',
        timeoutMs: 1000,
        recovery: { queryDelayMs: 10 },
      },
    ])[0] as BybitTradeWsGateway;
    ({ m } = manager(i, gw));
    await m.start();
  });
  afterAll(async () => {
    await m?.stop();
    await s?.close();
  });

  it('reconnects and places the order exactly once (REST meanwhile)', async () => {
    const { bid } = bbo(s, venue);
    venueHandle!.setTradeServiceRestarting(true);
    let id = '';
    try {
      id = m.place({ slot: 0, side: 'BUY', type: 'LIMIT', tif: 'GTC', price: bid - 250, qty: 2 })!;
      await untilState(m, id, ['ACKED'], 6000);
    } finally {
      venueHandle!.setTradeServiceRestarting(false);
    }
    expect(gw.wsCounts.restarts).toBeGreaterThanOrEqual(1);
    expect((await m.openOrders(venue)).filter((o) => o.clientOrderId === id)).toHaveLength(1);
    await until(() => gw.rpc.ready, 5000, 'trade WS re-authenticated');
    const id2 = m.place({ slot: 0, side: 'BUY', type: 'LIMIT', tif: 'GTC', price: bid - 260, qty: 2 })!;
    await untilState(m, id2, ['ACKED']);
    expect(m.order(id2)!.exchangeOrderId).not.toBe('');
    m.cancelAll();
    await untilState(m, id, ['CANCELED']);
    await untilState(m, id2, ['CANCELED']);
  });
});

describe('binanceSpot with an HMAC key only', () => {
  let s: SimHandle;
  let m: OrderManager;

  beforeAll(async () => {
    s = await startSim({ venues: ['binanceSpot'], seed: 13, symbols: ['BTCUSDT'], rate: 200 });
    const ep = s.endpoints.binanceSpot!;
    const i = instrumentOf(s, 'binanceSpot');
    const gw = createBinanceGateway({
      venue: 'binanceSpot',
      restBaseUrl: ep.restBaseUrl,
      wsApiUrl: ep.wsApiUrl,
      apiKey: ep.apiKey,
      apiSecret: ep.apiSecret,
      instruments: [{ symbol: i.symbol, priceDecimals: i.priceDecimals, qtyDecimals: i.qtyDecimals }],
      timeoutMs: 1000,
    });
    ({ m } = manager(i, gw));
    await m.start(); // user data via userDataStream.subscribe.signature (no session.logon without Ed25519)
  });
  afterAll(async () => {
    await m?.stop();
    await s?.close();
  });

  it('fills arrive over the signature-subscribed user stream', async () => {
    const { ask } = bbo(s, 'binanceSpot');
    const id = m.place({
      slot: 0,
      side: 'BUY',
      type: 'LIMIT',
      tif: 'IOC',
      price: ask + 1000,
      qty: 2 * 10 ** Math.max(0, instrumentOf(s, 'binanceSpot').qtyDecimals - 3),
    })!;
    await untilState(m, id, ['FILLED']);
    await until(() => m.order(id)!.fills > 0, 4000, 'stream fill');
  });
});
