/**
 * REST depth snapshot (`GET /api/v3/depth`, `GET /fapi/v1/depth`): cold path, JSON.parse then scaled integers.
 */
import { parseScaled } from '../../../util/fixed.js';
import { LevelScratch } from '../../../md/common.js';

export interface DepthSnapshot {
  lastUpdateId: number;
  /** USD-M only (E); -1 if absent */
  eventMs: number;
  bids: LevelScratch;
  asks: LevelScratch;
}

/** Parse a depth snapshot body; throws an Error naming the problem (caller counts it and refetches). */
export function parseDepthSnapshot(body: string, pxDec: number, qtyDec: number): DepthSnapshot {
  const j = JSON.parse(body) as { lastUpdateId?: unknown; E?: unknown; bids?: unknown; asks?: unknown; code?: unknown; msg?: unknown };
  if (typeof j !== 'object' || j === null) throw new Error('depth snapshot: not an object');
  if (typeof j.code === 'number') throw new Error(`depth snapshot: error ${j.code} ${String(j.msg)}`);
  if (typeof j.lastUpdateId !== 'number' || !Number.isSafeInteger(j.lastUpdateId)) throw new Error('depth snapshot: bad lastUpdateId');
  const bids = toLevels(j.bids, pxDec, qtyDec, 'bids');
  const asks = toLevels(j.asks, pxDec, qtyDec, 'asks');
  return { lastUpdateId: j.lastUpdateId, eventMs: typeof j.E === 'number' ? j.E : -1, bids, asks };
}

const DECIMAL = /^[0-9]+(\.[0-9]+)?$/;

function toLevels(v: unknown, pxDec: number, qtyDec: number, what: string): LevelScratch {
  if (!Array.isArray(v)) throw new Error(`depth snapshot: ${what} missing`);
  const out = new LevelScratch(Math.max(8, v.length));
  for (const lvl of v) {
    if (!Array.isArray(lvl) || typeof lvl[0] !== 'string' || typeof lvl[1] !== 'string') throw new Error(`depth snapshot: bad level in ${what}`);
    // the stream's level rules (md/common.ts readLevels): `digits[.digits]`, price > 0, size >= 0, within 2^53
    const px = DECIMAL.test(lvl[0]) ? parseScaled(lvl[0], pxDec) : NaN;
    const q = DECIMAL.test(lvl[1]) ? parseScaled(lvl[1], qtyDec) : NaN;
    if (!Number.isSafeInteger(px) || !Number.isSafeInteger(q) || px <= 0) throw new Error(`depth snapshot: bad number in ${what}: ${lvl[0]} ${lvl[1]}`);
    out.push(px, q);
  }
  return out;
}
