/**
 * Hop latency recording: one HDR histogram per (hop, venue), values in nanoseconds.
 *
 * `record` is called on the hot path: it must not allocate. hdr-histogram-js's packed JS histogram increments a
 * typed array slot; we pre-create every histogram at startup.
 */
import * as hdr from 'hdr-histogram-js';
import { VENUES, type VenueId } from '../core/types.js';

export const enum Hop {
  /** frame received -> parsed */
  Parse = 0,
  /** parsed -> book applied */
  Apply = 1,
  /** book applied -> BotState written */
  StateWrite = 2,
  /** BotState written -> strategy decided */
  Decide = 3,
  /** decided -> risk passed */
  Risk = 4,
  /** risk passed -> order signed */
  Sign = 5,
  /** signed -> bytes written to the socket */
  Write = 6,
  /** bytes written -> ack received */
  Ack = 7,
  /** bytes written -> fill received */
  Fill = 8,
  /** exchange event time -> local receive (feed delay; clocks of two machines, ms precision) */
  FeedDelay = 9,
  /** frame received -> BotState written (what the strategy waits for) */
  RecvToState = 10,
  /** frame received -> order bytes written (tick to trade) */
  TickToTrade = 11,
  /** hot loop lateness against the scheduled tick */
  LoopLateness = 12,
}

export const HOP_NAMES = [
  'parse', 'apply', 'state_write', 'decide', 'risk', 'sign', 'write', 'ack', 'fill', 'feed_delay',
  'recv_to_state', 'tick_to_trade', 'loop_lateness',
] as const;
export const HOP_COUNT = HOP_NAMES.length;

/** Venue index for hops that belong to no venue (loop lateness). */
export const NO_VENUE = VENUES.length;

export class HopRecorder {
  /** [hop * (venues+1) + venue] */
  readonly histograms: hdr.Histogram[];
  private readonly width = VENUES.length + 1;

  constructor(highestNs = 60_000_000_000) {
    this.histograms = [];
    for (let i = 0; i < HOP_COUNT * this.width; i++) {
      this.histograms.push(
        hdr.build({ bitBucketSize: 'packed', lowestDiscernibleValue: 1, highestTrackableValue: highestNs, numberOfSignificantValueDigits: 3, useWebAssembly: false }),
      );
    }
  }

  record(hop: Hop, venue: number, ns: number): void {
    const h = this.histograms[hop * this.width + venue];
    if (h !== undefined && ns >= 0) h.recordValue(ns);
  }

  get(hop: Hop, venue: number): hdr.Histogram | undefined {
    return this.histograms[hop * this.width + venue];
  }

  venueName(venue: number): VenueId | 'none' {
    return VENUES[venue] ?? 'none';
  }
}
