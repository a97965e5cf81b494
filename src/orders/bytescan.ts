/**
 * Byte-level field extraction for the hot private events (fills and acks): one pass over the frame's bytes records
 * where the wanted keys' values are, then the readers turn them into numbers, scaled integers and interned words
 * without building the object tree JSON.parse builds. Only the strings the engine keeps (client id, exchange id,
 * trade id, symbol) are allocated.
 *
 * Rules: structure is known per event (the caller descends into "event" / "o" / "data" explicitly); a value string
 * with an escape (backslash) is marked `escaped` and the callers fall back to the JSON path, as they do for any
 * frame the scanner does not recognise. Numbers are read exactly (integers; decimals as one correctly rounded
 * division), ids of any length stay strings.
 */

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

  /** id of the value among `words` (-1 unknown / absent): enum values without a string */
  word(id: number, words: NameSet): number {
    const k = this.kind[id];
    return k === VK.Str || k === VK.Lit ? words.find(this.buf, this.start[id]!, this.end[id]!) : -1;
  }

  bool(id: number): boolean {
    return this.kind[id] === VK.Lit && this.buf[this.start[id]!] === 116; // t
  }

  /** decimal value (string or number) as a Number, exact as Number(text) for up to 15 significant digits; NaN when not a plain decimal */
  num(id: number): number {
    const k = this.kind[id];
    if (k !== VK.Str && k !== VK.Lit) return 0;
    const b = this.buf;
    let i = this.start[id]!;
    const e = this.end[id]!;
    if (i === e) return 0;
    let neg = false;
    if (b[i] === 45) {
      neg = true;
      i++;
    }
    let v = 0;
    let fd = -1;
    let digits = 0;
    for (; i < e; i++) {
      const c = b[i]!;
      if (c >= 48 && c <= 57) {
        v = v * 10 + (c - 48);
        digits++;
        if (fd >= 0) fd++;
      } else if (c === 46 && fd < 0) fd = 0;
      else return Number(b.toString('latin1', this.start[id]!, e)); // exponent or other shapes: the general path
    }
    if (digits > 15) return Number(b.toString('latin1', this.start[id]!, e));
    const r = fd > 0 ? v / POW10[fd]! : v;
    return neg ? -r : r;
  }

  /** decimal text as an integer count of 10^-decimals (rounded half up beyond the scale); 0 when absent/empty */
  scaled(id: number, decimals: number): number {
    const k = this.kind[id];
    if (k !== VK.Str && k !== VK.Lit) return 0;
    const b = this.buf;
    let i = this.start[id]!;
    const e = this.end[id]!;
    if (i === e) return 0;
    let neg = false;
    if (b[i] === 45) {
      neg = true;
      i++;
    }
    let v = 0;
    let fd = -1;
    let round = 0;
    for (; i < e; i++) {
      const c = b[i]!;
      if (c >= 48 && c <= 57) {
        if (fd < decimals) {
          v = v * 10 + (c - 48);
          if (fd >= 0) fd++;
        } else if (fd === decimals && round === 0) round = c >= 53 ? 1 : -1;
      } else if (c === 46 && fd < 0) fd = 0;
      else return NaN;
    }
    if (fd < 0) fd = 0;
    if (fd < decimals) v *= POW10[decimals - fd]!;
    if (round === 1) v += 1;
    return neg ? -v : v;
  }
}

function skipWs(b: Uint8Array, i: number, end: number): number {
  while (i < end) {
    const c = b[i]!;
    if (c !== 32 && c !== 10 && c !== 13 && c !== 9) return i;
    i++;
  }
  return i;
}

/** i at an opening quote: index after the closing quote (-1 if unterminated); sets `esc.v` when a backslash was seen */
function skipString(b: Uint8Array, i: number, end: number, esc: { v: boolean }): number {
  for (i++; i < end; i++) {
    const c = b[i]!;
    if (c === 34) return i + 1;
    if (c === 92) {
      esc.v = true;
      i++;
    }
  }
  return -1;
}

const ESC = { v: false };

/** index after the value starting at i (object/array skipped whole); -1 when malformed */
export function skipValue(b: Uint8Array, i: number, end: number): number {
  const c = b[i];
  if (c === 34) return skipString(b, i, end, ESC);
  if (c === 123 || c === 91) {
    let depth = 0;
    for (; i < end; i++) {
      const x = b[i]!;
      if (x === 34) {
        i = skipString(b, i, end, ESC) - 1;
        if (i < 0) return -1;
      } else if (x === 123 || x === 91) depth++;
      else if (x === 125 || x === 93) {
        if (--depth === 0) return i + 1;
      }
    }
    return -1;
  }
  // literal: up to , } ] or whitespace
  for (; i < end; i++) {
    const x = b[i]!;
    if (x === 44 || x === 125 || x === 93 || x === 32 || x === 10 || x === 13 || x === 9) return i;
  }
  return i;
}

/**
 * Record the direct members of the object at `i` (first non-space byte must be `{`) whose keys are in `out.keys`.
 * Returns the index after the object, or -1 when the bytes are not a well-formed object.
 */
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
    const ke0 = skipString(b, i, end, ESC);
    if (ke0 < 0) return -1;
    const id = out.keys.find(b, ks, ke0 - 1);
    i = skipWs(b, ke0, end);
    if (b[i] !== 58) return -1;
    i = skipWs(b, i + 1, end);
    const vs = i;
    const c = b[i];
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
