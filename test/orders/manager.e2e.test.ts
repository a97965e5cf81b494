/**
 * All four venues through the registry's gateways and one OrderManager against one simulator: REST on some venues,
 * WS order APIs on others (Bybit spot and linear on one shared private stream).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Instrument, VenueId } from '../../src/model/types.js';
import { OrderManager } from '../../src/orders/manager.js';
import { accessFromSim } from '../../src/exchange/endpoints.js';
import { createGateways, VENUE_DRIVERS, type GatewayOptions } from '../../src/exchange/registry.js';
import { HopRecorder, Hop } from '../../src/util/hops.js';
import { nowNs } from '../../src/util/clock.js';
import { blankOrderEvent, type OrderEvent } from '../../src/model/orders.js';
import { VENUE_INDEX } from '../../src/model/types.js';
import { startSim } from '../../src/sim/index.js';
import { bbo, instrumentOf, Recorder, until, untilState, type SimHandle } from './harness.js';

const VENUES: VenueId[] = ['binanceSpot', 'binanceUsdm', 'bybitSpot', 'bybitLinear'];

describe('OrderManager over all venues', () => {
  let s: SimHandle;
  let m: OrderManager;
  let rec: Recorder;
  let insts: Instrument[];
  const hops = new HopRecorder();

  beforeAll(async () => {
    s = await startSim({ seed: 5, symbols: ['BTCUSDT'], rate: 200 });
    insts = VENUES.map((v, slot) => instrumentOf(s, v, slot));
    const ep = accessFromSim(s);
    const transport: Record<VenueId, GatewayOptions['transport']> = { binanceSpot: 'ws', binanceUsdm: 'rest', bybitSpot: 'ws', bybitLinear: 'ws' };
    const plans = insts.map((i) =>
      VENUE_DRIVERS[i.venue].gatewayPlan(ep[i.venue]!, [i], { transport: transport[i.venue], hops, timeoutMs: 1000, recovery: { queryDelayMs: 10 } }),
    );
    m = new OrderManager({ instruments: insts, gateways: createGateways(plans).gateways, hops });
    rec = new Recorder();
    m.subscribe(rec);
    await m.start();
  });
  afterAll(async () => {
    await m?.stop();
    await s?.close();
  });

  it('places and acks on every venue, records sign/write/ack hops, then one cancelAll per slot', async () => {
    const ids = insts.map(
      (i) =>
        m.place({ slot: i.slot, side: 'BUY', type: 'LIMIT', tif: 'GTC', price: bbo(s, i.venue).bid - 300, qty: 2 * 10 ** Math.max(0, i.qtyDecimals - 3) })!,
    );
    for (const id of ids) await untilState(m, id, ['ACKED']);
    for (const i of insts) {
      expect(hops.get(Hop.Sign, VENUE_INDEX[i.venue])!.totalCount).toBeGreaterThan(0);
      expect(hops.get(Hop.Ack, VENUE_INDEX[i.venue])!.totalCount).toBeGreaterThan(0);
    }
    for (const i of insts) m.cancelAll(i.slot);
    for (const id of ids) await untilState(m, id, ['CANCELED']);
  });

  it('kill switch: cancelAllEverywhere verifies every venue is flat', async () => {
    const ids = insts.map(
      (i) =>
        m.place({ slot: i.slot, side: 'SELL', type: 'LIMIT', tif: 'GTC', price: bbo(s, i.venue).ask + 300, qty: 2 * 10 ** Math.max(0, i.qtyDecimals - 3) })!,
    );
    for (const id of ids) await untilState(m, id, ['ACKED']);
    const rep = await m.cancelAllEverywhere();
    expect(rep.sort((a, b) => a.venue.localeCompare(b.venue))).toEqual([...VENUES].sort().map((venue) => ({ venue, remaining: 0 })));
    for (const id of ids) await untilState(m, id, ['CANCELED']);
  });

  it('refusals: unknown slot or bad request -> null; halted venue -> null', () => {
    expect(m.place({ slot: 99, side: 'BUY', type: 'LIMIT', tif: 'GTC', price: 1, qty: 1 })).toBeNull();
    expect(m.place({ slot: 0, side: 'BUY', type: 'LIMIT', tif: 'GTC', price: 0, qty: 1 })).toBeNull();
    const gw = m.gateway('bybitSpot')! as unknown as { halt(r: string): void; resume(): void };
    gw.halt('test');
    expect(m.place({ slot: 2, side: 'BUY', type: 'LIMIT', tif: 'GTC', price: 1, qty: 1 })).toBeNull();
    gw.resume();
  });

  it('a local rate-limit refusal is reported after place() returned', async () => {
    const gw = m.gateway('binanceUsdm')! as unknown as { limiter: { backoffUntilMs: number; clearBan(): void } };
    gw.limiter.backoffUntilMs = Date.now() + 60_000;
    let seenBeforeReturn = false;
    const unsub = m.subscribe({
      onOrderEvent: () => {
        if (!returned) seenBeforeReturn = true;
      },
    });
    let returned = false;
    const id = m.place({ slot: 1, side: 'BUY', type: 'LIMIT', tif: 'GTC', price: bbo(s, 'binanceUsdm').bid - 300, qty: 2 })!;
    returned = true;
    await untilState(m, id, ['REJECTED']);
    expect(seenBeforeReturn).toBe(false);
    expect(m.order(id)!.reason).toBe('RATE_LIMITED_LOCAL');
    unsub();
    gw.limiter.clearBan();
  });

  it('positions and reconciliation helpers', async () => {
    const i = insts[1]!;
    const id = m.place({ slot: 1, side: 'BUY', type: 'LIMIT', tif: 'IOC', price: bbo(s, 'binanceUsdm').ask + 500, qty: 2 })!;
    await untilState(m, id, ['FILLED']);
    await until(() => m.order(id)!.filledQty === 2, 4000, 'fill');
    const ex = await m.positions('binanceUsdm');
    const mine = m.portfolio.of('binanceUsdm', i.symbol);
    expect(ex.find((p) => p.symbol === i.symbol)?.qty).toBe(mine.qty);
    const q = await m.queryOrder(id);
    expect(q).toMatchObject({ clientOrderId: id, state: 'FILLED', filledQty: 2 });
  });

  it('a fill with a bad number is never booked: the stream frame is refused and the venue reconciled; an event with NaN is refused at the manager', async () => {
    const i = insts[1]!;
    const id = m.place({ slot: 1, side: 'BUY', type: 'LIMIT', tif: 'GTC', price: bbo(s, 'binanceUsdm').bid - 300, qty: 2 })!;
    await untilState(m, id, ['ACKED']);
    const o = m.order(id)!;
    const pos0 = m.portfolio.of('binanceUsdm', i.symbol).qty;
    const gw = m.gateway('binanceUsdm')! as unknown as {
      userStream: { onFrame(b: Buffer, ns: number): void; counts: { malformed: number } };
      onEvent(ev: OrderEvent): void;
    };
    const us = gw.userStream;
    const bad0 = us.counts.malformed;
    const rec0 = m.counts.reconciles;
    // price text that is not a decimal: the byte path used to report fillPrice NaN, and the fill was booked
    us.onFrame(
      Buffer.from(
        `{"e":"ORDER_TRADE_UPDATE","T":1,"E":2,"o":{"s":"${i.symbol}","c":"${id}","S":"BUY","x":"TRADE","X":"PARTIALLY_FILLED","i":${o.exchangeOrderId},"l":"0.001","z":"0.001","L":"9x7000","t":991,"n":"0","N":"USDT","m":false}}`,
      ),
      nowNs(),
    );
    expect(us.counts.malformed).toBe(bad0 + 1);
    expect(o.filledQty).toBe(0);
    await until(() => m.counts.reconciles > rec0, 4000, 'reconcile after a rejected frame');
    // whatever produced it, an event with a non-finite number does not pass the manager
    const ev = blankOrderEvent();
    Object.assign(ev, {
      venue: 'binanceUsdm',
      symbol: i.symbol,
      kind: 'fill',
      clientOrderId: id,
      exchangeOrderId: o.exchangeOrderId,
      state: 'PARTIALLY_FILLED',
      tradeId: '992',
      fillPrice: NaN,
      fillQty: 1,
      source: 'stream',
    });
    const inv0 = m.counts.invalid;
    const rec1 = m.counts.reconciles;
    gw.onEvent(ev);
    expect(m.counts.invalid).toBe(inv0 + 1);
    expect(o.filledQty).toBe(0);
    expect(m.store.hasTrade('binanceUsdm', i.symbol, '992')).toBe(false);
    expect(m.portfolio.of('binanceUsdm', i.symbol).qty).toBe(pos0);
    await until(() => m.counts.reconciles > rec1, 4000, 'reconcile after a refused event');
    m.cancel(id);
    await untilState(m, id, ['CANCELED']);
  });
});
