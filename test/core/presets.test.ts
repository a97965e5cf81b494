/**
 * Presets (issue 13, "Go/no-go before real money"): testnet, demo and mainnet per exchange with the hosts of
 * ../shared/exchange/{binance,bybit}.md; Bybit demo has no trade WebSocket, so order entry there is REST and a config
 * asking for wsapi is refused naming the field; a real preset without credentials is refused before any network.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { requireCredentials } from '../../src/config/secrets.js';
import { accessFromConfig } from '../../src/exchange/endpoints.js';
import { PRESETS } from '../../src/config/presets.js';

const both = [
  { venue: 'binanceSpot', symbol: 'BTCUSDT' },
  { venue: 'binanceUsdm', symbol: 'BTCUSDT' },
  { venue: 'bybitSpot', symbol: 'BTCUSDT' },
  { venue: 'bybitLinear', symbol: 'BTCUSDT' },
];
const keys = { binance: { apiKey: 'k', apiSecret: 's' }, bybit: { apiKey: 'k2', apiSecret: 's2' } };

function issues(fn: () => unknown): Array<{ path: string; message: string }> {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e.issues;
    throw e;
  }
  return [];
}

describe('presets', () => {
  it('every exchange has testnet, demo and mainnet, each an https/wss URL or empty (no WS order entry)', () => {
    for (const ex of ['binance', 'bybit'] as const)
      for (const p of ['testnet', 'demo', 'mainnet'] as const)
        for (const [k, v] of Object.entries(PRESETS[ex][p])) expect(v, `${ex}.${p}.${k}`).toMatch(/^(https:\/\/|wss:\/\/|$)/);
  });

  it('demo: Binance Spot on demo-api / demo-stream / demo-ws-api, USD-M on demo-fapi', () => {
    const cfg = loadConfig({ env: { TICKWIRE_PRESET: 'demo' }, overrides: { instruments: both, strategy: { name: 'none' } } });
    expect(cfg.exchanges.binance.preset).toBe('demo');
    const a = accessFromConfig(cfg, keys);
    expect(a.binanceSpot).toMatchObject({
      restBaseUrl: 'https://demo-api.binance.com',
      wsStreamBaseUrl: 'wss://demo-stream.binance.com:9443',
      wsApiUrl: 'wss://demo-ws-api.binance.com/ws-api/v3',
    });
    expect(a.binanceUsdm?.restBaseUrl).toBe('https://demo-fapi.binance.com');
  });

  it('Bybit demo: REST and the private stream on demo hosts, public streams of mainnet, no trade WS (order entry over REST)', () => {
    const cfg = loadConfig({ env: {}, overrides: { exchanges: { bybit: { preset: 'demo' } }, instruments: both, strategy: { name: 'none' } } });
    const a = accessFromConfig(cfg, keys);
    for (const v of ['bybitSpot', 'bybitLinear'] as const) {
      expect(a[v]?.restBaseUrl).toBe('https://api-demo.bybit.com');
      expect(a[v]?.wsStreamBaseUrl).toBe('wss://stream.bybit.com');
      expect(a[v]?.wsPrivateUrl).toBe('wss://stream-demo.bybit.com/v5/private');
      expect(a[v]?.wsApiUrl).toBeUndefined();
    }
    // asking for the trade WS there is refused, naming the field and the reason
    const bad = issues(() =>
      loadConfig({ env: {}, overrides: { exchanges: { bybit: { preset: 'demo', transport: 'wsapi' } }, instruments: both, strategy: { name: 'none' } } }),
    );
    expect(bad).toHaveLength(1);
    expect(bad[0]?.path).toBe('exchanges.bybit.transport');
    expect(bad[0]?.message).toMatch(/no trade WebSocket/);
    // testnet has one: wsapi is fine there
    expect(
      issues(() =>
        loadConfig({ env: {}, overrides: { exchanges: { bybit: { preset: 'testnet', transport: 'wsapi' } }, instruments: both, strategy: { name: 'none' } } }),
      ),
    ).toEqual([]);
  });

  it('a real preset without credentials is refused before any network, naming the preset', () => {
    for (const preset of ['testnet', 'demo', 'mainnet']) {
      const cfg = loadConfig({
        env: {},
        overrides: { exchanges: { bybit: { preset }, binance: { enabled: false } }, instruments: [both[3]], strategy: { name: 'none' } },
      });
      const got = issues(() => requireCredentials(cfg, {}));
      expect(got[0]?.message).toContain(`preset ${preset}`);
    }
  });
});
