/** The REST endpoints added for third-party clients (ccxt's loadMarkets / fetchTicker / fetchBidsAsks /
 * fetchPositions): the real venues' key sets and orders, errors, and 404 for unknown paths. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimVenueEndpoints } from '../../../src/sim/core/types.js';
import { startSim, type SimHandle } from '../../../src/sim/index.js';
import { createHmac } from 'node:crypto';

async function get(
  ep: SimVenueEndpoints,
  path: string,
  q: Record<string, string> = {},
  signed = false,
): Promise<{ status: number; json: unknown; headers: Headers }> {
  const qs = new URLSearchParams(q);
  if (signed) {
    qs.set('timestamp', String(Date.now()));
    qs.set('signature', createHmac('sha256', ep.apiSecret).update(qs.toString()).digest('hex'));
  }
  const r = await fetch(ep.restBaseUrl + path + (qs.size ? '?' + qs.toString() : ''), { headers: { 'X-MBX-APIKEY': ep.apiKey } });
  const text = await r.text();
  return { status: r.status, json: text ? (JSON.parse(text) as unknown) : undefined, headers: r.headers };
}

const SPOT_24H =
  'symbol,priceChange,priceChangePercent,weightedAvgPrice,prevClosePrice,lastPrice,lastQty,bidPrice,bidQty,askPrice,askQty,openPrice,highPrice,lowPrice,volume,quoteVolume,openTime,closeTime,firstId,lastId,count';
const USDM_24H =
  'symbol,priceChange,priceChangePercent,weightedAvgPrice,lastPrice,lastQty,openPrice,highPrice,lowPrice,volume,quoteVolume,openTime,closeTime,firstId,lastId,count';

describe('binance sim: endpoints third-party clients call', () => {
  let sim: SimHandle;
  let spot: SimVenueEndpoints;
  let usdm: SimVenueEndpoints;
  beforeAll(async () => {
    sim = await startSim({ venues: ['binanceSpot', 'binanceUsdm'], seed: 3, generatorMode: 'manual', symbols: ['BTCUSDT', 'ETHUSDT'], depthIntervalMs: 0 });
    spot = sim.endpoints.binanceSpot!;
    usdm = sim.endpoints.binanceUsdm!;
  });
  afterAll(async () => sim?.close());

  it('bookTicker: one symbol (object), symbols / all (array), unknown symbol -1121', async () => {
    const s = await get(spot, '/api/v3/ticker/bookTicker', { symbol: 'BTCUSDT' });
    expect(s.status).toBe(200);
    expect(Object.keys(s.json as object).join(',')).toBe('symbol,bidPrice,bidQty,askPrice,askQty');
    const book = sim.books.get('binanceSpot')!.get('BTCUSDT')!;
    expect((s.json as { bidPrice: string }).bidPrice).toBe((book.bestBidPrice() / 100).toFixed(8));
    expect(s.headers.get('x-mbx-used-weight-1m')).toBe('2');
    const many = await get(spot, '/api/v3/ticker/bookTicker', { symbols: '["ETHUSDT","BTCUSDT"]' });
    expect((many.json as Array<{ symbol: string }>).map((x) => x.symbol)).toEqual(['ETHUSDT', 'BTCUSDT']);
    expect(((await get(spot, '/api/v3/ticker/bookTicker')).json as unknown[]).length).toBe(2);
    expect((await get(spot, '/api/v3/ticker/bookTicker', { symbol: 'NOPEUSDT' })).json).toEqual({ code: -1121, msg: 'Invalid symbol.' });

    const u = await get(usdm, '/fapi/v1/ticker/bookTicker', { symbol: 'BTCUSDT' });
    expect(Object.keys(u.json as object).join(',')).toBe('lastUpdateId,symbol,bidPrice,bidQty,askPrice,askQty,time');
    expect((u.json as { lastUpdateId: number }).lastUpdateId).toBe(sim.books.get('binanceUsdm')!.get('BTCUSDT')!.updateId);
  });

  it('ticker/24hr: the real key sets; volumes count the trades of the window', async () => {
    const before = (await get(spot, '/api/v3/ticker/24hr', { symbol: 'ETHUSDT' })).json as Record<string, unknown>;
    expect(Object.keys(before).join(',')).toBe(SPOT_24H);
    expect(before['count']).toBe(0);
    expect(before['firstId']).toBe(-1);
    // a synthetic sweep trades at the best ask
    const book = sim.books.get('binanceSpot')!.get('ETHUSDT')!;
    const ask = book.bestAsk()!;
    book.sweepSynthetic('BUY', ask.qtyLots);
    const after = (await get(spot, '/api/v3/ticker/24hr', { symbol: 'ETHUSDT' })).json as Record<string, string | number>;
    expect(after['count']).toBeGreaterThanOrEqual(1);
    const pd = book.instrument.priceDecimals;
    const qd = book.instrument.qtyDecimals;
    expect(after['lastPrice']).toBe((ask.priceTicks / 10 ** pd).toFixed(8));
    expect(Number(after['volume'])).toBeCloseTo(ask.qtyLots / 10 ** qd, 8);
    expect(Number(after['closeTime']) - Number(after['openTime'])).toBe(86_400_000);
    const all = (await get(spot, '/api/v3/ticker/24hr')).json as unknown[];
    expect(all.length).toBe(2);
    const w1 = Number((await get(spot, '/api/v3/ticker/24hr')).headers.get('x-mbx-used-weight-1m'));
    const w2 = Number((await get(spot, '/api/v3/ticker/24hr')).headers.get('x-mbx-used-weight-1m'));
    expect(w2 - w1).toBe(80); // all symbols: weight 80

    const u = (await get(usdm, '/fapi/v1/ticker/24hr', { symbol: 'BTCUSDT' })).json as Record<string, unknown>;
    expect(Object.keys(u).join(',')).toBe(USDM_24H);
  });

  it('leverageBracket (signed): all symbols (array) or one (object), brackets in order with consistent cum', async () => {
    expect((await get(usdm, '/fapi/v1/leverageBracket')).json).toMatchObject({ code: -1102 });
    const all = (await get(usdm, '/fapi/v1/leverageBracket', {}, true)).json as Array<{ symbol: string; brackets: Array<Record<string, number>> }>;
    expect(all.map((x) => x.symbol).sort()).toEqual(['BTCUSDT', 'ETHUSDT']);
    const one = (await get(usdm, '/fapi/v1/leverageBracket', { symbol: 'BTCUSDT' }, true)).json as { symbol: string; brackets: Array<Record<string, number>> };
    expect(one.symbol).toBe('BTCUSDT');
    const b = one.brackets;
    expect(Object.keys(b[0]!).join(',')).toBe('bracket,initialLeverage,notionalCap,notionalFloor,maintMarginRatio,cum');
    for (let i = 1; i < b.length; i++) {
      expect(b[i]!['notionalFloor']).toBe(b[i - 1]!['notionalCap']);
      expect(b[i]!['initialLeverage']).toBeLessThan(b[i - 1]!['initialLeverage']!);
      // maintenance margin is continuous at each floor: floor*mmr_i - cum_i == floor*mmr_{i-1} - cum_{i-1}
      const f = b[i]!['notionalFloor']!;
      expect(f * b[i]!['maintMarginRatio']! - b[i]!['cum']!).toBeCloseTo(f * b[i - 1]!['maintMarginRatio']! - b[i - 1]!['cum']!, 2);
    }
  });

  it('USD-M settings: leverage 1..125 (-4028 otherwise), marginType (-4046 when unchanged), symbolConfig reflects both', async () => {
    const post = async (path: string, q: Record<string, string>): Promise<unknown> => {
      const qs = new URLSearchParams({ ...q, timestamp: String(Date.now()) });
      qs.set('signature', createHmac('sha256', usdm.apiSecret).update(qs.toString()).digest('hex'));
      return (await fetch(usdm.restBaseUrl + path + '?' + qs.toString(), { method: 'POST', headers: { 'X-MBX-APIKEY': usdm.apiKey } })).json();
    };
    expect(await post('/fapi/v1/leverage', { symbol: 'BTCUSDT', leverage: '126' })).toEqual({ code: -4028, msg: 'Leverage 126 is not valid' });
    expect(await post('/fapi/v1/leverage', { symbol: 'BTCUSDT', leverage: '100' })).toEqual({ leverage: 100, maxNotionalValue: '600000', symbol: 'BTCUSDT' });
    expect(await post('/fapi/v1/marginType', { symbol: 'BTCUSDT', marginType: 'CROSSED' })).toEqual({ code: -4046, msg: 'No need to change margin type.' });
    expect(await post('/fapi/v1/marginType', { symbol: 'BTCUSDT', marginType: 'ISOLATED' })).toEqual({ code: 200, msg: 'success' });
    expect((await get(usdm, '/fapi/v1/symbolConfig', { symbol: 'BTCUSDT' }, true)).json).toEqual([
      { symbol: 'BTCUSDT', marginType: 'ISOLATED', isAutoAddMargin: false, leverage: 100, maxNotionalValue: '600000' },
    ]);
    const k = (await get(usdm, '/fapi/v1/klines', { symbol: 'BTCUSDT', interval: '2m' })).json;
    expect(k).toEqual({ code: -1120, msg: 'Invalid interval.' });
  });

  it('margin pair lists answer (empty: the simulator has no margin), unknown paths get a 404, not a dropped connection', async () => {
    expect((await get(spot, '/sapi/v1/margin/allPairs')).json).toEqual([]);
    expect((await get(spot, '/sapi/v1/margin/isolated/allPairs', {}, true)).json).toEqual([]);
    expect((await get(spot, '/sapi/v1/margin/isolated/allPairs')).json).toMatchObject({ code: -1102 });
    expect((await get(spot, '/wapi/v3/nothing')).status).toBe(404);
    const u = await get(usdm, '/dapi/v1/time');
    expect(u.status).toBe(404);
    expect(u.json).toEqual({ code: -5000, msg: 'Path /dapi/v1/time, Method GET is invalid' });
  });
});
