// Manual measurement (skipped unless BYBIT_SIM_MEASURE=1): the generator at 100,000 level updates/s on 2 symbols x
// 2 categories, one client per category subscribed to every orderbook depth + publicTrade. Prints rates and the
// process CPU share (generator + venue + ws clients in one process). No timing assertion: the machine is shared.
//   BYBIT_SIM_MEASURE=1 npx vitest run test/sim/bybit/throughput.test.ts
import { it, expect } from 'vitest';
import { startSim } from '../../../src/sim/index.js';
import { Client, sleep } from './helpers.js';

it.skipIf(!process.env['BYBIT_SIM_MEASURE'])(
  'throughput at 100k level updates/s',
  async () => {
    const sim = await startSim({ venues: ['bybit'], seed: 1, rate: 100_000, symbols: ['BTCUSDT', 'ETHUSDT'] });
    const ep = sim.endpoints.bybit!;
    const cs: Client[] = [];
    try {
      for (const cat of ['linear', 'spot']) {
        const c = await Client.open(`${ep.wsStreamBaseUrl}/v5/public/${cat}`);
        const args = ['BTCUSDT', 'ETHUSDT'].flatMap((s) => [1, 50, 200, 1000].map((d) => `orderbook.${d}.${s}`).concat(`publicTrade.${s}`));
        c.send({ op: 'subscribe', args });
        cs.push(c);
      }
      await sleep(500);
      const count = () => ({ f: cs.reduce((a, c) => a + c.raw.length, 0), b: cs.reduce((a, c) => a + c.raw.reduce((x, r) => x + r.length, 0), 0) });
      const p0 = sim.generator.produced;
      const c0 = count();
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await sleep(5000);
      const dt = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      const c1 = count();
      const rate = (sim.generator.produced - p0) / dt;
      console.log(
        `level updates/s ${rate.toFixed(0)}, frames/s ${((c1.f - c0.f) / dt).toFixed(0)}, MB/s ${((c1.b - c0.b) / dt / 1e6).toFixed(2)}, ` +
          `process CPU ${(((cpu.user + cpu.system) / 1e6 / dt) * 100).toFixed(0)}% of one core`,
      );
      expect(c1.f).toBeGreaterThan(c0.f);
    } finally {
      for (const c of cs) c.close();
      await sim.close();
    }
  },
  30_000,
);
