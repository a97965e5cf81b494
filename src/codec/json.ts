/**
 * JSON helpers for exchange responses whose integer ids can exceed 2^53 (a real USD-M order id is
 * 8389765739703625592). `JSON.parse` would round them; `parseJsonSafe` first wraps every integer literal of 16+
 * digits that stands outside a string in quotes, so ids arrive as exact strings. Small ids stay numbers: read ids
 * with `idString()` which accepts both.
 */
import { decimalTextToUnits } from '../util/fixed.js';

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Quote integer literals with >= 16 digits outside strings (floats and exponents are left alone). */
export function quoteBigInts(text: string): string {
  let out = '';
  let last = 0;
  let inStr = false;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (inStr) {
      if (c === 92 /* \ */) i++;
      else if (c === 34) inStr = false;
      continue;
    }
    if (c === 34) {
      inStr = true;
      continue;
    }
    if (isDigit(c) || c === 45 /* - */) {
      let j = i + 1;
      while (j < n && isDigit(text.charCodeAt(j))) j++;
      const digits = j - i - (c === 45 ? 1 : 0);
      const lead0 = text.charCodeAt(c === 45 ? i + 1 : i) === 48; // not a JSON number: JSON.parse must still refuse it
      const next = j < n ? text.charCodeAt(j) : 0;
      const isFloat = next === 46 || next === 101 || next === 69;
      if (digits >= 16 && !isFloat && !lead0) {
        out += text.slice(last, i) + '"' + text.slice(i, j) + '"';
        last = j;
      }
      i = j - 1;
    }
  }
  return last === 0 ? text : out + text.slice(last);
}

/**
 * Hot-path variant: quote only the values of the named keys (e.g. Binance `orderId`, `i`, `t`) when they are
 * integer literals of 16+ digits. Finds `"key":` with indexOf (native) instead of scanning every character, which
 * costs about as much as JSON.parse itself. Safe: inside a JSON string every quote is escaped, so `"key":` only
 * matches a real key.
 */
export function quoteIdFields(text: string, patterns: readonly string[]): string {
  let out = text;
  for (let p = 0; p < patterns.length; p++) {
    const pat = patterns[p]!;
    let from = 0;
    for (;;) {
      const at = out.indexOf(pat, from);
      if (at < 0) break;
      let j = at + pat.length;
      while (out.charCodeAt(j) === 32) j++;
      let e = out.charCodeAt(j) === 45 ? j + 1 : j;
      const ds = e;
      while (e < out.length && isDigit(out.charCodeAt(e))) e++;
      const next = out.charCodeAt(e);
      // a leading zero is not a JSON number: left unquoted, JSON.parse refuses it as it must
      if (e - ds >= 16 && next !== 46 && next !== 101 && next !== 69 && out.charCodeAt(ds) !== 48) {
        out = out.slice(0, j) + '"' + out.slice(j, e) + '"' + out.slice(e);
        e += 2;
      }
      from = e;
    }
  }
  return out;
}

/** `"key":` search patterns for quoteIdFields */
export function idPatterns(keys: readonly string[]): string[] {
  return keys.map((k) => '"' + k + '":');
}

/** JSON.parse keeping the named id fields exact (hot paths with a known shape). */
export function parseJsonIds(text: string, patterns: readonly string[]): unknown {
  return JSON.parse(quoteIdFields(text, patterns));
}

/** Binance order/user-data id fields that can exceed 2^53 */
export const BINANCE_ID_PATTERNS = idPatterns(['orderId', 'i', 't', 'I', 'tradeId', 'algoId', 'aid']);

/** JSON.parse that keeps big integers exact (as strings). Throws SyntaxError on malformed text. */
export function parseJsonSafe(text: string): unknown {
  return JSON.parse(quoteBigInts(text));
}

/** An id field (number or string) as a string; '' when absent. */
export function idString(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'bigint') return v.toString();
  return '';
}

export function str(v: unknown): string {
  return typeof v === 'string' ? v : v === null || v === undefined ? '' : String(v);
}

export function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.length > 0) return Number(v);
  return 0;
}

// ---- strict readers of private-stream event fields (the byte path, bytescan.ts Fields, reads the same values) ----

const JSON_NUMBER = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$/;
const DIGITS = /^[0-9]+$/;

/** A decimal string ("2631.90", "2.6319e+3") as an exact non-negative count of 10^-decimals; NaN for anything else. */
export function unitsOf(v: unknown, decimals: number): number {
  if (typeof v !== 'string') return NaN;
  const u = decimalTextToUnits(v, decimals);
  return u >= 0 ? u : NaN;
}

/** A decimal string (a fee: may be negative) as a finite Number; NaN for anything else. */
export function decNumOf(v: unknown): number {
  if (typeof v !== 'string' || !JSON_NUMBER.test(v)) return NaN;
  const n = Number(v);
  return n === 0 ? 0 : Number.isFinite(n) ? n : NaN;
}

/** A non-negative integer (a time in ms): a number, or a string of digits; at most 2^53 - 1; NaN otherwise. */
export function uintOf(v: unknown): number {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 ? v + 0 : NaN;
  if (typeof v === 'string' && DIGITS.test(v)) {
    const n = Number(v);
    return Number.isSafeInteger(n) ? n : NaN;
  }
  return NaN;
}

/** An id: a string, or an exact integer number (big ones arrive quoted: parseJsonIds); undefined otherwise. */
export function idOf(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
  return undefined;
}

/** absent (undefined) or a boolean */
export function boolOk(v: unknown): boolean {
  return v === undefined || typeof v === 'boolean';
}

export type Json = Record<string, unknown>;

export function obj(v: unknown): Json | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;
}

export function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
