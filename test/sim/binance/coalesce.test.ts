/** Depth diffs coalesced per ctx.depthIntervalMs keep the documented sequencing and rebuild the exact book. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, rest, sleep, startTestSim, type TestSim } from './helpers.js';

type Depth = { lastUpdateId: number; bids: [string, string][]; asks: [string, string][] };
type Diff = { U: number; u: number; pu?: number; b: [string, string][]; a: [string, string][] };

function rebuild(snap: Depth, diffs: Diff[], spot: boolean): { id: number; bids: [string, string][]; asks: [string, string][] } {
  const bids = new Map(snap.bids);
  const asks = new Map(snap.asks);
  let id = snap.lastUpdateId;
  const kept = diffs.filter((d) => (spot ? d.u > id : d.u >= id));
  const first = kept[0]!;
  if (spot) expect(first.U <= id + 1 && id + 1 <= first.u).toBe(true);
  else expect(first.U <= id && id <= first.u).toBe(true);
  for (const d of kept) {
    for (const [p, q] of d.b) Number(q) === 0 ? bids.delete(p) : bids.set(p, q);
    for (const [p, q] of d.a) Number(q) === 0 ? asks.delete(p) : asks.set(p, q);
    id = d.u;
  }
  return {
    id,
    bids: [...bids].sort((x, y) => Number(y[0]) - Number(x[0])).slice(0, 20),
    asks: [...asks].sort((x, y) => Number(x[0]) - Number(y[0])).slice(0, 20),
  };
}

describe('binance sim: coalesced depth diffs (depthIntervalMs = 25)', () => {
  let t: TestSim;
  beforeAll(async () => {
    t = await startTestSim({}, { depthIntervalMs: 25 });
  });
  afterAll(async () => t?.sim.close());

  for (const spot of [true, false]) {
    it(`${spot ? 'Spot' : 'USD-M'}: chain holds and the documented sync rebuilds the REST book`, async () => {
      const ep = spot ? t.spot : t.usdm;
      const c = await connect(spot ? `${ep.wsStreamBaseUrl}/ws/btcusdt@depth@100ms` : `${ep.wsStreamBaseUrl}/public/ws/btcusdt@depth@100ms`);
      try {
        const path = spot ? '/api/v3/depth' : '/fapi/v1/depth';
        const diffs: Diff[] = [];
        const drain = (): void => {
          for (const m of c.raw().splice(0)) diffs.push(JSON.parse(m) as Diff);
        };
        for (let i = 0; i < 5; i++) {
          t.sim.generator.produce(300);
          await sleep(30);
        }
        const snap = (await rest(ep, 'GET', path, { symbol: 'BTCUSDT', limit: 1000 })).json as Depth;
        for (let i = 0; i < 5; i++) {
          t.sim.generator.produce(300);
          await sleep(30);
        }
        const end = (await rest(ep, 'GET', path, { symbol: 'BTCUSDT', limit: 1000 })).json as Depth;
        for (let i = 0; i < 100; i++) {
          drain();
          if (diffs.length > 0 && diffs[diffs.length - 1]!.u >= end.lastUpdateId) break;
          await sleep(10);
        }
        expect(diffs.length).toBeGreaterThan(2);
        for (let i = 1; i < diffs.length; i++) {
          if (spot) expect(diffs[i]!.U).toBe(diffs[i - 1]!.u + 1);
          else expect(diffs[i]!.pu).toBe(diffs[i - 1]!.u);
        }
        const lb = rebuild(snap, diffs, spot);
        expect(lb.id).toBe(end.lastUpdateId);
        expect({ bids: lb.bids, asks: lb.asks }).toEqual({ bids: end.bids.slice(0, 20), asks: end.asks.slice(0, 20) });
      } finally {
        c.close();
      }
    });
  }
});
