import { afterEach, describe, expect, it } from 'vitest';
import { appendFileSync, readFileSync, readdirSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Journal, JOURNAL_FILE, readJournal, encodeRecord, IntentLine } from '../../src/persist/journal.js';
import { readSnapshot, writeSnapshot, SNAPSHOT_FILE } from '../../src/persist/snapshot.js';
import { recover } from '../../src/persist/recover.js';
import { reconcile } from '../../src/engine/reconcile.js';
import { OrderStore } from '../../src/orders/state.js';
import { IDS_MARK, OrderIds, successorId } from '../../src/model/ids.js';
import { BotState, F } from '../../src/model/botstate.js';
import { PaperVenue } from '../../src/exchange/paper.js';
import { MarketMaker } from '../../src/strategy/marketmaker.js';
import { DEFAULT_REFS, ownerFor, rig, rmDir, sleep, testConfig, tmpDir, until, type Rig } from './helpers.js';

/** client ids of the owner's open orders, sorted */
function openIds(s: { open(): Array<{ clientOrderId: string }> }): string[] {
  return s
    .open()
    .map((o) => o.clientOrderId)
    .sort();
}

const dirs: string[] = [];
const rigs: Rig[] = [];
afterEach(async () => {
  for (const r of rigs.splice(0)) await r.close();
  for (const d of dirs.splice(0)) rmDir(d);
});
function dir(): string {
  const d = tmpDir('persist');
  dirs.push(d);
  return d;
}
const opts = { fsync: 'batch' as const, fsyncIntervalMs: 1000, batchMs: 1 };

describe('journal', () => {
  it('round-trips records in batches', async () => {
    const d = dir();
    const j = Journal.open(d, opts);
    for (let i = 0; i < 10; i++) j.append({ t: 'mark', what: `r${i}`, ms: i });
    await sleep(20);
    expect(j.batches).toBeGreaterThanOrEqual(1);
    j.close();
    const r = readJournal(join(d, JOURNAL_FILE));
    expect(r.records.map((x) => (x as { what: string }).what)).toEqual(Array.from({ length: 10 }, (_, i) => `r${i}`));
    expect(r.badTail).toBeUndefined();
  });

  it('write-ahead records are in the file before append returns; batched ones after the batch timer', async () => {
    const d = dir();
    const j = Journal.open(d, opts);
    j.append({ t: 'mark', what: 'batched', ms: 1 });
    j.appendNow({ t: 'mark', what: 'ahead', ms: 2 });
    // appendNow wrote everything queued so far, in order, without waiting for the timer
    expect(readJournal(join(d, JOURNAL_FILE)).records.map((x) => (x as { what: string }).what)).toEqual(['batched', 'ahead']);
    j.append({ t: 'mark', what: 'later', ms: 3 });
    expect(readJournal(join(d, JOURNAL_FILE)).records.length).toBe(2);
    await sleep(20);
    expect(readJournal(join(d, JOURNAL_FILE)).records.length).toBe(3);
    // the fsync runs in the thread pool: on a loaded machine it can finish well after the batch was written
    await until(() => j.fsyncs >= 1, 5000, 'the batch fsync');
    j.close();
  });

  it('preformatted intent lines are byte for byte what encodeRecord gives (else the record is encoded as before)', async () => {
    const line = new IntentLine();
    const cases: Array<[string, string, string, string, string, string, number, number, boolean, number]> = [
      ['tw1a', 'binanceSpot', 'BTCUSDT', 'BUY', 'LIMIT', 'IOC', 6543210, 1000, false, 1795000000123],
      ['tw-zz_9', 'bybitLinear', 'ETHUSDT', 'SELL', 'MARKET', 'GTC', 0, 1, true, 0],
      ['x', 'binanceUsdm', 'SOLUSDT', 'BUY', 'LIMIT', 'GTX', -42, 9007199254740991, false, 17],
      ['f', 'binanceSpot', 'BTCUSDT', 'SELL', 'LIMIT', 'FOK', 12.5, 1e-7, false, 1e21],
    ];
    for (const c of cases) {
      const [id, v, s, side, type, tif, px, qty, manual, ms] = c;
      const n = line.build(...c);
      expect(n).toBeGreaterThan(0);
      expect(line.buf.toString('latin1', 0, n)).toBe(encodeRecord({ t: 'intent', id, v, s, side, type, tif, px, qty, manual, ms }));
    }
    expect(line.build('a"b', 'binanceSpot', 'BTCUSDT', 'BUY', 'LIMIT', 'IOC', 1, 1, false, 1)).toBe(-1);
    expect(line.build('é', 'binanceSpot', 'BTCUSDT', 'BUY', 'LIMIT', 'IOC', 1, 1, false, 1)).toBe(-1);
    // through the journal: preformatted and fallback lines and batched records, all readable
    const d = dir();
    const j = Journal.open(d, opts);
    j.append({ t: 'mark', what: 'before', ms: 1 });
    j.appendIntentNow('tw1', 'binanceSpot', 'BTCUSDT', 'BUY', 'LIMIT', 'IOC', 100, 2, false, 5);
    j.appendIntentNow('q"uote', 'binanceSpot', 'BTCUSDT', 'SELL', 'LIMIT', 'IOC', 101, 2, true, 6);
    const i1 = { t: 'intent', id: 'tw1', v: 'binanceSpot', s: 'BTCUSDT', side: 'BUY', type: 'LIMIT', tif: 'IOC', px: 100, qty: 2, manual: false, ms: 5 };
    const i2 = { t: 'intent', id: 'q"uote', v: 'binanceSpot', s: 'BTCUSDT', side: 'SELL', type: 'LIMIT', tif: 'IOC', px: 101, qty: 2, manual: true, ms: 6 };
    // the intents are in the file at once; the batched record waits for its timer (not written in front of them)
    const now = readJournal(join(d, JOURNAL_FILE));
    expect(now.badTail).toBeUndefined();
    expect(now.records).toEqual([i1, i2]);
    // the batch fsync runs off the event loop (fs.fsync callback) and is counted when done
    await sleep(50);
    expect(readJournal(join(d, JOURNAL_FILE)).records).toEqual([i1, i2, { t: 'mark', what: 'before', ms: 1 }]);
    await until(() => j.fsyncs >= 1, 5000, 'the batch fsync');
    expect(j.writeErrors).toBe(0);
    j.close();
  });

  it('truncated tail: recovers every complete record, reports the rest, and reopening truncates it', () => {
    const d = dir();
    const p = join(d, JOURNAL_FILE);
    const good = encodeRecord({ t: 'mark', what: 'a', ms: 1 }) + encodeRecord({ t: 'mark', what: 'b', ms: 2 });
    writeFileSync(p, good + encodeRecord({ t: 'mark', what: 'c', ms: 3 }).slice(0, 20));
    const r = readJournal(p);
    expect(r.records.length).toBe(2);
    expect(r.validBytes).toBe(Buffer.byteLength(good));
    expect(r.badTail?.reason).toContain('truncated');
    expect(r.badTail?.bytes).toBe(20);
    const j = Journal.open(d, opts, r.validBytes);
    j.append({ t: 'mark', what: 'd', ms: 4 });
    j.close();
    expect(readJournal(p).records.map((x) => (x as { what: string }).what)).toEqual(['a', 'b', 'd']);
  });

  it('corrupt record (CRC mismatch) ends the valid prefix', () => {
    const d = dir();
    const p = join(d, JOURNAL_FILE);
    const a = encodeRecord({ t: 'mark', what: 'a', ms: 1 });
    const b = encodeRecord({ t: 'mark', what: 'b', ms: 2 }).replace('"b"', '"x"');
    writeFileSync(p, a + b + encodeRecord({ t: 'mark', what: 'c', ms: 3 }));
    const r = readJournal(p);
    expect(r.records.length).toBe(1);
    expect(r.badTail?.reason).toBe('CRC mismatch');
    expect(r.badTail?.offset).toBe(a.length);
  });
});

describe('snapshot', () => {
  it('is replaced atomically: a leftover temp file from a crash mid-write never replaces the last good one', () => {
    const d = dir();
    const owner = new OrderStore([], 1).snapshot();
    writeSnapshot(d, { version: 2, journalOffset: 10, writtenAtMs: 1, owner });
    // a crash after writing half of the next temp file
    writeFileSync(join(d, SNAPSHOT_FILE + '.tmp'), '{"version":1,"journalOff');
    expect(readSnapshot(d)?.journalOffset).toBe(10);
    writeSnapshot(d, { version: 2, journalOffset: 20, writtenAtMs: 2, owner });
    expect(readSnapshot(d)?.journalOffset).toBe(20);
    expect(readdirSync(d).sort()).toEqual([SNAPSHOT_FILE]);
    expect(statSync(join(d, SNAPSHOT_FILE)).mode & 0o077).toBe(0);
  });
});

describe('recovery and reconciliation', () => {
  it('the probe id is the successor of the last journaled intent of the last id generator (snapshot, mark, intents)', () => {
    const d = dir();
    const ledger = () => new OrderStore([], 8);
    // nothing yet: no generator known
    expect(recover(d, ledger()).probeId).toBeUndefined();
    expect(successorId('twabc-z')).toBe('twabc-10');
    expect(successorId('noDash')).toBeUndefined();
    // a snapshot written before any intent of that life: its next id
    const ids = new OrderIds('tw', 1_700_000_000_000);
    writeSnapshot(d, { version: 2, journalOffset: 0, writtenAtMs: 1, owner: ledger().snapshot(), nextId: ids.peekNext() });
    expect(recover(d, ledger()).probeId).toBe(ids.base + '1');
    // a new life marks its generator, then journals intents 1 and 2 (unknown instrument: skipped, still counted)
    const j = Journal.open(d, { fsync: 'never', batchMs: 1, fsyncIntervalMs: 1000 });
    const next = new OrderIds('tw', 1_700_000_100_000);
    j.appendNow({ t: 'mark', what: IDS_MARK + next.base, ms: 1 });
    expect(recover(d, ledger()).probeId).toBe(next.base + '1');
    for (let i = 0; i < 2; i++) j.appendIntentNow(next.next(), 'binanceSpot', 'BTCUSDT', 'BUY', 'LIMIT', 'GTC', 1, 1, false, 1);
    // an intent of another generator (an older life's id in a late record) does not move it
    j.appendIntentNow(ids.base + '9', 'binanceSpot', 'BTCUSDT', 'BUY', 'LIMIT', 'GTC', 1, 1, false, 1);
    j.close();
    expect(recover(d, ledger()).probeId).toBe(next.base + '3');
  });

  it('replaying the journal rebuilds exactly the live order owner (positions, cash, open orders)', async () => {
    const d = dir();
    const cfg = testConfig({
      persistence: { dir: d, batchMs: 1, snapshotIntervalMs: 3_600_000 },
      strategy: { marketMaker: { venue: 'bybitLinear', symbol: 'BTCUSDT', size: 0.002, halfSpreadBps: 0.01, maxInventory: 0.006, requoteTicks: 1 } },
      risk: { maxOrdersPerSecond: 200 },
    });
    const r = rig({ cfg, strategy: new MarketMaker(cfg.strategy.marketMaker), journalDir: d, rate: 4000 });
    rigs.push(r);
    r.venue.start();
    r.engine.start();
    await until(() => r.engine.portfolio.fills >= 5 && r.engine.cancels >= 5, 15_000, 'fills and cancels');
    r.engine.stopTrading();
    r.venue.generator.stop();
    await sleep(20);
    r.journal!.flush();
    const live = r.engine.orders.store;
    const replayed = new OrderStore(r.engine.instruments, r.state.slots);
    const rep = recover(d, replayed);
    expect(rep.badTail).toBeUndefined();
    expect(rep.snapshotAtMs).toBeUndefined(); // journal only
    expect([...replayed.portfolio.position]).toEqual([...live.portfolio.position]);
    expect([...replayed.portfolio.openBuyQty]).toEqual([...live.portfolio.openBuyQty]);
    expect([...replayed.portfolio.openSellQty]).toEqual([...live.portfolio.openSellQty]);
    expect(replayed.portfolio.cash[1]).toBeCloseTo(live.portfolio.cash[1]!, 9);
    expect(openIds(replayed)).toEqual(openIds(live));
    for (const id of openIds(live))
      expect(replayed.get(id)).toMatchObject({ state: live.get(id)!.state, filledQty: live.get(id)!.filledQty, qty: live.get(id)!.qty });
    expect(replayed.portfolio.fills).toBe(live.portfolio.fills);
  });

  it('restart: snapshot + journal rebuild the order owner; orphans cancelled, lost orders closed, nothing re-sent', async () => {
    const d = dir();
    const cfg = testConfig({ persistence: { dir: d, batchMs: 1 } });
    const state = BotState.create(8);
    const venue = new PaperVenue({ instruments: DEFAULT_REFS, state, rate: 1000, seed: 3 });
    venue.seed();
    // --- first life
    const ids = new OrderIds('tw');
    const a = rig({ cfg, state, venue, journalDir: d, ids });
    a.engine.start();
    const s = a.engine.slotOf('binanceSpot', 'BTCUSDT');
    const mid = state.get(s, 4);
    const buyPx = Math.floor(mid * 0.998);
    const id1 = a.engine.place({ slot: s, side: 'BUY', type: 'LIMIT', tif: 'GTC', price: buyPx, qty: 100 })!;
    const id2 = a.engine.place({ slot: s, side: 'BUY', type: 'LIMIT', tif: 'GTC', price: buyPx - 100, qty: 100 })!;
    // a taker that fills immediately
    const idTake = a.engine.place({ slot: s, side: 'BUY', type: 'LIMIT', tif: 'IOC', price: Math.ceil(mid * 1.001), qty: 50 })!;
    await until(() => a.engine.portfolio.fills > 0 && a.engine.acks >= 2, 3000, 'acks and a fill');
    a.engine.snapshot();
    // after the snapshot: id2 is cancelled on the exchange while we are "down" (no event reaches the engine)
    const id3 = a.engine.place({ slot: s, side: 'SELL', type: 'LIMIT', tif: 'GTC', price: Math.ceil(mid * 1.002), qty: 100 })!;
    await until(() => a.engine.acks >= 3, 3000, 'third ack');
    await sleep(10);
    const posBefore = a.engine.position(s);
    // 50 units bought, less the taker fee (0.1 %) the paper venue charges a spot buy in the base asset
    expect(posBefore).toBeCloseTo(50 * (1 - 0.001), 9);
    // crash: stop everything without cancelling (the journal batches are flushed like a page cache would keep them)
    a.engine.loop.stop();
    a.journal!.close();
    for (const g of venue.gateways) g.onEvent = () => {};
    venue.books[s]!.cancel('paper-account', { clientOrderId: id2 });
    // an order of ours whose intent never reached the journal, and a foreign order
    expect(venue.placeExternal(venue.instruments[s]!, ids.base + 'zz', 'BUY', buyPx - 200, 100)).toBe(true);
    expect(venue.placeExternal(venue.instruments[s]!, 'foreign-1', 'BUY', buyPx - 300, 100)).toBe(true);
    // and the intent of an order that never reached the exchange
    appendFileSync(
      join(d, JOURNAL_FILE),
      encodeRecord({ t: 'intent', id: ids.base + 'lost', v: 'binanceSpot', s: 'BTCUSDT', side: 'BUY', type: 'LIMIT', tif: 'GTC', px: buyPx, qty: 100, ms: 0 }),
    );
    // an order in flight at the crash: its intent was journaled and it reached the exchange, its ack never came
    const inflight = ids.base + 'inflight';
    appendFileSync(
      join(d, JOURNAL_FILE),
      encodeRecord({
        t: 'intent',
        id: inflight,
        v: 'binanceSpot',
        s: 'BTCUSDT',
        side: 'SELL',
        type: 'LIMIT',
        tif: 'GTC',
        px: Math.ceil(mid * 1.003),
        qty: 100,
        ms: 0,
      }),
    );
    expect(venue.placeExternal(venue.instruments[s]!, inflight, 'SELL', Math.ceil(mid * 1.003), 100)).toBe(true);
    // plus a torn write at the end
    appendFileSync(join(d, JOURNAL_FILE), '0badc0de {"t":"mark"');

    // --- second life
    const owner = ownerFor(venue, state, new OrderIds('tw'));
    const rep = recover(d, owner.store);
    expect(rep.badTail).toBeDefined();
    expect(owner.portfolio.position[s]).toBe(posBefore);
    expect(openIds(owner.store)).toEqual([id1, id2, id3, ids.base + 'lost', inflight].sort());
    const b = rig({ cfg, state, venue, orders: owner });
    rigs.push(b);
    const sentBefore = b.engine.ordersSent;
    const rr = await reconcile(b.engine, 'cancel');
    expect(rr.adopted.sort()).toEqual([id1, id3, inflight].sort());
    expect(rr.canceled.sort()).toEqual([ids.base + 'zz', 'foreign-1'].sort());
    expect(rr.closed).toContainEqual({ id: id2, state: 'CANCELED' });
    expect(rr.closed).toContainEqual({ id: ids.base + 'lost', state: 'REJECTED' });
    expect(b.engine.ordersSent).toBe(sentBefore); // nothing re-sent
    await sleep(10);
    const open = (await venue.openOrders(venue.instruments)).map((o) => o.clientOrderId).sort();
    expect(open).toEqual([id1, id3, inflight].sort());
    expect(openIds(b.engine.store)).toEqual(open);
    expect(idTake).toBeTruthy();
    await venue.close();
  });

  it('a fill from while the engine was down is booked with its real trade id, order id and price (trade history), once', async () => {
    const d = dir();
    const cfg = testConfig({
      persistence: { dir: d, batchMs: 1 },
      risk: { maxOrderQty: 5, maxOrderNotional: 1e6, maxPositionPerSymbol: 10, maxTotalNotional: 1e7 },
    });
    const state = BotState.create(8);
    const venue = new PaperVenue({ instruments: DEFAULT_REFS, state, rate: 1000, seed: 11 });
    venue.seed();
    // --- first life: a marketable buy that sweeps a few ask levels; the process dies before any answer lands
    const a = rig({ cfg, state, venue, journalDir: d, ids: new OrderIds('tw') });
    a.engine.start();
    const s = a.engine.slotOf('binanceSpot', 'BTCUSDT');
    const limit = Math.ceil(state.get(s, F.mid) * 1.002);
    // more than the best ask level holds: it fills at two or more prices
    const id = a.engine.place({
      slot: s,
      side: 'BUY',
      type: 'LIMIT',
      tif: 'IOC',
      price: limit,
      qty: Math.round(2.5 * state.get(s, F.askQty)) * venue.instruments[s]!.lotUnits,
    })!;
    expect(id, String(a.engine.lastRefusal) + ' ' + String(state.get(s, F.askQty))).toBeTruthy();
    for (const g of venue.gateways) g.onEvent = () => {}; // killed: no event reaches the engine
    a.engine.loop.stop();
    a.journal!.close();
    const history = venue.fills('binanceSpot', 'BTCUSDT', 0).filter((f) => f.clientOrderId === id);
    expect(history.length).toBeGreaterThan(1);
    expect(history.some((f) => f.price < limit)).toBe(true); // the order's price is not the fills' price
    const qty = history.reduce((x, f) => x + f.qty, 0);
    const ins = venue.instruments[s]!;
    // the position the fills leave: net of their commissions in the base asset (the trade history carries them)
    expect(history.every((f) => f.feeAsset === ins.base && f.fee > 0)).toBe(true);
    const held = qty - history.reduce((x, f) => x + f.fee, 0) * 10 ** ins.qtyDecimals;
    const cash = -history.reduce((x, f) => x + (f.price / 10 ** ins.priceDecimals) * (f.qty / 10 ** ins.qtyDecimals), 0);

    // --- second life: recover (the order is an intent without an answer), reconcile
    const owner = ownerFor(venue, state, new OrderIds('tw'));
    recover(d, owner.store);
    expect(owner.order(id)?.state).toBe('NEW_PENDING');
    expect(owner.portfolio.position[s]).toBe(0);
    const b = rig({ cfg, state, venue, orders: owner, journalDir: d });
    rigs.push(b);
    const rr = await reconcile(b.engine, 'cancel');
    expect(rr.fillsBooked).toBe(history.length);
    expect(rr.fillsEstimated).toBe(0);
    const o = b.engine.order(id)!;
    expect(o.filledQty).toBe(qty);
    expect(o.fills).toBe(history.length);
    expect(o.exchangeOrderId).toBe(history[0]!.exchangeOrderId);
    expect(o.filledNotional).toBe(history.reduce((x, f) => x + f.price * f.qty, 0));
    expect(b.engine.portfolio.position[s]).toBeCloseTo(held, 9);
    expect(b.engine.portfolio.cash[s]).toBeCloseTo(cash, 9);
    for (const f of history) expect(b.engine.store.hasTrade('binanceSpot', 'BTCUSDT', f.tradeId)).toBe(true);
    // the journal has each fill as the venue reported it: trade id, client and exchange order id, price, quantity
    b.journal!.flush();
    const fills = readJournal(join(d, JOURNAL_FILE)).records.filter((r) => r.t === 'event' && r.k === 'fill' && r.qty > 0);
    expect(fills.map((r) => (r.t === 'event' ? [r.tid, r.id, r.x, r.px, r.qty] : []))).toEqual(
      history.map((f) => [f.tradeId, id, f.exchangeOrderId, f.price, f.qty]),
    );
    expect(readJournal(join(d, JOURNAL_FILE)).records.some((r) => r.t === 'fill')).toBe(false); // no fill without an order
    // a second reconciliation books nothing more (the trade ids are known)
    const again = await reconcile(b.engine, 'cancel');
    expect(again.fillsBooked).toBe(0);
    expect(b.engine.portfolio.position[s]).toBeCloseTo(held, 9);
    await venue.close();
  });

  it('adopt policy keeps our own orphan order and books its fills', async () => {
    const state = BotState.create(8);
    const venue = new PaperVenue({ instruments: DEFAULT_REFS, state, rate: 1000, seed: 5 });
    venue.seed();
    const ids = new OrderIds('tw');
    const r = rig({ state, venue, ids });
    rigs.push(r);
    const s = r.engine.slotOf('binanceSpot', 'BTCUSDT');
    const px = Math.floor(state.get(s, 4) * 0.998);
    venue.placeExternal(venue.instruments[s]!, ids.base + 'orph', 'BUY', px, 100);
    const rep = await reconcile(r.engine, 'adopt');
    expect(rep.adopted).toEqual([ids.base + 'orph']);
    expect(r.engine.order(ids.base + 'orph')?.qty).toBe(100);
    expect(r.engine.portfolio.openBuyQty[s]).toBe(100);
  });

  it('the journal file is readable after a crash with fsync=never (page cache) and records every order', async () => {
    const d = dir();
    const cfg = testConfig({ persistence: { dir: d, fsync: 'never', batchMs: 1 } });
    const r = rig({ cfg, journalDir: d });
    rigs.push(r);
    r.venue.seed();
    r.engine.start();
    const s = r.engine.slotOf('binanceSpot', 'BTCUSDT');
    r.engine.place({ slot: s, side: 'BUY', type: 'LIMIT', tif: 'GTC', price: Math.floor(r.state.get(s, 4) * 0.999), qty: 10 });
    await until(() => r.engine.acks === 1, 2000, 'ack');
    await sleep(10);
    const kinds = readJournal(join(d, JOURNAL_FILE)).records.map((x) => x.t);
    expect(kinds).toEqual(['intent', 'event']);
    expect(readFileSync(join(d, JOURNAL_FILE), 'utf8').endsWith('\n')).toBe(true);
    truncateSync(join(d, JOURNAL_FILE), 5);
    expect(readJournal(join(d, JOURNAL_FILE)).records.length).toBe(0);
  });
});
