import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HopRecorder, Hop, Transport, NO_VENUE, buildHistogram, DEFAULT_HIGHEST_NS } from '../../src/util/hops.js';
import { DUMP_SIGNAL, LatencyMonitor, dumpHistograms, dumpHistogramsSync } from '../../src/util/monitor.js';
import {
  DUMP_FORMAT,
  decodeHistogram,
  mergeInputs,
  parseHgrm,
  percentileDistribution,
  summarize,
  summarizeSlow,
  toHgrm,
  type DumpFile,
} from '../../src/util/histio.js';
import { main as histMain } from '../../src/app/histcli.js';
import { findChromium } from '../../src/util/plot.js';

const tmp = mkdtempSync(join(tmpdir(), 'tw-latency-dump-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function fill(r: HopRecorder, n: number, seed: number): void {
  for (let i = 0; i < n; i++) {
    r.record(Hop.Parse, 0, 1000 + ((i * 37 + seed) % 5000));
    r.record(Hop.Apply, 1, 300 + ((i * 11 + seed) % 900));
    if (i % 10 === 0) r.recordOn(Hop.Ack, 0, Transport.Ws, 40_000 + ((i * 101) % 60_000));
    if (i % 100 === 0) r.record(Hop.LoopLateness, NO_VENUE, 200_000 + i);
  }
}

async function capture(fn: () => Promise<number>): Promise<{ code: number; out: string }> {
  const orig = process.stdout.write.bind(process.stdout);
  let out = '';
  process.stdout.write = ((chunk: string | Uint8Array): boolean => {
    out += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    return true;
  }) as typeof process.stdout.write;
  try {
    const code = await fn();
    return { code, out };
  } finally {
    process.stdout.write = orig;
  }
}

describe('dumps', () => {
  it('writes timestamped dump folders (JSON + .hgrm) that merge back to the same counts', async () => {
    const dir = join(tmp, 'a');
    const r = new HopRecorder();
    const mon = new LatencyMonitor(r, { dir, rollMs: 0, dumpEveryMs: 0, signal: null });
    fill(r, 5000, 1);
    await mon.roll();
    fill(r, 3000, 2); // still in the active interval: the dump rolls it in
    const d1 = await mon.dump('periodic');
    fill(r, 2000, 3);
    const d2 = await mon.dump('kill');
    await mon.stop(null);
    expect(d1).toBeDefined();
    expect(d2).toBeDefined();
    const folders = readdirSync(dir).sort();
    expect(folders).toHaveLength(2);
    expect(folders[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}Z-0001-periodic$/);
    expect(folders[1]).toMatch(/-0002-kill$/);
    const files = readdirSync(d1!).sort();
    expect(files).toEqual(['ack.binanceSpot.ws.hgrm', 'apply.binanceUsdm.any.hgrm', 'dump.json', 'loop_lateness.none.any.hgrm', 'parse.binanceSpot.any.hgrm']);
    const dump = JSON.parse(readFileSync(join(d1!, 'dump.json'), 'utf8')) as DumpFile;
    expect(dump.format).toBe(DUMP_FORMAT);
    expect(dump.reason).toBe('periodic');
    const parse = dump.histograms.find((h) => h.hop === 'parse')!;
    expect(parse.count).toBe(8000);
    expect(decodeHistogram(parse.encoded).totalCount).toBe(8000);
    // lossless JSON round trip: the merge of both dumps holds every record
    const m = mergeInputs([dir]);
    const byKey = new Map(m.sorted().map((s) => [`${s.key.hop}/${s.key.venue}/${s.key.transport}`, s.histogram]));
    expect(byKey.get('parse/binanceSpot/any')!.totalCount).toBe(10_000);
    expect(byKey.get('apply/binanceUsdm/any')!.totalCount).toBe(10_000);
    expect(byKey.get('ack/binanceSpot/ws')!.totalCount).toBe(1000);
    expect(byKey.get('loop_lateness/none/any')!.totalCount).toBe(100);
    // the same data straight from a reference histogram
    const ref = buildHistogram();
    for (const seed of [1, 2, 3]) for (let i = 0; i < [5000, 3000, 2000][seed - 1]!; i++) ref.recordValue(1000 + ((i * 37 + seed) % 5000));
    for (const p of [50, 90, 99, 99.9, 100]) expect(byKey.get('parse/binanceSpot/any')!.getValueAtPercentile(p)).toBe(ref.getValueAtPercentile(p));
  });

  it('.hgrm text parses back with the same total count and percentiles within the histogram precision', () => {
    const h = buildHistogram();
    for (let i = 0; i < 20_000; i++) h.recordValue(500 + ((i * 7919) % 200_000) + (i % 997 === 0 ? 3_000_000 : 0));
    const text = toHgrm(h);
    expect(text).toMatch(/Value\s+Percentile\s+TotalCount\s+1\/\(1-Percentile\)/);
    expect(text).toMatch(/#\[Max\s+=/);
    const back = parseHgrm(text);
    expect(back.totalCount).toBe(h.totalCount);
    for (const p of [50, 90, 99, 99.9]) {
      const a = h.getValueAtPercentile(p);
      expect(Math.abs(back.getValueAtPercentile(p) - a) / a).toBeLessThan(0.01);
    }
    // .hgrm files alone (no dump.json beside them) merge too
    const dir = join(tmp, 'hgrm-only');
    rmSync(dir, { recursive: true, force: true });
    mkdirSafe(dir);
    writeFileSync(join(dir, 'parse.binanceSpot.any.hgrm'), text);
    writeFileSync(join(dir, 'apply.binanceSpot.any.hgrm'), text);
    const m = mergeInputs([dir]);
    expect(m.sorted().map((s) => s.histogram.totalCount)).toEqual([20_000, 20_000]);
  });

  it('dumpHistograms and dumpHistogramsSync work on a bare recorder', async () => {
    const dir = join(tmp, 'bare');
    const r = new HopRecorder();
    fill(r, 1000, 5);
    const a = await dumpHistograms(dir, r, 'kill');
    fill(r, 500, 6);
    const b = dumpHistogramsSync(dir, r, 'exit');
    expect(a && existsSync(join(a, 'dump.json'))).toBe(true);
    expect(b && existsSync(join(b, 'dump.json'))).toBe(true);
    const m = mergeInputs([dir]);
    expect(m.sorted().find((s) => s.key.hop === 'parse')!.histogram.totalCount).toBe(1500);
    // a one-off dump leaves the recorder unattached: total() is the active interval again
    expect(r.totals).toBeUndefined();
    r.record(Hop.Parse, 0, 1234);
    expect(r.total(Hop.Parse, 0)!.totalCount).toBe(1);
  });

  it('dumps on SIGURG (the default dump signal) and keeps a live snapshot and totals', async () => {
    const dir = join(tmp, 'sig');
    const r = new HopRecorder();
    const mon = new LatencyMonitor(r, { dir, rollMs: 20, dumpEveryMs: 0 }).start();
    try {
      fill(r, 2000, 7);
      await new Promise((res) => setTimeout(res, 80));
      const snap = mon.snapshot();
      const parse = snap.rows.find((x) => x.hop === 'parse' && x.venue === 'binanceSpot')!;
      expect(parse.total.count).toBe(2000);
      expect(parse.total.p50).toBeGreaterThan(1000);
      // totals: what summaries and /metrics read once intervals swap
      expect(r.total(Hop.Parse, 0)!.totalCount).toBe(2000);
      expect(r.get(Hop.Parse, 0)!.totalCount).toBe(0);
      expect(r.total(Hop.Sign, 3)!.totalCount).toBe(0);
      expect(DUMP_SIGNAL).toBe('SIGURG');
      process.kill(process.pid, DUMP_SIGNAL);
      for (let i = 0; i < 100 && (!existsSync(dir) || readdirSync(dir).length === 0); i++) await new Promise((res) => setTimeout(res, 20));
      const folders = readdirSync(dir);
      expect(folders).toHaveLength(1);
      expect(folders[0]).toMatch(/-signal$/);
    } finally {
      await mon.stop(null);
    }
  });

  it('tickwire hist print / merge / plot on a dump folder', async () => {
    const dir = join(tmp, 'cli');
    const r = new HopRecorder();
    fill(r, 4000, 9);
    await dumpHistograms(dir, r, 'exit');
    const p = await capture(() => histMain(['print', dir]));
    expect(p.code).toBe(0);
    expect(p.out).toMatch(/hop\s+venue\s+transport\s+count\s+p50\s+p90\s+p99\s+p99\.9\s+p99\.99\s+max/);
    expect(p.out).toMatch(/parse\s+binanceSpot\s+any\s+4000\s/);
    expect(p.out).toMatch(/ack\s+binanceSpot\s+ws\s+400\s/);
    const out = join(tmp, 'merged');
    const mg = await capture(() => histMain(['merge', dir, dir, '--out', out]));
    expect(mg.code).toBe(0);
    expect(
      mergeInputs([out])
        .sorted()
        .find((s) => s.key.hop === 'parse')!.histogram.totalCount,
    ).toBe(8000);
    const svgFile = join(tmp, 'plot.svg');
    const pl = await capture(() => histMain(['plot', dir, '--out', svgFile, '--hop', 'parse,ack']));
    expect(pl.code).toBe(0);
    const svg = readFileSync(svgFile, 'utf8');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(wellFormed(svg)).toBe(true);
    for (const label of ['0%', '90%', '99%', '99.9%']) expect(svg).toContain(`>${label}</text>`);
    expect((svg.match(/<path /g) ?? []).length).toBe(2);
    if (existsSync('/usr/bin/rsvg-convert') || findChromium()) {
      const png = join(tmp, 'plot.png');
      const pp = await capture(() => histMain(['plot', dir, '--out', svgFile, '--png', png]));
      expect(pp.code).toBe(0);
      expect(readFileSync(png).subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
    } else {
      process.stderr.write('\n!!! hist plot --png not tested: neither rsvg-convert (librsvg2-bin) nor chromium is installed !!!\n\n');
    }
    const bad = await capture(() => histMain(['print', join(tmp, 'does-not-exist')]));
    expect(bad.code).toBe(1);
  });
});

function mkdirSafe(d: string): void {
  mkdirSync(d, { recursive: true });
}

/** Minimal XML well-formedness: every tag closes in order, attributes quoted, no stray '<' or '&'. */
function wellFormed(xml: string): boolean {
  const stack: string[] = [];
  const re = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|<!--[\s\S]*?-->|<\?[\s\S]*?\?>|([<&])/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(xml))) {
    if (m[5] === '<') return false;
    if (m[5] === '&') {
      if (!/^&(lt|gt|amp|quot|apos|#\d+);/.test(xml.slice(m.index, m.index + 8))) return false;
      continue;
    }
    if (!m[2]) continue;
    if (m[1]) {
      if (stack.pop() !== m[2]) return false;
    } else if (!m[4]) stack.push(m[2]);
  }
  return stack.length === 0;
}

describe('summarize and the percentile distribution (one pass over the counts)', () => {
  it('give exactly what the library gives (percentiles, mean, min, max; the .hgrm text byte for byte) on many shapes', () => {
    let seed = 7;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const shapes: Array<() => number> = [
      () => Math.floor(rnd() * 1000),
      () => Math.floor(Math.exp(rnd() * 20)),
      () => 5000 + Math.floor(rnd() * 10),
      () => (rnd() < 0.01 ? 9_000_000_000 : Math.floor(rnd() * 50_000)),
      () => 0,
    ];
    for (const bits of [32, 64] as const) {
      for (const shape of shapes) {
        for (const n of [1, 2, 7, 1000, 20_000]) {
          const h = buildHistogram(DEFAULT_HIGHEST_NS, bits);
          for (let i = 0; i < n; i++) h.recordValue(shape());
          expect(summarize(h)).toEqual(summarizeSlow(h));
          for (const ticks of [5, 1]) expect(percentileDistribution(h, ticks, 1000)).toBe(h.outputPercentileDistribution(ticks, 1000));
        }
      }
    }
    expect(summarize(buildHistogram())).toEqual(summarizeSlow(buildHistogram()));
    expect(percentileDistribution(buildHistogram(), 5, 1000)).toBe(buildHistogram().outputPercentileDistribution(5, 1000));
  });
});
