/**
 * Wiring of market data + order entry for `tickwire run`. Each wiring returns the instruments (with their BotState
 * slots), an `OrderEntry`, a way to attach the engine's event path, and counters for the summary and /metrics.
 *
 * - `paper`: the simulator's matching core in process (src/core/paper.ts): no sockets, one coherent market.
 */
import type { BotState } from './botstate.js';
import type { Instrument, VenueId } from './types.js';
import type { OrderEntry } from './orderentry.js';
import { PaperVenue } from './paper.js';
import type { ExtraMetric } from '../control/metrics.js';

export interface Wiring {
  kind: 'paper' | 'sim' | 'live';
  /** true when the exchange's state dies with this process (embedded simulator / paper) */
  ephemeralExchange: boolean;
  instruments: Instrument[];
  entry: OrderEntry;
  /** route BotState updates to the engine's event path */
  attach(onBook: (slot: number) => void): void;
  /** start the feeds (after the engine is ready) */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** market-data frames received, per venue */
  frames(): Record<string, number>;
  /** book resyncs, per venue */
  resyncs(): Record<string, number>;
  extraMetrics(): ExtraMetric[];
  describe(): Record<string, unknown>;
}

export function wirePaper(refs: ReadonlyArray<{ venue: VenueId; symbol: string }>, state: BotState, seed = 1, rate = 600): Wiring {
  const venue = new PaperVenue({ instruments: refs, state, seed, rate });
  return {
    kind: 'paper',
    ephemeralExchange: true,
    instruments: venue.instruments,
    entry: venue,
    attach(onBook) {
      venue.onBook = onBook;
    },
    async start() {
      venue.start();
    },
    async stop() {
      await venue.close();
    },
    frames: () => ({ paper: venue.frames }),
    resyncs: () => ({ paper: 0 }),
    extraMetrics: () => [{ name: 'tickwire_md_frames_total', help: 'Market-data frames received.', type: 'counter', samples: [{ labels: { venue: 'paper' }, value: venue.frames }] }],
    describe: () => ({ mode: 'paper (simulator matching core in process)', rate, seed }),
  };
}

/**
 * Route every top-of-book write of BotState to `hook(slot)`: the adapters write BotState through `writeTop`, so
 * wrapping that method on the instance gives the engine its event path without the adapters knowing the engine.
 * (Fixed arity: no rest-args allocation per update.)
 */
export function hookBotState(state: BotState, hook: (slot: number) => void): void {
  const orig = state.writeTop.bind(state);
  state.writeTop = (slot: number, bidPx: number, bidQty: number, askPx: number, askQty: number, seq: number, exchEventMs: number, localRecvNs: number): void => {
    orig(slot, bidPx, bidQty, askPx, askQty, seq, exchEventMs, localRecvNs);
    hook(slot);
  };
}
