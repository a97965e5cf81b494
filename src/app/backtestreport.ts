/**
 * The backtest's report: `report.json` (the figures) and `report.html` (one self-contained page: inline SVG plots and
 * tables, no script, no external asset), both 0600 in a 0700 directory.
 *
 * The page is polyglot markup: HTML5 that is also well-formed XML (the test parses it both ways in Chromium).
 *
 * report.json: every section but `wallClock` depends only on the inputs (captures, config, strategy, seed), so two
 * backtests of the same inputs compare byte for byte once `wallClock` is removed; `wallClock` holds what the machine
 * decides: when it ran, how long it took, the speed, the input paths and the engine's latency hops (monotonic ns).
 * Numbers are rounded to 10 significant digits (figures, not bit patterns).
 */
import { join } from 'node:path';
import type { Engine } from '../engine/engine.js';
import { F } from '../model/botstate.js';
import { REFUSAL_NAMES } from '../risk/pretrade.js';
import { HOP_NAMES, VENUE_NAMES, type HopRecorder } from '../util/hops.js';
import { escapeXml, lineChartSvg, percentilePlotSvg, type LineSeries, type PlotSeries } from '../util/plot.js';
import { mkdirPrivate, writeFilePrivate } from '../util/private.js';

export const REPORT_FORMAT = 'tickwire-backtest/1';

/** One point of the PnL curve (recorded time). */
export interface Sample {
  tMs: number;
  /** PnL in quote currency, positions marked to mid, net of fees */
  pnl: number;
  /** peak PnL so far - PnL (>= 0) */
  drawdown: number;
  /** position per instrument (base units), in the order of `replay.instruments` */
  positions: number[];
}

export interface HopStats {
  hop: string;
  venue: string;
  count: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
  p999Us: number;
  maxUs: number;
}

export interface BacktestReport {
  format: string;
  inputs: {
    captures: Array<{ name: string; sha256: string; bytes: number; events: number }>;
    configSha256: string;
    /** a module: its file name and the SHA-256 of its bytes (not of what it imports) */
    strategy: { kind: 'builtin' | 'module'; name: string; sha256?: string };
    seed: number;
    drainMs: number;
    loopPeriodMs: number;
  };
  replay: {
    start: string;
    end: string;
    durationMs: number;
    steps: number;
    applied: number;
    skipped: number;
    ticks: number;
    instruments: Array<{ venue: string; symbol: string; tickSize: string; stepSize: string; lastMid: number }>;
  };
  pnl: {
    final: number;
    /**
     * per instrument: PnL (quote: cash flows + the position marked to its last mid - fees valued in quote), position
     * (base), its average entry price, realized PnL (quote, before fees), fees (valued in quote) and fees paid in base
     */
    byInstrument: Record<string, { pnl: number; position: number; avgPrice: number; realized: number; fees: number; feesBase: number }>;
    series: { tMs: number[]; pnl: number[]; drawdown: number[]; positions: Record<string, number[]> };
  };
  drawdown: { max: number; at: string; peak: number };
  fills: {
    count: number;
    maker: number;
    taker: number;
    volumeQuote: number;
    byInstrument: Record<string, { fills: number; maker: number; taker: number; qty: number; quote: number }>;
    /** recorded times of the fills (ms), for the plot */
    tMs: number[];
  };
  /** fees paid per commission asset (asset units; negative: rebates) */
  fees: Record<string, number>;
  orders: {
    sent: number;
    acks: number;
    cancelsSent: number;
    cancels: number;
    expires: number;
    rejects: number;
    rejectsByReason: Record<string, number>;
    riskRefusals: Record<string, number>;
    /** orders sent per fill (null: no fill) */
    perFill: number | null;
  };
  strategy: { name: string; errors: number; disabled: boolean; lastError: string } | null;
  stop: { cancelVerified: boolean; openAfterStop: number; errors: string[] };
  wallClock: {
    startedAt: string;
    finishedAt: string;
    elapsedMs: number;
    speed: string;
    captures: string[];
    config: string | null;
    hops: HopStats[];
  };
}

/** 10 significant digits: the figure, without the last bits of float noise in the file. */
function r(v: number): number {
  return Number.isFinite(v) ? Number(v.toPrecision(10)) : 0;
}

function sorted<T>(m: Record<string, T> | Map<string, T>): Record<string, T> {
  const e = m instanceof Map ? [...m.entries()] : Object.entries(m);
  return Object.fromEntries(e.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
}

/**
 * The engine's own hops in a backtest: market data written -> decision -> risk -> order handed to the venue. The
 * venue's answers (`ack`, `fill`) are left out: against the in-process matching core they measure a setImmediate and
 * how long an order rested in wall-clock time, not a venue.
 */
export const BACKTEST_HOPS: readonly string[] = ['state_write', 'recv_to_state', 'decide', 'risk', 'sign', 'write', 'tick_to_trade'];

/** Percentiles (µs) of every engine hop (`BACKTEST_HOPS`) and venue that recorded anything. */
export function hopPercentiles(hops: HopRecorder): HopStats[] {
  const out: HopStats[] = [];
  HOP_NAMES.forEach((name, h) => {
    if (!BACKTEST_HOPS.includes(name)) return;
    VENUE_NAMES.forEach((venue, v) => {
      const hist = hops.total(h, v);
      if (!hist || hist.totalCount === 0) return;
      // a percentile is a bucket's upper edge: never above the largest value seen
      const us = (p: number): number => r(Math.min(hist.getValueAtPercentile(p), hist.maxValue) / 1000);
      out.push({ hop: name, venue, count: hist.totalCount, p50Us: us(50), p90Us: us(90), p99Us: us(99), p999Us: us(99.9), maxUs: r(hist.maxValue / 1000) });
    });
  });
  return out;
}

export interface ReportParts {
  inputs: BacktestReport['inputs'];
  replay: {
    startMs: number;
    endMs: number;
    steps: number;
    applied: number;
    skipped: number;
    ticks: number;
    instruments: BacktestReport['replay']['instruments'];
  };
  engine: Engine;
  fills: {
    count: number;
    maker: number;
    taker: number;
    byInstrument: Map<string, { fills: number; maker: number; taker: number; qty: number; quote: number }>;
  };
  fillTimes: number[];
  samples: Sample[];
  drawdown: { max: number; atMs: number; peak: number };
  stop: { verified: boolean; remaining: number; errors: string[] };
  wallClock: BacktestReport['wallClock'];
}

export function buildReport(p: ReportParts): BacktestReport {
  const e = p.engine;
  const pf = e.portfolio;
  const keys = p.replay.instruments.map((i) => `${i.venue}:${i.symbol}`);
  const byInstrument: BacktestReport['pnl']['byInstrument'] = {};
  for (const ins of e.instruments) {
    const f = pf.of(ins.venue, ins.symbol);
    const pS = 10 ** ins.priceDecimals;
    const qS = 10 ** ins.qtyDecimals;
    const mid = e.state.get(ins.slot, F.mid);
    byInstrument[`${ins.venue}:${ins.symbol}`] = {
      pnl: r(f.cash - f.fees + (f.qty !== 0 && mid > 0 ? (mid / pS) * (f.qty / qS) : 0)),
      position: r(f.qty / qS),
      avgPrice: r(f.avgPrice / pS),
      realized: r(f.realized / (pS * qS)),
      fees: r(f.fees),
      feesBase: r(f.feesBase),
    };
  }
  const refusals: Record<string, number> = {};
  for (let i = 1; i < e.risk.refusals.length; i++) if ((e.risk.refusals[i] as number) > 0) refusals[REFUSAL_NAMES[i] as string] = e.risk.refusals[i] as number;
  const positions: Record<string, number[]> = {};
  keys.forEach((k, i) => {
    positions[k] = p.samples.map((s) => r(s.positions[i] ?? 0));
  });
  const fillsBy: BacktestReport['fills']['byInstrument'] = {};
  for (const [k, v] of Object.entries(sorted(p.fills.byInstrument)))
    fillsBy[k] = { fills: v.fills, maker: v.maker, taker: v.taker, qty: r(v.qty), quote: r(v.quote) };
  const fees: Record<string, number> = {};
  for (const [a, v] of Object.entries(sorted(pf.feesByAsset()))) fees[a] = r(v);
  const runner = e.runner;
  return {
    format: REPORT_FORMAT,
    inputs: p.inputs,
    replay: {
      start: new Date(p.replay.startMs).toISOString(),
      end: new Date(p.replay.endMs).toISOString(),
      durationMs: r(p.replay.endMs - p.replay.startMs),
      steps: p.replay.steps,
      applied: p.replay.applied,
      skipped: p.replay.skipped,
      ticks: p.replay.ticks,
      instruments: p.replay.instruments.map((i) => ({ ...i, lastMid: r(i.lastMid) })),
    },
    pnl: {
      final: r(e.pnl()),
      byInstrument,
      series: {
        tMs: p.samples.map((s) => r(s.tMs)),
        pnl: p.samples.map((s) => r(s.pnl)),
        drawdown: p.samples.map((s) => r(s.drawdown)),
        positions,
      },
    },
    drawdown: { max: r(p.drawdown.max), at: new Date(p.drawdown.atMs).toISOString(), peak: r(p.drawdown.peak) },
    fills: {
      count: p.fills.count,
      maker: p.fills.maker,
      taker: p.fills.taker,
      volumeQuote: r(pf.volumeQuote),
      byInstrument: fillsBy,
      tMs: p.fillTimes.map(r),
    },
    fees,
    orders: {
      sent: e.ordersSent,
      acks: e.acks,
      cancelsSent: e.cancelsSent,
      cancels: e.cancels,
      expires: e.expires,
      rejects: e.rejects,
      rejectsByReason: sorted(Object.fromEntries(e.rejectsByReason)),
      riskRefusals: refusals,
      perFill: p.fills.count > 0 ? r(e.ordersSent / p.fills.count) : null,
    },
    strategy: runner ? { name: runner.strategy.name, errors: runner.errors, disabled: runner.disabled, lastError: runner.lastError } : null,
    stop: { cancelVerified: p.stop.verified, openAfterStop: p.stop.remaining, errors: p.stop.errors },
    wallClock: p.wallClock,
  };
}

/** report.json without its wall-clock section: what two backtests of the same inputs must agree on, byte for byte. */
export function deterministicPart(report: BacktestReport | Record<string, unknown>): string {
  const { wallClock: _w, ...rest } = report as Record<string, unknown>;
  return JSON.stringify(rest, null, 2);
}

const STYLE = `body{font-family:sans-serif;margin:24px;color:#222;max-width:1000px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:right;font-size:13px}
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}.note{color:#666;font-size:12px}
.kpi{display:inline-block;margin:4px 18px 4px 0}.kpi b{display:block;font-size:20px}`;

function table(head: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number | null>>): string {
  const cell = (v: string | number | null): string => escapeXml(v === null ? '–' : String(v));
  return (
    `<table><thead><tr>${head.map((h) => `<th>${escapeXml(h)}</th>`).join('')}</tr></thead><tbody>` +
    rows.map((row) => `<tr>${row.map((v) => `<td>${cell(v)}</td>`).join('')}</tr>`).join('') +
    '</tbody></table>'
  );
}

function kpi(label: string, v: string | number | null): string {
  return `<span class="kpi">${escapeXml(label)}<b>${escapeXml(v === null ? '–' : String(v))}</b></span>`;
}

/** The HTML page of a report: inline SVG plots (PnL, drawdown, positions, hop distributions) and tables. */
export function reportHtml(rep: BacktestReport, hops?: HopRecorder): string {
  const s = rep.pnl.series;
  const pts = (ys: number[]): Array<[number, number]> => s.tMs.map((t, i) => [t, ys[i] ?? 0]);
  const pnlSvg = lineChartSvg([{ label: 'PnL (quote, marked to mid, net of fees)', points: pts(s.pnl) }], {
    title: 'PnL over time',
    timeX: true,
    xLabel: 'recorded time (UTC)',
    yLabel: 'PnL',
  });
  const ddSvg = lineChartSvg([{ label: 'drawdown (peak PnL - PnL)', points: pts(s.drawdown.map((d) => -d)) }], {
    title: `Drawdown (max ${rep.drawdown.max})`,
    timeX: true,
    fill: true,
    xLabel: 'recorded time (UTC)',
    yLabel: '- drawdown',
  });
  const posSeries: LineSeries[] = Object.entries(s.positions)
    .filter(([, v]) => v.some((x) => x !== 0))
    .map(([k, v]) => ({ label: k, points: pts(v), step: true }));
  const posSvg = posSeries.length > 0 ? lineChartSvg(posSeries, { title: 'Position (base units)', timeX: true, xLabel: 'recorded time (UTC)' }) : '';
  const hopSeries: PlotSeries[] = [];
  if (hops) {
    for (const h of rep.wallClock.hops) {
      const hist = hops.total(HOP_NAMES.indexOf(h.hop as (typeof HOP_NAMES)[number]), VENUE_NAMES.indexOf(h.venue));
      if (hist && hist.totalCount > 0) hopSeries.push({ label: `${h.hop} ${h.venue}`, histogram: hist });
    }
  }
  const hopSvg = hopSeries.length > 0 ? percentilePlotSvg(hopSeries, { title: 'Engine latency hops (wall clock)', height: 420 }) : '';
  const o = rep.orders;
  const parts: string[] = [];
  // polyglot markup (HTML5 that is also well-formed XML): the test parses it as both
  parts.push(
    `<!DOCTYPE html>\n<html xmlns="http://www.w3.org/1999/xhtml" lang="en"><head><meta charset="utf-8"/><title>tickwire backtest: ${escapeXml(rep.inputs.strategy.name)}</title>`,
  );
  parts.push(`<style>${STYLE}</style></head><body>`);
  parts.push(`<h1>Backtest: ${escapeXml(rep.inputs.strategy.name)} on ${escapeXml(rep.inputs.captures.map((c) => c.name).join(', '))}</h1>`);
  parts.push(
    `<div>${kpi('PnL', rep.pnl.final)}${kpi('max drawdown', rep.drawdown.max)}${kpi('fills', rep.fills.count)}${kpi('orders per fill', o.perFill)}${kpi(
      'volume (quote)',
      rep.fills.volumeQuote,
    )}${kpi('rejects', o.rejects)}</div>`,
  );
  parts.push(
    `<p class="note">recorded ${escapeXml(rep.replay.start)} – ${escapeXml(rep.replay.end)}; ${rep.replay.steps} events, ${rep.replay.ticks} loop ticks; stop: ${
      rep.stop.cancelVerified ? 'everything cancelled and verified' : `${rep.stop.openAfterStop} order(s) left open`
    }</p>`,
  );
  parts.push(`<h2>PnL</h2>${pnlSvg}${ddSvg}${posSvg}`);
  parts.push(
    table(
      ['instrument', 'PnL', 'position', 'avg price', 'realized', 'fees (quote)', 'fees (base)'],
      Object.entries(rep.pnl.byInstrument).map(([k, v]) => [k, v.pnl, v.position, v.avgPrice, v.realized, v.fees, v.feesBase]),
    ),
  );
  parts.push('<h2>Fills</h2>');
  parts.push(
    table(
      ['instrument', 'fills', 'maker', 'taker', 'qty', 'quote volume'],
      [
        ...Object.entries(rep.fills.byInstrument).map(([k, v]) => [k, v.fills, v.maker, v.taker, v.qty, v.quote]),
        ['all', rep.fills.count, rep.fills.maker, rep.fills.taker, null, rep.fills.volumeQuote],
      ],
    ),
  );
  parts.push('<h2>Fees</h2>');
  parts.push(Object.keys(rep.fees).length > 0 ? table(['asset', 'paid'], Object.entries(rep.fees)) : '<p>none</p>');
  parts.push('<h2>Orders</h2>');
  parts.push(
    table(
      ['sent', 'acks', 'cancels sent', 'cancelled', 'expired', 'rejects', 'orders per fill'],
      [[o.sent, o.acks, o.cancelsSent, o.cancels, o.expires, o.rejects, o.perFill]],
    ),
  );
  const reasons = [
    ...Object.entries(o.rejectsByReason).map(([k, v]) => [`reject: ${k}`, v]),
    ...Object.entries(o.riskRefusals).map(([k, v]) => [`risk refusal: ${k}`, v]),
  ];
  if (reasons.length > 0) parts.push(table(['reason', 'count'], reasons as Array<[string, number]>));
  parts.push('<h2>Latency hops (wall clock: differs between runs)</h2>');
  parts.push(hopSvg);
  parts.push(
    rep.wallClock.hops.length > 0
      ? table(
          ['hop', 'venue', 'count', 'p50 µs', 'p90 µs', 'p99 µs', 'p99.9 µs', 'max µs'],
          rep.wallClock.hops.map((h) => [h.hop, h.venue, h.count, h.p50Us, h.p90Us, h.p99Us, h.p999Us, h.maxUs]),
        )
      : '<p>no hop recorded</p>',
  );
  parts.push('<h2>Inputs</h2>');
  parts.push(
    table(
      ['capture', 'events', 'bytes', 'sha256'],
      rep.inputs.captures.map((c) => [c.name, c.events, c.bytes, c.sha256]),
    ),
  );
  parts.push(
    table(
      ['strategy', 'config sha256', 'seed', 'loop period ms', 'drain ms'],
      [[`${rep.inputs.strategy.name} (${rep.inputs.strategy.kind})`, rep.inputs.configSha256, rep.inputs.seed, rep.inputs.loopPeriodMs, rep.inputs.drainMs]],
    ),
  );
  parts.push(
    `<p class="note">run ${escapeXml(rep.wallClock.startedAt)}, ${rep.wallClock.elapsedMs} ms, speed ${escapeXml(rep.wallClock.speed)}; format ${escapeXml(rep.format)}</p>`,
  );
  parts.push('</body></html>\n');
  return parts.join('\n');
}

/** Write report.json and report.html (0600) into `dir` (created 0700). */
export function writeReport(dir: string, rep: BacktestReport, hops?: HopRecorder): void {
  mkdirPrivate(dir);
  writeFilePrivate(join(dir, 'report.json'), JSON.stringify(rep, null, 2) + '\n');
  writeFilePrivate(join(dir, 'report.html'), reportHtml(rep, hops));
}
