/**
 * Rotated parts of one `tickwire run --record` session play on one timeline: parts that follow each other (no
 * overlap) keep their absolute recorded times, where captures of different days without a session still play side
 * by side from their starts.
 */
import { describe, expect, it } from 'vitest';
import { parseCapture, timelineOffsets } from '../../../src/sim/core/replay.js';

const part = (session: string | undefined, t0: number): string =>
  [
    JSON.stringify({ t: 'header', format: 2, exchange: 'binanceSpot', recorded: t0, ...(session ? { session, part: 0 } : {}) }),
    JSON.stringify({
      t: 'http',
      conn: 'rest',
      ts: t0,
      url: 'http://127.0.0.1:1/api/v3/depth?symbol=BTCUSDT&limit=1000',
      data: JSON.stringify({ lastUpdateId: 1, bids: [['100.00', '1']], asks: [['100.01', '1']] }),
    }),
    JSON.stringify({
      t: 'recv',
      conn: 'c.0',
      ts: t0 + 1,
      data: JSON.stringify({ e: 'depthUpdate', s: 'BTCUSDT', U: 2, u: 2, b: [['100.00', '2']], a: [] }),
    }),
  ].join('\n');

describe('replay timeline of a recording session', () => {
  it('parts of one session keep their absolute times; captures without one are moved to start together', () => {
    const a = parseCapture(part('S1', 1000), 'a');
    const b = parseCapture(part('S1', 1010), 'b');
    expect(a.session).toBe('S1');
    expect(timelineOffsets([a, b])).toEqual([0, 0]);
    const c = parseCapture(part(undefined, 1000), 'c');
    const d = parseCapture(part(undefined, 1010), 'd');
    expect(c.session).toBeUndefined();
    expect(timelineOffsets([c, d])).toEqual([0, 10_000]);
  });
});
