// Same seed, deterministic clock and one frame per batch (depthIntervalMs 0): the Bybit market streams are the
// same bytes run after run.
import { describe, it, expect } from 'vitest';
import { startSim } from '../../../src/sim/index.js';
import { Client, sleep } from './helpers.js';

async function run(seed: number): Promise<string[]> {
  const sim = await startSim({ venues: ['bybit'], seed, deterministic: true, depthIntervalMs: 0, generatorMode: 'manual', symbols: ['BTCUSDT'] });
  try {
    const ep = sim.endpoints.bybit!;
    const c = await Client.open(`${ep.wsStreamBaseUrl}/v5/public/linear`);
    c.send({ op: 'subscribe', args: ['orderbook.50.BTCUSDT', 'orderbook.1.BTCUSDT', 'publicTrade.BTCUSDT'] });
    await c.waitFor((f) => f.topic === 'orderbook.1.BTCUSDT');
    sim.generator.produce(3000);
    const lastU = (await c.waitFor((f) => f.topic === 'orderbook.50.BTCUSDT' && f.type === 'delta')).data.u;
    // wait until the stream is quiet (all frames of the produced batches arrived)
    let n = -1;
    while (n !== c.raw.length) {
      n = c.raw.length;
      await sleep(100);
    }
    expect(lastU).toBeGreaterThan(0);
    c.close();
    return c.raw.filter((r) => r.startsWith('{"topic"'));
  } finally {
    await sim.close();
  }
}

describe('determinism', () => {
  it('same seed -> same market byte stream; another seed differs', async () => {
    const a = await run(11);
    const b = await run(11);
    expect(a.length).toBeGreaterThan(50);
    expect(b).toEqual(a);
    const c = await run(12);
    expect(c).not.toEqual(a);
  });
});
