/**
 * Parser unit tests on the fixtures' exact bytes, plus every kind of bad input (truncated at every byte,
 * non-numeric, negative, too precise, unknown symbol, random corruption): a reason, never an exception.
 */
import { describe, expect, it } from 'vitest';
import { SymbolTable } from '../../src/md/common.js';
import { Reason } from '../../src/codec/scan.js';
import { BinanceParser, BnMsg } from '../../src/exchange/binance/md/parser.js';
import { BybitParser, BbMsg } from '../../src/exchange/bybit/md/parser.js';
import { loadCapture } from './helpers.js';

function bnParser(): BinanceParser {
  const t = new SymbolTable();
  t.add('NKNUSDT');
  t.add('SUSHIUSDT');
  t.add('LRCBTC');
  // NKNUSDT: tick 0.0001, step 1; SUSHIUSDT: tick 0.001, step 1; LRCBTC: tick 1e-8, step 1
  return new BinanceParser(t, [4, 3, 8], [0, 0, 0]);
}
function bbParser(): BybitParser {
  const t = new SymbolTable();
  t.add('BTCUSDT');
  return new BybitParser(t, [2], [6]);
}
const B = (s: string) => Buffer.from(s, 'utf8');

describe('binance parser on captured bytes', () => {
  const spot = loadCapture('binance/spot_capture_2021-10-12_cryptofeed.ndjson');
  const usdm = loadCapture('binance/usdm_capture_2021-07-22_cryptofeed.ndjson');

  it('spot depthUpdate in the combined wrapper', () => {
    const line = spot.find((l) => l.data?.includes('"nknusdt@depth@100ms"'))!;
    expect(line.data).toContain('"U":499869750,"u":499869752');
    const p = bnParser();
    expect(p.parse(B(line.data!))).toBe(Reason.Ok);
    expect(p.kind).toBe(BnMsg.Depth);
    expect(p.sym).toBe(0);
    expect([p.U, p.u, p.E]).toEqual([499869750, 499869752, 1633998512068]);
    // "b":[["0.35130000","6195.00000000"],["0.34750000","5548.00000000"],["0.34640000","6222.00000000"]],"a":[]
    expect(p.bids.n).toBe(3);
    expect([p.bids.px[0], p.bids.qty[0], p.bids.px[2], p.bids.qty[2]]).toEqual([3513, 6195, 3464, 6222]);
    expect(p.asks.n).toBe(0);
  });

  it('spot bookTicker (no e, no E)', () => {
    const line = spot.find((l) => l.data?.includes('"nknusdt@bookTicker"'))!;
    const p = bnParser();
    expect(p.parse(B(line.data!))).toBe(Reason.Ok);
    expect(p.kind).toBe(BnMsg.BookTicker);
    // {"u":499869768,"s":"NKNUSDT","b":"0.35210000","B":"672.00000000","a":"0.35260000","A":"3199.00000000"}
    expect([p.u, p.bidPx, p.bidQty, p.askPx, p.askQty]).toEqual([499869768, 3521, 672, 3526, 3199]);
  });

  it('spot aggTrade: a is the trade id, m=false -> buyer aggressor', () => {
    const line = spot.find((l) => l.data?.includes('"nknusdt@aggTrade"'))!;
    const p = bnParser();
    expect(p.parse(B(line.data!))).toBe(Reason.Ok);
    expect(p.kind).toBe(BnMsg.Trade);
    expect([p.tradePx, p.tradeQty, p.tradeSide, p.T]).toEqual([3528, 58, 1, 1633998523963]);
  });

  it('usdm depthUpdate with pu, E, T', () => {
    const line = usdm.find((l) => l.data?.includes('"sushiusdt@depth@100ms"'))!;
    const p = bnParser();
    expect(p.parse(B(line.data!))).toBe(Reason.Ok);
    expect(p.kind).toBe(BnMsg.Depth);
    expect([p.U, p.u, p.pu, p.E, p.T]).toEqual([600859599090, 600859600917, 600859598061, 1626992741037, 1626992741024]);
    // "b":[["7.5040","813"],["7.6090","0"],["7.6110","2"]],"a":[["7.6150","1563"],["7.6220","3284"]]
    expect(Array.from(p.bids.px.subarray(0, 3))).toEqual([7504, 7609, 7611]);
    expect(Array.from(p.bids.qty.subarray(0, 3))).toEqual([813, 0, 2]);
    expect(Array.from(p.asks.px.subarray(0, 2))).toEqual([7615, 7622]);
  });

  it('usdm bookTicker with e, E, T', () => {
    const line = usdm.find((l) => l.data?.includes('"sushiusdt@bookTicker"'))!;
    const p = bnParser();
    expect(p.parse(B(line.data!))).toBe(Reason.Ok);
    expect(p.kind).toBe(BnMsg.BookTicker);
    expect([p.u, p.bidPx, p.bidQty, p.askPx, p.askQty, p.E]).toEqual([600859600576, 7611, 2, 7612, 297, 1626992741017]);
  });

  it('raw (non-combined) stream, fields in another order, and control responses', () => {
    const p = bnParser();
    expect(p.parse(B('{"b":[["7.6110","2"]],"a":[],"U":5,"u":6,"pu":4,"s":"SUSHIUSDT","e":"depthUpdate","E":1}'))).toBe(Reason.Ok);
    expect(p.kind).toBe(BnMsg.Depth);
    expect([p.bids.n, p.bids.px[0], p.pu]).toEqual([1, 7611, 4]);
    expect(p.parse(B('{"result":null,"id":1}'))).toBe(Reason.Ok);
    expect(p.kind).toBe(BnMsg.Cold);
    expect(p.parse(B('{"e":"serverShutdown","E":1}'))).toBe(Reason.Ok);
    expect(p.kind).toBe(BnMsg.Cold);
    const kline = spot.find((l) => l.data?.includes('@kline_1m'))!;
    expect(p.parse(B(kline.data!))).toBe(Reason.Ok);
    expect(p.kind).toBe(BnMsg.Ignored);
  });

  it('rejects bad values with a reason', () => {
    const p = bnParser();
    const base = (b: string) => `{"stream":"nknusdt@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"NKNUSDT","U":1,"u":2,"b":[${b}],"a":[]}}`;
    expect(p.parse(B(base('["0.3513","-5"]')))).toBe(Reason.Negative);
    expect(p.parse(B(base('["0.3513","abc"]')))).toBe(Reason.NotNumber);
    expect(p.parse(B(base('["0.3513",""]')))).toBe(Reason.NotNumber);
    expect(p.parse(B(base('["0.35135","1"]')))).toBe(Reason.Precision);
    expect(p.parse(B(base('[0.3513,"1"]')))).toBe(Reason.NotNumber);
    expect(p.parse(B(base('["0.3513","1e5"]')))).toBe(Reason.NotNumber);
    expect(p.parse(B(base('["99999999999999999999","1"]')))).toBe(Reason.Range);
    expect(p.parse(B(base('["0.3513" "1"]')))).toBe(Reason.Syntax);
    expect(p.parse(B('{"stream":"btcusdt@depth","data":{"e":"depthUpdate","s":"BTCUSDT","U":1,"u":2,"b":[],"a":[]}}'))).toBe(Reason.UnknownSymbol);
    expect(p.parse(B('{"stream":"nknusdt@depth","data":{"e":"depthUpdate","s":"NKNUSDT","u":2,"b":[],"a":[]}}'))).toBe(Reason.MissingField);
    expect(p.parse(B('{"stream":"nknusdt@depth","data":{"e":"depthUpdate","s":"NKNUSDT","U":-1,"u":2,"b":[],"a":[]}}'))).toBe(Reason.Negative);
    expect(p.parse(B(''))).toBe(Reason.NotObject);
    expect(p.parse(B('hello'))).toBe(Reason.NotObject);
    expect(p.parse(B('[1,2]'))).toBe(Reason.NotObject);
  });

  it('every truncation of every captured frame is rejected, never thrown', () => {
    const p = bnParser();
    const frames = [
      spot.find((l) => l.data?.includes('"nknusdt@depth@100ms"'))!.data!,
      spot.find((l) => l.data?.includes('"nknusdt@bookTicker"'))!.data!,
      usdm.find((l) => l.data?.includes('"sushiusdt@depth@100ms"'))!.data!,
    ];
    for (const f of frames) {
      const b = B(f);
      for (let n = 0; n < b.length; n++) {
        const r = p.parse(b.subarray(0, n));
        expect(r, `prefix ${n} of ${f.slice(0, 40)}`).not.toBe(Reason.Ok);
      }
      expect(p.parse(b)).toBe(Reason.Ok);
    }
  });

  it('random corruption never throws', () => {
    const p = bnParser();
    const src = B(usdm.find((l) => l.data?.includes('"sushiusdt@depth@100ms"'))!.data!);
    let seed = 12345;
    const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    for (let i = 0; i < 5000; i++) {
      const b = Buffer.from(src);
      const flips = 1 + Math.floor(rnd() * 4);
      for (let k = 0; k < flips; k++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
      expect(() => p.parse(b)).not.toThrow();
    }
  });
});

describe('bybit parser on captured bytes', () => {
  const lines = loadCapture('bybit/v5_public_capture_2026-08_cryptofeed.ndjson');

  it('orderbook snapshot and delta', () => {
    const p = bbParser();
    const snap = lines.find((l) => l.data?.includes('"orderbook.200.BTCUSDT","type":"snapshot"'))!;
    expect(p.parse(B(snap.data!))).toBe(Reason.Ok);
    expect(p.kind).toBe(BbMsg.Book);
    expect(p.snapshot).toBe(true);
    expect(p.bids.n).toBe(200);
    expect(p.asks.n).toBe(200);
    const j = JSON.parse(snap.data!) as { ts: number; data: { u: number; seq: number; b: string[][] } };
    expect([p.u, p.seq, p.ts]).toEqual([j.data.u, j.data.seq, j.ts]);
    expect(p.bids.px[0]).toBe(Math.round(Number(j.data.b[0]![0]) * 100));
    const delta = lines.find((l) => l.data?.includes('"orderbook.200.BTCUSDT","type":"delta"'))!;
    expect(p.parse(B(delta.data!))).toBe(Reason.Ok);
    expect(p.snapshot).toBe(false);
    expect(p.cts).toBeGreaterThan(0);
  });

  it('publicTrade, acks, pongs, other topics', () => {
    const p = bbParser();
    const tr = lines.find((l) => l.data?.includes('"topic":"publicTrade.BTCUSDT"'))!;
    expect(p.parse(B(tr.data!))).toBe(Reason.Ok);
    expect(p.kind).toBe(BbMsg.Trade);
    // {"T":1786310819680,"s":"BTCUSDT","S":"Sell","v":"0.004","p":"65114.20",...}
    expect([p.tradePx, p.tradeQty, p.tradeSide, p.tradeTime]).toEqual([6511420, 4000, -1, 1786310819680]);
    const ack = lines.find((l) => l.data?.includes('"op":"subscribe"') && l.t === 'recv')!;
    expect(p.parse(B(ack.data!))).toBe(Reason.Ok);
    expect(p.kind).toBe(BbMsg.Cold);
    expect(p.parse(B('{"success":true,"ret_msg":"pong","conn_id":"x","op":"ping"}'))).toBe(Reason.Ok);
    expect(p.kind).toBe(BbMsg.Cold);
    const kl = lines.find((l) => l.data?.includes('"topic":"kline.1.BTCUSDT"'))!;
    expect(p.parse(B(kl.data!))).toBe(Reason.Ok);
    expect(p.kind).toBe(BbMsg.Ignored);
  });

  it('data before topic is parsed once the topic is known', () => {
    const p = bbParser();
    expect(p.parse(B('{"data":{"s":"BTCUSDT","b":[["100.5","1"]],"a":[],"u":7,"seq":9},"type":"delta","topic":"orderbook.50.BTCUSDT","ts":3}'))).toBe(
      Reason.Ok,
    );
    expect([p.kind, p.u, p.bids.n, p.bids.px[0], p.bids.qty[0]]).toEqual([BbMsg.Book, 7, 1, 10050, 1000000]);
  });

  it('rejects bad values and truncations', () => {
    const p = bbParser();
    const f = (b: string) => B(`{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1,"data":{"s":"BTCUSDT","b":[${b}],"a":[],"u":2,"seq":3},"cts":1}`);
    expect(p.parse(f('["100.5","-1"]'))).toBe(Reason.Negative);
    expect(p.parse(f('["100.5","x"]'))).toBe(Reason.NotNumber);
    expect(p.parse(f('["100.501","1"]'))).toBe(Reason.Precision);
    expect(p.parse(B('{"topic":"orderbook.50.ETHUSDT","type":"delta","data":{"b":[],"a":[],"u":1}}'))).toBe(Reason.UnknownSymbol);
    expect(p.parse(B('{"topic":"orderbook.50.BTCUSDT","type":"delta","data":{"b":[],"a":[]}}'))).toBe(Reason.MissingField);
    const good = f('["100.5","1"]');
    for (let n = 0; n < good.length; n++) expect(p.parse(good.subarray(0, n))).not.toBe(Reason.Ok);
    expect(p.parse(good)).toBe(Reason.Ok);
  });
});
