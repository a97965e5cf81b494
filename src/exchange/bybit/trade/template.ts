/**
 * Bybit v5 order payloads from a per-instrument template. The JSON body is written once into a reused buffer and
 * the same bytes are signed (`timestamp + apiKey + recvWindow + body`) and sent.
 *
 *   {"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Limit","qty":"0.001","price":"50000.0",
 *    "timeInForce":"GTC","orderLinkId":"..."[,"reduceOnly":true]}
 */
import type { OrderFields } from '../../../codec/template.js';
import type { HmacSha256 } from '../../../codec/sign.js';
import { AsciiWriter } from '../../../codec/wire.js';

/** constant pieces, prepared once */
const C0 = Buffer.from('","orderType":"Market","qty":"', 'latin1');
const C1 = Buffer.from('","marketUnit":"baseCoin', 'latin1');
const C2 = Buffer.from('","orderType":"Limit","qty":"', 'latin1');
const C3 = Buffer.from('","price":"', 'latin1');
const C4 = Buffer.from('","orderLinkId":"', 'latin1');
const C5 = Buffer.from(',"reduceOnly":true', 'latin1');
const C6 = Buffer.from('{"reqId":"', 'latin1');
const C7 = Buffer.from('","X-BAPI-RECV-WINDOW":"', 'latin1');
const C8 = Buffer.from(']}', 'latin1');
const C9 = Buffer.from('","header":{"X-BAPI-TIMESTAMP":"', 'latin1');
const C10 = Buffer.from('"},"op":"order.create","args":[', 'latin1');

export type BybitCategory = 'spot' | 'linear';

export interface TemplateInstrument {
  symbol: string;
  priceDecimals: number;
  qtyDecimals: number;
}

const TIF: Record<string, string> = { GTC: 'GTC', IOC: 'IOC', FOK: 'FOK', POST_ONLY: 'PostOnly' };

function tifIndex(t: OrderFields['tif']): number {
  return t === 'GTC' ? 0 : t === 'IOC' ? 1 : t === 'FOK' ? 2 : 3;
}

export class BybitOrderTemplate {
  private readonly head: Buffer;
  private readonly tifBytes = new Map<string, Buffer>();
  /** `apiKey + recvWindow` after the timestamp in the string to sign */
  private readonly signMid: string;
  private readonly signMidBytes: Buffer;

  constructor(
    readonly category: BybitCategory,
    readonly inst: TemplateInstrument,
    apiKey: string,
    readonly recvWindow = 5000,
  ) {
    this.head = Buffer.from(`{"category":"${category}","symbol":${JSON.stringify(inst.symbol)},"side":"`, 'utf8');
    for (const [k, v] of Object.entries(TIF)) this.tifBytes.set(k, Buffer.from(`","timeInForce":"${v}`, 'latin1'));
    this.signMid = apiKey + String(recvWindow);
    this.signMidBytes = Buffer.from(this.signMid, 'latin1');
    this.prepare();
  }

  /** per side and type: everything up to the qty value, e.g. {"category":..,"side":"Buy","orderType":"Limit","qty":"
   * (index: side * 2 + market; no key string built per order) */
  private readonly heads: Buffer[] = [];
  /** `","timeInForce":"GTC","orderLinkId":"` per tif (index tifIndex) and the market variant (index 4) */
  private readonly linkParts: Buffer[] = [];

  private prepare(): void {
    for (const side of [0, 1]) {
      const sideText = side === 0 ? 'Buy' : 'Sell';
      this.heads[side * 2 + 1] = Buffer.concat([this.head, Buffer.from(sideText, 'latin1'), C0]);
      this.heads[side * 2] = Buffer.concat([this.head, Buffer.from(sideText, 'latin1'), C2]);
    }
    for (const [k, b] of this.tifBytes) this.linkParts[tifIndex(k as OrderFields['tif'])] = Buffer.concat([b, C4]);
    this.linkParts[4] = this.category === 'spot' ? Buffer.concat([C1, C4]) : C4;
  }

  /** Write the JSON order body (without envelope) into w at its current position. */
  writeArgs(w: AsciiWriter, f: OrderFields): void {
    const market = f.type === 'MARKET';
    w.bytes(this.heads[(f.side === 'BUY' ? 0 : 2) + (market ? 1 : 0)]!).scaled(f.qty, this.inst.qtyDecimals);
    if (!market) w.bytes(C3).scaled(f.price, this.inst.priceDecimals);
    w.bytes(this.linkParts[market ? 4 : tifIndex(f.tif)]!)
      .str(f.clientOrderId)
      .byte(34);
    if (f.reduceOnly && this.category === 'linear') w.bytes(C5);
    w.byte(125 /* } */);
  }

  /** REST body in w (reset first); returns the X-BAPI-SIGN hex for it. */
  restBody(w: AsciiWriter, f: OrderFields, h: HmacSha256): string {
    w.reset();
    this.writeArgs(w, f);
    return h.hexPrefixed(String(f.timestampMs) + this.signMid, w, 0, w.pos);
  }

  /** REST body and its signature into a reused `out` (one Buffer->string conversion per order). */
  restBodyText(w: AsciiWriter, f: OrderFields, h: HmacSha256, out: { body: string; sign: string }): void {
    // [timestamp][apiKey+recvWindow][body] written once: the whole is what Bybit signs, the tail is what is sent
    w.reset();
    w.int(f.timestampMs).bytes(this.signMidBytes);
    const start = w.pos;
    this.writeArgs(w, f);
    const all = w.toString();
    out.sign = h.hexAscii(all); // ASCII payload
    out.body = all.slice(start);
  }

  /** Trade WS `order.create` frame (authenticated connection: no per-request signature). */
  wsCreate(w: AsciiWriter, reqId: string, f: OrderFields): AsciiWriter {
    w.reset();
    w.bytes(C6).str(reqId).bytes(C9).int(f.timestampMs);
    w.bytes(C7).int(this.recvWindow).bytes(C10);
    this.writeArgs(w, f);
    w.bytes(C8);
    return w;
  }
}

export { AsciiWriter };
