/**
 * Test helpers for market data: fixture loading (cryptofeed format 2), instruments, an independent reference
 * book (JSON.parse + Map, the straightforward way).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type { Instrument, VenueId } from '../../src/model/types.js';
import { parseScaled } from '../../src/util/fixed.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const FIXTURES = path.resolve(here, '../../../shared/exchange/fixtures');

export interface CaptureLine {
  t: string;
  conn?: string;
  ts?: number;
  url?: string;
  addr?: string;
  data?: string;
}

export function loadCapture(rel: string): CaptureLine[] {
  const text = readFileSync(path.join(FIXTURES, rel), 'utf8');
  return text
    .split('\n')
    .filter((l) => l.trim().length > 0)
    .map((l) => JSON.parse(l) as CaptureLine);
}

function sigDecimals(s: string): number {
  const dot = s.indexOf('.');
  if (dot < 0) return 0;
  let e = s.length;
  while (e > dot + 1 && s.charCodeAt(e - 1) === 48) e--;
  return e - dot - 1;
}

/** Max significant decimals of prices/sizes seen for each symbol in a capture (a stand-in for exchangeInfo). */
export function decimalsFromCapture(lines: CaptureLine[]): Map<string, { px: number; qty: number }> {
  const out = new Map<string, { px: number; qty: number }>();
  const note = (sym: string, px: string, q: string) => {
    const d = out.get(sym) ?? { px: 0, qty: 0 };
    d.px = Math.max(d.px, sigDecimals(px));
    d.qty = Math.max(d.qty, sigDecimals(q));
    out.set(sym, d);
  };
  for (const l of lines) {
    if (!l.data || (l.t !== 'recv' && l.t !== 'http')) continue;
    let j: Record<string, unknown>;
    try {
      j = JSON.parse(l.data) as Record<string, unknown>;
    } catch {
      continue;
    }
    let sym: string | undefined;
    if (l.t === 'http') sym = /symbol=([A-Z0-9]+)/.exec(l.url ?? '')?.[1];
    const d = (j['data'] ?? j) as Record<string, unknown>;
    const topic = j['topic'] as string | undefined;
    if (topic) sym = topic.split('.').pop();
    else if (typeof (d as { s?: unknown }).s === 'string') sym = (d as { s: string }).s;
    if (!sym) continue;
    const visit = (levels: unknown) => {
      if (Array.isArray(levels)) for (const lv of levels) if (Array.isArray(lv)) note(sym, String(lv[0]), String(lv[1]));
    };
    visit(d['b']);
    visit(d['a']);
    visit((d as { bids?: unknown }).bids ?? j['bids']);
    visit((d as { asks?: unknown }).asks ?? j['asks']);
    if (typeof d['b'] === 'string') note(sym, d['b'] as string, d['B'] as string);
    if (typeof d['a'] === 'string') note(sym, d['a'] as string, d['A'] as string);
    if (typeof d['p'] === 'string') note(sym, d['p'] as string, d['q'] as string);
    if (Array.isArray(d)) for (const t of d as Array<Record<string, unknown>>) if (typeof t['p'] === 'string') note(sym, t['p'] as string, t['v'] as string);
  }
  return out;
}

export function makeInstrument(venue: VenueId, symbol: string, priceDecimals: number, qtyDecimals: number, slot: number): Instrument {
  const step = (d: number) => (d === 0 ? '1' : '0.' + '0'.repeat(d - 1) + '1');
  return {
    venue,
    symbol,
    base: symbol.slice(0, -4),
    quote: symbol.slice(-4),
    tickSize: step(priceDecimals),
    stepSize: step(qtyDecimals),
    minQty: step(qtyDecimals),
    minNotional: '0',
    priceDecimals,
    qtyDecimals,
    tickUnits: 1,
    lotUnits: 1,
    slot,
  };
}

/** Independent reference book: Map price-string -> size, built with JSON.parse. */
export class RefBook {
  bids = new Map<string, string>();
  asks = new Map<string, string>();
  clear(): void {
    this.bids.clear();
    this.asks.clear();
  }
  apply(bids: Array<[string, string]>, asks: Array<[string, string]>): void {
    for (const [p, q] of bids)
      if (Number(q) === 0) this.bids.delete(norm(p));
      else this.bids.set(norm(p), q);
    for (const [p, q] of asks)
      if (Number(q) === 0) this.asks.delete(norm(p));
      else this.asks.set(norm(p), q);
  }
  /** levels scaled, best first */
  levels(side: 'bid' | 'ask', pxDec: number, qtyDec: number): Array<[number, number]> {
    const m = side === 'bid' ? this.bids : this.asks;
    const arr: Array<[number, number]> = [...m].map(([p, q]) => [parseScaled(p, pxDec), parseScaled(q, qtyDec)]);
    arr.sort((a, b) => (side === 'bid' ? b[0] - a[0] : a[0] - b[0]));
    return arr;
  }
}

/** "0.35210000" and "0.3521" are the same price: key by the numeric value's canonical text. */
function norm(p: string): string {
  if (p.indexOf('.') < 0) return p;
  let e = p.length;
  while (p.charCodeAt(e - 1) === 48) e--;
  if (p.charCodeAt(e - 1) === 46) e--;
  return p.slice(0, e);
}
