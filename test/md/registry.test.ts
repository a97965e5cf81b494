/**
 * Market data through the venue registry against the simulator: each venue's driver fetches its instrument and
 * starts its adapter from the simulator's endpoints; every slot becomes valid and BotState's top of book equals the
 * simulator's best bid/ask when the generator pauses.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSim, type SimHandle } from '../../src/sim/index.js';
import { accessFromSim } from '../../src/exchange/endpoints.js';
import { VENUE_DRIVERS, type MdAdapter } from '../../src/exchange/registry.js';
import { mdMetricsText } from '../../src/md/metrics.js';
import type { MdCounters } from '../../src/md/common.js';
import { BotState, F, FLAG_VALID } from '../../src/model/botstate.js';
import type { Instrument, VenueId } from '../../src/model/types.js';

const VENUES: VenueId[] = ['binanceSpot', 'binanceUsdm', 'bybitLinear', 'bybitSpot'];
let sim: SimHandle;
const adapters: Partial<Record<VenueId, MdAdapter>> = {};

beforeAll(async () => {
  sim = await startSim({ seed: 11, symbols: ['BTCUSDT'], rate: 1000 });
});
afterAll(async () => {
  await Promise.all(Object.values(adapters).map((a) => a.stop()));
  await sim?.close();
});

describe('market data through the registry', () => {
  it("starts every venue from the simulator's endpoints and fills BotState", async () => {
    const ep = accessFromSim(sim);
    const state = BotState.create(4);
    const instruments: Instrument[] = [];
    for (const [slot, venue] of VENUES.entries()) {
      const d = VENUE_DRIVERS[venue];
      const list = await d.fetchInstruments(ep[venue]!, ['BTCUSDT'], slot);
      instruments.push(...list);
      adapters[venue] = d.createMd(ep[venue]!, list, { state });
    }
    await Promise.all(Object.values(adapters).map((a) => a.start()));
    expect(instruments.map((i) => [i.venue, i.slot])).toEqual(VENUES.map((v, slot) => [v, slot]));
    const deadline = Date.now() + 8000;
    while (Date.now() < deadline && !instruments.every((i) => (state.flags(i.slot) & FLAG_VALID) !== 0)) await new Promise((r) => setTimeout(r, 20));
    for (const i of instruments) expect(state.flags(i.slot) & FLAG_VALID).toBe(FLAG_VALID);
    sim.generator.stop();
    try {
      await new Promise((r) => setTimeout(r, 400)); // Bybit pushes its window every 100 ms
      for (const i of instruments) {
        const sb = sim.ctx.books.get(i.venue)!.get('BTCUSDT')!;
        expect(state.get(i.slot, F.bidPx), `${i.venue} bid`).toBe(sb.bestBid()!.priceTicks);
        expect(state.get(i.slot, F.askPx), `${i.venue} ask`).toBe(sb.bestAsk()!.priceTicks);
        expect(adapters[i.venue]!.book('BTCUSDT')!.bestAskQty()).toBe(sb.bestAsk()!.qtyLots);
      }
    } finally {
      sim.generator.start();
    }
    const by: Partial<Record<VenueId, MdCounters>> = {};
    for (const v of VENUES) by[v] = adapters[v]!.counters;
    expect(mdMetricsText(by)).toContain('tickwire_md_frames_total{venue="bybitSpot"}');
    expect(adapters.binanceSpot!.counters.gaps + adapters.bybitLinear!.counters.gaps).toBe(0);
  });
});
