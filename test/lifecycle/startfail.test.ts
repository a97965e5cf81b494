/**
 * A start that fails half-way never trades (issue 11): for each failure point, `tickwire run` (the compiled CLI)
 * sends no order, cancels what was already open on the exchange (an orphan of an earlier life, adopted by
 * reconciliation), and exits 1 within seconds, naming the step. Asserted on the simulator's side: the account's
 * whole order history and its open orders.
 */
import { describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:net';
import { WebSocketServer } from 'ws';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { until } from '../core/helpers.js';
import { keysEnv, lifecycleSuite, placeOrphan, runCli, spotOrders, writeConfig } from './helpers.js';
import { rest } from '../sim/binance/helpers.js';

const suite = lifecycleSuite('startfail', 5, 1000);
let n = 0;

/** Runs one failing start: an orphan is open before; afterwards nothing is open and no new order was ever sent. */
async function failingStart(
  extra: Record<string, unknown>,
  prepare?: (dir: string) => void,
  gatewaysUp = true,
  env: Record<string, string> = {},
): Promise<{ code: number | null; stderr: string; dir: string }> {
  const dir = join(suite.root, `case-${++n}`);
  const orphan = `earlier-life-${n}`;
  await placeOrphan(suite.ep, orphan);
  const before = await spotOrders(suite.ep);
  expect(before.open).toBe(1);
  const cfg = writeConfig(dir, suite.ep, extra);
  prepare?.(dir);
  const life = runCli(['--config', cfg, '--duration', '60'], dir, { ...keysEnv(suite.ep), ...env });
  const code = await life.exited;
  const after = await spotOrders(suite.ep);
  // no order was sent: the account's history holds exactly what it held before
  expect(after.all.map((o) => o.clientOrderId).sort()).toEqual(before.all.map((o) => o.clientOrderId).sort());
  if (gatewaysUp) {
    // and nothing is open, whatever reconciliation had done with the orphan
    expect(after.open).toBe(0);
    expect(after.all.find((o) => o.clientOrderId === orphan)?.status).toBe('CANCELED');
  } else {
    // the start failed before any order gateway existed: nothing could be cancelled (nothing of this life was placed)
    await placeOrphanCleanup(orphan);
  }
  return { code, stderr: life.stderr(), dir };
}

async function placeOrphanCleanup(clientOrderId: string): Promise<void> {
  await rest(suite.ep, 'DELETE', '/api/v3/order', { symbol: 'BTCUSDT', origClientOrderId: clientOrderId }, { signed: true });
}

describe('a start that fails half-way never trades', () => {
  it('control plane cannot bind (port taken): no order, the orphan cancelled, exit 1 naming the control plane', { timeout: 40_000 }, async () => {
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const r = await failingStart({ control: { port } });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/control plane/);
    } finally {
      blocker.close();
    }
  });

  it('journal cannot be opened: no order, the orphan cancelled, exit 1 naming the journal', { timeout: 40_000 }, async () => {
    // the journal's path is taken by a directory: opening it fails after market data and order entry are up
    const r = await failingStart({}, (dir) => mkdirSync(join(dir, 'data', 'journal.ndjson'), { recursive: true }));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/journal/);
  });

  it('private stream cannot subscribe (the venue refuses userDataStream.subscribe): no order, the orphan cancelled, exit 1 naming the step', {
    timeout: 40_000,
  }, async () => {
    // a WS API that answers every request with an error: the user-data subscription is refused
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    wss.on('connection', (s) =>
      s.on('message', (d) => {
        const id = (JSON.parse(d.toString()) as { id?: unknown }).id ?? null;
        s.send(JSON.stringify({ id, status: 400, error: { code: -2015, msg: 'Invalid API-key, IP, or permissions for action.' } }));
      }),
    );
    await new Promise<void>((r) => wss.once('listening', () => r()));
    const refusing = `ws://127.0.0.1:${(wss.address() as { port: number }).port}/ws-api/v3`;
    try {
      const r = await failingStart({
        exchanges: {
          binance: { preset: 'sim', endpoints: { spotRest: suite.ep.restBaseUrl, spotWs: suite.ep.wsStreamBaseUrl, spotWsApi: refusing } },
          bybit: { enabled: false },
        },
      });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/private streams/);
      expect(r.stderr).toMatch(/userDataStream\.subscribe/);
    } finally {
      wss.close();
    }
  });

  it('order gateway logon refused (WS API session.logon with a wrong Ed25519 key): no order, the orphan cancelled, exit 1', { timeout: 40_000 }, async () => {
    const pem = join(suite.root, 'wrong-ed25519.pem');
    writeFileSync(pem, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, { mode: 0o600 });
    const r = await failingStart(
      {
        exchanges: {
          binance: {
            preset: 'sim',
            transport: 'wsapi',
            endpoints: { spotRest: suite.ep.restBaseUrl, spotWs: suite.ep.wsStreamBaseUrl, spotWsApi: suite.ep.wsApiUrl },
          },
          bybit: { enabled: false },
        },
      },
      undefined,
      true,
      {
        TICKWIRE_BINANCE_ED25519_API_KEY: suite.ep.ed25519ApiKey!,
        TICKWIRE_BINANCE_ED25519_KEY_FILE: pem,
      },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/order gateways \(logon\)/);
  });

  it('an instrument the venue does not list: no order, exit 1 naming it', { timeout: 40_000 }, async () => {
    const r = await failingStart(
      {
        instruments: [
          { venue: 'binanceSpot', symbol: 'BTCUSDT' },
          { venue: 'binanceSpot', symbol: 'DOGEUSDT' },
        ],
      },
      undefined,
      false,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/DOGEUSDT/);
  });
});

describe('stops work in every state', () => {
  it('SIGTERM during the start: the start is abandoned, nothing traded, exit 0', { timeout: 40_000 }, async () => {
    const dir = join(suite.root, 'sigterm-start');
    const cfg = writeConfig(dir, suite.ep, {
      strategy: { name: 'marketMaker', marketMaker: { venue: 'binanceSpot', symbol: 'BTCUSDT', halfSpreadBps: 0.001, size: 0.002 } },
    });
    const before = await spotOrders(suite.ep);
    // the simulator answers slowly, so the start is still under way when the signal comes
    suite.sim.inject({ kind: 'latencyMs', market: 'binanceSpot', ms: 1500 });
    try {
      const life = runCli(['--config', cfg, '--duration', '60'], dir, keysEnv(suite.ep));
      // the signal handlers are armed before this line is written; the slow simulator keeps the start going
      await until(() => existsSync(join(dir, 'engine.log')) && readFileSync(join(dir, 'engine.log'), 'utf8').includes('starting:'), 20_000, 'the start began');
      life.proc.kill('SIGTERM');
      const code = await life.exited;
      expect(code).toBe(0);
      expect(life.stderr()).toMatch(/before the start completed/);
    } finally {
      suite.sim.inject({ kind: 'latencyMs', market: 'binanceSpot', ms: 0 });
    }
    const after = await spotOrders(suite.ep);
    expect(after.all.length).toBe(before.all.length);
    expect(after.open).toBe(0);
    expect(readFileSync(join(dir, 'engine.log'), 'utf8')).toMatch(/stop requested while starting/);
  });
});
