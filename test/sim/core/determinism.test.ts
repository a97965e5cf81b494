/**
 * Replay determinism (issue 2): with --deterministic, the same seed gives the same byte stream on the wire.
 * Drives the generator by hand (generatorMode 'manual') so both runs see the same book changes after subscribing,
 * and compares every market-data frame a real WebSocket client receives. Runs against each venue that has started
 * (Bybit today; Binance once its layer lands) and says which venues it could not check.
 */
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startSim, type SimHandle, type SimVenueName } from '../../../src/sim/index.js';

const open: Array<{ sim: SimHandle; ws?: WebSocket }> = [];
afterEach(async () => {
  for (const o of open.splice(0)) {
    o.ws?.terminate();
    await o.sim.close();
  }
});

interface Plan {
  venue: SimVenueName;
  url: (sim: SimHandle) => string;
  /** a subscription answered by a snapshot frame (Bybit); otherwise the stream starts with the next change */
  subscribe?: string;
  /** frames to keep (drop acks that carry per-connection ids) */
  keep: (frame: string) => boolean;
}

const PLANS: Plan[] = [
  {
    venue: 'bybit',
    url: (s) => `${s.endpoints.bybit!.wsStreamBaseUrl}/v5/public/linear`,
    subscribe: JSON.stringify({ op: 'subscribe', args: ['orderbook.50.BTCUSDT', 'publicTrade.BTCUSDT'] }),
    keep: (f) => f.startsWith('{"topic"'),
  },
  {
    venue: 'binanceUsdm',
    // 2026 routing: book data on /public
    url: (s) => `${s.endpoints.binanceUsdm!.wsStreamBaseUrl}/public/stream?streams=btcusdt@depth@100ms/btcusdt@bookTicker`,
    keep: (f) => f.startsWith('{"stream"'),
  },
  {
    venue: 'binanceSpot',
    url: (s) => `${s.endpoints.binanceSpot!.wsStreamBaseUrl}/stream?streams=btcusdt@depth@100ms/btcusdt@trade/btcusdt@bookTicker`,
    keep: (f) => f.startsWith('{"stream"'),
  },
];

async function capture(seed: number, plan: Plan): Promise<string[] | 'not-started'> {
  const sim = await startSim({ seed, venues: [plan.venue], deterministic: true, generatorMode: 'manual', symbols: ['BTCUSDT'] });
  open.push({ sim });
  if (!sim.endpoints[plan.venue]) return 'not-started';
  const ws = new WebSocket(plan.url(sim));
  open[open.length - 1]!.ws = ws;
  const frames: string[] = [];
  let last = Date.now();
  ws.on('message', (d) => {
    const s = String(d);
    last = Date.now();
    if (plan.keep(s)) frames.push(s);
  });
  await new Promise<void>((res, rej) => {
    ws.once('open', () => res());
    ws.once('error', rej);
  });
  if (plan.subscribe) {
    ws.send(plan.subscribe);
    // let the subscription settle (snapshot), then drive the market
    const settle = Date.now();
    while (Date.now() - settle < 3000 && (frames.length === 0 || Date.now() - last < 150)) await new Promise((r) => setTimeout(r, 20));
  } else {
    await new Promise((r) => setTimeout(r, 50)); // the server has registered the combined-stream subscription
  }
  for (let i = 0; i < 20; i++) {
    sim.generator.produce(100);
    await new Promise((r) => setTimeout(r, 5));
  }
  const start = Date.now();
  // frames are written synchronously by the batches; wait until the client has read them all (quiet for 500 ms)
  while (Date.now() - start < 8000 && Date.now() - last < 500) await new Promise((r) => setTimeout(r, 20));
  return frames;
}

describe('deterministic byte stream', () => {
  for (const plan of PLANS) {
    it(`${plan.venue}: same seed -> same frames; other seed -> different`, async () => {
      const a = await capture(11, plan);
      if (a === 'not-started') {
        console.warn(`determinism: venue ${plan.venue} did not start (placeholder?): not checked`);
        const sim = open[open.length - 1]!.sim;
        expect(sim.venueErrors[plan.venue]).toEqual(expect.any(String));
        return;
      }
      const b = await capture(11, plan);
      const c = await capture(12, plan);
      expect(a.length).toBeGreaterThan(20);
      expect(b).toEqual(a);
      expect(c).not.toEqual(a);
    });
  }
});
