/**
 * Cost per frame of the hot order/fill events: the JSON path (JSON.parse + the big-id quoting pass + field reads into
 * the OrderEvent) vs the byte-level path (src/codec/bytescan.ts: one scan over the bytes, numbers read in place).
 * Same frames, same OrderEvent out, same run: compare the pairs' ratios.
 *  - Binance Spot executionReport TRADE (WS API wrapped), USD-M ORDER_TRADE_UPDATE TRADE and TRADE_LITE (id > 2^53),
 *  - Bybit private execution push, Bybit trade-WS order.create ack.
 * The JSON path includes the Buffer -> string decode the stream does before it (the byte path needs none).
 * Also prints the GCs and heap delta over 100,000 frames per path (allocation: needs node --expose-gc).
 * Run: npm run bench -- --filter orders-parse
 */
import { PerformanceObserver } from 'node:perf_hooks';
import type { Bench } from 'tinybench';
import { BinanceFastUserParser } from '../../src/exchange/binance/trade/fastparse.js';
import { parseUserFrame } from '../../src/exchange/binance/trade/parse.js';
import { BybitFastParser, type CreateAck } from '../../src/exchange/bybit/trade/fastparse.js';
import { parsePrivateFrame } from '../../src/exchange/bybit/trade/parse.js';
import { scaleTable } from '../../src/codec/scale.js';
import { blankOrderEvent } from '../../src/model/orders.js';

const ER =
  '{"subscriptionId":0,"event":{"e":"executionReport","E":1795318841606,"s":"BTCUSDT","c":"twmhx3k2a01z9q-1","S":"BUY","o":"LIMIT","f":"GTC","q":"0.06000","p":"97000.03","P":"0.00","F":"0.00000","g":-1,"C":"","x":"TRADE","X":"PARTIALLY_FILLED","r":"NONE","i":1000007,"l":"0.02068","z":"0.02068","L":"97000.03","n":"0.00","N":"BTC","T":1795318841606,"t":58,"I":12,"w":true,"m":false,"M":false,"O":1795318841600,"Z":"2005.96062","Y":"2005.96062","Q":"0.00","W":1795318841600,"V":"NONE"}}';
const OTU =
  '{"e":"ORDER_TRADE_UPDATE","T":1795318841606,"E":1795318841607,"o":{"s":"BTCUSDT","c":"twmhx3k2a01z9q-2","S":"BUY","o":"LIMIT","f":"GTC","q":"0.010","p":"97000.10","ap":"97000.10","sp":"0","x":"TRADE","X":"PARTIALLY_FILLED","i":8389765739703625592,"l":"0.002","z":"0.002","L":"97000.10","N":"USDT","n":"0.07760008","T":1795318841606,"t":5873123456,"b":"0","a":"0","m":false,"R":false,"wt":"CONTRACT_PRICE","ot":"LIMIT","ps":"BOTH","cp":false,"AP":"0","cr":"0","pP":false,"si":0,"ss":0,"rp":"0","V":"EXPIRE_MAKER","pm":"NONE","gtd":0}}';
const TL =
  '{"e":"TRADE_LITE","E":1795318841607,"T":1795318841606,"s":"BTCUSDT","q":"0.010","p":"97000.10","m":false,"c":"twmhx3k2a01z9q-2","S":"BUY","L":"97000.10","l":"0.002","t":5873123456,"i":8389765739703625592}';
const BY_EXEC =
  '{"topic":"execution","id":"386825804_BTCUSDT_140612148849382","creationTime":1746270400355,"data":[{"category":"linear","symbol":"BTCUSDT","closedSize":"0","execFee":"0.0533","execId":"0ab1bdf7-4219-438b-b30a-32ec863018f7","execPrice":"95900.1","execQty":"0.002","execType":"Trade","execValue":"191.8002","feeRate":"0.00055","tradeIv":"","markIv":"","blockTradeId":"","markPrice":"95901.48","indexPrice":"","underlyingPrice":"","leavesQty":"0.008","orderId":"9aac161b-8ed6-450d-9cab-c5cc67c21784","orderLinkId":"twmhx3k2a01z9q-3","orderPrice":"95900.1","orderQty":"0.01","orderType":"Limit","stopOrderType":"UNKNOWN","side":"Buy","execTime":"1746270400353","isLeverage":"0","isMaker":false,"seq":140612148849382,"marketUnit":"","execPnl":"0","createType":"CreateByUser","extraFees":[],"feeCurrency":"USDT"}]}';
const BY_ACK =
  '{"reqId":"twm-r-17","retCode":0,"retMsg":"OK","op":"order.create","data":{"orderId":"1321003749386327552","orderLinkId":"twmhx3k2a01z9q-4"},"retExtInfo":{},"header":{"X-Bapi-Limit":"10","X-Bapi-Limit-Status":"9","X-Bapi-Limit-Reset-Timestamp":"1711001595207","Traceid":"77b0b5f1d1c9c1b2b1a1e0d9c8b7a6f5","Timenow":"1711001595207"},"connId":"cpv85t788smd8vfdb8p0-2f"}';

async function allocOf(name: string, n: number, step: () => void): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 10_000; i++) step();
  let gcs = 0;
  const obs = new PerformanceObserver((l) => (gcs += l.getEntries().length));
  obs.observe({ entryTypes: ['gc'] });
  gc?.();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < n; i++) step();
  const delta = process.memoryUsage().heapUsed - before;
  await new Promise((r) => setTimeout(r, 50));
  obs.disconnect();
  process.stdout.write(`orders-parse alloc: ${name}: ${n} frames, GCs ${gcs}, heap delta ${delta} B (${(delta / n).toFixed(1)} B/frame after those GCs)\n`);
}

export default async function register(bench: Bench): Promise<void> {
  const scale = scaleTable([
    { venue: 'binanceSpot', symbol: 'BTCUSDT', priceDecimals: 2, qtyDecimals: 5 },
    { venue: 'binanceUsdm', symbol: 'BTCUSDT', priceDecimals: 2, qtyDecimals: 3 },
    { venue: 'bybitLinear', symbol: 'BTCUSDT', priceDecimals: 1, qtyDecimals: 3 },
  ]);
  const ev = blankOrderEvent();
  let sink = 0;
  const h = {
    order: (e: typeof ev) => {
      sink += e.fillQty;
    },
  };
  const spot = new BinanceFastUserParser('binanceSpot', scale);
  const usdm = new BinanceFastUserParser('binanceUsdm', scale);
  const by = new BybitFastParser(scale);
  const bufs = { er: Buffer.from(ER), otu: Buffer.from(OTU), tl: Buffer.from(TL), ex: Buffer.from(BY_EXEC), ack: Buffer.from(BY_ACK) };

  bench.add('orders-parse: spot executionReport TRADE, JSON path', () => {
    parseUserFrame(bufs.er.toString('utf8'), 'binanceSpot', scale, ev, h, 1);
  });
  bench.add('orders-parse: spot executionReport TRADE, byte path', () => {
    spot.parse(bufs.er, ev, h, 1);
  });
  bench.add('orders-parse: usdm ORDER_TRADE_UPDATE TRADE, JSON path', () => {
    parseUserFrame(bufs.otu.toString('utf8'), 'binanceUsdm', scale, ev, h, 1);
  });
  bench.add('orders-parse: usdm ORDER_TRADE_UPDATE TRADE, byte path', () => {
    usdm.parse(bufs.otu, ev, h, 1);
  });
  bench.add('orders-parse: usdm TRADE_LITE, JSON path', () => {
    parseUserFrame(bufs.tl.toString('utf8'), 'binanceUsdm', scale, ev, h, 1);
  });
  bench.add('orders-parse: usdm TRADE_LITE, byte path', () => {
    usdm.parse(bufs.tl, ev, h, 1);
  });
  bench.add('orders-parse: bybit execution, JSON path', () => {
    parsePrivateFrame(bufs.ex.toString('utf8'), scale, ev, h, 1);
  });
  bench.add('orders-parse: bybit execution, byte path', () => {
    by.parsePrivate(bufs.ex, ev, h, 1);
  });
  const ack: CreateAck = { reqId: '', retCode: 0, orderId: '', orderLinkId: '' };
  bench.add('orders-parse: bybit order.create ack, JSON.parse + reads', () => {
    const j = JSON.parse(bufs.ack.toString('utf8')) as { reqId: string; retCode: number; data?: { orderId?: string; orderLinkId?: string } };
    ack.reqId = j.reqId;
    ack.retCode = j.retCode;
    ack.orderId = j.data?.orderId ?? '';
    ack.orderLinkId = j.data?.orderLinkId ?? '';
    sink += ack.retCode;
  });
  bench.add('orders-parse: bybit order.create ack, byte path', () => {
    by.parseCreateAck(bufs.ack, ack);
    sink += ack.retCode;
  });
  await allocOf('usdm ORDER_TRADE_UPDATE, JSON path', 100_000, () => parseUserFrame(bufs.otu.toString('utf8'), 'binanceUsdm', scale, ev, h, 1));
  await allocOf('usdm ORDER_TRADE_UPDATE, byte path', 100_000, () => usdm.parse(bufs.otu, ev, h, 1));
  await allocOf('spot executionReport, JSON path', 100_000, () => parseUserFrame(bufs.er.toString('utf8'), 'binanceSpot', scale, ev, h, 1));
  await allocOf('spot executionReport, byte path', 100_000, () => spot.parse(bufs.er, ev, h, 1));
  if (sink < 0) console.log(sink);
}
