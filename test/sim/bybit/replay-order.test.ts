// Issue 13, replay order: the real Bybit capture stores all its linear lines before its spot lines. Replayed through
// the simulator's public sockets, the two markets' frames must interleave as recorded (by receive time), not arrive
// linear first and spot in one burst at the end. Lockstep, no wall time: apply one recorded event, then wait for the
// frame it produces on its market's socket; the order of the frames at the sockets is the order asserted.
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { startSim, type SimHandle } from '../../../src/sim/index.js';
import { Client } from './helpers.js';

const FILE = '/work/shared/exchange/fixtures/bybit/v5_public_capture_2026-08_cryptofeed.ndjson';
const TOPIC = 'orderbook.1000.BTCUSDT';
let sim: SimHandle | undefined;
const clients: Client[] = [];
afterAll(async () => {
  for (const c of clients) c.close();
  await sim?.close();
});

/** the capture's BTCUSDT book lines, market per line, sorted by recorded receive time (stable) */
function recordedMarkets(): string[] {
  const conns = new Map<string, string>();
  const out: Array<{ market: string; ts: number }> = [];
  for (const line of readFileSync(FILE, 'utf8').split('\n')) {
    if (!line) continue;
    const o = JSON.parse(line);
    if (o.t === 'connect') conns.set(o.conn, o.addr.endsWith('linear') ? 'bybitLinear' : 'bybitSpot');
    if (o.t === 'recv' && JSON.parse(o.data).topic === 'orderbook.200.BTCUSDT') out.push({ market: conns.get(o.conn)!, ts: o.ts });
  }
  return out.sort((a, b) => a.ts - b.ts).map((x) => x.market);
}

describe('replay of a multi-market capture at the sockets', () => {
  it('spot and linear frames interleave in recorded time (the first spot frame is not held behind the linear lines)', async () => {
    sim = await startSim({ seed: 1, venues: ['bybit'], generatorMode: 'manual', depthIntervalMs: 0, replay: [FILE], replaySpeed: 0 });
    const base = sim.endpoints.bybit!.wsStreamBaseUrl;
    const sock = { bybitSpot: await Client.open(`${base}/v5/public/spot`), bybitLinear: await Client.open(`${base}/v5/public/linear`) };
    clients.push(sock.bybitSpot, sock.bybitLinear);
    for (const c of clients) {
      c.send({ op: 'subscribe', args: [TOPIC] });
      await c.waitFor((f) => f.topic === TOPIC);
    }
    const r = sim.replayers[0]!;
    expect(r.sources).toHaveLength(1);
    const got: string[] = [];
    for (let ev = r.peek(); ev; ev = r.peek()) {
      const c = sock[ev.market as 'bybitSpot' | 'bybitLinear'];
      const before = c.frames.length;
      const applied = r.applied;
      r.applyNext();
      if (ev.kind === 'trade' || ev.symbol !== 'BTCUSDT' || r.applied === applied) continue;
      await c.waitFor((f) => f.topic === TOPIC, 4000, before);
      got.push(ev.market);
    }
    const want = recordedMarkets();
    expect(want.length).toBeGreaterThan(500);
    const firstSpot = want.indexOf('bybitSpot');
    expect(firstSpot).toBeLessThan(20); // recorded: spot starts with linear, not after its 600+ lines
    expect(got).toEqual(want);
    expect(got.indexOf('bybitSpot')).toBe(firstSpot);
    // the sockets saw exactly those frames, each market's in order
    for (const m of ['bybitSpot', 'bybitLinear'] as const) {
      const frames = sock[m].frames.filter((f) => f.topic === TOPIC);
      expect(frames.length - 1).toBe(got.filter((x) => x === m).length); // minus the subscribe snapshot
    }
  }, 30_000);
});
