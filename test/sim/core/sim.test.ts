import { afterEach, describe, expect, it } from 'vitest';
import { startSim, BINANCE_DOC_EXAMPLE_KEY, BINANCE_DOC_EXAMPLE_SECRET, type SimHandle } from '../../../src/sim/index.js';
import type { SimBookListener, SimLevelChange, SimVenueFactory } from '../../../src/sim/core/types.js';
import type { BybitVenueHandle } from '../../../src/sim/bybit/index.js';

const open: SimHandle[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

describe('startSim (core only)', () => {
  it('builds books for every market, credentials, accounts and a control endpoint', async () => {
    const sim = await startSim({
      seed: 1,
      venues: [],
      generatorMode: 'manual',
      credentials: { apiKey: BINANCE_DOC_EXAMPLE_KEY, apiSecret: BINANCE_DOC_EXAMPLE_SECRET },
    });
    open.push(sim);
    expect([...sim.books.keys()].sort()).toEqual(['binanceSpot', 'binanceUsdm', 'bybitLinear', 'bybitSpot']);
    for (const m of sim.books.values()) expect([...m.keys()]).toEqual(['BTCUSDT', 'ETHUSDT']);
    expect(sim.ctx.instruments.get('binanceUsdm')?.map((i) => i.contractType)).toEqual(['PERPETUAL', 'PERPETUAL']);
    // ladders are filled before venues start
    const b = sim.ctx.books.get('binanceSpot')!.get('BTCUSDT')!;
    expect(b.depth(5).bids.length).toBe(5);
    expect(sim.endpoints.seed).toBe(1);
    expect(sim.endpoints.symbols).toEqual(['BTCUSDT', 'ETHUSDT']);
    expect(sim.endpoints.binanceSpot).toBeUndefined();
    const c = sim.ctx.credentials;
    expect(c.apiKey).toBe(BINANCE_DOC_EXAMPLE_KEY);
    expect(c.ed25519ApiKey).toMatch(/^[A-Za-z0-9]{64}$/);
    expect(c.ed25519PrivateKeyPem).toContain('BEGIN PRIVATE KEY');
    expect(c.ed25519PublicKeyPem).toContain('BEGIN PUBLIC KEY');
    // both keys reach one account; unknown keys none
    expect(sim.ctx.account(c.apiKey)).toBe(sim.ctx.account(c.ed25519ApiKey));
    expect(sim.ctx.account('nope')).toBeUndefined();
    // faults through the handle and through the control endpoint
    sim.inject({ kind: 'clockSkewMs', market: 'bybitLinear', ms: 60_000 });
    expect(sim.ctx.nowMs('bybitLinear') - sim.ctx.nowMs('bybitSpot')).toBeGreaterThanOrEqual(59_000);
    const r = await fetch(`${sim.endpoints.control.url}/faults/clear`, { method: 'POST', headers: { 'X-Sim-Token': sim.endpoints.control.token } });
    expect(r.status).toBe(200);
    expect(sim.ctx.peekFault('bybitLinear', 'clockSkewMs')).toBeUndefined();
    const st = (await (await fetch(`${sim.endpoints.control.url}/state`, { headers: { 'X-Sim-Token': sim.endpoints.control.token } })).json()) as Record<
      string,
      unknown
    >;
    expect(st['generator']).toMatchObject({ seed: 1, rate: 2000 });
  });

  it('reports a venue that fails to start and wires a working one to the books', async () => {
    const seen: Array<{ sym: string; n: number; u: number }> = [];
    let accountEvents = 0;
    const fake: SimVenueFactory = async (ctx, o) => {
      const l: SimBookListener = {
        onLevels: (sym, ch: readonly SimLevelChange[], u) => seen.push({ sym, n: ch.length, u }),
        onTrade: () => undefined,
        onOrder: () => undefined,
      };
      for (const b of ctx.books.get('binanceSpot')!.values()) b.addListener(l);
      ctx.onAccountChange?.(() => accountEvents++);
      return {
        endpoints: {
          restBaseUrl: `http://${o.host}:1`,
          wsStreamBaseUrl: `ws://${o.host}:1`,
          wsApiUrl: `ws://${o.host}:1/ws-api/v3`,
          apiKey: ctx.credentials.apiKey,
          apiSecret: ctx.credentials.apiSecret,
        },
        close: async () => {
          for (const b of ctx.books.get('binanceSpot')!.values()) b.removeListener(l);
        },
      };
    };
    const broken: SimVenueFactory = async () => {
      throw new Error('boom');
    };
    const sim = await startSim({
      seed: 2,
      venues: ['binanceSpot', 'bybit'],
      generatorMode: 'manual',
      deterministic: true,
      factories: { binanceSpot: fake, bybit: broken },
    });
    open.push(sim);
    expect(sim.venueErrors).toEqual({ bybit: 'boom' });
    expect(Object.keys(sim.endpoints)).toEqual(['binanceSpot', 'control', 'seed', 'symbols']);
    sim.generator.produce(500);
    expect(seen.length).toBeGreaterThan(10);
    expect(new Set(seen.map((s) => s.sym))).toEqual(new Set(['BTCUSDT', 'ETHUSDT']));
    // deterministic: the server clock is the generator's virtual clock
    expect(sim.ctx.nowMs('binanceSpot')).toBe(sim.generator.virtualNowMs());
    // an order through the shared book updates the account
    const book = sim.ctx.books.get('binanceSpot')!.get('BTCUSDT')!;
    const ask = book.bestAsk()!;
    const res = book.submit({
      accountId: sim.ctx.credentials.apiKey,
      clientOrderId: 'x',
      side: 'BUY',
      type: 'LIMIT',
      tif: 'IOC',
      priceTicks: ask.priceTicks,
      qtyLots: 100,
      reduceOnly: false,
    });
    expect(res.ok && res.fills.length).toBeGreaterThan(0);
    expect(accountEvents).toBeGreaterThan(0);
    expect(sim.ctx.account(sim.ctx.credentials.apiKey)!.balances.get('BTC')!.free).toBeGreaterThan(100);
  });

  it('venueOptions reach the venue layers (real Bybit, and a replaced factory gets them merged too)', async () => {
    const got: unknown[] = [];
    const fake: SimVenueFactory = async (ctx, o) => {
      got.push(o);
      return {
        endpoints: {
          restBaseUrl: `http://${o.host}:1`,
          wsStreamBaseUrl: `ws://${o.host}:1`,
          wsApiUrl: `ws://${o.host}:1/ws-api/v3`,
          apiKey: ctx.credentials.apiKey,
          apiSecret: ctx.credentials.apiSecret,
        },
        close: async () => undefined,
      };
    };
    const sim = await startSim({
      seed: 4,
      venues: ['binanceUsdm', 'bybit'],
      generatorMode: 'manual',
      factories: { binanceUsdm: fake },
      venueOptions: { binanceUsdm: { listenKeyTtlMs: 1500, pingIntervalMs: 1000 }, bybit: { firstUpdateId: 4242, idleTimeoutSec: 30 } },
    });
    open.push(sim);
    expect(got).toEqual([{ host: '127.0.0.1', listenKeyTtlMs: 1500, pingIntervalMs: 1000 }]);
    const bybit = sim.venueHandles.bybit as BybitVenueHandle;
    expect(Object.keys(sim.venueHandles).sort()).toEqual(['binanceUsdm', 'bybit']);
    // a topic's u starts at firstUpdateId and is incremented when the topic is first activated
    const r = await fetch(`${sim.endpoints.bybit!.restBaseUrl}/v5/market/orderbook?category=linear&symbol=BTCUSDT&limit=1000`);
    const j = (await r.json()) as { result: { u: number } };
    expect(j.result.u).toBe(4243);
    expect(bybit.topicUpdateId('linear', 'BTCUSDT', 1000)).toBe(4243);
  });

  it('replay books come from the capture; generator keeps the other symbols', async () => {
    const sim = await startSim({
      seed: 3,
      venues: [],
      generatorMode: 'manual',
      replay: '/work/shared/exchange/fixtures/binance/usdm_capture_2021-07-22_cryptofeed.ndjson',
    });
    open.push(sim);
    expect([...sim.books.get('binanceUsdm')!.keys()].sort()).toEqual(['AKROUSDT', 'BTCUSDT', 'ETHUSDT', 'SUSHIUSDT']);
    const r = sim.replayers[0]!;
    r.applyAll();
    expect(r.applied).toBeGreaterThan(200);
    const sushi = sim.books.get('binanceUsdm')!.get('SUSHIUSDT')!;
    expect(sushi.bestBid()!.priceTicks).toBeLessThan(sushi.bestAsk()!.priceTicks);
  });
});
