/**
 * Byte-level writer for order payloads: a preallocated Buffer that order templates write their changing fields
 * into (price, qty, client id, timestamp), so building an order allocates no intermediate strings.
 *
 * Only ASCII is ever written by the per-order methods; anything that might need percent-encoding (the symbol)
 * is encoded once when a template is prepared.
 */

const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16];
const HEX = '0123456789abcdef';
const HEX_CODES = new Uint8Array(16);
for (let i = 0; i < 16; i++) HEX_CODES[i] = HEX.charCodeAt(i);

export class AsciiWriter {
  /** Buffer view of `u8` (same memory) for sending, toString and native copies */
  readonly buf: Buffer;
  /** plain typed array used for the per-byte writes (monomorphic, faster than indexing the Buffer subclass) */
  readonly u8: Uint8Array;
  pos = 0;
  /** scratch for digits written backwards */
  private readonly digits = new Uint8Array(24);

  constructor(capacity = 1024) {
    this.u8 = new Uint8Array(capacity);
    this.buf = Buffer.from(this.u8.buffer, 0, capacity);
  }

  reset(): this {
    this.pos = 0;
    return this;
  }

  /** Write a (latin1/ASCII) string. */
  str(s: string): this {
    const n = s.length;
    if (n > 48) {
      this.pos += this.buf.write(s, this.pos, 'latin1');
      return this;
    }
    const b = this.u8;
    let p = this.pos;
    for (let i = 0; i < n; i++) b[p++] = s.charCodeAt(i);
    this.pos = p;
    return this;
  }

  /** Copy prepared bytes. */
  bytes(src: Uint8Array): this {
    const n = src.length;
    if (n > 64) {
      this.buf.set(src, this.pos);
      this.pos += n;
      return this;
    }
    const b = this.u8;
    let p = this.pos;
    for (let i = 0; i < n; i++) b[p++] = src[i]!;
    this.pos = p;
    return this;
  }

  byte(c: number): this {
    this.u8[this.pos++] = c;
    return this;
  }

  /** Non-negative integer (< 2^53) in decimal. */
  int(n: number): this {
    if (n < 1e9) return this.small(n | 0, 0);
    const hi = Math.floor(n / 1e9);
    this.int(hi);
    return this.small((n - hi * 1e9) | 0, 9);
  }

  /** 0 <= v < 1e9 as decimal, left-padded with zeros to `width` digits */
  private small(v: number, width: number): this {
    const d = this.digits;
    let i = 0;
    do {
      const q = (v / 10) | 0;
      d[i++] = 48 + v - q * 10;
      v = q;
    } while (v > 0);
    while (i < width) d[i++] = 48;
    const b = this.u8;
    let p = this.pos;
    while (i > 0) b[p++] = d[--i]!;
    this.pos = p;
    return this;
  }

  /** Scaled integer as a decimal with exactly `decimals` places: (123456, 2) -> "1234.56", (5, 3) -> "0.005". */
  scaled(units: number, decimals: number): this {
    if (decimals <= 0) return this.int(units);
    const p = POW10[decimals] ?? 10 ** decimals;
    const ip = Math.floor(units / p);
    const fp = units - ip * p;
    this.int(ip);
    this.u8[this.pos++] = 46; // '.'
    if (decimals <= 9) return this.small(fp | 0, decimals);
    const hi = Math.floor(fp / 1e9);
    this.small(hi | 0, decimals - 9);
    return this.small((fp - hi * 1e9) | 0, 9);
  }

  /** Lowercase hex of raw bytes. */
  hex(b: Uint8Array): this {
    for (let i = 0; i < b.length; i++) {
      const x = b[i]!;
      this.u8[this.pos++] = HEX_CODES[x >> 4]!;
      this.u8[this.pos++] = HEX_CODES[x & 15]!;
    }
    return this;
  }

  /** The written bytes (a view, valid until the next reset). */
  view(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  toString(): string {
    return this.buf.toString('latin1', 0, this.pos);
  }

  /** latin1 text of [from, to) */
  slice(from: number, to: number): string {
    return this.buf.toString('latin1', from, to);
  }
}

/** Percent-encode a value for a Binance REST query/body (UTF-8, RFC 3986 unreserved kept). */
export function percentEncode(v: string): string {
  return encodeURIComponent(v).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}
