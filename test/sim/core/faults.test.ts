import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultRegistry, parseFault, SimClock } from '../../../src/sim/core/faults.js';
import { startControl, type ControlHandle } from '../../../src/sim/core/control.js';
import { MatchingBook } from '../../../src/sim/core/book.js';
import { makeInstrument } from '../../../src/sim/core/instruments.js';
import type { SimFault, SimMarketId } from '../../../src/sim/core/types.js';

describe('fault registry', () => {
  it('counted faults are consumed per market and symbol', () => {
    const r = new FaultRegistry();
    r.inject({ kind: 'dropDiff', market: 'binanceUsdm', symbol: 'BTCUSDT', count: 2 });
    expect(r.takeFault('binanceSpot', 'dropDiff', 'BTCUSDT')).toBeUndefined();
    expect(r.takeFault('binanceUsdm', 'dropDiff', 'ETHUSDT')).toBeUndefined();
    expect(r.takeFault('binanceUsdm', 'duplicateDiff', 'BTCUSDT')).toBeUndefined();
    expect(r.takeFault('binanceUsdm', 'dropDiff', 'BTCUSDT')?.kind).toBe('dropDiff');
    expect(r.takeFault('binanceUsdm', 'dropDiff', 'BTCUSDT')?.kind).toBe('dropDiff');
    expect(r.takeFault('binanceUsdm', 'dropDiff', 'BTCUSDT')).toBeUndefined();
    r.inject({ kind: 'httpStatus', market: 'bybitLinear', status: 429, retryAfterSec: 2 });
    expect(r.takeFault('bybitLinear', 'httpStatus')).toEqual({ kind: 'httpStatus', market: 'bybitLinear', status: 429, retryAfterSec: 2 });
    expect(r.takeFault('bybitLinear', 'httpStatus')).toBeUndefined();
  });

  it('persistent faults: peek, replace, market "all", stall expiry, clear, hooks', async () => {
    const r = new FaultRegistry();
    const seen: SimFault[] = [];
    r.onFault((f) => seen.push(f));
    r.inject({ kind: 'latencyMs', market: 'all', ms: 5 });
    r.inject({ kind: 'latencyMs', market: 'bybitSpot', ms: 7 });
    expect(r.peekFault('binanceSpot', 'latencyMs')?.ms).toBe(5);
    expect(r.peekFault('bybitSpot', 'latencyMs')?.ms).toBe(7);
    r.inject({ kind: 'latencyMs', market: 'bybitSpot', ms: 9 });
    expect(r.peekFault('bybitSpot', 'latencyMs')?.ms).toBe(9);
    expect(r.list().length).toBe(2);
    r.inject({ kind: 'stallStream', market: 'binanceSpot', ms: 30 });
    expect(r.peekFault('binanceSpot', 'stallStream')).toBeDefined();
    await new Promise((res) => setTimeout(res, 60));
    expect(r.peekFault('binanceSpot', 'stallStream')).toBeUndefined();
    const before = r.list().length;
    r.inject({ kind: 'closeConnections', market: 'binanceUsdm', which: 'market' });
    expect(r.list().length).toBe(before); // acts through the hooks only
    expect(seen.map((f) => f.kind)).toEqual(['latencyMs', 'latencyMs', 'latencyMs', 'stallStream', 'closeConnections']);
    r.clear();
    expect(r.peekFault('binanceSpot', 'latencyMs')).toBeUndefined();
    expect(r.list()).toEqual([]);
  });

  it('Bybit-only kinds: snapshotReset/orderbookRestart act through the hooks only; tradeServiceRestart persists (ms or clear)', async () => {
    const r = new FaultRegistry();
    const seen: string[] = [];
    r.onFault((f) => seen.push(f.kind));
    r.inject({ kind: 'snapshotReset', market: 'bybitLinear', symbol: 'BTCUSDT', depth: 50 });
    r.inject({ kind: 'orderbookRestart', market: 'bybitSpot', symbol: 'BTCUSDT' });
    expect(r.list()).toEqual([]);
    expect(seen).toEqual(['snapshotReset', 'orderbookRestart']);
    r.inject({ kind: 'tradeServiceRestart', market: 'bybitSpot' });
    expect(r.peekFault('bybitSpot', 'tradeServiceRestart')).toBeDefined();
    expect(r.peekFault('bybitLinear', 'tradeServiceRestart')).toBeUndefined();
    expect(r.peekFault('bybitSpot', 'tradeServiceRestart')).toBeDefined(); // not consumed by a peek
    r.clear();
    expect(r.peekFault('bybitSpot', 'tradeServiceRestart')).toBeUndefined();
    r.inject({ kind: 'tradeServiceRestart', market: 'bybitLinear', ms: 30 });
    expect(r.peekFault('bybitLinear', 'tradeServiceRestart')).toBeDefined();
    await new Promise((res) => setTimeout(res, 60));
    expect(r.peekFault('bybitLinear', 'tradeServiceRestart')).toBeUndefined();
    expect(parseFault({ kind: 'snapshotReset', market: 'bybitSpot', symbol: 'ETHUSDT' })).toEqual({
      ok: true,
      fault: { kind: 'snapshotReset', market: 'bybitSpot', symbol: 'ETHUSDT' },
    });
    expect(parseFault({ kind: 'orderbookRestart', market: 'binanceUsdm', symbol: 'ETHUSDT' }).ok).toBe(false);
    expect(parseFault({ kind: 'tradeServiceRestart', market: 'bybitLinear', ms: 0 }).ok).toBe(false);
  });

  it('clock: offset per market plus skew fault', () => {
    const r = new FaultRegistry();
    const c = new SimClock(r, () => 1_000_000);
    c.setOffset('bybitLinear', 50);
    expect(c.nowMs('binanceSpot')).toBe(1_000_000);
    expect(c.nowMs('bybitLinear')).toBe(1_000_050);
    r.inject({ kind: 'clockSkewMs', market: 'all', ms: -2000 });
    r.inject({ kind: 'clockSkewMs', market: 'binanceUsdm', ms: 3000 });
    expect(c.nowMs('binanceSpot')).toBe(998_000);
    expect(c.nowMs('binanceUsdm')).toBe(1_003_000);
    expect(c.nowMs('bybitLinear')).toBe(998_050);
  });

  it('validates fault JSON with a message naming the field', () => {
    expect(parseFault({ kind: 'dropDiff', market: 'binanceSpot', symbol: 'BTCUSDT' })).toEqual({
      ok: true,
      fault: { kind: 'dropDiff', market: 'binanceSpot', symbol: 'BTCUSDT' },
    });
    const bad = parseFault({ kind: 'httpStatus', market: 'binanceSpot', status: 404 });
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.error).toMatch(/status/);
    const unknown = parseFault({ kind: 'explode' });
    expect(!unknown.ok && unknown.error).toMatch(/kind/);
    const extra = parseFault({ kind: 'clear', extra: 1 });
    expect(!extra.ok && extra.error).toMatch(/extra|unrecognized/i);
  });
});

describe('control endpoint', () => {
  let ctl: ControlHandle;
  const faults = new FaultRegistry();
  const books = new Map<SimMarketId, Map<string, MatchingBook>>();
  beforeAll(async () => {
    const b = new MatchingBook({ instrument: makeInstrument('binanceSpot', 'BTCUSDT'), nowMs: () => 0 });
    b.beginBatch();
    b.setSynthetic('BUY', 9_700_000, 1000);
    b.setSynthetic('SELL', 9_700_001, 2000);
    b.endBatch();
    books.set('binanceSpot', new Map([['BTCUSDT', b]]));
    ctl = await startControl({ token: 'tok-123', faults, books, extraState: () => ({ generator: { produced: 4 } }) });
  });
  afterAll(() => ctl.close());

  it('refuses requests without the right token', async () => {
    expect(ctl.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await fetch(`${ctl.url}/state`)).status).toBe(401);
    expect((await fetch(`${ctl.url}/state`, { headers: { 'X-Sim-Token': 'tok-124' } })).status).toBe(401);
    const r = await fetch(`${ctl.url}/faults`, { method: 'POST', body: '{"kind":"clear"}', headers: { 'X-Sim-Token': 'nope' } });
    expect(r.status).toBe(401);
    expect(faults.injected).toBe(0);
  });

  it('injects, lists and clears faults; 400 on bad JSON or bad fault', async () => {
    const h = { 'X-Sim-Token': 'tok-123' };
    let r = await fetch(`${ctl.url}/faults`, {
      method: 'POST',
      headers: h,
      body: JSON.stringify({ kind: 'dropDiff', market: 'binanceUsdm', symbol: 'BTCUSDT', count: 3 }),
    });
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ ok: true, injected: 1 });
    expect(faults.takeFault('binanceUsdm', 'dropDiff', 'BTCUSDT')).toBeDefined();
    r = await fetch(`${ctl.url}/faults`, { headers: h });
    expect(await r.json()).toEqual({ faults: [{ fault: { kind: 'dropDiff', market: 'binanceUsdm', symbol: 'BTCUSDT', count: 3 }, left: 2 }] });
    r = await fetch(`${ctl.url}/faults`, { method: 'POST', headers: h, body: '{not json' });
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: string }).error).toMatch(/not JSON/);
    r = await fetch(`${ctl.url}/faults`, { method: 'POST', headers: h, body: JSON.stringify({ kind: 'latencyMs', market: 'binanceSpot', ms: -1 }) });
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: string }).error).toMatch(/^invalid fault: ms/);
    r = await fetch(`${ctl.url}/faults/clear`, { method: 'POST', headers: h });
    expect(r.status).toBe(200);
    expect(faults.list()).toEqual([]);
    r = await fetch(`${ctl.url}/nowhere`, { headers: h });
    expect(r.status).toBe(404);
  });

  it('GET /state shows top of book and counters', async () => {
    const r = await fetch(`${ctl.url}/state`, { headers: { 'X-Sim-Token': 'tok-123' } });
    expect(r.status).toBe(200);
    const s = (await r.json()) as { markets: Record<string, Record<string, Record<string, unknown>>>; generator: unknown };
    expect(s.markets['binanceSpot']!['BTCUSDT']).toMatchObject({ bestBid: ['97000.00', '0.01000'], bestAsk: ['97000.01', '0.02000'], updateId: 1001 });
    expect(s.generator).toEqual({ produced: 4 });
  });
});
