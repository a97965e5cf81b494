import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { HopRecorder, Hop, Transport, NO_VENUE } from '../../src/util/hops.js';
import { LatencyMonitor, type LiveSnapshot } from '../../src/util/monitor.js';
import { latencyPageHtml, latencySnapshotJson } from '../../src/app/live.js';
import { chromiumScreenshotArgs, findChromium } from '../../src/util/plot.js';
import { startControl, type ControlServer } from '../../src/app/control.js';
import { KillSwitch } from '../../src/engine/killswitch.js';
import { rig, testConfig, type Rig } from '../core/helpers.js';

const chromium = findChromium();
if (!chromium) {
  // Loud on purpose: CI must install Debian's chromium (apt-get install -y chromium) for this test to run.
  process.stderr.write('\n!!! test/latency/live.test.ts SKIPPED: /usr/bin/chromium is not installed (apt-get install -y chromium) !!!\n\n');
}

function run(cmd: string, args: string[], timeoutMs: number): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} failed: ${err.message}\n${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

const ROLLS = 4;

/** The opening tags of every element `tag` with class `cls` in a serialized DOM, as attribute maps. */
function tags(html: string, tag: string, cls: string): Record<string, string>[] {
  const out: Record<string, string>[] = [];
  for (const m of html.matchAll(new RegExp(`<${tag}\\s([^>]*)>`, 'g'))) {
    const attrs: Record<string, string> = {};
    for (const a of m[1]!.matchAll(/([\w-]+)="([^"]*)"/g)) attrs[a[1]!] = a[2]!;
    if ((attrs['class'] ?? '').split(' ').includes(cls)) out.push(attrs);
  }
  return out;
}

/** Number of drawing commands (M/L) in an SVG path. */
const commands = (d: string | undefined): number => (d ?? '').match(/[ML]/g)?.length ?? 0;

describe.skipIf(!chromium)('live latency page in headless chromium', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'tw-latency-live-'));
  const token = 'test-token-generated-at-runtime';
  let server: Server;
  let mon: LatencyMonitor;
  let empty: LatencyMonitor;
  let grow: LatencyMonitor;
  let growRec: HopRecorder;
  let grown = 0;
  let sinceAsked = 0;
  let base = '';
  let eng: Rig;
  let ks: KillSwitch;
  let control: ControlServer;
  let controlEmpty: ControlServer;
  let jsonHits = 0;
  let authOk = 0;

  const chromiumArgs = (profile: string): string[] => [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-dev-shm-usage',
    '--disable-background-networking',
    '--no-first-run',
    `--user-data-dir=${join(tmp, profile)}`,
    '--virtual-time-budget=4000',
  ];
  /** The DOM after the page's script ran (the script itself cut out: it holds the markup it draws, as text). */
  const dumpDom = async (url: string, profile: string): Promise<string> =>
    (await run(chromium!, [...chromiumArgs(profile), '--window-size=1200,900', '--dump-dom', url], 25_000)).stdout.replace(/<script>[\s\S]*?<\/script>/g, '');

  /** One interval of data; apply records nothing in the third (a gap in its p50/p99 series). */
  function fill(r: HopRecorder, roll: number): void {
    for (let i = 0; i < 5000; i++) {
      r.record(Hop.Parse, 0, 2000 + ((i * 37 + roll * 500) % 9000));
      if (roll !== 2) r.record(Hop.Apply, 0, 700 + ((i * 13) % 2000));
      r.recordOn(Hop.Ack, 2, Transport.Rest, 80_000 + ((i * 101) % 50_000));
      if (i % 5 === 0) r.recordOn(Hop.Ack, 2, Transport.Ws, 30_000 + ((i * 11) % 20_000));
      r.record(Hop.LoopLateness, NO_VENUE, 150_000 + ((i * 7) % 900_000));
    }
  }

  beforeAll(async () => {
    const r = new HopRecorder();
    mon = new LatencyMonitor(r, { rollMs: 0, signal: null });
    growRec = new HopRecorder();
    grow = new LatencyMonitor(growRec, { rollMs: 0, signal: null });
    for (let roll = 0; roll < ROLLS; roll++) {
      fill(r, roll);
      await mon.roll();
      fill(growRec, roll);
      await grow.roll();
    }
    empty = new LatencyMonitor(new HopRecorder(), { rollMs: 0, signal: null });
    // the control plane, wired as `tickwire run` wires it (src/app/run.ts), on port 0: one with data, one without
    const cfg = testConfig({ persistence: { dir: tmp } });
    eng = rig({ cfg });
    ks = new KillSwitch(eng.engine, cfg.killSwitch, { dataDir: tmp, exit: () => {} });
    const wire = (m: LatencyMonitor) => ({ page: () => latencyPageHtml({ jsonUrl: 'latency.json', refreshMs: 500 }), json: () => latencySnapshotJson(m) });
    control = await startControl({ engine: eng.engine, killSwitch: ks, token, latency: wire(mon) }, 0);
    controlEmpty = await startControl({ engine: eng.engine, killSwitch: ks, token, latency: wire(empty) }, 0);
    // the harness (below) must be same-origin with the page it drives: this small server serves both
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const html = (body: string): void => void res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(body);
      if (url.pathname === '/latency') html(latencyPageHtml({ jsonUrl: '/latency.json', refreshMs: 500 }));
      else if (url.pathname === '/latency.json') {
        // the harness's engine: one more interval of data before each answer to a page that already has the series
        jsonHits++;
        if (url.searchParams.get('token') === token && req.headers.authorization === `Bearer ${token}`) authOk++;
        const since = url.searchParams.get('since');
        const answer = (): void =>
          void res.writeHead(200, { 'content-type': 'application/json' }).end(latencySnapshotJson(grow, since === null ? undefined : Number(since)));
        if (since === null) answer();
        else {
          sinceAsked++;
          fill(growRec, ROLLS + grown++);
          void grow.roll().then(answer);
        }
      } else if (url.pathname === '/harness') html(HARNESS(`/latency?token=${token}`));
      else res.writeHead(404).end();
    });
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    control?.close();
    controlEmpty?.close();
    ks?.stop();
    await eng?.close();
    await mon.stop(null);
    await empty.stop(null);
    await grow.stop(null);
    await new Promise<void>((res) => server.close(() => res()));
    server.closeAllConnections();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('renders per hop a percentile-distribution plot and a p50/p99 series, keeps the table, and takes a screenshot', async () => {
    const url = `${control.url}/latency?token=${token}`;
    const dom = await dumpDom(url, 'p1');
    // the table, as before
    expect(dom).toContain('tickwire latency');
    expect(dom).toMatch(/<tr[^>]*data-hop="parse"/);
    expect(dom).toMatch(/<tr[^>]*data-hop="ack"/);
    expect(dom).toMatch(/<td class="k">loop_lateness<\/td>/);
    expect(dom).toMatch(/<td class="grp">5000<\/td>/);
    expect(dom).toMatch(/<div id="status"[^>]*>pid \d+ · 5 series/);

    // one distribution plot and one recent-series plot per hop with data, linear axis by default
    const snap = mon.snapshot();
    const dist = tags(dom, 'svg', 'dist');
    const recent = tags(dom, 'svg', 'recent');
    expect(dist.map((s) => s['data-hop'])).toEqual(['parse', 'apply', 'ack', 'loop_lateness']);
    expect(recent.map((s) => s['data-hop'])).toEqual(['parse', 'apply', 'ack', 'loop_lateness']);
    for (const s of [...dist, ...recent]) expect(s['data-yscale']).toBe('linear');
    for (const s of recent) expect(s['data-points']).toBe(String(ROLLS));
    expect(dom).not.toContain('id="noplots"');

    // a curve per venue/transport, drawn through every point of the served curve
    const curves = tags(dom, 'path', 'curve');
    expect(curves.map((c) => c['data-series'])).toEqual(['binanceSpot/any', 'binanceSpot/any', 'bybitSpot/rest', 'bybitSpot/ws', 'none/any']);
    for (const c of curves) {
      const n = Number(c['data-n']);
      expect(n).toBeGreaterThan(20);
      expect(commands(c['d'])).toBe(n);
    }
    const ackRest = snap.rows.find((r) => r.hop === 'ack' && r.transport === 'rest');
    expect(curves[2]?.['data-n']).toBe(String(ackRest?.curve.x.length));
    // the x axis is the percentile axis of hist plot
    expect(dom).toContain('>99.99%</text>');

    // p50 and p99 series: every interval for parse, a gap in the third for apply
    const p50 = tags(dom, 'path', 'p50');
    const p99 = tags(dom, 'path', 'p99');
    expect(p50.map((p) => p['data-n'])).toEqual([String(ROLLS), String(ROLLS - 1), String(ROLLS), String(ROLLS), String(ROLLS)]);
    expect(p99.map((p) => p['data-n'])).toEqual([String(ROLLS), String(ROLLS - 1), String(ROLLS), String(ROLLS), String(ROLLS)]);
    expect(p99.every((p) => p['stroke-dasharray'] !== undefined)).toBe(true);
    expect(commands(p50[0]?.['d'])).toBe(ROLLS); // one M/L per point (the 'l' dot that starts a run is lower case)
    expect((p50[1]?.['d'] ?? '').match(/M/g)).toHaveLength(2); // apply: two runs around the empty interval

    // the toggle's state in the URL (what the checkbox writes there): the control plane takes it, the page starts on log
    const logDom = await dumpDom(`${url}&logy=1`, 'p5');
    expect(logDom).toMatch(/<input type="checkbox" id="logy"[^>]*>/);
    const logSvgs = [...tags(logDom, 'svg', 'dist'), ...tags(logDom, 'svg', 'recent')];
    expect(logSvgs).toHaveLength(8);
    for (const s of logSvgs) expect(s['data-yscale']).toBe('log');

    const png = join(tmp, 'latency-page.png');
    await run(
      chromium!,
      chromiumScreenshotArgs(png, 1200, 1400, `${url}&logy=1`, [`--user-data-dir=${join(tmp, 'p2')}`, '--virtual-time-budget=4000']),
      25_000,
    );
    expect(existsSync(png)).toBe(true);
    const buf = readFileSync(png);
    expect(buf.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
    expect(buf.readUInt32BE(16)).toBe(1200);
    expect(buf.readUInt32BE(20)).toBe(1400);
    const keep = process.env['TW_KEEP_SCREENSHOT'];
    if (keep) copyFileSync(png, keep);
  });

  it('the log latency axis toggle redraws every plot on a log scale and stays on across refreshes', async () => {
    const dom = await dumpDom(`${base}/harness`, 'p3');
    const m = /<pre id="out">([^<]*)<\/pre>/.exec(dom);
    expect(m, dom.slice(0, 2000)).not.toBeNull();
    const text = m![1]!.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
    expect(text.startsWith('{'), text).toBe(true);
    type Facts = { cls: string; hop: string; yscale: string; points: string | null; n: string[]; yticks: string[]; d: string[] }[];
    expect(jsonHits).toBeGreaterThan(0);
    expect(authOk).toBeGreaterThan(0); // the page sends the token of its URL as ?token= and as a Bearer header
    const out = JSON.parse(text) as { before: Facts; after: Facts; later: Facts; search: string; checked: boolean };
    expect(out.before).toHaveLength(8);
    expect(out.before.every((s) => s.yscale === 'linear' && s.yticks[0] === '0')).toBe(true);
    expect(out.checked).toBe(true);
    expect(out.search).toContain('logy=1');
    expect(out.search).toContain(`token=${token}`);
    for (const facts of [out.after, out.later]) {
      expect(facts.map((s) => `${s.cls}/${s.hop}`)).toEqual(out.before.map((s) => `${s.cls}/${s.hop}`));
      for (const s of facts) {
        expect(s.yscale).toBe('log');
        // decade ticks: the labels are powers of ten (and 2x, 5x within narrow ranges)
        expect(s.yticks.length).toBeGreaterThanOrEqual(2);
        for (const t of s.yticks) expect(t).toMatch(/^(0\.0*)?[125]0*$/);
        expect(s.yticks.filter((t) => /^(0\.0*)?10*$/.test(t)).length).toBeGreaterThanOrEqual(2);
      }
    }
    // the p50/p99 series grew by the intervals the later refreshes brought (asked with ?since=, merged by the page)
    expect(sinceAsked).toBeGreaterThan(0);
    const recentBefore = out.before.find((s) => s.cls === 'recent' && s.hop === 'parse');
    const recentLater = out.later.find((s) => s.cls === 'recent' && s.hop === 'parse');
    expect(recentBefore?.points).toBe(String(ROLLS));
    expect(Number(recentLater?.points)).toBeGreaterThan(ROLLS);
    expect(Number(recentLater?.points)).toBeLessThanOrEqual(ROLLS + grown);
    expect(recentLater?.n).toEqual([`p50:${recentLater?.points}`, `p99:${recentLater?.points}`]);
    const applyLater = out.later.find((s) => s.cls === 'recent' && s.hop === 'apply');
    expect(applyLater?.n).toEqual([`p50:${Number(recentLater?.points) - 1}`, `p99:${Number(recentLater?.points) - 1}`]); // the old gap is kept
    // the same points, drawn at other heights: the paths changed
    const parseBefore = out.before.find((s) => s.cls === 'dist' && s.hop === 'parse');
    const parseAfter = out.after.find((s) => s.cls === 'dist' && s.hop === 'parse');
    expect(commands(parseAfter?.d[0])).toBe(commands(parseBefore?.d[0]));
    expect(parseAfter?.d[0]).not.toBe(parseBefore?.d[0]);
  });

  it('stays readable with no data yet: no plots, a placeholder, an empty table row, the status line', async () => {
    const dom = await dumpDom(`${controlEmpty.url}/latency?token=${token}`, 'p4');
    const empty = JSON.parse(latencySnapshotJson(new LatencyMonitor(new HopRecorder(), { rollMs: 0, signal: null }))) as LiveSnapshot;
    expect(empty.rows).toEqual([]);
    expect(dom).toMatch(/<div id="status"[^>]*>pid \d+ · 0 series/);
    expect(dom).toContain('id="noplots"');
    expect(tags(dom, 'svg', 'dist')).toEqual([]);
    expect(tags(dom, 'svg', 'recent')).toEqual([]);
    expect(dom).toMatch(/<tbody id="rows"><tr class="none"><td class="k" colspan="15">no samples yet<\/td><\/tr><\/tbody>/);
    expect(dom).toContain('id="logy"');
  });
});

/**
 * A page that loads the live page in a same-origin iframe, waits for its plots, clicks the log-axis checkbox like
 * a user, and writes what the SVGs show before, right after, and after two more refreshes into #out
 * (read back with --dump-dom).
 */
function HARNESS(src: string): string {
  return `<!doctype html><html><body><iframe id="f" width="1200" height="800" src="${src}"></iframe><pre id="out">waiting</pre>
<script>
var f = document.getElementById('f');
function facts(doc) {
  return Array.prototype.map.call(doc.querySelectorAll('svg'), function (s) {
    return { cls: s.getAttribute('class'), hop: s.getAttribute('data-hop'), yscale: s.getAttribute('data-yscale'), points: s.getAttribute('data-points'),
      n: Array.prototype.map.call(s.querySelectorAll('path'), function (p) { return p.getAttribute('class') + ':' + p.getAttribute('data-n'); }),
      yticks: Array.prototype.map.call(s.querySelectorAll('text.ytick'), function (t) { return t.textContent; }),
      d: Array.prototype.map.call(s.querySelectorAll('path'), function (p) { return p.getAttribute('d'); }) };
  });
}
function poll() {
  var doc = f.contentDocument;
  if (!doc || !doc.querySelector('svg.dist')) { setTimeout(poll, 50); return; }
  var before = facts(doc);
  doc.getElementById('logy').click();
  var after = facts(doc);
  setTimeout(function () {
    document.getElementById('out').textContent = JSON.stringify({ before: before, after: after, later: facts(doc),
      search: f.contentWindow.location.search, checked: doc.getElementById('logy').checked });
  }, 1200);
}
poll();
</script></body></html>`;
}
