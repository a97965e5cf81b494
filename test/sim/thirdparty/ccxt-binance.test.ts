/**
 * ccxt (4.5.x), a client written for the real Binance, against the simulator: only the hosts in `urls.api` change
 * (issue 2: "a client written for the real exchange must work by swapping the real hosts for these bases").
 * Spot through `ccxt.binance`, USD-M through `ccxt.binanceusdm`; outcomes are checked against the simulated books.
 */
import ccxt from 'ccxt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MatchingBook } from '../../../src/sim/core/book.js';
import type { SimVenueEndpoints } from '../../../src/sim/core/types.js';
import { startSim, type SimHandle } from '../../../src/sim/index.js';
import { rebase } from './helpers.js';

type Ex = InstanceType<typeof ccxt.binance>;

/** A ccxt Binance client whose REST hosts are the simulator's. Options other than the hosts only keep ccxt from
 * loading market types the venue does not list (binance's loadMarkets would also ask COIN-M and options hosts). */
function client(kind: 'spot' | 'usdm', ep: SimVenueEndpoints, options: Record<string, unknown> = {}): Ex {
  const opts = { fetchMarkets: { types: [kind === 'spot' ? 'spot' : 'linear'] }, fetchCurrencies: false, ...options };
  const ex =
    kind === 'spot'
      ? new ccxt.binance({ apiKey: ep.apiKey, secret: ep.apiSecret, options: opts })
      : new ccxt.binanceusdm({ apiKey: ep.apiKey, secret: ep.apiSecret, options: opts });
  rebase(ex.urls['api'] as Record<string, unknown>, ep.restBaseUrl, (k) => k !== 'ws');
  return ex as Ex;
}

/** quote cost of taking `lots` from the best levels of one side: sum(price ticks * lots), in quote units */
function takeCost(levels: Array<[number, number]>, lots: number, pxDec: number, qtyDec: number): number {
  let left = lots;
  let tl = 0;
  for (const [px, q] of levels) {
    const n = Math.min(q, left);
    tl += px * n;
    left -= n;
    if (left === 0) break;
  }
  expect(left).toBe(0);
  return tl / 10 ** (pxDec + qtyDec);
}

describe('ccxt binance / binanceusdm against the simulator', () => {
  let sim: SimHandle;
  let spot: SimVenueEndpoints;
  let usdm: SimVenueEndpoints;
  let sb: MatchingBook;
  let ub: MatchingBook;
  beforeAll(async () => {
    sim = await startSim({ venues: ['binanceSpot', 'binanceUsdm'], seed: 7, generatorMode: 'manual', symbols: ['BTCUSDT', 'ETHUSDT'], depthIntervalMs: 0 });
    spot = sim.endpoints.binanceSpot!;
    usdm = sim.endpoints.binanceUsdm!;
    sb = sim.books.get('binanceSpot')!.get('BTCUSDT')!;
    ub = sim.books.get('binanceUsdm')!.get('BTCUSDT')!;
  });
  afterAll(async () => sim?.close());

  it('Spot: loadMarkets, fetchTime, fetchOrderBook, fetchBidsAsks', async () => {
    const ex = client('spot', spot);
    const markets = await ex.loadMarkets();
    expect(Object.keys(markets).sort()).toEqual(['BTC/USDT', 'ETH/USDT']);
    const m = markets['BTC/USDT']!;
    const ins = sb.instrument;
    expect(m).toMatchObject({ id: 'BTCUSDT', base: 'BTC', quote: 'USDT', spot: true, active: true });
    expect(m.precision.price).toBe(Number(ins.tickSize));
    expect(m.precision.amount).toBe(Number(ins.stepSize));
    expect(m.limits.amount?.min).toBe(Number(ins.minQty));
    expect(m.limits.cost?.min).toBe(Number(ins.minNotional));

    const t = await ex.fetchTime();
    expect(Math.abs(t! - sim.ctx.nowMs('binanceSpot'))).toBeLessThan(60_000);

    const ob = await ex.fetchOrderBook('BTC/USDT', 5);
    const d = sb.depth(5);
    const pd = ins.priceDecimals;
    const qd = ins.qtyDecimals;
    expect(ob.nonce).toBe(d.updateId);
    expect(ob.bids).toEqual(d.bids.map(([p, q]) => [p / 10 ** pd, q / 10 ** qd]));
    expect(ob.asks).toEqual(d.asks.map(([p, q]) => [p / 10 ** pd, q / 10 ** qd]));

    const ba = await ex.fetchBidsAsks(['BTC/USDT']);
    expect(ba['BTC/USDT']).toMatchObject({
      bid: sb.bestBid()!.priceTicks / 10 ** pd,
      bidVolume: sb.bestBid()!.qtyLots / 10 ** qd,
      ask: sb.bestAsk()!.priceTicks / 10 ** pd,
      askVolume: sb.bestAsk()!.qtyLots / 10 ** qd,
    });
    const all = await ex.fetchBidsAsks();
    expect(Object.keys(all).sort()).toEqual(['BTC/USDT', 'ETH/USDT']);
  });

  it('Spot: limit / market orders fill against the book; fetchOpenOrders, fetchOrder, cancelOrder, cancelAllOrders, fetchBalance', async () => {
    const ex = client('spot', spot);
    await ex.loadMarkets();
    const pd = sb.instrument.priceDecimals;
    const qd = sb.instrument.qtyDecimals;
    const bal0 = await ex.fetchBalance();
    const btc0 = bal0['BTC']?.total ?? 0;
    const usdt0 = bal0['USDT']!.total!;
    expect(usdt0).toBeGreaterThan(1000);

    // a resting limit buy below the book
    const bid = sb.bestBidPrice();
    const restPx = (bid - 100_000) / 10 ** pd; // 1000 USDT under the best bid
    const o1 = await ex.createOrder('BTC/USDT', 'limit', 'buy', 0.001, restPx);
    expect(o1.id).toMatch(/^[0-9]+$/);
    expect(o1).toMatchObject({ status: 'open', filled: 0, amount: 0.001, price: restPx, side: 'buy', type: 'limit' });
    expect(sb.openOrders(sim.accounts.get(spot.apiKey)!.id).map((o) => o.orderId)).toContain(o1.id);
    const q1 = await ex.fetchOrder(o1.id!, 'BTC/USDT');
    expect(q1).toMatchObject({ id: o1.id, status: 'open', remaining: 0.001 });
    expect((await ex.fetchOpenOrders('BTC/USDT')).map((o) => o.id)).toEqual([o1.id]);
    const c1 = await ex.cancelOrder(o1.id!, 'BTC/USDT');
    expect(c1).toMatchObject({ id: o1.id, status: 'canceled' });
    expect((await ex.fetchOrder(o1.id!, 'BTC/USDT')).status).toBe('canceled');
    expect(await ex.fetchOpenOrders('BTC/USDT')).toEqual([]);

    // a marketable limit buy at the best ask for less than the level holds: filled at that price
    const ask = sb.bestAsk()!;
    const lots = Math.min(ask.qtyLots, 100); // <= 0.001 BTC
    const o2 = await ex.createOrder('BTC/USDT', 'limit', 'buy', lots / 10 ** qd, ask.priceTicks / 10 ** pd);
    expect(o2).toMatchObject({ status: 'closed', filled: lots / 10 ** qd, remaining: 0, average: ask.priceTicks / 10 ** pd });
    expect(o2.trades.length).toBe(1);

    // a market buy that walks two levels: cost is what those levels held
    const d = sb.depth(3);
    const mLots = d.asks[0]![1] + Math.ceil(d.asks[1]![1] / 2);
    const want = takeCost(d.asks, mLots, pd, qd);
    const o3 = await ex.createOrder('BTC/USDT', 'market', 'buy', mLots / 10 ** qd);
    expect(o3).toMatchObject({ status: 'closed', filled: mLots / 10 ** qd, type: 'market' });
    expect(o3.cost).toBeCloseTo(want, 6);
    expect(o3.trades.map((t) => t.price)).toEqual([d.asks[0]![0] / 10 ** pd, d.asks[1]![0] / 10 ** pd]);

    // each fill paid the taker commission (0.1 %) in the BTC bought, as ccxt reads it from the order's fills
    expect(o2.trades[0]!.fee).toMatchObject({ currency: 'BTC', cost: (lots / 10 ** qd) * 0.001 });
    // the balance moved by exactly the fills, net of that commission
    const bal1 = await ex.fetchBalance();
    const boughtBtc = (lots + mLots) / 10 ** qd;
    expect(bal1['BTC']!.total! - btc0).toBeCloseTo(boughtBtc * (1 - 0.001), 8);
    expect(usdt0 - bal1['USDT']!.total!).toBeCloseTo(o2.cost! + want, 6);

    // fetchTicker (GET /api/v3/ticker/24hr): the only trades so far are ours (manual generator)
    const tk = await ex.fetchTicker('BTC/USDT');
    const lastPx = d.asks[1]![0] / 10 ** pd;
    expect(tk).toMatchObject({ symbol: 'BTC/USDT', open: ask.priceTicks / 10 ** pd, high: lastPx, low: ask.priceTicks / 10 ** pd, last: lastPx });
    expect(tk.baseVolume).toBeCloseTo(boughtBtc, 8);
    expect(tk.quoteVolume).toBeCloseTo(o2.cost! + want, 6);
    expect(tk.info['count']).toBe(3);
    expect(tk.bid).toBe(sb.bestBidPrice() / 10 ** pd);
    expect(tk.ask).toBe(sb.bestAskPrice() / 10 ** pd);

    // history: GET /api/v3/allOrders and /api/v3/myTrades
    const hist = await ex.fetchOrders('BTC/USDT');
    expect(hist.map((o) => [o.id, o.status])).toEqual([
      [o1.id, 'canceled'],
      [o2.id, 'closed'],
      [o3.id, 'closed'],
    ]);
    expect((await ex.fetchClosedOrders('BTC/USDT')).map((o) => o.id)).toEqual([o2.id, o3.id]);
    const mine = await ex.fetchMyTrades('BTC/USDT');
    expect(mine.map((t) => [t.order, t.side, t.price, t.amount, t.takerOrMaker])).toEqual([
      [o2.id, 'buy', ask.priceTicks / 10 ** pd, lots / 10 ** qd, 'taker'],
      [o3.id, 'buy', d.asks[0]![0] / 10 ** pd, d.asks[0]![1] / 10 ** qd, 'taker'],
      [o3.id, 'buy', d.asks[1]![0] / 10 ** pd, (mLots - d.asks[0]![1]) / 10 ** qd, 'taker'],
    ]);
    expect((await ex.fetchMyTrades('BTC/USDT', undefined, undefined, { orderId: o3.id })).length).toBe(2);

    // two resting orders, then cancel-all
    const a = await ex.createOrder('BTC/USDT', 'limit', 'buy', 0.001, restPx);
    const b = await ex.createOrder('BTC/USDT', 'limit', 'buy', 0.002, restPx - 1);
    expect((await ex.fetchOpenOrders('BTC/USDT')).map((o) => o.id).sort()).toEqual([a.id, b.id].sort());
    const all = await ex.cancelAllOrders('BTC/USDT');
    expect(all.map((o) => [o.id, o.status]).sort()).toEqual(
      [
        [a.id, 'canceled'],
        [b.id, 'canceled'],
      ].sort(),
    );
    expect(await ex.fetchOpenOrders('BTC/USDT')).toEqual([]);
  });

  it('USD-M: loadMarkets, fetchOrderBook, fetchBidsAsks, orders, fetchPositions, cancelAllOrders, fetchBalance', async () => {
    const ex = client('usdm', usdm);
    const markets = await ex.loadMarkets();
    expect(Object.keys(markets).sort()).toEqual(['BTC/USDT:USDT', 'ETH/USDT:USDT']);
    const ins = ub.instrument;
    const pd = ins.priceDecimals;
    const qd = ins.qtyDecimals;
    expect(markets['BTC/USDT:USDT']).toMatchObject({ id: 'BTCUSDT', linear: true, swap: true, settle: 'USDT', contractSize: 1 });
    expect(markets['BTC/USDT:USDT']!.precision.price).toBe(Number(ins.tickSize));

    const ob = await ex.fetchOrderBook('BTC/USDT:USDT', 10);
    const d = ub.depth(10);
    expect(ob.nonce).toBe(d.updateId);
    expect(ob.bids).toEqual(d.bids.map(([p, q]) => [p / 10 ** pd, q / 10 ** qd]));
    expect(ob.asks).toEqual(d.asks.map(([p, q]) => [p / 10 ** pd, q / 10 ** qd]));
    const ba = await ex.fetchBidsAsks(['BTC/USDT:USDT']);
    expect(ba['BTC/USDT:USDT']).toMatchObject({ bid: ub.bestBidPrice() / 10 ** pd, ask: ub.bestAskPrice() / 10 ** pd });

    const wallet0 = (await ex.fetchBalance())['USDT']!.total!;
    expect(wallet0).toBeGreaterThan(1000);
    expect(await ex.fetchPositions(['BTC/USDT:USDT'])).toEqual([]);

    // resting limit (notional >= 100 USDT), query, cancel
    const restPx = (ub.bestBidPrice() - 10_000) / 10 ** pd; // 1000 USDT under the best bid
    const o1 = await ex.createOrder('BTC/USDT:USDT', 'limit', 'buy', 0.002, restPx);
    expect(o1.id).toMatch(/^[0-9]+$/);
    expect(o1).toMatchObject({ status: 'open', filled: 0, amount: 0.002, price: restPx });
    expect((await ex.fetchOrder(o1.id!, 'BTC/USDT:USDT')).status).toBe('open');
    expect((await ex.fetchOpenOrders('BTC/USDT:USDT')).map((o) => o.id)).toEqual([o1.id]);
    expect(await ex.cancelOrder(o1.id!, 'BTC/USDT:USDT')).toMatchObject({ id: o1.id, status: 'canceled' });

    // market buy walks the asks; the position is what was bought at the volume-weighted price
    const dd = ub.depth(3);
    const lots = dd.asks[0]![1] + 1;
    const want = takeCost(dd.asks, Math.max(lots, 2), pd, qd);
    const amount = Math.max(lots, 2) / 10 ** qd;
    const o2 = await ex.createOrder('BTC/USDT:USDT', 'market', 'buy', amount);
    expect(o2).toMatchObject({ status: 'closed', filled: amount, remaining: 0 });
    const q2 = await ex.fetchOrder(o2.id!, 'BTC/USDT:USDT');
    expect(q2.status).toBe('closed');
    expect(q2.cost).toBeCloseTo(want, 4);
    expect(q2.average).toBeCloseTo(want / amount, 1);

    const tk = await ex.fetchTicker('BTC/USDT:USDT'); // GET /fapi/v1/ticker/24hr: our fills are the only trades
    expect(tk.baseVolume).toBeCloseTo(amount, 8);
    expect(tk.quoteVolume).toBeCloseTo(want, 4);
    expect(tk.last).toBe((amount * 10 ** qd > dd.asks[0]![1] ? dd.asks[1]![0] : dd.asks[0]![0]) / 10 ** pd);
    expect(tk.open).toBe(dd.asks[0]![0] / 10 ** pd);

    const fills = await ex.fetchMyTrades('BTC/USDT:USDT'); // GET /fapi/v1/userTrades
    expect(fills.every((t) => t.order === o2.id && t.side === 'buy')).toBe(true);
    expect(fills.reduce((a, t) => a + t.amount!, 0)).toBeCloseTo(amount, 8);
    expect((await ex.fetchOrders('BTC/USDT:USDT')).map((o) => [o.id, o.status])).toEqual([
      [o1.id, 'canceled'],
      [o2.id, 'closed'],
    ]);

    const pos = await ex.fetchPositions(['BTC/USDT:USDT']);
    expect(pos.length).toBe(1);
    expect(pos[0]).toMatchObject({ symbol: 'BTC/USDT:USDT', side: 'long', contracts: amount });
    expect(pos[0]!.entryPrice).toBeCloseTo(want / amount, 1);

    // two resting orders, cancel-all, then close the position with a reduce-only market sell
    await ex.createOrder('BTC/USDT:USDT', 'limit', 'buy', 0.002, restPx);
    await ex.createOrder('BTC/USDT:USDT', 'limit', 'sell', 0.002, (ub.bestAskPrice() + 10_000) / 10 ** pd);
    expect((await ex.fetchOpenOrders('BTC/USDT:USDT')).length).toBe(2);
    await ex.cancelAllOrders('BTC/USDT:USDT');
    expect(await ex.fetchOpenOrders('BTC/USDT:USDT')).toEqual([]);
    const close = await ex.createOrder('BTC/USDT:USDT', 'market', 'sell', amount, undefined, { reduceOnly: true });
    expect(close).toMatchObject({ status: 'closed', filled: amount, reduceOnly: true });
    expect(await ex.fetchPositions(['BTC/USDT:USDT'])).toEqual([]);
    // a second reduce-only sell has nothing to reduce: Binance's -2022
    await expect(ex.createOrder('BTC/USDT:USDT', 'market', 'sell', amount, undefined, { reduceOnly: true })).rejects.toThrow(/-2022/);
  });

  it('public trades, candles, funding, fees, status and USD-M settings (ETHUSDT, untouched until now)', async () => {
    for (const kind of ['spot', 'usdm'] as const) {
      const ex = client(kind, kind === 'spot' ? spot : usdm);
      await ex.loadMarkets();
      const S = kind === 'spot' ? 'ETH/USDT' : 'ETH/USDT:USDT';
      const book = sim.books.get(kind === 'spot' ? 'binanceSpot' : 'binanceUsdm')!.get('ETHUSDT')!;
      const pd = 10 ** book.instrument.priceDecimals;
      const qd = 10 ** book.instrument.qtyDecimals;
      expect(await ex.fetchTrades(S)).toEqual([]);
      // the market takes the best ask and half the best bid: two public trades
      const ask = book.bestAsk()!;
      const bid = book.bestBid()!;
      book.sweepSynthetic('BUY', ask.qtyLots);
      const half = Math.max(1, Math.floor(bid.qtyLots / 2));
      book.sweepSynthetic('SELL', half);
      const trades = await ex.fetchTrades(S); // aggTrades
      expect(trades.map((t) => [t.side, t.price, t.amount])).toEqual([
        ['buy', ask.priceTicks / pd, ask.qtyLots / qd],
        ['sell', bid.priceTicks / pd, half / qd],
      ]);
      const candles = await ex.fetchOHLCV(S, '1m');
      const last = candles[candles.length - 1]!;
      const vol = candles.reduce((a, c) => a + c[5]!, 0);
      expect(vol).toBeCloseTo((ask.qtyLots + half) / qd, 8);
      expect(last[4]).toBe(bid.priceTicks / pd); // close = last trade
      expect(Math.max(...candles.map((c) => c[2]!))).toBe(ask.priceTicks / pd);
      expect((await ex.fetchOHLCV(S, '1h'))[0]![5]).toBeCloseTo(vol, 8);
      await expect(ex.fetchOHLCV(S, '7m')).rejects.toThrow();
      // the simulator's fee table: the base tiers (Spot 0.1 % / 0.1 %, USD-M 0.02 % maker / 0.05 % taker)
      expect(await ex.fetchTradingFee(S)).toMatchObject(kind === 'spot' ? { maker: 0.001, taker: 0.001 } : { maker: 0.0002, taker: 0.0005 });
    }
    expect((await client('spot', spot).fetchStatus()).status).toBe('ok');

    const u = client('usdm', usdm);
    await u.loadMarkets();
    const S = 'ETH/USDT:USDT';
    const fr = await u.fetchFundingRate(S);
    const eb = sim.books.get('binanceUsdm')!.get('ETHUSDT')!;
    const epd = 10 ** eb.instrument.priceDecimals;
    expect(fr.markPrice).toBeCloseTo((eb.bestBidPrice() + eb.bestAskPrice()) / 2 / epd, 6);
    expect(fr.fundingRate).toBe(0.0001);
    expect(fr.fundingTimestamp! % 28_800_000).toBe(0); // ccxt maps nextFundingTime here
    expect(await u.fetchLeverage(S)).toMatchObject({ marginMode: 'cross', longLeverage: 20 });
    expect((await u.setLeverage(5, S))['leverage']).toBe(5);
    expect(await u.fetchLeverage(S)).toMatchObject({ longLeverage: 5 });
    await u.setMarginMode('isolated', S);
    expect(await u.fetchLeverage(S)).toMatchObject({ marginMode: 'isolated' });
    await expect(u.setMarginMode('isolated', S)).rejects.toBeInstanceOf(ccxt.MarginModeAlreadySet);
    expect(await u.fetchPositionMode(S)).toMatchObject({ hedged: false });
  });

  it('one ccxt.binance client for both venues: api/sapi hosts -> Spot base, fapi hosts -> USD-M base', async () => {
    const ex = new ccxt.binance({
      apiKey: spot.apiKey,
      secret: spot.apiSecret,
      options: { fetchMarkets: { types: ['spot', 'linear'] }, fetchCurrencies: false },
    });
    const api = ex.urls['api'] as Record<string, unknown>;
    rebase(api, spot.restBaseUrl, (k) => k !== 'ws' && !k.startsWith('fapi'));
    rebase(api, usdm.restBaseUrl, (k) => k.startsWith('fapi'));
    const markets = await ex.loadMarkets();
    expect(Object.keys(markets).sort()).toEqual(['BTC/USDT', 'BTC/USDT:USDT', 'ETH/USDT', 'ETH/USDT:USDT']);
    const px = (ub.bestBidPrice() - 20_000) / 10 ** ub.instrument.priceDecimals;
    const o = await ex.createOrder('BTC/USDT:USDT', 'limit', 'buy', 0.002, px);
    expect(ub.openOrders(sim.accounts.get(usdm.apiKey)!.id).map((x) => x.orderId)).toContain(o.id);
    expect(sb.openOrders(sim.accounts.get(spot.apiKey)!.id).map((x) => x.orderId)).not.toContain(o.id);
    expect((await ex.cancelOrder(o.id!, 'BTC/USDT:USDT')).status).toBe('canceled');
  });

  it("ccxt's time-difference handling and recvWindow against a skewed server clock", async () => {
    try {
      // server 5 s behind: a request stamped by the local clock is "ahead of the server's time"
      sim.inject({ kind: 'clockSkewMs', market: 'binanceSpot', ms: -5000 });
      // (ccxt's loadMarkets already signs GET /sapi/v1/margin/isolated/allPairs when it holds a key)
      const naive = client('spot', spot);
      await expect(naive.loadMarkets()).rejects.toBeInstanceOf(ccxt.InvalidNonce);
      await expect(naive.fetchBalance()).rejects.toBeInstanceOf(ccxt.InvalidNonce);
      const adj = client('spot', spot, { adjustForTimeDifference: true });
      // ccxt loads the time difference (GET /api/v3/time) only AFTER fetchMarkets' signed margin calls, so a spot
      // client with a key and a skewed clock must load it first (as it would have to against the real venue)
      await adj.loadTimeDifference();
      await adj.loadMarkets();
      expect(adj.options['timeDifference']).toBeGreaterThan(4000);
      expect(adj.options['timeDifference']).toBeLessThan(6000);
      expect((await adj.fetchBalance())['USDT']!.total).toBeGreaterThan(0);

      // server 20 s ahead: outside ccxt's default recvWindow (10 s), inside a 30 s one
      sim.inject({ kind: 'clockSkewMs', market: 'binanceUsdm', ms: 20_000 });
      const u = client('usdm', usdm);
      await u.loadMarkets();
      await expect(u.fetchBalance()).rejects.toBeInstanceOf(ccxt.InvalidNonce);
      const wide = client('usdm', usdm, { recvWindow: 30_000 });
      await wide.loadMarkets();
      expect((await wide.fetchBalance())['USDT']!.total).toBeGreaterThan(0);
      const uadj = client('usdm', usdm, { adjustForTimeDifference: true });
      await uadj.loadMarkets();
      expect(uadj.options['timeDifference']).toBeLessThan(-19_000);
      expect((await uadj.fetchBalance())['USDT']!.total).toBeGreaterThan(0);
    } finally {
      sim.inject({ kind: 'clockSkewMs', market: 'all', ms: 0 });
    }
  });
});
