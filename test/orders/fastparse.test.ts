/**
 * The byte-level parsers of the hot events give exactly the OrderEvents of the JSON.parse path on the fixture bytes
 * (and on simulator-shaped frames), and hand everything else back ('fallback').
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BinanceFastUserParser } from '../../src/exchange/binance/trade/fastparse.js';
import { parseUserFrame } from '../../src/exchange/binance/trade/parse.js';
import { BybitFastParser, type CreateAck } from '../../src/exchange/bybit/trade/fastparse.js';
import { parsePrivateFrame } from '../../src/exchange/bybit/trade/parse.js';
import { Fields, NameSet, scanFrame, scanObject } from '../../src/codec/bytescan.js';
import { scaleTable } from '../../src/codec/scale.js';
import { blankOrderEvent, type OrderEvent } from '../../src/model/orders.js';

const FX = new URL('../../../shared/exchange/fixtures/', import.meta.url);
const fx = (p: string): Buffer => readFileSync(new URL(p, FX));

const scale = scaleTable([
  { venue: 'binanceSpot', symbol: 'ETHUSDT', priceDecimals: 2, qtyDecimals: 4 },
  { venue: 'binanceSpot', symbol: 'BTCUSDT', priceDecimals: 2, qtyDecimals: 5 },
  { venue: 'binanceSpot', symbol: 'ETHBTC', priceDecimals: 8, qtyDecimals: 3 },
  { venue: 'binanceUsdm', symbol: 'BTCUSDT', priceDecimals: 2, qtyDecimals: 3 },
  { venue: 'binanceUsdm', symbol: 'ETHUSDT', priceDecimals: 2, qtyDecimals: 3 },
  { venue: 'bybitLinear', symbol: 'BTCUSDT', priceDecimals: 1, qtyDecimals: 3 },
  { venue: 'bybitSpot', symbol: 'BTCUSDT', priceDecimals: 2, qtyDecimals: 6 },
]);

function both(buf: Buffer, venue: 'binanceSpot' | 'binanceUsdm'): { fast: OrderEvent[]; json: OrderEvent[]; res: string } {
  const fast: OrderEvent[] = [];
  const json: OrderEvent[] = [];
  const res = new BinanceFastUserParser(venue, scale).parse(buf, blankOrderEvent(), { order: (e) => fast.push({ ...e }) }, 5);
  parseUserFrame(buf.toString('utf8'), venue, scale, blankOrderEvent(), { order: (e) => json.push({ ...e }) }, 5);
  return { fast, json, res };
}

describe('Binance fast user-data parser = JSON path', () => {
  for (const [file, venue] of [
    ['binance/docs_spot_execution_report_new.json', 'binanceSpot'],
    ['binance/docs_spot_execution_report_trade.json', 'binanceSpot'],
    ['binance/docs_spot_execution_report_canceled.json', 'binanceSpot'],
    ['binance/docs_spot_execution_report_wrapped.json', 'binanceSpot'],
    ['binance/docs_usdm_order_trade_update_new.json', 'binanceUsdm'],
    ['binance/docs_usdm_order_trade_update_trade_partial.json', 'binanceUsdm'],
    ['binance/live_usdm_trade_lite.json', 'binanceUsdm'],
  ] as const) {
    it(file, () => {
      const { fast, json, res } = both(fx(file), venue);
      expect(json.length).toBe(1);
      expect(res).toBe('order');
      expect(fast).toEqual(json);
    });
  }

  it('keeps an id above 2^53 exact (TRADE_LITE i = 8389765739703625592)', () => {
    const { fast } = both(fx('binance/live_usdm_trade_lite.json'), 'binanceUsdm');
    expect(fast[0]!.exchangeOrderId).toBe('8389765739703625592');
  });

  it('simulator-shaped frames (wrapped executionReport TRADE, combined-stream ORDER_TRADE_UPDATE) agree', () => {
    const er =
      '{"subscriptionId":0,"event":{"e":"executionReport","E":1795318841606,"s":"BTCUSDT","c":"twm-1","S":"BUY","o":"LIMIT","f":"GTC","q":"0.06000","p":"97000.03","P":"0.00","F":"0.00000","g":-1,"C":"","x":"TRADE","X":"PARTIALLY_FILLED","r":"NONE","i":1000007,"l":"0.02068","z":"0.02068","L":"97000.03","n":"0.00","N":"BTC","T":1795318841606,"t":58,"I":12,"w":true,"m":false,"M":false,"O":1795318841600,"Z":"2005.96062","Y":"2005.96062","Q":"0.00","W":1795318841600,"V":"NONE"}}';
    const a = both(Buffer.from(er), 'binanceSpot');
    expect(a.res).toBe('order');
    expect(a.fast).toEqual(a.json);
    expect(a.fast[0]).toMatchObject({ kind: 'fill', fillQty: 2068, fillPrice: 9700003, tradeId: '58', cumQty: 2068, state: 'PARTIALLY_FILLED' });
    const otu =
      '{"stream":"k","data":{"e":"ORDER_TRADE_UPDATE","T":1,"E":2,"o":{"s":"BTCUSDT","c":"x\\"y","S":"BUY","x":"TRADE","X":"FILLED","i":9223372036854775807,"l":"0.001","z":"0.001","L":"97000.10","t":3}}}';
    const b = both(Buffer.from(otu), 'binanceUsdm');
    expect(b.res).toBe('fallback'); // an escaped client id goes to JSON.parse
  });

  it('an exponent in a decimal string reads the same on both paths (L "2.6319e+3" = 263190); a bad number is reported by neither', () => {
    const tl = fx('binance/live_usdm_trade_lite.json').toString('utf8');
    const a = both(Buffer.from(tl.replace('"L": "2631.90"', '"L": "2.6319e+3"').replace('"L":"2631.90"', '"L":"2.6319e+3"')), 'binanceUsdm');
    expect(a.json.length).toBe(1);
    expect(a.res).toBe('order');
    expect(a.fast).toEqual(a.json);
    expect(a.fast[0]!.fillPrice).toBe(263190);
    for (const bad of ['"abc"', '"-1"', '""', '2631.9', '"1e400"', '"2631.9.0"', 'null']) {
      const b = both(Buffer.from(tl.replace(/"L": ?"2631.90"/, `"L":${bad}`)), 'binanceUsdm');
      expect(b.res, bad).toBe('fallback');
      expect(b.fast, bad).toEqual([]);
      expect(b.json, bad).toEqual([]);
      expect(parseUserFrame(tl.replace(/"L": ?"2631.90"/, `"L":${bad}`), 'binanceUsdm', scale, blankOrderEvent(), { order: () => undefined }), bad).toBe(
        'malformed',
      );
    }
  });

  it('a Bybit execution frame with one bad item reports none of its items', () => {
    const item = (px: string) =>
      `{"category":"linear","symbol":"BTCUSDT","execFee":"0.01","execId":"x${px}","execPrice":"${px}","execQty":"0.002","execType":"Trade","leavesQty":"0","orderId":"1","orderLinkId":"a","execTime":"1","isMaker":true,"feeCurrency":"USDT"}`;
    const got: OrderEvent[] = [];
    const k = parsePrivateFrame(`{"topic":"execution","data":[${item('97000.1')},${item('NaN')}]}`, scale, blankOrderEvent(), {
      order: (e) => got.push({ ...e }),
    });
    expect(k).toBe('malformed');
    expect(got).toEqual([]);
  });

  it('hands cold events and non-events back', () => {
    expect(both(fx('binance/docs_usdm_account_update.json'), 'binanceUsdm').res).toBe('fallback');
    expect(both(Buffer.from('{"id":"1","status":200,"result":{}}'), 'binanceSpot').res).toBe('fallback');
    expect(both(Buffer.from('{"e":"executionReport",'), 'binanceSpot').res).toBe('fallback');
    expect(both(Buffer.from('[1,2]'), 'binanceSpot').res).toBe('fallback');
  });
});

describe('Bybit fast parser = JSON path', () => {
  const run = (buf: Buffer) => {
    const fast: OrderEvent[] = [];
    const json: OrderEvent[] = [];
    const res = new BybitFastParser(scale).parsePrivate(buf, blankOrderEvent(), { order: (e) => fast.push({ ...e }) }, 9);
    parsePrivateFrame(buf.toString('utf8'), scale, blankOrderEvent(), { order: (e) => json.push({ ...e }) }, 9);
    return { fast, json, res };
  };
  it('execution push (docs fixture)', () => {
    const { fast, json, res } = run(fx('bybit/docs_private_execution_message.json'));
    expect(res).toBe('execution');
    expect(json.length).toBe(1);
    expect(fast).toEqual(json);
  });
  it('several executions in one push, spot and linear', () => {
    const item = (cat: string, id: string, leaves: string) =>
      `{"category":"${cat}","symbol":"BTCUSDT","execFee":"0.01","execId":"${id}","execPrice":"97000.1","execQty":"0.002","execType":"Trade","leavesQty":"${leaves}","orderId":"1234567890123456789","orderLinkId":"twm-${id}","side":"Buy","execTime":"1795318841606","isMaker":true,"seq":1,"feeCurrency":"USDT"}`;
    const buf = Buffer.from(`{"topic":"execution","id":"1","creationTime":1,"data":[${item('linear', 'a', '0.001')},${item('spot', 'b', '0')}]}`);
    const { fast, json, res } = run(buf);
    expect(res).toBe('execution');
    expect(json.length).toBe(2);
    expect(fast).toEqual(json);
  });
  it('hands other frames back (order topic, op acks)', () => {
    expect(run(Buffer.from('{"op":"auth","success":true,"ret_msg":""}')).res).toBe('fallback');
    expect(run(Buffer.from('{"topic":"order","data":[]}')).res).toBe('fallback');
  });
  it('skips what the JSON path skips (funding, unknown symbol) and reads an escaped item through JSON.parse', () => {
    const funding = run(
      Buffer.from(
        '{"topic":"execution","data":[{"category":"linear","symbol":"BTCUSDT","execType":"Funding","execId":"f"},{"category":"linear","symbol":"XYZUSDT","execType":"Trade","execId":"g"}]}',
      ),
    );
    expect(funding.res).toBe('execution');
    expect(funding.fast).toEqual([]);
    expect(funding.json).toEqual([]);
    const esc = run(
      Buffer.from(
        '{"topic":"execution","data":[{"category":"linear","symbol":"BTCUSDT","execType":"Trade","execId":"e1","orderLinkId":"a\\"b","orderId":"o1","execPrice":"1.5","execQty":"0.001","leavesQty":"0","isMaker":false,"execTime":"5"}]}',
      ),
    );
    expect(esc.res).toBe('fallback'); // an escaped string: the whole frame goes to JSON.parse
    expect(esc.fast).toEqual([]);
    expect(esc.json.length).toBe(1);
    expect(esc.json[0]!.clientOrderId).toBe('a"b');
  });
  it('order.create ack (docs fixture)', () => {
    const buf = fx('bybit/docs_trade_ws_order_create_response.json');
    const ack: CreateAck = { reqId: '', retCode: -1, orderId: '', orderLinkId: '' };
    expect(new BybitFastParser(scale).parseCreateAck(buf, ack)).toBe(true);
    const j = JSON.parse(buf.toString('utf8')) as { reqId: string; retCode: number; data: { orderId: string; orderLinkId: string } };
    expect(ack).toEqual({ reqId: j.reqId, retCode: j.retCode, orderId: j.data.orderId, orderLinkId: j.data.orderLinkId });
  });
});

describe('bytescan readers', () => {
  const keys = new NameSet(['a', 'b', 'c', 'd', 'e']);
  const f = new Fields(keys);
  it('units, decNum and uint read what the JSON path reads, exactly, or NaN', () => {
    expect(scanObject(Buffer.from('{"a":"0.00100000","b":"-12.345","c":7,"d":"97000.1","e":"1.23456789"}'), 0, 200, f)).toBeGreaterThan(0);
    expect(f.units(0, 3)).toBe(1);
    expect(f.units(1, 3)).toBeNaN(); // negative
    expect(f.units(2, 2)).toBeNaN(); // a number, not a decimal string
    expect(f.units(3, 2)).toBe(9700010);
    expect(f.units(4, 4)).toBe(12346); // rounded beyond the scale
    expect(f.decNum(0)).toBe(0.001);
    expect(f.decNum(4)).toBe(1.23456789);
    expect(f.decNum(1)).toBe(-12.345);
    expect(f.uint(2)).toBe(7);
    scanObject(Buffer.from('{"a":"2.6319e+3","b":"abc","c":"","d":"1e400","e":"9007199254740992"}'), 0, 200, f);
    expect(f.units(0, 2)).toBe(263190);
    expect(f.units(1, 2)).toBeNaN();
    expect(f.units(2, 2)).toBeNaN();
    expect(f.units(3, 2)).toBeNaN();
    expect(f.uint(4)).toBeNaN();
    expect(f.decNum(0)).toBeNaN(); // an exponent: the JSON path reads it
  });
  it('refuses what JSON.parse refuses (control characters, bad escapes, bad literals, trailing bytes)', () => {
    for (const t of ['{"a":"x\u0001y"}', '{"a":"x\\qy"}', '{"a":tru}', '{"a":01}', '{"a":1.}', '{"a":[1,]}', '{"a":{"b":1,}}', '{"a":"1"} x', '{"a" :1}']) {
      const b = Buffer.from(t);
      expect(scanFrame(b, f), t).toBe(false);
    }
    expect(scanFrame(Buffer.from('{"a": "1", "b": [1, {"c": null}]} '), f)).toBe(true);
  });
});
