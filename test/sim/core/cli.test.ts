/**
 * `tickwire sim` contract (issue 2): one JSON line on stdout with every venue's endpoints, clean exit on SIGTERM.
 * Runs the compiled CLI (bin/tickwire.js -> dist/): `npm run build` first (npm test does).
 * A venue that is still a placeholder is absent from the line; the test then requires the simulator to have said so
 * on stderr ("venue failed to start") and reports which venues it could not check, so nothing is skipped silently.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';

const ROOT = new URL('../../../', import.meta.url).pathname;
const VENUES = ['binanceSpot', 'binanceUsdm', 'bybit'] as const;

let child: ChildProcess | undefined;
afterEach(() => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  child = undefined;
});

function run(args: string[]): Promise<{ line: string; child: ChildProcess; stdout: () => string; stderr: () => string }> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, ['bin/tickwire.js', 'sim', ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TICKWIRE_LOG_LEVEL: 'info' },
    });
    child = c;
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`no JSON line within 10 s; stderr: ${err.slice(0, 2000)}`)), 10_000);
    c.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve({ line: out.slice(0, nl), child: c, stdout: () => out, stderr: () => err });
      }
    });
    c.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    c.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before printing; stderr: ${err.slice(0, 2000)}`));
    });
  });
}

function exited(c: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    if (c.exitCode !== null || c.signalCode !== null) resolve({ code: c.exitCode, signal: c.signalCode });
    else c.on('exit', (code, signal) => resolve({ code, signal }));
  });
}

describe('tickwire sim', () => {
  it('is built (npm run build)', () => {
    expect(existsSync(`${ROOT}dist/src/sim/main.js`), 'dist/ missing: run `npm run build` first').toBe(true);
  });

  it('prints one JSON line with every venue, then stops on SIGTERM with exit 0', async () => {
    const { line, child: c, stdout, stderr } = await run(['--seed', '1', '--symbols', 'BTCUSDT,ETHUSDT']);
    const j = JSON.parse(line) as Record<string, unknown>;
    expect(j['seed']).toBe(1);
    expect(j['symbols']).toEqual(['BTCUSDT', 'ETHUSDT']);
    const control = j['control'] as { url: string; token: string };
    expect(control.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(control.token.length).toBeGreaterThanOrEqual(16);
    const st = await fetch(`${control.url}/state`, { headers: { 'X-Sim-Token': control.token } });
    expect(st.status).toBe(200);
    expect((await fetch(`${control.url}/state`)).status).toBe(401);

    const missing: string[] = [];
    for (const v of VENUES) {
      const e = j[v] as Record<string, unknown> | undefined;
      if (!e) {
        // absent only if the simulator said why on stderr
        expect(stderr()).toMatch(new RegExp(`"venue":"${v}".*venue failed to start`));
        missing.push(v);
        continue;
      }
      expect(e['restBaseUrl']).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(e['wsStreamBaseUrl']).toMatch(/^ws:\/\/127\.0\.0\.1:\d+/);
      expect(e['wsApiUrl']).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\//);
      expect(typeof e['apiKey']).toBe('string');
      expect(typeof e['apiSecret']).toBe('string');
      expect((e['apiKey'] as string).length).toBeGreaterThan(0);
      if (v === 'bybit') expect(e['wsPrivateUrl']).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/v5\/private$/);
      else {
        expect(e['ed25519ApiKey']).toEqual(expect.any(String));
        expect(e['ed25519PrivateKeyPem']).toContain('PRIVATE KEY');
        expect(e['ed25519PublicKeyPem']).toContain('PUBLIC KEY');
      }
      // REST is reachable
      const r = await fetch(`${e['restBaseUrl'] as string}${v === 'bybit' ? '/v5/market/time' : v === 'binanceUsdm' ? '/fapi/v1/time' : '/api/v3/time'}`);
      expect(r.status).toBe(200);
    }
    if (missing.length > 0) console.warn(`tickwire sim: venues not started yet (placeholders): ${missing.join(', ')}`);

    c.kill('SIGTERM');
    const { code, signal } = await exited(c);
    expect(signal).toBeNull();
    expect(code).toBe(0);
    expect(stdout().trimEnd().split('\n')).toEqual([line]);
  });

  it('stops on SIGINT with exit 0 too', async () => {
    const { child: c, stderr } = await run(['--seed', '2', '--venues', 'bybit']);
    c.kill('SIGINT'); // at once: the handlers are installed before the line is printed
    const r = await exited(c);
    expect(r, stderr()).toEqual({ code: 0, signal: null });
  });

  it('rejects a bad option with exit code 2 and says why', async () => {
    const c = spawn(process.execPath, ['bin/tickwire.js', 'sim', '--rate', 'fast'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    let err = '';
    let out = '';
    c.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    c.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const { code } = await exited(c);
    expect(code).toBe(2);
    expect(err).toMatch(/--rate: expected a number/);
    expect(out).toBe('');
  });
});

describe('tickwire sim arguments', () => {
  it('parses every option and refuses bad ones with a reason', async () => {
    const { parseArgs } = await import('../../../src/sim/main.js');
    expect(
      parseArgs([
        '--seed',
        '5',
        '--symbols',
        'btcusdt, solusdt',
        '--rate=100000',
        '--depth-interval',
        '0',
        '--deterministic',
        '--host',
        '127.0.0.1',
        '--replay',
        '/work/shared/exchange/fixtures/bybit/v5_public_capture_2026-08_cryptofeed.ndjson',
        '--replay-speed',
        '0',
        '--venues',
        'bybit',
      ]),
    ).toEqual({
      seed: 5,
      symbols: ['BTCUSDT', 'SOLUSDT'],
      rate: 100_000,
      depthIntervalMs: 0,
      deterministic: true,
      host: '127.0.0.1',
      replay: ['/work/shared/exchange/fixtures/bybit/v5_public_capture_2026-08_cryptofeed.ndjson'],
      replaySpeed: 0,
      venues: ['bybit'],
    });
    expect(parseArgs(['--help'])).toBe('help');
    expect(() => parseArgs(['--seed', '-1'])).toThrow(/--seed/);
    expect(() => parseArgs(['--symbols', 'BTC-USDT'])).toThrow(/--symbols/);
    expect(() => parseArgs(['--replay', '/nonexistent.ndjson'])).toThrow(/no such file/);
    expect(() => parseArgs(['--venues', 'kraken'])).toThrow(/kraken/);
    expect(() => parseArgs(['--frobnicate'])).toThrow(/unknown option/);
  });
});
