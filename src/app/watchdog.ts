/**
 * `tickwire watchdog [--config FILE]`: a small process beside the engine that cancels every open order on every
 * venue when the engine stops answering. Binance Spot has no exchange-side dead-man switch and Bybit's Disconnection
 * Protection is for institutional accounts only: without this, a hung engine (a stopped event loop, SIGSTOP, a
 * deadlock in a native call) leaves its quotes resting while the market moves.
 *
 * Heartbeat: the engine's control plane, GET /status, every `watchdog.intervalMs` with a `requestTimeoutMs` timeout
 * (URL and token from <persistence.dir>/run-state.json, read again on every beat, so a restarted engine is
 * followed). Only a running event loop answers: a stopped process still accepts the TCP connection in the kernel,
 * and the request times out. No answer for `timeoutSec` = the engine is gone or hung:
 *   1. alert (`watchdog_heartbeat_lost`, critical) on the bot's routes (alerts.telegram.alertChatIds, alerts.webhooks);
 *   2. cancel everything on every venue of the config's instruments with the watchdog's OWN API keys
 *      (src/engine/cancelall.ts: cancel-all, then an open-orders query, retried until nothing is open or
 *      `cancelTimeoutMs`; a round that did not verify is tried again on the next beats);
 *   3. alert the result (`watchdog_cancel`: verified, or what may still be open).
 * When the engine answers again: a resolved alert, and (`onReturn: stop`) POST /stop, so a hung engine that wakes up
 * does not trade on under orders it no longer has until an operator says so (`tickwire start`).
 *
 * Armed from the first answer: before the engine ever answered (it is starting, or not there) nothing is cancelled,
 * so the engine's own start-up reconciliation is never raced. Exchanges of the embedded simulator (preset `sim`
 * without endpoints) die with the engine: nothing to guard there.
 *
 * Credentials: `watchdog.secretsFile` (the engine's secrets format) and the TICKWIRE_*_API_KEY / _SECRET variables
 * of the watchdog's own environment; never the engine's `secretsFile`. Every beat, trip and cancel is counted and
 * logged.
 */
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { loadConfig, ConfigError } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { loadSecrets, requireCredentials, type Secrets } from '../config/secrets.js';
import { cancelAndVerify } from '../engine/cancelall.js';
import { accessFromConfig } from '../exchange/endpoints.js';
import { createGateways, VENUE_DRIVERS, type GatewayPlan } from '../exchange/registry.js';
import type { Instrument, VenueId } from '../model/types.js';
import { OrderManager } from '../orders/manager.js';
import { log, registerSecret } from '../util/log.js';
import type { Alert, AlertSeverity } from './alertrules.js';
import { AlertRouter, routesFromConfig } from './alertroutes.js';
import { callError, ControlClient } from './controlclient.js';
import { sidecarMain } from './sidecar.js';

const HELP = `usage: tickwire watchdog [--config FILE]

A process beside the engine (its own systemd unit: deploy/tokyo/tickwire-watchdog@.service) that cancels every
open order on every venue when the engine stops answering: Binance Spot has no exchange-side dead-man switch, and
Bybit's Disconnection Protection is for institutional accounts only.

Heartbeat: the engine's control plane (GET /status; URL and token from <persistence.dir>/run-state.json) every
watchdog.intervalMs, each with a watchdog.requestTimeoutMs timeout: a hung engine (SIGSTOP, a blocked event loop)
never answers. No answer for watchdog.timeoutSec: alert, cancel all open orders of the config's instruments with
the watchdog's own API keys, verify by query (retried until nothing is open), alert the result. When the engine
answers again: resolved, and (watchdog.onReturn = stop) its trading is stopped until an operator says
\`tickwire start\`. Armed from the engine's first answer, so a starting engine is never raced.

  --config FILE   the engine's config file (watchdog.*, instruments, exchanges, persistence.dir, alerts routes);
                  also env TICKWIRE_CONFIG
Credentials: its OWN keys (trade permission): watchdog.secretsFile (format of secretsFile, mode 0600) and/or
TICKWIRE_BINANCE_API_KEY / _SECRET, TICKWIRE_BINANCE_ED25519_API_KEY / _KEY_FILE, TICKWIRE_BYBIT_API_KEY / _SECRET
in the watchdog's own environment; alerts to Telegram need TICKWIRE_TELEGRAM_BOT_TOKEN there too.
Runs until SIGINT/SIGTERM. Exit codes: 0 stopped, 2 usage or config error (the message names the field).
`;

export interface WatchdogCounts {
  /** heartbeats answered */
  beats: number;
  /** heartbeats not answered (timeout, refused, no run-state) */
  misses: number;
  /** times the engine was declared gone */
  trips: number;
  /** cancel-and-verify runs */
  cancelRuns: number;
  cancelVerified: number;
  cancelNotVerified: number;
  /** POST /stop sent to an engine that answered again */
  stopsOnReturn: number;
}

export type WatchdogState = 'waiting' | 'alive' | 'lost';

/** The watchdog's own order entry: REST gateways over its keys, only cancel-all and open-orders are used. */
interface Canceller {
  orders: OrderManager;
  instruments: Instrument[];
  venues: VenueId[];
}

async function buildCanceller(cfg: Config, secrets: Secrets): Promise<Canceller> {
  const access = accessFromConfig(cfg, secrets);
  for (const a of Object.values(access)) for (const v of [a.apiKey, a.apiSecret, a.ed25519ApiKey, a.ed25519PrivateKeyPem]) registerSecret(v);
  const embedded = (ex: 'binance' | 'bybit'): boolean => cfg.exchanges[ex].preset === 'sim' && Object.keys(cfg.exchanges[ex].endpoints).length === 0;
  const instruments: Instrument[] = [];
  for (const r of cfg.instruments) {
    if (embedded(r.venue.startsWith('binance') ? 'binance' : 'bybit')) continue;
    const a = access[r.venue];
    if (!a) throw new Error(`${r.venue}: no endpoints`);
    const ins = (await VENUE_DRIVERS[r.venue].fetchInstruments(a, [r.symbol], instruments.length))[0];
    if (!ins) throw new Error(`${r.venue}: ${r.symbol} not listed`);
    instruments.push(ins);
  }
  const plans: GatewayPlan[] = [];
  const venues = [...new Set(instruments.map((i) => i.venue))];
  for (const v of venues) {
    const a = access[v]!;
    // REST only, and never the USD-M countdown: the engine's own gateway owns that timer
    plans.push(
      VENUE_DRIVERS[v].gatewayPlan(
        a,
        instruments.filter((i) => i.venue === v),
        { transport: 'rest', deadManSwitch: false },
      ),
    );
  }
  const gateways = createGateways(plans).gateways;
  return { orders: new OrderManager({ instruments, gateways, slots: Math.max(1, instruments.length) }), instruments, venues };
}

export class Watchdog {
  readonly counts: WatchdogCounts = { beats: 0, misses: 0, trips: 0, cancelRuns: 0, cancelVerified: 0, cancelNotVerified: 0, stopsOnReturn: 0 };
  state: WatchdogState = 'waiting';
  private lastOkMs = 0;
  private lostAtMs = 0;
  private lastReason = '';
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private canceller: Canceller | undefined;
  private building: Promise<Canceller | undefined> | undefined;
  private cancelling: Promise<void> | undefined;
  /** the last cancel of this episode verified nothing open */
  private verified = false;
  private readonly client: ControlClient;
  private lastPid: number | undefined;

  constructor(
    private readonly cfg: Config,
    private readonly secrets: Secrets,
    env: NodeJS.ProcessEnv,
    readonly router: AlertRouter,
    private readonly onAlert?: (a: Alert) => void,
  ) {
    this.client = new ControlClient(cfg.persistence.dir, env);
  }

  /** Build the venues' gateways (retried on every beat until it works), then beat. */
  async start(): Promise<this> {
    this.running = true;
    await this.venues();
    log().info(
      {
        venues: this.canceller?.venues ?? null,
        intervalMs: this.cfg.watchdog.intervalMs,
        timeoutSec: this.cfg.watchdog.timeoutSec,
        routes: this.router.routes.map((r) => r.name),
        dataDir: this.cfg.persistence.dir,
      },
      'watchdog started: armed from the engine’s first answer',
    );
    this.schedule(0);
    return this;
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    await this.cancelling?.catch(() => undefined);
    await this.router.idle();
    await this.canceller?.orders.stop().catch(() => undefined);
    log().info({ counts: this.counts, state: this.state }, 'watchdog stopped');
  }

  private async venues(): Promise<Canceller | undefined> {
    if (this.canceller) return this.canceller;
    this.building ??= buildCanceller(this.cfg, this.secrets).then(
      (c) => {
        this.canceller = c;
        this.building = undefined;
        if (c.venues.length === 0) log().warn('watchdog: no venue to guard (every exchange is the embedded simulator, which dies with the engine)');
        return c;
      },
      (e: unknown) => {
        this.building = undefined;
        log().error({ err: (e as Error).message }, 'watchdog: cannot reach the venues to prepare the cancel (retried on every beat)');
        return undefined;
      },
    );
    return this.building;
  }

  private schedule(ms: number): void {
    if (!this.running) return;
    this.timer = setTimeout(() => void this.beat().finally(() => this.schedule(this.cfg.watchdog.intervalMs)), ms);
  }

  /** one heartbeat and what follows from it */
  async beat(): Promise<void> {
    const w = this.cfg.watchdog;
    let pid: number | undefined;
    try {
      const st = (await this.client.json('/status', w.requestTimeoutMs)) as { process?: { pid?: unknown } };
      pid = typeof st?.process?.pid === 'number' ? st.process.pid : undefined;
    } catch (e) {
      this.miss(callError(e));
      return;
    }
    this.counts.beats++;
    this.lastOkMs = performance.now();
    if (this.state === 'waiting') log().info({ pid }, 'watchdog armed: the engine answers');
    if (this.state === 'lost') await this.returned(pid);
    this.state = 'alive';
    this.lastPid = pid;
  }

  private miss(reason: string): void {
    this.counts.misses++;
    this.lastReason = reason;
    const now = performance.now();
    if (this.state === 'alive' && now - this.lastOkMs >= this.cfg.watchdog.timeoutSec * 1000) this.trip(reason, (now - this.lastOkMs) / 1000);
    // a cancel that did not verify is tried again while the engine stays gone
    if (this.state === 'lost' && !this.verified && !this.cancelling) this.cancelling = this.cancel().finally(() => (this.cancelling = undefined));
    else if (this.state === 'alive' && this.counts.misses % 10 === 1) log().warn({ reason, misses: this.counts.misses }, 'watchdog: heartbeat missed');
  }

  private trip(reason: string, silentSec: number): void {
    this.state = 'lost';
    this.lostAtMs = performance.now();
    this.verified = false;
    this.counts.trips++;
    log().error(
      { event: 'watchdog_trip', reason, silentSec: Math.round(silentSec), pid: this.lastPid, trips: this.counts.trips },
      'engine heartbeat lost: cancelling everything',
    );
    this.alert('watchdog_heartbeat_lost', 'firing', 'critical', 'engine heartbeat lost: cancelling every open order', [
      `no answer from the engine${this.lastPid ? ` (pid ${this.lastPid})` : ''} for ${Math.round(silentSec)} s: ${reason}`,
      `cancelling on ${this.canceller?.venues.join(', ') || 'every venue'} with the watchdog's own keys`,
    ]);
    this.cancelling = this.cancel().finally(() => (this.cancelling = undefined));
  }

  private async cancel(): Promise<void> {
    this.counts.cancelRuns++;
    const c = await this.venues();
    if (!c) {
      this.counts.cancelNotVerified++;
      return;
    }
    if (c.venues.length === 0) {
      this.verified = true;
      return;
    }
    let found = -1;
    try {
      found = (await c.orders.openOrdersOf(c.instruments)).length;
    } catch {
      /* the cancel-all below retries and says what failed */
    }
    const r = await cancelAndVerify(c.orders, c.instruments, { timeoutMs: this.cfg.watchdog.cancelTimeoutMs, logger: log(), what: 'watchdog' });
    this.verified = r.verified;
    if (r.verified) {
      this.counts.cancelVerified++;
      log().warn({ event: 'watchdog_cancel', found, rounds: r.rounds, venues: c.venues }, 'watchdog cancel-all verified: nothing open');
      this.alert('watchdog_cancel', 'event', 'warning', 'watchdog cancelled every open order', [
        `${found >= 0 ? `${found} open order(s) found; ` : ''}cancel-all verified on ${c.venues.join(', ')}: nothing open`,
      ]);
    } else {
      this.counts.cancelNotVerified++;
      const open = r.remaining.map((o) => `${o.venue}:${o.symbol}:${o.clientOrderId}`);
      log().error({ event: 'watchdog_cancel', open, errors: r.errors }, 'watchdog cancel-all NOT verified');
      this.alert('watchdog_cancel', 'event', 'critical', 'watchdog cancel NOT verified: orders may be open', [
        `${open.length} order(s) still open: ${open.slice(0, 10).join(', ')}`,
        `errors: ${r.errors.slice(0, 3).join('; ') || 'none'}`,
        'retrying while the engine stays silent; check the venues',
      ]);
    }
  }

  private async returned(pid: number | undefined): Promise<void> {
    const downSec = Math.round((performance.now() - this.lostAtMs) / 1000 + this.cfg.watchdog.timeoutSec);
    const restarted = pid !== undefined && this.lastPid !== undefined && pid !== this.lastPid;
    let stopped = '';
    if (this.cfg.watchdog.onReturn === 'stop' && !restarted) {
      // the same process woke up: its orders were cancelled under it; no trading until an operator says so
      try {
        const r = await this.client.call('POST', '/stop', Math.max(this.cfg.watchdog.requestTimeoutMs, 5000));
        if (r.status === 200) {
          this.counts.stopsOnReturn++;
          stopped = '; its trading was stopped (`tickwire start` resumes it)';
        } else stopped = `; POST /stop answered ${r.status}`;
      } catch (e) {
        stopped = `; POST /stop failed: ${callError(e)}`;
      }
    }
    log().warn({ event: 'watchdog_return', pid, restarted, downSec, stopsOnReturn: this.counts.stopsOnReturn }, 'engine answers again');
    this.alert('watchdog_heartbeat_lost', 'resolved', 'critical', 'engine heartbeat lost: cancelling every open order', [
      `the engine answers again after about ${downSec} s${restarted ? ` as a new process (pid ${pid})` : ''} (was: ${this.lastReason})${stopped}`,
    ]);
  }

  private alert(key: string, state: Alert['state'], severity: AlertSeverity, title: string, lines: string[]): void {
    const a: Alert = { key, state, severity, title, text: lines.join('\n'), at: new Date().toISOString(), source: 'watchdog' };
    this.onAlert?.(a);
    void this.router.send(a);
  }
}

export interface WatchdogOptions {
  config?: string | undefined;
  env?: NodeJS.ProcessEnv;
  cfg?: Config;
  onAlert?: (a: Alert) => void;
}

/** Config checks (credentials for every guarded exchange), routes, then the watchdog started. */
export async function startWatchdog(o: WatchdogOptions = {}): Promise<Watchdog> {
  const env = o.env ?? process.env;
  const cfg = o.cfg ?? loadConfig({ file: o.config, env });
  if (!cfg.control.enabled)
    throw new ConfigError([{ path: 'control.enabled', message: 'the watchdog hears the engine through its control plane: it must be enabled' }]);
  let secrets: Secrets;
  try {
    secrets = loadSecrets(cfg.watchdog.secretsFile, env);
  } catch (e) {
    // the secrets module names the engine's field; here it is the watchdog's
    if (e instanceof ConfigError) throw new ConfigError(e.issues.map((i) => ({ ...i, path: i.path.replace(/^secretsFile/, 'watchdog.secretsFile') })));
    throw e;
  }
  try {
    requireCredentials(cfg, secrets);
  } catch (e) {
    if (e instanceof ConfigError)
      throw new ConfigError(
        e.issues.map((i) => ({
          path: 'watchdog.secretsFile',
          message: `${i.message.replace(/secretsFile/g, 'watchdog.secretsFile')} (the watchdog cancels with its own keys)`,
        })),
      );
    throw e;
  }
  const site = env['TICKWIRE_SITE'] || undefined;
  const { routes } = routesFromConfig(cfg.alerts, secrets.telegram?.botToken, site);
  if (routes.length === 0) log().warn('watchdog: no alert route (alerts.telegram / alerts.webhooks): it will cancel, and only log it');
  return new Watchdog(cfg, secrets, env, new AlertRouter(routes, site ?? hostname()), o.onAlert).start();
}

export function main(argv: string[]): Promise<number> {
  return sidecarMain('watchdog', HELP, argv, (cfg) => startWatchdog({ cfg }));
}
