/**
 * Order round trip on loopback against the embedded simulator: REST vs WebSocket order API, per exchange.
 * One task = place a non-marketable IOC order through the OrderManager and await the venue's answer
 * (Binance: the response with status EXPIRED; Bybit: the create ack). Same process, same machine: the numbers
 * include the simulator's own work and the cross-vCPU wake-ups noted in ../shared/perf-notes.md; compare the
 * transports against each other within one run (p50/p99/p99.9 are in the results file).
 * Run: npm run bench -- --filter orders-roundtrip
 */
import type { Bench } from 'tinybench';
import type { Instrument } from '../../src/model/types.js';
import { createBinanceGateway } from '../../src/exchange/binance/trade/index.js';
import { createBybitGateways } from '../../src/exchange/bybit/trade/index.js';
import { IpWindow } from '../../src/net/ratelimit.js';
import { startBinanceUsdm, type BinanceVenueOptions } from '../../src/sim/binance/index.js';
import { startBybit } from '../../src/sim/bybit/index.js';
import { startSim } from '../../src/sim/index.js';
import type { VenueGateway } from '../../src/orders/gateway.js';
import { OrderManager } from '../../src/orders/manager.js';
import type { OrderEvent } from '../../src/model/orders.js';

const BIG = { weightPerMin: 1e9, orders10s: 1e9, ordersLong: 1e9, banAfter: 1e9, banMs: 1 };

export default async function register(bench: Bench): Promise<void> {
  const sim = await startSim({
    venues: ['binanceUsdm', 'bybit'],
    seed: 3,
    symbols: ['BTCUSDT'],
    rate: 100,
    factories: {
      binanceUsdm: (ctx, o) => startBinanceUsdm(ctx, { ...o, limits: BIG } as BinanceVenueOptions),
      bybit: (ctx, o) =>
        startBybit(ctx, { ...o, rateLimits: { create: { linear: 1e9, spot: 1e9 }, cancel: { linear: 1e9, spot: 1e9 }, query: 1e9, ipPer5s: 1e9 } } as typeof o),
    },
  });
  const inst = (venue: 'binanceUsdm' | 'bybitLinear'): Instrument => {
    const i = sim.ctx.instruments.get(venue)!.find((x) => x.symbol === 'BTCUSDT')!;
    return {
      venue,
      symbol: i.symbol,
      base: i.base,
      quote: i.quote,
      tickSize: i.tickSize,
      stepSize: i.stepSize,
      minQty: i.minQty,
      minNotional: i.minNotional,
      priceDecimals: i.priceDecimals,
      qtyDecimals: i.qtyDecimals,
      tickUnits: 1,
      lotUnits: 1,
      slot: 0,
    };
  };
  const bn = sim.endpoints.binanceUsdm!;
  const by = sim.endpoints.bybit!;
  const bi = inst('binanceUsdm');
  const yi = inst('bybitLinear');
  const noLimits = { weightPerMinute: 1e12, ordersPer10s: 0, ordersPerMinute: 0, headroom: 1 };
  const mk = (transport: 'rest' | 'wsapi'): VenueGateway =>
    createBinanceGateway({
      venue: 'binanceUsdm',
      restBaseUrl: bn.restBaseUrl,
      wsApiUrl: bn.wsApiUrl,
      wsStreamBaseUrl: bn.wsStreamBaseUrl,
      apiKey: bn.apiKey,
      apiSecret: bn.apiSecret,
      ed25519ApiKey: bn.ed25519ApiKey!,
      ed25519PrivateKeyPem: bn.ed25519PrivateKeyPem!,
      instruments: [bi],
      transport,
      userStream: false,
      deadManSwitch: false,
      limits: noLimits,
    });
  const mkBy = (transport: 'rest' | 'ws'): VenueGateway =>
    createBybitGateways([
      {
        category: 'linear',
        restBaseUrl: by.restBaseUrl,
        wsApiUrl: by.wsApiUrl,
        apiKey: by.apiKey,
        apiSecret: by.apiSecret,
        instruments: [yi],
        transport,
        privateStream: false,
        // the engine's own per-IP window lifted as the simulator's limits are (else the bench times local refusals)
        ipWindow: new IpWindow(1_000_000_000, 5000),
      },
    ])[0]!;

  const setups: Array<[string, Instrument, VenueGateway]> = [
    ['orders: RT binanceUsdm REST', bi, mk('rest')],
    ['orders: RT binanceUsdm WS API', bi, mk('wsapi')],
    ['orders: RT bybitLinear REST', yi, mkBy('rest')],
    ['orders: RT bybitLinear trade WS', yi, mkBy('ws')],
  ];
  const managers: OrderManager[] = [];
  for (const [name, i, gw] of setups) {
    const m = new OrderManager({ instruments: [i], gateways: [gw] });
    managers.push(m);
    await m.start();
    let waiting = '';
    let done: (() => void) | undefined;
    /** answers that were a rate-limit refusal (local or the venue's): the round trip did not happen */
    let localRefusals = 0;
    m.subscribe({
      onOrderEvent(ev: OrderEvent) {
        if (ev.clientOrderId === waiting && ev.source !== 'stream' && done) {
          if (ev.kind === 'reject' && ev.reason.includes('RATE_LIMITED')) localRefusals++;
          const d = done;
          done = undefined;
          d();
        }
      },
    });
    const book = sim.books.get(i.venue)!.get('BTCUSDT')!;
    bench.add(
      name,
      async () => {
        const bid = book.bestBid()!.priceTicks;
        const p = new Promise<void>((r) => (done = r));
        waiting = m.place({ slot: 0, side: 'BUY', type: 'LIMIT', tif: 'IOC', price: bid - 2000, qty: 2 }) ?? '';
        await p;
        if (localRefusals > 0)
          throw new Error(`${name}: ${localRefusals} order(s) refused for the rate limit: the task would time a refusal, not a round trip`);
      },
      { async: true },
    );
  }
  bench.addEventListener('complete', () => {
    void (async () => {
      for (const m of managers) await m.stop();
      await sim.close();
    })();
  });
}
