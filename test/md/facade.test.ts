/**
 * startMarketData against the simulator: one call starts the four adapters from the printed endpoints; every
 * slot becomes valid and BotState's top of book equals the simulator's best bid/ask when the generator pauses.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSim, type SimHandle } from '../../src/sim/index.js';
import { fetchBinanceInstruments, fetchBybitInstruments } from '../../src/exchange/reference.js';
import { startMarketData, type MarketDataHandle } from '../../src/exchange/md.js';
import { BotState, F, FLAG_VALID } from '../../src/model/botstate.js';
import type { Instrument } from '../../src/model/types.js';

let sim: SimHandle;
let md: MarketDataHandle | undefined;

beforeAll(async () => {
  sim = await startSim({ seed: 11, symbols: ['BTCUSDT'], rate: 1000 });
});
afterAll(async () => {
  await md?.stop();
  await sim?.close();
});

describe('startMarketData', () => {
  it('starts every venue from endpoints and fills BotState', async () => {
    const e = sim.endpoints;
    const instruments: Instrument[] = [
      ...(await fetchBinanceInstruments(e.binanceSpot!.restBaseUrl, 'spot', ['BTCUSDT'], 0)),
      ...(await fetchBinanceInstruments(e.binanceUsdm!.restBaseUrl, 'usdm', ['BTCUSDT'], 1)),
      ...(await fetchBybitInstruments(e.bybit!.restBaseUrl, 'linear', ['BTCUSDT'], 2)),
      ...(await fetchBybitInstruments(e.bybit!.restBaseUrl, 'spot', ['BTCUSDT'], 3)),
    ];
    const state = BotState.create(4);
    md = await startMarketData({ endpoints: e, instruments, state });
    expect(Object.keys(md.adapters).sort()).toEqual(['binanceSpot', 'binanceUsdm', 'bybitLinear', 'bybitSpot']);
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
        expect(md.book(i.venue, 'BTCUSDT')!.bestAskQty()).toBe(sb.bestAsk()!.qtyLots);
      }
    } finally {
      sim.generator.start();
    }
    expect(md.metricsText()).toContain('tickwire_md_frames_total{venue="bybitSpot"}');
    const c = md.counters();
    expect((c.binanceSpot!['gaps'] as number) + (c.bybitLinear!['gaps'] as number)).toBe(0);
  });
});
