import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { runEngine } from '../../src/app/run.js';
import { readJournal, JOURNAL_FILE } from '../../src/persist/journal.js';
import { rmDir, tmpDir } from '../core/helpers.js';

const dir = tmpDir('e2e-run');
afterAll(() => rmDir(dir));
const quiet = { log: { level: 'silent', destinations: [{ to: 'stderr', level: 'silent' }] } };

describe('tickwire run (paper venue)', () => {
  it('the market maker quotes, gets filled, respects its limits, and shuts down with nothing open', async () => {
    let statusSeen: Record<string, unknown> | undefined;
    const summaryFile = join(dir, 'summary.json');
    const r = await runEngine({
      paper: true,
      durationSec: 20,
      paperRate: 2000,
      stopWhen: (e) => e.portfolio.fills >= 3 && e.loop.ticks > 150,
      summaryJson: summaryFile,
      print: false,
      signals: false,
      env: {},
      overrides: {
        ...quiet,
        persistence: { dir },
        strategy: { marketMaker: { venue: 'binanceSpot', symbol: 'BTCUSDT', halfSpreadBps: 0.01, size: 0.002, maxInventory: 0.004, requoteTicks: 2 } },
        risk: { maxOrderQty: 0.004, maxPositionPerSymbol: 0.006, maxOpenOrders: 4 },
      },
      onReady: ({ control }) => {
        const rs = JSON.parse(readFileSync(join(dir, 'run-state.json'), 'utf8')) as { url: string; token: string };
        expect(rs.url).toBe(control!.url);
        expect(statSync(join(dir, 'run-state.json')).mode & 0o077).toBe(0);
        setTimeout(() => {
          void request(rs.url + '/status', { headers: { authorization: `Bearer ${rs.token}` } })
            .then((res) => res.body.json())
            .then((j) => (statusSeen = j as Record<string, unknown>));
        }, 1000);
      },
    });
    expect(r.code).toBe(0);
    const s = r.summary;
    expect(s.orders.sent).toBeGreaterThan(0);
    expect(s.orders.acked).toBeGreaterThan(0);
    expect(s.fills).toBeGreaterThan(0);
    expect(s.orders.openAtEnd).toBe(0);
    expect(Math.abs(s.positions['binanceSpot:BTCUSDT']!)).toBeLessThanOrEqual(0.006 + 1e-12);
    expect(s.latency.some((h) => h.hop === 'loop_lateness' && h.count > 0)).toBe(true);
    expect(statusSeen?.['trading']).toBe('running');
    expect(JSON.parse(readFileSync(summaryFile, 'utf8')).fills).toBe(s.fills);
    // the journal holds every order: intents = orders sent
    const recs = readJournal(join(dir, JOURNAL_FILE)).records;
    expect(recs.filter((x) => x.t === 'intent').length).toBe(s.orders.sent);
    expect(existsSync(join(dir, 'snapshot.json'))).toBe(true);
  });
});

describe('tickwire run (embedded simulator: WebSocket market data, REST order entry)', () => {
  it('the market maker quotes, gets filled, never exceeds its position and open-order limits', async () => {
    let maxPos = 0;
    let maxOpen = 0;
    let watch: NodeJS.Timeout | undefined;
    const r = await runEngine({
      durationSec: 25,
      simRate: 1500,
      stopWhen: (e) => e.portfolio.fills >= 3 && e.loop.bookEvents >= 200,
      print: false,
      signals: false,
      env: {},
      overrides: {
        ...quiet,
        persistence: { dir: join(dir, 'sim') },
        instruments: [{ venue: 'binanceUsdm', symbol: 'BTCUSDT' }],
        strategy: { marketMaker: { venue: 'binanceUsdm', symbol: 'BTCUSDT', halfSpreadBps: 0.001, size: 0.002, maxInventory: 0.004, requoteTicks: 1 } },
        risk: { maxOrderQty: 0.004, maxPositionPerSymbol: 0.006, maxOpenOrders: 3 },
      },
      onReady: ({ engine }) => {
        watch = setInterval(() => {
          maxPos = Math.max(maxPos, Math.abs(engine.portfolio.positionReal(0)));
          maxOpen = Math.max(maxOpen, engine.store.openCount());
        }, 1);
      },
    });
    clearInterval(watch);
    const s = r.summary;
    expect(r.code).toBe(0);
    expect(s.mode).toContain('embedded simulator');
    expect(s.fills).toBeGreaterThanOrEqual(3);
    expect(s.orders.openAtEnd).toBe(0);
    expect(maxPos).toBeLessThanOrEqual(0.006 + 1e-12);
    expect(maxOpen).toBeLessThanOrEqual(3);
    expect(Object.values(s.mdFrames).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    // the event path reached the exchange: book frame -> strategy -> order bytes
    expect(s.loop.bookEvents).toBeGreaterThanOrEqual(200);
    expect(s.latency.some((h) => h.hop === 'tick_to_trade' && h.count > 0)).toBe(true);
  });
});

describe('tickwire run: reload', () => {
  it('POST /reload re-reads the config file and applies strategy and risk parameters; a bad file is refused and changes nothing', async () => {
    const d = join(dir, 'reload');
    const file = join(dir, 'reload.json');
    const base = {
      ...quiet,
      persistence: { dir: d },
      strategy: { name: 'marketMaker', marketMaker: { venue: 'binanceSpot', symbol: 'BTCUSDT', halfSpreadBps: 0.01, size: 0.002 } },
      risk: { maxOrderQty: 0.01 },
    };
    writeFileSync(file, JSON.stringify(base));
    const seen: Array<{ status: number; body: { ok: boolean; message: string } }> = [];
    const qty = [0, 0, 0];
    let done = false;
    await runEngine({
      paper: true,
      config: file,
      durationSec: 20,
      print: false,
      signals: false,
      env: { TICKWIRE_CONTROL_TOKEN: 'reload-token-0123456789' },
      stopWhen: () => done,
      onReady: ({ engine, control }) => {
        void (async () => {
          const post = async () => {
            const res = await request(`${control!.url}/reload`, { method: 'POST', headers: { authorization: 'Bearer reload-token-0123456789' } });
            seen.push({ status: res.statusCode, body: (await res.body.json()) as { ok: boolean; message: string } });
          };
          qty[0] = engine.config.risk.maxOrderQty;
          writeFileSync(file, JSON.stringify({ ...base, risk: { maxOrderQty: 0.004 } }));
          await post();
          qty[1] = engine.config.risk.maxOrderQty;
          writeFileSync(file, JSON.stringify({ ...base, risk: { maxOrderQty: -1 } }));
          await post();
          qty[2] = engine.config.risk.maxOrderQty;
          done = true;
        })();
      },
    });
    expect(qty).toEqual([0.01, 0.004, 0.004]);
    expect(seen[0]?.status).toBe(200);
    expect(seen[1]?.status).toBe(400);
    expect(seen[1]?.body.message).toContain('risk.maxOrderQty');
  });
});

describe('tickwire run: one engine per data dir', () => {
  it('refuses a data dir locked by a live process, takes over the lock of a dead one', async () => {
    const { lockDataDir } = await import('../../src/app/run.js');
    const d = join(dir, 'lock');
    mkdirSync(d, { recursive: true });
    const release = lockDataDir(d);
    // another engine (here: this process' parent, alive) holds it
    writeFileSync(join(d, 'engine.lock'), String(process.ppid));
    expect(() => lockDataDir(d)).toThrow(/in use by another engine/);
    // a pid that does not exist: stale lock, taken over
    writeFileSync(join(d, 'engine.lock'), '999999999');
    const again = lockDataDir(d);
    expect(readFileSync(join(d, 'engine.lock'), 'utf8')).toBe(String(process.pid));
    again();
    expect(existsSync(join(d, 'engine.lock'))).toBe(false);
    release();
  });
});
