/**
 * Alert rules over what the engine's control plane says (GET /status), evaluated outside the engine by
 * `tickwire bot`. Pure: `observe(status | failure, nowMs)` returns the alerts to send, nothing else happens here.
 *
 * One alert per episode: a condition that becomes true fires once (`firing`), and once it clears one `resolved`
 * follows; while it holds nothing more is sent. A restart of the engine is an event (`event`: no resolve).
 *
 * | key                           | fires when                                                          | resolves when          |
 * |-------------------------------|---------------------------------------------------------------------|------------------------|
 * | engine_unreachable            | no valid status for `unreachableSec` (a hang, a crash, a stop)      | a status again         |
 * | engine_restarted              | `process.pid` / `process.startedAt` changed since the last status    | (event)                |
 * | kill_switch                   | the kill switch fired (`trading: killed`)                           | not killed (restart)   |
 * | venue_halted:VENUE            | the venue refuses orders (auth failure, ban)                        | resumed                |
 * | book_stale:VENUE:SYMBOL       | its feed silent for `bookStaleSec`                                  | a message again        |
 * | drawdown                      | PnL more than `maxDrawdown` below its peak since the engine started  | back within the limit  |
 * | reject_rate                   | rejects / sent over `rejectWindowSec` > `maxRejectRate` (min orders) | below it               |
 * | no_fills                      | trading and no fill for `noFillsSec`                                | a fill, or not trading |
 *
 * A restart of the engine resets what is counted per process (peak PnL, the reject window, the last fill's time).
 * The status is checked whole at the edge: an answer without the fields these rules read is a failed poll.
 */
import { z } from 'zod';
import type { AlertRulesConfig } from '../config/alerts.js';

export type AlertSeverity = 'critical' | 'warning' | 'info';

/** The rules' alert keys (a per-venue or per-book key is `venue_halted:VENUE`, `book_stale:VENUE:SYMBOL`). */
export const ALERT_KEYS = [
  'engine_unreachable',
  'engine_restarted',
  'kill_switch',
  'venue_halted',
  'book_stale',
  'drawdown',
  'reject_rate',
  'no_fills',
] as const;

export interface Alert {
  /** the condition, e.g. `venue_halted:binanceSpot` (a firing and its resolved share it) */
  key: string;
  state: 'firing' | 'resolved' | 'event';
  severity: AlertSeverity;
  /** one line, e.g. "kill switch fired" */
  title: string;
  /** details, a few lines */
  text: string;
  /** ISO time of the observation that raised it */
  at: string;
  /** which process raised it */
  source: 'bot' | 'watchdog';
}

/** The part of GET /status the rules read; anything else in the answer is ignored. */
export const statusSchema = z.object({
  trading: z.enum(['running', 'stopped', 'killed']),
  killSwitch: z.unknown(),
  orders: z.object({ sent: z.number().nonnegative(), rejects: z.number().nonnegative() }),
  fills: z.number().nonnegative(),
  pnl: z.number(),
  process: z.object({ pid: z.number().int().positive(), startedAt: z.string().min(1) }),
  venues: z.array(z.object({ venue: z.string(), halted: z.boolean() })),
  books: z.array(z.object({ venue: z.string(), symbol: z.string(), tradable: z.boolean(), lastMessageAgeMs: z.number().nonnegative() })),
});
export type EngineStatus = z.infer<typeof statusSchema>;

interface Firing {
  severity: AlertSeverity;
  title: string;
}

const fmt = (x: number, d = 2): string => (Number.isFinite(x) ? x.toFixed(d) : String(x));

export class AlertRules {
  private readonly firing = new Map<string, Firing>();
  private lastOkMs: number | undefined;
  private firstSeenMs: number | undefined;
  private lastError = '';
  private proc: string | undefined;
  private peakPnl = 0;
  private window: Array<{ t: number; sent: number; rejects: number }> = [];
  private lastFills = -1;
  private lastFillMs = 0;

  constructor(private readonly rules: AlertRulesConfig) {}

  /** keys of the conditions firing now */
  active(): string[] {
    return [...this.firing.keys()];
  }

  /** A poll that failed (no answer, refused, malformed): `reason` says which. */
  failed(reason: string, nowMs: number): Alert[] {
    this.firstSeenMs ??= nowMs;
    this.lastError = reason;
    const out: Alert[] = [];
    const since = this.lastOkMs ?? this.firstSeenMs;
    const secs = (nowMs - since) / 1000;
    this.set(out, nowMs, 'engine_unreachable', secs >= this.rules.unreachableSec, 'critical', 'engine not answering', () =>
      [
        `the control plane has not answered for ${fmt(secs, 0)} s: ${reason}`,
        this.lastOkMs === undefined ? 'no status since the bot started' : `last status ${new Date(this.lastOkMs).toISOString()}`,
      ].join('\n'),
    );
    return out;
  }

  /** A status answer: validated whole, then every rule. */
  observe(raw: unknown, nowMs: number): Alert[] {
    const parsed = statusSchema.safeParse(raw);
    if (!parsed.success) {
      const i = parsed.error.issues[0];
      return this.failed(`malformed status (${i ? `${i.path.join('.')}: ${i.message}` : 'invalid'})`, nowMs);
    }
    const s = parsed.data;
    const out: Alert[] = [];
    this.firstSeenMs ??= nowMs;
    this.lastOkMs = nowMs;
    this.set(out, nowMs, 'engine_unreachable', false, 'critical', 'engine not answering', () => `answering again (was: ${this.lastError})`);

    // restart: a new process answers
    const proc = `${s.process.pid}@${s.process.startedAt}`;
    if (this.proc !== undefined && this.proc !== proc) {
      out.push(this.alert(nowMs, 'engine_restarted', 'event', 'warning', 'engine restarted', `pid ${s.process.pid}, started ${s.process.startedAt}`));
      this.peakPnl = 0;
      this.window = [];
      this.lastFills = -1;
    }
    this.proc = proc;

    const ks = s.killSwitch as { source?: unknown; detail?: unknown; verified?: unknown; remainingOpen?: unknown[] } | string | null | undefined;
    this.set(out, nowMs, 'kill_switch', s.trading === 'killed' || (ks !== null && ks !== undefined), 'critical', 'kill switch fired', () => {
      if (typeof ks !== 'object' || ks === null) return `trading: ${s.trading}; cancel-all ${typeof ks === 'string' ? ks : 'in progress'}`;
      const open = Array.isArray(ks.remainingOpen) ? ks.remainingOpen.length : 0;
      return `source ${String(ks.source)}: ${String(ks.detail)}\ncancel-all ${ks.verified === true ? 'verified: nothing open' : `NOT verified: ${open} order(s) may be open`}`;
    });

    for (const v of s.venues)
      this.set(
        out,
        nowMs,
        `venue_halted:${v.venue}`,
        v.halted,
        'critical',
        `venue ${v.venue} halted`,
        () => `${v.venue} refuses orders (auth failure or ban); \`tickwire start\` resumes it`,
      );

    if (this.rules.bookStaleSec > 0)
      for (const b of s.books)
        this.set(
          out,
          nowMs,
          `book_stale:${b.venue}:${b.symbol}`,
          b.lastMessageAgeMs >= this.rules.bookStaleSec * 1000,
          'warning',
          `book ${b.venue} ${b.symbol} stale`,
          () =>
            b.lastMessageAgeMs >= this.rules.bookStaleSec * 1000
              ? `no market data for ${fmt(b.lastMessageAgeMs / 1000, 0)} s (limit ${this.rules.bookStaleSec} s)`
              : 'market data flows again',
        );

    if (this.rules.maxDrawdown > 0) {
      this.peakPnl = Math.max(this.peakPnl, s.pnl);
      const dd = this.peakPnl - s.pnl;
      this.set(
        out,
        nowMs,
        'drawdown',
        dd > this.rules.maxDrawdown,
        'critical',
        'drawdown beyond the limit',
        () => `PnL ${fmt(s.pnl)} is ${fmt(dd)} below its peak ${fmt(this.peakPnl)} (limit ${this.rules.maxDrawdown})`,
      );
    }

    if (this.rules.maxRejectRate > 0) {
      this.window.push({ t: nowMs, sent: s.orders.sent, rejects: s.orders.rejects });
      const from = nowMs - this.rules.rejectWindowSec * 1000;
      while (this.window.length > 1 && (this.window[1] as { t: number }).t <= from) this.window.shift();
      const first = this.window[0] as { sent: number; rejects: number };
      const sent = s.orders.sent - first.sent;
      const rej = s.orders.rejects - first.rejects;
      const rate = sent > 0 ? rej / sent : 0;
      this.set(
        out,
        nowMs,
        'reject_rate',
        sent >= this.rules.minOrdersForRate && rate > this.rules.maxRejectRate,
        'warning',
        'reject rate beyond the limit',
        () =>
          `${rej} rejects of ${sent} orders over the last ${this.rules.rejectWindowSec} s (${fmt(rate * 100, 0)} %, limit ${fmt(this.rules.maxRejectRate * 100, 0)} %)`,
      );
    }

    if (this.rules.noFillsSec > 0) {
      // the clock starts at the first status, at every new fill, and while not trading
      if (this.lastFills < 0 || s.fills !== this.lastFills || s.trading !== 'running') this.lastFillMs = nowMs;
      this.lastFills = s.fills;
      const quiet = (nowMs - this.lastFillMs) / 1000;
      this.set(out, nowMs, 'no_fills', s.trading === 'running' && quiet >= this.rules.noFillsSec, 'warning', 'no fills', () =>
        s.trading !== 'running'
          ? `trading is ${s.trading}`
          : quiet >= this.rules.noFillsSec
            ? `no fill for ${fmt(quiet / 3600, 1)} h while trading`
            : `filled again (${s.fills} fills)`,
      );
    }
    return out;
  }

  private alert(nowMs: number, key: string, state: Alert['state'], severity: AlertSeverity, title: string, text: string): Alert {
    return { key, state, severity, title, text, at: new Date(nowMs).toISOString(), source: 'bot' };
  }

  /** fire on the rising edge, resolve on the falling edge, nothing in between */
  private set(out: Alert[], nowMs: number, key: string, on: boolean, severity: AlertSeverity, title: string, text: () => string): void {
    const was = this.firing.get(key);
    if (on && !was) {
      this.firing.set(key, { severity, title });
      out.push(this.alert(nowMs, key, 'firing', severity, title, text()));
    } else if (!on && was) {
      this.firing.delete(key);
      out.push(this.alert(nowMs, key, 'resolved', was.severity, was.title, text()));
    }
  }
}

/** The alert as one message for a person (Telegram, logs): `[FIRING] kill switch fired` and its details. */
export function formatAlert(a: Alert, site?: string): string {
  const tag = a.state === 'firing' ? 'FIRING' : a.state === 'resolved' ? 'RESOLVED' : 'EVENT';
  const where = site ? ` (${site})` : '';
  return `[${tag}] ${a.title}${where}\n${a.text}\n${a.at} · ${a.key} · ${a.severity} · from ${a.source}`;
}
