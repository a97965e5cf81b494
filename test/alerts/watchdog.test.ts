/**
 * `tickwire watchdog` against a hung engine: the built CLI's `tickwire run` (a child process) trades against a
 * simulator in this process (Binance Spot, Bybit spot and linear: venues without a dead-man switch here), with
 * resting orders; the built CLI's `tickwire watchdog` (another child) watches it with its own keys (Binance: the
 * account's Ed25519 key, where the engine signs with HMAC). `kill -STOP` of the engine: the watchdog must cancel
 * everything, which the test checks on the simulator's books, and alert on a local webhook sink. `kill -CONT`: the
 * engine answers again, the watchdog says so and stops its trading.
 * `npm run build` first (npm test does).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/app/alertrules.js';
import { main as watchdogMain } from '../../src/app/watchdog.js';
import { dispatch } from '../../src/cli/commands.js';
import { startSim, type SimHandle } from '../../src/sim/index.js';
import type { SimMarketId } from '../../src/sim/core/types.js';
import { rmDir, tmpDir, until } from '../core/helpers.js';
import { startWebhookSink, type WebhookSink } from '../helpers/fakebotapi.js';
import { BIN, built } from '../lifecycle/helpers.js';

const root = tmpDir('watchdog');
const CONTROL_TOKEN = 'watchdog-test-control-token-0123';
let sim: SimHandle;
let sink: WebhookSink;
const children: ChildProcess[] = [];

beforeAll(async () => {
  sim = await startSim({ venues: ['binanceSpot', 'bybit'], symbols: ['BTCUSDT'], seed: 15, rate: 100 });
  sink = await startWebhookSink();
});
afterEach(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children.length = 0;
});
afterAll(async () => {
  await sim?.close();
  await sink?.close();
  rmDir(root);
});

function start(args: string[], env: Record<string, string>): { proc: ChildProcess; exited: Promise<number | null>; stderr: () => string } {
  let err = '';
  const proc = spawn(process.execPath, [BIN, ...args], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  children.push(proc);
  return { proc, exited: new Promise((r) => proc.on('exit', (code) => r(code))), stderr: () => err };
}

/** resting orders of the account on the simulator's books */
function openOnSim(): Record<string, number> {
  const key = sim.endpoints.binanceSpot!.apiKey;
  const out: Record<string, number> = {};
  for (const m of ['binanceSpot', 'bybitSpot', 'bybitLinear'] as SimMarketId[]) {
    const acc = sim.accounts.get(m === 'binanceSpot' ? key : sim.endpoints.bybit!.apiKey);
    out[m] = acc ? (sim.books.get(m)?.get('BTCUSDT')?.openOrders(acc.id).length ?? 0) : 0;
  }
  return out;
}

describe('tickwire watchdog', () => {
  it('--help of bot and watchdog, through the dispatcher', async () => {
    const orig = process.stdout.write.bind(process.stdout);
    let out = '';
    process.stdout.write = ((s: string) => ((out += s), true)) as typeof process.stdout.write;
    try {
      expect(await dispatch(['help', 'watchdog'])).toBe(0);
      expect(await dispatch(['bot', '--help'])).toBe(0);
    } finally {
      process.stdout.write = orig;
    }
    expect(out).toMatch(/^usage: tickwire watchdog \[--config FILE\]/);
    expect(out).toMatch(/usage: tickwire bot \[--config FILE\]/);
  });

  it('refuses to start without its own keys for a guarded exchange, naming the field', async () => {
    const cfg = join(root, 'nokeys.json');
    const b = sim.endpoints.binanceSpot!;
    writeFileSync(
      cfg,
      JSON.stringify({
        exchanges: { binance: { endpoints: { spotRest: b.restBaseUrl, spotWs: b.wsStreamBaseUrl } }, bybit: { enabled: false } },
        instruments: [{ venue: 'binanceSpot', symbol: 'BTCUSDT' }],
        persistence: { dir: join(root, 'nokeys') },
      }),
    );
    const orig = process.stderr.write.bind(process.stderr);
    let err = '';
    process.stderr.write = ((s: string) => ((err += s), true)) as typeof process.stderr.write;
    const saved = { ...process.env };
    for (const k of Object.keys(process.env)) if (k.startsWith('TICKWIRE_')) delete process.env[k];
    try {
      expect(await watchdogMain(['--config', cfg])).toBe(2);
    } finally {
      process.stderr.write = orig;
      Object.assign(process.env, saved);
    }
    expect(err).toContain('watchdog.secretsFile: exchanges.binance');
    expect(err).toContain('the watchdog cancels with its own keys');
    // and an engine without a control plane could never be heard
    writeFileSync(cfg, JSON.stringify({ ...JSON.parse(readFileSync(cfg, 'utf8')), control: { enabled: false } }));
    err = '';
    process.stderr.write = ((s: string) => ((err += s), true)) as typeof process.stderr.write;
    try {
      expect(await watchdogMain(['--config', cfg])).toBe(2);
    } finally {
      process.stderr.write = orig;
    }
    expect(err).toContain('control.enabled: the watchdog hears the engine through its control plane');
  });

  it('kill -STOP of the engine: every open order on every venue is cancelled with its own keys, alerted; kill -CONT: resolved, trading stopped', async () => {
    expect(built(), 'run `npm run build` first').toBe(true);
    const b = sim.endpoints.binanceSpot!;
    const y = sim.endpoints.bybit!;
    const dir = join(root, 'stop');
    mkdirSync(dir, { recursive: true });
    const dataDir = join(dir, 'data');
    const cfgFile = join(dir, 'config.json');
    writeFileSync(
      cfgFile,
      JSON.stringify({
        exchanges: {
          binance: { preset: 'sim', endpoints: { spotRest: b.restBaseUrl, spotWs: b.wsStreamBaseUrl, spotWsApi: b.wsApiUrl } },
          bybit: {
            preset: 'sim',
            endpoints: {
              spotRest: y.restBaseUrl,
              spotWs: `${y.wsStreamBaseUrl}/v5/public/spot`,
              futuresRest: y.restBaseUrl,
              futuresWs: `${y.wsStreamBaseUrl}/v5/public/linear`,
              privateWs: y.wsPrivateUrl,
              spotWsApi: y.wsApiUrl,
              futuresWsApi: y.wsApiUrl,
            },
          },
        },
        instruments: [
          { venue: 'binanceSpot', symbol: 'BTCUSDT' },
          { venue: 'bybitSpot', symbol: 'BTCUSDT' },
          { venue: 'bybitLinear', symbol: 'BTCUSDT' },
        ],
        strategy: { name: 'none' },
        persistence: { dir: dataDir, batchMs: 2, fsync: 'never' },
        shutdown: { cancelTimeoutMs: 5000 },
        log: { level: 'info', destinations: [{ to: join(dir, 'engine.log'), level: 'info' }] },
        alerts: { webhooks: [{ url: sink.url }] },
        watchdog: { intervalMs: 200, requestTimeoutMs: 500, timeoutSec: 2, cancelTimeoutMs: 10_000 },
      }),
    );
    const pem = join(dir, 'watchdog-ed25519.pem');
    writeFileSync(pem, b.ed25519PrivateKeyPem!);
    chmodSync(pem, 0o600);
    const noEnv = Object.fromEntries(
      Object.keys(process.env)
        .filter((k) => k.startsWith('TICKWIRE_'))
        .map((k) => [k, '']),
    );
    const engine = start(['run', '--config', cfgFile], {
      ...noEnv,
      TICKWIRE_BINANCE_API_KEY: b.apiKey,
      TICKWIRE_BINANCE_API_SECRET: b.apiSecret,
      TICKWIRE_BYBIT_API_KEY: y.apiKey,
      TICKWIRE_BYBIT_API_SECRET: y.apiSecret,
      TICKWIRE_CONTROL_TOKEN: CONTROL_TOKEN,
    });
    const runState = join(dataDir, 'run-state.json');
    await until(() => existsSync(runState) || engine.proc.exitCode !== null, 25_000, 'the engine up (run-state.json)');
    expect(engine.proc.exitCode, engine.stderr()).toBeNull();
    const { url } = JSON.parse(readFileSync(runState, 'utf8')) as { url: string };
    const ctl = async (method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> => {
      const r = await request(url + path, {
        method,
        headers: { authorization: `Bearer ${CONTROL_TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(5000),
      });
      return { status: r.statusCode, json: (await r.body.json()) as Record<string, unknown> };
    };
    // resting buys 0.3 % under the touch on all three venues, once their books are synced
    for (const end = Date.now() + 15_000; ; ) {
      const books = (await ctl('GET', '/status')).json['books'] as Array<{ tradable: boolean }>;
      if (books.length === 3 && books.every((x) => x.tradable)) break;
      if (Date.now() > end) throw new Error(`books not tradable: ${JSON.stringify(books)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    for (const [venue, market] of [
      ['binanceSpot', 'binanceSpot'],
      ['bybitSpot', 'bybitSpot'],
      ['bybitLinear', 'bybitLinear'],
    ] as const) {
      const book = sim.books.get(market)!.get('BTCUSDT')!;
      const bid = book.bestBidPrice() / 10 ** book.instrument.priceDecimals;
      const price = String(Math.floor(bid * 0.997));
      for (let k = 0; k < 2; k++) {
        const r = await ctl('POST', '/order', { venue, symbol: 'BTCUSDT', side: 'BUY', qty: '0.002', price });
        expect(r.status, `${venue}: ${JSON.stringify(r.json)}`).toBe(200);
      }
    }
    await until(() => Object.values(openOnSim()).every((n) => n === 2), 10_000, 'two resting orders per venue');

    const watchdog = start(['watchdog', '--config', cfgFile], {
      ...noEnv,
      // its own keys: Binance's Ed25519 key of the account (the engine signs with the HMAC key); the simulator's
      // Bybit has one key per account
      TICKWIRE_BINANCE_ED25519_API_KEY: b.ed25519ApiKey!,
      TICKWIRE_BINANCE_ED25519_KEY_FILE: pem,
      TICKWIRE_BYBIT_API_KEY: y.apiKey,
      TICKWIRE_BYBIT_API_SECRET: y.apiSecret,
      TICKWIRE_SITE: 'wdtest',
    });
    await until(() => watchdog.stderr().includes('watchdog armed'), 20_000, 'the watchdog armed').catch((e: unknown) => {
      throw new Error(`${(e as Error).message}\n${watchdog.stderr()}`);
    });
    expect(sink.bodies).toEqual([]);
    expect(Object.values(openOnSim())).toEqual([2, 2, 2]);

    // the engine hangs: its event loop never runs again
    process.kill(engine.proc.pid!, 'SIGSTOP');
    try {
      const alerts = (): Alert[] => sink.bodies.map((x) => x['alert'] as Alert);
      await until(() => alerts().some((a) => a.key === 'watchdog_cancel'), 25_000, 'the cancel alert').catch((e: unknown) => {
        throw new Error(`${(e as Error).message}\n${watchdog.stderr()}`);
      });
      expect(openOnSim()).toEqual({ binanceSpot: 0, bybitSpot: 0, bybitLinear: 0 });
      const [lost, cancelled] = alerts();
      expect(lost).toMatchObject({ key: 'watchdog_heartbeat_lost', state: 'firing', severity: 'critical', source: 'watchdog' });
      expect(lost!.text).toContain('no answer (timeout)');
      expect(cancelled).toMatchObject({ key: 'watchdog_cancel', state: 'event', title: 'watchdog cancelled every open order' });
      expect(cancelled!.text).toBe('6 open order(s) found; cancel-all verified on binanceSpot, bybitSpot, bybitLinear: nothing open');
      expect(sink.bodies[0]).toMatchObject({ site: 'wdtest' });
    } finally {
      process.kill(engine.proc.pid!, 'SIGCONT');
    }
    // awake again: resolved, and its trading stopped until an operator says so
    await until(() => sink.bodies.some((x) => (x['alert'] as Alert).state === 'resolved'), 20_000, 'the resolved alert');
    const resolved = sink.bodies.find((x) => (x['alert'] as Alert).state === 'resolved')!['alert'] as Alert;
    expect(resolved.text).toContain('its trading was stopped');
    expect((await ctl('GET', '/status')).json['trading']).toBe('stopped');
    expect(sink.bodies.length).toBe(3); // one alert per event: nothing repeated while the engine was gone
    const wlog = watchdog.stderr();
    expect(wlog).toContain('"event":"watchdog_trip"');
    expect(wlog).not.toContain(b.ed25519ApiKey!);
    expect(wlog).not.toContain(y.apiSecret);

    engine.proc.kill('SIGTERM');
    expect(await engine.exited).toBe(0);
    watchdog.proc.kill('SIGTERM');
    expect(await watchdog.exited).toBe(0);
    expect(watchdog.stderr()).toMatch(
      /"counts":\{"beats":\d+,"misses":\d+,"trips":1,"cancelRuns":1,"cancelVerified":1,"cancelNotVerified":0,"stopsOnReturn":1\}/,
    );
  }, 90_000);
});
