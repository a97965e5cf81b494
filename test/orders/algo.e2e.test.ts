/**
 * Algo (conditional) orders end to end through the order owner, against the simulator over real sockets:
 * USD-M `/fapi/v1/algoOrder` + ALGO_UPDATE, Bybit conditional orders (linear, spot StopOrder). Place, trigger by moving the simulator's book, the triggered order
 * booked in the order owner (linked to its algo) with its fills moving the position once; cancel; a trigger missed
 * while the stream was away is learned by reconciliation; the kill switch's cancel-all leaves no algo order on the
 * venue (asked of the simulator itself).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBinanceGateway } from '../../src/exchange/binance/trade/index.js';
import type { BinanceRestGateway } from '../../src/exchange/binance/trade/rest.js';
import { createBybitGateways, type BybitRestGateway } from '../../src/exchange/bybit/trade/index.js';
import type { OrderManager } from '../../src/orders/manager.js';
import type { AlgoEvent } from '../../src/model/orders.js';
import type { MatchingBook } from '../../src/sim/core/book.js';
import { bbo, instrumentOf, manager, moveMarket, sim, until, type Recorder, type SimHandle } from './harness.js';

describe('binanceUsdm algo orders through the order owner', () => {
  let s: SimHandle;
  let gw: BinanceRestGateway;
  let m: OrderManager;
  let rec: Recorder;
  let book: MatchingBook;
  const algoEvents: AlgoEvent[] = [];
  const venue = 'binanceUsdm';
  const lot = 2; // 0.002 BTC

  beforeAll(async () => {
    s = await sim([venue]);
    const ep = s.endpoints[venue]!;
    const i = instrumentOf(s, venue);
    gw = createBinanceGateway({
      venue,
      restBaseUrl: ep.restBaseUrl,
      wsStreamBaseUrl: ep.wsStreamBaseUrl,
      apiKey: ep.apiKey,
      apiSecret: ep.apiSecret,
      instruments: [{ symbol: i.symbol, priceDecimals: i.priceDecimals, qtyDecimals: i.qtyDecimals }],
      transport: 'rest',
      timeoutMs: 2000,
      recovery: { queryDelayMs: 10 },
      deadManSwitch: false,
    });
    ({ m, rec } = manager(i, gw));
    m.subscribe({ onOrderEvent: () => undefined, onAlgoEvent: (ev) => algoEvents.push({ ...ev }) });
    book = s.books.get(venue)!.get('BTCUSDT')!;
    await m.start();
  });
  afterAll(async () => {
    await m?.stop();
    await s?.close();
  });

  /** the simulator's own list of open algo orders (GET /fapi/v1/openAlgoOrders) */
  const venueOpenAlgos = async (): Promise<string[]> => (await gw.openAlgoOrders('BTCUSDT')).map((j) => String(j['clientAlgoId']));

  it('a STOP_MARKET buy: acked, triggered by the market, its order booked as the algo child and filled once', async () => {
    s.generator.stop();
    const { ask } = bbo(s, venue);
    const trigger = ask + 50;
    const pos0 = m.portfolio.of(venue, 'BTCUSDT').qty;
    const fills0 = m.portfolio.fills;
    const id = m.placeAlgo({ slot: 0, side: 'BUY', kind: 'STOP', triggerPrice: trigger, price: 0, qty: lot })!;
    expect(id).toBeTruthy();
    await until(() => m.algo(id)?.state === 'OPEN', 4000, 'algo acked');
    expect(m.algo(id)!.algoId).toMatch(/^\d+$/);
    expect(await venueOpenAlgos()).toContain(id);
    // while it waits, its quantity counts as open buy exposure (risk sees the worst case)
    expect(m.portfolio.openBuyQty[0]).toBe(lot);

    moveMarket(book, 'up', trigger);
    await until(() => m.algo(id)?.state === 'FINISHED', 4000, `algo finished (is ${m.algo(id)?.state})`);
    const a = m.algo(id)!;
    expect(a.childId).toBe(id); // the venue's triggered order carries the client algo id
    expect(a.childExchangeId).toMatch(/^\d+$/);
    const child = m.order(a.childId)!;
    await until(() => m.order(a.childId)?.state === 'FILLED', 4000, 'child filled');
    expect(child.exchangeOrderId).toBe(a.childExchangeId);
    expect(child.side).toBe('BUY');
    expect(child.type).toBe('MARKET');
    expect(m.order(a.childId)!.filledQty).toBe(lot);
    expect(m.portfolio.of(venue, 'BTCUSDT').qty).toBe(pos0 + lot);
    expect(m.portfolio.fills - fills0).toBe(m.order(a.childId)!.fills);
    // ALGO_UPDATE was seen in order: OPEN (ack), TRIGGERING, TRIGGERED, FINISHED
    const states = algoEvents.filter((e) => e.clientAlgoId === id).map((e) => e.state);
    expect(states).toEqual(expect.arrayContaining(['OPEN', 'TRIGGERING', 'FINISHED']));
    expect(algoEvents.find((e) => e.clientAlgoId === id && e.state === 'TRIGGERING')?.source).toBe('stream');
    // fills of the child came from the private stream, with trade ids
    expect(rec.events.filter((e) => e.clientOrderId === id && e.kind === 'fill' && e.fillQty > 0).every((e) => e.tradeId !== '')).toBe(true);
    // exposure released: the algo's share went when it triggered, the child's when it filled
    expect(m.portfolio.openBuyQty[0]).toBe(0);
    expect(m.store.openCount()).toBe(0);
    // a reconciliation (trade-history backfill) books nothing twice
    await m.reconcile(venue);
    expect(m.portfolio.of(venue, 'BTCUSDT').qty).toBe(pos0 + lot);
    expect(await venueOpenAlgos()).not.toContain(id);
  });

  it('a STOP limit sell is cancelled; a cancel of a gone algo is refused', async () => {
    const { bid } = bbo(s, venue);
    const id = m.placeAlgo({ slot: 0, side: 'SELL', kind: 'STOP', triggerPrice: bid - 400, price: bid - 500, qty: lot, reduceOnly: true })!;
    await until(() => m.algo(id)?.state === 'OPEN', 4000, 'algo acked');
    expect(m.cancelAlgo(id)).toBe(true);
    await until(() => m.algo(id)?.state === 'CANCELED', 4000, 'algo cancelled');
    expect(await venueOpenAlgos()).not.toContain(id);
    expect(m.cancelAlgo(id)).toBe(false);
    expect(m.store.openCount()).toBe(0);
  });

  it('a venue refusal comes back as REJECTED with the venue code (trigger already crossed: -2021)', async () => {
    const { ask } = bbo(s, venue);
    const id = m.placeAlgo({ slot: 0, side: 'BUY', kind: 'STOP', triggerPrice: ask - 10, price: 0, qty: lot })!;
    await until(() => m.algo(id)?.state === 'REJECTED', 4000, 'algo rejected');
    expect(m.algo(id)!.code).toBe(-2021);
    expect(m.store.openCount()).toBe(0);
  });

  it('a trigger missed while the stream was away is learned by reconciliation: child booked, fills backfilled once', async () => {
    const { bid } = bbo(s, venue);
    const trigger = bid - 50;
    const pos0 = m.portfolio.of(venue, 'BTCUSDT').qty;
    const id = m.placeAlgo({ slot: 0, side: 'SELL', kind: 'STOP', triggerPrice: trigger, price: 0, qty: lot })!;
    await until(() => m.algo(id)?.state === 'OPEN', 4000, 'algo acked');
    // the stream goes deaf: nothing of the trigger reaches the owner
    const onEvent = gw.onEvent;
    const onAlgo = gw.onAlgoEvent;
    gw.onEvent = () => undefined;
    gw.onAlgoEvent = () => undefined;
    try {
      moveMarket(book, 'down', trigger);
      for (let i = 0; i < 200 && (await venueOpenAlgos()).includes(id); i++) await new Promise((r) => setTimeout(r, 10));
      expect(await venueOpenAlgos()).not.toContain(id);
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      gw.onEvent = onEvent;
      gw.onAlgoEvent = onAlgo;
    }
    expect(m.algo(id)!.state).toBe('OPEN');
    await m.reconcile(venue);
    const a = m.algo(id)!;
    expect(a.state).toBe('TRIGGERED');
    expect(a.childId).toBe(id);
    expect(m.order(id)!.state).toBe('FILLED');
    expect(m.order(id)!.filledQty).toBe(lot);
    expect(m.portfolio.of(venue, 'BTCUSDT').qty).toBe(pos0 - lot);
    await m.reconcile(venue);
    expect(m.portfolio.of(venue, 'BTCUSDT').qty).toBe(pos0 - lot);
  });

  it('kill switch cancel-all: no algo order left on the venue, verified by query', async () => {
    const { bid, ask } = bbo(s, venue);
    const ids = [
      m.placeAlgo({ slot: 0, side: 'BUY', kind: 'STOP', triggerPrice: ask + 3000, price: 0, qty: lot })!,
      m.placeAlgo({ slot: 0, side: 'SELL', kind: 'TAKE_PROFIT', triggerPrice: ask + 3000, price: ask + 3000, qty: lot })!,
      m.placeAlgo({ slot: 0, side: 'SELL', kind: 'STOP', triggerPrice: bid - 3000, price: 0, qty: lot })!,
    ];
    await until(() => ids.every((id) => m.algo(id)?.state === 'OPEN'), 4000, 'algos acked');
    expect((await venueOpenAlgos()).filter((x) => ids.includes(x))).toHaveLength(3);
    // the stops' check lists algo orders among the open orders
    expect((await m.openOrdersOf([instrumentOf(s, venue)])).map((o) => o.clientOrderId)).toEqual(expect.arrayContaining(ids));
    expect(await m.cancelAllEverywhere()).toEqual([{ venue, remaining: 0 }]);
    expect(await venueOpenAlgos()).toEqual([]);
    expect(await m.openOrdersOf([instrumentOf(s, venue)])).toEqual([]);
    await until(() => ids.every((id) => m.algo(id)?.state === 'CANCELED'), 4000, 'algo records cancelled');
    expect(m.store.openCount()).toBe(0);
  });
});

for (const venue of ['bybitLinear', 'bybitSpot'] as const) {
  describe(`${venue} conditional orders through the order owner`, () => {
    let s: SimHandle;
    let gw: BybitRestGateway;
    let m: OrderManager;
    let book: MatchingBook;
    const algoEvents: AlgoEvent[] = [];
    const lot = () => 2 * 10 ** Math.max(0, instrumentOf(s, venue).qtyDecimals - 3); // 0.002

    beforeAll(async () => {
      s = await sim(['bybit']);
      const ep = s.endpoints.bybit!;
      const i = instrumentOf(s, venue);
      [gw] = createBybitGateways([
        {
          category: venue === 'bybitSpot' ? 'spot' : 'linear',
          restBaseUrl: ep.restBaseUrl,
          wsApiUrl: ep.wsApiUrl,
          wsPrivateUrl: ep.wsPrivateUrl!,
          apiKey: ep.apiKey,
          apiSecret: ep.apiSecret,
          instruments: [{ symbol: i.symbol, priceDecimals: i.priceDecimals, qtyDecimals: i.qtyDecimals }],
          transport: 'rest',
          timeoutMs: 2000,
          recovery: { queryDelayMs: 10 },
        },
      ]) as [BybitRestGateway];
      ({ m } = manager(i, gw));
      m.subscribe({ onOrderEvent: () => undefined, onAlgoEvent: (ev) => algoEvents.push({ ...ev }) });
      book = s.books.get(venue)!.get('BTCUSDT')!;
      await m.start();
      s.generator.stop();
    });
    afterAll(async () => {
      await m?.stop();
      await s?.close();
    });

    /** the simulator's own list of open conditional orders (order/realtime orderFilter=StopOrder) */
    const venueOpen = async (): Promise<string[]> => (await gw.algoOpen('BTCUSDT')).map((a) => a.clientAlgoId);

    it('a stop buy: Untriggered, Triggered by the market, placed under the same orderId, filled once', async () => {
      const { ask } = bbo(s, venue);
      const trigger = ask + 50;
      const pos0 = m.portfolio.of(venue, 'BTCUSDT').qty;
      const id = m.placeAlgo({ slot: 0, side: 'BUY', kind: 'STOP', triggerPrice: trigger, price: 0, qty: lot() })!;
      await until(() => m.algo(id)?.state === 'OPEN' && algoEvents.some((e) => e.clientAlgoId === id && e.source === 'stream'), 4000, 'Untriggered');
      const algoId = m.algo(id)!.algoId;
      expect(algoId).not.toBe('');
      expect(await venueOpen()).toContain(id);
      // not an active order: the open-orders list (orderFilter=Order) does not show it
      expect((await m.openOrders(venue)).map((o) => o.clientOrderId)).not.toContain(id);
      moveMarket(book, 'up', trigger);
      await until(() => m.order(id)?.state === 'FILLED', 4000, `triggered order filled (algo ${m.algo(id)?.state})`);
      const a = m.algo(id)!;
      expect(a.state).toBe('TRIGGERED');
      expect(a.childId).toBe(id);
      expect(m.order(id)!.exchangeOrderId).toBe(algoId); // Bybit keeps one orderId from Untriggered to Filled
      expect(m.order(id)!.filledQty).toBe(lot());
      // spot: the buy's fee is paid in the base asset, so the position received is smaller by it (booked once)
      const received = venue === 'bybitSpot' ? lot() - m.order(id)!.fees * 10 ** instrumentOf(s, venue).qtyDecimals : lot();
      if (venue === 'bybitSpot') expect(m.order(id)!.fees).toBeGreaterThan(0);
      expect(m.portfolio.of(venue, 'BTCUSDT').qty).toBeCloseTo(pos0 + received, 9);
      expect(algoEvents.filter((e) => e.clientAlgoId === id && e.source === 'stream').map((e) => e.state)).toEqual(['OPEN', 'TRIGGERED']);
      await m.reconcile(venue);
      expect(m.portfolio.of(venue, 'BTCUSDT').qty).toBeCloseTo(pos0 + received, 9);
      expect(await venueOpen()).not.toContain(id);
    });

    it('a take-profit limit is cancelled (Deactivated)', async () => {
      const { ask } = bbo(s, venue);
      const id = m.placeAlgo({ slot: 0, side: 'SELL', kind: 'TAKE_PROFIT', triggerPrice: ask + 800, price: ask + 900, qty: lot() })!;
      await until(() => m.algo(id)?.state === 'OPEN', 4000, 'acked');
      expect(await venueOpen()).toContain(id);
      expect(m.cancelAlgo(id)).toBe(true);
      await until(
        () => m.algo(id)?.state === 'CANCELED' && algoEvents.some((e) => e.clientAlgoId === id && e.source === 'stream' && e.state === 'CANCELED'),
        4000,
        'Deactivated',
      );
      expect(await venueOpen()).not.toContain(id);
      expect(m.order(id)).toBeUndefined(); // never placed an order
    });

    if (venue === 'bybitLinear')
      it('a trigger the market has passed already is refused with the venue code (110092)', async () => {
        const { ask } = bbo(s, venue);
        const id = m.placeAlgo({ slot: 0, side: 'BUY', kind: 'STOP', triggerPrice: ask - 500, price: 0, qty: lot() })!;
        await until(() => m.algo(id)?.state === 'REJECTED', 4000, 'rejected');
        expect(m.algo(id)!.code).toBe(110092);
      });

    it('kill switch cancel-all: no conditional order left on the venue', async () => {
      const { bid, ask } = bbo(s, venue);
      const ids = [
        m.placeAlgo({ slot: 0, side: 'BUY', kind: 'STOP', triggerPrice: ask + 3000, price: 0, qty: lot() })!,
        m.placeAlgo({ slot: 0, side: 'SELL', kind: 'STOP', triggerPrice: bid - 3000, price: 0, qty: lot() })!,
      ];
      await until(() => ids.every((id) => m.algo(id)?.state === 'OPEN'), 4000, 'acked');
      expect((await venueOpen()).filter((x) => ids.includes(x))).toHaveLength(2);
      expect(await m.cancelAllEverywhere()).toEqual([{ venue, remaining: 0 }]);
      expect(await venueOpen()).toEqual([]);
      await until(() => ids.every((id) => m.algo(id)?.state === 'CANCELED'), 4000, 'algo records cancelled');
      expect(m.store.openCount()).toBe(0);
    });
  });
}
