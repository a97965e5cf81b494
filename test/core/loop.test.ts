import { createServer, connect, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HotLoop } from '../../src/engine/loop.js';
import { HopRecorder, Hop, NO_VENUE } from '../../src/util/hops.js';
import { nowNs } from '../../src/util/clock.js';
import { sleep } from './helpers.js';

let loop: HotLoop | undefined;
afterEach(() => loop?.stop());

describe('hot loop', () => {
  it('external: ticks only when runDue is called, at each deadline the virtual clock passed, none on its own', async () => {
    let v = 1e12;
    const starts: number[] = [];
    const books: number[] = [];
    loop = new HotLoop({ onTick: (n) => starts.push(n), onBook: (s) => books.push(s) }, { mode: 'timer', periodMs: 10, clock: () => v, external: true });
    loop.start();
    await sleep(30);
    expect(starts).toEqual([]); // no timer runs it
    expect(loop.runDue()).toBe(1); // the deadline at start
    v += 35e6; // 35 ms later: the deadlines at 10, 20 and 30 ms are due
    expect(loop.runDue()).toBe(3);
    expect(loop.runDue()).toBe(0);
    expect(starts).toEqual([1e12, 1e12 + 10e6, 1e12 + 20e6, 1e12 + 30e6]);
    expect(loop.nextDeadlineNs).toBe(1e12 + 40e6);
    loop.onBookUpdate(3); // the event path is the same
    expect(books).toEqual([3]);
    loop.stop();
    v += 100e6;
    expect(loop.runDue()).toBe(0);
  });

  for (const mode of ['timer', 'precise', 'busy'] as const) {
    it(`${mode}: every deadline of the window is either run or counted as skipped (absolute schedule)`, async () => {
      const hops = new HopRecorder();
      const starts: number[] = [];
      loop = new HotLoop({ onTick: (n) => starts.push(n), onBook: () => {} }, { mode, periodMs: 5, spinUs: 1000, hops });
      loop.start();
      await sleep(200);
      const endNs = nowNs();
      loop.stop();
      const l = loop;
      // deadlines that came due before the last tick ran: exactly ticks + skipped (no drift, no burst)
      const lastStart = starts[starts.length - 1] as number;
      const due = Math.floor((lastStart - l.startNs) / l.periodNs) + 1;
      expect(l.ticks + l.skipped).toBe(due);
      expect(l.ticks).toBeGreaterThan(0);
      expect(endNs).toBeGreaterThanOrEqual(lastStart);
      // never early: every tick started at or after its deadline, and each lateness was recorded
      for (let i = 0; i < starts.length; i++) expect(starts[i]).toBeGreaterThanOrEqual(l.startNs);
      expect(hops.get(Hop.LoopLateness, NO_VENUE)?.totalCount).toBe(l.ticks);
    });
  }

  it('busy: never sleeps between ticks, and socket I/O still runs between its polls', async () => {
    loop = new HotLoop({ onTick: () => {}, onBook: () => {} }, { mode: 'busy', periodMs: 10 });
    loop.start();
    // a loopback echo over real sockets while the loop polls: I/O callbacks are not starved
    const server = createServer((s) => s.pipe(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const c = connect(port, '127.0.0.1');
    const echoed = new Promise<string>((r) => c.once('data', (d) => r(d.toString())));
    c.write('ping');
    expect(await echoed).toBe('ping');
    await sleep(50);
    c.destroy();
    await new Promise<void>((r) => server.close(() => r()));
    const l = loop;
    loop.stop();
    // many polls per 10 ms period (a sleeping loop makes none), and the ticks still came
    expect(l.ticks).toBeGreaterThanOrEqual(3);
    expect(l.spins).toBeGreaterThan(l.ticks * 10);
    expect(l.earlyWakeups).toBe(0);
  });

  it('skips (and counts) deadlines missed by a stall instead of bursting', async () => {
    let n = 0;
    loop = new HotLoop(
      {
        onTick: () => {
          n++;
          if (n === 2) {
            const until = nowNs() + 30e6;
            while (nowNs() < until) {
              /* block the loop for ~6 periods */
            }
          }
        },
        onBook: () => {},
      },
      { mode: 'timer', periodMs: 5 },
    );
    loop.start();
    await sleep(80);
    loop.stop();
    expect(loop.skipped).toBeGreaterThanOrEqual(1);
  });

  it('event path: onBook runs synchronously in the adapter callback, re-entrant calls are deferred not nested', () => {
    const seen: number[] = [];
    let depth = 0;
    let maxDepth = 0;
    loop = new HotLoop(
      {
        onTick: () => {},
        onBook: (slot) => {
          depth++;
          maxDepth = Math.max(maxDepth, depth);
          seen.push(slot);
          if (slot === 1) loop!.onBookUpdate(2); // an update arriving while handling one
          depth--;
        },
      },
      { mode: 'timer', periodMs: 10 },
    );
    loop.start();
    loop.onBookUpdate(1);
    expect(seen).toEqual([1, 2]);
    expect(maxDepth).toBe(1);
    expect(loop.bookEvents).toBe(2);
  });
});
