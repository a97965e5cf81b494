import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseUserFrame, toExchangeOrder as bnOrder } from '../../src/exchange/binance/trade/parse.js';
import { parsePrivateFrame, toExchangeOrder as byOrder } from '../../src/exchange/bybit/trade/parse.js';
import { scaleTable } from '../../src/codec/scale.js';
import { blankOrderEvent, type ExchangePosition, type OrderEvent } from '../../src/model/orders.js';
import { parseJsonSafe } from '../../src/codec/json.js';

const FX = new URL('../../../shared/exchange/fixtures/', import.meta.url);
const fx = (p: string): string => readFileSync(new URL(p, FX), 'utf8');

const scale = scaleTable([
  { venue: 'binanceSpot', symbol: 'ETHUSDT', priceDecimals: 2, qtyDecimals: 4 },
  { venue: 'binanceSpot', symbol: 'ETHBTC', priceDecimals: 8, qtyDecimals: 3 },
  { venue: 'binanceUsdm', symbol: 'BTCUSDT', priceDecimals: 2, qtyDecimals: 3 },
  { venue: 'binanceUsdm', symbol: 'ETHUSDT', priceDecimals: 2, qtyDecimals: 3 },
  { venue: 'bybitLinear', symbol: 'BTCUSDT', priceDecimals: 1, qtyDecimals: 3 },
  { venue: 'bybitLinear', symbol: 'ETHUSDT', priceDecimals: 2, qtyDecimals: 2 },
]);

function collectBn(file: string, venue: 'binanceSpot' | 'binanceUsdm') {
  const evs: OrderEvent[] = [];
  const pos: ExchangePosition[][] = [];
  const kind = parseUserFrame(fx(file), venue, scale, blankOrderEvent(), { order: (e) => evs.push({ ...e }), positions: (p) => pos.push(p) }, 7);
  return { kind, evs, pos };
}

describe('Binance user data fixtures', () => {
  it('executionReport NEW', () => {
    const { kind, evs } = collectBn('binance/docs_spot_execution_report_new.json', 'binanceSpot');
    expect(kind).toBe('order');
    expect(evs[0]).toMatchObject({
      venue: 'binanceSpot',
      symbol: 'ETHUSDT',
      kind: 'ack',
      state: 'ACKED',
      clientOrderId: 'x-TD67BGP9-T0000000000000',
      exchangeOrderId: '12345678',
      tradeId: '',
      localNs: 7,
      source: 'stream',
    });
  });
  it('executionReport TRADE (filled)', () => {
    const { evs } = collectBn('binance/docs_spot_execution_report_trade.json', 'binanceSpot');
    expect(evs[0]).toMatchObject({
      kind: 'fill',
      state: 'FILLED',
      tradeId: '98765432',
      fillPrice: 250000,
      fillQty: 10000,
      cumQty: 10000,
      fee: 0.001,
      feeAsset: 'ETH',
      maker: true,
      exchTimeMs: 1709654401000,
    });
  });
  it('executionReport CANCELED', () => {
    const { evs } = collectBn('binance/docs_spot_execution_report_canceled.json', 'binanceSpot');
    expect(evs[0]).toMatchObject({ kind: 'cancel', state: 'CANCELED', clientOrderId: 'x-TD67BGP9-T0000000000000' });
  });
  it('WS API wrapped executionReport', () => {
    const { evs } = collectBn('binance/docs_spot_execution_report_wrapped.json', 'binanceSpot');
    expect(evs[0]).toMatchObject({ symbol: 'ETHBTC', kind: 'ack', state: 'ACKED', clientOrderId: 'mUvoqJxFIILMdfAW5iGSOW', exchangeOrderId: '4293153' });
  });
  it('cancel by a new client id reports the original id (C)', () => {
    const raw = fx('binance/docs_spot_execution_report_canceled.json')
      .replace('"C": ""', '"C": "orig-1"')
      .replace('"c": "x-TD67BGP9-T0000000000000"', '"c": "cancel-req-9"');
    const evs: OrderEvent[] = [];
    parseUserFrame(raw, 'binanceSpot', scale, blankOrderEvent(), { order: (e) => evs.push({ ...e }) });
    expect(evs[0]!.clientOrderId).toBe('orig-1');
  });
  it('ORDER_TRADE_UPDATE NEW and partial TRADE', () => {
    expect(collectBn('binance/docs_usdm_order_trade_update_new.json', 'binanceUsdm').evs[0]).toMatchObject({
      kind: 'ack',
      state: 'ACKED',
      clientOrderId: 'TEST',
      exchangeOrderId: '8886774',
    });
    expect(collectBn('binance/docs_usdm_order_trade_update_trade_partial.json', 'binanceUsdm').evs[0]).toMatchObject({
      kind: 'fill',
      state: 'PARTIALLY_FILLED',
      tradeId: '12345678',
      fillPrice: 710050,
      fillQty: 1,
      cumQty: 1,
      fee: 0.01,
      feeAsset: 'USDT',
      maker: true,
    });
  });
  it('TRADE_LITE keeps the order id > 2^53 exact', () => {
    const { evs } = collectBn('binance/live_usdm_trade_lite.json', 'binanceUsdm');
    expect(evs[0]).toMatchObject({
      kind: 'fill',
      symbol: 'ETHUSDT',
      exchangeOrderId: '8389765739703625592',
      tradeId: '4467432841',
      fillPrice: 263190,
      fillQty: 37,
      clientOrderId: 'O-20240930-081155-001-000-29',
      maker: false,
    });
  });
  it('ACCOUNT_UPDATE positions', () => {
    const { kind, pos } = collectBn('binance/docs_usdm_account_update.json', 'binanceUsdm');
    expect(kind).toBe('account');
    expect(pos[0]!.map((p) => [p.qty, p.entryPrice])).toEqual([
      [0, 0],
      [20000, 656360],
      [-10000, 656380],
    ]);
  });
  it('listenKeyExpired, algo updates, malformed and unknown symbols', () => {
    let expired = 0;
    expect(
      parseUserFrame('{"e":"listenKeyExpired","E":1,"listenKey":"k"}', 'binanceUsdm', scale, blankOrderEvent(), {
        order: () => undefined,
        listenKeyExpired: () => expired++,
      }),
    ).toBe('listenKeyExpired');
    expect(expired).toBe(1);
    expect(parseUserFrame(fx('binance/live_usdm_algo_update_1_triggering.json'), 'binanceUsdm', scale, blankOrderEvent(), { order: () => undefined })).toBe(
      'other',
    );
    expect(parseUserFrame('{"e":"executionReport",', 'binanceSpot', scale, blankOrderEvent(), { order: () => undefined })).toBe('malformed');
    expect(
      parseUserFrame(fx('binance/docs_spot_execution_report_new.json').replace('ETHUSDT', 'NOPE'), 'binanceSpot', scale, blankOrderEvent(), {
        order: () => undefined,
      }),
    ).toBe('unknownSymbol');
  });
  it('REST / WS API order responses', () => {
    const o = bnOrder(parseJsonSafe(fx('binance/docs_usdm_rest_order_response.json')) as Record<string, unknown>, 'binanceUsdm', scale)!;
    expect(o).toMatchObject({
      symbol: 'BTCUSDT',
      clientOrderId: 'testOrder123',
      exchangeOrderId: '12345678',
      price: 5000000,
      qty: 1,
      filledQty: 0,
      state: 'ACKED',
      side: 'BUY',
      tif: 'GTC',
    });
    const big = fx('binance/docs_usdm_rest_order_response.json').replace('"orderId": 12345678', '"orderId": 8389765739703625592');
    expect(bnOrder(parseJsonSafe(big) as Record<string, unknown>, 'binanceUsdm', scale)!.exchangeOrderId).toBe('8389765739703625592');
  });
});

describe('Bybit private stream fixtures', () => {
  const lin = scaleTable([
    { venue: 'bybitLinear', symbol: 'BTCUSDT', priceDecimals: 1, qtyDecimals: 3 },
    { venue: 'bybitLinear', symbol: 'ETHUSDT', priceDecimals: 3, qtyDecimals: 2 },
  ]);
  it('execution -> fill with execId as trade id', () => {
    const evs: OrderEvent[] = [];
    expect(parsePrivateFrame(fx('bybit/docs_private_execution_message.json'), lin, blankOrderEvent(), { order: (e) => evs.push({ ...e }) }, 5)).toBe(
      'execution',
    );
    expect(evs).toHaveLength(1);
    expect(evs[0]).toMatchObject({
      venue: 'bybitLinear',
      symbol: 'BTCUSDT',
      kind: 'fill',
      state: 'FILLED',
      tradeId: '0ab1bdf7-4219-438b-b30a-32ec863018f7',
      exchangeOrderId: '9aac161b-8ed6-450d-9cab-c5cc67c21784',
      fillPrice: 959001,
      fillQty: 500,
      fee: 26.3725275,
      feeAsset: 'USDT',
      maker: false,
      exchTimeMs: 1746270400353,
      localNs: 5,
    });
  });
  it('order topic (option category is not ours) and a linear rewrite', () => {
    const evs: OrderEvent[] = [];
    const raw = fx('bybit/docs_private_order_message.json');
    parsePrivateFrame(raw, lin, blankOrderEvent(), { order: (e) => evs.push({ ...e }) });
    expect(evs).toHaveLength(0);
    const linear = raw
      .replace('"category": "option"', '"category": "linear"')
      .replace('"ETH-30DEC22-1400-C"', '"ETHUSDT"')
      .replace('"orderLinkId": ""', '"orderLinkId": "tw-1"');
    parsePrivateFrame(linear, lin, blankOrderEvent(), { order: (e) => evs.push({ ...e }) });
    expect(evs[0]).toMatchObject({
      kind: 'fill',
      state: 'FILLED',
      fillQty: 0,
      cumQty: 100,
      clientOrderId: 'tw-1',
      exchangeOrderId: '5cf98598-39a7-459e-97bf-76ca765ee020',
    });
    for (const [st, kind, state] of [
      ['New', 'ack', 'ACKED'],
      ['Cancelled', 'cancel', 'CANCELED'],
      ['PartiallyFilledCanceled', 'cancel', 'CANCELED'],
      ['Rejected', 'reject', 'REJECTED'],
      ['PartiallyFilled', 'fill', 'PARTIALLY_FILLED'],
    ] as const) {
      const e: OrderEvent[] = [];
      parsePrivateFrame(linear.replace('"orderStatus": "Filled"', `"orderStatus": "${st}"`), lin, blankOrderEvent(), { order: (x) => e.push({ ...x }) });
      expect(e[0]).toMatchObject({ kind, state });
    }
  });
  it('position (live capture)', () => {
    let got: ExchangePosition[] = [];
    expect(
      parsePrivateFrame(fx('bybit/live_private_position_ETHUSDT.json'), lin, blankOrderEvent(), { order: () => undefined, positions: (p) => (got = p) }),
    ).toBe('position');
    expect(got).toEqual([{ venue: 'bybitLinear', symbol: 'ETHUSDT', qty: -1, entryPrice: 3641075 }]);
  });
  it('op replies and malformed frames', () => {
    const ops: Array<[string, boolean]> = [];
    const h = { order: () => undefined, op: (op: string, ok: boolean) => ops.push([op, ok]) };
    expect(parsePrivateFrame(fx('bybit/docs_trade_ws_auth_response.json'), lin, blankOrderEvent(), h)).toBe('auth');
    expect(parsePrivateFrame('{"success":false,"ret_msg":"err","op":"auth","conn_id":"x"}', lin, blankOrderEvent(), h)).toBe('auth');
    expect(ops).toEqual([
      ['auth', true],
      ['auth', false],
    ]);
    expect(parsePrivateFrame('{"topic":"order","data":[{', lin, blankOrderEvent(), h)).toBe('malformed');
  });
  it('REST realtime list item', () => {
    const o = byOrder(
      {
        symbol: 'BTCUSDT',
        orderLinkId: 'a',
        orderId: '1917403372405989376',
        side: 'Sell',
        orderType: 'Limit',
        timeInForce: 'PostOnly',
        price: '95000.5',
        qty: '0.010',
        cumExecQty: '0.004',
        orderStatus: 'PartiallyFilled',
        updatedTime: '1746270400353',
      },
      'bybitLinear',
      lin,
    )!;
    expect(o).toMatchObject({ side: 'SELL', tif: 'POST_ONLY', price: 950005, qty: 10, filledQty: 4, state: 'PARTIALLY_FILLED', updateTimeMs: 1746270400353 });
  });
});
