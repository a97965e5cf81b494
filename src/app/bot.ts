/**
 * `tickwire bot [--config FILE]`: alerts and remote control in a process of their own, so that a crash or a hang
 * here never touches trading. It talks to the engine only through the control plane (src/app/controlclient.ts:
 * the URL and token from `<persistence.dir>/run-state.json`, found again on every call).
 *
 * - Alerts: every `alerts.pollMs` it reads GET /status and runs the rules (src/app/alertrules.ts); each alert goes
 *   to every route (src/app/alertroutes.ts: Telegram, webhooks), once per episode, with a "resolved" when it clears.
 * - Commands (Telegram): `/status`, `/stop`, `/start`, `/kill`, `/help`, obeyed only from the chats of
 *   `alerts.telegram.commandChatIds`. Any other chat gets no answer at all; it is logged (chat id, command word) and
 *   counted. A command older than `STALE_COMMAND_SEC` (sent while the bot was away) is not run: it is answered so.
 * - The bot token comes from TICKWIRE_TELEGRAM_BOT_TOKEN or the secrets file (src/config/secrets.ts) and is scrubbed
 *   from every log line.
 */
import { hostname } from 'node:os';
import { loadConfig, ConfigError } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { loadSecrets } from '../config/secrets.js';
import { log } from '../util/log.js';
import { AlertRules, type Alert, type EngineStatus, statusSchema } from './alertrules.js';
import { AlertRouter, routesFromConfig, type TelegramApi } from './alertroutes.js';
import { callError, ControlClient } from './controlclient.js';
import { sidecarMain } from './sidecar.js';

const HELP = `usage: tickwire bot [--config FILE]

Alerts and remote control for a running engine, in a process of its own (a crash or hang here never touches
trading). It reads the engine's control plane (URL and token from <persistence.dir>/run-state.json, or
TICKWIRE_CONTROL_URL / TICKWIRE_CONTROL_TOKEN) every alerts.pollMs and sends each alert once, and "resolved" when
it clears, to every route: Telegram (alerts.telegram) and webhooks (alerts.webhooks: POST JSON).

Alerts (alerts.rules): the engine not answering, restarted, the kill switch fired, a venue halted, a book stale,
drawdown beyond a limit, reject rate beyond a limit, no fills for a while.
Telegram commands, only from alerts.telegram.commandChatIds (any other chat is ignored, logged and counted):
  /status   trading state, orders, fills, PnL, halted venues, stale books, alerts firing
  /stop     stop strategy trading (open orders stay)
  /start    resume trading (and venues halted until an operator says so)
  /kill     kill switch: block, cancel everything, verify; answers with the report
  /help     this list

  --config FILE   the engine's config file (alerts.*, persistence.dir, log.level); also env TICKWIRE_CONFIG
Secrets: TICKWIRE_TELEGRAM_BOT_TOKEN, or secretsFile {"telegram":{"botToken":"..."}} (mode 0600).
Runs until SIGINT/SIGTERM. Exit codes: 0 stopped, 2 usage or config error (the message names the field).
`;

/** Commands sent longer ago than this (the bot was down) are answered, not run. */
export const STALE_COMMAND_SEC = 120;

export interface BotCounts {
  polls: number;
  pollFailures: number;
  alertsFiring: number;
  alertsResolved: number;
  alertsEvents: number;
  /** commands run (allowed chats) */
  commands: number;
  /** messages from chats that are not allowed: ignored */
  commandsIgnored: number;
  /** allowed, but sent too long ago: answered, not run */
  commandsStale: number;
  /** getUpdates / sendMessage failures of the command loop */
  telegramErrors: number;
}

export interface BotOptions {
  config?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** already-loaded config (tests) */
  cfg?: Config;
  /** each alert as it is raised (tests) */
  onAlert?: (a: Alert) => void;
}

interface TgUpdate {
  update_id: number;
  message?: { message_id?: number; date?: number; text?: string; chat?: { id?: number } };
}

export class Bot {
  readonly counts: BotCounts = {
    polls: 0,
    pollFailures: 0,
    alertsFiring: 0,
    alertsResolved: 0,
    alertsEvents: 0,
    commands: 0,
    commandsIgnored: 0,
    commandsStale: 0,
    telegramErrors: 0,
  };
  readonly rules: AlertRules;
  readonly router: AlertRouter;
  private readonly client: ControlClient;
  private readonly telegram: TelegramApi | undefined;
  private readonly allowed: Set<number>;
  private pollTimer: NodeJS.Timeout | undefined;
  private readonly abort = new AbortController();
  private running = false;
  private commandLoop: Promise<void> | undefined;
  private offset = 0;

  constructor(
    private readonly cfg: Config,
    env: NodeJS.ProcessEnv,
    private readonly onAlert?: (a: Alert) => void,
  ) {
    const secrets = loadSecrets(cfg.secretsFile, env);
    const site = env['TICKWIRE_SITE'] || undefined;
    const { routes, telegram } = routesFromConfig(cfg.alerts, secrets.telegram?.botToken, site);
    if (routes.length === 0 && !(telegram && cfg.alerts.telegram.commandChatIds.length > 0))
      throw new ConfigError([{ path: 'alerts', message: 'no alert route: set alerts.telegram (enabled, alertChatIds) or alerts.webhooks' }]);
    this.router = new AlertRouter(routes, site ?? hostname());
    this.telegram = telegram;
    this.allowed = new Set(cfg.alerts.telegram.commandChatIds);
    this.rules = new AlertRules(cfg.alerts.rules);
    this.client = new ControlClient(cfg.persistence.dir, env);
  }

  start(): this {
    this.running = true;
    log().info(
      {
        routes: this.router.routes.map((r) => r.name),
        commandChats: this.allowed.size,
        pollMs: this.cfg.alerts.pollMs,
        dataDir: this.cfg.persistence.dir,
      },
      'bot started',
    );
    this.schedulePoll(0);
    if (this.telegram && this.allowed.size > 0) this.commandLoop = this.runCommands(this.telegram);
    return this;
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.abort.abort();
    await this.commandLoop?.catch(() => undefined);
    await this.router.idle();
    log().info({ counts: this.counts, routes: Object.fromEntries(this.router.counts) }, 'bot stopped');
  }

  private schedulePoll(ms: number): void {
    if (!this.running) return;
    this.pollTimer = setTimeout(() => void this.poll().finally(() => this.schedulePoll(this.cfg.alerts.pollMs)), ms);
  }

  /** one status read and the rules over it */
  async poll(): Promise<void> {
    this.counts.polls++;
    let alerts: Alert[];
    try {
      const st = await this.client.json('/status', Math.max(2000, Math.min(10_000, this.cfg.alerts.pollMs * 2)));
      alerts = this.rules.observe(st, Date.now());
    } catch (e) {
      this.counts.pollFailures++;
      alerts = this.rules.failed(callError(e), Date.now());
    }
    for (const a of alerts) this.raise(a);
  }

  private raise(a: Alert): void {
    if (a.state === 'firing') this.counts.alertsFiring++;
    else if (a.state === 'resolved') this.counts.alertsResolved++;
    else this.counts.alertsEvents++;
    this.onAlert?.(a);
    void this.router.send(a);
  }

  /** getUpdates long poll; one command at a time, in order */
  private async runCommands(tg: TelegramApi): Promise<void> {
    let backoff = 1000;
    while (this.running) {
      let updates: TgUpdate[];
      try {
        const r = await tg.getUpdates(this.offset, this.cfg.alerts.telegram.pollTimeoutSec, this.abort.signal);
        if (!Array.isArray(r)) throw new Error('getUpdates: result is not an array');
        updates = r as TgUpdate[];
        backoff = 1000;
      } catch (e) {
        if (!this.running) return;
        this.counts.telegramErrors++;
        log().warn({ err: (e as Error).message, retryInMs: backoff, errors: this.counts.telegramErrors }, 'telegram getUpdates failed');
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, 30_000);
        continue;
      }
      for (const u of updates) {
        if (typeof u?.update_id !== 'number') continue;
        this.offset = Math.max(this.offset, u.update_id + 1);
        await this.onMessage(tg, u);
      }
    }
  }

  private async onMessage(tg: TelegramApi, u: TgUpdate): Promise<void> {
    const m = u.message;
    const chatId = m?.chat?.id;
    const text = typeof m?.text === 'string' ? m.text.trim() : '';
    if (typeof chatId !== 'number' || !text.startsWith('/')) return;
    // `/status@my_bot args` -> `status`
    const cmd = (text.slice(1).split(/\s/)[0] ?? '').split('@')[0]!.toLowerCase().slice(0, 32);
    if (!this.allowed.has(chatId)) {
      this.counts.commandsIgnored++;
      log().warn({ event: 'command_ignored', chatId, command: cmd, ignored: this.counts.commandsIgnored }, 'command from a chat that is not allowed: ignored');
      return;
    }
    const age = typeof m?.date === 'number' ? Date.now() / 1000 - m.date : 0;
    let reply: string;
    if (age > STALE_COMMAND_SEC) {
      this.counts.commandsStale++;
      log().warn({ event: 'command_stale', chatId, command: cmd, ageSec: Math.round(age) }, 'command sent while the bot was away: not run');
      reply = `/${cmd} not run: it was sent ${Math.round(age)} s ago (the bot was away). Send it again if you still mean it.`;
    } else {
      this.counts.commands++;
      log().info({ event: 'command', chatId, command: cmd }, 'command');
      reply = await this.run(cmd);
    }
    try {
      await tg.sendMessage(chatId, reply);
    } catch (e) {
      this.counts.telegramErrors++;
      log().warn({ err: (e as Error).message, chatId }, 'telegram reply failed');
    }
  }

  /** a command's answer, as text for a person */
  async run(cmd: string): Promise<string> {
    try {
      switch (cmd) {
        case 'status': {
          const raw = await this.client.json('/status', 10_000);
          const p = statusSchema.safeParse(raw);
          return p.success
            ? formatStatus(p.data, raw as Record<string, unknown>, this.rules.active())
            : 'status: the engine answered something this bot cannot read';
        }
        case 'stop': {
          const r = await this.client.call('POST', '/stop', 10_000);
          return r.status === 200 ? 'trading stopped (open orders stay; /kill cancels them)' : `stop failed: HTTP ${r.status} ${r.text.slice(0, 200)}`;
        }
        case 'start': {
          const r = await this.client.call('POST', '/start', 10_000);
          if (r.status !== 200) return `start refused: ${errorOf(r.text) ?? `HTTP ${r.status}`}`;
          const j = JSON.parse(r.text) as { resumedVenues?: string[] };
          return `trading resumed${j.resumedVenues?.length ? `; venues resumed: ${j.resumedVenues.join(', ')}` : ''}`;
        }
        case 'kill': {
          const r = await this.client.call('POST', '/kill?wait=1', 60_000);
          if (r.status !== 200) return `kill: HTTP ${r.status} ${r.text.slice(0, 200)}`;
          const k = JSON.parse(r.text) as { verified?: boolean; openOrdersAtTrigger?: number; remainingOpen?: unknown[]; triggerToVerifiedMs?: number };
          return k.verified
            ? `kill switch fired: ${k.openOrdersAtTrigger ?? 0} open order(s) cancelled, verified in ${k.triggerToVerifiedMs} ms; nothing open`
            : `kill switch fired, cancel NOT verified: ${k.remainingOpen?.length ?? '?'} order(s) may be open. Check the venues.`;
        }
        case 'help':
          return '/status · /stop (trading stops, orders stay) · /start (resume) · /kill (cancel everything, halt)';
        default:
          return `unknown command /${cmd}; /help lists them`;
      }
    } catch (e) {
      return `/${cmd}: cannot reach the engine (${callError(e)})`;
    }
  }
}

function errorOf(text: string): string | undefined {
  try {
    const j = JSON.parse(text) as { error?: unknown };
    return typeof j.error === 'string' ? j.error : undefined;
  } catch {
    return undefined;
  }
}

/** /status for a phone screen */
export function formatStatus(s: EngineStatus, raw: Record<string, unknown>, firing: string[]): string {
  const o = raw['orders'] as { open?: number } | undefined;
  const pos = raw['positions'] as Record<string, number> | undefined;
  const lines = [
    `trading: ${s.trading} · pid ${s.process.pid} since ${s.process.startedAt}`,
    `orders sent ${s.orders.sent}, open ${o?.open ?? '?'}, rejects ${s.orders.rejects} · fills ${s.fills} · PnL ${s.pnl.toFixed(2)}`,
  ];
  if (pos) {
    const nz = Object.entries(pos).filter(([, v]) => v !== 0);
    lines.push(`positions: ${nz.length ? nz.map(([k, v]) => `${k} ${v}`).join(', ') : 'flat'}`);
  }
  lines.push(`venues: ${s.venues.length ? s.venues.map((v) => `${v.venue}${v.halted ? ' HALTED' : ''}`).join(', ') : 'none'}`);
  const stale = s.books.filter((b) => !b.tradable).map((b) => `${b.venue}:${b.symbol}`);
  if (stale.length) lines.push(`books not tradable: ${stale.join(', ')}`);
  lines.push(firing.length ? `alerts firing: ${firing.join(', ')}` : 'no alert firing');
  return lines.join('\n');
}

export async function startBot(o: BotOptions = {}): Promise<Bot> {
  const env = o.env ?? process.env;
  const cfg = o.cfg ?? loadConfig({ file: o.config, env });
  if (!cfg.control.enabled)
    throw new ConfigError([{ path: 'control.enabled', message: 'the bot talks to the engine through its control plane: it must be enabled' }]);
  return new Bot(cfg, env, o.onAlert).start();
}

export function main(argv: string[]): Promise<number> {
  return sidecarMain('bot', HELP, argv, (cfg) => startBot({ cfg }));
}
