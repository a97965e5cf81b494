/**
 * Never lose a fill: the private stream is cut (closeConnections) and, before it can reconnect, a counterparty
 * trades through our resting orders. The stream never delivers those fills; the reconcile that follows the
 * re-subscribe backfills them from the trade history (Binance myTrades / userTrades, Bybit execution list).
 * Afterwards the engine's fills, per order and in total, and its position equal the exchange's, with no duplicates.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBinanceGateway } from '../../src/exchange/binance/trade/index.js';
import { createBybitGateways, type BybitRestGateway } from '../../src/exchange/bybit/trade/index.js';
import type { VenueGateway } from '../../src/orders/gateway.js';
import type { OrderManager } from '../../src/orders/manager.js';
import type { ExchangeFill } from '../../src/model/orders.js';
import { instrumentOf, manager, sim, until, untilState, type SimHandle } from './harness.js';

type V = 'binanceSpot' | 'binanceUsdm' | 'bybitLinear' | 'bybitSpot';

function gatewayFor(s: SimHandle, venue: V): VenueGateway {
  const i = instrumentOf(s, venue);
  const instruments = [{ symbol: i.symbol, priceDecimals: i.priceDecimals, qtyDecimals: i.qtyDecimals }];
  if (venue === 'binanceSpot' || venue === 'binanceUsdm') {
    const ep = s.endpoints[venue]!;
    return createBinanceGateway({
      venue,
      restBaseUrl: ep.restBaseUrl,
      wsApiUrl: ep.wsApiUrl,
      wsStreamBaseUrl: ep.wsStreamBaseUrl,
      apiKey: ep.apiKey,
      apiSecret: ep.apiSecret,
      ed25519ApiKey: ep.ed25519ApiKey!,
      ed25519PrivateKeyPem: ep.ed25519PrivateKeyPem!,
      instruments,
      transport: 'rest',
      timeoutMs: 1000,
      recovery: { queryDelayMs: 10 },
      deadManSwitch: false,
    });
  }
  const ep = s.endpoints.bybit!;
  const [gw] = createBybitGateways([
    {
      category: venue === 'bybitSpot' ? 'spot' : 'linear',
      restBaseUrl: ep.restBaseUrl,
      wsApiUrl: ep.wsApiUrl,
      wsPrivateUrl: ep.wsPrivateUrl!,
      apiKey: ep.apiKey,
      apiSecret: ep.apiSecret,
      instruments,
      transport: 'rest',
      timeoutMs: 1000,
      recovery: { queryDelayMs: 10 },
    },
  ]) as [BybitRestGateway];
  return gw;
}

for (const venue of ['binanceSpot', 'binanceUsdm', 'bybitLinear', 'bybitSpot'] as const) {
  describe(`${venue}: fills lost in a private-stream gap are backfilled`, () => {
    let s: SimHandle;
    let gw: VenueGateway;
    let m: OrderManager;

    beforeAll(async () => {
      s = await sim([venue.startsWith('bybit') ? 'bybit' : (venue as 'binanceSpot' | 'binanceUsdm')]);
      gw = gatewayFor(s, venue);
      ({ m } = manager(instrumentOf(s, venue), gw));
      await m.start();
    });
    afterAll(async () => {
      await m?.stop();
      await s?.close();
    });

    it('cut the stream, trade through our orders, reconnect: engine fills and position equal the exchange, no duplicates', async () => {
      const inst = instrumentOf(s, venue);
      const lot = (n: number) => 2 * n * 10 ** Math.max(0, inst.qtyDecimals - 3);
      const book = s.books.get(venue)!.get('BTCUSDT')!;
      // one order filled normally over the stream first (the backfill must not double it)
      const ask0 = book.bestAskPrice();
      const first = m.place({ slot: 0, side: 'BUY', type: 'LIMIT', tif: 'IOC', price: ask0 + 100, qty: lot(1) })!;
      await until(() => m.order(first)!.filledQty === lot(1), 4000, 'stream fill of the first order');

      // three resting bids at the best bid
      const bid = book.bestBidPrice();
      const ids = [1, 2, 3].map((k) => m.place({ slot: 0, side: 'BUY', type: 'LIMIT', tif: 'GTC', price: bid, qty: lot(k) })!);
      for (const id of ids) await untilState(m, id, ['ACKED', 'PARTIALLY_FILLED', 'FILLED']);
      const resyncsBefore = m.counts.reconciles;

      // cut the private stream, then (same tick: no reconnect possible) a counterparty sells through everything >= bid
      const which = venue === 'binanceSpot' ? 'wsapi' : 'private';
      s.inject({ kind: 'closeConnections', market: venue, which });
      const d = book.depth(1000);
      const sweep = d.bids.filter(([p]) => p >= bid).reduce((a, [, q]) => a + q, 0);
      if (sweep > 0) {
        const r = book.submit({
          accountId: 'test-counterparty',
          clientOrderId: 'sweep-' + venue,
          side: 'SELL',
          type: 'LIMIT',
          tif: 'IOC',
          priceTicks: bid,
          qtyLots: sweep,
          reduceOnly: false,
        });
        expect(r.ok).toBe(true);
      }

      // the stream reconnects, re-subscribes, the manager reconciles and backfills
      await until(() => m.counts.reconciles > resyncsBefore, 8000, 'reconcile after the re-subscribe');
      const all = [first, ...ids];
      const history = await gw.tradeHistory!('BTCUSDT', Date.now() - 120_000);
      const byOrder = new Map<string, ExchangeFill[]>();
      for (const f of history) {
        const l = byOrder.get(f.exchangeOrderId) ?? [];
        l.push(f);
        byOrder.set(f.exchangeOrderId, l);
      }
      await until(
        () =>
          all.every((id) => {
            const o = m.order(id)!;
            const ex = byOrder.get(o.exchangeOrderId) ?? [];
            return o.filledQty === ex.reduce((a, f) => a + f.qty, 0);
          }),
        8000,
        'engine fills equal the exchange trade history',
      );

      // The gap's fills reach the owner once each, under their trade ids (below), whichever way: the backfill from the
      // trade history, or (USD-M) the simulator's user-data events of the sweep delivered to the socket the stream
      // reconnected with, when the reconnect beat them; then the backfill finds them booked (duplicates, not re-booked).
      expect(m.counts.backfilled + m.counts.duplicate).toBeGreaterThan(0);
      for (const id of all) {
        const o = m.order(id)!;
        const ex = byOrder.get(o.exchangeOrderId) ?? [];
        expect(ex.length).toBeGreaterThan(0);
        expect(o.fills).toBe(ex.length); // each fill once
        for (const f of ex) expect(m.store.hasTrade(venue, 'BTCUSDT', f.tradeId)).toBe(true);
        expect(o.filledQty).toBe(ex.reduce((a, f) => a + f.qty, 0));
        expect(o.state).toBe('FILLED');
      }
      // position and average price from fills = the exchange's (all account fills in this sim are ours)
      const pos = m.portfolio.of(venue, 'BTCUSDT');
      // net of the commissions the exchange reports in the base asset (spot buys): the trade history's, so the
      // backfilled fills carried their commission and asset too
      const baseFees = history.reduce((a, f) => a + (f.feeAsset === inst.base && (venue === 'binanceSpot' || venue === 'bybitSpot') ? f.fee : 0), 0);
      if (venue === 'binanceSpot' || venue === 'bybitSpot') expect(baseFees).toBeGreaterThan(0);
      expect(pos.feesBase).toBeCloseTo(baseFees, 10);
      const exQty = history.reduce((a, f) => a + (f.side === 'BUY' ? f.qty : -f.qty), 0) - baseFees * 10 ** inst.qtyDecimals;
      // every fill here is a buy: the average entry is the cost over the units held (net of base fees: cost basis)
      const exAvg = history.reduce((a, f) => a + f.price * f.qty, 0) / (history.reduce((a, f) => a + f.qty, 0) - baseFees * 10 ** inst.qtyDecimals);
      expect(pos.qty).toBeCloseTo(exQty, 6);
      expect(pos.fills).toBe(history.length);
      expect(pos.avgPrice).toBeCloseTo(exAvg, 6);
      if (venue === 'binanceUsdm' || venue === 'bybitLinear') {
        const p = (await gw.positions()).find((x) => x.symbol === 'BTCUSDT');
        expect(p?.qty).toBe(pos.qty);
        expect(p!.entryPrice).toBeCloseTo(pos.avgPrice, 0);
      }
    });
  });
}

describe('binanceUsdm: the listenKey dies (closed without listenKeyExpired): renewed, and the gap backfilled', () => {
  let s: SimHandle;
  let gw: VenueGateway;
  let m: OrderManager;
  beforeAll(async () => {
    s = await sim(['binanceUsdm']);
    gw = gatewayFor(s, 'binanceUsdm');
    ({ m } = manager(instrumentOf(s, 'binanceUsdm'), gw));
    await m.start();
  });
  afterAll(async () => {
    await m?.stop();
    await s?.close();
  });

  it('a new key and connection; fills made while the key was dead reach the engine once', async () => {
    const venue = 'binanceUsdm' as const;
    const inst = instrumentOf(s, venue);
    const lot = (n: number) => 2 * n * 10 ** Math.max(0, inst.qtyDecimals - 3);
    const book = s.books.get(venue)!.get('BTCUSDT')!;
    const tick = Math.round(Number(inst.tickSize) * 10 ** inst.priceDecimals);
    const bid = book.bestBidPrice() - 2 * tick; // just below the best bid: the market should not reach it by itself
    const ids = [1, 2].map((k) => m.place({ slot: 0, side: 'BUY', type: 'LIMIT', tif: 'GTC', price: bid, qty: lot(k) })!);
    for (const id of ids) await untilState(m, id, ['ACKED', 'PARTIALLY_FILLED', 'FILLED']);
    const us = (gw as unknown as { userStream: { currentListenKey: string } }).userStream;
    const key0 = us.currentListenKey;
    const reconciles = m.counts.reconciles;
    // the exchange drops the key (as after an expiry whose event we never saw) and closes the stream
    const ep = s.endpoints[venue]!;
    const del = await fetch(`${ep.restBaseUrl}/fapi/v1/listenKey`, { method: 'DELETE', headers: { 'x-mbx-apikey': ep.apiKey } });
    expect(del.status).toBe(200);
    await del.text();
    const sweep = book
      .depth(1000)
      .bids.filter(([p]) => p >= bid)
      .reduce((a, [, q]) => a + q, 0);
    const openAtGap = ids.every((id) => m.order(id)!.state === 'ACKED');
    if (sweep > 0)
      expect(
        book.submit({
          accountId: 'test-counterparty',
          clientOrderId: 'sweep-lk',
          side: 'SELL',
          type: 'LIMIT',
          tif: 'IOC',
          priceTicks: bid,
          qtyLots: sweep,
          reduceOnly: false,
        }).ok,
      ).toBe(true);

    await until(() => us.currentListenKey !== key0 && m.counts.reconciles > reconciles, 8000, 'new listenKey and reconcile');
    await until(() => ids.every((id) => m.order(id)!.state === 'FILLED' && m.order(id)!.filledQty === m.order(id)!.qty), 8000, 'backfilled fills');
    const history = await gw.tradeHistory!('BTCUSDT', Date.now() - 120_000);
    for (const id of ids) {
      const o = m.order(id)!;
      const mine = history.filter((f) => f.exchangeOrderId === o.exchangeOrderId);
      expect(o.fills).toBe(mine.length); // each fill once
      for (const f of mine) expect(m.store.hasTrade(venue, 'BTCUSDT', f.tradeId)).toBe(true);
    }
    const p = (await gw.positions()).find((x) => x.symbol === 'BTCUSDT');
    expect(m.portfolio.of(venue, 'BTCUSDT').qty).toBe(p?.qty);
    if (openAtGap) expect(m.counts.backfilled).toBeGreaterThan(0); // else the market filled them before the gap
  });
});
