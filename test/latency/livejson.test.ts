import { describe, expect, it } from 'vitest';
import { HopRecorder, Hop, Transport, NO_VENUE, buildHistogram, DEFAULT_HIGHEST_NS } from '../../src/util/hops.js';
import { LatencyMonitor, LIVE_CURVE_STEP, type LiveSnapshot } from '../../src/util/monitor.js';
import { percentileCurveNs, summarize } from '../../src/util/histio.js';
import { latencyPageHtml, latencySnapshotJson, parseSince } from '../../src/app/live.js';
import { startControl } from '../../src/app/control.js';
import { KillSwitch } from '../../src/engine/killswitch.js';
import { request } from 'undici';
import { rig, rmDir, testConfig, tmpDir } from '../core/helpers.js';

/** Chromium-free: what latency.json carries for the plots (the page itself: live.test.ts). */

describe('percentileCurveNs', () => {
  it('is the library getValueAtPercentile on the log-odds axis (clamped to max), ending at (log10 n, max)', () => {
    const h = buildHistogram(DEFAULT_HIGHEST_NS, 64);
    for (let i = 0; i < 123_457; i++) h.recordValue(900 + ((i * 7919) % 40_000) + (i % 1000 === 0 ? 3_000_000 : 0));
    for (const step of [0.025, LIVE_CURVE_STEP, 0.3]) {
      const c = percentileCurveNs(h, step);
      const xEnd = Math.log10(h.totalCount);
      expect(c.x.length).toBe(c.y.length);
      expect(c.x.length).toBe(Math.ceil(xEnd / step) + 1);
      expect(c.x.at(-1)).toBeCloseTo(xEnd, 4);
      expect(c.y.at(-1)).toBe(h.maxValue);
      for (let k = 0; k < c.x.length - 1; k++) {
        expect(c.x[k]).toBeCloseTo(k * step, 9);
        const want = Math.min(h.getValueAtPercentile(100 * (1 - 10 ** -c.x[k]!)), h.maxValue);
        expect(c.y[k], `step ${step} k ${k}`).toBe(want);
        if (k > 0) expect(c.y[k]!).toBeGreaterThanOrEqual(c.y[k - 1]!);
      }
    }
  });

  it('spans at least one decade for few values, and is empty for an empty histogram', () => {
    const h = buildHistogram(DEFAULT_HIGHEST_NS, 64);
    expect(percentileCurveNs(h)).toEqual({ x: [], y: [] });
    h.recordValue(5000);
    h.recordValue(7000);
    const c = percentileCurveNs(h, 0.25);
    expect(c.x).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(c.y[0]).toBeLessThanOrEqual(5000);
    expect(c.y.at(-1)).toBe(7000);
  });
});

describe('latency.json for the plots', () => {
  it('carries per row the total curve and the p50/p99 of each recent interval (null when empty), oldest first', async () => {
    const r = new HopRecorder();
    const mon = new LatencyMonitor(r, { rollMs: 0, signal: null, historyMs: 10_000 });
    const before = JSON.parse(latencySnapshotJson(mon)) as LiveSnapshot;
    expect(before.rows).toEqual([]);
    expect(before.recentEndMs).toEqual([]);

    // interval 1: parse at 2 µs and ack at 50 µs; interval 2: nothing; interval 3: parse at 3 µs only
    for (let i = 0; i < 100; i++) r.record(Hop.Parse, 0, 2000);
    for (let i = 0; i < 100; i++) r.recordOn(Hop.Ack, 2, Transport.Rest, 50_000);
    await mon.roll();
    await mon.roll();
    for (let i = 0; i < 99; i++) r.record(Hop.Parse, 0, 3000);
    r.record(Hop.Parse, 0, 900_000);
    await mon.roll();

    const snap = JSON.parse(latencySnapshotJson(mon)) as LiveSnapshot;
    expect(mon.historyPoints).toBe(10);
    expect(snap.recentEndMs).toHaveLength(3);
    expect(snap.recentEndMs[0]!).toBeLessThanOrEqual(snap.recentEndMs[1]!);
    expect(snap.recentEndMs[1]!).toBeLessThanOrEqual(snap.recentEndMs[2]!);
    expect(snap.recentEndMs[2]).toBe(snap.intervalEndMs);
    const parse = snap.rows.find((x) => x.hop === 'parse');
    const ack = snap.rows.find((x) => x.hop === 'ack');
    const third = buildHistogram(DEFAULT_HIGHEST_NS, 64);
    for (let i = 0; i < 99; i++) third.recordValue(3000);
    third.recordValue(900_000);
    const s3 = summarize(third); // p50 = p99 = 3001: the highest value equivalent to 3000 at 3 digits
    expect(s3.p99).toBeLessThan(3010);
    expect(parse?.recent).toEqual({ p50: [2000, null, s3.p50], p99: [2000, null, s3.p99] });
    expect(ack?.recent).toEqual({ p50: [50_000, null, null], p99: [50_000, null, null] });
    expect(ack?.transport).toBe('rest');
    // the curve is the total's, the same as computed from the monitor's running total
    expect(parse?.curve.y.at(-1)).toBe(parse?.total.max);
    expect(parse?.total.max).toBe(900_000);
    expect(parse?.curve.x.at(-1)).toBeCloseTo(Math.log10(200), 4);
    expect(parse?.curve.y[0]).toBeLessThanOrEqual(2000);
    const h = buildHistogram(DEFAULT_HIGHEST_NS, 64);
    for (let i = 0; i < 100; i++) h.recordValue(2000);
    for (let i = 0; i < 99; i++) h.recordValue(3000);
    h.recordValue(900_000);
    expect(parse?.curve).toEqual(percentileCurveNs(h, LIVE_CURVE_STEP));
    expect(summarize(h).p99).toBe(parse?.total.p99);
    await mon.stop(null);
  });

  it('keeps only the last historyMs of intervals (a ring: the oldest drop out, order kept)', async () => {
    const r = new HopRecorder();
    const mon = new LatencyMonitor(r, { rollMs: 0, signal: null, historyMs: 3000 });
    expect(mon.historyPoints).toBe(3);
    for (let roll = 1; roll <= 7; roll++) {
      for (let i = 0; i < 10; i++) r.record(Hop.LoopLateness, NO_VENUE, roll * 10_000);
      await mon.roll();
      const snap = mon.snapshot();
      const want = [];
      for (let k = Math.max(1, roll - 2); k <= roll; k++) want.push(k * 10_000);
      expect(snap.recentEndMs).toHaveLength(want.length);
      expect(snap.rows[0]?.recent.p50).toEqual(want);
      expect(snap.rows[0]?.recent.p99).toEqual(want);
    }
    await mon.stop(null);
  });

  it('sizes the ring from the roll interval (10 min at 1 s by default, capped)', () => {
    const r = new HopRecorder();
    expect(new LatencyMonitor(r, { signal: null }).historyPoints).toBe(600);
    expect(new LatencyMonitor(r, { signal: null, rollMs: 5000, historyMs: 900_000 }).historyPoints).toBe(180);
    expect(new LatencyMonitor(r, { signal: null, rollMs: 10, historyMs: 3_600_000 }).historyPoints).toBe(3600);
  });
});

describe('latency.json?since=', () => {
  it('carries only the intervals after `since` when the ring still holds everything after it, else the whole ring', async () => {
    const r = new HopRecorder();
    const mon = new LatencyMonitor(r, { rollMs: 0, signal: null, historyMs: 4000 });
    expect(mon.snapshot(123).recentSince).toBeNull(); // nothing rolled yet
    for (let roll = 1; roll <= 3; roll++) {
      for (let i = 0; i < 10; i++) r.record(Hop.Parse, 0, roll * 1000);
      await mon.roll();
    }
    const full = mon.snapshot();
    expect(full.recentSince).toBeNull();
    expect(full.recentMax).toBe(4);
    expect(full.recentEndMs).toHaveLength(3);
    // end times are strictly increasing, even for rolls within one ms: each names one interval
    expect(full.recentEndMs[0]!).toBeLessThan(full.recentEndMs[1]!);
    expect(full.recentEndMs[1]!).toBeLessThan(full.recentEndMs[2]!);
    const t = full.recentEndMs;
    const after1 = mon.snapshot(t[0]);
    expect(after1.recentSince).toBe(t[0]);
    expect(after1.recentEndMs).toEqual([t[1], t[2]]);
    expect(after1.rows[0]?.recent.p50).toEqual([2000, 3000]);
    const none = mon.snapshot(t[2]);
    expect(none.recentSince).toBe(t[2]);
    expect(none.recentEndMs).toEqual([]);
    expect(none.rows[0]?.recent).toEqual({ p50: [], p99: [] });
    expect(none.rows[0]?.curve.y.length).toBeGreaterThan(0); // the rest of the row is whole
    // a since the ring does not know (the future, before the oldest kept interval): the whole ring
    expect(mon.snapshot(t[2]! + 1).recentSince).toBeNull();
    expect(mon.snapshot(t[0]! - 1).recentSince).toBeNull();
    for (let roll = 4; roll <= 6; roll++) {
      for (let i = 0; i < 10; i++) r.record(Hop.Parse, 0, roll * 1000);
      await mon.roll();
    }
    const wrapped = mon.snapshot(t[0]); // intervals after t[0] already left the ring
    expect(wrapped.recentSince).toBeNull();
    expect(wrapped.rows[0]?.recent.p50).toEqual([3000, 4000, 5000, 6000]);
    const cont = mon.snapshot(t[2]);
    expect(cont.recentSince).toBe(t[2]);
    expect(cont.rows[0]?.recent.p50).toEqual([4000, 5000, 6000]);
    await mon.stop(null);
  });

  it('parseSince: absent, or a plain non-negative integer; anything else is invalid', () => {
    expect(parseSince(null)).toBeUndefined();
    expect(parseSince('1796670240503')).toBe(1796670240503);
    expect(parseSince('0')).toBe(0);
    for (const bad of ['', '-1', '1.5', '1e12', ' 12', '0x10', 'NaN', '9'.repeat(16)]) expect(parseSince(bad), bad).toBe('invalid');
  });

  it('the control plane (port 0) serves ?since= and refuses a malformed one whole (400, field since)', async () => {
    const dir = tmpDir('livejson');
    const cfg = testConfig({ persistence: { dir } });
    const eng = rig({ cfg });
    const ks = new KillSwitch(eng.engine, cfg.killSwitch, { dataDir: dir, exit: () => {} });
    const r = new HopRecorder();
    const mon = new LatencyMonitor(r, { rollMs: 0, signal: null });
    for (let roll = 1; roll <= 2; roll++) {
      r.record(Hop.Parse, 0, roll * 1000);
      await mon.roll();
    }
    const token = 'test-token-generated-at-runtime';
    const srv = await startControl(
      { engine: eng.engine, killSwitch: ks, token, latency: { page: () => latencyPageHtml(), json: (since) => latencySnapshotJson(mon, since) } },
      0,
    );
    try {
      const get = async (q: string) => {
        const res = await request(`${srv.url}/latency.json?token=${token}${q}`, { headersTimeout: 10_000, bodyTimeout: 10_000 });
        return { status: res.statusCode, body: (await res.body.json()) as LiveSnapshot & { error?: string; field?: string } };
      };
      const full = await get('');
      expect(full.status).toBe(200);
      expect(full.body.recentEndMs).toHaveLength(2);
      const next = await get(`&since=${full.body.recentEndMs[0]}`);
      expect(next.status).toBe(200);
      expect(next.body.recentSince).toBe(full.body.recentEndMs[0]);
      expect(next.body.rows[0]?.recent.p50).toEqual([2000]);
      for (const bad of ['abc', '-5', '1.5', '']) {
        const refused = await get(`&since=${encodeURIComponent(bad)}`);
        expect(refused.status, bad).toBe(400);
        expect(refused.body.field).toBe('since');
      }
      expect((await get('&since=1&since=2')).status).toBe(400);
      // the page itself takes the log-axis toggle its checkbox writes into the URL, and nothing else
      const page = async (q: string) => {
        const res = await request(`${srv.url}/latency?token=${token}${q}`, { headersTimeout: 10_000, bodyTimeout: 10_000 });
        await res.body.text();
        return res.statusCode;
      };
      expect(await page('&logy=1')).toBe(200);
      expect(await page('&logy=0')).toBe(200);
      expect(await page('&logy=yes')).toBe(400);
      expect(await page('&since=1')).toBe(400);
    } finally {
      srv.close();
      ks.stop();
      await eng.close();
      await mon.stop(null);
      rmDir(dir);
    }
  });
});
