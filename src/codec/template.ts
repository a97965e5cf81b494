/**
 * Shared pieces of the per-instrument order templates (the venue folders hold the byte layouts).
 */
import type { Side } from '../model/types.js';
import type { OrderType, TimeInForce } from '../model/orders.js';
import type { AsciiWriter } from './wire.js';
import type { GatewayOrder } from '../model/orders.js';
import type { Ed25519Signer, HmacSha256 } from './sign.js';

/** The fields that change per order; everything else is prepared once per instrument. */
export interface OrderFields {
  side: Side;
  type: OrderType;
  tif: TimeInForce;
  /** price units (ticks scaled by 10^priceDecimals); ignored for MARKET */
  price: number;
  /** quantity units (10^qtyDecimals) */
  qty: number;
  clientOrderId: string;
  reduceOnly: boolean;
  timestampMs: number;
}

export function blankOrderFields(): OrderFields {
  return { side: 'BUY', type: 'LIMIT', tif: 'GTC', price: 0, qty: 0, clientOrderId: '', reduceOnly: false, timestampMs: 0 };
}

/** Appends a signature of w.buf[from, to) to the writer (already encoded for where it goes). */
/** Write one order's changing fields into the reused fields object (no allocation). */
export function setOrderFields(f: OrderFields, o: GatewayOrder, timestampMs: number): void {
  f.side = o.side;
  f.type = o.type;
  f.tif = o.tif;
  f.price = o.price;
  f.qty = o.qty;
  f.clientOrderId = o.clientOrderId;
  f.reduceOnly = o.reduceOnly;
  f.timestampMs = timestampMs;
}

export interface PayloadSigner {
  appendSignature(w: AsciiWriter, from: number, to: number): void;
  /** signature text of an (ASCII) payload, encoded for a REST query/body */
  readonly sign: (unsigned: string) => string;
}

export class HmacHexSigner implements PayloadSigner {
  /** string form for restBodyText: (unsigned) => hex */
  readonly sign: (unsigned: string) => string;
  constructor(private readonly h: HmacSha256) {
    this.sign = (u) => h.hexAscii(u); // template payloads are ASCII
  }
  appendSignature(w: AsciiWriter, from: number, to: number): void {
    this.h.appendHexOf(w, from, to);
  }
}

/** Ed25519 for Binance REST: base64, URL-encoded (+ / =). Costs ~50 µs: prefer HMAC or a WS API session. */
export class Ed25519RestSigner implements PayloadSigner {
  readonly sign: (unsigned: string) => string;
  constructor(private readonly s: Ed25519Signer) {
    this.sign = (u) => encodeURIComponent(s.base64(Buffer.from(u, 'latin1')));
  }
  appendSignature(w: AsciiWriter, from: number, to: number): void {
    w.str(encodeURIComponent(this.s.base64(w.buf.subarray(from, to))));
  }
}
