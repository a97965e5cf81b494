/**
 * Byte-level parsing of the hot Binance user-data events (src/codec/bytescan.ts): Spot `executionReport` (bare or
 * in the WS API `{"subscriptionId":N,"event":{..}}` wrapper), USD-M `ORDER_TRADE_UPDATE` and `TRADE_LITE` (bare or
 * in a combined-stream `{"stream","data"}` wrapper). Produces exactly the OrderEvent parse.ts produces from the same
 * bytes (tested on the fixtures, and by test/fuzz against a strict reference); anything else (ACCOUNT_UPDATE,
 * listenKeyExpired, responses, escaped strings, unknown shapes, a field of the wrong type or value) returns
 * 'fallback' and goes through the JSON.parse path, which reads it or rejects it as malformed.
 */
import { orderEventProblem, resetOrderEvent } from '../../../model/orders.js';
import type { VenueId } from '../../../model/types.js';
import { Fields, Interner, NameSet, VK, scanFrame, scanObject } from '../../../codec/bytescan.js';
import type { ScaleLookup } from '../../../codec/scale.js';
import type { OrderEvent, OrderEventKind, OrderState } from '../../../model/orders.js';
import type { UserFrameHandlers } from './parse.js';

const KEYS = new NameSet(['e', 'E', 'T', 's', 'c', 'C', 'i', 'X', 'x', 'z', 'l', 'L', 'n', 'N', 't', 'm', 'r', 'event', 'data', 'o', 'p', 'q']);
const enum K {
  e,
  E,
  T,
  s,
  c,
  C,
  i,
  X,
  x,
  z,
  l,
  L,
  n,
  N,
  t,
  m,
  r,
  event,
  data,
  o,
  p,
  q,
}

const WORDS = new NameSet([
  'executionReport',
  'ORDER_TRADE_UPDATE',
  'TRADE_LITE',
  'NEW',
  'TRADE',
  'CALCULATED',
  'CANCELED',
  'REJECTED',
  'EXPIRED',
  'TRADE_PREVENTION',
  'AMENDMENT',
  'REPLACED',
  'PARTIALLY_FILLED',
  'FILLED',
  'PENDING_CANCEL',
  'EXPIRED_IN_MATCH',
]);
const W_ER = 0;
const W_OTU = 1;
const W_TL = 2;
/** executionType word -> event kind (parse.ts mapExecType; unknown -> ack) */
const KIND_OF: OrderEventKind[] = [
  'ack',
  'ack',
  'ack',
  'ack',
  'fill',
  'fill',
  'cancel',
  'reject',
  'expire',
  'expire',
  'amend',
  'amend',
  'ack',
  'ack',
  'ack',
  'ack',
];
/** status word -> state (parse.ts mapStatus; unknown -> ACKED) */
const STATE_OF: OrderState[] = [
  'ACKED',
  'ACKED',
  'ACKED',
  'ACKED',
  'ACKED',
  'ACKED',
  'CANCELED',
  'REJECTED',
  'EXPIRED',
  'ACKED',
  'ACKED',
  'ACKED',
  'PARTIALLY_FILLED',
  'FILLED',
  'CANCEL_PENDING',
  'EXPIRED',
];
const W_CANCELED = 6;

export type FastResult = 'order' | 'fallback' | 'unknownSymbol';

function reset(out: OrderEvent, venue: VenueId): void {
  resetOrderEvent(out, venue, 'stream');
}

/** absent, null or a plain string (what the JSON path's optStr takes without an escape) */
function optStr(f: Fields, id: number): boolean {
  const k = f.kind[id];
  return k === VK.Absent || k === VK.Str || (k === VK.Lit && f.buf[f.start[id]!] === 110); // n(ull)
}

/** absent -> 0, else the non-negative integer (NaN: not one) */
function optUint(f: Fields, id: number): number {
  return f.kind[id] === VK.Absent ? 0 : f.uint(id);
}

/**
 * One parser per stream (reused Fields; not re-entrant). It reports an event only when it read every field the
 * JSON path (parse.ts) reads, with the same types and values; anything else ('fallback') goes to the JSON path,
 * which decides (reads it, or calls it malformed).
 */
export class BinanceFastUserParser {
  private readonly outer = new Fields(KEYS);
  private readonly inner = new Fields(KEYS);
  private readonly order = new Fields(KEYS);
  private readonly symbols = new Interner();
  private readonly assets = new Interner();

  constructor(
    private readonly venue: VenueId,
    private readonly scale: ScaleLookup,
  ) {}

  /** Parse one frame's bytes; 'fallback' = not a hot event or not one read here (use parseUserFrame on the text). */
  parse(buf: Buffer, out: OrderEvent, h: UserFrameHandlers, localNs: number): FastResult {
    if (!scanFrame(buf, this.outer)) return 'fallback';
    let ev = this.outer;
    const wrap = ev.kind[K.event] === VK.Obj ? K.event : ev.kind[K.data] === VK.Obj ? K.data : -1;
    if (wrap >= 0) {
      if (scanObject(buf, ev.start[wrap]!, ev.end[wrap]!, this.inner) < 0) return 'fallback';
      ev = this.inner;
    }
    const e = ev.word(K.e, WORDS);
    if (e === W_ER) return this.executionReport(ev, out, h, localNs);
    if (e === W_OTU) {
      if (ev.kind[K.o] !== VK.Obj || scanObject(buf, ev.start[K.o]!, ev.end[K.o]!, this.order) < 0) return 'fallback';
      return this.orderTradeUpdate(this.order, ev, out, h, localNs);
    }
    if (e === W_TL) return this.tradeLite(ev, out, h, localNs);
    return 'fallback';
  }

  private executionReport(f: Fields, out: OrderEvent, h: UserFrameHandlers, localNs: number): FastResult {
    if (!f.isStr(K.s) || !f.isStr(K.c) || !f.isStr(K.x) || !f.isStr(K.X) || !optStr(f, K.C) || !f.isId(K.i)) return 'fallback';
    const symbol = this.symbols.get(f, K.s);
    const sc = this.scale(this.venue, symbol);
    if (!sc) return 'unknownSymbol';
    reset(out, this.venue);
    const x = f.word(K.x, WORDS);
    out.symbol = symbol;
    out.kind = x >= 0 ? KIND_OF[x]! : 'ack';
    const orig = f.kind[K.C] === VK.Str && f.end[K.C]! > f.start[K.C]! ? f.text(K.C) : '';
    out.clientOrderId = x === W_CANCELED && orig !== '' ? orig : f.text(K.c);
    out.exchangeOrderId = f.text(K.i);
    const st = f.word(K.X, WORDS);
    out.state = st >= 0 ? STATE_OF[st]! : 'ACKED';
    out.cumQty = f.units(K.z, sc.qtyDecimals);
    if (out.kind === 'fill') {
      if (!f.isId(K.t) || !optStr(f, K.N) || !f.boolOk(K.m)) return 'fallback';
      const t = f.text(K.t);
      out.tradeId = t === '-1' ? '' : t;
      out.fillPrice = f.units(K.L, sc.priceDecimals);
      out.fillQty = f.units(K.l, sc.qtyDecimals);
      out.fee = f.has(K.n) ? f.decNum(K.n) : 0;
      out.feeAsset = f.kind[K.N] === VK.Str ? this.assets.get(f, K.N) : '';
      out.maker = f.bool(K.m);
    }
    if (out.kind === 'reject') {
      if (!optStr(f, K.r)) return 'fallback';
      out.reason = f.kind[K.r] === VK.Str ? f.text(K.r) : '';
    }
    if (out.kind === 'amend') {
      out.orderPrice = f.units(K.p, sc.priceDecimals);
      out.orderQty = f.units(K.q, sc.qtyDecimals);
    }
    const T = optUint(f, K.T);
    const E = optUint(f, K.E);
    out.exchTimeMs = T || E;
    out.localNs = localNs;
    if (T !== T || E !== E || orderEventProblem(out) !== '') return 'fallback';
    h.order(out);
    return 'order';
  }

  private orderTradeUpdate(o: Fields, outer: Fields, out: OrderEvent, h: UserFrameHandlers, localNs: number): FastResult {
    if (!o.isStr(K.s) || !o.isStr(K.c) || !o.isStr(K.x) || !o.isStr(K.X) || !o.isId(K.i)) return 'fallback';
    const symbol = this.symbols.get(o, K.s);
    const sc = this.scale(this.venue, symbol);
    if (!sc) return 'unknownSymbol';
    reset(out, this.venue);
    const x = o.word(K.x, WORDS);
    out.symbol = symbol;
    out.kind = x >= 0 ? KIND_OF[x]! : 'ack';
    out.clientOrderId = o.text(K.c);
    out.exchangeOrderId = o.text(K.i);
    const st = o.word(K.X, WORDS);
    out.state = st >= 0 ? STATE_OF[st]! : 'ACKED';
    out.cumQty = o.units(K.z, sc.qtyDecimals);
    if (out.kind === 'fill') {
      if (!o.isId(K.t) || !optStr(o, K.N) || !o.boolOk(K.m)) return 'fallback';
      out.tradeId = o.text(K.t);
      out.fillPrice = o.units(K.L, sc.priceDecimals);
      out.fillQty = o.units(K.l, sc.qtyDecimals);
      out.fee = o.has(K.n) ? o.decNum(K.n) : 0;
      out.feeAsset = o.kind[K.N] === VK.Str ? this.assets.get(o, K.N) : '';
      out.maker = o.bool(K.m);
    }
    if (out.kind === 'amend') {
      out.orderPrice = o.units(K.p, sc.priceDecimals);
      out.orderQty = o.units(K.q, sc.qtyDecimals);
    }
    const T = optUint(o, K.T);
    const E = optUint(outer, K.E);
    out.exchTimeMs = T || E;
    out.localNs = localNs;
    if (T !== T || E !== E || orderEventProblem(out) !== '') return 'fallback';
    h.order(out);
    return 'order';
  }

  private tradeLite(f: Fields, out: OrderEvent, h: UserFrameHandlers, localNs: number): FastResult {
    if (!f.isStr(K.s) || !f.isStr(K.c) || !f.isId(K.i) || !f.isId(K.t) || !f.boolOk(K.m)) return 'fallback';
    const symbol = this.symbols.get(f, K.s);
    const sc = this.scale(this.venue, symbol);
    if (!sc) return 'unknownSymbol';
    reset(out, this.venue);
    out.symbol = symbol;
    out.kind = 'fill';
    out.clientOrderId = f.text(K.c);
    out.exchangeOrderId = f.text(K.i);
    out.state = 'PARTIALLY_FILLED';
    out.tradeId = f.text(K.t);
    out.fillPrice = f.units(K.L, sc.priceDecimals);
    out.fillQty = f.units(K.l, sc.qtyDecimals);
    out.maker = f.bool(K.m);
    const T = optUint(f, K.T);
    const E = optUint(f, K.E);
    out.exchTimeMs = T || E;
    out.localNs = localNs;
    if (T !== T || E !== E || orderEventProblem(out) !== '') return 'fallback';
    h.order(out);
    return 'order';
  }
}
