import { afterAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { loadSecrets } from '../../src/config/secrets.js';
import { generateKeyPairSync } from 'node:crypto';
import { accessFromConfig } from '../../src/exchange/endpoints.js';

const dir = mkdtempSync(join(tmpdir(), 'tw-cfg-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function issuesOf(fn: () => unknown): Array<{ path: string; message: string }> {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e.issues;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('config', () => {
  it('defaults are valid and target the simulator', () => {
    const c = loadConfig({ env: {} });
    expect(c.exchanges.binance.preset).toBe('sim');
    expect(c.exchanges.bybit.preset).toBe('sim');
    expect(c.loop.periodMs).toBe(10);
    expect(c.control.host).toBe('127.0.0.1');
  });

  it('file values are validated and errors name the field path', () => {
    const f = join(dir, 'bad.json');
    writeFileSync(f, JSON.stringify({ risk: { maxOrderQty: -1 }, loop: { mode: 'fast' }, strategy: { marketMaker: { halfSpredBps: 1 } } }));
    const paths = issuesOf(() => loadConfig({ file: f, env: {} })).map((i) => i.path);
    expect(paths).toContain('risk.maxOrderQty');
    expect(paths).toContain('loop.mode');
    expect(paths).toContain('strategy.marketMaker.halfSpredBps');
  });

  it("socket lifetime before a rotation: default 23 h, refused at or past the venues' 24 h (field named), and below 1 s", () => {
    const c = loadConfig({ env: {} });
    expect([c.exchanges.binance.socketLifetimeMs, c.exchanges.bybit.socketLifetimeMs]).toEqual([23 * 3_600_000, 23 * 3_600_000]);
    const bad = issuesOf(() =>
      loadConfig({ env: {}, overrides: { exchanges: { binance: { socketLifetimeMs: 86_400_000 }, bybit: { socketLifetimeMs: 500 } } } }),
    );
    expect(bad.map((i) => i.path).sort()).toEqual(['exchanges.binance.socketLifetimeMs', 'exchanges.bybit.socketLifetimeMs']);
    expect(bad.find((i) => i.path.startsWith('exchanges.binance'))!.message).toMatch(/24 h/);
    expect(issuesOf(() => loadConfig({ env: {}, overrides: { exchanges: { binance: { socketLifetimeMs: 1.5e6 + 0.5 } } } })).map((i) => i.path)).toEqual([
      'exchanges.binance.socketLifetimeMs',
    ]);
    expect(loadConfig({ env: {}, overrides: { exchanges: { binance: { socketLifetimeMs: 2000 } } } }).exchanges.binance.socketLifetimeMs).toBe(2000);
  });

  it('control plane cannot bind beyond loopback', () => {
    const paths = issuesOf(() => loadConfig({ env: {}, overrides: { control: { host: '0.0.0.0' } } })).map((i) => i.path);
    expect(paths).toEqual(['control.host']);
  });

  it('environment overrides the file, and a bad env value names the variable path', () => {
    const f = join(dir, 'ok.json');
    writeFileSync(f, JSON.stringify({ risk: { maxOrderQty: 0.5, maxPositionPerSymbol: 1 } }));
    const c = loadConfig({
      file: f,
      env: { TICKWIRE__RISK__MAX_ORDER_QTY: '0.25', TICKWIRE__LOOP__MODE: 'precise', TICKWIRE_PRESET: 'testnet', TICKWIRE__KILL_SWITCH__FILE: '/tmp/kill' },
    });
    expect(c.risk.maxOrderQty).toBe(0.25);
    expect(c.loop.mode).toBe('precise');
    expect(c.exchanges.bybit.preset).toBe('testnet');
    expect(c.killSwitch.file).toBe('/tmp/kill');
    const issues = issuesOf(() => loadConfig({ env: { TICKWIRE__RISK__MAX_ORDR_QTY: '1' } }));
    expect(issues[0]?.path).toBe('env.TICKWIRE__RISK__MAX_ORDR_QTY');
    const bad = issuesOf(() => loadConfig({ env: { TICKWIRE__RISK__MAX_OPEN_ORDERS: 'many' } }));
    expect(bad[0]?.path).toBe('risk.maxOpenOrders');
    // order-rate budgets preallocate a ring of send times: a runaway value is refused by name, not allocated
    const huge = issuesOf(() => loadConfig({ env: {}, overrides: { risk: { maxOrdersPerSecond: 1_000_000_000 } } }));
    expect(huge[0]?.path).toBe('risk.maxOrdersPerSecond');
  });

  it('invalid JSON file is a config error', () => {
    const f = join(dir, 'broken.json');
    writeFileSync(f, '{ "risk": ');
    expect(() => loadConfig({ file: f, env: {} })).toThrow(ConfigError);
  });

  it('secrets: refuse a file readable by group/others, accept 0600, env pairs only', () => {
    const f = join(dir, 'secrets.json');
    writeFileSync(f, JSON.stringify({ binance: { apiKey: 'k', apiSecret: 's' } }));
    chmodSync(f, 0o644);
    const issues = issuesOf(() => loadSecrets(f, {}));
    expect(issues[0]?.path).toBe('secretsFile');
    expect(issues[0]?.message).toContain('0644');
    chmodSync(f, 0o600);
    expect(loadSecrets(f, {}).binance?.apiKey).toBe('k');
    expect(loadSecrets(undefined, { TICKWIRE_BYBIT_API_KEY: 'a', TICKWIRE_BYBIT_API_SECRET: 'b' }).bybit?.apiSecret).toBe('b');
    expect(() => loadSecrets(undefined, { TICKWIRE_BYBIT_API_KEY: 'a' })).toThrow(ConfigError);
  });

  it('secrets: a Binance Ed25519 key (env or file, PEM 0600) reaches the venue access the order gateways are built from', () => {
    const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const pemFile = join(dir, 'ed.pem');
    writeFileSync(pemFile, pem, { mode: 0o644 });
    const env = {
      TICKWIRE_BINANCE_API_KEY: 'k',
      TICKWIRE_BINANCE_API_SECRET: 's',
      TICKWIRE_BINANCE_ED25519_API_KEY: 'edk',
      TICKWIRE_BINANCE_ED25519_KEY_FILE: pemFile,
    };
    expect(issuesOf(() => loadSecrets(undefined, env))[0]?.path).toBe('env.TICKWIRE_BINANCE_ED25519_KEY_FILE'); // 0644 refused
    chmodSync(pemFile, 0o600);
    const sec = loadSecrets(undefined, env);
    expect(sec.binance).toMatchObject({ apiKey: 'k', apiSecret: 's', ed25519ApiKey: 'edk', ed25519PrivateKeyPem: pem });
    expect(issuesOf(() => loadSecrets(undefined, { TICKWIRE_BINANCE_ED25519_API_KEY: 'edk' }))[0]?.path).toBe('env.TICKWIRE_BINANCE_ED25519_KEY_FILE');
    // Ed25519 only, from the secrets file
    const f = join(dir, 'secrets-ed.json');
    writeFileSync(f, JSON.stringify({ binance: { ed25519ApiKey: 'edk2', ed25519KeyFile: pemFile } }), { mode: 0o600 });
    const onlyEd = loadSecrets(f, {});
    expect(onlyEd.binance?.ed25519ApiKey).toBe('edk2');
    expect(onlyEd.binance?.apiKey).toBeUndefined();
    // testnet: the preset's endpoints plus both key pairs
    const cfg = loadConfig({
      env: {},
      overrides: { exchanges: { binance: { preset: 'testnet' }, bybit: { enabled: false } }, instruments: [{ venue: 'binanceSpot', symbol: 'BTCUSDT' }] },
    });
    const a = accessFromConfig(cfg, sec).binanceSpot;
    expect(a).toMatchObject({ apiKey: 'k', apiSecret: 's', ed25519ApiKey: 'edk', ed25519PrivateKeyPem: pem });
    expect(a?.wsApiUrl).toBeTruthy();
    expect(accessFromConfig(cfg, onlyEd).binanceSpot?.apiKey).toBeUndefined();
  });
});

describe('example config', () => {
  it('src/config/tickwire.example.json is valid', () => {
    const c = loadConfig({ file: join(import.meta.dirname, '../../src/config/tickwire.example.json'), env: {} });
    expect(c.strategy.name).toBe('marketMaker');
    expect(c.killSwitch.file).toBe('./data/KILL');
  });
});
