/**
 * Helpers of the lifecycle tests: the compiled CLI (`npm run build` first; npm test does) as a child process
 * against a simulator that runs in the test process, so that the test sees the exchange's side of every order.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { SimVenueEndpoints } from '../../src/sim/core/types.js';
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import { startSim, type SimHandle } from '../../src/sim/index.js';
import { rmDir, tmpDir } from '../core/helpers.js';
import { rest } from '../sim/binance/helpers.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const BIN = join(ROOT, 'bin/tickwire.js');
export const built = (): boolean => existsSync(join(ROOT, 'dist/src/cli/tickwire.js'));

export interface Life {
  proc: ChildProcess;
  exited: Promise<number | null>;
  stderr: () => string;
  stdout: () => string;
}

/** every engine process a test started: `killLeftovers()` (afterEach) ends any that a failed test left running */
const lives = new Set<Life>();
export function killLeftovers(): void {
  for (const l of lives) if (l.proc.exitCode === null && l.proc.signalCode === null) l.proc.kill('SIGKILL');
  lives.clear();
}

/** `tickwire run ARGS` in `cwd`, with the simulator's Binance keys in the environment. */
export function runCli(args: string[], cwd: string, env: Record<string, string> = {}): Life {
  let err = '';
  let out = '';
  const proc = spawn(process.execPath, [BIN, 'run', ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  const life = { proc, exited, stderr: () => err, stdout: () => out };
  lives.add(life);
  return life;
}

/** A config file for Binance Spot BTCUSDT on the simulator's endpoints; `extra` is merged at the top level. */
export function writeConfig(dir: string, ep: SimVenueEndpoints, extra: Record<string, unknown> = {}): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'config.json');
  const base: Record<string, unknown> = {
    exchanges: {
      binance: { preset: 'sim', endpoints: { spotRest: ep.restBaseUrl, spotWs: ep.wsStreamBaseUrl, spotWsApi: ep.wsApiUrl } },
      bybit: { enabled: false },
    },
    instruments: [{ venue: 'binanceSpot', symbol: 'BTCUSDT' }],
    strategy: {
      name: 'marketMaker',
      marketMaker: { venue: 'binanceSpot', symbol: 'BTCUSDT', halfSpreadBps: 0.001, size: 0.002, maxInventory: 0.01, requoteTicks: 1 },
    },
    persistence: { dir: join(dir, 'data'), batchMs: 2, fsync: 'never', orphans: 'adopt' },
    shutdown: { cancelTimeoutMs: 5000 },
    log: { level: 'info', destinations: [{ to: join(dir, 'engine.log'), level: 'info' }] },
    ...extra,
  };
  writeFileSync(file, JSON.stringify(base));
  return file;
}

export function keysEnv(ep: SimVenueEndpoints): Record<string, string> {
  return { TICKWIRE_BINANCE_API_KEY: ep.apiKey, TICKWIRE_BINANCE_API_SECRET: ep.apiSecret, TICKWIRE_CONTROL_TOKEN: 'lifecycle-test-token-0123456789' };
}

/** Every order the account ever had on Binance Spot BTCUSDT (the exchange's allOrders), and the open ones. */
export async function spotOrders(ep: SimVenueEndpoints): Promise<{ all: Array<{ clientOrderId: string; status: string }>; open: number }> {
  const all = await rest(ep, 'GET', '/api/v3/allOrders', { symbol: 'BTCUSDT' }, { signed: true });
  const open = await rest(ep, 'GET', '/api/v3/openOrders', { symbol: 'BTCUSDT' }, { signed: true });
  return { all: all.json as Array<{ clientOrderId: string; status: string }>, open: (open.json as unknown[]).length };
}

/** A resting order of an earlier life of the engine (the journal does not know it: reconciliation finds it). */
export async function placeOrphan(ep: SimVenueEndpoints, clientOrderId: string): Promise<void> {
  const t = await rest(ep, 'GET', '/api/v3/ticker/bookTicker', { symbol: 'BTCUSDT' });
  const px = (Number((t.json as { bidPrice: string }).bidPrice) * 0.995).toFixed(2);
  const r = await rest(
    ep,
    'POST',
    '/api/v3/order',
    { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.002', price: px, newClientOrderId: clientOrderId },
    { signed: true },
  );
  if (r.status !== 200) throw new Error(`orphan not placed: ${r.status} ${JSON.stringify(r.json)}`);
}

/**
 * The setup every lifecycle file shares: a Binance Spot simulator in the test process (BTCUSDT), a temp root, the
 * build checked before each test, and no engine left running after one (a failed test must not leave its engine
 * trading against the next test's exchange). The returned object is filled in beforeAll.
 */
export function lifecycleSuite(name: string, seed: number, rate: number): { root: string; sim: SimHandle; ep: SimVenueEndpoints } {
  const s = { root: tmpDir(name) } as { root: string; sim: SimHandle; ep: SimVenueEndpoints };
  beforeAll(async () => {
    s.sim = await startSim({ venues: ['binanceSpot'], symbols: ['BTCUSDT'], seed, rate });
    s.ep = s.sim.endpoints.binanceSpot!;
  });
  afterAll(async () => {
    await s.sim?.close();
    rmDir(s.root);
  });
  afterEach(() => killLeftovers());
  beforeEach(() => {
    expect(built(), 'run `npm run build` first').toBe(true);
  });
  return s;
}
