import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtModule, spawnSimChild, type SimChild } from '../../src/app/simchild.js';
import { runEngine } from '../../src/app/run.js';
import { COMPAT_SOURCE, UWS_ENV } from '../../src/util/uws.js';

// the child runs the build: `npm test` builds first; without it these tests fail (never a silent skip)
const built = builtModule('app/simchild.js');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitGone(pid: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (!alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !alive(pid);
}

const toKill: number[] = [];
const tmp = mkdtempSync(join(tmpdir(), 'tw-simchild-'));
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
  for (const pid of toKill) if (alive(pid)) process.kill(pid, 'SIGKILL');
});

describe('embedded simulator in a child process', () => {
  it('runs against the build (npm run build)', () => {
    expect(built, 'dist/ is missing: run `npm run build` first').toBeTruthy();
  });

  it('prints its endpoints, serves them, ignores SIGINT and ends on close()', async () => {
    const c: SimChild = await spawnSimChild({ venues: ['binanceSpot'], symbols: ['BTCUSDT'], seed: 3, rate: 200, logLevel: 'warn' });
    toKill.push(c.pid);
    const ep = c.endpoints.binanceSpot;
    expect(ep?.restBaseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+/);
    const res = await fetch(`${ep!.restBaseUrl}/api/v3/exchangeInfo`);
    expect(res.status).toBe(200);
    const info = (await res.json()) as { symbols: Array<{ symbol: string }> };
    expect(info.symbols.map((s) => s.symbol)).toContain('BTCUSDT');
    // Ctrl-C goes to the whole process group: the simulator must outlive it until the engine closes it
    process.kill(c.pid, 'SIGINT');
    await new Promise((r) => setTimeout(r, 200));
    expect(alive(c.pid)).toBe(true);
    await c.close();
    expect(await waitGone(c.pid, 5000)).toBe(true);
  }, 30_000);

  it('runs on the server the parent chose: TICKWIRE_UWS=compat reaches the child, which says so in /state', async () => {
    const before = process.env[UWS_ENV];
    process.env[UWS_ENV] = 'compat';
    let c: SimChild;
    try {
      c = await spawnSimChild({ venues: ['binanceSpot'], symbols: ['BTCUSDT'], seed: 3, rate: 200, logLevel: 'warn' });
    } finally {
      if (before === undefined) delete process.env[UWS_ENV];
      else process.env[UWS_ENV] = before;
    }
    toKill.push(c.pid);
    const { url, token } = c.endpoints.control;
    const state = (await (await fetch(`${url}/state`, { headers: { 'X-Sim-Token': token } })).json()) as { server?: string };
    expect(state.server).toBe(COMPAT_SOURCE);
    expect((await fetch(`${c.endpoints.binanceSpot!.restBaseUrl}/api/v3/ping`)).status).toBe(200);
    await c.close();
  });

  it('a kill -9 of the engine also ends the simulator child (no orphan)', async () => {
    // a stand-in engine: spawns the child through the same API, prints its pid, then waits to be killed
    const src = `
const { spawnSimChild } = await import(${JSON.stringify(pathToFileURL(built!).href)});
const c = await spawnSimChild({ venues: ['binanceSpot'], symbols: ['BTCUSDT'], seed: 4, rate: 200, logLevel: 'warn' });
process.stdout.write(c.pid + '\\n');
setInterval(() => {}, 1000);
`;
    const parent = spawn(process.execPath, ['--input-type=module', '-e', src], { stdio: ['ignore', 'pipe', 'inherit'] });
    toKill.push(parent.pid!);
    const childPid = await new Promise<number>((resolve, reject) => {
      let buf = '';
      parent.stdout!.on('data', (d: Buffer) => {
        buf += d.toString();
        if (buf.includes('\n')) resolve(Number(buf.trim()));
      });
      parent.once('exit', () => reject(new Error('stand-in engine exited early')));
    });
    toKill.push(childPid);
    expect(alive(childPid)).toBe(true);
    const exited = new Promise<void>((r) => parent.once('exit', () => r()));
    parent.kill('SIGKILL');
    await exited;
    expect(await waitGone(childPid, 8000)).toBe(true);
  }, 30_000);

  it('tickwire run with simProcess child: the engine trades against the simulator in its own process', async () => {
    let simPid = -1;
    const r = await runEngine({
      durationSec: 20,
      simRate: 1500,
      simProcess: 'child',
      stopWhen: (e) => e.ordersSent >= 5 && e.loop.bookEvents >= 50,
      print: false,
      signals: false,
      env: {},
      overrides: {
        log: { level: 'warn', destinations: [{ to: 'stderr', level: 'warn' }] },
        control: { enabled: false },
        persistence: { dir: join(tmp, 'run'), fsync: 'never' },
        instruments: [{ venue: 'binanceSpot', symbol: 'BTCUSDT' }],
      },
      onReady: ({ wiring }) => {
        expect(wiring.sim).toBeUndefined(); // not in this process
        const d = wiring.describe();
        expect(String(d['mode'])).toContain('embedded simulator');
        simPid = -2;
      },
    });
    expect(simPid).toBe(-2);
    expect(r.code).toBe(0);
    expect(r.summary.mode).toContain('embedded simulator');
    expect(r.summary.orders.sent).toBeGreaterThanOrEqual(5);
  }, 40_000);
});
