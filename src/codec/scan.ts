/**
 * Byte-level JSON scanning primitives for the market-data hot path.
 *
 * A `Scanner` walks a frame's bytes (Buffer / Uint8Array as delivered by the socket) without building strings
 * or objects: keys are hashed (FNV-1a) and compared to precomputed constants, decimal strings become scaled
 * integers directly, unknown values are skipped. Errors never throw: the first one sets `err` (a `Reason`)
 * and every later call returns a neutral value, so a parser checks `err` once at the end.
 *
 * Strict: whatever the scanner reads or skips follows the JSON grammar (strings without raw control characters and
 * with valid escapes, numbers without leading zeros, true/false/null, nested values validated by
 * util/jsonscan.ts), so a frame it accepts is one JSON.parse accepts. Keys with an escape are refused. Decimals are
 * `digits[.digits]` in quotes; a scaled value above 2^53 - 1 is out of range.
 */
import { skipValue } from './jsonscan.js';

/** Why a frame was rejected. Index into counters; names in REASON_NAMES. */
export const enum Reason {
  Ok = 0,
  /** the frame ended inside a value */
  Truncated = 1,
  /** not the JSON structure we expect (missing quote, colon, bracket...) */
  Syntax = 2,
  /** a price/size/id is not a plain decimal number */
  NotNumber = 3,
  /** a negative price or size */
  Negative = 4,
  /** more significant decimals than the instrument's scale */
  Precision = 5,
  /** a number too large to be exact (> 2^53) */
  Range = 6,
  /** a symbol we did not subscribe to */
  UnknownSymbol = 7,
  /** a stream/event/topic we do not handle on the hot path */
  UnknownEvent = 8,
  /** a field the message kind needs is absent */
  MissingField = 9,
  /** a frame that is not a JSON object at all (empty, text) */
  NotObject = 10,
  /** a field holds a value of another JSON type (levels that are not an array, a number where a string belongs) */
  WrongType = 11,
  /** a price of zero (a level, a best bid/ask, a trade) */
  ZeroPrice = 12,
  /** a key the parser reads appears twice in one object (JSON.parse would keep the last, the scanner the first) */
  DuplicateKey = 13,
}
export const REASON_NAMES = [
  'ok',
  'truncated',
  'syntax',
  'not_number',
  'negative',
  'precision',
  'range',
  'unknown_symbol',
  'unknown_event',
  'missing_field',
  'not_object',
  'wrong_type',
  'zero_price',
  'duplicate_key',
] as const;
export const REASON_COUNT = REASON_NAMES.length;

const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18];
const MAX_SAFE = 9007199254740991;

/** FNV-1a over a string's char codes (ASCII keys); same function as Scanner.key(). */
export function hashKey(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h & 0x3fffffff; // small integer (Smi): no HeapNumber allocation
}

/** Case-folding (to upper) FNV-1a, used for symbol lookup from "BTCUSDT" or "btcusdt@depth". */
export function hashSymbol(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c >= 97 && c <= 122) c -= 32;
    h = Math.imul(h ^ c, 0x01000193);
  }
  return h & 0x3fffffff; // small integer (Smi): no HeapNumber allocation
}

export class Scanner {
  b: Uint8Array = new Uint8Array(0);
  p = 0;
  end = 0;
  err: number = Reason.Ok;
  /** start offset and length of the last string read by strSpan() */
  sStart = 0;
  sLen = 0;

  reset(b: Uint8Array, start = 0, end = b.length): void {
    this.b = b;
    this.p = start;
    this.end = end;
    this.err = Reason.Ok;
  }

  fail(r: number): void {
    if (this.err === Reason.Ok) this.err = r;
    this.p = this.end;
  }

  ws(): void {
    const b = this.b;
    let p = this.p;
    const e = this.end;
    while (p < e) {
      const c = b[p] as number;
      if (c !== 32 && c !== 10 && c !== 13 && c !== 9) break;
      p++;
    }
    this.p = p;
  }

  /** Next non-space byte, not consumed (-1 at end). */
  peek(): number {
    this.ws();
    return this.p < this.end ? (this.b[this.p] as number) : -1;
  }

  /** Consume byte c after optional whitespace, else fail. */
  expect(c: number): boolean {
    this.ws();
    if (this.p >= this.end) {
      this.fail(Reason.Truncated);
      return false;
    }
    if (this.b[this.p] !== c) {
      this.fail(Reason.Syntax);
      return false;
    }
    this.p++;
    return true;
  }

  /**
   * Inside an object after '{' or a value: returns true if another member follows (consumes ','), false at '}'
   * (consumed). Call first with `first = true` right after '{'.
   */
  more(first: boolean): boolean {
    this.ws();
    if (this.p >= this.end) {
      this.fail(Reason.Truncated);
      return false;
    }
    const c = this.b[this.p];
    if (c === 125 /* } */) {
      this.p++;
      return false;
    }
    if (first) return true;
    if (c === 44 /* , */) {
      this.p++;
      return true;
    }
    this.fail(Reason.Syntax);
    return false;
  }

  /** Same as more() for arrays (']' ends). */
  moreItems(first: boolean): boolean {
    this.ws();
    if (this.p >= this.end) {
      this.fail(Reason.Truncated);
      return false;
    }
    const c = this.b[this.p];
    if (c === 93 /* ] */) {
      this.p++;
      return false;
    }
    if (first) return true;
    if (c === 44) {
      this.p++;
      return true;
    }
    this.fail(Reason.Syntax);
    return false;
  }

  /** Read `"key":` and return the key's FNV-1a hash (0 on error). Keys with escapes are hashed raw. */
  key(): number {
    const b = this.b;
    const e = this.end;
    let p = this.p;
    // one-letter key written compactly (`"u":`, most Binance keys): hash the letter, no loop, no second ws()
    if (p + 4 < e && b[p] === 34 && b[p + 2] === 34 && b[p + 3] === 58) {
      const c = b[p + 1] as number;
      if (c !== 92 && c !== 34 && c >= 32) {
        this.p = p + 4;
        return Math.imul(0x811c9dc5 ^ c, 0x01000193) & 0x3fffffff;
      }
    }
    this.ws();
    p = this.p;
    if (p >= e) {
      this.fail(Reason.Truncated);
      return 0;
    }
    if (b[p] !== 34) {
      this.fail(Reason.Syntax);
      return 0;
    }
    p++;
    let h = 0x811c9dc5;
    while (p < e) {
      const c = b[p] as number;
      if (c === 34) break;
      if (c === 92 || c < 32) {
        // an escape in a key (no venue sends one; JSON.parse would read it as another key) or a raw control byte
        this.fail(Reason.Syntax);
        return 0;
      }
      h = Math.imul(h ^ c, 0x01000193);
      p++;
    }
    if (p >= e) {
      this.fail(Reason.Truncated);
      return 0;
    }
    this.p = p + 1;
    if (!this.expect(58 /* : */)) return 0;
    return h & 0x3fffffff; // small integer (Smi): no HeapNumber allocation
  }

  /**
   * At a backslash or a control byte inside a string: the index after a valid escape (`\n`, `\u00e9`...), or -1 with
   * the reason set (a raw control byte, an unknown escape, a frame that ends inside it). Escaped text is skipped as
   * bytes: a value with one never matches a key, word or symbol we know.
   */
  private escape(p: number): number {
    const b = this.b;
    const e = this.end;
    if (b[p] !== 92) {
      this.fail(Reason.Syntax);
      return -1;
    }
    const d = b[p + 1];
    if (p + 1 >= e) {
      this.fail(Reason.Truncated);
      return -1;
    }
    if (d === 117) {
      if (p + 5 >= e) {
        this.fail(Reason.Truncated);
        return -1;
      }
      for (let k = 2; k < 6; k++) {
        const h = b[p + k] as number;
        if (!((h >= 48 && h <= 57) || (h >= 65 && h <= 70) || (h >= 97 && h <= 102))) {
          this.fail(Reason.Syntax);
          return -1;
        }
      }
      return p + 6;
    }
    if (d === 34 || d === 92 || d === 47 || d === 98 || d === 102 || d === 110 || d === 114 || d === 116) return p + 2;
    this.fail(Reason.Syntax);
    return -1;
  }

  /** Read a JSON string, recording its byte span (without quotes) in sStart/sLen; returns FNV-1a hash. */
  strHash(foldUpper: boolean): number {
    this.ws();
    const b = this.b;
    const e = this.end;
    let p = this.p;
    if (p >= e) {
      this.fail(Reason.Truncated);
      return 0;
    }
    if (b[p] !== 34) {
      this.fail(Reason.Syntax);
      return 0;
    }
    p++;
    this.sStart = p;
    let h = 0x811c9dc5;
    while (p < e) {
      let c = b[p] as number;
      if (c === 34) break;
      if (c === 92 || c < 32) {
        p = this.escape(p);
        if (p < 0) return 0;
        continue;
      }
      if (foldUpper && c >= 97 && c <= 122) c -= 32;
      h = Math.imul(h ^ c, 0x01000193);
      p++;
    }
    if (p >= e) {
      this.fail(Reason.Truncated);
      return 0;
    }
    this.sLen = p - this.sStart;
    this.p = p + 1;
    return h & 0x3fffffff; // small integer (Smi): no HeapNumber allocation
  }

  /** Read a JSON string recording its byte span (without quotes) in sStart/sLen, no hashing; false on error. */
  strSpan(): boolean {
    this.ws();
    const b = this.b;
    const e = this.end;
    let p = this.p;
    if (p >= e || b[p] !== 34) {
      this.fail(p >= e ? Reason.Truncated : Reason.Syntax);
      return false;
    }
    p++;
    const s = p;
    while (p < e) {
      const c = b[p] as number;
      if (c === 34) break;
      if (c === 92 || c < 32) {
        p = this.escape(p);
        if (p < 0) return false;
        continue;
      }
      p++;
    }
    if (p >= e) {
      this.fail(Reason.Truncated);
      return false;
    }
    this.sStart = s;
    this.sLen = p - s;
    this.p = p + 1;
    return true;
  }

  /**
   * Hash of a string value up to the first '@' or '.'-free boundary given by `stop` (e.g. '@' for Binance stream
   * names "nknusdt@depth@100ms"), upper-folded; consumes the whole string. Returns 0 on error.
   */
  strHashUntil(stop: number): number {
    this.ws();
    const b = this.b;
    const e = this.end;
    let p = this.p;
    if (p >= e || b[p] !== 34) {
      this.fail(p >= e ? Reason.Truncated : Reason.Syntax);
      return 0;
    }
    p++;
    this.sStart = p;
    let h = 0x811c9dc5;
    let stopped = false;
    while (p < e) {
      let c = b[p] as number;
      if (c === 34) break;
      if (c === 92 || c < 32) {
        p = this.escape(p);
        if (p < 0) return 0;
        continue;
      }
      if (c === stop) stopped = true;
      if (!stopped) {
        if (c >= 97 && c <= 122) c -= 32;
        h = Math.imul(h ^ c, 0x01000193);
      }
      p++;
    }
    if (p >= e) {
      this.fail(Reason.Truncated);
      return 0;
    }
    this.sLen = p - this.sStart;
    this.p = p + 1;
    return h & 0x3fffffff; // small integer (Smi): no HeapNumber allocation
  }

  /** True if the last string read (sStart/sLen) starts with the ASCII bytes of `prefix` (precomputed). */
  strStartsWith(prefix: Uint8Array): boolean {
    if (this.sLen < prefix.length) return false;
    const b = this.b;
    const s = this.sStart;
    for (let i = 0; i < prefix.length; i++) if (b[s + i] !== prefix[i]) return false;
    return true;
  }

  /**
   * Result of readUint(). Initialised with a fraction so that V8 gives the field a Double representation from
   * the start: a 1e11 sequence or a 1.7e12 timestamp is then stored in place, never boxed into a new HeapNumber
   * (a double returned from a non-inlined call would be).
   */
  num = 0.5;

  /**
   * A non-negative JSON integer (bare number, or a quoted one: some ids come as strings) into `num`; -1 on
   * error. The hot path reads `num` instead of a return value (no boxing of large values).
   */
  readUint(): void {
    this.ws();
    const b = this.b;
    const e = this.end;
    let p = this.p;
    let quoted = false;
    if (p < e && b[p] === 34) {
      quoted = true;
      p++;
    }
    let v = 0;
    const s = p;
    while (p < e) {
      const c = b[p] as number;
      if (c < 48 || c > 57) break;
      v = v * 10 + (c - 48);
      p++;
    }
    if (p >= e) {
      this.fail(Reason.Truncated);
      this.num = -1;
      return;
    }
    const c = b[p] as number;
    if (p === s) {
      this.fail(c === 45 ? Reason.Negative : Reason.NotNumber);
      this.num = -1;
      return;
    }
    if (quoted) {
      if (c !== 34) {
        this.fail(Reason.NotNumber);
        this.num = -1;
        return;
      }
      p++;
    } else if (c === 46 || c === 101 || c === 69 || (b[s] === 48 && p - s > 1)) {
      // a fraction, an exponent or a leading zero: not a JSON integer
      this.fail(Reason.NotNumber);
      this.num = -1;
      return;
    }
    if (v > MAX_SAFE) {
      this.fail(Reason.Range);
      this.num = -1;
      return;
    }
    this.p = p;
    this.num = v;
  }

  /** readUint() returning the value (cold paths). */
  uint(): number {
    this.readUint();
    return this.num;
  }

  /**
   * A quoted non-negative decimal ("0.35210000") as an integer scaled by 10^decimals into `num` (-1 on error,
   * reason set). Extra decimals must be zeros (Binance spot pads to 8). The hot path reads `num` (a Double
   * field: a scaled 30 BTC at 8 decimals, 3e9, is not a small integer and would be boxed as a return value).
   *
   * Fast path for the canonical shape `"digits[.digits]"` with <= 9 integer digits and a scale <= 9: integer
   * and fraction digits go into two small integers in one pass (int32 multiply-adds), joined once. Anything
   * else is re-read by dec(), which names the reason.
   */
  readDec(decimals: number): void {
    const b = this.b;
    const e = this.end;
    let p = this.p;
    // biome-ignore lint/suspicious/noConfusingLabels: a labelled block is the hot path's early exit (break fast), no flag variable
    fast: if (p < e && b[p] === 34 && decimals <= 9) {
      p++;
      const s = p;
      let hi = 0;
      let c = 0;
      while (p < e) {
        c = b[p] as number;
        if (c < 48 || c > 57) break;
        hi = hi * 10 + (c - 48);
        p++;
      }
      if (p >= e || p === s || p - s > 9) break fast;
      let lo = 0;
      let f = 0;
      if (c === 46) {
        p++;
        const fs = p;
        const lim = p + decimals < e ? p + decimals : e;
        while (p < lim) {
          c = b[p] as number;
          if (c < 48 || c > 57) break;
          lo = lo * 10 + (c - 48);
          p++;
        }
        f = p - fs;
        while (p < e && b[p] === 48) p++;
        if (p >= e || p === fs) break fast; // "1." is not a decimal
        c = b[p] as number;
      }
      if (c !== 34) break fast;
      const v = hi * (POW10[decimals] as number) + lo * (POW10[decimals - f] as number);
      if (v > MAX_SAFE) break fast;
      this.p = p + 1;
      this.num = v;
      return;
    }
    this.num = this.dec(decimals);
  }

  /**
   * A quoted non-negative decimal ("0.35210000") as an integer scaled by 10^decimals. Extra decimals must be
   * zeros (Binance spot pads to 8). -1 on error (reason set). General path (any whitespace, precise reasons).
   */
  dec(decimals: number): number {
    this.ws();
    const b = this.b;
    const e = this.end;
    let p = this.p;
    if (p >= e) {
      this.fail(Reason.Truncated);
      return -1;
    }
    if (b[p] !== 34) {
      this.fail(b[p] === 45 ? Reason.Negative : Reason.NotNumber);
      return -1;
    }
    p++;
    let v = 0;
    let frac = -1;
    let digits = 0;
    let fracDigits = 0;
    for (;;) {
      if (p >= e) {
        this.fail(Reason.Truncated);
        return -1;
      }
      const c = b[p] as number;
      if (c >= 48 && c <= 57) {
        if (frac < 0) {
          v = v * 10 + (c - 48);
          digits++;
        } else {
          if (frac < decimals) {
            v = v * 10 + (c - 48);
            frac++;
          } else if (c !== 48) {
            this.fail(Reason.Precision);
            return -1;
          }
          fracDigits++;
        }
      } else if (c === 34) {
        break;
      } else if (c === 46 && frac < 0) {
        frac = 0;
      } else {
        this.fail(c === 45 ? Reason.Negative : Reason.NotNumber);
        return -1;
      }
      p++;
    }
    // `digits[.digits]`: "1.", ".5" and "" are not decimals
    if (digits === 0 || (frac >= 0 && fracDigits === 0)) {
      this.fail(Reason.NotNumber);
      return -1;
    }
    this.p = p + 1;
    const f = frac < 0 ? 0 : frac;
    if (f < decimals) v *= POW10[decimals - f] as number;
    if (v > MAX_SAFE) {
      this.fail(Reason.Range);
      return -1;
    }
    return v;
  }

  /** true/false literal; anything else fails. */
  bool(): boolean {
    this.ws();
    const b = this.b;
    const p = this.p;
    if (p + 4 <= this.end && b[p] === 116 && b[p + 1] === 114 && b[p + 2] === 117 && b[p + 3] === 101) {
      this.p = p + 4;
      return true;
    }
    if (p + 5 <= this.end && b[p] === 102 && b[p + 1] === 97 && b[p + 2] === 108 && b[p + 3] === 115 && b[p + 4] === 101) {
      this.p = p + 5;
      return false;
    }
    this.fail(p >= this.end ? Reason.Truncated : Reason.Syntax);
    return false;
  }

  /** Skip any JSON value (string, number, literal, object, array), validated in full (util/jsonscan.ts). */
  skip(): void {
    this.ws();
    if (this.p >= this.end) {
      this.fail(Reason.Truncated);
      return;
    }
    const q = skipValue(this.b, this.p, this.end);
    if (q < 0) {
      this.fail(Reason.Syntax);
      return;
    }
    this.p = q;
  }

  /** Only whitespace up to the end of the frame (nothing after the top-level object); else Syntax. */
  atEnd(): boolean {
    this.ws();
    if (this.p === this.end) return true;
    this.fail(Reason.Syntax);
    return false;
  }

  /** The last string read (sStart/sLen) is exactly the ASCII bytes `w` (precomputed). */
  strIs(w: Uint8Array): boolean {
    return this.sLen === w.length && this.strStartsWith(w);
  }
}

/** ASCII bytes of a string, for prefix comparisons. */
export function ascii(s: string): Uint8Array {
  const a = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) a[i] = s.charCodeAt(i);
  return a;
}
