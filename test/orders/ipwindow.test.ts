/** The per-IP request window (Bybit's 600 per 5 s): capacity under the headroom, the wait until the oldest booking
 * that must leave has left (plus the margin for transit), several requests at once, and a limit change. */
import { describe, expect, it } from 'vitest';
import { IpWindow } from '../../src/net/ratelimit.js';

describe('IpWindow', () => {
  it('books up to limit x headroom in a window, then waits for the oldest booking to leave (window + margin)', () => {
    const w = new IpWindow(10, 5000, 0.95, 100); // 9 usable
    expect(w.capacity).toBe(9);
    for (let i = 0; i < 9; i++) {
      expect(w.waitMs(1000 + i)).toBe(0);
      w.book(1000 + i);
    }
    expect(w.waitMs(2000)).toBe(1000 + 5000 + 100 - 2000);
    expect(w.waitMs(6100)).toBe(0); // the first booking has left
    expect(w.waitMs(6100, 2)).toBe(1); // the second leaves 1 ms later
    expect(w.waitMs(6108, 9)).toBe(0);
    expect(w.waitMs(6108, 10)).toBe(Infinity); // more than a window holds
    w.book(6100);
    expect(w.waitMs(6100)).toBe(1); // the ring wrapped: the oldest is now the one booked at 1001
  });

  it('setLimit starts afresh with the new capacity', () => {
    const w = new IpWindow(600, 5000);
    expect(w.capacity).toBe(570);
    w.setLimit(3);
    expect(w.capacity).toBe(2);
    w.book(0);
    w.book(0);
    expect(w.waitMs(0)).toBe(5100);
  });
});
