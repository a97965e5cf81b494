/**
 * JSON validation over bytes, allocation-free, shared by the market-data scanner (src/codec/scan.ts) and the private-stream
 * byte path (src/codec/bytescan.ts): a value these functions accept is one JSON.parse accepts (grammar of strings,
 * escapes, numbers, literals, nesting), so a byte parser that skips or reads a value through them never accepts a
 * frame the JSON path would refuse.
 */

/** Index of the first byte at or after `i` that is not JSON white space (`end` if none). */
export function skipWs(b: Uint8Array, i: number, end: number): number {
  while (i < end) {
    const c = b[i]!;
    if (c !== 32 && c !== 10 && c !== 13 && c !== 9) return i;
    i++;
  }
  return i;
}

function isHex(c: number | undefined): boolean {
  return c !== undefined && ((c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102));
}

/**
 * i at an opening quote: index after the closing quote, -1 when it is not a valid JSON string (unterminated, a raw
 * control character, a bad escape). Sets `esc.v` when the string has an escape or a non-ASCII byte: its bytes are
 * then not its text, and the callers read it through JSON.parse.
 */
export function skipString(b: Uint8Array, i: number, end: number, esc: { v: boolean }): number {
  for (i++; i < end; i++) {
    const c = b[i]!;
    if (c === 34) return i + 1;
    if (c < 32) return -1;
    if (c >= 128) esc.v = true;
    else if (c === 92) {
      esc.v = true;
      const d = b[++i];
      if (d === 117) {
        if (!isHex(b[i + 1]) || !isHex(b[i + 2]) || !isHex(b[i + 3]) || !isHex(b[i + 4])) return -1;
        i += 4;
      } else if (d !== 34 && d !== 92 && d !== 47 && d !== 98 && d !== 102 && d !== 110 && d !== 114 && d !== 116) return -1;
    }
  }
  return -1;
}

const ESC = { v: false };

/** index after a JSON number (its grammar exactly) starting at i; -1 when it is not one */
export function skipNumber(b: Uint8Array, i: number, end: number): number {
  if (b[i] === 45) i++;
  if (i >= end) return -1;
  let c = b[i];
  if (c === 48) i++;
  else if (c !== undefined && c >= 49 && c <= 57) {
    i++;
    while (i < end && (c = b[i]!) >= 48 && c <= 57) i++;
  } else return -1;
  if (i < end && b[i] === 46) {
    const s = ++i;
    while (i < end && (c = b[i]!) >= 48 && c <= 57) i++;
    if (i === s) return -1;
  }
  if (i < end && (b[i] === 101 || b[i] === 69)) {
    i++;
    if (i < end && (b[i] === 43 || b[i] === 45)) i++;
    const s = i;
    while (i < end && (c = b[i]!) >= 48 && c <= 57) i++;
    if (i === s) return -1;
  }
  return i <= end ? i : -1;
}

function word(b: Uint8Array, i: number, end: number, w: readonly number[]): number {
  if (i + w.length > end) return -1;
  for (let k = 0; k < w.length; k++) if (b[i + k] !== w[k]) return -1;
  return i + w.length;
}
const TRUE = [116, 114, 117, 101];
const FALSE = [102, 97, 108, 115, 101];
const NULL = [110, 117, 108, 108];
/** nesting deeper than this is refused (the caller falls back to JSON.parse) */
const MAX_DEPTH = 32;

/**
 * Index after the JSON value starting at i, validated in full (every nested member, string and number follows the
 * JSON grammar, so a frame the byte path accepts is one JSON.parse accepts); -1 when malformed.
 */
export function skipValue(b: Uint8Array, i: number, end: number, depth = 0): number {
  if (i >= end) return -1;
  const c = b[i]!;
  if (c === 34) return skipString(b, i, end, ESC);
  if (c === 123 || c === 91) {
    if (depth >= MAX_DEPTH) return -1;
    const close = c === 123 ? 125 : 93;
    i = skipWs(b, i + 1, end);
    if (b[i] === close) return i + 1;
    for (;;) {
      if (c === 123) {
        if (b[i] !== 34) return -1;
        i = skipString(b, i, end, ESC);
        if (i < 0) return -1;
        i = skipWs(b, i, end);
        if (b[i] !== 58) return -1;
        i = skipWs(b, i + 1, end);
      }
      i = skipValue(b, i, end, depth + 1);
      if (i < 0) return -1;
      i = skipWs(b, i, end);
      const d = i < end ? b[i] : -1;
      if (d === close) return i + 1;
      if (d !== 44) return -1;
      i = skipWs(b, i + 1, end);
    }
  }
  if (c === 116) return word(b, i, end, TRUE);
  if (c === 102) return word(b, i, end, FALSE);
  if (c === 110) return word(b, i, end, NULL);
  return skipNumber(b, i, end);
}
