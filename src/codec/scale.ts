/**
 * Decimal-string <-> scaled-integer conversion for order entry, per (venue, symbol).
 */
import type { VenueId } from '../model/types.js';
import { parseScaled } from '../util/fixed.js';

export interface Scale {
  priceDecimals: number;
  qtyDecimals: number;
}

export type ScaleLookup = (venue: VenueId, symbol: string) => Scale | undefined;

export function scaleTable(list: ReadonlyArray<Scale & { venue: VenueId; symbol: string }>): ScaleLookup {
  const m = new Map<string, Scale>();
  for (const i of list) m.set(i.venue + ':' + i.symbol, { priceDecimals: i.priceDecimals, qtyDecimals: i.qtyDecimals });
  return (venue, symbol) => m.get(venue + ':' + symbol);
}

/** Decimal text -> scaled integer; '' / null -> 0; more significant decimals than the scale -> rounded (never NaN). */
export function scaled(text: unknown, decimals: number): number {
  if (typeof text === 'number') return Math.round(text * 10 ** decimals);
  if (typeof text !== 'string' || text.length === 0) return 0;
  let neg = false;
  let t = text;
  if (t.charCodeAt(0) === 45) {
    neg = true;
    t = t.slice(1);
  }
  let v = parseScaled(t, decimals);
  if (Number.isNaN(v)) v = Math.round(Number(t) * 10 ** decimals);
  if (Number.isNaN(v)) return 0;
  return neg ? -v : v;
}
