/**
 * The engine's event path hook on the market-data feeds (`BookFeed.onTop`): the adapters call it once per frame
 * that changed top of book, after BotState and the frame's hop stamps are written, and after a REST snapshot.
 * Replays real captures (../shared/exchange/fixtures) through the adapters' frame handlers.
 */
import { describe, expect, it } from 'vitest';
import { BotState, F, FIELDS_PER_SLOT } from '../../src/model/botstate.js';
import { BybitMd } from '../../src/exchange/bybit/md/adapter.js';
import { BinanceMd } from '../../src/exchange/binance/md/adapter.js';
import { Hop, HopRecorder } from '../../src/util/hops.js';
import { VENUE_INDEX } from '../../src/model/types.js';
import { decimalsFromCapture, loadCapture, makeInstrument } from '../md/helpers.js';

describe('BookFeed.onTop (event path hook)', () => {
  it('bybit: called once per frame that moved top of book, after BotState and the recv_to_state stamp', () => {
    const lines = loadCapture('bybit/v5_public_capture_2026-08_cryptofeed.ndjson');
    const connects = lines.filter((l) => l.t === 'connect' && (l.addr ?? '').endsWith('/linear')).map((l) => l.conn);
    const mine = lines.filter((l) => l.t === 'recv' && connects.includes(l.conn));
    const dec = decimalsFromCapture(mine).get('BTCUSDT')!;
    const inst = makeInstrument('bybitLinear', 'BTCUSDT', dec.px, dec.qty, 0);
    const state = BotState.create(1);
    const hops = new HopRecorder();
    const md = new BybitMd({ category: 'linear', wsBaseUrl: 'ws://127.0.0.1:1', instruments: [inst], state, hops });
    const feed = md.feeds[0]!;
    const upd = () => state.f64[0 * FIELDS_PER_SLOT + F.updates] as number;
    const stamped = () => hops.get(Hop.RecvToState, VENUE_INDEX.bybitLinear)?.totalCount ?? 0;
    const calls: Array<{ slot: number; updates: number; stamps: number; bid: number }> = [];
    feed.onTop = (slot) => calls.push({ slot, updates: upd(), stamps: stamped(), bid: state.f64[F.bidPx] as number });
    let expected = 0;
    let framesMovingTop = 0;
    for (const l of mine) {
      const before = upd();
      const stampsBefore = stamped();
      md.onFrame(Buffer.from(l.data!, 'utf8'), 1);
      if (upd() !== before) {
        framesMovingTop++;
        expected++;
        const c = calls[calls.length - 1]!;
        expect(calls.length).toBe(expected);
        expect(c.updates).toBe(upd()); // BotState already written
        expect(c.stamps).toBe(stampsBefore + 1); // this frame's hops already recorded
      } else expect(calls.length).toBe(expected);
    }
    expect(framesMovingTop).toBeGreaterThan(50);
    expect(calls.every((c) => c.slot === 0 && c.bid > 0)).toBe(true);
    // every book frame that reached the feed's commit is split into apply (parsed -> book applied) and state_write
    // (book applied -> BotState written); frames that never reach commit (trades) still stamp apply
    const sw = hops.get(Hop.StateWrite, VENUE_INDEX.bybitLinear)?.totalCount ?? 0;
    expect(sw).toBeGreaterThanOrEqual(framesMovingTop);
    expect(sw).toBeLessThanOrEqual(hops.get(Hop.Apply, VENUE_INDEX.bybitLinear)?.totalCount ?? 0);
  });

  it('binance: a REST snapshot and each diff that moves the top call it; no hook = no call, nothing breaks', () => {
    const lines = loadCapture('binance/spot_capture_2021-10-12_cryptofeed.ndjson');
    const dec = decimalsFromCapture(lines).get('NKNUSDT')!;
    const inst = makeInstrument('binanceSpot', 'NKNUSDT', dec.px, dec.qty, 0);
    const state = BotState.create(1);
    const md = new BinanceMd({
      market: 'spot',
      restBaseUrl: 'http://127.0.0.1:1',
      wsBaseUrl: 'ws://127.0.0.1:1',
      instruments: [inst],
      state,
      fetchSnapshot: () => new Promise<string>(() => {}),
    });
    const feed = md.feeds[0]!;
    let calls = 0;
    let moves = 0;
    let snapshotCalls = 0;
    feed.onTop = () => calls++;
    for (const l of lines) {
      const before = state.f64[F.updates] as number;
      if (l.t === 'http' && (l.url ?? '').includes('symbol=NKNUSDT')) {
        const c0 = calls;
        md.deliverSnapshot('NKNUSDT', l.data!);
        snapshotCalls += calls - c0;
      } else if (l.t === 'recv' && (l.data ?? '').includes('"NKNUSDT"')) md.onFrame(Buffer.from(l.data!, 'utf8'), 1);
      else continue;
      if ((state.f64[F.updates] as number) !== before) moves++;
    }
    expect(snapshotCalls).toBeGreaterThanOrEqual(1);
    expect(calls).toBe(moves);
    expect(moves).toBeGreaterThan(10);
  });
});
