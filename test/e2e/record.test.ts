/**
 * `tickwire run --record DIR`: a run against the embedded simulator records the market data it receives (rotated
 * by size into several parts per venue, files 0600 in a 0700 dir); `tickwire sim --replay` of those files (the
 * built CLI, a child process) then serves the same market: a client that connects to it sees only books the engine
 * saw, in the order the engine saw them, and ends on the engine's last book, level by level.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { runEngine } from '../../src/app/run.js';
import type { Wiring } from '../../src/app/wiring.js';
import { ASK, BID, type L2Book } from '../../src/book/l2book.js';
import { BotState } from '../../src/model/botstate.js';
import type { Instrument, VenueId } from '../../src/model/types.js';
import { VENUE_DRIVERS, type MdAdapter } from '../../src/exchange/registry.js';
import { accessFromSim } from '../../src/exchange/endpoints.js';
import { BinanceMd } from '../../src/exchange/binance/md/adapter.js';
import { BybitMd } from '../../src/exchange/bybit/md/adapter.js';
import { rmDir, tmpDir } from '../core/helpers.js';

const ROOT = resolve(import.meta.dirname, '../..');
const dir = tmpDir('e2e-record');
afterAll(() => rmDir(dir));
const quiet = { log: { level: 'silent', destinations: [{ to: 'stderr', level: 'silent' }] } };
const VENUES: VenueId[] = ['binanceSpot', 'bybitLinear'];

type Levels = Array<[number, number]>;
/** a book in real prices and quantities (the replaying simulator derives its own decimals from the recorded text) */
function real(b: L2Book, ins: Instrument): { bids: Levels; asks: Levels } {
  const px = 10 ** ins.priceDecimals;
  const q = 10 ** ins.qtyDecimals;
  const conv = (l: Levels): Levels => l.map(([p, s]) => [p / px, s / q]);
  return { bids: conv(b.levels(BID)), asks: conv(b.levels(ASK)) };
}
const topKey = (b: { bids: Levels; asks: Levels }): string => `${b.bids[0]?.[0] ?? 0}/${b.asks[0]?.[0] ?? 0}`;

/** What the engine saw, rebuilt from the recording: the recorded frames and snapshots through a fresh adapter. */
function rebuild(files: string[], ins: Instrument): { tops: string[]; book: L2Book } {
  const state = BotState.create(1);
  const one = { ...ins, slot: 0 };
  const md: MdAdapter =
    ins.venue === 'bybitLinear'
      ? new BybitMd({ category: 'linear', wsBaseUrl: 'ws://127.0.0.1:1', instruments: [one], state })
      : new BinanceMd({
          market: 'spot',
          restBaseUrl: 'http://127.0.0.1:1',
          wsBaseUrl: 'ws://127.0.0.1:1',
          instruments: [one],
          state,
          fetchSnapshot: () => new Promise<string>(() => {}),
        });
  const tops: string[] = [];
  for (const f of files) {
    for (const line of readFileSync(f, 'utf8').trim().split('\n')) {
      const l = JSON.parse(line) as { t: string; data?: string };
      // each part starts again from its own snapshot (as a replay of it alone would)
      if (l.t === 'recv') md.onFrame(Buffer.from(l.data!), 1);
      else if (l.t === 'http' && md instanceof BinanceMd) {
        md.sync(ins.symbol)!.reset(0);
        md.deliverSnapshot(ins.symbol, l.data!);
      }
      const b = md.book(ins.symbol)!;
      if (md.feeds[0]!.valid) {
        const k = topKey(real(b, one));
        if (tops[tops.length - 1] !== k) tops.push(k);
      }
    }
  }
  return { tops, book: md.book(ins.symbol)! };
}

describe('tickwire run --record DIR', () => {
  it('records what the engine receives, rotated; tickwire sim --replay serves the same books to a client', async () => {
    expect(existsSync(join(ROOT, 'dist/src/cli/tickwire.js')), 'run `npm run build` first').toBe(true);
    const rec = join(dir, 'rec');
    let wiring: Wiring | undefined;
    const r = await runEngine({
      durationSec: 4,
      print: false,
      signals: false,
      env: {},
      simRate: 400,
      record: { dir: rec, maxBytes: 24 * 1024, maxMs: 0 },
      overrides: { ...quiet, persistence: { dir: join(dir, 'data') }, strategy: { name: 'none' } },
      onReady: (x) => (wiring = x.wiring),
    });
    expect(r.code).toBe(0);
    expect(statSync(rec).mode & 0o777).toBe(0o700);
    const files = readdirSync(rec).sort();
    for (const f of files) expect(statSync(join(rec, f)).mode & 0o777, f).toBe(0o600);
    const byVenue = (v: VenueId) => files.filter((f) => f.startsWith(`${v}_capture_`)).map((f) => join(rec, f));
    for (const v of VENUES) expect(byVenue(v).length, `${v}: rotated into parts`).toBeGreaterThan(1);
    expect(
      wiring!.recordings!()
        .map((f) => resolve(f))
        .sort(),
    ).toEqual(files.map((f) => join(rec, f)));

    // the recording holds everything the engine received: rebuilt from it, each book ends as the engine's did
    const engineBooks = new Map<VenueId, { bids: Levels; asks: Levels }>();
    const seen = new Map<VenueId, string[]>();
    for (const ins of wiring!.instruments) {
      const live = real(wiring!.book!(ins.slot)!, ins);
      engineBooks.set(ins.venue, live);
      const rb = rebuild(byVenue(ins.venue), ins);
      expect(real(rb.book, ins), `${ins.venue}: rebuilt from the recording`).toEqual(live);
      seen.set(ins.venue, rb.tops);
    }
    // and each part alone is replayable: it starts with a snapshot of the book
    const part1 = readFileSync(byVenue('binanceSpot')[1]!, 'utf8').split('\n').slice(0, 3).join('\n');
    expect(part1).toMatch(/"t":"header".*"part":1[\s\S]*"t":"connect"[\s\S]*"t":"http".*\/api\/v3\/depth/);

    // replay all the parts of both venues at the recorded pace; a client connects at once
    const sim = spawn(
      process.execPath,
      [join(ROOT, 'bin/tickwire.js'), 'sim', '--replay', files.map((f) => join(rec, f)).join(','), '--venues', 'binanceSpot,bybit'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, TICKWIRE_LOG_LEVEL: 'warn' },
      },
    );
    let simErr = '';
    sim.stderr.on('data', (d: Buffer) => (simErr += d.toString()));
    const clients: MdAdapter[] = [];
    try {
      const line = await new Promise<string>((res, rej) => {
        createInterface({ input: sim.stdout }).once('line', res);
        sim.once('exit', (c) => rej(new Error(`sim exited ${c}: ${simErr}`)));
      });
      const ends = JSON.parse(line) as Parameters<typeof accessFromSim>[0]['endpoints'] & { control: { url: string; token: string } };
      const access = accessFromSim({ endpoints: ends });
      const state = BotState.create(2);
      const got = new Map<VenueId, string[]>();
      const insOf = new Map<VenueId, Instrument>();
      for (let slot = 0; slot < VENUES.length; slot++) {
        const v = VENUES[slot]!;
        const ins = (await VENUE_DRIVERS[v].fetchInstruments(access[v]!, ['BTCUSDT'], slot))[0]!;
        insOf.set(v, ins);
        const md = VENUE_DRIVERS[v].createMd(access[v]!, [ins], { state });
        const tops: string[] = [];
        got.set(v, tops);
        md.feeds[0]!.onTop = () => {
          if (!md.feeds[0]!.valid) return; // a book being (re)synced is not a book the engine traded on
          const k = topKey(real(md.book('BTCUSDT')!, ins));
          if (tops[tops.length - 1] !== k) tops.push(k);
        };
        clients.push(md);
        await md.start();
      }
      // until the replay has played every event
      const deadline = Date.now() + 30_000;
      for (;;) {
        const st = (await (await fetch(`${ends.control.url}/state`, { headers: { 'x-sim-token': ends.control.token } })).json()) as {
          replay: Array<{ done: boolean; applied: number }>;
        };
        if (st.replay[0]?.done) break;
        if (Date.now() > deadline) throw new Error('replay did not finish');
        await new Promise((res) => setTimeout(res, 100));
      }
      await new Promise((res) => setTimeout(res, 400)); // the venues' last depth interval
      for (let slot = 0; slot < VENUES.length; slot++) {
        const v = VENUES[slot]!;
        const ins = insOf.get(v)!;
        const client = real(clients[slot]!.book('BTCUSDT')!, ins);
        expect(client, `${v}: the client's last book is the engine's`).toEqual(engineBooks.get(v));
        // every top of book the client saw is one the engine saw, in the same order
        const want = seen.get(v)!;
        const tops = got.get(v)!;
        expect(tops.length, `${v}: the client saw the market move`).toBeGreaterThan(3);
        let j = 0;
        for (const t of tops) {
          while (j < want.length && want[j] !== t) j++;
          expect(j < want.length, `${v}: top ${t} is not among the engine's (in order)`).toBe(true);
        }
      }
    } finally {
      for (const c of clients) await c.stop().catch(() => undefined);
      sim.kill('SIGTERM');
    }
  }, 60_000);
});
