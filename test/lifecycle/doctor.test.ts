/**
 * `tickwire doctor` (issue 13, "Go/no-go before real money"): the built CLI against simulators, exactly as it runs
 * against the real hosts. A default simulated account is GO (exit 0) and --json writes the same rows (mode 0600);
 * an API key with withdrawals enabled, one without an IP allowlist, and hedge-mode accounts are NO-GO (exit 1),
 * each naming the failing check; --test-order leaves nothing open on the exchange (asserted on the simulator);
 * bad usage or config is exit 2.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSim, type SimHandle } from '../../src/sim/index.js';
import { accountProfileOf, DEFAULT_ACCOUNT_PROFILE } from '../../src/sim/core/types.js';
import type { DoctorReport } from '../../src/app/doctor.js';
import { rmDir, tmpDir } from '../core/helpers.js';
import { rest } from '../sim/binance/helpers.js';
import { signedGet } from '../sim/bybit/helpers.js';
import { BIN, built } from './helpers.js';

const root = tmpDir('doctor');
let sim: SimHandle;
let n = 0;

beforeAll(async () => {
  sim = await startSim({ symbols: ['BTCUSDT'], seed: 21, rate: 300 });
});
afterAll(async () => {
  await sim?.close();
  rmDir(root);
});
beforeEach(() => {
  expect(built(), 'run `npm run build` first').toBe(true);
  Object.assign(accountProfileOf(sim.ctx), DEFAULT_ACCOUNT_PROFILE);
});

/** `tickwire doctor ARGS` as a child process; resolves with its exit code and output. */
function doctor(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    let out = '';
    let err = '';
    const proc = spawn(process.execPath, [BIN, 'doctor', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => proc.kill('SIGKILL'), 60_000);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

/** A config on the test's simulator (endpoints in the config): Binance Spot + USD-M and Bybit linear, BTCUSDT. */
function config(): { file: string; env: Record<string, string> } {
  const dir = join(root, `case-${++n}`);
  mkdirSync(dir, { recursive: true });
  const s = sim.endpoints.binanceSpot!;
  const u = sim.endpoints.binanceUsdm!;
  const y = sim.endpoints.bybit!;
  const cfg = {
    exchanges: {
      binance: {
        preset: 'sim',
        endpoints: {
          spotRest: s.restBaseUrl,
          spotWs: s.wsStreamBaseUrl,
          spotWsApi: s.wsApiUrl,
          futuresRest: u.restBaseUrl,
          futuresWs: u.wsStreamBaseUrl,
          futuresWsApi: u.wsApiUrl,
        },
      },
      bybit: { preset: 'sim', endpoints: { futuresRest: y.restBaseUrl, futuresWs: y.wsStreamBaseUrl, futuresWsApi: y.wsApiUrl, privateWs: y.wsPrivateUrl } },
    },
    instruments: [
      { venue: 'binanceSpot', symbol: 'BTCUSDT' },
      { venue: 'binanceUsdm', symbol: 'BTCUSDT' },
      { venue: 'bybitLinear', symbol: 'BTCUSDT' },
    ],
    strategy: { name: 'none' },
  };
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify(cfg));
  return {
    file,
    env: {
      TICKWIRE_BINANCE_API_KEY: s.apiKey,
      TICKWIRE_BINANCE_API_SECRET: s.apiSecret,
      TICKWIRE_BYBIT_API_KEY: y.apiKey,
      TICKWIRE_BYBIT_API_SECRET: y.apiSecret,
    },
  };
}

const rowsOf = (r: DoctorReport, status: string): string[] => r.checks.filter((c) => c.status === status).map((c) => `${c.venue} ${c.check}`);

describe('tickwire doctor', () => {
  it('a default simulated account (embedded simulator, no config) is GO, exit 0; --json holds the same rows, mode 0600', { timeout: 60_000 }, async () => {
    const json = join(root, 'default.json');
    const r = await doctor(['--json', json]);
    expect(r.code, r.err + r.out).toBe(0);
    expect(r.out).toMatch(/verdict: GO \(0 no-go/);
    expect(statSync(json).mode & 0o777).toBe(0o600);
    const rep = JSON.parse(readFileSync(json, 'utf8')) as DoctorReport;
    expect(rep).toMatchObject({ go: true, verdict: 'GO', presets: { binance: 'sim', bybit: 'sim' } });
    // every check ran for both default venues, and every row of the table is in the file
    for (const venue of ['binanceSpot', 'bybitLinear']) {
      const names = rep.checks.filter((c) => c.venue === venue).map((c) => c.check);
      expect(names).toEqual(
        expect.arrayContaining(['rest', 'clock', 'market ws', 'private ws', 'ws api', 'api key', 'account mode', 'fee tier', 'symbol BTCUSDT', 'rate limit']),
      );
    }
    expect(rowsOf(rep, 'no-go')).toEqual([]);
    for (const c of rep.checks) expect(r.out).toContain(c.detail);
    const clock = rep.checks.find((c) => c.venue === 'binanceSpot' && c.check === 'clock');
    expect(typeof clock?.value?.['offsetMs']).toBe('number');
  });

  it('withdrawals enabled on the key: NO-GO, exit 1, the api key rows name enableWithdrawals / Wallet Withdraw', { timeout: 60_000 }, async () => {
    accountProfileOf(sim.ctx).withdrawals = true;
    const c = config();
    const json = join(root, 'withdrawals.json');
    const r = await doctor(['--config', c.file, '--json', json], c.env);
    expect(r.code, r.err).toBe(1);
    expect(r.out).toMatch(/verdict: NO-GO/);
    const rep = JSON.parse(readFileSync(json, 'utf8')) as DoctorReport;
    expect(rep.go).toBe(false);
    expect(rowsOf(rep, 'no-go')).toEqual(['binanceSpot api key', 'binanceUsdm api key', 'bybitLinear api key']);
    expect(r.out).toMatch(/withdrawals on \(enableWithdrawals=true\)/);
    expect(r.out).toMatch(/withdrawals on \(Wallet: Withdraw\)/);
    expect(r.out).toMatch(/no-go: binanceSpot api key, binanceUsdm api key, bybitLinear api key/);
  });

  it('no IP allowlist on the key: NO-GO naming ipRestrict / ips', { timeout: 60_000 }, async () => {
    accountProfileOf(sim.ctx).ipRestrict = false;
    const c = config();
    const r = await doctor(['--config', c.file], c.env);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/no IP allowlist \(ipRestrict=false\)/);
    expect(r.out).toMatch(/no IP allowlist \(ips=\["\*"\]\)/);
  });

  it('hedge-mode accounts: NO-GO on account mode naming dualSidePosition and positionIdx; --test-order skips them', { timeout: 60_000 }, async () => {
    Object.assign(accountProfileOf(sim.ctx), { binanceUsdmHedge: true, bybitLinearHedge: true });
    const c = config();
    const json = join(root, 'hedge.json');
    const r = await doctor(['--config', c.file, '--json', json, '--test-order'], c.env);
    expect(r.code).toBe(1);
    const rep = JSON.parse(readFileSync(json, 'utf8')) as DoctorReport;
    expect(rowsOf(rep, 'no-go')).toEqual(['binanceUsdm account mode', 'bybitLinear account mode']);
    expect(r.out).toMatch(/hedge mode \(GET \/fapi\/v1\/positionSide\/dual: dualSidePosition=true\)/);
    expect(r.out).toMatch(/BTCUSDT in hedge mode \(GET \/v5\/position\/list: positionIdx 1\/2/);
    expect(rowsOf(rep, 'skip')).toEqual(expect.arrayContaining(['binanceUsdm test order BTCUSDT', 'bybitLinear test order BTCUSDT']));
  });

  it('--test-order: one order per venue placed and cancelled, GO, and the simulator shows them cancelled with nothing open', { timeout: 60_000 }, async () => {
    const c = config();
    const json = join(root, 'order.json');
    const r = await doctor(['--config', c.file, '--json', json, '--test-order'], c.env);
    expect(r.code, r.out + r.err).toBe(0);
    const rep = JSON.parse(readFileSync(json, 'utf8')) as DoctorReport;
    const orders = rep.checks.filter((x) => x.check.startsWith('test order'));
    expect(orders.map((x) => `${x.venue} ${x.status}`)).toEqual(['binanceSpot go', 'binanceUsdm go', 'bybitLinear go']);
    const id = (venue: string): string => String(orders.find((x) => x.venue === venue)?.value?.['clientOrderId']);
    // the exchange's side: each order exists, was cancelled, and nothing is open
    for (const [venue, ep, pre] of [
      ['binanceSpot', sim.endpoints.binanceSpot!, '/api/v3'],
      ['binanceUsdm', sim.endpoints.binanceUsdm!, '/fapi/v1'],
    ] as const) {
      const all = (await rest(ep, 'GET', `${pre}/allOrders`, { symbol: 'BTCUSDT' }, { signed: true })).json as Array<{ clientOrderId: string; status: string }>;
      expect(all.filter((o) => o.clientOrderId === id(venue)).map((o) => o.status)).toEqual(['CANCELED']);
      expect((await rest(ep, 'GET', `${pre}/openOrders`, { symbol: 'BTCUSDT' }, { signed: true })).json).toEqual([]);
    }
    const hist = await signedGet(sim.endpoints.bybit!, '/v5/order/history', 'category=linear&symbol=BTCUSDT&limit=50');
    expect(
      hist.json.result.list.filter((o: { orderLinkId: string }) => o.orderLinkId === id('bybitLinear')).map((o: { orderStatus: string }) => o.orderStatus),
    ).toEqual(['Cancelled']);
    expect((await signedGet(sim.endpoints.bybit!, '/v5/order/realtime', 'category=linear&symbol=BTCUSDT')).json.result.list).toEqual([]);
  });

  it('bad usage or config: exit 2 with the reason (unknown preset, unknown option, a real preset without keys)', { timeout: 60_000 }, async () => {
    const a = await doctor(['--preset', 'prod']);
    expect(a.code).toBe(2);
    expect(a.err).toMatch(/--preset must be testnet, demo, mainnet or sim/);
    expect((await doctor(['--frobnicate'])).code).toBe(2);
    const clean = { TICKWIRE_BINANCE_API_KEY: '', TICKWIRE_BINANCE_API_SECRET: '', TICKWIRE_BYBIT_API_KEY: '', TICKWIRE_BYBIT_API_SECRET: '' };
    const b = await doctor(['--preset', 'mainnet'], clean);
    expect(b.code).toBe(2);
    expect(b.err).toMatch(/preset mainnet\) needs API credentials/);
    const h = await doctor(['--help']);
    expect(h.code).toBe(0);
    expect(h.out).toMatch(/usage: tickwire doctor \[--preset testnet\|demo\|mainnet\|sim\] \[--config FILE\] \[--json FILE\] \[--test-order\]/);
  });
});
