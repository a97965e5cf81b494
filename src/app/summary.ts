/** End-of-run summary of `tickwire run`: one object, printed for humans or written as JSON. */
import type { Engine } from '../engine/engine.js';
import type { Wiring } from './wiring.js';
import { HOP_NAMES, type Hop } from '../util/hops.js';
import { VENUES } from '../model/types.js';
import { REFUSAL_NAMES } from '../risk/pretrade.js';
import type { KillReport } from '../engine/killswitch.js';

export interface HopSummary {
  hop: string;
  venue: string;
  count: number;
  p50Us: number;
  p99Us: number;
  p999Us: number;
  maxUs: number;
}

export interface RunSummary {
  mode: string;
  durationSec: number;
  strategy: string | null;
  trading: string;
  orders: { sent: number; acked: number; rejected: number; canceled: number; expired: number; openAtEnd: number };
  fills: number;
  volumeQuote: number;
  positions: Record<string, number>;
  pnlQuote: number;
  rejectsByReason: Record<string, number>;
  riskRefusals: Record<string, number>;
  strategyErrors: number;
  mdFrames: Record<string, number>;
  bookResyncs: Record<string, number>;
  loop: { mode: string; periodMs: number; ticks: number; skipped: number; bookEvents: number };
  latency: HopSummary[];
  killSwitch: KillReport | null;
  recovery: unknown;
}

const us = (ns: number): number => Math.round(ns / 100) / 10;

export function hopSummaries(engine: Engine): HopSummary[] {
  const out: HopSummary[] = [];
  for (let h = 0; h < HOP_NAMES.length; h++) {
    for (let v = 0; v <= VENUES.length; v++) {
      const hist = engine.hops.total(h as Hop, v);
      if (!hist || hist.totalCount === 0) continue;
      out.push({
        hop: HOP_NAMES[h] as string,
        venue: engine.hops.venueName(v),
        count: hist.totalCount,
        p50Us: us(hist.getValueAtPercentile(50)),
        p99Us: us(hist.getValueAtPercentile(99)),
        p999Us: us(hist.getValueAtPercentile(99.9)),
        maxUs: us(hist.maxValue),
      });
    }
  }
  return out;
}

export function buildSummary(engine: Engine, wiring: Wiring, durationSec: number, kill: KillReport | undefined, recovery: unknown): RunSummary {
  const positions: Record<string, number> = {};
  for (const i of engine.instruments) positions[`${i.venue}:${i.symbol}`] = engine.portfolio.positionReal(i.slot);
  const refusals: Record<string, number> = {};
  for (let i = 1; i < REFUSAL_NAMES.length; i++)
    if ((engine.risk.refusals[i] as number) > 0) refusals[REFUSAL_NAMES[i] as string] = engine.risk.refusals[i] as number;
  return {
    mode: String(wiring.describe()['mode'] ?? wiring.kind),
    durationSec: Math.round(durationSec * 10) / 10,
    strategy: engine.runner ? engine.runner.strategy.name + (engine.runner.disabled ? ' (disabled)' : '') : null,
    trading: engine.trading,
    orders: {
      sent: engine.ordersSent,
      acked: engine.acks,
      rejected: engine.rejects,
      canceled: engine.cancels,
      expired: engine.expires,
      openAtEnd: engine.store.openCount(),
    },
    fills: engine.portfolio.fills,
    volumeQuote: Math.round(engine.portfolio.volumeQuote * 100) / 100,
    positions,
    pnlQuote: Math.round(engine.pnl() * 1e4) / 1e4,
    rejectsByReason: Object.fromEntries(engine.rejectsByReason),
    riskRefusals: refusals,
    strategyErrors: engine.runner?.errors ?? 0,
    mdFrames: wiring.frames(),
    bookResyncs: wiring.resyncs(),
    loop: {
      mode: engine.loop.mode,
      periodMs: engine.loop.periodNs / 1e6,
      ticks: engine.loop.ticks,
      skipped: engine.loop.skipped,
      bookEvents: engine.loop.bookEvents,
    },
    latency: hopSummaries(engine),
    killSwitch: kill ?? null,
    recovery,
  };
}

export function formatSummary(s: RunSummary): string {
  const L: string[] = [];
  L.push(`tickwire run: ${s.durationSec} s, ${s.mode}, strategy ${s.strategy ?? 'none'}, trading ${s.trading}`);
  const o = s.orders;
  L.push(`  orders   sent ${o.sent}, acked ${o.acked}, rejected ${o.rejected}, canceled ${o.canceled}, expired ${o.expired}, open at end ${o.openAtEnd}`);
  L.push(`  fills    ${s.fills} (volume ${s.volumeQuote} quote)`);
  L.push(
    `  position ${Object.entries(s.positions)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  L.push(`  PnL      ${s.pnlQuote} quote (cash + position net of base fees at mid - quote and valued fees)`);
  L.push(
    `  rejects  ${
      Object.keys(s.rejectsByReason).length
        ? Object.entries(s.rejectsByReason)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')
        : 'none'
    }`,
  );
  L.push(
    `  risk     ${
      Object.keys(s.riskRefusals).length
        ? Object.entries(s.riskRefusals)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')
        : 'no refusals'
    }`,
  );
  L.push(
    `  md       frames ${Object.entries(s.mdFrames)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}; resyncs ${Object.entries(s.bookResyncs)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  L.push(`  loop     ${s.loop.mode} ${s.loop.periodMs} ms: ${s.loop.ticks} ticks, ${s.loop.skipped} skipped, ${s.loop.bookEvents} book events`);
  if (s.killSwitch)
    L.push(
      `  KILL     ${s.killSwitch.source}: ${s.killSwitch.detail}; trigger -> last cancel ack ${s.killSwitch.triggerToLastCancelAckMs.toFixed(2)} ms; verified ${s.killSwitch.verified}`,
    );
  if (s.latency.length) {
    L.push('  latency (µs)          venue         count        p50        p99      p99.9        max');
    for (const h of s.latency) {
      L.push(
        `    ${h.hop.padEnd(20)}${h.venue.padEnd(12)}${String(h.count).padStart(8)}${h.p50Us.toFixed(1).padStart(11)}${h.p99Us.toFixed(1).padStart(11)}${h.p999Us.toFixed(1).padStart(11)}${h.maxUs.toFixed(1).padStart(11)}`,
      );
    }
  }
  return L.join('\n') + '\n';
}
