// Bybit v5 endpoints added for third-party clients (ccxt 4.5.84): market tickers / recent-trade / kline, system
// status, coin info, API key info, account info, fee rate, set-leverage, set-margin-mode, instruments-info `status`;
// and the place / query / cancel hammer of both categories (issue 2 item 5: no 170213 right after a query).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, publicGet, signedGet, signedPost, startBybitSim, wsAuthArgs, type BybitSim } from './helpers.js';
import { InstrumentFmt } from '../../../src/sim/bybit/common.js';
import { makeInstrument } from '../../../src/sim/core/instruments.js';
import { MarketHistory, MAX_RECENT_TRADES } from '../../../src/sim/bybit/market.js';

let s: BybitSim;
const LOOSE = {
  create: { linear: 1000, spot: 1000 },
  cancel: { linear: 1000, spot: 1000 },
  cancelAll: { linear: 1000, spot: 1000 },
  amend: { linear: 1000, spot: 1000 },
  query: 5000,
};
beforeAll(async () => {
  s = await startBybitSim({ rateLimits: LOOSE });
});
afterAll(async () => {
  await s?.close();
});
const book = (cat: 'spot' | 'linear') => s.sim.books.get(cat === 'spot' ? 'bybitSpot' : 'bybitLinear')!.get('BTCUSDT')!;

describe('bybit public market endpoints', () => {
  it('tickers: best bid/ask of the book, per category; unknown symbol -> 10001', async () => {
    for (const cat of ['spot', 'linear'] as const) {
      const b = book(cat);
      const r = await publicGet(s.ep, '/v5/market/tickers', `category=${cat}&symbol=BTCUSDT`);
      expect(r.json.retCode).toBe(0);
      expect(r.json.result.category).toBe(cat);
      const t = r.json.result.list[0];
      expect(Number(t.bid1Price)).toBe(b.bestBidPrice() / 10 ** b.instrument.priceDecimals);
      expect(Number(t.ask1Price)).toBe(b.bestAskPrice() / 10 ** b.instrument.priceDecimals);
      for (const k of ['symbol', 'lastPrice', 'highPrice24h', 'lowPrice24h', 'prevPrice24h', 'volume24h', 'turnover24h', 'price24hPcnt'])
        expect(typeof t[k]).toBe('string');
      if (cat === 'linear') for (const k of ['markPrice', 'indexPrice', 'fundingRate', 'nextFundingTime', 'openInterest']) expect(typeof t[k]).toBe('string');
      const all = await publicGet(s.ep, '/v5/market/tickers', `category=${cat}`);
      expect(all.json.result.list.map((x: { symbol: string }) => x.symbol).sort()).toEqual(['BTCUSDT', 'ETHUSDT']);
    }
    expect((await publicGet(s.ep, '/v5/market/tickers', 'category=linear&symbol=NOPEUSDT')).json.retCode).toBe(10001);
    expect((await publicGet(s.ep, '/v5/market/tickers', 'category=option')).json.retCode).toBe(10001);
  });

  it('recent-trade and kline follow the trades of the book; status filter of instruments-info; system status', async () => {
    const b = book('linear');
    const ask = b.bestAskPrice();
    const r = b.submit({ accountId: 'other', clientOrderId: 'x1', side: 'BUY', type: 'MARKET', tif: 'IOC', priceTicks: 0, qtyLots: 1, reduceOnly: false });
    expect(r.ok).toBe(true);
    const tr = await publicGet(s.ep, '/v5/market/recent-trade', 'category=linear&symbol=BTCUSDT&limit=1');
    expect(tr.json.retCode).toBe(0);
    const t = tr.json.result.list[0];
    expect(t).toMatchObject({ symbol: 'BTCUSDT', side: 'Buy', price: expect.any(String), isBlockTrade: false });
    expect(Number(t.price)).toBe(ask / 10 ** b.instrument.priceDecimals);
    expect(t.execId).toMatch(/^[0-9a-f-]{36}$/);
    const k = await publicGet(s.ep, '/v5/market/kline', 'category=linear&symbol=BTCUSDT&interval=1&limit=5');
    expect(k.json.retCode).toBe(0);
    expect(k.json.result).toMatchObject({ category: 'linear', symbol: 'BTCUSDT' });
    const row = k.json.result.list[0] as string[];
    expect(row.length).toBe(7);
    expect(Number(row[4])).toBe(Number(t.price)); // close = last trade
    expect((await publicGet(s.ep, '/v5/market/kline', 'category=linear&symbol=BTCUSDT&interval=7')).json.retCode).toBe(10001);

    const pre = await publicGet(s.ep, '/v5/market/instruments-info', 'category=linear&status=PreLaunch');
    expect(pre.json.result.list).toEqual([]);
    const trading = await publicGet(s.ep, '/v5/market/instruments-info', 'category=spot&status=Trading');
    expect(trading.json.result.list.length).toBe(2);
    const st = await publicGet(s.ep, '/v5/system/status');
    expect(st.json).toMatchObject({ retCode: 0, result: { list: [] } });
  });
});

describe('MarketHistory (recent-trade ring, kline buckets)', () => {
  it('keeps the newest trades across the ring wrap and aggregates one-minute candles into intervals', () => {
    const ins = makeInstrument('bybitLinear', 'XYZUSDT', { tickSize: '0.1', stepSize: '1', minQty: '1', minNotional: '0', initialPrice: '100.0' });
    const h = new MarketHistory('linear', new InstrumentFmt(ins, 'linear'));
    const T0 = 1_800_000_000_000 - (1_800_000_000_000 % 300_000); // a 5-minute boundary
    const n = MAX_RECENT_TRADES + 5;
    for (let i = 1; i <= n; i++) h.onTrade({ tradeId: i, priceTicks: 1000 + (i % 7), qtyLots: 1, takerSide: 'BUY', timeMs: T0 + i * 1000 });
    expect(h.recent(3).map((t) => t.tradeId)).toEqual([n, n - 1, n - 2]);
    expect(h.recent(5000).length).toBe(MAX_RECENT_TRADES);
    const rows = h.klines(300_000, undefined, undefined, T0 + n * 1000, 1000).map((r) => JSON.parse(r) as string[]);
    // newest first; volumes add up to every trade
    expect(rows.map((r) => Number(r[0]))).toEqual([...rows.map((r) => Number(r[0]))].sort((a, b) => b - a));
    expect(rows.reduce((v, r) => v + Number(r[5]), 0)).toBe(n);
    expect(Number(rows[rows.length - 1]![0])).toBe(T0);
  });
});

describe('bybit account endpoints', () => {
  it('are signed: no key -> 10003, tampered -> 10004', async () => {
    for (const p of ['/v5/user/query-api', '/v5/account/info', '/v5/asset/coin/query-info', '/v5/account/fee-rate']) {
      expect((await publicGet(s.ep, p, 'category=linear')).json.retCode).toBe(10003);
      expect((await signedGet(s.ep, p, 'category=linear', { tamper: true })).json.retCode).toBe(10004);
    }
  });

  it('query-api says UTA, account info, coin info, fee rate', async () => {
    const k = await signedGet(s.ep, '/v5/user/query-api', '');
    expect(k.json.retCode).toBe(0);
    expect(k.json.result).toMatchObject({ apiKey: s.ep.apiKey, readOnly: 0, uta: 1, unified: 0 });
    const a = await signedGet(s.ep, '/v5/account/info', '');
    expect(a.json.result).toMatchObject({ unifiedMarginStatus: 6, marginMode: 'REGULAR_MARGIN' });
    const c = await signedGet(s.ep, '/v5/asset/coin/query-info', 'coin=USDT');
    expect(c.json.result.rows.map((r: { coin: string }) => r.coin)).toEqual(['USDT']);
    expect(c.json.result.rows[0].chains[0]).toMatchObject({ chainDeposit: '1', chainWithdraw: '1' });
    const f = await signedGet(s.ep, '/v5/account/fee-rate', 'category=spot&symbol=BTCUSDT');
    expect(f.json.result.list).toEqual([{ symbol: 'BTCUSDT', baseCoin: '', takerFeeRate: expect.any(String), makerFeeRate: expect.any(String) }]);
  });

  it('set-leverage shows in position/list; same value -> 110043; set-margin-mode shows in account info', async () => {
    const ok = await signedPost(s.ep, '/v5/position/set-leverage', { category: 'linear', symbol: 'BTCUSDT', buyLeverage: '7', sellLeverage: '7' });
    expect(ok.json.retCode).toBe(0);
    const pos = await signedGet(s.ep, '/v5/position/list', 'category=linear&symbol=BTCUSDT');
    expect(pos.json.result.list[0].leverage).toBe('7');
    const again = await signedPost(s.ep, '/v5/position/set-leverage', { category: 'linear', symbol: 'BTCUSDT', buyLeverage: '7', sellLeverage: '7' });
    expect(again.json.retCode).toBe(110043);
    const bad = await signedPost(s.ep, '/v5/position/set-leverage', { category: 'linear', symbol: 'BTCUSDT', buyLeverage: '500', sellLeverage: '500' });
    expect(bad.json.retCode).toBe(10001);
    const mm = await signedPost(s.ep, '/v5/account/set-margin-mode', { setMarginMode: 'ISOLATED_MARGIN' });
    expect(mm.json).toMatchObject({ retCode: 0, result: { reasons: [] } });
    expect((await signedGet(s.ep, '/v5/account/info', '')).json.result.marginMode).toBe('ISOLATED_MARGIN');
    expect((await signedPost(s.ep, '/v5/account/set-margin-mode', { setMarginMode: 'X' })).json.retCode).toBe(10001);
    await signedPost(s.ep, '/v5/account/set-margin-mode', { setMarginMode: 'REGULAR_MARGIN' });
  });
});

describe('place / query / cancel hammer (item 5)', () => {
  it('spot and linear: every cancel right after an open-orders query succeeds', async () => {
    for (const cat of ['spot', 'linear'] as const) {
      const b = book(cat);
      const pd = b.instrument.priceDecimals;
      const px = ((b.bestBidPrice() - 1000 * 10 ** pd) / 10 ** pd).toFixed(pd);
      for (let i = 0; i < 25; i++) {
        const link = `hammer-${cat}-${i}`;
        const c = await signedPost(s.ep, '/v5/order/create', {
          category: cat,
          symbol: 'BTCUSDT',
          side: 'Buy',
          orderType: 'Limit',
          qty: cat === 'spot' ? '0.001' : '0.01',
          price: px,
          orderLinkId: link,
        });
        expect(c.json.retCode, JSON.stringify(c.json)).toBe(0);
        const id = c.json.result.orderId as string;
        const open = await signedGet(s.ep, '/v5/order/realtime', `category=${cat}&symbol=BTCUSDT`);
        expect(open.json.result.list.map((o: { orderId: string }) => o.orderId)).toContain(id);
        // alternate by id and by link id; queries in parallel with the cancel too
        const [cx] = await Promise.all([
          signedPost(
            s.ep,
            '/v5/order/cancel',
            i % 2 === 0 ? { category: cat, symbol: 'BTCUSDT', orderId: id } : { category: cat, symbol: 'BTCUSDT', orderLinkId: link },
          ),
          signedGet(s.ep, '/v5/order/realtime', `category=${cat}&symbol=BTCUSDT`),
        ]);
        expect(cx.json.retCode, JSON.stringify(cx.json)).toBe(0);
        expect(cx.json.result).toEqual({ orderId: id, orderLinkId: link });
        const gone = await signedGet(s.ep, '/v5/order/realtime', `category=${cat}&symbol=BTCUSDT&orderId=${id}`);
        expect(gone.json.result.list[0].orderStatus).toBe('Cancelled');
        const twice = await signedPost(s.ep, '/v5/order/cancel', { category: cat, symbol: 'BTCUSDT', orderId: id });
        expect(twice.json.retCode).toBe(cat === 'spot' ? 170213 : 110001);
      }
    }
  });

  it('trade WS create / REST realtime / trade WS cancel, both categories', async () => {
    const c = await Client.open(s.ep.wsApiUrl);
    try {
      c.send({ op: 'auth', args: wsAuthArgs(s.ep) });
      await c.waitFor((f) => f.op === 'auth' && f.retCode === 0);
      let n = 0;
      const call = async (op: string, arg: Record<string, string>): Promise<any> => {
        const reqId = `h-${++n}`;
        c.send({ reqId, header: { 'X-BAPI-TIMESTAMP': String(Date.now()), 'X-BAPI-RECV-WINDOW': '5000' }, op, args: [arg] });
        return c.waitFor((f) => f.reqId === reqId);
      };
      for (const cat of ['spot', 'linear'] as const) {
        const b = book(cat);
        const pd = b.instrument.priceDecimals;
        const px = ((b.bestBidPrice() - 1000 * 10 ** pd) / 10 ** pd).toFixed(pd);
        for (let i = 0; i < 15; i++) {
          const cr = await call('order.create', {
            category: cat,
            symbol: 'BTCUSDT',
            side: 'Buy',
            orderType: 'Limit',
            qty: cat === 'spot' ? '0.001' : '0.01',
            price: px,
            orderLinkId: `wsh-${cat}-${i}`,
          });
          expect(cr.retCode, JSON.stringify(cr)).toBe(0);
          const id = cr.data.orderId as string;
          const open = await signedGet(s.ep, '/v5/order/realtime', `category=${cat}&symbol=BTCUSDT`);
          expect(open.json.result.list.map((o: { orderId: string }) => o.orderId)).toContain(id);
          const cx = await call(
            'order.cancel',
            i % 2 ? { category: cat, symbol: 'BTCUSDT', orderId: id } : { category: cat, symbol: 'BTCUSDT', orderLinkId: `wsh-${cat}-${i}` },
          );
          expect(cx.retCode, JSON.stringify(cx)).toBe(0);
          expect(cx.data.orderId).toBe(id);
        }
      }
    } finally {
      c.close();
    }
  });
});
