/**
 * No silent degradation: every resync, disconnect, reconnect, rotation, halt, rate-limit wait, stale feed and batch
 * of rejected frames is counted where it happens (a plain integer increment, nothing else on the hot path) and this
 * reporter turns the counters into log lines and /metrics samples off the hot path.
 *
 * Sources are functions that list their current samples (counter value, labels, and for the log line a few
 * fields such as the last close code or Retry-After). `flush()` (a 1 s timer, and once at stop) writes one
 * structured line per key (event + labels) whose counter grew since that key's last line:
 *   {"event":"md_resync","venue":"binanceSpot","reason":"gap","count":3,"total":7,...,"msg":"book resync"}
 * `count` is what happened since the last line of that key (the events the rate limit folded into this one),
 * `total` the counter itself. So at most one line per key per interval, whatever the event rate.
 * `metrics()` renders the same counters for /metrics (ExtraMetric, through wiring.extraMetrics()).
 */
import type { ExtraMetric } from './metric.js';
import { log } from './log.js';

export interface DegradationSample {
  /** log event name, e.g. 'md_resync' */
  event: string;
  /** Prometheus counter name, e.g. 'tickwire_md_resyncs_total' */
  metric: string;
  help: string;
  labels: Record<string, string>;
  value: number;
  /** log level of the line (default warn) */
  level?: 'info' | 'warn' | 'error';
  /** the line's message */
  msg: string;
  /** extra fields for the log line (last close reason, Retry-After, a sample frame, ...): called only for a line */
  detail?: (() => Record<string, unknown>) | undefined;
  /** counted in /metrics but never logged (e.g. frames received) */
  quiet?: boolean;
}

export type DegradationSource = () => DegradationSample[];

function keyOf(s: DegradationSample): string {
  let k = s.event;
  for (const [n, v] of Object.entries(s.labels)) k += `|${n}=${v}`;
  return k;
}

export class Degradations {
  private readonly sources: DegradationSource[] = [];
  /** counter value at each key's last line */
  private readonly logged = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  /** lines written so far */
  lines = 0;

  add(src: DegradationSource): this {
    this.sources.push(src);
    return this;
  }

  private samples(): DegradationSample[] {
    const out: DegradationSample[] = [];
    for (const s of this.sources) {
      try {
        out.push(...s());
      } catch (err) {
        log().warn({ err: (err as Error).message }, 'degradation source failed');
      }
    }
    return out;
  }

  /** One line per key whose counter grew since its last line; returns the lines written. */
  flush(): number {
    let n = 0;
    for (const s of this.samples()) {
      if (s.quiet) continue;
      const k = keyOf(s);
      const last = this.logged.get(k) ?? 0;
      if (!(s.value > last)) continue;
      this.logged.set(k, s.value);
      const line = { event: s.event, ...s.labels, count: s.value - last, total: s.value, ...(s.detail?.() ?? {}) };
      log()[s.level ?? 'warn'](line, s.msg);
      n++;
    }
    this.lines += n;
    return n;
  }

  /** Flush every `intervalMs` (default 1000: at most one line per key per second). */
  start(intervalMs = 1000): this {
    if (this.timer) return this;
    this.timer = setInterval(() => this.flush(), intervalMs);
    this.timer.unref();
    return this;
  }

  /** Stop the timer and write what is left. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.flush();
  }

  /** Every source's counters as Prometheus counters, one metric per name with its labelled samples. */
  metrics(): ExtraMetric[] {
    const byName = new Map<string, ExtraMetric>();
    for (const s of this.samples()) {
      let m = byName.get(s.metric);
      if (!m) {
        m = { name: s.metric, help: s.help, type: 'counter', samples: [] };
        byName.set(s.metric, m);
      }
      m.samples.push({ labels: s.labels, value: s.value });
    }
    return [...byName.values()];
  }
}
