/**
 * Bybit v5 wire helpers shared by the REST, public WS, private WS and trade WS parts of the simulated venue:
 * number formatting per category, the REST envelope, HMAC checks, ids.
 *
 * Formatting follows the real 2026-08 capture (fixtures/bybit/v5_public_capture_2026-08_cryptofeed.ndjson):
 * linear prints prices with `priceScale` decimals ("65114.20" for tickSize "0.10") and quantities with the
 * qtyStep's decimals ("0.002"); spot trims trailing zeros ("65140", "0.014").
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { SimInstrument, SimMarketId } from '../core/types.js';
import { decimalsOfStep, formatScaled, parseScaled, stepUnits } from '../../util/fixed.js';

export type Category = 'spot' | 'linear';
export const CATEGORIES: readonly Category[] = ['spot', 'linear'];

export function marketOf(c: Category): SimMarketId {
  return c === 'spot' ? 'bybitSpot' : 'bybitLinear';
}

export function isCategory(s: unknown): s is Category {
  return s === 'spot' || s === 'linear';
}

/** Written decimals of a step string, trailing zeros included ("0.10" -> 2). */
function writtenDecimals(step: string): number {
  const dot = step.indexOf('.');
  return dot < 0 ? 0 : step.length - dot - 1;
}

/**
 * Price-limit ratios (instruments-info `riskParameters.priceLimitRatioX/Y`) per category. shared/exchange/bybit.md
 * does not give them; these are the values Bybit publishes for BTCUSDT (linear 1% / 2%, spot 0.5% / 1%), see README.
 */
export const PRICE_LIMIT_RATIOS: Record<Category, { x: number; y: number; xText: string; yText: string }> = {
  linear: { x: 0.01, y: 0.02, xText: '0.01', yText: '0.02' },
  spot: { x: 0.005, y: 0.01, xText: '0.005', yText: '0.01' },
};

/** Per-instrument formatting and validation constants, computed once. */
export class InstrumentFmt {
  readonly category: Category;
  readonly priceDecimals: number;
  readonly qtyDecimals: number;
  /** decimals printed for prices (linear: priceScale) */
  readonly priceScale: number;
  private readonly pricePad: string;
  readonly tickUnits: number;
  readonly stepUnits: number;
  readonly minQtyLots: number;
  readonly maxQtyLots: number;
  readonly minNotional: number; // quote currency, float (checks only)
  readonly priceMul: number; // 10^priceDecimals
  readonly qtyMul: number; // 10^qtyDecimals
  /** linear `priceFilter` minPrice / maxPrice in price units (spot has none: 0 / MAX_SAFE_INTEGER) */
  readonly minPriceTicks: number;
  readonly maxPriceTicks: number;

  constructor(
    readonly inst: SimInstrument,
    category: Category,
  ) {
    this.category = category;
    this.priceDecimals = inst.priceDecimals ?? decimalsOfStep(inst.tickSize);
    this.qtyDecimals = inst.qtyDecimals ?? decimalsOfStep(inst.stepSize);
    this.priceScale = category === 'linear' ? Math.max(this.priceDecimals, writtenDecimals(inst.tickSize)) : this.priceDecimals;
    this.pricePad = '0'.repeat(this.priceScale - this.priceDecimals);
    this.tickUnits = Math.max(1, stepUnits(inst.tickSize, this.priceDecimals));
    this.stepUnits = Math.max(1, stepUnits(inst.stepSize, this.qtyDecimals));
    this.minQtyLots = parseScaled(inst.minQty, this.qtyDecimals) || this.stepUnits;
    const maxQ = parseScaled(inst.maxQty, this.qtyDecimals);
    this.maxQtyLots = Number.isFinite(maxQ) && maxQ > 0 ? maxQ : Number.MAX_SAFE_INTEGER;
    this.minNotional = Number(inst.minNotional) || 0;
    this.priceMul = 10 ** this.priceDecimals;
    this.qtyMul = 10 ** this.qtyDecimals;
    // linear: one tick up to just under 2,000,000 quote (what instruments-info shows)
    this.minPriceTicks = category === 'linear' ? this.tickUnits : 0;
    this.maxPriceTicks =
      category === 'linear' ? Math.floor((2_000_000 * this.priceMul) / this.tickUnits) * this.tickUnits - this.tickUnits : Number.MAX_SAFE_INTEGER;
  }

  price(units: number): string {
    const s = formatScaled(units, this.priceDecimals);
    return this.category === 'linear' ? (this.priceDecimals === 0 && this.pricePad.length > 0 ? s + '.' + this.pricePad : s + this.pricePad) : trimZeros(s);
  }

  qty(lots: number): string {
    const s = formatScaled(lots, this.qtyDecimals);
    return this.category === 'linear' ? s : trimZeros(s);
  }

  /** a quote-currency amount (value, fee): plain decimal, at most 8 decimals, no exponent */
  static amount(v: number, decimals = 8): string {
    if (!Number.isFinite(v)) return '0';
    const s = v.toFixed(decimals);
    return trimZeros(s);
  }

  /** price in quote currency as a float (reporting only) */
  priceFloat(units: number): number {
    return units / this.priceMul;
  }
  qtyFloat(lots: number): number {
    return lots / this.qtyMul;
  }
}

export function trimZeros(s: string): string {
  if (s.indexOf('.') < 0) return s;
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 48) end--;
  if (s.charCodeAt(end - 1) === 46) end--;
  const out = s.slice(0, end);
  return out === '-0' ? '0' : out;
}

/** JSON string literal for a value we do not control (symbols and ids we generate are safe already). */
export function q(s: string): string {
  return JSON.stringify(s);
}

/** The REST envelope, built as a string: `result` is already-serialised JSON. */
export function envelope(retCode: number, retMsg: string, resultJson: string, timeMs: number, extInfoJson = '{}'): string {
  return `{"retCode":${retCode},"retMsg":${q(retMsg)},"result":${resultJson},"retExtInfo":${extInfoJson},"time":${timeMs}}`;
}

export function hmacHex(secret: string, text: string): string {
  return createHmac('sha256', secret).update(text).digest('hex');
}

/** Constant-time compare of a hex signature (case-insensitive, as Bybit accepts upper-case hex too). */
export function signatureMatches(expectedHex: string, given: string): boolean {
  if (given.length !== expectedHex.length) return false;
  const a = Buffer.from(expectedHex, 'latin1');
  const b = Buffer.from(given.toLowerCase(), 'latin1');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Bybit's recv-window rule: server_time - recv_window <= timestamp < server_time + 1000. */
export function inRecvWindow(ts: number, recvWindow: number, serverMs: number): boolean {
  return serverMs - recvWindow <= ts && ts < serverMs + 1000;
}

const B32 = '0123456789abcdefghijklmnopqrstuv';
/** A connection id shaped like Bybit's ("d8bu1olkndm7crnfs1e0-j6akw"). */
export function makeConnIdPrefix(): string {
  const b = randomBytes(20);
  let s = '';
  for (let i = 0; i < 20; i++) s += B32[b[i]! & 31];
  return s;
}

/** 32 hex chars (Traceid) */
export function traceId(): string {
  return randomBytes(16).toString('hex');
}

/** A UUID-shaped string derived from a counter (deterministic, unique per counter). */
export function uuidFromCounter(prefix: number, n: number): string {
  const h = n.toString(16).padStart(12, '0');
  const p = (prefix >>> 0).toString(16).padStart(8, '0');
  return `${p}-0000-4000-8000-${h.slice(-12)}`;
}

/** Decimal string with at most `decimals` decimals and no sign/exponent -> scaled integer, or NaN. */
export function parseDec(text: unknown, decimals: number): number {
  if (typeof text !== 'string' || text.length === 0 || text.length > 40) return NaN;
  return parseScaled(text, decimals);
}

/** Value parsed with a generous precision, to tell "too many decimals" from "not a number". */
export function isPlainDecimal(text: unknown): text is string {
  return typeof text === 'string' && /^\d+(\.\d+)?$/.test(text) && text.length <= 40;
}

/** `decodeURIComponent`, or the text itself when it is not valid percent-encoding (list cursors) */
export function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
