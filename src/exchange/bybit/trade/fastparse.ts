/**
 * Byte-level parsing of the hot Bybit frames (src/codec/bytescan.ts): private `execution` pushes (every item of
 * `data`) and the trade-WS `order.create` ack. Produces exactly what parse.ts produces from the same bytes (tested on
 * the fixtures); anything else returns 'fallback' and goes through JSON.parse.
 *
 * NOT wired into the streams: measured in the same run (bench/suites/orders-parse.ts), it is no faster than
 * JSON.parse on these frames (execution push ~3.3 vs ~3.1 µs, create ack ~1.0 vs ~0.95 µs: long string keys and
 * values, no big-id quoting pass to save), unlike the Binance events (3-3.7x faster); since it validates the whole
 * frame and reads the items in two passes (whole or nothing) it is slower (~4.6 vs ~3.2 µs). Kept for the benchmark
 * and held to the same strict reference as the JSON path by test/fuzz.
 */
import type { VenueId } from '../../../model/types.js';
import { Fields, Interner, NameSet, VK, forEachElement, scanFrame, scanObject } from '../../../codec/bytescan.js';
import type { ScaleLookup } from '../../../codec/scale.js';
import { orderEventProblem, type OrderEvent } from '../../../model/orders.js';
import type { PrivateHandlers } from './parse.js';

const OUTER = new NameSet(['topic', 'data', 'op', 'reqId', 'retCode', 'retMsg']);
const enum O {
  topic,
  data,
  op,
  reqId,
  retCode,
  retMsg,
}
const ITEM = new NameSet([
  'category',
  'symbol',
  'execType',
  'orderLinkId',
  'orderId',
  'leavesQty',
  'execId',
  'execPrice',
  'execQty',
  'execFee',
  'feeCurrency',
  'isMaker',
  'execTime',
]);
const enum I {
  category,
  symbol,
  execType,
  orderLinkId,
  orderId,
  leavesQty,
  execId,
  execPrice,
  execQty,
  execFee,
  feeCurrency,
  isMaker,
  execTime,
}
const WORDS = new NameSet(['execution', 'linear', 'spot', 'Trade', 'order.create']);
const W_EXECUTION = 0;
const W_LINEAR = 1;
const W_SPOT = 2;
const W_TRADE = 3;
const W_CREATE = 4;
const ACK = new NameSet(['orderId', 'orderLinkId']);

export type FastResult = 'execution' | 'fallback';

export interface CreateAck {
  reqId: string;
  retCode: number;
  orderId: string;
  orderLinkId: string;
}

/** absent, null or a plain string (the JSON path's optStr without an escape) */
function optStr(f: Fields, id: number): boolean {
  const k = f.kind[id];
  return k === VK.Absent || k === VK.Str || (k === VK.Lit && f.buf[f.start[id]!] === 110); // n(ull)
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
  /** second pass: report the items (the first only checks them) */
  private emit = false;
  private readonly each = (start: number): number => this.onItem(start);

  constructor(private readonly scale: ScaleLookup) {}

  /**
   * A private-stream frame: 'execution' when every item was read here (and the fills reported); 'fallback' (nothing
   * reported) for anything else, or when any item is one the JSON path must decide (an escaped string, a field of
   * the wrong type): the frame is read whole by one path or the other.
   */
  parsePrivate(buf: Buffer, out: OrderEvent, h: PrivateHandlers, localNs: number): FastResult {
    const f = this.outer;
    if (!scanFrame(buf, f)) return 'fallback';
    if (f.word(O.topic, WORDS) !== W_EXECUTION || f.kind[O.data] !== VK.Arr) return 'fallback';
    this.out = out;
    this.h = h;
    this.localNs = localNs;
    this.emit = false;
    let r = forEachElement(buf, f.start[O.data]!, f.end[O.data]!, this.each);
    if (r >= 0) {
      this.emit = true;
      r = forEachElement(buf, f.start[O.data]!, f.end[O.data]!, this.each);
    }
    this.out = undefined;
    this.h = undefined;
    return r < 0 ? 'fallback' : 'execution';
  }

  /** one item, as parse.ts executionItem reads it; -1 = the frame goes to the JSON path */
  private onItem(start: number): number {
    const f = this.item;
    const buf = this.outer.buf;
    const end = scanObject(buf, start, this.outer.end[O.data]!, f);
    if (end < 0) return -1;
    const k = f.kind;
    const out = this.out!;
    if (!f.isStr(I.category) || !optStr(f, I.execType) || !f.isStr(I.symbol)) return -1;
    const cat = f.word(I.category, WORDS);
    const venue: VenueId | undefined = cat === W_LINEAR ? 'bybitLinear' : cat === W_SPOT ? 'bybitSpot' : undefined;
    if (!venue) return end;
    const et = f.word(I.execType, WORDS);
    const etEmpty = k[I.execType] !== VK.Str || f.end[I.execType] === f.start[I.execType];
    if (et !== W_TRADE && !etEmpty) return end; // funding, settlement, ADL: not our fills
    const symbol = this.symbols.get(f, I.symbol);
    const sc = this.scale(venue, symbol);
    if (!sc) return end;
    if (!f.isStr(I.orderLinkId) || !f.isStr(I.orderId) || !f.isStr(I.execId) || !optStr(f, I.leavesQty) || !optStr(f, I.feeCurrency) || !f.boolOk(I.isMaker))
      return -1;
    const leavesGiven = k[I.leavesQty] === VK.Str && f.end[I.leavesQty]! > f.start[I.leavesQty]!;
    const leaves = leavesGiven ? f.decNum(I.leavesQty) : -1;
    const feeGiven = k[I.execFee] !== VK.Absent && !(k[I.execFee] === VK.Str && f.end[I.execFee] === f.start[I.execFee]);
    out.venue = venue;
    out.symbol = symbol;
    out.kind = 'fill';
    out.clientOrderId = f.text(I.orderLinkId);
    out.exchangeOrderId = f.text(I.orderId);
    out.state = leaves === 0 ? 'FILLED' : 'PARTIALLY_FILLED';
    out.tradeId = f.text(I.execId);
    out.fillPrice = f.units(I.execPrice, sc.priceDecimals);
    out.fillQty = f.units(I.execQty, sc.qtyDecimals);
    out.cumQty = 0;
    out.fee = feeGiven ? f.decNum(I.execFee) : 0;
    out.feeAsset = k[I.feeCurrency] === VK.Str ? this.assets.get(f, I.feeCurrency) : '';
    out.maker = f.bool(I.isMaker);
    out.orderPrice = 0;
    out.orderQty = 0;
    out.code = 0;
    out.reason = '';
    out.exchTimeMs = k[I.execTime] === VK.Absent ? 0 : f.uint(I.execTime);
    out.localNs = this.localNs;
    out.source = 'stream';
    if (leaves !== leaves || orderEventProblem(out) !== '') return -1;
    if (this.emit) this.h!.order(out);
    return end;
  }

  /** trade-WS `order.create` ack fields into `out`; false when the frame is something else (use JSON.parse). */
  parseCreateAck(buf: Buffer, out: CreateAck): boolean {
    const f = this.outer;
    if (!scanFrame(buf, f)) return false;
    if (f.word(O.op, WORDS) !== W_CREATE || f.kind[O.reqId] !== VK.Str || f.kind[O.retCode] !== VK.Lit) return false;
    const code = f.uint(O.retCode);
    if (code !== code) return false; // not a plain non-negative integer: JSON.parse decides
    out.reqId = f.text(O.reqId);
    out.retCode = code;
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
