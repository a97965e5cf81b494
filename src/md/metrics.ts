/**
 * Prometheus text for the market-data counters (for the /metrics endpoint owner to append):
 *   tickwire_md_frames_total{venue="binanceSpot"} 1234
 *   tickwire_md_parse_errors_total{venue="bybitLinear",reason="negative"} 1
 * Cold path: builds a string.
 */
import type { VenueId } from '../core/types.js';
import { REASON_COUNT, REASON_NAMES } from './scan.js';
import type { MdCounters } from './common.js';

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
