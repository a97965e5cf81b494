/**
 * Kill switch.
 *
 * Triggers:
 * - signals: the first SIGINT/SIGTERM is a graceful stop (the `onGracefulStop` callback: stop trading, cancel,
 *   persist, exit 0); a second one (either) while stopping triggers the kill switch (`tickwire run` installs its own
 *   handler with the same rule, armed before the start; SIGUSR2 there is a latency dump only, never a kill).
 *   (SIGUSR1 is Node's inspector signal and is not used.)
 * - the control plane (`POST /kill`, `tickwire kill`);
 * - a file appearing at `killSwitch.file` (polled every `pollMs`);
 * - automatic, checked every `pollMs` off the hot path: drawdown (PnL < -maxDrawdown), reject rate over a window,
 *   a traded feed silent for longer than `feedStaleMs`, the p99 of order ack latency above `latencyP99Us`, and
 *   any journal write error (always on).
 *
 * On trigger (once): block every new order at once, cancel every open order (per order, then the venues'
 * cancel-all endpoints, algo/conditional included), verify by querying until nothing is open (re-issuing
 * cancel-all each round, up to `verifyTimeoutMs`), optionally flatten with reduce-only market orders, persist a
 * snapshot, write a JSON report and a latency dump (<data dir>/latency/<stamp>-kill/) to the data dir, then exit with `exitCode` or stay halted.
 * The report carries the time from the trigger to the last cancel acknowledged.
 */
import { existsSync } from 'node:fs';
import { mkdirPrivate, writeFilePrivate } from '../util/private.js';
import { join } from 'node:path';
import type { Engine } from './engine.js';
import { F } from '../model/botstate.js';
import { nowNs } from '../util/clock.js';
import { Hop } from '../util/hops.js';
import { dumpHistograms as dumpLatency } from '../util/monitor.js';
import { VENUES } from '../model/types.js';
import { cancelAndVerify } from './cancelall.js';
import type { KillSwitchConfig } from '../config/schema.js';
import type { Logger } from '../util/log.js';

export type KillSource = 'signal' | 'control' | 'file' | 'drawdown' | 'rejectRate' | 'feedStale' | 'latency' | 'journal' | 'manual';

export interface KillReport {
  source: KillSource;
  detail: string;
  triggeredAt: string;
  openOrdersAtTrigger: number;
  cancelsSent: number;
  cancelAcks: number;
  /** trigger -> last cancel acknowledged (event or cancel-all answer), ms */
  triggerToLastCancelAckMs: number;
  /** trigger -> the query that showed zero open orders, ms (-1 if it never did) */
  triggerToVerifiedMs: number;
  verified: boolean;
  remainingOpen: Array<{ venue: string; symbol: string; clientOrderId: string }>;
  verifyRounds: number;
  flattened: Array<{ instrument: string; qty: number; id: string | null }>;
  positions: Record<string, number>;
  pnl: number;
  reportFile: string;
  /** folder of the latency dump (src/util/monitor.ts format: dump.json + .hgrm per hop) */
  histogramFile: string;
  errors: string[];
}

export interface KillSwitchOptions {
  dataDir: string;
  logger?: Logger | undefined;
  /** called after the report when onTrigger is 'exit' (default: process.exit) */
  exit?: (code: number) => void;
  /** first SIGINT/SIGTERM */
  onGracefulStop?: () => void;
}

export class KillSwitch {
  private cfg: KillSwitchConfig;
  private readonly engine: Engine;
  private readonly o: KillSwitchOptions;
  private timer: NodeJS.Timeout | undefined;
  private pending: Promise<KillReport> | undefined;
  private signals = 0;
  private readonly sigHandler = (sig: NodeJS.Signals): void => this.onSignal(sig);
  private armed = false;
  report: KillReport | undefined;
  triggered = false;

  constructor(engine: Engine, cfg: KillSwitchConfig, o: KillSwitchOptions) {
    this.engine = engine;
    this.cfg = cfg;
    this.o = o;
  }

  configure(cfg: KillSwitchConfig): void {
    this.cfg = cfg;
  }

  armSignals(): void {
    if (this.armed) return;
    this.armed = true;
    process.on('SIGINT', this.sigHandler);
    process.on('SIGTERM', this.sigHandler);
  }

  private onSignal(sig: NodeJS.Signals): void {
    this.signals++;
    if (this.signals === 1 && this.o.onGracefulStop) {
      this.o.logger?.warn({ sig }, 'graceful stop (send the signal again for the kill switch)');
      this.o.onGracefulStop();
    } else void this.trigger('signal', `${sig} #${this.signals}`);
  }

  /** Start the file and automatic watchers. */
  watch(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.check(), this.cfg.pollMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.armed) {
      process.off('SIGINT', this.sigHandler);
      process.off('SIGTERM', this.sigHandler);
      this.armed = false;
    }
  }

  /** One round of the file and automatic checks; returns the trigger it fired, if any. */
  check(): KillSource | undefined {
    if (this.triggered) return undefined;
    const c = this.cfg;
    const e = this.engine;
    if (c.file !== undefined && existsSync(c.file)) return this.fire('file', `kill file ${c.file} present`);
    // trading without a working journal would lose the record of what was sent: stop at once
    if (e.journal && e.journal.writeErrors > 0)
      return this.fire('journal', `journal ${e.journal.path}: ${e.journal.writeErrors} write error(s): ${e.journal.lastError}`);
    if (c.maxDrawdown > 0) {
      const pnl = e.pnl();
      if (pnl < -c.maxDrawdown) return this.fire('drawdown', `PnL ${pnl.toFixed(2)} below -${c.maxDrawdown}`);
    }
    if (c.maxRejectRate > 0) {
      const r = e.rejectRate(c.rejectWindowMs);
      const n = r.sends + r.rejects;
      if (n >= c.minOrdersForRate && r.rejects / r.sends > c.maxRejectRate)
        return this.fire('rejectRate', `${r.rejects} rejects / ${r.sends} orders in ${c.rejectWindowMs} ms`);
    }
    if (c.feedStaleMs > 0) {
      const now = nowNs();
      for (const ins of e.instruments) {
        const last = e.state.get(ins.slot, F.lastMsgNs);
        if (last > 0 && now - last > c.feedStaleMs * 1e6)
          return this.fire('feedStale', `${ins.venue}:${ins.symbol} silent for ${((now - last) / 1e6).toFixed(0)} ms`);
      }
    }
    if (c.latencyP99Us > 0) {
      for (let v = 0; v < VENUES.length; v++) {
        const h = e.hops.total(Hop.Ack, v);
        if (h && h.totalCount >= 20) {
          const p99 = h.getValueAtPercentile(99) / 1000;
          if (p99 > c.latencyP99Us) return this.fire('latency', `${VENUES[v]} ack p99 ${p99.toFixed(0)} µs > ${c.latencyP99Us} µs`);
        }
      }
    }
    return undefined;
  }

  private fire(src: KillSource, detail: string): KillSource {
    void this.trigger(src, detail);
    return src;
  }

  /** Trigger (idempotent: later calls return the first run's report). */
  trigger(source: KillSource, detail = ''): Promise<KillReport> {
    if (!this.pending) {
      this.triggered = true;
      this.pending = this.run(source, detail);
    }
    return this.pending;
  }

  private async run(source: KillSource, detail: string): Promise<KillReport> {
    const e = this.engine;
    const t0 = nowNs();
    // 1. block at once
    e.block();
    const log = this.o.logger;
    log?.error({ source, detail }, 'KILL SWITCH');
    const errors: string[] = [];
    const openAtTrigger = e.store.openCount();
    let lastAckNs = t0;
    let acks = 0;
    const prevHook = e.onAfterEvent;
    e.onAfterEvent = (ev) => {
      prevHook?.(ev);
      if (ev.kind === 'cancel' || ev.kind === 'expire' || ev.kind === 'cancelReject' || ev.kind === 'fill' || ev.kind === 'reject') {
        lastAckNs = nowNs();
        if (ev.kind === 'cancel') acks++;
      }
    };
    const cancelsBefore = e.cancelsSent;
    // 2. cancel: per order, then every venue's cancel-all (algo/conditional included) and 3. verify by query,
    // retried until the venues answer (src/engine/cancelall.ts)
    e.cancelAll();
    const ins = e.instruments;
    const c = await cancelAndVerify(e.orders, ins, { timeoutMs: this.cfg.verifyTimeoutMs, logger: log, what: 'kill switch' });
    if (c.lastCancelAnswerNs > lastAckNs) lastAckNs = c.lastCancelAnswerNs;
    errors.push(...c.errors);
    const verified = c.verified;
    const verifiedNs = c.verifiedNs;
    const rounds = c.rounds;
    const remaining = c.remaining.map((o) => ({ venue: o.venue, symbol: o.symbol, clientOrderId: o.clientOrderId }));
    // events of the cancels still in flight (the query already saw them gone): let them land
    await new Promise((r) => setImmediate(r));
    // 4. flatten
    const flattened: KillReport['flattened'] = [];
    if (this.cfg.flatten) {
      for (const i of ins) {
        const pos = e.portfolio.position[i.slot] as number;
        // whole lots only: a spot position net of a fee paid in the base asset can hold a part of a lot
        const qty = Math.floor(Math.abs(pos) / i.lotUnits) * i.lotUnits;
        if (qty === 0) continue;
        const req = {
          slot: i.slot,
          side: pos > 0 ? ('SELL' as const) : ('BUY' as const),
          type: 'MARKET' as const,
          tif: 'IOC' as const,
          price: 0,
          qty,
          reduceOnly: i.venue === 'binanceUsdm' || i.venue === 'bybitLinear',
        };
        // the engine's one send path, through its kill-switch door (past the block and the strategy's limits)
        const id = e.sendFlatten(req);
        if (id === null) errors.push(`flatten ${i.symbol}: refused`);
        flattened.push({ instrument: `${i.venue}:${i.symbol}`, qty: e.portfolio.positionReal(i.slot), id });
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    e.onAfterEvent = prevHook;
    // 5. persist + report
    e.snapshot();
    const dir = this.o.dataDir;
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    mkdirPrivate(dir);
    const reportFile = join(dir, `kill-report-${stamp}.json`);
    const histogramFile = '';
    const positions: Record<string, number> = {};
    for (const i of ins) positions[`${i.venue}:${i.symbol}`] = e.portfolio.positionReal(i.slot);
    const report: KillReport = {
      source,
      detail,
      triggeredAt: new Date(Date.now() - (nowNs() - t0) / 1e6).toISOString(),
      openOrdersAtTrigger: openAtTrigger,
      cancelsSent: e.cancelsSent - cancelsBefore,
      cancelAcks: acks,
      triggerToLastCancelAckMs: (lastAckNs - t0) / 1e6,
      triggerToVerifiedMs: verifiedNs < 0 ? -1 : (verifiedNs - t0) / 1e6,
      verified,
      remainingOpen: verified ? [] : remaining,
      verifyRounds: rounds,
      flattened,
      positions,
      pnl: e.pnl(),
      reportFile,
      histogramFile,
      errors,
    };
    try {
      report.histogramFile = (await dumpLatency(join(dir, 'latency'), e.hops, 'kill')) ?? '';
    } catch (err) {
      errors.push(`histograms: ${(err as Error).message}`);
    }
    try {
      writeFilePrivate(reportFile, JSON.stringify(report, null, 2));
    } catch (err) {
      errors.push(`report: ${(err as Error).message}`);
    }
    this.report = report;
    log?.error({ report: { ...report, remainingOpen: report.remainingOpen.length } }, 'kill switch done');
    if (this.cfg.onTrigger === 'exit') {
      const code = this.cfg.exitCode;
      setImmediate(() => (this.o.exit ?? ((c: number) => process.exit(c)))(code));
    }
    return report;
  }
}
