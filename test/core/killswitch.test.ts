import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KillSwitch, type KillSource } from '../../src/engine/killswitch.js';
import { F } from '../../src/model/botstate.js';
import { Hop } from '../../src/util/hops.js';
import { nowNs } from '../../src/util/clock.js';
import { Refusal } from '../../src/risk/pretrade.js';
import { rig, rmDir, sleep, testConfig, tmpDir, until, type Rig } from './helpers.js';

let r: Rig | undefined;
let ks: KillSwitch | undefined;
const dirs: string[] = [];
afterEach(async () => {
  ks?.stop();
  ks = undefined;
  await r?.close();
  r = undefined;
  for (const d of dirs.splice(0)) rmDir(d);
});

/** Engine with resting orders on both venues. */
async function trading(ksOverrides: Record<string, unknown> = {}): Promise<{ r: Rig; ks: KillSwitch; dir: string }> {
  const dir = tmpDir('kill');
  dirs.push(dir);
  const cfg = testConfig({ persistence: { dir }, killSwitch: { pollMs: 10, verifyTimeoutMs: 2000, ...ksOverrides } });
  r = rig({ cfg, journalDir: dir });
  r.venue.seed();
  r.engine.start();
  for (const ins of r.engine.instruments) {
    const mid = r.state.get(ins.slot, F.mid);
    for (let i = 1; i <= 3; i++) {
      const id = r.engine.place({
        slot: ins.slot,
        side: 'BUY',
        type: 'LIMIT',
        tif: 'GTC',
        price: Math.floor((mid * (1 - 0.001 * i)) / ins.tickUnits) * ins.tickUnits,
        qty: ins.venue === 'bybitLinear' ? 2 : 100,
      });
      expect(id).not.toBeNull();
    }
  }
  const rr = r;
  await until(() => rr.engine.acks === 6, 3000, 'six acks');
  expect((await rr.venue.openOrders(rr.engine.instruments)).length).toBe(6);
  ks = new KillSwitch(r.engine, cfg.killSwitch, { dataDir: dir, exit: () => {} });
  return { r, ks, dir };
}

async function assertKilled(rr: Rig, k: KillSwitch, source: KillSource): Promise<void> {
  await until(() => k.report !== undefined, 5000, 'kill report');
  const rep = k.report!;
  expect(rep.source).toBe(source);
  expect(rep.verified).toBe(true);
  expect(rep.openOrdersAtTrigger).toBe(6);
  expect(rep.triggerToLastCancelAckMs).toBeGreaterThanOrEqual(0);
  expect((await rr.venue.openOrders(rr.engine.instruments)).length).toBe(0);
  await until(() => rr.engine.store.openCount() === 0, 2000, 'ledger empty');
  expect(existsSync(rep.reportFile)).toBe(true);
  expect(JSON.parse(readFileSync(rep.reportFile, 'utf8')).verified).toBe(true);
  expect(existsSync(rep.histogramFile)).toBe(true);
  // new orders are refused, counted under kill_switch
  const s = rr.engine.instruments[0]!.slot;
  expect(rr.engine.place({ slot: s, side: 'BUY', type: 'LIMIT', tif: 'GTC', price: rr.state.get(s, F.bidPx), qty: 10 })).toBeNull();
  expect(rr.engine.risk.refusals[Refusal.KillSwitch]).toBeGreaterThan(0);
}

describe('kill switch leaves zero open orders on both venues', () => {
  it('control plane / manual trigger', async () => {
    const t = await trading();
    await t.ks.trigger('control', 'test');
    await assertKilled(t.r, t.ks, 'control');
  });

  it('file trigger', async () => {
    const { r, ks, dir } = await trading({ file: join(tmpDir('kf'), 'KILL') });
    dirs.push(join(ks['cfg'].file!, '..'));
    ks.watch();
    await sleep(30);
    expect(ks.triggered).toBe(false);
    writeFileSync(ks['cfg'].file!, '');
    await assertKilled(r, ks, 'file');
    expect(dir).toBeTruthy();
  });

  it('drawdown trigger', async () => {
    const t = await trading({ maxDrawdown: 1 });
    t.r.engine.portfolio.cash[0] = -1000; // a loss of 1000 quote
    expect(t.ks.check()).toBe('drawdown');
    await assertKilled(t.r, t.ks, 'drawdown');
  });

  it('reject-rate trigger', async () => {
    const t = await trading({ maxRejectRate: 0.3, minOrdersForRate: 4 }); // 4 rejects of 10 orders sent
    const s = t.r.engine.instruments[0]!.slot;
    // post-only orders that would take: the venue rejects them
    for (let i = 0; i < 4; i++) t.r.engine.place({ slot: s, side: 'BUY', type: 'LIMIT', tif: 'POST_ONLY', price: t.r.state.get(s, F.askPx) + 10, qty: 10 });
    await until(() => t.r.engine.rejects === 4, 2000, 'rejects');
    expect(t.ks.check()).toBe('rejectRate');
    await assertKilled(t.r, t.ks, 'rejectRate');
  });

  it('stale-feed trigger', async () => {
    // a threshold of 1 s (a loaded machine can starve the paper feed for 50 ms, not for a second); every slot fresh,
    // then slot 0 silent since the process' first nanosecond (nowNs counts from the process start: wait until that
    // is more than the threshold ago)
    const t = await trading({ feedStaleMs: 1_000 });
    for (const ins of t.r.engine.instruments) t.r.state.set(ins.slot, F.lastMsgNs, nowNs());
    expect(t.ks.check()).toBeUndefined();
    while (nowNs() < 1_500e6) await new Promise((r) => setTimeout(r, 50));
    t.r.state.set(0, F.lastMsgNs, 1);
    expect(t.ks.check()).toBe('feedStale');
    await assertKilled(t.r, t.ks, 'feedStale');
  });

  it('latency p99 trigger', async () => {
    const t = await trading({ latencyP99Us: 1000 });
    for (let i = 0; i < 50; i++) t.r.hops.record(Hop.Ack, 0, 5e6);
    expect(t.ks.check()).toBe('latency');
    await assertKilled(t.r, t.ks, 'latency');
  });

  it('journal write error trigger', async () => {
    const t = await trading();
    const j = t.r.journal!;
    const jj = j as unknown as { fd: number };
    const realFd = jj.fd;
    jj.fd = 1_000_000; // the file goes away under the journal (a descriptor no process has: EBADF)
    j.append({ t: 'mark', what: 'lost', ms: 0 });
    j.flush();
    expect(j.writeErrors).toBe(1);
    expect(t.ks.check()).toBe('journal');
    await until(() => t.ks.report !== undefined, 5000, 'kill report');
    expect(t.ks.report!.detail).toContain('EBADF');
    expect((await t.r.venue.openOrders(t.r.engine.instruments)).length).toBe(0);
    jj.fd = realFd;
  });

  it('signals: first SIGTERM is a graceful stop, the second is the kill switch', async () => {
    const t = await trading();
    let graceful = 0;
    const k = new KillSwitch(t.r.engine, t.r.cfg.killSwitch, { dataDir: dirs[0]!, exit: () => {}, onGracefulStop: () => graceful++ });
    ks?.stop();
    ks = k;
    k.armSignals();
    process.kill(process.pid, 'SIGTERM');
    await until(() => graceful === 1, 2000, 'graceful stop');
    expect(k.triggered).toBe(false);
    process.kill(process.pid, 'SIGTERM');
    await assertKilled(t.r, k, 'signal');
  });

  it('exit mode calls exit with the configured code after the report; flatten closes the position', async () => {
    const t = await trading({ onTrigger: 'exit', exitCode: 7, flatten: true });
    const s = t.r.engine.slotOf('bybitLinear', 'BTCUSDT');
    t.r.engine.place({ slot: s, side: 'BUY', type: 'LIMIT', tif: 'IOC', price: t.r.state.get(s, F.askPx), qty: 2 });
    await until(() => t.r.engine.position(s) === 2, 2000, 'position');
    let code = -1;
    const k = new KillSwitch(t.r.engine, t.r.engine.config.killSwitch, { dataDir: dirs[0]!, exit: (c) => (code = c) });
    ks = k;
    const rep = await k.trigger('control');
    await until(() => code === 7, 2000, 'exit(7)');
    expect(rep.flattened).toEqual([{ instrument: 'bybitLinear:BTCUSDT', qty: 0.002, id: expect.any(String) }]);
    await until(() => t.r.engine.position(s) === 0, 2000, 'flat');
  });
});
