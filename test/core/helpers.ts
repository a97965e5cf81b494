import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BotState } from '../../src/model/botstate.js';
import { Engine } from '../../src/engine/engine.js';
import { PaperVenue } from '../../src/exchange/paper.js';
import { HopRecorder } from '../../src/util/hops.js';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import type { Strategy } from '../../src/strategy/types.js';
import { Journal } from '../../src/persist/journal.js';
import type { OrderIds } from '../../src/model/ids.js';
import { OrderManager } from '../../src/orders/manager.js';
import type { VenueId } from '../../src/model/types.js';

export function tmpDir(tag: string): string {
  return mkdtempSync(join(tmpdir(), `tw-${tag}-`));
}

export function rmDir(d: string): void {
  rmSync(d, { recursive: true, force: true });
}

export function testConfig(overrides: Record<string, unknown> = {}): Config {
  return loadConfig({ env: {}, overrides });
}

export interface Rig {
  cfg: Config;
  state: BotState;
  venue: PaperVenue;
  engine: Engine;
  hops: HopRecorder;
  journal: Journal | undefined;
  close(): Promise<void>;
}

export const DEFAULT_REFS: Array<{ venue: VenueId; symbol: string }> = [
  { venue: 'binanceSpot', symbol: 'BTCUSDT' },
  { venue: 'bybitLinear', symbol: 'BTCUSDT' },
];

export function rig(
  opts: {
    cfg?: Config;
    strategy?: Strategy;
    venue?: PaperVenue;
    state?: BotState;
    journalDir?: string;
    /** the order owner (default: a new one over the venue's gateways) */
    orders?: OrderManager;
    ids?: OrderIds;
    rate?: number;
  } = {},
): Rig {
  const cfg = opts.cfg ?? testConfig();
  const state = opts.state ?? BotState.create(8);
  const venue = opts.venue ?? new PaperVenue({ instruments: DEFAULT_REFS, state, rate: opts.rate ?? 2000, seed: 7 });
  const hops = new HopRecorder();
  const journal = opts.journalDir ? Journal.open(opts.journalDir, cfg.persistence) : undefined;
  const orders = opts.orders ?? ownerFor(venue, state, opts.ids);
  const engine = new Engine({ config: cfg, state, instruments: venue.instruments, orders, hops, journal, strategy: opts.strategy });
  venue.onBook = (slot) => engine.onBookUpdate(slot);
  return {
    cfg,
    state,
    venue,
    engine,
    hops,
    journal,
    async close() {
      engine.shutdown();
      await venue.close();
    },
  };
}

/** The order owner over a paper venue's gateways (what `tickwire run --paper` wires). */
export function ownerFor(venue: PaperVenue, state: BotState, ids?: OrderIds): OrderManager {
  return new OrderManager({ instruments: venue.instruments, gateways: venue.gateways, slots: state.slots, ...(ids ? { ids } : {}) });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Wait until cond() holds, polling; throws after `ms`. */
export async function until(cond: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}
