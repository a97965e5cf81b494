import { describe, expect, it } from 'vitest';
import { expectNoAllocation } from '../helpers/alloc.js';
import { HopRecorder, Hop, Transport, NO_VENUE, SLOT_COUNT, keyOfSlot, slotOf, HOP_NAMES, fastIndexOf, buildHistogram } from '../../src/util/hops.js';
import { nowNs, wallMsOf, wallNowMs, calibrateWall, monoNsOfWall } from '../../src/util/clock.js';

describe('clock', () => {
  it('is monotonic and maps to wall time', () => {
    let prev = nowNs();
    for (let i = 0; i < 10_000; i++) {
      const n = nowNs();
      expect(n >= prev).toBe(true);
      prev = n;
    }
    const cal = calibrateWall(5);
    expect(Math.abs(cal.offsetMs + nowNs() / 1e6 - Date.now())).toBeLessThan(50);
    expect(Math.abs(wallNowMs() - Date.now())).toBeLessThan(50);
    const n = nowNs();
    expect(monoNsOfWall(wallMsOf(n))).toBeCloseTo(n, -3);
  });
});

describe('HopRecorder', () => {
  it('records into the histogram of the right hop, venue and transport', () => {
    const r = new HopRecorder();
    r.record(Hop.Parse, 1, 1500);
    r.record(Hop.Parse, 1, 2500);
    r.record(Hop.Apply, 0, 999);
    r.record(Hop.LoopLateness, NO_VENUE, 250_000);
    r.recordOn(Hop.Ack, 2, Transport.Ws, 40_000);
    r.recordOn(Hop.Ack, 2, Transport.Rest, 90_000);
    r.record(Hop.Parse, 9, 1); // unknown venue: ignored
    expect(r.get(Hop.Parse, 1)!.totalCount).toBe(2);
    expect(r.get(Hop.Parse, 1)!.maxValue).toBeGreaterThanOrEqual(2499);
    expect(r.get(Hop.Parse, 0)!.totalCount).toBe(0);
    expect(r.get(Hop.Apply, 0)!.totalCount).toBe(1);
    expect(r.get(Hop.LoopLateness, NO_VENUE)!.totalCount).toBe(1);
    expect(r.get(Hop.Ack, 2, Transport.Ws)!.totalCount).toBe(1);
    expect(r.get(Hop.Ack, 2, Transport.Rest)!.totalCount).toBe(1);
    expect(r.get(Hop.Ack, 2, Transport.Any)!.totalCount).toBe(0);
    expect(keyOfSlot(slotOf(Hop.Ack, 2, Transport.Rest))).toEqual({ hop: 'ack', venue: 'bybitSpot', transport: 'rest' });
    // an order-path hop goes to Any (every transport) and to its own transport
    r.recordVia(Hop.Write, 2, Transport.Ws, 10_000);
    r.recordVia(Hop.Write, 2, Transport.Rest, 20_000);
    r.recordVia(Hop.Write, 2, Transport.Any, 30_000);
    expect(r.get(Hop.Write, 2, Transport.Any)!.totalCount).toBe(3);
    expect(r.get(Hop.Write, 2, Transport.Ws)!.totalCount).toBe(1);
    expect(r.get(Hop.Write, 2, Transport.Rest)!.totalCount).toBe(1);
    for (let s = 0; s < SLOT_COUNT; s++) expect(slotOf(HOP_NAMES.indexOf(keyOfSlot(s).hop), 0, 0)).toBeLessThanOrEqual(s);
  });

  it('fast index equals hdr-histogram-js countsArrayIndex, and recorded values read back', () => {
    const h = buildHistogram() as unknown as { countsArrayIndex(v: number): number };
    const probes = [0, 1, 2, 1023, 1024, 2047, 2048, 2049, 4095, 4096, 65535, 1e6, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1];
    for (let v = 1; v < 2 ** 32; v = Math.floor(v * 1.37) + 1) probes.push(v, v + 1, v - 1);
    for (const v of probes) expect(fastIndexOf(v)).toBe(h.countsArrayIndex(v));
    const r = new HopRecorder();
    const ref = buildHistogram();
    for (const v of [0, 5, 999, 2048, 123_456, 7_777_777, 3e9, 4294967296, 9e9]) {
      r.record(Hop.Risk, 0, v);
      ref.recordValue(v);
    }
    const got = r.get(Hop.Risk, 0)!;
    expect(got.totalCount).toBe(ref.totalCount);
    expect(got.maxValue).toBe(ref.maxValue);
    expect(got.minNonZeroValue).toBe(ref.minNonZeroValue);
    for (const p of [10, 50, 90, 99, 100]) expect(got.getValueAtPercentile(p)).toBe(ref.getValueAtPercentile(p));
  });

  it('clamps out-of-range values and counts them', () => {
    const r = new HopRecorder(1_000_000);
    r.record(Hop.FeedDelay, 0, -5);
    r.record(Hop.FeedDelay, 0, Number.NaN);
    r.record(Hop.FeedDelay, 0, 5_000_000);
    const set = r.swapInterval();
    const s = slotOf(Hop.FeedDelay, 0);
    expect(set.histograms[s]!.totalCount).toBe(3);
    expect(set.clampedLow[s]).toBe(2);
    expect(set.clampedHigh[s]).toBe(1);
  });

  it('swaps intervals: the ended set holds what was recorded, recording goes on into a fresh one', () => {
    const r = new HopRecorder();
    r.record(Hop.Sign, 0, 3000);
    const a = r.swapInterval();
    expect(() => r.swapInterval()).toThrow(/not recycled/);
    r.record(Hop.Sign, 0, 4000);
    r.record(Hop.Sign, 0, 4000);
    expect(a.histograms[slotOf(Hop.Sign, 0)]!.totalCount).toBe(1);
    expect(r.get(Hop.Sign, 0)!.totalCount).toBe(2);
    r.recycle(a);
    expect(a.histograms[slotOf(Hop.Sign, 0)]!.totalCount).toBe(0);
    const b = r.swapInterval();
    expect(b.histograms[slotOf(Hop.Sign, 0)]!.totalCount).toBe(2);
    expect(r.get(Hop.Sign, 0)!.totalCount).toBe(0);
    r.recycle(b);
  });

  it('allocates nothing on the hot path (heap growth does not scale from 1e6 to 4e6 records, no GC)', async () => {
    const r = new HopRecorder();
    r.prepare(Hop.Write, 1, Transport.Rest);
    // doubles like nowNs() differences, from 300 ns to ~5 ms (index arithmetic stays in int32: an overflowing
    // `i * k` would deoptimise the test loop itself and make *it* allocate)
    const values = new Float64Array(4096);
    for (let i = 0; i < values.length; i++) values[i] = 300.25 + ((i * 7919) % 4096) * 1213.5;
    // each loop its own function, as an engine hop would be: V8 inlines record() into it
    const runRecord = (n: number): void => {
      for (let i = 0; i < n; i++) r.record(i % 13, i & 3, values[i & 4095]!);
    };
    const runRecordOn = (n: number): void => {
      for (let i = 0; i < n; i++) r.recordOn(Hop.Write, 1, Transport.Rest, values[i & 4095]!);
    };
    // warm up with many short calls, so that V8 optimises the whole functions (not just an on-stack replacement
    // of one long call, which a fresh call would not enter until its loop got hot again)
    for (let k = 0; k < 300; k++) {
      runRecord(2000);
      runRecordOn(2000);
    }
    // V8 (Node 24) finishes optimising on a background thread and installs the code at a later turn: until then the
    // loop runs in a lower tier that boxes doubles. Yield, warm again, before measuring.
    for (let round = 0; round < 3; round++) {
      await new Promise((res) => setTimeout(res, 10));
      for (let k = 0; k < 100; k++) {
        runRecord(2000);
        runRecordOn(2000);
      }
    }
    let each = 1_200_000; // warm-up: (300 + 3 x 100) calls of 2000 records each, per path
    // `calls` records, half through each path
    expectNoAllocation(
      'hop recorder',
      (calls) => {
        runRecord(calls >> 1);
        runRecordOn(calls >> 1);
        each += calls >> 1;
      },
      1_000_000,
    );
    let total = 0;
    for (let hop = 0; hop < 13; hop++) for (let v = 0; v < 4; v++) total += r.get(hop, v)!.totalCount;
    expect(total).toBe(each);
    expect(r.get(Hop.Write, 1, Transport.Rest)!.totalCount).toBe(each);
  });
});
