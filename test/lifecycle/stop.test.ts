/**
 * Stops (issue 11): a stop leaves nothing open while the venue can be reached, retrying its cancels (bounded) until
 * the venue answers; --duration and signals work in every state; SIGUSR2 is a latency dump, never a kill.
 * The engine is the compiled CLI in a child process; the simulator runs here, so the test sees the exchange.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { until } from '../core/helpers.js';
import { keysEnv, lifecycleSuite, runCli, spotOrders, writeConfig, type Life } from './helpers.js';

const suite = lifecycleSuite('lifecycle-stop', 9, 1500);

const logOf = (dir: string): string => (existsSync(join(dir, 'engine.log')) ? readFileSync(join(dir, 'engine.log'), 'utf8') : '');

/** Start the engine and wait until it trades with at least one order resting on the exchange. */
async function trading(name: string, extra: Record<string, unknown> = {}): Promise<{ life: Life; dir: string }> {
  const dir = join(suite.root, name);
  const cfg = writeConfig(dir, suite.ep, extra);
  const life = runCli(['--config', cfg, '--duration', '60'], dir, keysEnv(suite.ep));
  await until(() => logOf(dir).includes('trading started') || life.proc.exitCode !== null, 20_000, 'trading started');
  expect(life.proc.exitCode, life.stderr()).toBeNull();
  const end = Date.now() + 15_000;
  while ((await spotOrders(suite.ep)).open === 0) {
    if (Date.now() > end) throw new Error('no resting order within 15 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  return { life, dir };
}

describe('a stop leaves nothing open while the venue can be reached', () => {
  it('an IP ban (418, Retry-After 2 s) just before the stop: the cancels wait it out and go through, nothing open, exit 0', { timeout: 60_000 }, async () => {
    const { life, dir } = await trading('ban');
    // the next REST request is answered 418: the gateway halts, and every request is refused locally until Retry-After
    suite.sim.inject({ kind: 'httpStatus', market: 'binanceSpot', status: 418, count: 1, retryAfterSec: 2 });
    await until(() => logOf(dir).includes('"event":"venue_halt"'), 10_000, 'the 418 reached the engine');
    life.proc.kill('SIGTERM');
    const code = await life.exited;
    expect((await spotOrders(suite.ep)).open).toBe(0);
    expect(code, life.stderr()).toBe(0);
    expect(logOf(dir)).toMatch(/cancel-all not verified yet: retrying/);
  });

  it('the venue answers 503 to the first cancels of the stop: retried until it answers, nothing open, exit 0', { timeout: 60_000 }, async () => {
    const { life } = await trading('unavailable');
    suite.sim.inject({ kind: 'httpStatus', market: 'binanceSpot', status: 503, count: 8 });
    life.proc.kill('SIGTERM');
    const code = await life.exited;
    expect((await spotOrders(suite.ep)).open).toBe(0);
    expect(code, life.stderr()).toBe(0);
  });
});

describe('signals and --duration work in every state', () => {
  it('--duration that ends during the start: the start is abandoned, nothing traded, exit 0', { timeout: 40_000 }, async () => {
    const dir = join(suite.root, 'duration-start');
    const cfg = writeConfig(dir, suite.ep);
    const before = await spotOrders(suite.ep);
    suite.sim.inject({ kind: 'latencyMs', market: 'binanceSpot', ms: 1500 });
    try {
      const life = runCli(['--config', cfg, '--duration', '1'], dir, keysEnv(suite.ep));
      expect(await life.exited).toBe(0);
      expect(life.stderr()).toMatch(/stopped \(duration\) before the start completed/);
    } finally {
      suite.sim.inject({ kind: 'latencyMs', market: 'binanceSpot', ms: 0 });
    }
    const after = await spotOrders(suite.ep);
    expect(after.all.length).toBe(before.all.length);
  });

  it('SIGUSR2 writes a latency dump and trading goes on; SIGTERM then stops with nothing open', { timeout: 60_000 }, async () => {
    const { life, dir } = await trading('usr2');
    const latency = join(dir, 'data', 'latency');
    const dumps = (): number => (existsSync(latency) ? readdirSync(latency).filter((f) => f.includes('signal')).length : 0);
    const n0 = dumps();
    life.proc.kill('SIGUSR2');
    await until(() => dumps() > n0, 10_000, 'a signal dump');
    // still trading: not killed, and new orders keep arriving after the dump
    const sent = (await spotOrders(suite.ep)).all.length;
    const end = Date.now() + 15_000;
    while ((await spotOrders(suite.ep)).all.length === sent && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    expect((await spotOrders(suite.ep)).all.length).toBeGreaterThan(sent);
    expect(life.proc.exitCode).toBeNull();
    expect(logOf(dir)).not.toMatch(/KILL SWITCH/);
    life.proc.kill('SIGTERM');
    expect(await life.exited).toBe(0);
    expect((await spotOrders(suite.ep)).open).toBe(0);
  });
});
