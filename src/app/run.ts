/**
 * `tickwire run [--config FILE] [--duration SECONDS] [--summary-json FILE] [--paper[=offline]]` (and `npm start` =
 * `run --duration 30`): market data + order entry (see wiring.ts), recovery (snapshot + journal) and
 * reconciliation, the engine with its strategy, the kill switch, the control plane; a summary at the end.
 *
 * Stops: after --duration; on the first SIGINT/SIGTERM (graceful: stop trading, cancel everything, verify,
 * persist, summary, exit 0); a second signal = kill switch (exit code `killSwitch.exitCode` when `onTrigger` is
 * `exit`, else it stays halted until the duration ends or another stop).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { loadConfig, ConfigError } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { loadSecrets, requireCredentials, type Secrets } from '../config/secrets.js';
import { createLogger, flushLogs, setRootLogger, type Logger } from '../util/log.js';
import { BotState, F } from '../model/botstate.js';
import { HopRecorder } from '../util/hops.js';
import { Engine } from '../engine/engine.js';
import { KillSwitch, type KillReport } from '../engine/killswitch.js';
import { Journal, JOURNAL_FILE } from '../persist/journal.js';
import { prepareDataDir } from '../persist/datadir.js';
import { cancelAndVerify } from '../engine/cancelall.js';
import { SNAPSHOT_FILE } from '../persist/snapshot.js';
import { recover, type RecoveryReport } from '../persist/recover.js';
import { IDS_MARK } from '../model/ids.js';
import { reconcile, type ReconcileReport } from '../engine/reconcile.js';
import type { Strategy } from '../strategy/types.js';
import { BUILTIN_STRATEGIES, loadStrategyModule } from '../strategy/plugin.js';
import { externalScore, SignalTask, type SignalSource } from '../strategy/signals.js';
import { startControl, type ControlDeps, type ControlServer } from './control.js';
import { RUN_STATE_FILE, type RunState } from './controlcli.js';
import { wireNetwork, wirePaper, type Wiring } from './wiring.js';
import { accessFromConfig, accessFromSim } from '../exchange/endpoints.js';
import { startSim, type SimHandle, type SimVenueName } from '../sim/index.js';
import { spawnSimChild, type SimChild } from './simchild.js';
import { BalanceReconciler } from '../engine/balances.js';
import { buildSummary, formatSummary, type RunSummary } from './summary.js';
import { LatencyMonitor } from '../util/monitor.js';
import { checkHost, hostCheckFromConfig, HostCheckError } from './hostcheck.js';
import { latencyPageHtml, latencySnapshotJson } from './live.js';
import { parseRotate, prepareRecordDir, type RecordOptions } from './record.js';
import { parseOrExit } from './cliargs.js';

const HELP = `usage: tickwire run [--config FILE] [--strategy FILE] [--record DIR [--record-rotate SPEC]] [--duration SECONDS]
                    [--summary-json FILE] [--paper[=offline]] [--sim-inline] [--sim-cpu LIST]
                    [--busy-poll]

Runs the engine: market data, order entry, the strategy (market maker by default), risk, kill switch,
persistence (journal + snapshots in persistence.dir) and the loopback control plane (see \`tickwire status\`).

  --config FILE        JSON config (see src/config/schema.ts); env TICKWIRE__SECTION__FIELD=value overrides
  --strategy FILE      run a plug-in strategy: an ES module implementing the Strategy interface
                       (docs/strategy-guide.md); its parameters are strategy.params; same as strategy.module
  --record DIR         write the market data it receives (raw frames and REST snapshots) into DIR (0700; files
                       0600) in the capture format \`tickwire sim --replay\` reads: <venue>_capture_<session>_<part>.ndjson
  --record-rotate SPEC a new part by size and/or time: size=100m, every=1h, or size=100m,every=1h (default
                       size=100m); each part starts with a snapshot of every book, so it also replays alone
  --duration SECONDS   stop after this long (default: run until SIGINT/SIGTERM)
  --summary-json FILE  also write the end-of-run summary as JSON
  --paper              paper trading on live data: the configured presets' PUBLIC market data (mainnet, testnet, demo,
                       or the simulator's streams), orders matched locally against the engine's own books with
                       queue position, fees from paper.fees; no credentials are read, no order, private stream or
                       WS API session reaches any venue. Positions, PnL, journal, risk and kill switch as live.
  --paper=offline      the simulator's matching core in process with a synthetic market (no sockets at all)
  --sim-inline         run the embedded simulator in the engine's process (default: a child process, so that
                       its work does not share the engine's event loop; the child ends with the engine)
  --sim-cpu LIST       run the embedded simulator's child process under taskset -c LIST
  --busy-poll          loop.mode busy: the event loop never sleeps, so no frame pays a wake-up; costs a full core
                       (pin the engine to a core of its own: LATENCY.md "Busy-poll")

Without --config the demo parameters apply: market maker on binanceSpot BTCUSDT at the touch.
Strategies (strategy.name): marketMaker (default), crossVenue, triggerFollower (one non-crossing IOC per touch
move: the wire-to-wire harness's), none; each one's parameters under strategy.<name> (src/config/tickwire.example.json).
A plug-in (--strategy FILE or strategy.module) runs instead; a module that does not load, exports no valid strategy
or throws in start fails the start (exit 1, naming the file, no order sent). A strategy that throws in a handler is
halted at strategy.maxErrors (default 1): trading stops and its orders are cancelled (\`tickwire start\` resumes).
Signals (they work in every state: starting, trading, stopping):
  SIGINT/SIGTERM  graceful stop: the strategy stops, every open order is cancelled and the cancel verified (retried
                  until the venues answer, up to shutdown.cancelTimeoutMs), state persisted, exit 0; during the
                  start: the start is abandoned, whatever is open is cancelled, exit 0
  a second one    kill switch (once trading): block, cancel everything, verify, report, exit killSwitch.exitCode
  SIGUSR2         latency histogram dump to <persistence.dir>/latency (trading goes on; it is not a kill switch)
The strategy starts last, once market data, order gateways (logon, private streams), the journal, reconciliation
and the control plane are all up. A start that fails at any step sends no order, cancels whatever is open on the
venues (orphans of an earlier life), and exits 1 naming the step.
Exit codes: 0 normal stop, 1 failed start or a stop that could not verify its cancels, 2 usage/config error (the
message names the field), killSwitch.exitCode (default 3) when the kill switch fired, 4 when hostCheck.mode is
'refuse' and the core pinning or host tuning differs from the config (the message names each).
Control: the URL and token go to <persistence.dir>/${RUN_STATE_FILE} (mode 0600); TICKWIRE_CONTROL_TOKEN sets the token.
`;

const LOCK_FILE = 'engine.lock';

/** Parameters of the demo (no config file): quote at the touch of the simulator's 1-tick book. */
export const DEMO_OVERRIDES = {
  strategy: { marketMaker: { venue: 'binanceSpot', symbol: 'BTCUSDT', halfSpreadBps: 0.001, size: 0.002, maxInventory: 0.01, requoteTicks: 1 } },
};

export interface RunOptions {
  config?: string | undefined;
  durationSec?: number | undefined;
  summaryJson?: string | undefined;
  /**
   * `'live'` (`--paper`): the configured venues' public market data (any preset; preset `sim` without endpoints: the
   * embedded simulator's streams), orders matched locally with queue position (src/exchange/paperlive.ts), no
   * credentials read, no order gateway built. `'offline'` (`--paper=offline`; `true` is the same, kept for the API's
   * callers): the simulator's matching core in process with a synthetic market, no sockets at all.
   */
  paper?: boolean | 'live' | 'offline';
  overrides?: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
  /** print the summary to stdout (default true) */
  print?: boolean;
  /** install signal handlers (default true) */
  signals?: boolean;
  /** seed of the simulator's generator (default 1) */
  seed?: number;
  /** embedded simulator: level updates per second over all books (default 1000) */
  simRate?: number;
  /**
   * where the embedded simulator runs: `child` = its own Node process (`tickwire run` / `npm start`: the engine's
   * event loop and latency are not shared with the simulator's work), `inline` = in this process (default of the
   * API: tests reach into it through `wiring.sim`)
   */
  simProcess?: 'child' | 'inline';
  /** `simProcess: 'child'`: CPU list for the simulator (`taskset -c`) */
  simCpus?: string;
  /** order transport of every gateway, overriding exchanges.*.transport */
  transport?: 'rest' | 'wsapi';
  /** in-process paper venue: level updates per second (default 600) */
  paperRate?: number;
  /** stop early once this holds (polled every 50 ms; --duration stays the upper bound) */
  stopWhen?: (engine: Engine) => boolean;
  /** a plug-in strategy module (`--strategy FILE`; relative to the working directory), instead of strategy.module / name */
  strategyFile?: string | undefined;
  /** `--record DIR [--record-rotate SPEC]`: record the market data (src/app/record.ts) */
  record?: RecordOptions | undefined;
  /** a strategy built in code instead of from `strategy.name` (the wire-to-wire harness's trigger follower) */
  strategy?: (cfg: Config) => Strategy | undefined;
  /** called once everything runs */
  onReady?: (info: {
    engine: Engine;
    control: ControlServer | undefined;
    wiring: Wiring;
    killSwitch: KillSwitch;
    balances: BalanceReconciler | undefined;
  }) => void;
}

export interface RunResult {
  code: number;
  summary: RunSummary;
}

/**
 * The plug-in module to run, as an absolute path (undefined: a built-in by name): `--strategy` relative to the
 * working directory, `strategy.module` relative to the config file's folder. A file that is not there is a config
 * error naming the field (exit 2).
 */
export function strategyModulePath(o: RunOptions, cfg: Config, env: NodeJS.ProcessEnv): string | undefined {
  const cfgFile = o.config ?? env['TICKWIRE_CONFIG'];
  const [field, file] =
    o.strategyFile !== undefined
      ? ['--strategy', resolve(o.strategyFile)]
      : cfg.strategy.module !== undefined
        ? ['strategy.module', resolve(cfgFile !== undefined ? dirname(resolve(cfgFile)) : '.', cfg.strategy.module)]
        : [undefined, undefined];
  if (file === undefined || field === undefined) return undefined;
  if (!/\.m?js$/.test(file)) throw new ConfigError([{ path: field, message: `${file} is not an ES module file (.js or .mjs; compile TypeScript first)` }]);
  if (!existsSync(file)) throw new ConfigError([{ path: field, message: `${file} does not exist` }]);
  return file;
}

/** The strategy of the config: a plug-in module (loaded and built here; StrategyLoadError names the file) or a built-in. */
async function makeStrategy(cfg: Config, moduleFile: string | undefined): Promise<Strategy | undefined> {
  if (moduleFile !== undefined) return loadStrategyModule(moduleFile, cfg.strategy.params);
  const name = cfg.strategy.name;
  return name === 'none' ? undefined : BUILTIN_STRATEGIES[name](cfg.strategy[name] as never);
}

function paramsOf(cfg: Config, moduleFile: string | undefined): unknown {
  if (moduleFile !== undefined) return cfg.strategy.params;
  switch (cfg.strategy.name) {
    case 'marketMaker':
      return cfg.strategy.marketMaker;
    case 'triggerFollower':
      return cfg.strategy.triggerFollower;
    default:
      return cfg.strategy.crossVenue;
  }
}

/** Exchange state that died with the previous process (embedded simulator): its journal is archived, not replayed. */
function archiveEphemeral(dir: string): string | undefined {
  const j = join(dir, JOURNAL_FILE);
  const s = join(dir, SNAPSHOT_FILE);
  if (!existsSync(j) && !existsSync(s)) return undefined;
  const to = join(dir, `archive-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  mkdirSync(to, { recursive: true, mode: 0o700 });
  chmodSync(to, 0o700);
  if (existsSync(j)) renameSync(j, join(to, JOURNAL_FILE));
  if (existsSync(s)) renameSync(s, join(to, SNAPSHOT_FILE));
  return to;
}

/** `--paper=offline`: the in-process synthetic market, no sockets */
const offlinePaper = (o: RunOptions): boolean => o.paper === true || o.paper === 'offline';

async function wire(cfg: Config, state: BotState, hops: HopRecorder, o: RunOptions, secrets: Secrets, log: Logger): Promise<Wiring> {
  const refs = cfg.instruments;
  if (offlinePaper(o)) return wirePaper(refs, state, o.seed ?? 1, o.paperRate ?? 600, hops);
  const paper = o.paper === 'live';
  // an exchange with preset `sim` and no endpoints in the config runs in the embedded simulator
  const embedded = (['binance', 'bybit'] as const).filter(
    (ex) => cfg.exchanges[ex].enabled && cfg.exchanges[ex].preset === 'sim' && Object.keys(cfg.exchanges[ex].endpoints).length === 0,
  );
  const access = accessFromConfig(cfg, secrets);
  let sim: SimHandle | undefined;
  let simChild: SimChild | undefined;
  try {
    if (embedded.length > 0) {
      const venues: SimVenueName[] = [];
      if (embedded.includes('binance')) venues.push('binanceSpot', 'binanceUsdm');
      if (embedded.includes('bybit')) venues.push('bybit');
      const symbols = [...new Set(refs.map((r) => r.symbol))];
      let simAccess: ReturnType<typeof accessFromSim>;
      if (o.simProcess === 'child') {
        simChild = await spawnSimChild({
          venues,
          symbols,
          seed: o.seed ?? 1,
          rate: o.simRate ?? 1000,
          fees: cfg.sim.fees,
          logLevel: cfg.log.level,
          ...(o.simCpus !== undefined ? { cpus: o.simCpus } : {}),
        });
        log.info({ simPid: simChild.pid }, 'embedded simulator runs in a child process');
        simAccess = accessFromSim(simChild);
      } else {
        sim = await startSim({ venues, symbols, seed: o.seed ?? 1, rate: o.simRate ?? 1000, fees: cfg.sim.fees, log });
        for (const [v, msg] of Object.entries(sim.venueErrors)) log.warn({ venue: v, err: msg }, 'simulator venue failed to start');
        simAccess = accessFromSim(sim);
      }
      for (const v of ['binanceSpot', 'binanceUsdm', 'bybitSpot', 'bybitLinear'] as const) {
        const ex = v.startsWith('binance') ? 'binance' : 'bybit';
        if (embedded.includes(ex) && simAccess[v]) access[v] = simAccess[v];
      }
    }
    return await wireNetwork({
      refs,
      state,
      hops,
      access,
      ephemeral: sim !== undefined || simChild !== undefined,
      ...(sim ? { sim } : {}),
      ...(simChild ? { simChild } : {}),
      transport: { binance: o.transport ?? cfg.exchanges.binance.transport, bybit: o.transport ?? cfg.exchanges.bybit.transport },
      socketLifetimeMs: { binance: cfg.exchanges.binance.socketLifetimeMs, bybit: cfg.exchanges.bybit.socketLifetimeMs },
      signals: cfg.signals,
      ...(o.record
        ? {
            record: {
              opts: o.record,
              session: new Date()
                .toISOString()
                .replace(/[-:]/g, '')
                .replace(/\.\d+Z$/, 'Z'),
            },
          }
        : {}),
      describe: {
        mode: (paper ? 'paper on live public data: ' : '') + (sim || simChild ? `embedded simulator (${embedded.join(', ')})` : 'external endpoints'),
        presets: { binance: cfg.exchanges.binance.preset, bybit: cfg.exchanges.bybit.preset },
      },
      ...(paper ? { paper: { fees: cfg.paper.fees } } : {}),
    });
  } catch (e) {
    await sim?.close().catch(() => undefined);
    await simChild?.close().catch(() => undefined);
    throw e;
  }
}

export async function runEngine(o: RunOptions = {}): Promise<RunResult> {
  const env = o.env ?? process.env;
  const overrides = o.config === undefined && env['TICKWIRE_CONFIG'] === undefined ? { ...DEMO_OVERRIDES, ...(o.overrides ?? {}) } : (o.overrides ?? {});
  const cfg = loadConfig({ file: o.config, env, overrides });
  // everything that can be checked without the network, before anything starts (exit 2, naming the field)
  // paper (live or offline) reads no credentials: it never logs in anywhere
  const paper = o.paper === true || o.paper === 'live' || o.paper === 'offline';
  const secrets: Secrets = paper ? {} : loadSecrets(cfg.secretsFile, env);
  if (!paper) requireCredentials(cfg, secrets);
  const moduleFile = o.strategy ? undefined : strategyModulePath(o, cfg, env);
  if (o.record) {
    if (o.paper === true || o.paper === 'offline')
      throw new ConfigError([{ path: '--record', message: 'records the market data of the venues; --paper=offline has none (no sockets)' }]);
    try {
      prepareRecordDir(o.record.dir);
    } catch (e) {
      throw new ConfigError([{ path: '--record', message: `${o.record.dir} cannot be used: ${(e as Error).message}` }]);
    }
  }
  const dir = cfg.persistence.dir;
  try {
    prepareDataDir(dir);
  } catch (e) {
    throw new ConfigError([{ path: 'persistence.dir', message: `${dir} cannot be used as the data dir: ${(e as Error).message}` }]);
  }
  const log = createLogger({ level: cfg.log.level, destinations: cfg.log.destinations, name: 'tickwire' });
  setRootLogger(log);

  // issue 7 "Health": core pinning and host tuning as the config demands (refuse = throw HostCheckError, exit 4)
  const hc = hostCheckFromConfig(cfg.hostCheck);
  checkHost(hc.expect, { mode: hc.mode, logger: log });

  const releaseLock = lockDataDir(dir);
  try {
    return await runLocked(o, cfg, env, overrides, log, dir, secrets, moduleFile);
  } finally {
    releaseLock();
  }
}

/** One engine per data dir: `<dir>/engine.lock` holds the pid; a lock whose process is gone is taken over. */
export function lockDataDir(dir: string): () => void {
  const file = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx', mode: 0o600 });
      return () => {
        try {
          if (readFileSync(file, 'utf8') === String(process.pid)) unlinkSync(file);
        } catch {
          /* already gone */
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(readFileSync(file, 'utf8'));
      let alive = false;
      try {
        if (pid > 0 && pid !== process.pid) {
          process.kill(pid, 0);
          alive = true;
        }
      } catch (err) {
        alive = (err as NodeJS.ErrnoException).code === 'EPERM';
      }
      if (alive) throw new Error(`${dir} is in use by another engine (pid ${pid}); stop it or choose another persistence.dir`);
      unlinkSync(file); // stale: its process died (kill -9)
    }
  }
  throw new Error(`cannot lock ${file}`);
}

/** A start that failed: nothing was traded, whatever was open on the venues was cancelled (exit code 1). */
export class StartError extends Error {
  constructor(
    readonly step: string,
    cause: Error,
    /** the cancel-all after the failure was verified (nothing open on the venues) */
    readonly cancelVerified: boolean | undefined,
  ) {
    super(
      `cannot start (${step}): ${cause.message}` +
        (cancelVerified === false ? ' — and the cancel-all after it was NOT verified: check the venues for open orders' : ''),
    );
    this.name = 'StartError';
  }
}

/** A stop (signal, --duration) that arrived before the start completed: nothing was traded (exit code 0). */
export class StoppedBeforeStart extends Error {
  constructor(
    readonly reason: string,
    readonly step: string,
  ) {
    super(`stopped (${reason}) before the start completed, during: ${step}; nothing was traded`);
    this.name = 'StoppedBeforeStart';
  }
}

/**
 * The one way a run ends: --duration, SIGINT/SIGTERM, stopWhen, the kill switch's exit. Armed before anything
 * starts, so that each of them works in every state (starting, trading, stopping).
 */
class StopLatch {
  reason: string | undefined;
  code = 0;
  readonly done: Promise<void>;
  private resolve!: () => void;
  constructor() {
    this.done = new Promise<void>((r) => (this.resolve = r));
  }
  request(reason: string, code = 0): void {
    if (this.reason !== undefined) return;
    this.reason = reason;
    this.code = code;
    this.resolve();
  }
}

/** Resolves with the step's value, or rejects with `aborted` when a stop comes first (a late value is released). */
function step<T>(latch: StopLatch, name: string, p: Promise<T>, release: (v: T) => unknown): Promise<T> {
  let settled = false;
  const mine = p.finally(() => (settled = true));
  return Promise.race([
    mine,
    latch.done.then(() => {
      if (settled) return mine; // the step had finished before the stop: the caller owns its value
      p.then(release, () => undefined);
      throw new StoppedBeforeStart(latch.reason ?? 'stop', name);
    }),
  ]);
}

async function runLocked(
  o: RunOptions,
  cfg: Config,
  env: NodeJS.ProcessEnv,
  overrides: Record<string, unknown>,
  log: Logger,
  dir: string,
  secrets: Secrets,
  moduleFile: string | undefined,
): Promise<RunResult> {
  const t0 = performance.now();
  const latch = new StopLatch();
  // stops work from here on, in every state
  const durationTimer = o.durationSec !== undefined ? setTimeout(() => latch.request('duration'), o.durationSec * 1000) : undefined;
  let killSwitch: KillSwitch | undefined;
  let phase = 'starting';
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    signals++;
    if (signals === 1) {
      log.warn({ sig, phase }, phase === 'trading' ? 'graceful stop (send the signal again for the kill switch)' : `stop requested while ${phase}`);
      latch.request(`signal ${sig}`);
    } else if (killSwitch && phase !== 'starting') {
      void killSwitch.trigger('signal', `${sig} #${signals}`);
    } else {
      log.warn({ sig, phase, signals }, 'stop already under way: cancelling what is open, then exiting');
    }
  };
  if (o.signals !== false) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  log.info({ dataDir: dir, durationSec: o.durationSec ?? null }, 'starting: the strategy starts once every part is up');

  const state = BotState.create(Math.max(8, cfg.instruments.length));
  const hops = new HopRecorder();
  let wiring: Wiring | undefined;
  let monitor: LatencyMonitor | undefined;
  let journal: Journal | undefined;
  let engine: Engine | undefined;
  let control: ControlServer | undefined;
  let signalTasks: SignalTask[] = [];
  let rec: RecoveryReport | undefined;
  let recon: ReconcileReport | undefined;
  let balances: BalanceReconciler | undefined;
  let archived: string | undefined;
  let poll: NodeJS.Timeout | undefined;
  let where = 'market data and order entry (instruments, simulator)';
  let strategy: Strategy | undefined;

  const teardown = async (): Promise<void> => {
    if (poll) clearInterval(poll);
    if (durationTimer) clearTimeout(durationTimer);
    await balances?.stop();
    for (const t of signalTasks) t.stop();
    killSwitch?.stop();
    control?.close();
    if (engine) engine.shutdown();
    else journal?.close();
    await monitor?.stop().catch(() => undefined);
    await wiring?.stop().catch(() => undefined);
    if (o.signals !== false) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  };

  try {
    // the strategy is built first: a plug-in that does not load fails the start before anything connects
    if (moduleFile !== undefined) where = `strategy module ${moduleFile}`;
    strategy = o.strategy ? o.strategy(cfg) : await makeStrategy(cfg, moduleFile);
    where = 'market data and order entry (instruments, simulator)';
    wiring = await step(latch, where, wire(cfg, state, hops, o, secrets, log), (w) => w.stop());
    // tickwire trades one-way accounts (and Bybit's unified account) only: a hedge-mode account is refused here,
    // before any order, naming the mode and how to switch it (src/exchange/account.ts)
    where = 'account mode (position mode, unified account)';
    const modes = await step(latch, where, wiring.checkAccounts(), () => undefined);
    if (modes.length > 0) log.info({ accounts: modes.map((m) => `${m.venue}: ${m.positionMode} (${m.detail})`) }, 'account modes checked');
    // hop histograms: 1 s intervals, dumps to <dir>/latency (periodic, SIGUSR2, kill switch, exit)
    monitor = new LatencyMonitor(hops, { dir: join(dir, 'latency'), signal: o.signals === false ? null : 'SIGUSR2' }).start();

    // persistence: recover (or archive a dead embedded exchange's journal)
    where = 'journal (recovery, open)';
    if (wiring.ephemeralExchange) archived = archiveEphemeral(dir);
    // into the order owner: the one record of every order and the one portfolio
    rec = recover(dir, wiring.orders.store);
    if (rec.badTail) log.warn({ badTail: rec.badTail }, 'journal: corrupt or truncated tail dropped (recovered up to the last valid record)');
    journal = Journal.open(dir, cfg.persistence, rec.validBytes);

    const books = wiring.book;
    engine = new Engine({ config: cfg, state, instruments: wiring.instruments, orders: wiring.orders, hops, journal, strategy, logger: log, books });
    const eng = engine;
    // before this life's first order: which id generator it uses (recovery's probe after a kill -9 starts here)
    journal.appendNow({ t: 'mark', what: IDS_MARK + engine.ids.base, ms: Date.now() });
    wiring.attach((slot) => eng.onBookUpdate(slot));
    where = 'market-data streams, private streams and order gateways (logon)';
    await step(latch, where, wiring.start(), () => undefined);

    killSwitch = new KillSwitch(engine, cfg.killSwitch, {
      dataDir: dir,
      logger: log,
      exit: (code) => latch.request('kill switch', code),
      onGracefulStop: () => latch.request('signal'),
    });

    // reconcile with the exchange: the engine must know what is open before anything trades
    where = 'reconciliation with the exchange';
    recon = await step(latch, where, reconcile(engine, cfg.persistence.orphans, rec.probeId), () => undefined);
    if (recon.adopted.length || recon.canceled.length || recon.closed.length || recon.positionAdjustments.length || recon.unjournaled.length)
      log.warn({ recon }, 'reconciliation changed the order owner');
    if (cfg.reconcile.balances.enabled) {
      // spot wallets: the start balances every later check compares with (src/engine/balances.ts)
      where = 'balance reconciliation (start balances)';
      const b = new BalanceReconciler(engine, cfg.reconcile.balances, log);
      await step(latch, where, b.start(), () => undefined);
      wiring.degradations?.add(b.degradations());
      balances = b;
    }

    if (cfg.control.enabled) {
      where = `control plane (127.0.0.1:${cfg.control.port})`;
      const token = env['TICKWIRE_CONTROL_TOKEN'] ?? randomBytes(24).toString('hex');
      control = await step(
        latch,
        where,
        startControl(
          controlDeps(o, token, env, overrides, engine, killSwitch, wiring, monitor, () => signalTasks, moduleFile),
          cfg.control.port,
        ),
        (c) => c.close(),
      );
      const rs: RunState = { pid: process.pid, url: control.url, token, startedAt: new Date().toISOString() };
      const f = join(dir, RUN_STATE_FILE);
      // whole or nothing: a reader (the CLI, a supervisor) never sees a half-written file
      writeFileSync(f + '.tmp', JSON.stringify(rs), { mode: 0o600 });
      chmodSync(f + '.tmp', 0o600);
      renameSync(f + '.tmp', f);
      log.info({ url: control.url, runState: f }, 'control plane listening');
    }

    // slow signals: background tasks write BotState (F.fundingRate...); the loop only reads the field
    const external = cfg.signals.external.flatMap((x): SignalSource[] => {
      const slot = eng.slotOf(x.venue, x.symbol);
      return slot < 0 ? [] : [externalScore(`${x.url} ${x.path}`, x.url, x.path, slot, F[x.field], x.intervalMs)];
    });
    signalTasks = [...(wiring.signals ?? []), ...external].map((src) => new SignalTask(state, src));
    for (const t of signalTasks) t.start();
    if (latch.reason !== undefined) throw new StoppedBeforeStart(latch.reason, 'the last step of the start');

    // every part is up: the strategy starts last (one that throws in start fails the start: cancel, exit 1)
    where = `strategy start (${strategy?.name ?? 'none'}${moduleFile !== undefined ? `, ${moduleFile}` : ''})`;
    engine.snapshot();
    engine.start();
  } catch (e) {
    // a failed or interrupted start: no strategy ran; cancel whatever is open (orphans of an earlier life), then exit
    phase = 'stopping after a failed start';
    const err = e as Error;
    if (!(e instanceof StoppedBeforeStart)) log.error({ step: where, err: err.message }, 'start failed: cancelling what is open, then exiting');
    engine?.stopTrading();
    let verified: boolean | undefined;
    if (wiring) {
      // the order gateways answer cancels from the moment they exist (REST), started or not
      const c = await cancelAndVerify(wiring.orders, wiring.instruments, { timeoutMs: cfg.shutdown.cancelTimeoutMs, logger: log, what: 'failed start' });
      verified = c.verified;
    }
    await teardown();
    flushLogs();
    if (e instanceof StoppedBeforeStart) {
      if (verified === false) throw new StartError(where, err, verified);
      throw e;
    }
    throw new StartError(where, err, verified);
  }

  const eng = engine;
  killSwitch.watch();
  phase = 'trading';
  log.info({ instruments: wiring.instruments.map((i) => `${i.venue}:${i.symbol}`), strategy: eng.runner?.strategy.name ?? 'none' }, 'trading started');
  balances?.startTimer();
  o.onReady?.({ engine: eng, control, wiring, killSwitch, balances });
  const stopWhen = o.stopWhen;
  if (stopWhen) poll = setInterval(() => stopWhen(eng) && latch.request('stopWhen'), 50);
  await latch.done;
  phase = 'stopping';
  let code = latch.code;
  log.info({ reason: latch.reason }, 'stopping');

  // shutdown: stop the strategy, cancel and verify (unless the kill switch already did), persist
  let kill: KillReport | undefined = killSwitch.report;
  if (killSwitch.triggered) kill = await killSwitch.trigger('manual');
  // a run that ended after (or by) the kill switch says so in its exit code, whatever onTrigger says
  if (killSwitch.triggered && code === 0) code = cfg.killSwitch.exitCode;
  if (!killSwitch.triggered) {
    eng.stopTrading();
    eng.runner?.end();
    eng.cancelAll();
    const c = await cancelAndVerify(wiring.orders, wiring.instruments, { timeoutMs: cfg.shutdown.cancelTimeoutMs, logger: log, what: 'stop' });
    if (!c.verified) {
      log.error({ open: c.remaining.length, errors: c.errors }, 'cancel on shutdown failed');
      code = code || 1;
    }
    await new Promise((r) => setTimeout(r, 20)); // let the last cancel events land in the order owner/journal
  }
  await teardown();
  if (wiring.recordings) log.info({ files: wiring.recordings() }, 'market data recorded');
  const summary = buildSummary(eng, wiring, (performance.now() - t0) / 1000, kill, { ...rec, archived, reconcile: recon });
  if (o.print !== false) process.stdout.write(formatSummary(summary));
  if (o.summaryJson) writeFileSync(o.summaryJson, JSON.stringify(summary, null, 2), { mode: 0o600 });
  flushLogs();
  return { code, summary };
}

function controlDeps(
  o: RunOptions,
  token: string,
  env: NodeJS.ProcessEnv,
  overrides: Record<string, unknown>,
  engine: Engine,
  killSwitch: KillSwitch,
  wiring: Wiring,
  monitor: LatencyMonitor,
  tasks: () => SignalTask[],
  moduleFile: string | undefined,
): ControlDeps {
  return {
    engine,
    killSwitch,
    token,
    reload: () => {
      try {
        const next = loadConfig({ file: o.config, env, overrides });
        // a strategy refuses parameters by throwing: the reload fails and nothing else changes
        try {
          engine.runner?.strategy.setParams?.(paramsOf(next, moduleFile));
        } catch (e) {
          return { ok: false, message: `strategy refused the parameters: ${(e as Error).message}` };
        }
        engine.risk.configure(next.risk);
        killSwitch.configure(next.killSwitch);
        engine.config = next;
        return { ok: true, message: 'strategy, risk and kill-switch parameters reloaded' };
      } catch (e) {
        return { ok: false, message: e instanceof ConfigError ? e.message : `reload failed: ${(e as Error).message}` };
      }
    },
    extraMetrics: () => wiring.extraMetrics(),
    extraStatus: () => ({
      wiring: wiring.describe(),
      mdFrames: wiring.frames(),
      bookResyncs: wiring.resyncs(),
      signals: tasks().map((t) => ({ name: t.name, ok: t.ok, failed: t.failed, lastError: t.lastError })),
    }),
    latency: { page: () => latencyPageHtml({ jsonUrl: 'latency.json' }), json: (since) => latencySnapshotJson(monitor, since) },
  };
}

function parseArgs(argv: string[]): RunOptions | string {
  const o: RunOptions = { simProcess: 'child' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const [k, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const val = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${k} needs a value`);
      return v;
    };
    switch (k) {
      case '--config':
        o.config = val();
        break;
      case '--duration': {
        const d = Number(val());
        if (!(d > 0)) return `--duration must be a positive number of seconds`;
        o.durationSec = d;
        break;
      }
      case '--summary-json':
        o.summaryJson = val();
        break;
      case '--strategy':
        o.strategyFile = val();
        break;
      case '--record':
        o.record = { maxBytes: 100 * 1024 * 1024, maxMs: 0, ...(o.record ?? {}), dir: val() };
        break;
      case '--record-rotate': {
        const spec = val();
        let r: { maxBytes: number; maxMs: number };
        try {
          r = parseRotate(spec);
        } catch (e) {
          return `--record-rotate: ${(e as Error).message}`;
        }
        o.record = { dir: o.record?.dir ?? '', ...r };
        break;
      }
      case '--paper':
        // a bare --paper never takes the next argument as its value
        if (inline === undefined || inline === 'live') o.paper = 'live';
        else if (inline === 'offline') o.paper = 'offline';
        else return `--paper takes no value, or =live or =offline (got ${inline})`;
        break;
      case '--sim-inline':
        o.simProcess = 'inline';
        break;
      case '--sim-cpu':
        o.simCpus = val();
        break;
      case '--busy-poll':
        o.overrides = { ...(o.overrides ?? {}), loop: { mode: 'busy' } };
        break;
      case '--help':
      case '-h':
        return 'help';
      default:
        return `unknown option ${a}`;
    }
  }
  if (o.record && o.record.dir === '') return '--record-rotate needs --record DIR';
  return o;
}

export async function main(argv: string[]): Promise<number> {
  const o = parseOrExit('run', HELP, argv, parseArgs);
  if (typeof o === 'number') return o;
  let code: number;
  try {
    code = (await runEngine(o)).code;
  } catch (e) {
    process.stderr.write(`tickwire run: ${(e as Error).message}\n`);
    code = e instanceof ConfigError ? 2 : e instanceof HostCheckError ? 4 : e instanceof StoppedBeforeStart ? 0 : 1;
  }
  // The run has cancelled, verified and persisted what it had to: nothing may keep the process alive after this
  // (a socket or timer some layer failed to close). Leave the logger a moment to flush, then exit whatever holds on.
  setTimeout(() => process.exit(code), EXIT_GRACE_MS).unref();
  return code;
}

/** How long the CLI waits after the run ended before it exits even if a handle is still open, ms. */
const EXIT_GRACE_MS = 2000;
