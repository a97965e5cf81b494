import { afterEach, describe, expect, it } from 'vitest';
import { MarketMaker } from '../../src/strategy/marketmaker.js';
import { CrossVenueSignal } from '../../src/strategy/crossvenue.js';
import { Refusal } from '../../src/risk/pretrade.js';
import type { Strategy, StrategyContext } from '../../src/strategy/types.js';
import { rig, testConfig, until, sleep, type Rig } from './helpers.js';

let r: Rig | undefined;
afterEach(async () => {
  await r?.close();
  r = undefined;
});

describe('engine with the paper venue', () => {
  it('market maker quotes both sides, gets filled, and stays within its limits', async () => {
    const cfg = testConfig({
      strategy: { marketMaker: { venue: 'bybitLinear', symbol: 'BTCUSDT', size: 0.002, halfSpreadBps: 0.01, maxInventory: 0.006, requoteTicks: 1 } },
      risk: { maxOrderQty: 0.002, maxPositionPerSymbol: 0.008, maxOpenOrders: 4, maxOrdersPerSecond: 200, priceBandBps: 50 },
    });
    const mm = new MarketMaker(cfg.strategy.marketMaker);
    r = rig({ cfg, strategy: mm, rate: 4000 });
    const e = r.engine;
    r.venue.start();
    e.start();
    let maxPos = 0;
    let maxOpen = 0;
    const slot = e.slotOf('bybitLinear', 'BTCUSDT');
    const watch = setInterval(() => {
      maxPos = Math.max(maxPos, Math.abs(e.position(slot)));
      maxOpen = Math.max(maxOpen, e.store.openCount());
    }, 1);
    try {
      await until(() => e.portfolio.fills >= 3, 15_000, 'three fills');
    } finally {
      clearInterval(watch);
    }
    expect(mm.placed).toBeGreaterThan(0);
    expect(e.acks).toBeGreaterThan(0);
    expect(maxPos).toBeLessThanOrEqual(8); // 0.008 BTC at 0.001 lots
    expect(maxOpen).toBeLessThanOrEqual(4);
    expect(e.loop.ticks).toBeGreaterThan(0);
    expect(e.loop.bookEvents).toBeGreaterThan(0);
    // the exchange agrees with the ledger on the position once the market and the strategy stop
    e.stopTrading();
    r.venue.generator.stop();
    await sleep(30);
    const pos = await r.venue.positions(e.instruments);
    expect(pos.find((p) => p.symbol === 'BTCUSDT' && p.venue === 'bybitLinear')?.qty ?? 0).toBe(e.position(slot));
  });

  it('a throwing strategy is disabled after maxErrors and its orders are cancelled', async () => {
    class Bad implements Strategy {
      readonly name = 'bad';
      ctx!: StrategyContext;
      n = 0;
      start(ctx: StrategyContext): void {
        this.ctx = ctx;
      }
      onTick(): void {
        if (this.n++ === 0) {
          const s = this.ctx.slotOf('binanceSpot', 'BTCUSDT');
          const mid = this.ctx.state.get(s, 4);
          this.ctx.orders.place({ slot: s, side: 'BUY', type: 'LIMIT', tif: 'GTC', price: Math.floor(mid * 0.999), qty: 10 });
        }
        throw new Error('bad tick');
      }
      onBook(): void {}
      onOrderEvent(): void {}
    }
    r = rig({ cfg: testConfig({ strategy: { maxErrors: 5 } }), strategy: new Bad() });
    r.venue.seed();
    r.engine.start();
    await until(() => r!.engine.runner!.disabled, 5000, 'disabled');
    expect(r.engine.runner!.errors).toBe(5);
    await until(() => r!.engine.store.openCount() === 0, 5000, 'orders cancelled');
    expect((await r.venue.openOrders(r.engine.instruments)).length).toBe(0);
  });

  it('cross-venue signal buys the follower when the leader is above it', async () => {
    const cfg = testConfig({ strategy: { crossVenue: { thresholdBps: 1, size: 0.002, cooldownMs: 0 } } });
    const cv = new CrossVenueSignal(cfg.strategy.crossVenue);
    r = rig({ cfg, strategy: cv });
    r.venue.seed();
    const e = r.engine;
    // push the leader (binance spot) up by ~10 bps: take a few levels of its asks
    const lead = e.slotOf('binanceSpot', 'BTCUSDT');
    e.start();
    await sleep(20);
    const book = r.venue.books[lead]!;
    book.beginBatch();
    const a = book.bestAsk()!;
    // +50 USD (~5 bps): a synthetic bid above every ask removes them, a new ask just above it
    book.setSynthetic('BUY', a.priceTicks + 5000, 1000);
    book.setSynthetic('SELL', a.priceTicks + 5001, 1000);
    book.endBatch();
    await until(() => e.portfolio.fills > 0, 5000, 'a fill on the follower');
    expect(cv.sent).toBeGreaterThan(0);
    expect(e.position(e.slotOf('bybitLinear', 'BTCUSDT'))).toBeGreaterThan(0);
  });

  it('stop trading refuses strategy orders but lets manual ones through; kill blocks all', async () => {
    r = rig();
    r.venue.seed();
    const e = r.engine;
    e.start();
    await sleep(10);
    const s = e.slotOf('binanceSpot', 'BTCUSDT');
    const px = Math.floor(r.state.get(s, 4) * 0.999);
    e.stopTrading();
    expect(e.place({ slot: s, side: 'BUY', type: 'LIMIT', tif: 'GTC', price: px, qty: 10 })).toBeNull();
    expect(e.risk.refusals[Refusal.TradingStopped]).toBe(1);
    expect(e.placeManual({ slot: s, side: 'BUY', type: 'LIMIT', tif: 'GTC', price: px, qty: 10 }).id).not.toBeNull();
    e.block();
    expect(e.placeManual({ slot: s, side: 'BUY', type: 'LIMIT', tif: 'GTC', price: px, qty: 10 }).refusal).toBe(Refusal.KillSwitch);
    expect(e.startTrading()).toBe(false);
  });
});
