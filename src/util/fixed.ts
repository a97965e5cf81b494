/**
 * Scaled integers for prices and quantities.
 *
 * At the edge, a decimal string like "27123.45" becomes an integer count of steps (ticks for prices, lots for
 * quantities) given the symbol's step size, e.g. tickSize "0.01" -> 2712345. Integers up to 2^53 are exact in a
 * double, which covers every real symbol (BTC at 0.01 tick is ~1e7 ticks; SHIB quantities at 1 lot ~1e12).
 * No floating-point arithmetic ever touches a price after this point.
 */

/** Number of decimals in a step string: "0.0100" -> 2, "1" -> 0, "0.00001000" -> 5, "10" -> 0 (scale 1). */
export function decimalsOfStep(step: string): number {
  const dot = step.indexOf('.');
  if (dot < 0) return 0;
  let end = step.length;
  while (end > dot + 1 && step.charCodeAt(end - 1) === 48 /* '0' */) end--;
  return end - dot - 1;
}

/**
 * Parse a non-negative decimal string into an integer scaled by 10^decimals.
 * Returns NaN when the text is not a plain non-negative decimal or has more significant decimals than allowed
 * (the caller decides whether that is a -1111 "too much precision" or a malformed frame).
 */
export function parseScaled(text: string, decimals: number): number {
  let v = 0;
  let frac = -1; // -1: before the dot
  const n = text.length;
  if (n === 0) return NaN;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 46 /* . */) {
      if (frac >= 0) return NaN;
      frac = 0;
      continue;
    }
    if (c < 48 || c > 57) return NaN;
    if (frac >= 0) {
      if (frac >= decimals) {
        if (c !== 48) return NaN; // significant digit beyond the scale
        continue;
      }
      frac++;
    }
    v = v * 10 + (c - 48);
  }
  if (frac < 0) frac = 0;
  for (let i = frac; i < decimals; i++) v *= 10;
  return v;
}

const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16];

/** Format a scaled integer back to a decimal string with exactly `decimals` places ("2712345",2 -> "27123.45"). */
export function formatScaled(units: number, decimals: number): string {
  if (decimals === 0) return String(units);
  const neg = units < 0;
  const a = neg ? -units : units;
  const p = POW10[decimals] ?? 10 ** decimals;
  const int = Math.floor(a / p);
  const frac = String(a - int * p).padStart(decimals, '0');
  return (neg ? '-' : '') + int + '.' + frac;
}

/** Steps of `step` in a decimal string: stepUnits("0.01", 2) -> 1; used to express tickSize in units. */
export function stepUnits(step: string, decimals: number): number {
  return parseScaled(step, decimals);
}

const MAX_SAFE = 9007199254740991;

/**
 * Exact decimal text -> integer count of 10^-decimals, with no floating point on the way. The text is bytes
 * b[s, e) in JSON number grammar (`-?(0|[1-9]d*)(.d+)?([eE][+-]?d+)?`): "2631.90", "2.6319e+3" and "-0.5" are read,
 * "1.", ".5", "01", "1e", " 1" are not. Digits beyond the scale are rounded half away from zero. NaN when the text is
 * not in that grammar or the magnitude exceeds 2^53 - 1. "-0" gives 0. Allocation-free (hot path: private-stream
 * fills); the cold paths pass the characters through `decimalTextToUnits`.
 */
export function decimalToUnits(b: ArrayLike<number>, s: number, e: number, decimals: number): number {
  let i = s;
  let neg = false;
  if (i < e && b[i] === 45) {
    neg = true;
    i++;
  }
  const ds = i; // first digit
  if (i >= e) return NaN;
  let c = b[i]!;
  if (c === 48) i++;
  else if (c >= 49 && c <= 57) {
    i++;
    while (i < e && (c = b[i]!) >= 48 && c <= 57) i++;
  } else return NaN;
  const intEnd = i;
  let fracStart = i;
  let fracEnd = i;
  if (i < e && b[i] === 46) {
    i++;
    fracStart = i;
    while (i < e && (c = b[i]!) >= 48 && c <= 57) i++;
    if (i === fracStart) return NaN;
    fracEnd = i;
  }
  let exp = 0;
  if (i < e && (b[i] === 101 || b[i] === 69)) {
    i++;
    let eneg = false;
    if (i < e && (b[i] === 43 || b[i] === 45)) {
      eneg = b[i] === 45;
      i++;
    }
    const es = i;
    while (i < e && (c = b[i]!) >= 48 && c <= 57) {
      if (exp < 100000) exp = exp * 10 + (c - 48);
      i++;
    }
    if (i === es) return NaN;
    if (eneg) exp = -exp;
  }
  if (i !== e) return NaN;
  // digits D = int digits then fraction digits; value = D * 10^(exp - fracLen); units = D * 10^shift
  const nInt = intEnd - ds;
  const nFrac = fracEnd - fracStart;
  const n = nInt + nFrac;
  const shift = exp - nFrac + decimals;
  const keep = shift >= 0 ? n : n + shift; // digits of D that make the integer part
  let v = 0;
  for (let k = 0; k < keep && k < n; k++) {
    const d = b[k < nInt ? ds + k : fracStart + (k - nInt)]! - 48;
    if (v > (MAX_SAFE - d) / 10) return NaN;
    v = v * 10 + d;
  }
  if (shift > 0 && v !== 0) {
    for (let k = 0; k < shift; k++) {
      if (v > MAX_SAFE / 10) return NaN;
      v *= 10;
    }
  } else if (shift < 0 && keep >= 0 && keep < n) {
    const r = b[keep < nInt ? ds + keep : fracStart + (keep - nInt)]! - 48;
    if (r >= 5) {
      if (v >= MAX_SAFE) return NaN;
      v += 1;
    }
  }
  return neg ? 0 - v : v;
}

const TEXT = new Uint8Array(64);

/** decimalToUnits over a string (cold paths: JSON-parsed values); NaN for any non-ASCII character. */
export function decimalTextToUnits(text: string, decimals: number): number {
  const n = text.length;
  const buf = n <= TEXT.length ? TEXT : new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c > 127) return NaN;
    buf[i] = c;
  }
  return decimalToUnits(buf, 0, n, decimals);
}
