/**
 * Order build + sign vs bare createHmac over the same payload (issue 4 goal: within 1.3x).
 *  - "orders: bare createHmac hex" : createHmac(secret).update(<prebuilt body string>).digest('hex')
 *  - "orders: binance template build+sign" : write changing fields into the per-instrument template + HMAC + hex
 *  - "orders: binance template build+sign into the writer" : what sendPlace does (no string, no allocation)
 *  - "orders: HMAC pad midstates (JS) into a buffer" : the per-order HMAC alone, same payload as the bare createHmac
 *  - "orders: bybit template build+sign"   : JSON body into the template + HMAC over ts+key+recv+body
 * Run: npm run bench (bench/run.ts runs every suite); compare the ratios within one run.
 */
import { createHmac } from 'node:crypto';
import type { Bench } from 'tinybench';
import { BinanceOrderTemplate } from '../../src/exchange/binance/trade/template.js';
import { BybitOrderTemplate } from '../../src/exchange/bybit/trade/template.js';
import { HmacSha256, Sha256Hmac } from '../../src/codec/sign.js';
import { HmacHexSigner, blankOrderFields } from '../../src/codec/template.js';
import { AsciiWriter } from '../../src/codec/wire.js';

const SECRET = 'NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j'; // Binance docs example key

export default function register(bench: Bench): void {
  const h = new HmacSha256(SECRET);
  const signer = new HmacHexSigner(h);
  const bn = new BinanceOrderTemplate('usdm', { symbol: 'BTCUSDT', priceDecimals: 1, qtyDecimals: 3 }, 5000, 'RESULT');
  const by = new BybitOrderTemplate('linear', { symbol: 'BTCUSDT', priceDecimals: 1, qtyDecimals: 3 }, 'APIKEY0123456789', 5000);
  const w = new AsciiWriter();
  const f = blankOrderFields();
  f.side = 'BUY';
  f.qty = 10;
  f.clientOrderId = 'twmhx3k2a01z9q-1';
  let price = 500001;
  let ts = 1763778000000;
  let sink = 0;
  // the same payload (length and shape) the templates produce, prebuilt as a string for the bare baseline
  f.price = price;
  f.timestampMs = ts;
  const bnPayload = bn.restBody(w, f, signer).toString().split('&signature=')[0]!;
  by.restBody(w, f, h);
  const byPayload = String(ts) + 'APIKEY0123456789' + '5000' + w.toString();

  bench.add('orders: bare createHmac hex (binance payload)', () => {
    sink += createHmac('sha256', SECRET).update(bnPayload).digest('hex').length;
  });
  const js = new Sha256Hmac(Buffer.from(SECRET));
  const payloadBytes = Buffer.from(bnPayload, 'latin1');
  const hexOut = new Uint8Array(64);
  bench.add('orders: HMAC pad midstates (JS) into a buffer (binance payload)', () => {
    sink += js.begin().update(payloadBytes, 0, payloadBytes.length).hexInto(hexOut, 0);
  });
  bench.add('orders: binance template build+sign into the writer', () => {
    f.price = price++;
    f.timestampMs = ts++;
    sink += bn.restBody(w, f, signer).pos;
  });
  const sign = signer.sign;
  bench.add('orders: binance template build+sign', () => {
    f.price = price++;
    f.timestampMs = ts++;
    sink += bn.restBodyText(w, f, sign).length;
  });
  bench.add('orders: bare createHmac hex (bybit payload)', () => {
    sink += createHmac('sha256', SECRET).update(byPayload).digest('hex').length;
  });
  const out = { body: '', sign: '' };
  bench.add('orders: bybit template build+sign', () => {
    f.price = price++;
    f.timestampMs = ts++;
    by.restBodyText(w, f, h, out);
    sink += out.sign.length;
  });
  bench.add('orders: binance WS API frame build (no sign, session.logon)', () => {
    f.price = price++;
    f.timestampMs = ts++;
    sink += bn.wsPlace(w, 'r1', f).pos;
  });
  if (sink < 0) console.log(sink);
}
