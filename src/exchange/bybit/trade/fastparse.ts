/**
 * Byte-level parsing of the hot Bybit frames (src/orders/bytescan.ts): private `execution` pushes (every item of
 * `data`) and the trade-WS `order.create` ack. Produces exactly what parse.ts produces from the same bytes (tested on
 * the fixtures); anything else returns 'fallback' and goes through JSON.parse.
 *
 * NOT wired into the streams: measured in the same run (bench/suites/orders-parse.ts), it is no faster than
 * JSON.parse on these frames (execution push ~3.3 vs ~3.1 µs, create ack ~1.0 vs ~0.95 µs: long string keys and
 * values, no big-id quoting pass to save), unlike the Binance events (3-3.7x faster). Kept for the benchmark.
 */
import type { VenueId } from '../../../core/types.js';
import { Fields, Interner, NameSet, VK, forEachElement, scanObject } from '../../../orders/bytescan.js';
import type { ScaleLookup } from '../../../orders/scale.js';
import { obj } from '../../../orders/json.js';
import type { OrderEvent } from '../../../orders/types.js';
import { executionItem, type PrivateHandlers } from './parse.js';

const OUTER = new NameSet(['topic', 'data', 'op', 'reqId', 'retCode', 'retMsg']);
const enum O { topic, data, op, reqId, retCode, retMsg }
const ITEM = new NameSet(['category', 'symbol', 'execType', 'orderLinkId', 'orderId', 'leavesQty', 'execId', 'execPrice', 'execQty', 'execFee', 'feeCurrency', 'isMaker', 'execTime']);
const enum I { category, symbol, execType, orderLinkId, orderId, leavesQty, execId, execPrice, execQty, execFee, feeCurrency, isMaker, execTime }
const WORDS = new NameSet(['execution', 'linear', 'spot', 'Trade', 'order.create']);
const W_EXECUTION = 0;
const W_LINEAR = 1;
const W_SPOT = 2;
const W_TRADE = 3;
const W_CREATE = 4;
const ACK = new NameSet(['orderId', 'orderLinkId']);

/** 'malformedTail': the data array broke after some items (reported); count it as malformed */
export type FastResult = 'execution' | 'fallback' | 'malformedTail';

export interface CreateAck {
  reqId: string;
  retCode: number;
  orderId: string;
  orderLinkId: string;
}

export class BybitFastParser {
  private readonly outer = new Fields(OUTER);
  private readonly item = new Fields(ITEM);
  private readonly ack = new Fields(ACK);
  private readonly symbols = new Interner();
  private readonly assets = new Interner();
  private out: OrderEvent | undefined;
  private h: PrivateHandlers | undefined;
  private localNs = 0;
  private readonly each = (start: number): number => this.onItem(start);

  constructor(private readonly scale: ScaleLookup) {}

  /** A private-stream frame: 'execution' when every item was an execution handled here. */
  parsePrivate(buf: Buffer, out: OrderEvent, h: PrivateHandlers, localNs: number): FastResult {
    const f = this.outer;
    if (scanObject(buf, 0, buf.length, f) < 0) return 'fallback';
    if (f.word(O.topic, WORDS) !== W_EXECUTION || f.kind[O.data] !== VK.Arr) return 'fallback';
    // one pass, emitting as it goes; items are handled exactly as parse.ts executionItem does (it skips what it skips)
    this.out = out;
    this.h = h;
    this.localNs = localNs;
    const r = forEachElement(buf, f.start[O.data]!, f.end[O.data]!, this.each);
    this.out = undefined;
    this.h = undefined;
    // malformed data array: the items before the bad one were reported; the JSON path would throw on the whole frame
    return r < 0 ? 'malformedTail' : 'execution';
  }

  private onItem(start: number): number {
    const f = this.item;
    const buf = this.outer.buf;
    const end = scanObject(buf, start, this.outer.end[O.data]!, f);
    if (end < 0) return -1;
    const k = f.kind;
    const out = this.out!;
    if (k[I.symbol] === VK.Escaped || k[I.orderLinkId] === VK.Escaped || k[I.execId] === VK.Escaped || k[I.orderId] === VK.Escaped || k[I.feeCurrency] === VK.Escaped || k[I.category] === VK.Escaped || k[I.execType] === VK.Escaped) {
      // a string with an escape: this item through JSON.parse (rare)
      let o;
      try {
        o = obj(JSON.parse(buf.toString('utf8', start, end)));
      } catch {
        return -1;
      }
      if (o) executionItem(o, this.scale, out, this.h!, this.localNs);
      return end;
    }
    const cat = f.word(I.category, WORDS);
    const venue: VenueId | undefined = cat === W_LINEAR ? 'bybitLinear' : cat === W_SPOT ? 'bybitSpot' : undefined;
    if (!venue) return end;
    const et = f.word(I.execType, WORDS);
    const etEmpty = k[I.execType] === VK.Absent || (k[I.execType] === VK.Str && f.end[I.execType] === f.start[I.execType]);
    if (et !== W_TRADE && !etEmpty) return end; // funding, settlement, ADL: not our fills
    const symbol = this.symbols.get(f, I.symbol);
    const sc = this.scale(venue, symbol);
    if (!sc) return end;
    out.venue = venue;
    out.symbol = symbol;
    out.kind = 'fill';
    out.clientOrderId = f.text(I.orderLinkId);
    out.exchangeOrderId = f.text(I.orderId);
    const leavesGiven = k[I.leavesQty] !== VK.Absent && f.end[I.leavesQty]! > f.start[I.leavesQty]!;
    out.state = leavesGiven && f.num(I.leavesQty) === 0 ? 'FILLED' : 'PARTIALLY_FILLED';
    out.tradeId = f.text(I.execId);
    out.fillPrice = f.scaled(I.execPrice, sc.priceDecimals);
    out.fillQty = f.scaled(I.execQty, sc.qtyDecimals);
    out.cumQty = 0;
    out.fee = f.num(I.execFee);
    out.feeAsset = k[I.feeCurrency] === VK.Str ? this.assets.get(f, I.feeCurrency) : '';
    out.maker = f.bool(I.isMaker);
    out.orderPrice = 0;
    out.orderQty = 0;
    out.code = 0;
    out.reason = '';
    out.exchTimeMs = f.num(I.execTime);
    out.localNs = this.localNs;
    out.source = 'stream';
    this.h!.order(out);
    return end;
  }

  /** trade-WS `order.create` ack fields into `out`; false when the frame is something else (use JSON.parse). */
  parseCreateAck(buf: Buffer, out: CreateAck): boolean {
    const f = this.outer;
    if (scanObject(buf, 0, buf.length, f) < 0) return false;
    if (f.word(O.op, WORDS) !== W_CREATE || f.kind[O.reqId] !== VK.Str || f.kind[O.retCode] !== VK.Lit) return false;
    out.reqId = f.text(O.reqId);
    out.retCode = f.num(O.retCode);
    out.orderId = '';
    out.orderLinkId = '';
    if (f.kind[O.data] === VK.Obj) {
      const a = this.ack;
      if (scanObject(buf, f.start[O.data]!, f.end[O.data]!, a) < 0) return false;
      if (a.kind[0] === VK.Escaped || a.kind[1] === VK.Escaped) return false;
      out.orderId = a.text(0);
      out.orderLinkId = a.text(1);
    }
    return true;
  }
}
