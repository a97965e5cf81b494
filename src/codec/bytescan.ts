/**
 * Byte-level field extraction for the hot private events (fills and acks): one pass over the frame's bytes records
 * where the wanted keys' values are, then the readers turn them into numbers, scaled integers and interned words
 * without building the object tree JSON.parse builds. Only the strings the engine keeps (client id, exchange id,
 * trade id, symbol) are allocated.
 *
 * Rules: structure is known per event (the caller descends into "event" / "o" / "data" explicitly). The scan validates
 * the whole frame against the JSON grammar (a frame it accepts is one JSON.parse accepts). A value string with an
 * escape or a non-ASCII byte is marked `escaped`, and the callers fall back to the JSON path, as they do for any
 * frame or value the readers do not take. The readers take exactly what the JSON path's strict readers
 * (orders/json.ts unitsOf, decNumOf, uintOf, idOf) take, with the same values, or answer NaN / false so that the
 * caller falls back: the two paths never disagree. Decimals become exact scaled integers (util/fixed.ts
 * decimalToUnits), ids of any length stay strings.
 */

import { decimalToUnits } from '../util/fixed.js';
import { skipString, skipValue, skipWs } from './jsonscan.js';

export { skipValue };

export const enum VK {
  Absent = 0,
  Str = 1,
  /** number, true, false, null */
  Lit = 2,
  Obj = 3,
  Arr = 4,
  /** a string with a backslash escape: read it with JSON.parse */
  Escaped = 5,
}

function hashKey(b: Uint8Array, s: number, e: number): number {
  let h = 5381;
  for (let i = s; i < e; i++) h = (Math.imul(h, 33) + b[i]!) | 0;
  return h;
}

/** A fixed set of ASCII names (keys or enum words) looked up by their bytes: id = index in the list, -1 unknown. */
export class NameSet {
  /** open addressing on the hash: slot -> id + 1 (0 = empty); no Map lookup per key */
  private readonly table: Int32Array;
  private readonly hashes: Int32Array;
  private readonly mask: number;
  private readonly bytes: Uint8Array[];
  constructor(readonly names: readonly string[]) {
    this.bytes = names.map((n) => Buffer.from(n, 'latin1'));
    let size = 16;
    while (size < names.length * 4) size <<= 1;
    this.mask = size - 1;
    this.table = new Int32Array(size);
    this.hashes = new Int32Array(names.length);
    names.forEach((n, id) => {
      const b = this.bytes[id]!;
      const h = hashKey(b, 0, b.length);
      this.hashes[id] = h;
      let slot = h & this.mask;
      while (this.table[slot] !== 0) {
        if (this.hashes[this.table[slot]! - 1] === h) throw new Error(`NameSet: hash collision for ${n}`);
        slot = (slot + 1) & this.mask;
      }
      this.table[slot] = id + 1;
    });
  }

  find(b: Uint8Array, s: number, e: number): number {
    const h = hashKey(b, s, e);
    let slot = h & this.mask;
    let id = -1;
    for (;;) {
      const v = this.table[slot]!;
      if (v === 0) return -1;
      if (this.hashes[v - 1] === h) {
        id = v - 1;
        break;
      }
      slot = (slot + 1) & this.mask;
    }
    const k = this.bytes[id]!;
    if (k.length !== e - s) return -1;
    for (let i = 0; i < k.length; i++) if (k[i] !== b[s + i]) return -1;
    return id;
  }
}

const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16];

/** Value spans of the wanted keys of one object (reused; `scanObject` clears it). */
export class Fields {
  buf: Buffer = Buffer.alloc(0);
  readonly start: Int32Array;
  readonly end: Int32Array;
  readonly kind: Uint8Array;

  constructor(readonly keys: NameSet) {
    const n = keys.names.length;
    this.start = new Int32Array(n);
    this.end = new Int32Array(n);
    this.kind = new Uint8Array(n);
  }

  has(id: number): boolean {
    return this.kind[id] !== VK.Absent;
  }

  /** string or literal text (allocates: for the ids the engine keeps) */
  text(id: number): string {
    const k = this.kind[id];
    return k === VK.Str || k === VK.Lit ? this.buf.toString('latin1', this.start[id]!, this.end[id]!) : '';
  }

  /** id of the string value among `words` (-1 unknown / absent / not a string): enum values without a string */
  word(id: number, words: NameSet): number {
    return this.kind[id] === VK.Str ? words.find(this.buf, this.start[id]!, this.end[id]!) : -1;
  }

  /** the value is the literal `true` (validated by the scan: a literal starting with t is `true`) */
  bool(id: number): boolean {
    return this.kind[id] === VK.Lit && this.buf[this.start[id]!] === 116; // t
  }

  /** absent, or the literal true / false */
  boolOk(id: number): boolean {
    const k = this.kind[id];
    if (k === VK.Absent) return true;
    const c = this.buf[this.start[id]!];
    return k === VK.Lit && (c === 116 || c === 102);
  }

  /** a string (a JSON string value; absent is not one) */
  isStr(id: number): boolean {
    return this.kind[id] === VK.Str;
  }

  /**
   * An id as the JSON path reads it (orders/json.ts idOf): a string, or an integer literal `-?(0|[1-9]d*)` (the JSON
   * path quotes long ones, so big ids stay exact on both paths). False for anything else: the caller falls back.
   */
  isId(id: number): boolean {
    const k = this.kind[id];
    if (k === VK.Str) return true;
    if (k !== VK.Lit) return false;
    const b = this.buf;
    let i = this.start[id]!;
    const e = this.end[id]!;
    const neg = b[i] === 45;
    if (neg) i++;
    if (i >= e) return false;
    if (b[i] === 48) return i + 1 === e && !neg;
    for (; i < e; i++) {
      const c = b[i]!;
      if (c < 48 || c > 57) return false;
    }
    return true;
  }

  /**
   * A decimal string (`"2631.90"`, `"2.6319e+3"`) as an exact non-negative count of 10^-decimals (util/fixed.ts
   * decimalToUnits, the JSON path's conversion too); NaN when absent, not a string, not a decimal, negative or beyond
   * 2^53.
   */
  units(id: number, decimals: number): number {
    if (this.kind[id] !== VK.Str) return NaN;
    const v = decimalToUnits(this.buf, this.start[id]!, this.end[id]!, decimals);
    return v >= 0 ? v : NaN;
  }

  /**
   * A decimal string as a Number (fees), equal to Number(text) of the JSON path: the plain shape `-?digits[.digits]`
   * with at most 15 digits is computed here exactly (one correctly rounded division); NaN for anything else (absent,
   * not a string, an exponent, more digits), and the caller falls back to the JSON path.
   */
  decNum(id: number): number {
    if (this.kind[id] !== VK.Str) return NaN;
    const b = this.buf;
    let i = this.start[id]!;
    const e = this.end[id]!;
    let neg = false;
    if (i < e && b[i] === 45) {
      neg = true;
      i++;
    }
    if (i >= e || (b[i] === 48 && i + 1 < e && b[i + 1] !== 46)) return NaN;
    let v = 0;
    let fd = -1;
    let digits = 0;
    for (; i < e; i++) {
      const c = b[i]!;
      if (c >= 48 && c <= 57) {
        v = v * 10 + (c - 48);
        digits++;
        if (fd >= 0) fd++;
      } else if (c === 46 && fd < 0 && digits > 0) fd = 0;
      else return NaN;
    }
    if (digits > 15 || fd === 0) return NaN;
    const r = fd > 0 ? v / POW10[fd]! : v;
    return neg ? 0 - r : r;
  }

  /**
   * A non-negative integer (times in ms): a literal `0|[1-9]d*` or a string of digits (Bybit sends times as strings),
   * at most 2^53 - 1; NaN otherwise (absent too).
   */
  uint(id: number): number {
    const k = this.kind[id];
    if (k !== VK.Str && k !== VK.Lit) return NaN;
    const b = this.buf;
    let i = this.start[id]!;
    const e = this.end[id]!;
    if (i >= e || (k === VK.Lit && b[i] === 48 && e - i > 1)) return NaN;
    let v = 0;
    for (; i < e; i++) {
      const c = b[i]! - 48;
      if (c < 0 || c > 9 || v > (MAX_SAFE - c) / 10) return NaN;
      v = v * 10 + c;
    }
    return v;
  }
}

const MAX_SAFE = 9007199254740991;

/**
 * Record the direct members of the object at `i` (first non-space byte must be `{`) whose keys are in `out.keys`.
 * Returns the index after the object, or -1 when the bytes are not a well-formed object (every value is validated,
 * wanted or not). Members must be written `"key":value` or `"key": value` (spaces only after the colon): that is
 * the shape the JSON path's id quoting (json.ts quoteIdFields) recognises, so both paths read the same ids; any
 * other spacing is handed back (-1) to the JSON path. A key with an escape is refused the same way.
 */
const ESC = { v: false };

export function scanObject(buf: Buffer, i: number, end: number, out: Fields): number {
  out.buf = buf;
  out.kind.fill(0);
  const b = buf;
  i = skipWs(b, i, end);
  if (b[i] !== 123) return -1;
  i = skipWs(b, i + 1, end);
  if (b[i] === 125) return i + 1;
  for (;;) {
    if (b[i] !== 34) return -1;
    const ks = i + 1;
    ESC.v = false;
    const ke0 = skipString(b, i, end, ESC);
    if (ke0 < 0 || ESC.v) return -1;
    const id = out.keys.find(b, ks, ke0 - 1);
    i = ke0;
    if (b[i] !== 58) return -1;
    i++;
    while (i < end && b[i] === 32) i++;
    const vs = i;
    const c = b[i];
    if (c === 10 || c === 13 || c === 9) return -1;
    let kind: VK = VK.Lit;
    if (c === 34) {
      ESC.v = false;
      const ve = skipString(b, i, end, ESC);
      if (ve < 0) return -1;
      i = ve;
      kind = ESC.v ? VK.Escaped : VK.Str;
      if (id >= 0) {
        out.start[id] = vs + 1;
        out.end[id] = ve - 1;
      }
    } else {
      const ve = skipValue(b, i, end);
      if (ve < 0 || ve === vs) return -1;
      i = ve;
      kind = c === 123 ? VK.Obj : c === 91 ? VK.Arr : VK.Lit;
      if (id >= 0) {
        out.start[id] = vs;
        out.end[id] = ve;
      }
    }
    if (id >= 0) out.kind[id] = kind;
    i = skipWs(b, i, end);
    const d = b[i];
    if (d === 44) {
      i = skipWs(b, i + 1, end);
      continue;
    }
    if (d === 125) return i + 1;
    return -1;
  }
}

/** scanObject over a whole frame: the object must be followed by nothing but whitespace. */
export function scanFrame(buf: Buffer, out: Fields): boolean {
  const e = scanObject(buf, 0, buf.length, out);
  return e >= 0 && skipWs(buf, e, buf.length) === buf.length;
}

/**
 * Calls `each(start)` for every element start of the array at `i` (first non-space byte must be `[`); `each` returns
 * the index after the element (-1 = stop: malformed). Returns the index after the array or -1.
 */
export function forEachElement(b: Uint8Array, i: number, end: number, each: (start: number) => number): number {
  i = skipWs(b, i, end);
  if (b[i] !== 91) return -1;
  i = skipWs(b, i + 1, end);
  if (b[i] === 93) return i + 1;
  for (;;) {
    const ve = each(i);
    if (ve < 0) return -1;
    i = skipWs(b, ve, end);
    const d = b[i];
    if (d === 44) {
      i = skipWs(b, i + 1, end);
      continue;
    }
    if (d === 93) return i + 1;
    return -1;
  }
}

/** Reuses the string of a value seen before (symbols, assets): no allocation once warm. */
export class Interner {
  private readonly seen: Array<{ bytes: Uint8Array; text: string }> = [];
  get(f: Fields, id: number): string {
    const s = f.start[id]!;
    const e = f.end[id]!;
    const b = f.buf;
    const list = this.seen;
    outer: for (let k = 0; k < list.length; k++) {
      const x = list[k]!;
      if (x.bytes.length !== e - s) continue;
      for (let i = 0; i < x.bytes.length; i++) if (x.bytes[i] !== b[s + i]) continue outer;
      return x.text;
    }
    const text = f.text(id);
    if (list.length < 64) list.push({ bytes: Buffer.from(text, 'latin1'), text });
    return text;
  }
}
