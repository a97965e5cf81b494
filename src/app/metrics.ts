/**
 * Prometheus text exposition (format 0.0.4) of the engine's counters and gauges. Built on request (off the hot
 * path); every value is read from counters the hot path already keeps.
 *
 * `processMetrics()` adds the process metrics under the names the ecosystem's dashboards use: prom-client's default
 * collectors on a registry of their own (process_resident_memory_bytes, process_open_fds / process_max_fds,
 * process_cpu_*_seconds_total, process_start_time_seconds, nodejs_heap_size_used_bytes / total,
 * nodejs_gc_duration_seconds{kind}, nodejs_eventloop_lag_p50/p99_seconds since the previous scrape, ...).
 * They are read at scrape time; the only standing cost is a perf_hooks GC observer (one callback per GC) and
 * monitorEventLoopDelay (a libuv timer sampled in C++, 10 ms resolution). Started once per process, by the
 * control plane's start.
 */
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { Engine } from '../engine/engine.js';
import { F } from '../model/botstate.js';
import { REFUSAL_NAMES } from '../risk/pretrade.js';
import { HOP_NAMES, type Hop } from '../util/hops.js';
import { VENUES, type VenueId } from '../model/types.js';
import { nowNs } from '../util/clock.js';

import type { ExtraMetric } from '../util/metric.js';

export type { ExtraMetric };

function esc(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labels(l: Record<string, string> | undefined): string {
  if (!l) return '';
  const parts = Object.entries(l).map(([k, v]) => `${k}="${esc(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

function num(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** Each order venue and whether it refuses orders now (halted by an auth failure or a ban, until resumed). */
export function venueHalts(engine: Engine): Array<{ venue: VenueId; halted: boolean }> {
  return engine.orders.venues().map((venue) => ({ venue, halted: engine.orders.gateway(venue)?.isHalted() ?? false }));
}

/** Each book: tradable (synced, fresh, uncrossed) and the time since its feed's last message of any kind, ms. */
export function bookHealth(engine: Engine): Array<{ venue: VenueId; symbol: string; tradable: boolean; lastMessageAgeMs: number }> {
  const now = nowNs();
  return engine.instruments.map((i) => ({
    venue: i.venue,
    symbol: i.symbol,
    tradable: engine.state.tradable(i.slot),
    // 0 = no message yet: its age is the process's age (a book that never got data is the stalest of all)
    lastMessageAgeMs: Math.max(0, Math.round((now - engine.state.get(i.slot, F.lastMsgNs)) / 1e6)),
  }));
}

export function renderMetrics(engine: Engine, extra: ExtraMetric[] = []): string {
  const out: string[] = [];
  const metric = (m: ExtraMetric): void => {
    out.push(`# HELP ${m.name} ${m.help}`, `# TYPE ${m.name} ${m.type}`);
    for (const s of m.samples) out.push(`${m.name}${labels(s.labels)} ${num(s.value)}`);
  };
  const ins = engine.instruments;
  const st = engine.state;
  const perIns = (field: number) => ins.map((i) => ({ labels: { venue: i.venue, symbol: i.symbol }, value: st.get(i.slot, field) }));
  metric({
    name: 'tickwire_book_updates_total',
    help: 'Book updates applied to BotState (market-data frames that changed the book).',
    type: 'counter',
    samples: perIns(F.updates),
  });
  metric({ name: 'tickwire_book_resyncs_total', help: 'Order book resynchronisations.', type: 'counter', samples: perIns(F.resyncs) });
  metric({
    name: 'tickwire_book_tradable',
    help: '1 when the book is synced, fresh and uncrossed.',
    type: 'gauge',
    samples: ins.map((i) => ({ labels: { venue: i.venue, symbol: i.symbol }, value: st.tradable(i.slot) ? 1 : 0 })),
  });
  metric({
    name: 'tickwire_book_last_message_age_seconds',
    help: "Seconds since the book's feed last delivered a message of any kind.",
    type: 'gauge',
    samples: bookHealth(engine).map((b) => ({ labels: { venue: b.venue, symbol: b.symbol }, value: b.lastMessageAgeMs / 1000 })),
  });
  metric({
    name: 'tickwire_venue_halted',
    help: '1 while the venue refuses orders (auth failure or ban: until it ends or an operator resumes), else 0.',
    type: 'gauge',
    samples: venueHalts(engine).map((v) => ({ labels: { venue: v.venue }, value: v.halted ? 1 : 0 })),
  });
  metric({ name: 'tickwire_orders_sent_total', help: 'Orders sent (passed risk).', type: 'counter', samples: [{ value: engine.ordersSent }] });
  metric({ name: 'tickwire_order_acks_total', help: 'Orders acknowledged by the exchange.', type: 'counter', samples: [{ value: engine.acks }] });
  metric({ name: 'tickwire_cancels_total', help: 'Orders cancelled (confirmed).', type: 'counter', samples: [{ value: engine.cancels }] });
  metric({ name: 'tickwire_fills_total', help: 'Fills booked.', type: 'counter', samples: [{ value: engine.portfolio.fills }] });
  metric({
    name: 'tickwire_fills_unknown_order_total',
    help: 'Fills of orders the engine does not know (not booked).',
    type: 'counter',
    samples: [{ value: engine.store.counts.unknownFills }],
  });
  metric({ name: 'tickwire_open_orders', help: 'Orders not yet in a terminal state.', type: 'gauge', samples: [{ value: engine.store.openCount() }] });
  const rej = [...engine.rejectsByReason.entries()].map(([reason, value]) => ({ labels: { reason }, value }));
  metric({
    name: 'tickwire_rejects_total',
    help: 'Exchange rejects by reason.',
    type: 'counter',
    samples: rej.length ? rej : [{ labels: { reason: 'none' }, value: 0 }],
  });
  const refusals = [];
  for (let i = 1; i < REFUSAL_NAMES.length; i++) refusals.push({ labels: { reason: REFUSAL_NAMES[i] as string }, value: engine.risk.refusals[i] as number });
  metric({ name: 'tickwire_risk_refusals_total', help: 'Orders refused by pre-trade risk, by reason.', type: 'counter', samples: refusals });
  metric({
    name: 'tickwire_position',
    help: 'Signed position in base currency.',
    type: 'gauge',
    samples: ins.map((i) => ({ labels: { venue: i.venue, symbol: i.symbol }, value: engine.portfolio.positionReal(i.slot) })),
  });
  metric({
    name: 'tickwire_pnl_quote',
    help: 'Realized + unrealized PnL at mid, quote currency, net of fees (quote fees, base fees out of the position, third-asset fees valued at a configured instrument; see tickwire_fees_paid).',
    type: 'gauge',
    samples: [{ value: engine.pnl() }],
  });
  const paid = Object.entries(engine.portfolio.feesByAsset());
  metric({
    name: 'tickwire_fees_paid',
    help: 'Fees booked since start, per commission asset, in that asset (negative: rebates).',
    type: 'gauge',
    samples: paid.length ? paid.map(([asset, v]) => ({ labels: { asset }, value: v })) : [{ labels: { asset: 'none' }, value: 0 }],
  });
  metric({
    name: 'tickwire_trading',
    help: '1 running, 0 stopped, -1 killed.',
    type: 'gauge',
    samples: [{ value: engine.trading === 'running' ? 1 : engine.trading === 'stopped' ? 0 : -1 }],
  });
  metric({ name: 'tickwire_loop_ticks_total', help: 'Hot loop ticks run.', type: 'counter', samples: [{ value: engine.loop.ticks }] });
  metric({
    name: 'tickwire_loop_busy_polls_total',
    help: 'Busy-poll mode: event-loop turns between ticks (the poll rate; 0 in the other modes).',
    type: 'counter',
    samples: [{ value: engine.loop.spins }],
  });
  metric({
    name: 'tickwire_order_warmups_total',
    help: 'Never-sent orders built and signed to keep the order path hot (busy mode, loop.warmUs).',
    type: 'counter',
    samples: [{ value: engine.warmups }],
  });
  metric({
    name: 'tickwire_loop_skipped_total',
    help: 'Hot loop deadlines skipped (more than a period late).',
    type: 'counter',
    samples: [{ value: engine.loop.skipped }],
  });
  const j = engine.journal;
  if (j) {
    metric({ name: 'tickwire_journal_records_total', help: 'Records appended to the journal.', type: 'counter', samples: [{ value: j.records }] });
    metric({ name: 'tickwire_journal_fsyncs_total', help: 'Journal fsyncs.', type: 'counter', samples: [{ value: j.fsyncs }] });
    metric({
      name: 'tickwire_journal_write_errors_total',
      help: 'Journal write/fsync errors (any one fires the kill switch).',
      type: 'counter',
      samples: [{ value: j.writeErrors }],
    });
  }
  metric({
    name: 'tickwire_strategy_errors_total',
    help: 'Exceptions thrown by the strategy.',
    type: 'counter',
    samples: [{ value: engine.runner?.errorsTotal ?? 0 }],
  });
  // hop latency quantiles (summary without sum/count per quantile set)
  out.push('# HELP tickwire_hop_latency_seconds Hop latency quantiles since start.', '# TYPE tickwire_hop_latency_seconds summary');
  for (let h = 0; h < HOP_NAMES.length; h++) {
    for (let v = 0; v <= VENUES.length; v++) {
      const hist = engine.hops.total(h as Hop, v);
      if (!hist || hist.totalCount === 0) continue;
      const l = { hop: HOP_NAMES[h] as string, venue: engine.hops.venueName(v) };
      for (const q of [0.5, 0.9, 0.99, 0.999])
        out.push(`tickwire_hop_latency_seconds${labels({ ...l, quantile: String(q) })} ${num(hist.getValueAtPercentile(q * 100) / 1e9)}`);
      out.push(`tickwire_hop_latency_seconds_sum${labels(l)} ${num((hist.mean * hist.totalCount) / 1e9)}`);
      out.push(`tickwire_hop_latency_seconds_count${labels(l)} ${hist.totalCount}`);
    }
  }
  for (const m of extra) metric(m);
  return out.join('\n') + '\n';
}

let processRegistry: Registry | undefined;

/** Start the process collectors (idempotent: once per process, whatever the number of control servers). */
export function startProcessMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/**
 * Process metrics (prom-client default collectors) as exposition text, without the blank lines between families, and
 * with NaN spelled as the format says (prom-client 15 writes `Nan`, e.g. an event-loop lag with no sample since the
 * previous scrape).
 */
export async function processMetrics(): Promise<string> {
  const text = await startProcessMetrics().metrics();
  return text
    .replace(/\n{2,}/g, '\n')
    .replace(/^\n+/, '')
    .replace(/ Nan$/gm, ' NaN');
}
