/**
 * Snapshot v1 (the engine's Ledger, before the order owner held every order) is still read. The fixture in
 * test/fixtures/snapshot-v1 was written by the code of that time (a paper engine: two resting orders and an IOC
 * fill on Binance spot, a resting sell and a filled short on Bybit linear, a cancelled order; then a snapshot; then
 * a journal tail with a sell fill and one more resting order). `expected.json` holds what that Ledger had at the end.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OrderStore } from '../../src/orders/state.js';
import { recover } from '../../src/persist/recover.js';
import { readSnapshot, writeSnapshot } from '../../src/persist/snapshot.js';
import { instrumentFromSim } from '../../src/exchange/paper.js';
import { makeInstrument } from '../../src/sim/core/instruments.js';
import { rmDir, tmpDir } from './helpers.js';

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'snapshot-v1');
const ins = [instrumentFromSim(makeInstrument('binanceSpot', 'BTCUSDT'), 0), instrumentFromSim(makeInstrument('bybitLinear', 'BTCUSDT'), 1)];

interface Expected {
  position: number[];
  cash: number[];
  openBuyQty: number[];
  openSellQty: number[];
  openPerSlot: number[];
  fills: number;
  volumeQuote: number;
  open: Array<{ id: string; slot: number; side: string; qty: number; filled: number; state: string; price: number }>;
  nextId: string;
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmDir(d);
});

function fixtureCopy(): string {
  const d = tmpDir('snapv1');
  dirs.push(d);
  cpSync(FIXTURE, d, { recursive: true });
  return d;
}

function expectOwnerEquals(s: OrderStore, x: Expected): void {
  const p = s.portfolio;
  expect([...p.position]).toEqual(x.position);
  for (let i = 0; i < x.cash.length; i++) expect(p.cash[i]).toBeCloseTo(x.cash[i]!, 9);
  expect([...p.openBuyQty]).toEqual(x.openBuyQty);
  expect([...p.openSellQty]).toEqual(x.openSellQty);
  expect([...p.openPerSlot]).toEqual(x.openPerSlot);
  expect(p.fills).toBe(x.fills);
  expect(p.volumeQuote).toBeCloseTo(x.volumeQuote, 9);
  const open = s.open().map((o) => ({ id: o.clientOrderId, slot: o.slot, side: o.side, qty: o.qty, filled: o.filledQty, state: o.state, price: o.price }));
  expect(open.sort((a, b) => a.id.localeCompare(b.id))).toEqual([...x.open].sort((a, b) => a.id.localeCompare(b.id)));
  for (const o of s.open()) expect(o.venue).toBe(ins[o.slot]!.venue);
}

describe('snapshot v1 (Ledger) is still read', () => {
  it('a v1 snapshot + the journal after it rebuild the owner exactly as the old Ledger had it', () => {
    const d = fixtureCopy();
    const x = JSON.parse(readFileSync(join(d, 'expected.json'), 'utf8')) as Expected;
    const v1 = readSnapshot(d);
    expect(v1?.version).toBe(1);
    const s = new OrderStore(ins, 8);
    const rep = recover(d, s);
    expect(rep.badTail).toBeUndefined();
    expect(rep.snapshotAtMs).toBe(v1!.writtenAtMs);
    expect(rep.fromOffset).toBe(v1!.journalOffset);
    expect(rep.replayed).toBeGreaterThan(0); // the tail after the snapshot
    expect(rep.skipped).toBe(0);
    expect(rep.probeId).toBe(x.nextId);
    expectOwnerEquals(s, x);
    // the v1 trade keys dedup: a fill the snapshot already counted is not booked again
    const key = v1!.version === 1 ? v1!.ledger.trades[0]! : '';
    const [venue, symbol, tid] = key.split(':') as [string, string, string];
    expect(s.hasTrade(venue, symbol, tid)).toBe(true);
  });

  it('what was read from v1 is written as v2 and reads back the same', () => {
    const d = fixtureCopy();
    const x = JSON.parse(readFileSync(join(d, 'expected.json'), 'utf8')) as Expected;
    const a = new OrderStore(ins, 8);
    recover(d, a);
    const d2 = tmpDir('snapv2');
    dirs.push(d2);
    writeSnapshot(d2, { version: 2, journalOffset: 0, writtenAtMs: Date.now(), owner: a.snapshot(), nextId: x.nextId });
    expect(readSnapshot(d2)?.version).toBe(2);
    const b = new OrderStore(ins, 8);
    const rep = recover(d2, b);
    expect(rep.probeId).toBe(x.nextId);
    expectOwnerEquals(b, x);
  });
});
