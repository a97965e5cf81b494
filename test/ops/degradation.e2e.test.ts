/**
 * No silent degradation: the engine's market data and order entry (the network wiring of `tickwire run`) against the
 * simulator with injected faults: dropped diffs, closed market connections, malformed frames, HTTP 429 / 503 / 418.
 * Every degradation gives one structured log line per kind, venue and reason with its count (the reporter folds
 * repeats into one line), and the /metrics counters (wiring.extraMetrics()) equal the injected numbers.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BotState, FLAG_VALID } from '../../src/model/botstate.js';
import { wireNetwork, type Wiring } from '../../src/app/wiring.js';
import { accessFromSim } from '../../src/exchange/endpoints.js';
import { nowNs } from '../../src/util/clock.js';
import type { Instrument } from '../../src/model/types.js';
import { HopRecorder } from '../../src/util/hops.js';
import type { BaseGateway } from '../../src/orders/basegw.js';
import type { OrderEvent } from '../../src/model/orders.js';
import { startSim, type SimHandle } from '../../src/sim/index.js';
import type { SimFault } from '../../src/sim/core/types.js';
import { closeLogs, createLogger, setRootLogger } from '../../src/util/log.js';
import { parseStrict } from './strictjson.js';

const dir = mkdtempSync(join(tmpdir(), 'tickwire-degrade-'));
const logFile = join(dir, 'engine.log');
let sim: SimHandle;
let wiring: Wiring;
let state: BotState;
const events: OrderEvent[] = [];

async function until(cond: () => boolean, what: string, ms = 8000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timeout waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const valid = (i: Instrument): boolean => (state.flags(i.slot) & FLAG_VALID) !== 0;
const allValid = (): boolean => wiring.instruments.every(valid);

beforeAll(async () => {
  setRootLogger(createLogger({ destinations: [{ to: logFile, level: 'info' }] }));
  sim = await startSim({ venues: ['binanceSpot', 'bybit'], seed: 5, symbols: ['BTCUSDT', 'ETHUSDT'], rate: 2000, depthIntervalMs: 0 });
  state = BotState.create(8);
  wiring = await wireNetwork({
    refs: [
      { venue: 'binanceSpot', symbol: 'BTCUSDT' },
      { venue: 'binanceSpot', symbol: 'ETHUSDT' },
      { venue: 'bybitLinear', symbol: 'BTCUSDT' },
    ],
    state,
    hops: new HopRecorder(),
    access: accessFromSim(sim),
    ephemeral: true,
    sim,
    signals: { funding: false, openInterest: false, intervalMs: 60_000 },
    describe: {},
    degradationLogMs: 3_600_000, // the test flushes once at the end: exactly one line per key
  });
  wiring.attach(() => undefined);
  wiring.orders.subscribe({ onOrderEvent: (e) => events.push({ ...e }) });
  await wiring.start();
  await until(allValid, 'books valid');
}, 30_000);

afterAll(async () => {
  await wiring?.stop();
  await closeLogs();
  rmSync(dir, { recursive: true, force: true });
});

/** Inject, then wait for the reaction and for every book to be valid again (nothing else in flight). */
async function fault(f: SimFault, reacted: () => boolean, what: string): Promise<void> {
  sim.inject(f);
  await until(reacted, what);
  await until(allValid, `books valid after ${what}`);
}

function place(ins: Instrument): string {
  const bid = sim.books.get('binanceSpot')!.get(ins.symbol)!.bestBid()!.priceTicks;
  const price = bid - 500 * ins.tickUnits; // far from the touch: never fills
  // the owner's send path (what the engine does after risk): intent, then send
  const o = wiring.orders.intent(
    { slot: ins.slot, side: 'BUY', type: 'LIMIT', tif: 'GTC', price: price - (price % ins.tickUnits), qty: 10 ** (ins.qtyDecimals - 3) },
    false,
    nowNs(),
  )!;
  wiring.orders.send(o);
  return o.clientOrderId;
}
const outcome = (id: string): OrderEvent | undefined => events.find((e) => e.clientOrderId === id && (e.kind === 'reject' || e.kind === 'ack'));

describe('degradations under injected faults: logged once per kind with counts, counted in /metrics', () => {
  it('market data and order entry faults', async () => {
    const md = wiring.instruments;
    const spotBtc = md[0]!;
    const bybitBtc = md[2]!;
    const spot = wiring.orders.gateway('binanceSpot') as unknown as BaseGateway;
    const mdc = (): Record<string, number> => wiring.resyncs();

    // ---- 3 malformed frames on Binance spot. A malformed frame replaces the one the simulator was sending: when
    // that was a diff, the next diff is a gap and the book resyncs: those resyncs are the baseline of what follows
    const rejected = (): number => {
      const m = wiring.extraMetrics().find((x) => x.name === 'tickwire_md_rejected_frames_total');
      return (m?.samples ?? []).filter((s) => s.labels?.['venue'] === 'binanceSpot').reduce((a, s) => a + s.value, 0);
    };
    await fault({ kind: 'malformedFrame', market: 'binanceSpot', count: 3 }, () => rejected() === 3, 'malformed frames');
    await new Promise((r) => setTimeout(r, 200));
    await until(allValid, 'books valid after malformed frames');
    const base = (wiring.extraMetrics().find((x) => x.name === 'tickwire_md_resyncs_total')?.samples ?? []).filter((x) => x.value > 0);
    expect(
      base.every((x) => x.labels?.['venue'] === 'binanceSpot' && x.value <= 3),
      JSON.stringify(base),
    ).toBe(true);
    const baseOf = (reason: string): number => base.find((x) => x.labels?.['reason'] === reason)?.value ?? 0;
    const r0 = mdc()['binanceSpot']!;

    // ---- market data: 3 gaps on Binance spot, 2 on Bybit linear (one at a time: each resyncs once)
    for (let k = 1; k <= 3; k++)
      await fault({ kind: 'dropDiff', market: 'binanceSpot', symbol: 'BTCUSDT' }, () => mdc()['binanceSpot'] === r0 + k, `spot gap ${k}`);
    for (let k = 1; k <= 2; k++)
      await fault({ kind: 'dropDiff', market: 'bybitLinear', symbol: 'BTCUSDT' }, () => mdc()['bybitLinear'] === k, `bybit gap ${k}`);
    // ---- one closed market connection per venue: every book on it resyncs (2 spot books, 1 linear)
    await fault({ kind: 'closeConnections', market: 'binanceSpot', which: 'market' }, () => mdc()['binanceSpot'] === r0 + 5, 'spot reconnect');
    await fault({ kind: 'closeConnections', market: 'bybitLinear', which: 'market' }, () => mdc()['bybitLinear'] === 3, 'bybit reconnect');

    // ---- order entry: 429 (Retry-After 1 s) then an order inside the back-off (refused locally)
    sim.inject({ kind: 'httpStatus', market: 'binanceSpot', status: 429, retryAfterSec: 1 });
    const a = place(spotBtc);
    await until(() => outcome(a) !== undefined, '429 reject');
    expect(outcome(a)!.reason).toMatch(/^RATE_LIMITED/);
    const b = place(spotBtc);
    await until(() => outcome(b) !== undefined, 'local refusal');
    expect(outcome(b)!.reason).toBe('RATE_LIMITED_LOCAL');
    await new Promise((r) => setTimeout(r, 1100));
    // two 503s: the order's answer and the first query's (outcome unknown -> query -> resend), then acked
    sim.inject({ kind: 'httpStatus', market: 'binanceSpot', status: 503, count: 2 });
    const c = place(spotBtc);
    await until(() => outcome(c)?.kind === 'ack', 'ack after 503s');
    // 418 with Retry-After 1 s: banned until then (the venue halts); the next order is refused locally as banned;
    // the operator resumes before the ban ends
    sim.inject({ kind: 'httpStatus', market: 'binanceSpot', status: 418, retryAfterSec: 1 });
    const d = place(spotBtc);
    await until(() => outcome(d) !== undefined, '418 reject');
    expect(outcome(d)!.reason).toMatch(/^BANNED/);
    const e = place(spotBtc);
    await until(() => outcome(e) !== undefined, 'banned refusal');
    spot.resume();
    wiring.orders.cancel(c);
    void bybitBtc;

    // ---- /metrics: the counters equal the injected numbers
    const metrics = wiring.extraMetrics();
    const value = (name: string, labels: Record<string, string>): number => {
      const m = metrics.find((x) => x.name === name);
      const hits = (m?.samples ?? []).filter((s) => Object.entries(labels).every(([k, v]) => s.labels?.[k] === v));
      return hits.reduce((acc, s) => acc + s.value, 0);
    };
    const nonZero = (name: string): Array<[string, number]> =>
      (metrics.find((x) => x.name === name)?.samples ?? []).filter((s) => s.value > 0).map((s) => [JSON.stringify(s.labels), s.value]);
    const extra = Object.fromEntries(base.filter((x) => x.labels?.['reason'] !== 'gap').map((x) => [JSON.stringify(x.labels), x.value]));
    expect(Object.fromEntries(nonZero('tickwire_md_resyncs_total'))).toEqual({
      ...extra,
      [JSON.stringify({ venue: 'binanceSpot', reason: 'gap' })]: 3 + baseOf('gap'),
      [JSON.stringify({ venue: 'binanceSpot', reason: 'disconnect' })]: 2,
      [JSON.stringify({ venue: 'bybitLinear', reason: 'gap' })]: 2,
      [JSON.stringify({ venue: 'bybitLinear', reason: 'disconnect' })]: 1,
    });
    expect(value('tickwire_md_rejected_frames_total', { venue: 'binanceSpot' })).toBe(3);
    expect(value('tickwire_ws_disconnects_total', { conn: 'spot-book' })).toBe(1);
    expect(value('tickwire_ws_disconnects_total', { conn: 'bybit-linear' })).toBe(1);
    expect(value('tickwire_ws_reconnects_total', { conn: 'spot-book' })).toBe(1);
    expect(value('tickwire_ws_reconnects_total', { conn: 'bybit-linear' })).toBe(1);
    expect(Object.fromEntries(nonZero('tickwire_venue_http_errors_total'))).toEqual({
      [JSON.stringify({ venue: 'binanceSpot', status: '429' })]: 1,
      [JSON.stringify({ venue: 'binanceSpot', status: '5xx' })]: 2,
      [JSON.stringify({ venue: 'binanceSpot', status: '418' })]: 1,
    });
    expect(Object.fromEntries(nonZero('tickwire_orders_refused_local_total'))).toEqual({
      [JSON.stringify({ venue: 'binanceSpot', reason: 'rate_budget' })]: 1,
      [JSON.stringify({ venue: 'binanceSpot', reason: 'banned' })]: 1,
    });
    expect(value('tickwire_venue_halts_total', { venue: 'binanceSpot' })).toBe(1);
    expect(value('tickwire_venue_resumes_total', { venue: 'binanceSpot' })).toBe(1);

    // ---- the log: one line per kind, venue and reason, with the count
    wiring.degradations!.flush();
    await closeLogs();
    const lines = readFileSync(logFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => parseStrict(l) as Record<string, unknown>);
    const of = (event: string, labels: Record<string, string> = {}): Array<Record<string, unknown>> =>
      lines.filter((l) => l['event'] === event && Object.entries(labels).every(([k, v]) => l[k] === v));
    const one = (event: string, labels: Record<string, string>, count: number): Record<string, unknown> => {
      const got = of(event, labels);
      expect(got, `${event} ${JSON.stringify(labels)}: ${JSON.stringify(got)}`).toHaveLength(1);
      expect(got[0]!['count'], `${event} ${JSON.stringify(labels)}`).toBe(count);
      return got[0]!;
    };
    one('md_resync', { venue: 'binanceSpot', reason: 'gap' }, 3 + baseOf('gap'));
    one('md_resync', { venue: 'binanceSpot', reason: 'disconnect' }, 2);
    one('md_resync', { venue: 'bybitLinear', reason: 'gap' }, 2);
    one('md_resync', { venue: 'bybitLinear', reason: 'disconnect' }, 1);
    expect(of('md_resync')).toHaveLength(4 + Object.keys(extra).length);
    const rej = of('md_rejected_frames', { venue: 'binanceSpot' });
    expect(rej.reduce((acc, l) => acc + (l['count'] as number), 0)).toBe(3);
    expect(typeof rej[0]!['sample']).toBe('string');
    const disc = one('ws_disconnect', { conn: 'spot-book' }, 1);
    expect(typeof disc['code']).toBe('string');
    expect(disc).toHaveProperty('reason');
    one('ws_disconnect', { conn: 'bybit-linear' }, 1);
    one('ws_reconnect', { conn: 'spot-book' }, 1);
    one('ws_reconnect', { conn: 'bybit-linear' }, 1);
    expect(one('venue_http_limit', { venue: 'binanceSpot', status: '429' }, 1)['retryAfterSec']).toBe(1);
    expect(one('venue_http_limit', { venue: 'binanceSpot', status: '418' }, 1)['retryAfterSec']).toBe(1);
    expect(one('venue_http_limit', { venue: 'binanceSpot', status: '5xx' }, 1 + 1)['lastStatus']).toBe(503);
    expect(one('order_refused_local', { venue: 'binanceSpot', reason: 'rate_budget' }, 1)['waitMs']).toBeGreaterThan(0);
    one('order_refused_local', { venue: 'binanceSpot', reason: 'banned' }, 1);
    expect(of('venue_halt', { venue: 'binanceSpot' })).toHaveLength(1);
    expect(of('venue_resume', { venue: 'binanceSpot' })).toHaveLength(1);
  }, 90_000);
});
