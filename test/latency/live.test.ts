import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { HopRecorder, Hop, Transport, NO_VENUE } from '../../src/util/hops.js';
import { LatencyMonitor } from '../../src/util/monitor.js';
import { latencyPageHtml, latencySnapshotJson } from '../../src/app/live.js';
import { chromiumScreenshotArgs, findChromium } from '../../src/util/plot.js';

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

describe.skipIf(!chromium)('live latency page in headless chromium', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'tw-latency-live-'));
  const token = 'test-token-generated-at-runtime';
  let server: Server;
  let mon: LatencyMonitor;
  let base = '';
  let jsonHits = 0;
  let authOk = 0;

  beforeAll(async () => {
    const r = new HopRecorder();
    for (let i = 0; i < 5000; i++) {
      r.record(Hop.Parse, 0, 2000 + ((i * 37) % 9000));
      r.record(Hop.Apply, 0, 700 + ((i * 13) % 2000));
      r.recordOn(Hop.Ack, 2, Transport.Rest, 80_000 + ((i * 101) % 50_000));
      r.record(Hop.LoopLateness, NO_VENUE, 150_000 + ((i * 7) % 900_000));
    }
    mon = new LatencyMonitor(r, { rollMs: 0, signal: null });
    await mon.roll();
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/latency') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(latencyPageHtml({ jsonUrl: '/latency.json', refreshMs: 500 }));
      } else if (url.pathname === '/latency.json') {
        jsonHits++;
        if (url.searchParams.get('token') === token && req.headers.authorization === `Bearer ${token}`) authOk++;
        res.writeHead(200, { 'content-type': 'application/json' }).end(latencySnapshotJson(mon));
      } else res.writeHead(404).end();
    });
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await mon.stop(null);
    await new Promise<void>((res) => server.close(() => res()));
    server.closeAllConnections();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('renders the current percentiles per hop (DOM after fetch) and takes a screenshot', async () => {
    const url = `${base}/latency?token=${token}`;
    const common = [`--user-data-dir=${join(tmp, 'profile')}`, '--virtual-time-budget=4000'];
    const dom = await run(
      chromium!,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--disable-background-networking',
        '--no-first-run',
        ...common,
        '--dump-dom',
        url,
      ],
      25_000,
    );
    expect(dom.stdout).toContain('tickwire latency');
    expect(dom.stdout).toMatch(/<tr[^>]*data-hop="parse"/);
    expect(dom.stdout).toMatch(/<tr[^>]*data-hop="ack"/);
    expect(dom.stdout).toMatch(/<td class="k">loop_lateness<\/td>/);
    expect(dom.stdout).toMatch(/<td class="grp">5000<\/td>/);
    expect(dom.stdout).toMatch(/<div id="status"[^>]*>pid \d+ · 4 series/);
    expect(jsonHits).toBeGreaterThan(0);
    expect(authOk).toBeGreaterThan(0);

    const png = join(tmp, 'latency-page.png');
    await run(chromium!, chromiumScreenshotArgs(png, 1200, 500, url, common), 25_000);
    expect(existsSync(png)).toBe(true);
    const buf = readFileSync(png);
    expect(buf.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
    expect(buf.readUInt32BE(16)).toBe(1200);
    expect(buf.readUInt32BE(20)).toBe(500);
    const keep = process.env['TW_KEEP_SCREENSHOT'];
    if (keep) copyFileSync(png, keep);
  });
});
