/**
 * Fees (issue 13): the simulator charges its fee table on every fill, in the real commission assets, and every place
 * the venue reports a fee agrees with the others and with the balances.
 * - Binance Spot: a buy pays in the base asset, a sell in the quote; with the account's BNB discount on
 *   (`POST /sapi/v1/bnbBurn`, shown by `GET /api/v3/account/commission`) in BNB at 75 % of the rate.
 * - Binance USD-M: in USDT; with `feeBurn` on, in BNB at 90 % of the rate.
 * - Bybit: spot buy in the base coin, sell in the quote, linear in USDT; a negative (maker rebate) rate gives a
 *   negative execFee and a growing wallet.
 * Real sockets against the simulator (REST, WS API, private streams).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSim, type SimHandle } from '../../../src/sim/index.js';
import type { SimVenueEndpoints } from '../../../src/sim/core/types.js';
import { connect, rest, wsSigned } from '../binance/helpers.js';
import { Client, signedGet, signedPost, wsAuthArgs } from '../bybit/helpers.js';

type Fill = { price: string; qty: string; commission: string; commissionAsset: string; tradeId: number };
type Trade = { id: number; price: string; qty: string; quoteQty: string; commission: string; commissionAsset: string };
const r8 = (x: number): number => Math.round(x * 1e8) / 1e8;

describe('fees in the real commission assets', () => {
  let sim: SimHandle;
  let spot: SimVenueEndpoints;
  let usdm: SimVenueEndpoints;
  let bybit: SimVenueEndpoints;
  beforeAll(async () => {
    sim = await startSim({ venues: ['binanceSpot', 'binanceUsdm', 'bybit'], generatorMode: 'manual', symbols: ['BTCUSDT'], depthIntervalMs: 0, seed: 11 });
    spot = sim.endpoints.binanceSpot!;
    usdm = sim.endpoints.binanceUsdm!;
    bybit = sim.endpoints.bybit!;
  });
  afterAll(async () => sim?.close());

  const spotBal = async (asset: string): Promise<number> => {
    const a = (await rest(spot, 'GET', '/api/v3/account', {}, { signed: true })).json as { balances: Array<{ asset: string; free: string; locked: string }> };
    const b = a.balances.find((x) => x.asset === asset);
    return b ? Number(b.free) + Number(b.locked) : 0;
  };
  const usdmBal = async (asset: string): Promise<number> => {
    const rows = (await rest(usdm, 'GET', '/fapi/v2/balance', {}, { signed: true })).json as Array<{ asset: string; balance: string }>;
    return Number(rows.find((r) => r.asset === asset)?.balance ?? 0);
  };
  const bybitBal = async (coin: string): Promise<number> => {
    const r = await signedGet(bybit, '/v5/account/wallet-balance', `accountType=UNIFIED&coin=${coin}`);
    return Number((r.json.result.list[0].coin[0] as { walletBalance: string }).walletBalance);
  };

  it('Binance Spot: a buy pays in the base asset, a sell in the quote; FULL fills, executionReport, myTrades and the balances agree', async () => {
    const api = await connect(spot.wsApiUrl);
    try {
      api.send({ id: 1, method: 'userDataStream.subscribe.signature', params: wsSigned(spot, {}) });
      await api.next((j) => j.id === 1 && j.status === 200);
      // the account shows the fee table (Binance's base tier; makerCommission in units of 0.01 %)
      const acct = (await rest(spot, 'GET', '/api/v3/account', {}, { signed: true })).json as Record<string, unknown>;
      expect(acct).toMatchObject({ makerCommission: 10, takerCommission: 10, commissionRates: { maker: '0.00100000', taker: '0.00100000' } });
      for (const side of ['BUY', 'SELL'] as const) {
        const base0 = await spotBal('BTC');
        const quote0 = await spotBal('USDT');
        const r = await rest(
          spot,
          'POST',
          '/api/v3/order',
          { symbol: 'BTCUSDT', side, type: 'MARKET', quantity: '0.02', newOrderRespType: 'FULL' },
          { signed: true },
        );
        expect(r.status, r.text).toBe(200);
        const o = r.json as { orderId: number; cummulativeQuoteQty: string; fills: Fill[] };
        expect(o.fills.length).toBeGreaterThan(0);
        const asset = side === 'BUY' ? 'BTC' : 'USDT';
        let fee = 0;
        for (const f of o.fills) {
          expect(f.commissionAsset).toBe(asset);
          // taker 0.1 % of what the fill delivers: base quantity on a buy, quote amount on a sell
          expect(Number(f.commission)).toBeCloseTo(r8((side === 'BUY' ? Number(f.qty) : Number(f.qty) * Number(f.price)) * 0.001), 8);
          fee += Number(f.commission);
        }
        // the private stream reports each fill's commission (n) and asset (N) as the order answer did
        for (const f of o.fills) {
          const er = await api.next<{ event: { n: string; N: string } }>((j) => j.event?.e === 'executionReport' && j.event.t === f.tradeId);
          expect([er.event.n, er.event.N]).toEqual([f.commission, f.commissionAsset]);
        }
        // the trade history too
        const trades = (await rest(spot, 'GET', '/api/v3/myTrades', { symbol: 'BTCUSDT', orderId: o.orderId }, { signed: true })).json as Trade[];
        expect(trades.map((t) => [t.id, t.commission, t.commissionAsset])).toEqual(o.fills.map((f) => [f.tradeId, f.commission, f.commissionAsset]));
        // the balances moved by the fills, net of the fee
        const quote = Number(o.cummulativeQuoteQty);
        if (side === 'BUY') {
          expect(await spotBal('BTC')).toBeCloseTo(base0 + 0.02 - fee, 8);
          expect(await spotBal('USDT')).toBeCloseTo(quote0 - quote, 6);
        } else {
          expect(await spotBal('BTC')).toBeCloseTo(base0 - 0.02, 8);
          expect(await spotBal('USDT')).toBeCloseTo(quote0 + quote - fee, 6);
        }
      }
    } finally {
      api.close();
    }
  });

  it('Binance Spot with the BNB discount on: fees in BNB at 75 % of the rate; outboundAccountPosition moves BNB', async () => {
    const burn = async (): Promise<unknown> => (await rest(spot, 'GET', '/sapi/v1/bnbBurn', {}, { signed: true })).json;
    const discount = async (): Promise<unknown> =>
      ((await rest(spot, 'GET', '/api/v3/account/commission', { symbol: 'BTCUSDT' }, { signed: true })).json as { discount: unknown }).discount;
    expect(await burn()).toEqual({ spotBNBBurn: false, interestBNBBurn: false });
    expect(await discount()).toMatchObject({ enabledForAccount: false, discountAsset: 'BNB', discount: '0.75000000' });
    // whole or nothing: a bad value changes nothing
    expect((await rest(spot, 'POST', '/sapi/v1/bnbBurn', { spotBNBBurn: 'yes' }, { signed: true })).status).toBe(400);
    expect(await burn()).toEqual({ spotBNBBurn: false, interestBNBBurn: false });
    expect((await rest(spot, 'POST', '/sapi/v1/bnbBurn', { spotBNBBurn: 'true' }, { signed: true })).json).toEqual({
      spotBNBBurn: true,
      interestBNBBurn: false,
    });
    expect(await discount()).toMatchObject({ enabledForAccount: true });
    const api = await connect(spot.wsApiUrl);
    try {
      api.send({ id: 1, method: 'userDataStream.subscribe.signature', params: wsSigned(spot, {}) });
      await api.next((j) => j.id === 1 && j.status === 200);
      const btc0 = await spotBal('BTC');
      const bnb0 = await spotBal('BNB');
      const r = await rest(
        spot,
        'POST',
        '/api/v3/order',
        { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.02', newOrderRespType: 'FULL' },
        { signed: true },
      );
      const o = r.json as { fills: Fill[] };
      let fee = 0;
      for (const f of o.fills) {
        expect(f.commissionAsset).toBe('BNB');
        // no BNBUSDT book in this simulator: BNB is valued at the configured price (default 600 USDT)
        expect(Number(f.commission)).toBeCloseTo(r8((Number(f.qty) * Number(f.price) * 0.001 * 0.75) / 600), 8);
        fee += Number(f.commission);
      }
      expect(fee).toBeGreaterThan(0);
      // the whole quantity arrives; the fee leaves the BNB balance
      expect(await spotBal('BTC')).toBeCloseTo(btc0 + 0.02, 8);
      expect(await spotBal('BNB')).toBeCloseTo(bnb0 - fee, 8);
      const pos = await api.next<{ event: { B: Array<{ a: string; f: string }> } }>(
        (j) => j.event?.e === 'outboundAccountPosition' && j.event.B.some((b: { a: string }) => b.a === 'BNB'),
      );
      expect(Number(pos.event.B.find((b) => b.a === 'BNB')!.f)).toBeCloseTo(bnb0 - fee, 8);
    } finally {
      api.close();
      await rest(spot, 'POST', '/sapi/v1/bnbBurn', { spotBNBBurn: 'false' }, { signed: true });
    }
  });

  it('Binance USD-M: fees in USDT at the taker rate, in BNB (90 %) with feeBurn on; commissionRate and userTrades agree', async () => {
    const cr = (await rest(usdm, 'GET', '/fapi/v1/commissionRate', { symbol: 'BTCUSDT' }, { signed: true })).json;
    expect(cr).toMatchObject({ symbol: 'BTCUSDT', makerCommissionRate: '0.0002', takerCommissionRate: '0.0005' });
    for (const burnOn of [false, true]) {
      if (burnOn) {
        expect((await rest(usdm, 'POST', '/fapi/v1/feeBurn', { feeBurn: 'true' }, { signed: true })).status).toBe(200);
        expect((await rest(usdm, 'GET', '/fapi/v1/feeBurn', {}, { signed: true })).json).toEqual({ feeBurn: true });
      }
      const usdt0 = await usdmBal('USDT');
      const bnb0 = await usdmBal('BNB');
      const r = await rest(usdm, 'POST', '/fapi/v1/order', { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.010' }, { signed: true });
      expect(r.status, r.text).toBe(200);
      const orderId = /"orderId":(\d+)/.exec(r.text)![1]!; // above 2^53: read as text, not as a JSON number
      const trades = (await rest(usdm, 'GET', '/fapi/v1/userTrades', { symbol: 'BTCUSDT', orderId }, { signed: true })).json as Trade[];
      expect(trades.length).toBeGreaterThan(0);
      let fee = 0;
      for (const t of trades) {
        const notional = Number(t.qty) * Number(t.price);
        expect(t.commissionAsset).toBe(burnOn ? 'BNB' : 'USDT');
        expect(Number(t.commission)).toBeCloseTo(r8(burnOn ? (notional * 0.0005 * 0.9) / 600 : notional * 0.0005), 8);
        fee += Number(t.commission);
      }
      // opening a position realizes nothing: the wallet moves by the fee alone
      expect(await usdmBal(burnOn ? 'BNB' : 'USDT')).toBeCloseTo((burnOn ? bnb0 : usdt0) - fee, 8);
      if (burnOn) expect(await usdmBal('USDT')).toBeCloseTo(usdt0, 8);
    }
    await rest(usdm, 'POST', '/fapi/v1/feeBurn', { feeBurn: 'false' }, { signed: true });
  });

  it('Bybit: spot buy in the base coin, spot sell in the quote, linear in USDT; execution stream, execution list and wallet agree', async () => {
    const fr = await signedGet(bybit, '/v5/account/fee-rate', 'category=linear&symbol=BTCUSDT');
    expect(fr.json.result.list).toEqual([{ symbol: 'BTCUSDT', baseCoin: '', takerFeeRate: '0.00055', makerFeeRate: '0.0002' }]);
    const c = await Client.open(bybit.wsPrivateUrl!);
    try {
      c.send({ op: 'auth', args: wsAuthArgs(bybit) });
      await c.waitFor((f) => f.op === 'auth' && f.success === true);
      c.send({ op: 'subscribe', args: ['execution'] });
      await c.waitFor((f) => f.op === 'subscribe');
      const cases = [
        { category: 'spot', side: 'Buy', qty: '0.02', coin: 'BTC', rate: 0.001 },
        { category: 'spot', side: 'Sell', qty: '0.02', coin: 'USDT', rate: 0.001 },
        { category: 'linear', side: 'Buy', qty: '0.010', coin: 'USDT', rate: 0.00055 },
      ] as const;
      for (const k of cases) {
        const b0 = { BTC: await bybitBal('BTC'), USDT: await bybitBal('USDT') };
        const link = `fee-${k.category}-${k.side}`;
        const r = await signedPost(bybit, '/v5/order/create', {
          category: k.category,
          symbol: 'BTCUSDT',
          side: k.side,
          orderType: 'Market',
          qty: k.qty,
          orderLinkId: link,
          ...(k.category === 'spot' ? { marketUnit: 'baseCoin' } : {}),
        });
        expect(r.json.retCode, JSON.stringify(r.json)).toBe(0);
        const list = await signedGet(bybit, '/v5/execution/list', `category=${k.category}&symbol=BTCUSDT&orderId=${r.json.result.orderId}`);
        const execs = list.json.result.list as Array<{
          execId: string;
          execFee: string;
          feeCurrency: string;
          feeRate: string;
          execQty: string;
          execValue: string;
        }>;
        expect(execs.length).toBeGreaterThan(0);
        let fee = 0;
        let value = 0;
        for (const e of execs) {
          expect([e.feeCurrency, e.feeRate]).toEqual([k.coin, String(k.rate)]);
          const on = k.category === 'spot' && k.side === 'Buy' ? Number(e.execQty) : Number(e.execValue);
          expect(Number(e.execFee)).toBeCloseTo(r8(on * k.rate), 8);
          fee += Number(e.execFee);
          value += Number(e.execValue);
          // the execution push says the same
          const push = await c.waitFor((f) => f.topic === 'execution' && f.data.some((x: { execId: string }) => x.execId === e.execId));
          const x = push.data.find((y: { execId: string }) => y.execId === e.execId) as { execFee: string; feeCurrency: string };
          expect([x.execFee, x.feeCurrency]).toEqual([e.execFee, e.feeCurrency]);
        }
        const b1 = { BTC: await bybitBal('BTC'), USDT: await bybitBal('USDT') };
        if (k.category === 'spot' && k.side === 'Buy') {
          expect(b1.BTC).toBeCloseTo(b0.BTC + 0.02 - fee, 8);
          expect(b1.USDT).toBeCloseTo(b0.USDT - value, 6);
        } else if (k.category === 'spot') {
          expect(b1.BTC).toBeCloseTo(b0.BTC - 0.02, 8);
          expect(b1.USDT).toBeCloseTo(b0.USDT + value - fee, 6);
        } else {
          expect(b1.BTC).toBeCloseTo(b0.BTC, 8);
          expect(b1.USDT).toBeCloseTo(b0.USDT - fee, 6); // opening: only the fee
        }
        // the order's cumulative fee (cumFeeDetail) is the sum of its executions'
        const ord = await signedGet(bybit, '/v5/order/history', `category=${k.category}&orderLinkId=${link}`);
        const item = ord.json.result.list[0] as { cumFeeDetail: Record<string, string> };
        expect(Number(item.cumFeeDetail[k.coin])).toBeCloseTo(fee, 8);
      }
    } finally {
      c.close();
    }
  });
});

describe('the fee table is configurable', () => {
  it('a negative Bybit maker rate is a rebate: negative execFee, the wallet grows; fee-rate shows it', async () => {
    const sim = await startSim({
      venues: ['bybit'],
      generatorMode: 'manual',
      symbols: ['BTCUSDT'],
      depthIntervalMs: 0,
      seed: 12,
      fees: { rates: { bybitLinear: { maker: -0.0001 } } },
    });
    try {
      const ep = sim.endpoints.bybit!;
      const fr = await signedGet(ep, '/v5/account/fee-rate', 'category=linear&symbol=BTCUSDT');
      expect(fr.json.result.list[0]).toMatchObject({ makerFeeRate: '-0.0001', takerFeeRate: '0.00055' });
      const book = sim.books.get('bybitLinear')!.get('BTCUSDT')!;
      const pd = 10 ** book.instrument.priceDecimals;
      const px = book.bestBidPrice() / pd;
      const usdt0 = Number((await signedGet(ep, '/v5/account/wallet-balance', 'accountType=UNIFIED&coin=USDT')).json.result.list[0].coin[0].walletBalance);
      const r = await signedPost(ep, '/v5/order/create', {
        category: 'linear',
        symbol: 'BTCUSDT',
        side: 'Buy',
        orderType: 'Limit',
        qty: '0.010',
        price: String(px),
        orderLinkId: 'rebate-1',
      });
      expect(r.json.retCode, JSON.stringify(r.json)).toBe(0);
      // a counterparty sells into the book: our resting bid fills as the maker
      const t = book.submit({
        accountId: 'other',
        clientOrderId: 'x',
        side: 'SELL',
        type: 'MARKET',
        tif: 'IOC',
        priceTicks: 0,
        qtyLots: book.bestBidQty(),
        reduceOnly: false,
      });
      expect(t.ok).toBe(true);
      const list = await signedGet(ep, '/v5/execution/list', `category=linear&symbol=BTCUSDT&orderId=${r.json.result.orderId}`);
      const execs = list.json.result.list as Array<{ execFee: string; execValue: string; isMaker: boolean }>;
      expect(execs.length).toBeGreaterThan(0);
      let fee = 0;
      for (const e of execs) {
        expect(e.isMaker).toBe(true);
        expect(Number(e.execFee)).toBeCloseTo(r8(Number(e.execValue) * -0.0001), 8);
        fee += Number(e.execFee);
      }
      expect(fee).toBeLessThan(0);
      const usdt1 = Number((await signedGet(ep, '/v5/account/wallet-balance', 'accountType=UNIFIED&coin=USDT')).json.result.list[0].coin[0].walletBalance);
      expect(usdt1).toBeCloseTo(usdt0 - fee, 8);
    } finally {
      await sim.close();
    }
  });

  it('a bad fee table is refused whole, naming the field', async () => {
    await expect(startSim({ venues: [], fees: { rates: { binanceSpot: { taker: 0.5 } } } })).rejects.toThrow(/fees\.rates\.binanceSpot\.taker/);
    await expect(startSim({ venues: [], fees: { bnbDiscount: { binanceSpot: 0 } } })).rejects.toThrow(/fees\.bnbDiscount\.binanceSpot/);
    await expect(startSim({ venues: [], fees: { rates: { bybitSpot: { takr: 0.001 } } } as never })).rejects.toThrow(/fees\.rates\.bybitSpot\.takr/);
  });
});
