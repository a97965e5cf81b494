/**
 * The simulated account's key permissions and position modes (issue 13, "Position modes" and "Go/no-go"): the
 * read-only endpoints answer as the account profile says (Binance apiRestrictions and positionSide/dual, Bybit
 * query-api, account/info, position/list), the venues' own switches change the mode with the venues' refusals, and
 * in hedge mode every order needs positionSide / positionIdx with the venues' error codes. The control endpoint
 * changes the profile whole or not at all.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSim, type SimHandle } from '../../src/sim/index.js';
import type { SimVenueEndpoints } from '../../src/sim/core/types.js';
import { rest } from './binance/helpers.js';
import { signedGet, signedPost } from './bybit/helpers.js';

let sim: SimHandle;
let spot: SimVenueEndpoints;
let usdm: SimVenueEndpoints;
let bybit: SimVenueEndpoints;

beforeAll(async () => {
  sim = await startSim({ generatorMode: 'manual', seed: 3, symbols: ['BTCUSDT'] });
  spot = sim.endpoints.binanceSpot!;
  usdm = sim.endpoints.binanceUsdm!;
  bybit = sim.endpoints.bybit!;
});
afterAll(async () => {
  await sim?.close();
});

async function control(method: 'GET' | 'POST', body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const r = await fetch(`${sim.endpoints.control.url}/account`, {
    method,
    headers: { 'X-Sim-Token': sim.endpoints.control.token },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: r.status, json: (await r.json()) as Record<string, unknown> };
}

async function usdmBid(): Promise<number> {
  const t = await rest(usdm, 'GET', '/fapi/v1/ticker/bookTicker', { symbol: 'BTCUSDT' });
  return Number((t.json as { bidPrice: string }).bidPrice);
}

describe('simulated account profile', () => {
  it('default: trading key with an IP allowlist, no withdrawals, one-way, unified', async () => {
    const r = await rest(spot, 'GET', '/sapi/v1/account/apiRestrictions', {}, { signed: true });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ ipRestrict: true, enableWithdrawals: false, enableSpotAndMarginTrading: true, enableFutures: true, enableReading: true });
    const d = await rest(usdm, 'GET', '/fapi/v1/positionSide/dual', {}, { signed: true });
    expect(d.json).toEqual({ dualSidePosition: false });
    const k = await signedGet(bybit, '/v5/user/query-api', '');
    expect(k.json.result.ips).toEqual(['127.0.0.1']);
    expect(k.json.result.permissions.Wallet).not.toContain('Withdraw');
    expect(k.json.result.readOnly).toBe(0);
    expect(k.json.result.uta).toBe(1);
    const info = await signedGet(bybit, '/v5/account/info', '');
    expect(info.json.result.unifiedMarginStatus).toBe(6);
    const pos = await signedGet(bybit, '/v5/position/list', 'category=linear&symbol=BTCUSDT');
    expect(pos.json.result.list.map((p: { positionIdx: number }) => p.positionIdx)).toEqual([0]);
  });

  it('the control endpoint changes the profile whole or not at all, and the endpoints follow', async () => {
    const bad = await control('POST', { withdrawals: true, nope: true });
    expect(bad.status).toBe(400);
    expect(String(bad.json['error'])).toMatch(/unknown field 'nope'/);
    expect((await control('POST', { ipRestrict: 'no' })).status).toBe(400);
    expect((await control('GET')).json['withdrawals']).toBe(false); // nothing of the bad bodies was applied
    const ok = await control('POST', { withdrawals: true, ipRestrict: false, bybitUnified: false });
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({ withdrawals: true, ipRestrict: false, bybitUnified: false });
    try {
      const r = await rest(spot, 'GET', '/sapi/v1/account/apiRestrictions', {}, { signed: true });
      expect(r.json).toMatchObject({ ipRestrict: false, enableWithdrawals: true });
      const k = await signedGet(bybit, '/v5/user/query-api', '');
      expect(k.json.result.ips).toEqual(['*']);
      expect(k.json.result.permissions.Wallet).toContain('Withdraw');
      expect(k.json.result.uta).toBe(0);
      expect((await signedGet(bybit, '/v5/account/info', '')).json.result.unifiedMarginStatus).toBe(1);
    } finally {
      await control('POST', { withdrawals: false, ipRestrict: true, bybitUnified: true });
    }
  });

  it('Binance USD-M hedge mode: the switch, positionSide on every order (-4061), no reduceOnly (-1106), switch refusals (-4059/-4067/-4068)', async () => {
    const sw = (v: string) => rest(usdm, 'POST', '/fapi/v1/positionSide/dual', { dualSidePosition: v }, { signed: true });
    expect((await sw('false')).json).toMatchObject({ code: -4059 });
    expect(await sw('true')).toMatchObject({ status: 200, json: { code: 200, msg: 'success' } });
    expect((await rest(usdm, 'GET', '/fapi/v1/positionSide/dual', {}, { signed: true })).json).toEqual({ dualSidePosition: true });
    const px = ((await usdmBid()) * 0.99).toFixed(1);
    const order = (extra: Record<string, string>) =>
      rest(
        usdm,
        'POST',
        '/fapi/v1/order',
        { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.01', price: px, ...extra },
        { signed: true },
      );
    expect((await order({})).json).toMatchObject({ code: -4061 });
    expect((await order({ positionSide: 'BOTH' })).json).toMatchObject({ code: -4061 });
    expect((await order({ positionSide: 'LONG', reduceOnly: 'true' })).json).toMatchObject({ code: -1106 });
    const placed = await order({ positionSide: 'LONG', newClientOrderId: 'hedge-long-1' });
    expect(placed.status).toBe(200);
    // an open order blocks the switch back
    expect((await sw('false')).json).toMatchObject({ code: -4067 });
    await rest(usdm, 'DELETE', '/fapi/v1/order', { symbol: 'BTCUSDT', origClientOrderId: 'hedge-long-1' }, { signed: true });
    // a position blocks it too
    const buy = await rest(
      usdm,
      'POST',
      '/fapi/v1/order',
      { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.01', positionSide: 'LONG' },
      { signed: true },
    );
    expect(buy.status).toBe(200);
    expect((await sw('false')).json).toMatchObject({ code: -4068 });
    const sell = await rest(
      usdm,
      'POST',
      '/fapi/v1/order',
      { symbol: 'BTCUSDT', side: 'SELL', type: 'MARKET', quantity: '0.01', positionSide: 'LONG' },
      { signed: true },
    );
    expect(sell.status).toBe(200);
    expect(await sw('false')).toMatchObject({ status: 200 });
    // one-way again: LONG is refused, BOTH (or none) is fine
    expect((await order({ positionSide: 'LONG' })).json).toMatchObject({ code: -4061 });
    const oneWay = await order({ newClientOrderId: 'oneway-1' });
    expect(oneWay.status).toBe(200);
    await rest(usdm, 'DELETE', '/fapi/v1/order', { symbol: 'BTCUSDT', origClientOrderId: 'oneway-1' }, { signed: true });
  });

  it('Bybit linear hedge mode: switch-mode, both sides listed, positionIdx 1/2 on every order (10001), switch refusals (110025/110028/110024)', async () => {
    const sw = (mode: number) => signedPost(bybit, '/v5/position/switch-mode', { category: 'linear', coin: 'USDT', mode });
    expect((await sw(0)).json.retCode).toBe(110025);
    expect((await sw(3)).json.retCode).toBe(0);
    const pos = await signedGet(bybit, '/v5/position/list', 'category=linear&symbol=BTCUSDT');
    expect(pos.json.result.list.map((p: { positionIdx: number }) => p.positionIdx)).toEqual([1, 2]);
    const ob = await signedGet(bybit, '/v5/market/orderbook', 'category=linear&symbol=BTCUSDT&limit=1');
    const bid = Number(ob.json.result.b[0][0]);
    const create = (extra: Record<string, unknown>) =>
      signedPost(bybit, '/v5/order/create', {
        category: 'linear',
        symbol: 'BTCUSDT',
        side: 'Buy',
        orderType: 'Limit',
        qty: '0.01',
        price: (bid * 0.99).toFixed(1),
        ...extra,
      });
    const none = await create({});
    expect(none.json).toMatchObject({ retCode: 10001, retMsg: 'position idx not match position mode' });
    expect((await create({ positionIdx: 0 })).json.retCode).toBe(10001);
    const placed = await create({ positionIdx: 1, orderLinkId: 'hedge-buy-1' });
    expect(placed.json.retCode).toBe(0);
    expect((await sw(0)).json.retCode).toBe(110028);
    await signedPost(bybit, '/v5/order/cancel', { category: 'linear', symbol: 'BTCUSDT', orderLinkId: 'hedge-buy-1' });
    const buy = await signedPost(bybit, '/v5/order/create', {
      category: 'linear',
      symbol: 'BTCUSDT',
      side: 'Buy',
      orderType: 'Market',
      qty: '0.01',
      positionIdx: 1,
    });
    expect(buy.json.retCode).toBe(0);
    expect((await sw(0)).json.retCode).toBe(110024);
    const sell = await signedPost(bybit, '/v5/order/create', {
      category: 'linear',
      symbol: 'BTCUSDT',
      side: 'Sell',
      orderType: 'Market',
      qty: '0.01',
      positionIdx: 1,
      reduceOnly: true,
    });
    expect(sell.json.retCode).toBe(0);
    expect((await sw(0)).json.retCode).toBe(0);
    // one-way again: positionIdx 1 is refused
    expect((await create({ positionIdx: 1 })).json.retCode).toBe(10001);
  });

  it('startSim({ account }) and the profile fields start the venues in those modes', async () => {
    const s2 = await startSim({
      generatorMode: 'manual',
      seed: 4,
      symbols: ['BTCUSDT'],
      account: { binanceUsdmHedge: true, bybitLinearHedge: true, withdrawals: true },
    });
    try {
      expect((await rest(s2.endpoints.binanceUsdm!, 'GET', '/fapi/v1/positionSide/dual', {}, { signed: true })).json).toEqual({ dualSidePosition: true });
      const pos = await signedGet(s2.endpoints.bybit!, '/v5/position/list', 'category=linear&symbol=BTCUSDT');
      expect(pos.json.result.list).toHaveLength(2);
      expect((await rest(s2.endpoints.binanceSpot!, 'GET', '/sapi/v1/account/apiRestrictions', {}, { signed: true })).json).toMatchObject({
        enableWithdrawals: true,
      });
    } finally {
      await s2.close();
    }
  });
});
