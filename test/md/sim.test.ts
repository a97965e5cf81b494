/**
 * Against the embedded simulator over real loopback sockets: reference data, connect, sync, and the local
 * books equal the simulator's books at checkpoints (all four markets); fault injection (dropped, duplicated,
 * reordered diffs; malformed frames; closed connections; stalled stream) each ends in the documented reaction
 * and a valid book again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSim, type SimHandle } from '../../src/sim/index.js';
import { fetchBinanceInstruments, fetchBybitInstruments } from '../../src/exchange/reference.js';
import { BinanceMd } from '../../src/exchange/binance/md/adapter.js';
import { BybitMd } from '../../src/exchange/bybit/md/adapter.js';
import { BotState, FLAG_STALE, FLAG_VALID } from '../../src/model/botstate.js';
import { ASK, BID, type L2Book } from '../../src/book/l2book.js';
import type { SimMarketId } from '../../src/sim/core/types.js';
import type { Instrument } from '../../src/model/types.js';
import { SEQ_BASE } from '../../src/sim/bybit/feeds.js';

const SYMS = ['BTCUSDT', 'ETHUSDT'];
let sim: SimHandle;
let state: BotState;
let spot: BinanceMd;
let usdm: BinanceMd;
let bbl: BybitMd;
let bbs: BybitMd;
const insts: Partial<Record<SimMarketId, Instrument[]>> = {};

async function until(cond: () => boolean, ms = 8000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return cond();
}

/** Pause the generator, let in-flight frames land, compare, resume. */
async function compareBooks(market: SimMarketId, md: BinanceMd | BybitMd, depth = 50): Promise<void> {
  for (const sym of SYMS) {
    const sb = sim.ctx.books.get(market)!.get(sym)!;
    const lb = md.book(sym) as L2Book;
    // Binance u is the book's updateId; Bybit's seq is SEQ_BASE + updateId (u counts frames per topic)
    const local = (): number => (md instanceof BybitMd ? md.sync(sym)!.lastSeq - SEQ_BASE[market === 'bybitSpot' ? 'spot' : 'linear'] : md.sync(sym)!.lastU);
    const ok = await until(() => local() === sb.updateId && (md.opts.state.flags(md.sync(sym)!.feed.slot) & FLAG_VALID) !== 0, 5000);
    expect(ok, `${market} ${sym} caught up (local ${local()}, sim ${sb.updateId})`).toBe(true);
    // Bybit publishes a 200-level window: the local book must hold exactly that window (no ghost levels)
    const n = md instanceof BybitMd ? Math.min(depth, 200) : depth;
    const d = sb.depth(n);
    expect(lb.levels(BID, depth), `${market} ${sym} bids`).toEqual(d.bids);
    expect(lb.levels(ASK, depth), `${market} ${sym} asks`).toEqual(d.asks);
  }
}

async function paused<T>(fn: () => Promise<T>): Promise<T> {
  sim.generator.stop();
  try {
    return await fn();
  } finally {
    sim.generator.start();
  }
}

beforeAll(async () => {
  sim = await startSim({ seed: 7, symbols: SYMS, rate: 4000, depthIntervalMs: 0 });
  const e = sim.endpoints;
  insts.binanceSpot = await fetchBinanceInstruments(e.binanceSpot!.restBaseUrl, 'spot', SYMS, 0);
  insts.binanceUsdm = await fetchBinanceInstruments(e.binanceUsdm!.restBaseUrl, 'usdm', SYMS, 2);
  insts.bybitLinear = await fetchBybitInstruments(e.bybit!.restBaseUrl, 'linear', SYMS, 4);
  insts.bybitSpot = await fetchBybitInstruments(e.bybit!.restBaseUrl, 'spot', SYMS, 6);
  state = BotState.create(8);
  const fast = { backoffInitialMs: 20, backoffMaxMs: 200 };
  spot = new BinanceMd({
    market: 'spot',
    restBaseUrl: e.binanceSpot!.restBaseUrl,
    wsBaseUrl: e.binanceSpot!.wsStreamBaseUrl,
    instruments: insts.binanceSpot,
    state,
    ...fast,
  });
  usdm = new BinanceMd({
    market: 'usdm',
    restBaseUrl: e.binanceUsdm!.restBaseUrl,
    wsBaseUrl: e.binanceUsdm!.wsStreamBaseUrl,
    instruments: insts.binanceUsdm,
    state,
    ...fast,
  });
  bbl = new BybitMd({ category: 'linear', wsBaseUrl: e.bybit!.wsStreamBaseUrl, instruments: insts.bybitLinear, state, ...fast });
  bbs = new BybitMd({ category: 'spot', wsBaseUrl: e.bybit!.wsStreamBaseUrl, instruments: insts.bybitSpot, state, ...fast });
  await Promise.all([spot.start(), usdm.start(), bbl.start(), bbs.start()]);
});

afterAll(async () => {
  await Promise.all([spot?.stop(), usdm?.stop(), bbl?.stop(), bbs?.stop()]);
  await sim?.close();
});

const all = (): Array<[SimMarketId, BinanceMd | BybitMd]> => [
  ['binanceSpot', spot],
  ['binanceUsdm', usdm],
  ['bybitLinear', bbl],
  ['bybitSpot', bbs],
];

describe('market data against the simulator', () => {
  it('reference data builds instruments from exchangeInfo / instruments-info', () => {
    for (const m of ['binanceSpot', 'binanceUsdm', 'bybitLinear', 'bybitSpot'] as const) {
      const list = insts[m]!;
      expect(list.map((i) => i.symbol)).toEqual(SYMS);
      for (const i of list) {
        const simI = sim.ctx.instruments.get(m)!.find((x) => x.symbol === i.symbol)!;
        expect(i.priceDecimals).toBe(simI.priceDecimals);
        expect(i.qtyDecimals).toBe(simI.qtyDecimals);
        expect(i.tickUnits).toBeGreaterThan(0);
      }
    }
  });

  it('local books equal the simulator books at repeated checkpoints', async () => {
    for (let round = 0; round < 4; round++) {
      await new Promise((r) => setTimeout(r, 150));
      await paused(async () => {
        for (const [m, md] of all()) await compareBooks(m, md);
      });
    }
    for (const [, md] of all()) {
      expect(md.counters.totalParseErrors()).toBe(0);
      expect(md.counters.gaps).toBe(0);
      expect(md.counters.crossed).toBe(0);
      expect(md.counters.applied).toBeGreaterThan(10);
    }
  });

  it('dropped diff -> gap counted, resync, equal again (Binance spot, USD-M, Bybit)', async () => {
    const before = all().map(([, md]) => md.counters.gaps);
    for (const m of ['binanceSpot', 'binanceUsdm', 'bybitLinear', 'bybitSpot'] as const) sim.inject({ kind: 'dropDiff', market: m, symbol: 'BTCUSDT' });
    const ok = await until(() => all().every(([, md], i) => md.counters.gaps > (before[i] as number)));
    expect(ok).toBe(true);
    await new Promise((r) => setTimeout(r, 100));
    await paused(async () => {
      for (const [m, md] of all()) await compareBooks(m, md);
    });
  });

  it('duplicated and reordered diffs: duplicates ignored, reorder -> gap -> resync, books equal', async () => {
    const dup0 = spot.counters.duplicates + usdm.counters.duplicates + bbl.counters.duplicates;
    sim.inject({ kind: 'duplicateDiff', market: 'binanceSpot', symbol: 'ETHUSDT' });
    sim.inject({ kind: 'duplicateDiff', market: 'binanceUsdm', symbol: 'ETHUSDT' });
    sim.inject({ kind: 'duplicateDiff', market: 'bybitLinear', symbol: 'ETHUSDT' });
    expect(await until(() => spot.counters.duplicates + usdm.counters.duplicates + bbl.counters.duplicates >= dup0 + 3)).toBe(true);
    const g0 = usdm.counters.gaps;
    sim.inject({ kind: 'reorderDiff', market: 'binanceUsdm', symbol: 'ETHUSDT' });
    expect(await until(() => usdm.counters.gaps > g0)).toBe(true);
    await new Promise((r) => setTimeout(r, 100));
    await paused(async () => {
      for (const [m, md] of all()) await compareBooks(m, md);
    });
  });

  it('malformed frames are counted and do not break the books', async () => {
    const e0 = spot.counters.totalParseErrors() + bbl.counters.totalParseErrors();
    sim.inject({ kind: 'malformedFrame', market: 'binanceSpot', count: 2 });
    sim.inject({ kind: 'malformedFrame', market: 'bybitLinear', count: 2 });
    const got = await until(() => spot.counters.totalParseErrors() + bbl.counters.totalParseErrors() >= e0 + 4);
    expect(got, JSON.stringify([spot.counters.snapshot(), bbl.counters.snapshot()])).toBe(true);
    await new Promise((r) => setTimeout(r, 100));
    await paused(async () => {
      for (const [m, md] of all()) await compareBooks(m, md);
    });
  });

  it('closed connections -> books invalid, reconnect, resync, no ghost levels', async () => {
    const r0 = all().map(([, md]) => md.counters.reconnects);
    for (const m of ['binanceSpot', 'binanceUsdm', 'bybitLinear', 'bybitSpot'] as const) sim.inject({ kind: 'closeConnections', market: m, which: 'market' });
    expect(await until(() => all().every(([, md], i) => md.counters.reconnects > (r0[i] as number)))).toBe(true);
    await new Promise((r) => setTimeout(r, 200));
    await paused(async () => {
      for (const [m, md] of all()) await compareBooks(m, md, 10_000);
    });
  });

  it('planned rotation (Binance 24 h disconnect): replacement first, books stay valid, no gap', async () => {
    const g0 = spot.counters.gaps + usdm.counters.gaps;
    const r0 = spot.counters.resyncs + usdm.counters.resyncs;
    spot.conns[0]!.rotate();
    usdm.conns[0]!.rotate();
    expect(await until(() => spot.conns[0]!.rotations === 1 && usdm.conns[0]!.rotations === 1)).toBe(true);
    await new Promise((r) => setTimeout(r, 100));
    await paused(async () => {
      for (const [m, md] of all()) await compareBooks(m, md);
    });
    expect(spot.counters.gaps + usdm.counters.gaps).toBe(g0);
    expect(spot.counters.resyncs + usdm.counters.resyncs).toBe(r0);
  });

  it('REST snapshot refused (429 with Retry-After) during a resync: retried, book synced again', async () => {
    const s0 = spot.counters.snapshots;
    sim.inject({ kind: 'httpStatus', market: 'binanceSpot', status: 429, count: 2, retryAfterSec: 0 });
    sim.inject({ kind: 'dropDiff', market: 'binanceSpot', symbol: 'ETHUSDT' });
    const f0 = spot.counters.snapshotFailures;
    expect(await until(() => spot.counters.snapshots > s0, 15_000)).toBe(true);
    expect(spot.counters.snapshotFailures).toBe(f0 + 2);
    await paused(async () => {
      await compareBooks('binanceSpot', spot);
    });
  });

  it('randomized run: random faults between checkpoints, books equal the simulator at every checkpoint', async () => {
    let seed = 20261122;
    const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const markets = ['binanceSpot', 'binanceUsdm', 'bybitLinear', 'bybitSpot'] as const;
    const kinds = ['none', 'dropDiff', 'duplicateDiff', 'reorderDiff', 'malformedFrame'] as const;
    let checkpoints = 0;
    for (let round = 0; round < 12; round++) {
      const m = markets[Math.floor(rnd() * markets.length)]!;
      const sym = SYMS[Math.floor(rnd() * SYMS.length)]!;
      const k = kinds[Math.floor(rnd() * kinds.length)]!;
      if (k === 'malformedFrame') sim.inject({ kind: k, market: m, count: 1 });
      else if (k !== 'none') sim.inject({ kind: k, market: m, symbol: sym });
      await new Promise((r) => setTimeout(r, 50 + Math.floor(rnd() * 150)));
      await paused(async () => {
        for (const [mk, md] of all()) await compareBooks(mk, md);
      });
      checkpoints++;
    }
    expect(checkpoints).toBe(12);
    for (const [, md] of all()) expect(md.counters.crossed).toBe(0);
  });

  it('oversized frame: handled without breaking the books', async () => {
    const f0 = spot.counters.frames;
    const i0 = spot.counters.ignored + spot.counters.totalParseErrors();
    const b0 = bbl.counters.bytes;
    const e0 = bbl.counters.totalParseErrors();
    sim.inject({ kind: 'oversizedFrame', market: 'binanceSpot', bytes: 2_000_000 });
    sim.inject({ kind: 'oversizedFrame', market: 'bybitLinear', bytes: 2_000_000 });
    // Binance sim: an unknown 2 MB event (ignored); Bybit sim: a real delta padded with a 2 MB unknown field
    // (parsed, the field skipped, the delta applied)
    expect(await until(() => spot.counters.ignored + spot.counters.totalParseErrors() > i0 && bbl.counters.bytes > b0 + 2_000_000)).toBe(true);
    expect(bbl.counters.totalParseErrors()).toBe(e0);
    expect(spot.counters.frames).toBeGreaterThan(f0);
    await new Promise((r) => setTimeout(r, 100));
    await paused(async () => {
      for (const [m, md] of all()) await compareBooks(m, md);
    });
  });

  it('disconnect in the middle of a resync: the abandoned sync is dropped, the new one completes', async () => {
    const r0 = spot.counters.reconnects + usdm.counters.reconnects;
    sim.inject({ kind: 'dropDiff', market: 'binanceSpot', symbol: 'BTCUSDT' });
    sim.inject({ kind: 'dropDiff', market: 'binanceUsdm', symbol: 'BTCUSDT' });
    sim.inject({ kind: 'latencyMs', market: 'all', ms: 0 });
    // close while the resync's snapshot may still be in flight
    await until(() => spot.sync('BTCUSDT')!.state === 0 || usdm.sync('BTCUSDT')!.state === 0, 2000);
    sim.inject({ kind: 'closeConnections', market: 'binanceSpot', which: 'market' });
    sim.inject({ kind: 'closeConnections', market: 'binanceUsdm', which: 'market' });
    expect(await until(() => spot.counters.reconnects + usdm.counters.reconnects >= r0 + 2)).toBe(true);
    await new Promise((r) => setTimeout(r, 200));
    await paused(async () => {
      await compareBooks('binanceSpot', spot, 10_000);
      await compareBooks('binanceUsdm', usdm, 10_000);
    });
  });

  it('stalled stream -> stale flag, cleared when frames resume', async () => {
    const slot = insts.bybitSpot![0]!.slot;
    const s0 = bbs.counters.staleMarks;
    // the adapters' watchdog default is 5 s; use a short-lived separate adapter with a tight limit
    const st = BotState.create(8);
    const md = new BybitMd({ category: 'spot', wsBaseUrl: sim.endpoints.bybit!.wsStreamBaseUrl, instruments: insts.bybitSpot!, state: st, staleAfterMs: 150 });
    await md.start();
    try {
      expect(await until(() => (st.flags(slot) & FLAG_VALID) !== 0)).toBe(true);
      sim.inject({ kind: 'stallStream', market: 'bybitSpot', ms: 800 });
      expect(await until(() => (st.flags(slot) & FLAG_STALE) !== 0, 3000)).toBe(true);
      expect(md.counters.staleMarks).toBeGreaterThan(0);
      expect(await until(() => (st.flags(slot) & FLAG_STALE) === 0, 5000)).toBe(true);
    } finally {
      await md.stop();
    }
    expect(bbs.counters.staleMarks).toBeGreaterThanOrEqual(s0);
  });
});
