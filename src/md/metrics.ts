/**
 * Prometheus text for the market-data counters (for the /metrics endpoint owner to append):
 *   tickwire_md_frames_total{venue="binanceSpot"} 1234
 *   tickwire_md_parse_errors_total{venue="bybitLinear",reason="negative"} 1
 * Cold path: builds a string.
 */
import type { VenueId } from '../model/types.js';
import { REASON_COUNT, REASON_NAMES } from '../codec/scan.js';
import { RESYNC_REASON_COUNT, RESYNC_REASON_NAMES, type MdCounters, type RejectedFrames } from './common.js';
import type { DegradationSample, DegradationSource } from '../util/degrade.js';

const COUNTERS: Array<[keyof MdCounters, string, string]> = [
  ['frames', 'frames_total', 'WebSocket frames received'],
  ['bytes', 'bytes_total', 'bytes of frames received'],
  ['applied', 'applied_total', 'hot frames applied to a book or BotState'],
  ['cold', 'cold_frames_total', 'control frames (acks, pongs) parsed with JSON.parse'],
  ['ignored', 'ignored_frames_total', 'frames of streams not used on the hot path'],
  ['gaps', 'gaps_total', 'sequence gaps detected (each starts a resync)'],
  ['duplicates', 'duplicates_total', 'duplicate or older diffs ignored'],
  ['preSyncDropped', 'presync_dropped_total', 'diffs dropped before sync per the exchange algorithm'],
  ['crossed', 'crossed_total', 'crossed books detected (each starts a resync)'],
  ['resyncs', 'resyncs_total', 'resyncs started'],
  ['snapshots', 'snapshots_total', 'snapshots applied'],
  ['snapshotFailures', 'snapshot_failures_total', 'REST snapshot requests that failed'],
  ['snapshotsTooOld', 'snapshots_too_old_total', 'snapshots older than the buffered diffs, refetched'],
  ['deltasWithoutSnapshot', 'deltas_without_snapshot_total', 'deltas received while no snapshot was held'],
  ['staleMarks', 'stale_marks_total', 'feeds marked stale by the watchdog'],
  ['reconnects', 'reconnects_total', 'WebSocket reconnects'],
  ['rotations', 'rotations_total', 'planned connection rotations'],
];

export function mdMetricsText(byVenue: Partial<Record<VenueId, MdCounters>>, prefix = 'tickwire_md_'): string {
  const venues = Object.entries(byVenue) as Array<[VenueId, MdCounters]>;
  let out = '';
  for (const [field, name, help] of COUNTERS) {
    out += `# HELP ${prefix}${name} ${help}\n# TYPE ${prefix}${name} counter\n`;
    for (const [v, c] of venues) out += `${prefix}${name}{venue="${v}"} ${Number(c[field])}\n`;
  }
  out += `# HELP ${prefix}parse_errors_total frames rejected by the parsers, by reason\n# TYPE ${prefix}parse_errors_total counter\n`;
  for (const [v, c] of venues) {
    for (let r = 1; r < REASON_COUNT; r++) out += `${prefix}parse_errors_total{venue="${v}",reason="${REASON_NAMES[r]}"} ${c.parseErrors[r] ?? 0}\n`;
  }
  return out;
}

/**
 * One adapter's degradations for the `Degradations` reporter (log lines, rate-limited) and /metrics: resyncs by
 * reason, rejected frames by reason (each line with a sample frame), REST snapshot failures (last error and the
 * wait before the retry: Retry-After on 429/418), snapshots refetched as too old. Stale feeds, disconnects and
 * reconnects are the connection's (src/net/ws.ts `wsDegradations`).
 */
export function mdDegradations(venue: string, c: MdCounters, rejected?: RejectedFrames): DegradationSource {
  return () => {
    const out: DegradationSample[] = [];
    for (let r = 1; r < RESYNC_REASON_COUNT; r++) {
      out.push({
        event: 'md_resync',
        metric: 'tickwire_md_resyncs_total',
        help: 'Order book resyncs started, by reason (gap, crossed, disconnect, rejected_diff).',
        labels: { venue, reason: RESYNC_REASON_NAMES[r] as string },
        value: c.resyncReasons[r] as number,
        msg: 'book resync',
      });
    }
    for (let r = 1; r < REASON_COUNT; r++) {
      const value = c.parseErrors[r] as number;
      if (value === 0) continue; // many reasons: only those that happened
      out.push({
        event: 'md_rejected_frames',
        metric: 'tickwire_md_rejected_frames_total',
        help: 'Market-data frames rejected by the parsers, by reason.',
        labels: { venue, reason: REASON_NAMES[r] as string },
        value,
        msg: 'md frames rejected',
        detail: () => ({ sample: rejected?.takeSample(r) }),
      });
    }
    out.push(
      {
        event: 'md_snapshot_failed',
        metric: 'tickwire_md_snapshot_failures_total',
        help: 'REST book snapshot requests that failed (retried after a backoff or Retry-After).',
        labels: { venue },
        value: c.snapshotFailures,
        msg: 'depth snapshot failed',
        detail: () => ({ err: c.lastSnapshotError, retryInMs: c.lastSnapshotRetryMs }),
      },
      {
        event: 'md_snapshot_too_old',
        metric: 'tickwire_md_snapshots_too_old_total',
        help: 'REST snapshots older than the buffered diffs, fetched again.',
        labels: { venue },
        value: c.snapshotsTooOld,
        msg: 'depth snapshot older than the buffered diffs: refetched',
      },
      {
        event: 'md_stale_recovered',
        metric: 'tickwire_md_stale_recoveries_total',
        help: 'Books fresh again after a stale mark.',
        labels: { venue },
        value: c.staleRecoveries,
        msg: 'books fresh again',
        quiet: true,
      },
      {
        event: 'md_stale',
        metric: 'tickwire_md_stale_marks_total',
        help: 'Books marked stale by the watchdog.',
        labels: { venue },
        value: c.staleMarks,
        msg: 'books stale',
        quiet: true,
      },
    );
    return out;
  };
}
