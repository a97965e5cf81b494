/**
 * Allocation per order build (issue 4 / DEVELOPERS "prove it"): 200,000 orders after a forced GC, heap delta with
 * GC counted. The WS API frame (written into the reused buffer, before the one string a socket send needs) should
 * be 0 B/order; so should the Binance REST place body (template + HMAC from the key's pad midstates, both into the
 * reused writer: what sendPlace sends); the string forms pay for the body/signature strings.
 * Needs `node --expose-gc` (npm run bench has it). Run: npm run bench -- --filter orders-alloc
 */
import { PerformanceObserver } from 'node:perf_hooks';
import type { Bench } from 'tinybench';
import { BinanceOrderTemplate } from '../../src/exchange/binance/trade/template.js';
import { BybitOrderTemplate } from '../../src/exchange/bybit/trade/template.js';
import { HmacSha256 } from '../../src/codec/sign.js';
import { HmacHexSigner, blankOrderFields } from '../../src/codec/template.js';
import { AsciiWriter } from '../../src/codec/wire.js';

async function measure(name: string, n: number, step: (i: number) => void, gc: () => void): Promise<void> {
  for (let i = 0; i < 10_000; i++) step(i); // warm up (JIT)
  let gcs = 0;
  const obs = new PerformanceObserver((l) => (gcs += l.getEntries().length));
  obs.observe({ entryTypes: ['gc'] });
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < n; i++) step(i);
  const delta = process.memoryUsage().heapUsed - before;
  await new Promise((r) => setTimeout(r, 50)); // gc entries are delivered asynchronously
  obs.disconnect();
  process.stdout.write(
    `orders-alloc: ${name}: ${n} orders, heap delta ${delta} B (${(delta / n).toFixed(1)} B/order), GCs during the loop: ${gcs}` +
      (gcs > 0 ? ' (the delta is after those collections: the loop allocates)' : '') +
      '\n',
  );
}

export default async function register(bench: Bench): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  const h = new HmacSha256('NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j'); // Binance docs example key
  const signer = new HmacHexSigner(h);
  const bn = new BinanceOrderTemplate('usdm', { symbol: 'BTCUSDT', priceDecimals: 1, qtyDecimals: 3 });
  const by = new BybitOrderTemplate('linear', { symbol: 'BTCUSDT', priceDecimals: 1, qtyDecimals: 3 }, 'APIKEY0123456789');
  const w = new AsciiWriter();
  const f = Object.assign(blankOrderFields(), { qty: 10, clientOrderId: 'twmhx3k2a01z9q-1' });
  const out = { body: '', sign: '' };
  let sink = 0;
  const wsStep = (i: number): void => {
    f.price = 500001 + (i & 1023);
    f.timestampMs = 1763778000000 + i;
    sink += bn.wsPlace(w, 'r1', f).pos;
  };
  const bnStep = (i: number): void => {
    f.price = 500001 + (i & 1023);
    f.timestampMs = 1763778000000 + i;
    sink += bn.restBodyText(w, f, signer.sign).length;
  };
  const bnWriterStep = (i: number): void => {
    f.price = 500001 + (i & 1023);
    f.timestampMs = 1763778000000 + i;
    sink += bn.restBody(w, f, signer).pos;
  };
  const byStep = (i: number): void => {
    f.price = 500001 + (i & 1023);
    f.timestampMs = 1763778000000 + i;
    by.restBodyText(w, f, h, out);
    sink += out.sign.length;
  };
  if (gc) {
    await measure('binance WS API frame into the reused buffer', 200_000, wsStep, gc);
    await measure('binance REST body + HMAC signature into the reused writer (sendPlace)', 200_000, bnWriterStep, gc);
    await measure('binance REST body + HMAC signature (strings)', 200_000, bnStep, gc);
    await measure('bybit REST body + HMAC signature (strings)', 200_000, byStep, gc);
  } else process.stdout.write('orders-alloc: skipped (run with node --expose-gc)\n');
  let i = 0;
  bench.add('orders alloc: binance WS API frame build', () => wsStep(i++));
  if (sink < 0) process.stdout.write(String(sink));
}
