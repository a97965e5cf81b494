/**
 * The parsers' fast paths (combined-wrapper prefix, one-pass level decimals, bookTicker decimals) must agree
 * with the general path on every input: the same frame with a space after each ':' and ',' takes the general
 * path only, so both spellings must give the same reason and the same values, for valid numbers of every shape
 * (no fraction, short/padded fraction, trailing zeros beyond the scale, 9 and 10 integer digits) and invalid ones
 * (precision, sign, exponent, empty, leading or trailing dot, a price of zero).
 */
import { describe, expect, it } from 'vitest';
import { SymbolTable } from '../../src/md/common.js';
import { parseScaled } from '../../src/util/fixed.js';
import { Reason } from '../../src/codec/scan.js';
import { BinanceParser } from '../../src/exchange/binance/md/parser.js';
import { BybitParser } from '../../src/exchange/bybit/md/parser.js';

const B = (s: string) => Buffer.from(s, 'utf8');
/** the general path's spelling: a space after every ':' and ',' outside strings */
const spaced = (s: string) => s.replace(/([:,])(?=(?:[^"]*"[^"]*")*[^"]*$)/g, '$1 ');

function bn(): BinanceParser {
  const t = new SymbolTable();
  t.add('BTCUSDT');
  return new BinanceParser(t, [2], [8]);
}

const NUMS = [
  '0',
  '1',
  '97000',
  '97000.1',
  '97000.12',
  '97000.12000000',
  '97000.10000000',
  '0.00000001',
  '0.01300000',
  '123456789',
  '123456789.5',
  '1234567890',
  '1234567890.12',
  '97000.',
  '97000.123',
  '0.000000001',
  '0.000000010',
  '-1',
  '1e5',
  '',
  '.5',
  '00012.30',
  '9007199254740991',
  '90071992547409.93',
];

function snapshot(p: BinanceParser, r: number): unknown {
  return {
    r,
    kind: p.kind,
    sym: p.sym,
    U: p.U,
    u: p.u,
    E: p.E,
    bids: Array.from(p.bids.px.subarray(0, p.bids.n)).concat(Array.from(p.bids.qty.subarray(0, p.bids.n))),
    asks: Array.from(p.asks.px.subarray(0, p.asks.n)).concat(Array.from(p.asks.qty.subarray(0, p.asks.n))),
    top: [p.bidPx, p.bidQty, p.askPx, p.askQty],
  };
}

describe('fast paths agree with the general path', () => {
  it('binance depth levels: every number shape as price and as size, and every truncation', () => {
    const p = bn();
    let ok = 0;
    for (const a of NUMS) {
      for (const q of NUMS) {
        const f = `{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1700000000000,"s":"BTCUSDT","U":10,"u":12,"b":[["97000.00","1.00000000"],["${a}","${q}"]],"a":[["${q}","${a}"]]}}`;
        const fast = snapshot(p, p.parse(B(f)));
        const slow = snapshot(p, p.parse(B(spaced(f))));
        expect(fast, f).toEqual(slow);
        if ((fast as { r: number }).r === Reason.Ok) ok++;
      }
    }
    expect(ok).toBeGreaterThan(20);
    expect(ok).toBeLessThan(NUMS.length * NUMS.length);
    const f = '{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":10,"u":12,"b":[["97000.12000000","0.01300000"]],"a":[]}}';
    for (let n = 0; n < f.length; n++) expect(p.parse(B(f.slice(0, n))), f.slice(0, n)).not.toBe(Reason.Ok);
  });

  it('binance bookTicker: every number shape, wrapped and raw', () => {
    const p = bn();
    for (const a of NUMS) {
      for (const wrap of [true, false]) {
        const body = `{"u":400900217,"s":"BTCUSDT","b":"${a}","B":"${a}","a":"97001.00","A":"0.5"}`;
        const f = wrap ? `{"stream":"btcusdt@bookTicker","data":${body}}` : body;
        const r = p.parse(B(f));
        expect(snapshot(p, r), f).toEqual(snapshot(p, p.parse(B(spaced(f)))));
        // the decimals take the fast path in both spellings: check them against util/fixed's parseScaled too
        const px = parseScaled(a, 2);
        const qty = parseScaled(a, 8);
        // `digits[.digits]` only ("97000." and ".5" are not decimals), and a price of zero is refused
        const shape = /^[0-9]+(\.[0-9]+)?$/.test(a);
        if (!shape || px === 0 || Number.isNaN(px) || Number.isNaN(qty) || px > Number.MAX_SAFE_INTEGER || qty > Number.MAX_SAFE_INTEGER)
          expect(r, f).not.toBe(Reason.Ok);
        else {
          expect(r, f).toBe(Reason.Ok);
          expect([p.bidPx, p.bidQty], f).toEqual([px, qty]);
        }
      }
    }
  });

  it('a wrapper spelled differently (a quote escaped in the stream name) still parses', () => {
    const p = bn();
    const body = '{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":10,"u":12,"b":[["97000.00","1"]],"a":[]}';
    for (const f of [`{"stream":"btcusdt@depth","data":${body}}`, `{"stream":"btc\\"usdt","data":${body}}`]) {
      expect(p.parse(B(f)), f).toBe(Reason.Ok);
      expect(p.bids.n).toBe(1);
      expect(p.bids.px[0]).toBe(9700000);
    }
  });

  it('bybit delta levels: every number shape', () => {
    const t = new SymbolTable();
    t.add('BTCUSDT');
    const p = new BybitParser(t, [2], [3]);
    const snap = (r: number) => ({ r, u: p.u, b: Array.from(p.bids.px.subarray(0, p.bids.n)).concat(Array.from(p.bids.qty.subarray(0, p.bids.n))) });
    for (const a of NUMS) {
      for (const q of NUMS) {
        const f = `{"topic":"orderbook.200.BTCUSDT","type":"delta","ts":1,"data":{"s":"BTCUSDT","b":[["${a}","${q}"]],"a":[],"u":5,"seq":7},"cts":1}`;
        expect(snap(p.parse(B(f))), f).toEqual(snap(p.parse(B(spaced(f)))));
      }
    }
  });
});
