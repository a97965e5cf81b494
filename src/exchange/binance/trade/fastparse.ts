/**
 * Byte-level parsing of the hot Binance user-data events (src/orders/bytescan.ts): Spot `executionReport` (bare or
 * in the WS API `{"subscriptionId":N,"event":{..}}` wrapper), USD-M `ORDER_TRADE_UPDATE` and `TRADE_LITE` (bare or
 * in a combined-stream `{"stream","data"}` wrapper). Produces exactly the OrderEvent parse.ts produces from the same
 * bytes (tested on the fixtures); anything else (ACCOUNT_UPDATE, listenKeyExpired, responses, escaped strings,
 * unknown shapes) returns 'fallback' and goes through the JSON.parse path.
 */
import { resetOrderEvent } from '../../../orders/types.js';
import type { VenueId } from '../../../core/types.js';
import { Fields, Interner, NameSet, VK, scanObject } from '../../../orders/bytescan.js';
import type { ScaleLookup } from '../../../orders/scale.js';
import type { OrderEvent, OrderEventKind, OrderState } from '../../../orders/types.js';
import type { UserFrameHandlers } from './parse.js';

const KEYS = new NameSet(['e', 'E', 'T', 's', 'c', 'C', 'i', 'X', 'x', 'z', 'l', 'L', 'n', 'N', 't', 'm', 'r', 'event', 'data', 'o', 'p', 'q']);
const enum K { e, E, T, s, c, C, i, X, x, z, l, L, n, N, t, m, r, event, data, o, p, q }

const WORDS = new NameSet([
  'executionReport', 'ORDER_TRADE_UPDATE', 'TRADE_LITE',
  'NEW', 'TRADE', 'CALCULATED', 'CANCELED', 'REJECTED', 'EXPIRED', 'TRADE_PREVENTION', 'AMENDMENT', 'REPLACED',
  'PARTIALLY_FILLED', 'FILLED', 'PENDING_CANCEL', 'EXPIRED_IN_MATCH',
]);
const W_ER = 0;
const W_OTU = 1;
const W_TL = 2;
/** executionType word -> event kind (parse.ts mapExecType; unknown -> ack) */
const KIND_OF: OrderEventKind[] = ['ack', 'ack', 'ack', 'ack', 'fill', 'fill', 'cancel', 'reject', 'expire', 'expire', 'amend', 'amend', 'ack', 'ack', 'ack', 'ack'];
/** status word -> state (parse.ts mapStatus; unknown -> ACKED) */
const STATE_OF: OrderState[] = [
  'ACKED', 'ACKED', 'ACKED', 'ACKED', 'ACKED', 'ACKED', 'CANCELED', 'REJECTED', 'EXPIRED', 'ACKED', 'ACKED', 'ACKED',
  'PARTIALLY_FILLED', 'FILLED', 'CANCEL_PENDING', 'EXPIRED',
];
const W_CANCELED = 6;

export type FastResult = 'order' | 'fallback' | 'unknownSymbol';

function reset(out: OrderEvent, venue: VenueId): void {
  resetOrderEvent(out, venue, 'stream');
}

function escaped(f: Fields, a: number, b: number, c = a, d = a, e = a): boolean {
  const k = f.kind;
  return k[a] === VK.Escaped || k[b] === VK.Escaped || k[c] === VK.Escaped || k[d] === VK.Escaped || k[e] === VK.Escaped;
}

/** One parser per stream (reused Fields; not re-entrant). */
export class BinanceFastUserParser {
  private readonly outer = new Fields(KEYS);
  private readonly inner = new Fields(KEYS);
  private readonly order = new Fields(KEYS);
  private readonly symbols = new Interner();
  private readonly assets = new Interner();

  constructor(private readonly venue: VenueId, private readonly scale: ScaleLookup) {}

  /** Parse one frame's bytes; 'fallback' = not a hot event (use parseUserFrame on the text). */
  parse(buf: Buffer, out: OrderEvent, h: UserFrameHandlers, localNs: number): FastResult {
    const end = buf.length;
    if (scanObject(buf, 0, end, this.outer) < 0) return 'fallback';
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
    if (escaped(f, K.s, K.c, K.C, K.r, K.N)) return 'fallback';
    const symbol = this.symbols.get(f, K.s);
    const sc = this.scale(this.venue, symbol);
    if (!sc) return 'unknownSymbol';
    reset(out, this.venue);
    const x = f.word(K.x, WORDS);
    out.symbol = symbol;
    out.kind = x >= 0 ? KIND_OF[x]! : 'ack';
    const orig = f.has(K.C) && f.kind[K.C] === VK.Str && f.end[K.C]! > f.start[K.C]! ? f.text(K.C) : '';
    out.clientOrderId = x === W_CANCELED && orig !== '' ? orig : f.text(K.c);
    out.exchangeOrderId = f.text(K.i);
    const st = f.word(K.X, WORDS);
    out.state = st >= 0 ? STATE_OF[st]! : 'ACKED';
    out.cumQty = f.scaled(K.z, sc.qtyDecimals);
    if (out.kind === 'fill') {
      const t = f.text(K.t);
      out.tradeId = t === '-1' ? '' : t;
      out.fillPrice = f.scaled(K.L, sc.priceDecimals);
      out.fillQty = f.scaled(K.l, sc.qtyDecimals);
      out.fee = f.num(K.n);
      out.feeAsset = f.kind[K.N] === VK.Str ? this.assets.get(f, K.N) : '';
      out.maker = f.bool(K.m);
    }
    if (out.kind === 'reject') out.reason = f.text(K.r);
    if (out.kind === 'amend') {
      out.orderPrice = f.scaled(K.p, sc.priceDecimals);
      out.orderQty = f.scaled(K.q, sc.qtyDecimals);
    }
    out.exchTimeMs = f.num(K.T) || f.num(K.E);
    out.localNs = localNs;
    h.order(out);
    return 'order';
  }

  private orderTradeUpdate(o: Fields, outer: Fields, out: OrderEvent, h: UserFrameHandlers, localNs: number): FastResult {
    if (escaped(o, K.s, K.c, K.N)) return 'fallback';
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
    out.cumQty = o.scaled(K.z, sc.qtyDecimals);
    if (out.kind === 'fill') {
      out.tradeId = o.text(K.t);
      out.fillPrice = o.scaled(K.L, sc.priceDecimals);
      out.fillQty = o.scaled(K.l, sc.qtyDecimals);
      out.fee = o.num(K.n);
      out.feeAsset = o.kind[K.N] === VK.Str ? this.assets.get(o, K.N) : '';
      out.maker = o.bool(K.m);
    }
    if (out.kind === 'amend') {
      out.orderPrice = o.scaled(K.p, sc.priceDecimals);
      out.orderQty = o.scaled(K.q, sc.qtyDecimals);
    }
    out.exchTimeMs = o.num(K.T) || outer.num(K.E);
    out.localNs = localNs;
    h.order(out);
    return 'order';
  }

  private tradeLite(f: Fields, out: OrderEvent, h: UserFrameHandlers, localNs: number): FastResult {
    if (escaped(f, K.s, K.c)) return 'fallback';
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
    out.fillPrice = f.scaled(K.L, sc.priceDecimals);
    out.fillQty = f.scaled(K.l, sc.qtyDecimals);
    out.maker = f.bool(K.m);
    out.exchTimeMs = f.num(K.T) || f.num(K.E);
    out.localNs = localNs;
    h.order(out);
    return 'order';
  }
}
