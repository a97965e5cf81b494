/**
 * `tickwire backtest --replay FILES --strategy S [--config FILE] [--speed max|recorded] [--out DIR]`: the engine
 * (strategy, pre-trade risk, the order owner and its portfolio) against the simulator's matching core, whose books
 * are driven only by the captures (`src/sim/core/replay.ts`; no generator traffic). Fees come from the simulator's
 * fee table (`sim.fees`), queue position from its matching books: an order joins the back of its price level behind
 * the recorded quantity there, and fills when the recorded market trades through it.
 *
 * Determinism (the same captures + config + strategy + seed give the same report.json outside its `wallClock`
 * section, byte for byte, whatever the machine's speed or `--speed`):
 * - one thread, no sockets: the simulator's books run in this process (as the paper venue, src/exchange/paper.ts),
 *   so nothing races; the replay is stepped one recorded event at a time and the next step waits until every order
 *   event the last one caused has been delivered to the engine (and whatever the strategy did about it).
 * - virtual time: the clock is the captures' recorded receive time. The books stamp orders and fills with it, the
 *   loop's ticks (`loop.periodMs`) run at their virtual deadlines between events (`HotLoop` external mode), and
 *   risk's order-rate windows and the strategies' clocks (marketMaker, crossVenue) read it.
 * - client order ids come from the recorded start time and the seed, not from the wall clock or a random draw.
 * - what depends on the machine lives in `wallClock`: the run's timestamps and duration, and the latency hops
 *   (risk, decide, tick-to-trade: monotonic ns, measured for real).
 * `--speed recorded` paces the steps to the recorded gaps in real time; the result is the same as with `max`.
 *
 * Not simulated: network latency (an order reaches the book in the same step as the event it reacts to), the
 * venues' wire protocols (`tickwire sim --replay` + `tickwire run` exercise those), and the kill switch's triggers
 * (its wall-clock ones would not be deterministic; the report shows the drawdown instead).
 *
 * End: after the last event, the loop runs `--drain` ms more of virtual time, then the stop every run has: trading
 * stops, every open order is cancelled and the cancel verified by query (`cancelAndVerify`); the report says what
 * was left open (nothing, or the backtest fails with exit 1).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { loadConfig, ConfigError } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { log as rootLog, type Logger } from '../util/log.js';
import { BotState, F } from '../model/botstate.js';
import { DEFAULT_ID_PREFIX, OrderIds } from '../model/ids.js';
import type { OrderEvent } from '../model/orders.js';
import type { VenueId } from '../model/types.js';
import { HopRecorder } from '../util/hops.js';
import { Engine } from '../engine/engine.js';
import { cancelAndVerify } from '../engine/cancelall.js';
import { OrderManager } from '../orders/manager.js';
import { PaperVenue } from '../exchange/paper.js';
import { parseCapture, Replayer, type ReplaySource } from '../sim/core/replay.js';
import type { MatchingBook } from '../sim/core/book.js';
import type { SimInstrument, SimMarketId } from '../sim/core/types.js';
import { MarketMaker } from '../strategy/marketmaker.js';
import { CrossVenueSignal } from '../strategy/crossvenue.js';
import { TriggerFollower } from '../strategy/triggerfollower.js';
import type { Strategy } from '../strategy/types.js';
import { loadStrategyModule } from '../strategy/plugin.js';
import type { DepthSource } from '../strategy/context.js';
import { buildReport, hopPercentiles, writeReport, type BacktestReport, type Sample } from './backtestreport.js';
import { parseOrExit } from './cliargs.js';

const HELP = `usage: tickwire backtest --replay FILE[,FILE...] --strategy NAME|FILE [--config FILE] [--speed max|recorded]
                         [--out DIR] [--seed N] [--drain MS]

Runs the engine (strategy, risk, order owner, portfolio) against the simulator's matching core, its books driven
only by the captures (the format \`tickwire sim --replay\` reads and \`tickwire run --record\` writes). Fees come
from the simulator's fee table (config sim.fees), queue position from its matching books. Writes DIR/report.json
and DIR/report.html (one self-contained page with SVG plots; both 0600): PnL over time (marked to mid), drawdown,
fills (maker/taker, volume), fees per asset, orders per fill, rejects and risk refusals, latency hops, the inputs
(captures and their SHA-256, config hash, strategy, seed).

  --replay FILES     capture files, comma separated (or the option repeated); merged by recorded receive time
  --strategy S       a built-in strategy by name: marketMaker, crossVenue, triggerFollower, none (its parameters
                     come from strategy.<name> in the config), or a plug-in module FILE (.js/.mjs, as \`tickwire run
                     --strategy FILE\`; its parameters are strategy.params; it must take time from onTick's nowNs)
  --config FILE      JSON config (src/config/tickwire.example.json); its instruments are replaced by the captures'
  --speed max        as fast as possible (default)
  --speed recorded   paced in real time to the recorded gaps; the report is the same as with max
  --out DIR          where the report goes (default ./backtest-<UTC timestamp>; created 0700)
  --seed N           seed of the client order ids (default 1); reported with the inputs
  --drain MS         recorded-time ms the loop keeps running after the last event, before the stop (default 1000)

Same inputs, same report: time is the captures' recorded time (book stamps, loop ticks, risk and strategy
clocks) and everything runs in one thread; only report.json's "wallClock" section (run timestamps, duration,
latency hops) depends on the machine. Exit codes: 0 done, 1 the run failed or the stop left an order open,
2 usage or config error (the message names the field).
`;

/** Virtual ns of the first recorded event: far from 0, so windows that start empty (-Infinity or 0) behave as idle. */
const VIRTUAL_ORIGIN_NS = 1e12;

export type BacktestSpeed = 'max' | 'recorded';

export interface BacktestOptions {
  /** capture files, merged by recorded receive time */
  replay: string[];
  /** `--strategy`: a built-in name or a plug-in module path (`resolveStrategySpec`) */
  strategy: string;
  config?: string | undefined;
  speed?: BacktestSpeed;
  /** report directory (default ./backtest-<timestamp>) */
  out?: string | undefined;
  /** seed of the client order ids (default 1) */
  seed?: number;
  /** recorded-time ms the loop runs after the last event (default 1000) */
  drainMs?: number;
  overrides?: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
}

export interface BacktestResult {
  /** 0 done; 1 the stop left an order open */
  code: number;
  dir: string;
  report: BacktestReport;
}

export const BUILTIN_STRATEGY_NAMES = ['marketMaker', 'crossVenue', 'triggerFollower', 'none'] as const;
export type BuiltinStrategyName = (typeof BUILTIN_STRATEGY_NAMES)[number];

export type StrategySpec = { kind: 'builtin'; name: BuiltinStrategyName } | { kind: 'module'; file: string };

/**
 * What `--strategy S` names: a built-in strategy by name, or a module file (a path: it has a slash or ends in .js /
 * .mjs; it must exist). The one place that tells them apart; `buildStrategy` loads a module with the plug-in loader
 * of `tickwire run --strategy FILE` (src/strategy/plugin.ts).
 */
export function resolveStrategySpec(s: string): StrategySpec {
  if ((BUILTIN_STRATEGY_NAMES as readonly string[]).includes(s)) return { kind: 'builtin', name: s as BuiltinStrategyName };
  if (s.includes('/') || /\.m?js$/.test(s)) {
    const file = resolve(s);
    if (!/\.m?js$/.test(file))
      throw new ConfigError([{ path: '--strategy', message: `${file} is not an ES module file (.js or .mjs; compile TypeScript first)` }]);
    if (!existsSync(file)) throw new ConfigError([{ path: '--strategy', message: `${file} does not exist` }]);
    return { kind: 'module', file };
  }
  throw new ConfigError([{ path: '--strategy', message: `unknown strategy '${s}' (built-in: ${BUILTIN_STRATEGY_NAMES.join(', ')})` }]);
}

/**
 * Build the strategy of a spec, on the backtest's clock (virtual ns); a module is imported (hence async). A plug-in must take its time from `onTick(nowNs)` (virtual here), not a clock of its
 * own, for its backtests to be deterministic.
 */
export async function buildStrategy(spec: StrategySpec, cfg: Config, clock: () => number): Promise<Strategy | undefined> {
  // a plug-in module: the loader of `tickwire run --strategy FILE` (StrategyLoadError names the file: exit 1)
  if (spec.kind === 'module') return loadStrategyModule(spec.file, cfg.strategy.params);
  switch (spec.name) {
    case 'marketMaker':
      return new MarketMaker(cfg.strategy.marketMaker, clock);
    case 'crossVenue':
      return new CrossVenueSignal(cfg.strategy.crossVenue, clock);
    case 'triggerFollower':
      return new TriggerFollower(cfg.strategy.triggerFollower);
    case 'none':
      return undefined;
  }
}

const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

interface LoadedCapture {
  path: string;
  name: string;
  sha256: string;
  bytes: number;
  source: ReplaySource;
}

function loadCaptures(files: readonly string[]): LoadedCapture[] {
  if (files.length === 0) throw new ConfigError([{ path: '--replay', message: 'at least one capture file' }]);
  return files.map((f) => {
    if (!existsSync(f)) throw new ConfigError([{ path: '--replay', message: `${f} does not exist` }]);
    const buf = readFileSync(f);
    const source = parseCapture(buf.toString('utf8'), f);
    if (source.events.length === 0)
      throw new ConfigError([{ path: '--replay', message: `${f} holds no market data the simulator replays (depth snapshots, diffs, trades)` }]);
    return { path: resolve(f), name: basename(f), sha256: sha256(buf), bytes: buf.length, source };
  });
}

/** The instruments of the captures, first seen first (the engine's BotState slots in that order). */
function captureInstruments(caps: readonly LoadedCapture[]): SimInstrument[] {
  const seen = new Map<string, SimInstrument>();
  for (const c of caps) for (const i of c.source.instruments) if (!seen.has(`${i.market}:${i.symbol}`)) seen.set(`${i.market}:${i.symbol}`, i);
  return [...seen.values()];
}

const immediate = (): Promise<void> => new Promise((r) => setImmediate(r));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Canonical JSON (sorted keys) of a value: its hash does not depend on key order. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}

export async function runBacktest(o: BacktestOptions): Promise<BacktestResult> {
  const startedAt = new Date();
  const wall0 = performance.now();
  const log = (o.logger ?? rootLog()).child({ mod: 'backtest' });
  const speed = o.speed ?? 'max';
  const seed = o.seed ?? 1;
  const drainMs = o.drainMs ?? 1000;
  const spec = resolveStrategySpec(o.strategy);
  const caps = loadCaptures(o.replay);
  const sims = captureInstruments(caps);
  const refs: Array<{ venue: VenueId; symbol: string }> = sims.map((i) => ({ venue: i.market, symbol: i.symbol }));
  const ov = o.overrides ?? {};
  const ovStrategy = (ov['strategy'] ?? {}) as Record<string, unknown>;
  const cfg = loadConfig({
    file: o.config,
    env: o.env ?? process.env,
    overrides: { ...ov, instruments: refs, strategy: { ...ovStrategy, ...(spec.kind === 'builtin' ? { name: spec.name } : { module: basename(spec.file) }) } },
  });

  // one timeline: the replayer merges the captures (into the venue's books, registered below); the virtual clock
  // is its recorded time
  const books = new Map<SimMarketId, Map<string, MatchingBook>>();
  const replayer = new Replayer(
    caps.map((c) => c.source),
    { books },
  );
  const rec0Ms = replayer.nextTimeMs() ?? 0;
  let vNs = VIRTUAL_ORIGIN_NS;
  const clock = (): number => vNs;
  const recMs = (): number => rec0Ms + (vNs - VIRTUAL_ORIGIN_NS) / 1e6;
  const toVirtual = (ms: number): number => VIRTUAL_ORIGIN_NS + (ms - rec0Ms) * 1e6;
  // the strategy first: one that cannot be built fails the backtest before anything else is made
  const strategy = await buildStrategy(spec, cfg, clock);

  const state = BotState.create(Math.max(8, refs.length));
  const hops = new HopRecorder();
  const venue = new PaperVenue({ instruments: refs, state, simInstruments: sims, fees: cfg.sim.fees, nowMs: recMs });
  venue.accounts.priceOf = (m, sym) => {
    const b = books.get(m)?.get(sym);
    const bid = b?.bestBidPrice() ?? 0;
    const ask = b?.bestAskPrice() ?? 0;
    return b ? (bid > 0 && ask > 0 ? (bid + ask) / 2 : bid || ask) / 10 ** b.instrument.priceDecimals : 0;
  };
  venue.books.forEach((b) => {
    let m = books.get(b.instrument.market);
    if (!m) books.set(b.instrument.market, (m = new Map()));
    m.set(b.instrument.symbol, b);
  });
  const ids = new OrderIds(DEFAULT_ID_PREFIX, Math.max(0, Math.floor(rec0Ms)), Math.abs(Math.floor(seed)) % 36 ** 3);
  const orders = new OrderManager({ instruments: venue.instruments, gateways: venue.gateways, slots: state.slots, hops, ids });
  // the strategy's depth reads: the matching book's levels (what the venue would publish, own orders included)
  const depthOf = (slot: number): DepthSource | undefined => {
    const b = venue.books[slot];
    return b
      ? {
          depth: (side, n, outPx, outQty) => {
            const d = b.depth(Math.min(n, outPx.length, outQty.length));
            const levels = side === 0 ? d.bids : d.asks;
            levels.forEach(([p, q], i) => {
              outPx[i] = p;
              outQty[i] = q;
            });
            return levels.length;
          },
        }
      : undefined;
  };
  const engine = new Engine({ config: cfg, state, instruments: venue.instruments, orders, hops, strategy, logger: log, virtualClock: clock, books: depthOf });
  venue.onBook = (slot) => engine.onBookUpdate(slot);

  // what the report counts beyond the portfolio: each fill's side of the book, volume per instrument
  const fills = { count: 0, maker: 0, taker: 0, byInstrument: new Map<string, { fills: number; maker: number; taker: number; qty: number; quote: number }>() };
  const fillTimes: number[] = [];
  engine.onAfterEvent = (ev: OrderEvent) => {
    if (ev.kind !== 'fill' || !(ev.fillQty > 0)) return;
    const ins = venue.instruments.find((i) => i.venue === ev.venue && i.symbol === ev.symbol);
    if (!ins) return;
    fills.count++;
    if (ev.maker) fills.maker++;
    else fills.taker++;
    const k = `${ins.venue}:${ins.symbol}`;
    let b = fills.byInstrument.get(k);
    if (!b) fills.byInstrument.set(k, (b = { fills: 0, maker: 0, taker: 0, qty: 0, quote: 0 }));
    b.fills++;
    if (ev.maker) b.maker++;
    else b.taker++;
    const qty = ev.fillQty / 10 ** ins.qtyDecimals;
    b.qty += qty;
    b.quote += (ev.fillPrice / 10 ** ins.priceDecimals) * qty;
    fillTimes.push(recMs());
  };

  // every event that leaves the engine's hands is delivered before the next step (order events come a turn later)
  const settle = async (): Promise<void> => {
    do await immediate();
    while (venue.pending);
  };
  const wallStart = performance.now();
  const pace = async (): Promise<void> => {
    if (speed !== 'recorded') return;
    const due = wallStart + (vNs - VIRTUAL_ORIGIN_NS) / 1e6 - performance.now();
    if (due > 0) await sleep(due);
  };
  // PnL marked to mid, sampled on a time grid of about 1000 points (drawdown and its extremes: at every step)
  const endMs = Math.max(...caps.map((c) => c.source.events[c.source.events.length - 1]!.recvMs)) + drainMs;
  const gridMs = Math.max(1, (endMs - rec0Ms) / 1000);
  const samples: Sample[] = [];
  let nextSampleMs = -Infinity;
  let peak = 0;
  let maxDd = 0;
  let maxDdAtMs = rec0Ms;
  let steps = 0;
  const positionsNow = (): number[] => venue.instruments.map((i) => engine.portfolio.positionReal(i.slot));
  const sample = (force = false): void => {
    const pnl = engine.pnl();
    if (pnl > peak) peak = pnl;
    const dd = peak - pnl;
    if (dd > maxDd) {
      maxDd = dd;
      maxDdAtMs = recMs();
    }
    const t = recMs();
    if (force || t >= nextSampleMs) {
      samples.push({ tMs: t, pnl, drawdown: dd, positions: positionsNow() });
      nextSampleMs = t + gridMs;
    }
  };
  const runTicksUntil = async (targetNs: number): Promise<void> => {
    while (engine.loop.nextDeadlineNs <= targetNs) {
      vNs = engine.loop.nextDeadlineNs;
      await pace();
      engine.loop.runDue();
      if (venue.pending) await settle();
    }
  };

  log.info({ captures: caps.map((c) => c.path), instruments: refs.map((r) => `${r.venue}:${r.symbol}`), strategy: o.strategy, speed }, 'backtest starting');
  engine.start();
  let stop: { verified: boolean; remaining: number; errors: string[] };
  try {
    for (;;) {
      const t = replayer.nextTimeMs();
      if (t === undefined) break;
      await runTicksUntil(toVirtual(t));
      vNs = toVirtual(t);
      await pace();
      replayer.applyNext();
      steps++;
      await settle();
      sample();
    }
    const endNs = vNs + drainMs * 1e6;
    await runTicksUntil(endNs);
    vNs = endNs;
    sample(true);
    // the stop every run has: trading stops, everything open is cancelled and the cancel verified
    engine.stopTrading();
    engine.cancelAll();
    await settle();
    const c = await cancelAndVerify(orders, venue.instruments, { timeoutMs: cfg.shutdown.cancelTimeoutMs, logger: log, what: 'backtest end' });
    await settle();
    const left = await venue.openOrders(venue.instruments);
    stop = { verified: c.verified && left.length === 0, remaining: left.length, errors: c.errors };
    sample(true);
  } finally {
    engine.shutdown();
    await orders.stop().catch(() => undefined);
    await venue.close();
  }

  const finishedAt = new Date();
  const report = buildReport({
    inputs: {
      captures: caps.map((c) => ({ name: c.name, sha256: c.sha256, bytes: c.bytes, events: c.source.events.length })),
      configSha256: sha256(canonical(cfg)),
      strategy:
        spec.kind === 'builtin' ? { kind: 'builtin', name: spec.name } : { kind: 'module', name: basename(spec.file), sha256: sha256(readFileSync(spec.file)) },
      seed,
      drainMs,
      loopPeriodMs: cfg.loop.periodMs,
    },
    replay: {
      startMs: rec0Ms,
      endMs: recMs(),
      steps,
      applied: replayer.applied,
      skipped: replayer.skipped,
      ticks: engine.loop.ticks,
      instruments: venue.instruments.map((i) => {
        const si = sims[i.slot]!;
        return { venue: i.venue, symbol: i.symbol, tickSize: si.tickSize, stepSize: si.stepSize, lastMid: state.get(i.slot, F.mid) / 10 ** i.priceDecimals };
      }),
    },
    engine,
    fills,
    fillTimes,
    samples,
    drawdown: { max: maxDd, atMs: maxDdAtMs, peak },
    stop,
    wallClock: {
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      elapsedMs: Math.round(performance.now() - wall0),
      speed,
      captures: caps.map((c) => c.path),
      config: o.config !== undefined ? resolve(o.config) : null,
      hops: hopPercentiles(hops),
    },
  });
  const dir =
    o.out ??
    join(
      process.cwd(),
      `backtest-${startedAt
        .toISOString()
        .replace(/[-:]/g, '')
        .replace(/\.\d+Z$/, 'Z')}`,
    );
  writeReport(dir, report, hops);
  log.info({ dir, pnl: report.pnl.final, fills: report.fills.count, open: stop.remaining }, 'backtest done');
  return { code: stop.verified ? 0 : 1, dir, report };
}

function parseArgs(argv: string[]): BacktestOptions | string {
  const o: BacktestOptions = { replay: [], strategy: '' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const [k, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const val = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || (inline === undefined && v.startsWith('--'))) throw new Error(`${k} needs a value`);
      return v;
    };
    switch (k) {
      case '--replay':
        o.replay.push(
          ...val()
            .split(',')
            .filter((f) => f.length > 0),
        );
        break;
      case '--strategy':
        o.strategy = val();
        break;
      case '--config':
        o.config = val();
        break;
      case '--speed': {
        const v = val();
        if (v !== 'max' && v !== 'recorded') return `--speed must be max or recorded (got ${v})`;
        o.speed = v;
        break;
      }
      case '--out':
        o.out = val();
        break;
      case '--seed': {
        const v = Number(val());
        if (!Number.isSafeInteger(v) || v < 0) return '--seed must be a non-negative integer';
        o.seed = v;
        break;
      }
      case '--drain': {
        const v = Number(val());
        if (!Number.isFinite(v) || v < 0) return '--drain must be a non-negative number of ms';
        o.drainMs = v;
        break;
      }
      case '--help':
      case '-h':
        return 'help';
      default:
        return `unknown option ${a}`;
    }
  }
  if (o.replay.length === 0) return '--replay FILES is required';
  if (o.strategy === '') return '--strategy NAME|FILE is required';
  return o;
}

export async function main(argv: string[]): Promise<number> {
  const o = parseOrExit('backtest', HELP, argv, parseArgs);
  if (typeof o === 'number') return o;
  try {
    const r = await runBacktest(o);
    const p = r.report;
    process.stdout.write(
      `backtest: ${p.replay.steps} events, ${p.fills.count} fills (${p.fills.maker} maker, ${p.fills.taker} taker), PnL ${p.pnl.final}, ` +
        `max drawdown ${p.drawdown.max}, fees ${JSON.stringify(p.fees)}\n` +
        `report: ${join(r.dir, 'report.html')} (and report.json)\n` +
        (r.code !== 0 ? `the stop left ${p.stop.openAfterStop} order(s) open: ${p.stop.errors.join('; ')}\n` : ''),
    );
    return r.code;
  } catch (e) {
    process.stderr.write(`tickwire backtest: ${(e as Error).message}\n`);
    return e instanceof ConfigError ? 2 : 1;
  }
}
