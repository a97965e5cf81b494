/**
 * Bybit's price limits and the linear priceFilter, over real sockets (REST and the trade WS). The limits are derived
 * here from what instruments-info publishes (`riskParameters.priceLimitRatioX`, the tick size) and the book's mid
 * (the simulator's index and mark price; the generator is manual, so the book stands still): a buy one tick above
 * the maximum and a sell one tick below the minimum are refused with Bybit's code and exact text, the limit itself
 * is accepted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, publicGet, signedPost, startBybitSim, wsAuthArgs, type BybitSim } from './helpers.js';

let s: BybitSim;
beforeAll(async () => {
  s = await startBybitSim();
});
afterAll(async () => {
  await s?.close();
});

type Cat = 'spot' | 'linear';
let n = 0;
const link = (p: string) => `${p}-${Date.now().toString(36)}-${++n}`;

/** the instrument as instruments-info publishes it */
async function info(category: Cat): Promise<{ tick: string; x: number; y: number; minPrice?: string; maxPrice?: string }> {
  const r = await publicGet(s.ep, '/v5/market/instruments-info', `category=${category}&symbol=BTCUSDT`);
  const it = r.json.result.list[0];
  return {
    tick: it.priceFilter.tickSize,
    x: Number(it.riskParameters.priceLimitRatioX),
    y: Number(it.riskParameters.priceLimitRatioY),
    ...(it.priceFilter.maxPrice !== undefined ? { minPrice: it.priceFilter.minPrice, maxPrice: it.priceFilter.maxPrice } : {}),
  };
}

/** max buy / min sell as Bybit documents them, index = mark = mid, in integer price units of the tick's decimals */
async function limits(category: Cat) {
  const i = await info(category);
  const dec = i.tick.includes('.') ? i.tick.split('.')[1]!.length : 0;
  const mul = 10 ** dec;
  const tick = Math.round(Number(i.tick) * mul);
  const b = s.sim.books.get(category === 'spot' ? 'bybitSpot' : 'bybitLinear')!.get('BTCUSDT')!;
  const pd = b.instrument.priceDecimals;
  // book units -> tick-decimal units
  const toUnits = (t: number) => (t * mul) / 10 ** pd;
  const mid = (toUnits(b.bestBid()!.priceTicks) + toUnits(b.bestAsk()!.priceTicks)) / 2;
  const hi = Math.min(Math.max(mid, mid * (1 + i.x)), mid * (1 + i.y));
  const lo = Math.max(Math.min(mid, mid * (1 - i.x)), mid * (1 - i.y));
  const maxBuy = Math.floor(hi / tick + 1e-9) * tick;
  const minSell = Math.ceil(lo / tick - 1e-9) * tick;
  // linear prints priceScale decimals, spot trims trailing zeros
  const fmt = (u: number) => {
    const t = (u / mul).toFixed(dec);
    return category === 'linear' ? t : t.includes('.') ? t.replace(/\.?0+$/, '') : t;
  };
  return { i, tick, maxBuy, minSell, fmt, mul };
}

const order = (category: Cat, side: 'Buy' | 'Sell', price: string, extra: Record<string, unknown> = {}) => ({
  category,
  symbol: 'BTCUSDT',
  side,
  orderType: 'Limit',
  qty: category === 'spot' ? '0.001' : '0.010',
  price,
  timeInForce: 'IOC',
  orderLinkId: link('pl'),
  ...extra,
});

describe('Bybit price limits', () => {
  it('instruments-info publishes the band ratios (linear 1% / 2%, spot 0.5% / 1%) and the linear min/max price', async () => {
    const l = await info('linear');
    const sp = await info('spot');
    expect([l.x, l.y, sp.x, sp.y]).toEqual([0.01, 0.02, 0.005, 0.01]);
    expect(l.minPrice).toBe(l.tick);
    expect(Number(l.maxPrice)).toBeGreaterThan(1_000_000);
    expect(sp.maxPrice).toBeUndefined(); // spot priceFilter has tickSize only
  });

  it('spot: 170193 / 170194 with the limit in the text; orders at the limits are accepted', async () => {
    const { tick, maxBuy, minSell, fmt } = await limits('spot');
    const over = await signedPost(s.ep, '/v5/order/create', order('spot', 'Buy', fmt(maxBuy + tick)));
    expect([over.json.retCode, over.json.retMsg]).toEqual([170193, `Buy order price cannot be higher than ${fmt(maxBuy)}.`]);
    const under = await signedPost(s.ep, '/v5/order/create', order('spot', 'Sell', fmt(minSell - tick)));
    expect([under.json.retCode, under.json.retMsg]).toEqual([170194, `Sell order price cannot be lower than ${fmt(minSell)}.`]);
    for (const side of ['Buy', 'Sell'] as const) {
      const l = await limits('spot'); // afresh: a fill of the previous order may have moved the mid
      const ok = await signedPost(s.ep, '/v5/order/create', order('spot', side, l.fmt(side === 'Buy' ? l.maxBuy : l.minSell)));
      expect([side, ok.json.retCode, ok.json.retMsg]).toEqual([side, 0, 'OK']);
    }
    // far from the market on the passive side is no limit: a buy far below, a sell far above
    const passive = await signedPost(s.ep, '/v5/order/create', order('spot', 'Buy', fmt(Math.floor(minSell / 2 / tick) * tick), { timeInForce: 'GTC' }));
    expect(passive.json.retCode).toBe(0);
    // an amend above the limit is refused the same way
    const am = await signedPost(s.ep, '/v5/order/amend', {
      category: 'spot',
      symbol: 'BTCUSDT',
      orderId: passive.json.result.orderId,
      price: fmt(maxBuy + tick),
    });
    expect([am.json.retCode, am.json.retMsg]).toEqual([170193, `Buy order price cannot be higher than ${fmt(maxBuy)}.`]);
    await signedPost(s.ep, '/v5/order/cancel', { category: 'spot', symbol: 'BTCUSDT', orderId: passive.json.result.orderId });
  });

  it('linear: 110003 outside the limits and outside priceFilter min/max; orders at the limits are accepted', async () => {
    const { i, tick, maxBuy, minSell, fmt, mul } = await limits('linear');
    const refused = [
      order('linear', 'Buy', fmt(maxBuy + tick)),
      order('linear', 'Sell', fmt(minSell - tick)),
      order('linear', 'Sell', fmt(Number(i.maxPrice) * mul + tick), { timeInForce: 'GTC' }),
    ];
    for (const body of refused) {
      const r = await signedPost(s.ep, '/v5/order/create', body);
      expect([body.side, body.price, r.json.retCode, r.json.retMsg]).toEqual([body.side, body.price, 110003, 'Order price is out of permissible range']);
    }
    for (const side of ['Buy', 'Sell'] as const) {
      const l = await limits('linear'); // afresh: a fill of the previous order may have moved the mid
      const body = order('linear', side, l.fmt(side === 'Buy' ? l.maxBuy : l.minSell));
      const r = await signedPost(s.ep, '/v5/order/create', body);
      expect([body.side, body.price, r.json.retCode]).toEqual([body.side, body.price, 0]);
    }
    const top = await signedPost(s.ep, '/v5/order/create', order('linear', 'Sell', i.maxPrice!, { timeInForce: 'GTC' }));
    expect(top.json.retCode).toBe(0);
    await signedPost(s.ep, '/v5/order/cancel-all', { category: 'linear', symbol: 'BTCUSDT' });
  });

  it('the trade WS answers the same codes and texts', async () => {
    const sp = await limits('spot');
    const li = await limits('linear');
    const c = await Client.open(s.ep.wsApiUrl);
    try {
      c.send({ op: 'auth', args: wsAuthArgs(s.ep) });
      expect((await c.waitFor((f) => f.op === 'auth')).retCode).toBe(0);
      const cases: Array<[Record<string, unknown>, number, string]> = [
        [order('spot', 'Buy', sp.fmt(sp.maxBuy + sp.tick)), 170193, `Buy order price cannot be higher than ${sp.fmt(sp.maxBuy)}.`],
        [order('spot', 'Sell', sp.fmt(sp.minSell - sp.tick)), 170194, `Sell order price cannot be lower than ${sp.fmt(sp.minSell)}.`],
        [order('linear', 'Buy', li.fmt(li.maxBuy + li.tick)), 110003, 'Order price is out of permissible range'],
        [order('linear', 'Sell', li.fmt(li.minSell + li.tick)), 0, 'OK'],
      ];
      for (const [arg, code, msg] of cases) {
        const reqId = link('rq');
        c.send({ reqId, header: { 'X-BAPI-TIMESTAMP': String(Date.now()), 'X-BAPI-RECV-WINDOW': '5000' }, op: 'order.create', args: [arg] });
        const r = await c.waitFor((f) => f.reqId === reqId);
        expect([arg['price'], r.retCode, r.retMsg]).toEqual([arg['price'], code, msg]);
      }
    } finally {
      c.close();
    }
  });
});
