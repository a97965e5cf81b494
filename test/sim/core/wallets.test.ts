/** One wallet per venue (issue 2 item 2): Binance Spot, Binance USD-M and Bybit's unified account are separate; spot
 * locks show where the exchanges show them (/api/v3/account `locked`, outboundAccountPosition `l` after placement
 * and cancel, Bybit wallet `locked` and its push). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MatchingBook } from '../../../src/sim/core/book.js';
import { startSim, type SimHandle } from '../../../src/sim/index.js';
import type { SimVenueEndpoints } from '../../../src/sim/core/types.js';
import { connect, rest, wsSigned } from '../binance/helpers.js';
import { Client, signedGet, signedPost, wsAuthArgs } from '../bybit/helpers.js';

type SpotAccount = { balances: Array<{ asset: string; free: string; locked: string }> };

describe('per-venue wallets', () => {
  let sim: SimHandle;
  let spot: SimVenueEndpoints;
  let usdm: SimVenueEndpoints;
  let bybit: SimVenueEndpoints;
  let sb: MatchingBook;
  beforeAll(async () => {
    sim = await startSim({ venues: ['binanceSpot', 'binanceUsdm', 'bybit'], generatorMode: 'manual', symbols: ['BTCUSDT'], depthIntervalMs: 0, seed: 3 });
    spot = sim.endpoints.binanceSpot!;
    usdm = sim.endpoints.binanceUsdm!;
    bybit = sim.endpoints.bybit!;
    sb = sim.books.get('binanceSpot')!.get('BTCUSDT')!;
  });
  afterAll(async () => sim?.close());

  const spotBal = async (asset: string) => {
    const a = (await rest(spot, 'GET', '/api/v3/account', {}, { signed: true })).json as SpotAccount;
    const b = a.balances.find((x) => x.asset === asset)!;
    return { free: Number(b.free), locked: Number(b.locked) };
  };
  const usdmUsdt = async () => {
    const rows = (await rest(usdm, 'GET', '/fapi/v2/balance', {}, { signed: true })).json as Array<{ asset: string; balance: string }>;
    return Number(rows.find((r) => r.asset === 'USDT')!.balance);
  };
  const bybitCoin = async (coin: string) => {
    const r = await signedGet(bybit, '/v5/account/wallet-balance', `accountType=UNIFIED&coin=${coin}`);
    const c = r.json.result.list[0].coin[0] as { walletBalance: string; locked: string };
    return { wallet: Number(c.walletBalance), locked: Number(c.locked) };
  };

  it('a Binance Spot purchase moves only the Spot wallet; a Bybit spot purchase only the Bybit wallet', async () => {
    const u0 = await usdmUsdt();
    const y0 = await bybitCoin('USDT');
    const s0 = await spotBal('USDT');
    const r = await rest(spot, 'POST', '/api/v3/order', { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.01' }, { signed: true });
    expect(r.status, r.text).toBe(200);
    const cost = Number((r.json as { cummulativeQuoteQty: string }).cummulativeQuoteQty);
    expect(cost).toBeGreaterThan(0);
    expect((await spotBal('USDT')).free).toBeCloseTo(s0.free - cost, 6);
    expect(await usdmUsdt()).toBe(u0);
    expect((await bybitCoin('USDT')).wallet).toBe(y0.wallet);

    const b0 = await bybitCoin('BTC');
    const sBtc = await spotBal('BTC');
    const y = await signedPost(bybit, '/v5/order/create', {
      category: 'spot',
      symbol: 'BTCUSDT',
      side: 'Buy',
      orderType: 'Market',
      qty: '0.01',
      marketUnit: 'baseCoin',
    });
    expect(y.json.retCode, JSON.stringify(y.json)).toBe(0);
    // Bybit spot buy: the taker fee (0.1 %) is paid in the base coin received
    expect((await bybitCoin('BTC')).wallet).toBeCloseTo(b0.wallet + 0.01 - 0.00001, 9);
    expect((await bybitCoin('USDT')).wallet).toBeLessThan(y0.wallet);
    expect((await spotBal('BTC')).free).toBe(sBtc.free);
    expect(await usdmUsdt()).toBe(u0);
    // the core's view agrees
    const acc = sim.ctx.account(spot.apiKey)!;
    expect(acc.balances).toBe(acc.wallets.binanceSpot);
    expect(acc.wallets.binanceUsdm.get('USDT')!.free).toBe(u0);
  });

  it('Binance Spot: a resting order locks (account and outboundAccountPosition after placement and after cancel)', async () => {
    const api = await connect(spot.wsApiUrl);
    try {
      api.send({ id: 1, method: 'userDataStream.subscribe.signature', params: wsSigned(spot, {}) });
      await api.next((j) => j.id === 1 && j.status === 200);
      const px = sb.bestBidPrice() - 10_000;
      const price = (px / 100).toFixed(2);
      const want = (px / 100) * 0.002;
      const p = await rest(
        spot,
        'POST',
        '/api/v3/order',
        { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.002', price, newClientOrderId: 'lock-1' },
        { signed: true },
      );
      expect(p.status, p.text).toBe(200);
      const pos = await api.next<{ event: { B: Array<{ a: string; l: string }> } }>(
        (j) => j.event?.e === 'outboundAccountPosition' && j.event.B.some((b: { a: string; l: string }) => b.a === 'USDT' && Number(b.l) > 0),
      );
      expect(Number(pos.event.B.find((b) => b.a === 'USDT')!.l)).toBeCloseTo(want, 6);
      expect((await spotBal('USDT')).locked).toBeCloseTo(want, 6);
      // other venues do not see the lock
      expect((await bybitCoin('USDT')).locked).toBe(0);
      const c = await rest(spot, 'DELETE', '/api/v3/order', { symbol: 'BTCUSDT', origClientOrderId: 'lock-1' }, { signed: true });
      expect(c.status).toBe(200);
      await api.next((j) => j.event?.e === 'outboundAccountPosition' && j.event.B.some((b: { a: string; l: string }) => b.a === 'USDT' && Number(b.l) === 0));
      expect((await spotBal('USDT')).locked).toBe(0);
    } finally {
      api.close();
    }
  });

  it('Bybit: a resting spot order shows in the wallet `locked` (REST and the wallet push)', async () => {
    const c = await Client.open(bybit.wsPrivateUrl!);
    try {
      c.send({ op: 'auth', args: wsAuthArgs(bybit) });
      await c.waitFor((f) => f.op === 'auth' && f.success === true);
      c.send({ op: 'subscribe', args: ['wallet'] });
      await c.waitFor((f) => f.op === 'subscribe');
      const yb = sim.books.get('bybitSpot')!.get('BTCUSDT')!;
      const px = (yb.bestBidPrice() - 10_000 * 10 ** yb.instrument.priceDecimals) / 10 ** yb.instrument.priceDecimals;
      const r = await signedPost(bybit, '/v5/order/create', {
        category: 'spot',
        symbol: 'BTCUSDT',
        side: 'Buy',
        orderType: 'Limit',
        qty: '0.002',
        price: String(px),
        orderLinkId: 'ylock-1',
      });
      expect(r.json.retCode, JSON.stringify(r.json)).toBe(0);
      const w = await c.waitFor(
        (f) => f.topic === 'wallet' && f.data[0].coin.some((x: { coin: string; locked: string }) => x.coin === 'USDT' && Number(x.locked) > 0),
      );
      expect(Number(w.data[0].coin.find((x: { coin: string }) => x.coin === 'USDT').locked)).toBeCloseTo(px * 0.002, 6);
      expect((await bybitCoin('USDT')).locked).toBeCloseTo(px * 0.002, 6);
      expect((await spotBal('USDT')).locked).toBe(0);
      await signedPost(bybit, '/v5/order/cancel', { category: 'spot', symbol: 'BTCUSDT', orderLinkId: 'ylock-1' });
      await c.waitFor((f) => f.topic === 'wallet' && f.data[0].coin.some((x: { coin: string; locked: string }) => x.coin === 'USDT' && Number(x.locked) === 0));
      expect((await bybitCoin('USDT')).locked).toBe(0);
    } finally {
      c.close();
    }
  });
});
