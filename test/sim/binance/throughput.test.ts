/**
 * On-demand measurement (skipped unless TICKWIRE_MEASURE=1): how many generator level updates per second the
 * Binance venues turn into stream frames, with and without subscribers, per-batch vs coalesced diffs.
 *   TICKWIRE_MEASURE=1 npx vitest run test/sim/binance/throughput.test.ts
 * Prints figures; asserts nothing about speed (the machine is shared).
 */
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startSim } from '../../../src/sim/index.js';

async function run(depthIntervalMs: number, subscribe: boolean): Promise<string> {
  const sim = await startSim({ venues: ['binanceSpot', 'binanceUsdm'], generatorMode: 'manual', symbols: ['BTCUSDT', 'ETHUSDT'], depthIntervalMs, seed: 7 });
  const clients: WebSocket[] = [];
  let frames = 0;
  try {
    if (subscribe) {
      const urls = [
        `${sim.endpoints.binanceSpot!.wsStreamBaseUrl}/stream?streams=btcusdt@bookTicker/btcusdt@depth@100ms/btcusdt@aggTrade/ethusdt@depth@100ms/ethusdt@bookTicker`,
        `${sim.endpoints.binanceUsdm!.wsStreamBaseUrl}/public/ws/btcusdt@bookTicker/btcusdt@depth@100ms/ethusdt@depth@100ms`,
      ];
      for (const u of urls) {
        const w = new WebSocket(u);
        w.on('message', () => frames++);
        await new Promise((r) => w.once('open', r));
        clients.push(w);
      }
    }
    sim.generator.produce(20_000); // warm-up
    const N = 200_000;
    const t0 = performance.now();
    sim.generator.produce(N);
    const ms = performance.now() - t0;
    await new Promise((r) => setTimeout(r, 300));
    return `depthIntervalMs=${depthIntervalMs} subscribers=${subscribe}: ${N} level updates (all 8 books) in ${ms.toFixed(0)} ms = ${Math.round((N / ms) * 1000)}/s; frames received ${frames}`;
  } finally {
    for (const c of clients) c.terminate();
    await sim.close();
  }
}

describe.skipIf(process.env['TICKWIRE_MEASURE'] !== '1')('binance sim stream encoding throughput (on demand)', () => {
  it('prints updates/s', async () => {
    const lines: string[] = [];
    for (const [i, s] of [
      [0, false],
      [0, true],
      [100, true],
    ] as const)
      lines.push(await run(i, s));
    process.stdout.write(lines.join('\n') + '\n');
    expect(lines.length).toBe(3);
  }, 120_000);
});
