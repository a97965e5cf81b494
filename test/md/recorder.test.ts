/**
 * Recording: a live Binance spot feed from the simulator is recorded to NDJSON (cryptofeed format 2) off the
 * hot path; the file parses with the simulator's replay loader, and replaying it through a fresh adapter
 * rebuilds exactly the live adapter's book.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startSim, type SimHandle } from '../../src/sim/index.js';
import { parseCapture } from '../../src/sim/core/replay.js';
import { fetchBinanceInstruments } from '../../src/exchange/reference.js';
import { BinanceMd } from '../../src/exchange/binance/md/adapter.js';
import { FrameRecorder } from '../../src/md/recorder.js';
import { BotState } from '../../src/model/botstate.js';
import { ASK, BID } from '../../src/book/l2book.js';
import { expectNoAllocation } from '../helpers/alloc.js';

let sim: SimHandle;
let dir: string;

beforeAll(async () => {
  sim = await startSim({ seed: 3, symbols: ['BTCUSDT'], rate: 2000, venues: ['binanceSpot'] });
  dir = mkdtempSync(path.join(tmpdir(), 'md-rec-'));
});
afterAll(async () => {
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('FrameRecorder', () => {
  it('records frames and the REST snapshot in receive order; replay rebuilds the same book', async () => {
    const e = sim.endpoints.binanceSpot!;
    const insts = await fetchBinanceInstruments(e.restBaseUrl, 'spot', ['BTCUSDT']);
    const file = path.join(dir, 'spot.ndjson');
    const rec = new FrameRecorder(file, 'BINANCE', 1 << 20, 20);
    const live = new BinanceMd({
      market: 'spot',
      restBaseUrl: e.restBaseUrl,
      wsBaseUrl: e.wsStreamBaseUrl,
      instruments: insts,
      state: BotState.create(1),
      recorder: rec,
    });
    await live.start();
    const end = Date.now() + 5000;
    while (Date.now() < end && (live.counters.snapshots === 0 || live.counters.applied < 30)) await new Promise((r) => setTimeout(r, 20));
    await live.stop();
    await rec.close();
    expect(live.counters.snapshots).toBe(1);

    const text = readFileSync(file, 'utf8');
    const lines = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { t: string; conn?: string; url?: string; data?: string; ts?: number });
    expect(lines[0]!.t).toBe('header');
    expect(lines.some((l) => l.t === 'connect')).toBe(true);
    expect(lines.filter((l) => l.t === 'http').length).toBe(1);
    expect(lines.filter((l) => l.t === 'recv').length).toBe(live.counters.frames);
    for (let i = 2; i < lines.length; i++) expect(lines[i]!.ts!).toBeGreaterThanOrEqual(lines[i - 1]!.ts! - 1e-6);

    const src = parseCapture(text, file);
    expect(src.badLines).toBe(0);
    expect(src.events.some((ev) => ev.kind === 'snapshot')).toBe(true);

    const replay = new BinanceMd({
      market: 'spot',
      restBaseUrl: 'http://127.0.0.1:1',
      wsBaseUrl: 'ws://127.0.0.1:1',
      instruments: insts,
      state: BotState.create(1),
      fetchSnapshot: () => new Promise<string>(() => {}),
    });
    for (const l of lines) {
      if (l.t === 'recv') replay.onFrame(Buffer.from(l.data!), 1);
      else if (l.t === 'http') replay.deliverSnapshot('BTCUSDT', l.data!);
    }
    expect(replay.book('BTCUSDT')!.levels(BID)).toEqual(live.book('BTCUSDT')!.levels(BID));
    expect(replay.book('BTCUSDT')!.levels(ASK)).toEqual(live.book('BTCUSDT')!.levels(ASK));
    expect(replay.counters.gaps).toBe(0);
  });

  it('record() (the only step on the hot path) allocates nothing: a copy into the chunk and four typed-array writes', () => {
    const file = path.join(dir, 'alloc.ndjson');
    const n = 20_000;
    const rec = new FrameRecorder(file, 'BINANCE', 64 * 1024 * 1024, 3_600_000);
    const frame = Buffer.from(
      JSON.stringify({ stream: 'btcusdt@depth@100ms', data: { e: 'depthUpdate', E: 1, s: 'BTCUSDT', U: 1, u: 2, b: [['97000.01', '0.5']], a: [] } }),
    );
    const id = rec.connect('spot-book', 'ws://127.0.0.1:1/stream', 0);
    // room for the longest loop (4n frames) without growing: grown once here, then reused
    for (let i = 0; i < 4 * n; i++) rec.record(id, frame, i);
    rec.flush();
    const state = rec as unknown as { n: number; used: number };
    expectNoAllocation(
      'FrameRecorder.record',
      (calls) => {
        state.n = 0; // drop what the previous loop queued (constant cost; the timer's flush does this in a run)
        state.used = 0;
        for (let i = 0; i < calls; i++) rec.record(id, frame, i);
      },
      n,
    );
    state.n = 0;
    return rec.close();
  });
});
