/**
 * A config that cannot work exits 2 naming the field, before any socket opens (issue 11): each of these started a
 * silent or wrong engine before. Driven through the compiled CLI, as an operator would meet them.
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rmDir, tmpDir } from '../core/helpers.js';
import { built, runCli } from './helpers.js';

const root = tmpDir('config-exit');
afterAll(() => rmDir(root));
beforeEach(() => {
  expect(built(), 'run `npm run build` first').toBe(true);
});

let n = 0;
async function run(cfg: Record<string, unknown>, env: Record<string, string> = {}): Promise<{ code: number | null; stderr: string; ms: number }> {
  const dir = join(root, `c${++n}`);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'config.json');
  writeFileSync(
    file,
    JSON.stringify({ persistence: { dir: join(dir, 'data') }, log: { level: 'warn', destinations: [{ to: join(dir, 'engine.log'), level: 'warn' }] }, ...cfg }),
  );
  const t0 = Date.now();
  // no credentials from the caller's environment: the cases below decide
  const clean: Record<string, string> = {
    TICKWIRE_BINANCE_API_KEY: '',
    TICKWIRE_BINANCE_API_SECRET: '',
    TICKWIRE_BYBIT_API_KEY: '',
    TICKWIRE_BYBIT_API_SECRET: '',
    ...env,
  };
  const life = runCli(['--config', file, '--duration', '30'], dir, clean);
  const code = await life.exited;
  return { code, stderr: life.stderr(), ms: Date.now() - t0 };
}

describe('a config that cannot work exits 2 naming the field', () => {
  it('a market-maker symbol that is not among the instruments', { timeout: 20_000 }, async () => {
    const r = await run({ strategy: { name: 'marketMaker', marketMaker: { venue: 'binanceSpot', symbol: 'ETHUSDT' } } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/strategy\.marketMaker\.symbol: binanceSpot:ETHUSDT is not among the instruments/);
  });

  it('a market-maker venue that is not among the instruments', { timeout: 20_000 }, async () => {
    const r = await run({ strategy: { name: 'marketMaker', marketMaker: { venue: 'bybitSpot', symbol: 'BTCUSDT' } } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/strategy\.marketMaker\.symbol: bybitSpot:BTCUSDT is not among the instruments/);
  });

  it('risk.maxOrderQty above risk.maxPositionPerSymbol', { timeout: 20_000 }, async () => {
    const r = await run({ risk: { maxOrderQty: 0.5, maxPositionPerSymbol: 0.1 } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/risk\.maxOrderQty: 0\.5 is above risk\.maxPositionPerSymbol/);
  });

  it('the mainnet preset without credentials: refused before any network', { timeout: 20_000 }, async () => {
    const r = await run({
      exchanges: { binance: { preset: 'mainnet' }, bybit: { enabled: false } },
      instruments: [{ venue: 'binanceSpot', symbol: 'BTCUSDT' }],
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/secretsFile: exchanges\.binance \(preset mainnet\) needs API credentials/);
    expect(r.stderr).not.toMatch(/ENOTFOUND|EAI_AGAIN|getaddrinfo/);
  });

  it('a secretsFile that does not exist', { timeout: 20_000 }, async () => {
    const r = await run({ secretsFile: join(root, 'no-such-secrets.json') });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/secretsFile: cannot read .*no-such-secrets\.json: ENOENT/);
  });

  it('a persistence.dir that cannot be written (under /proc): exits at once instead of spinning', { timeout: 20_000 }, async () => {
    const r = await run({ persistence: { dir: '/proc/tickwire-no/data' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/persistence\.dir: \/proc\/tickwire-no\/data cannot be used as the data dir/);
  });

  it('a persistence.dir below a regular file', { timeout: 20_000 }, async () => {
    const f = join(root, 'a-file');
    writeFileSync(f, '');
    const r = await run({ persistence: { dir: join(f, 'data') } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/persistence\.dir: .*cannot be used as the data dir/);
  });
});
