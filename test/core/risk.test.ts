import { describe, expect, it } from 'vitest';
import { BotState, FLAG_VALID, FLAG_STALE } from '../../src/model/botstate.js';
import { instrumentFromSim } from '../../src/exchange/paper.js';
import { makeInstrument } from '../../src/sim/core/instruments.js';
import { PreTradeRisk, REFUSAL_NAMES, Refusal } from '../../src/risk/pretrade.js';
import type { OrderRequest } from '../../src/model/orders.js';
import { testConfig } from './helpers.js';
import { expectNoAllocation } from '../helpers/alloc.js';

// BTCUSDT spot: price 0.01 (2 decimals), qty 0.00001 (5 decimals). Mid 97,000.00 = 9_700_000 units.
function setup(risk: Record<string, unknown> = {}) {
  const state = BotState.create(4);
  const ins = [instrumentFromSim(makeInstrument('binanceSpot', 'BTCUSDT'), 0), instrumentFromSim(makeInstrument('bybitLinear', 'BTCUSDT'), 1)];
  state.writeTop(0, 9_699_900, 100_000, 9_700_100, 100_000, 1, 0, 1);
  state.setFlag(0, FLAG_VALID);
  state.writeTop(1, 969_990, 1000, 970_010, 1000, 1, 0, 1);
  state.setFlag(1, FLAG_VALID);
  const exposure = {
    position: new Float64Array(4),
    openBuyQty: new Float64Array(4),
    openSellQty: new Float64Array(4),
    open: 0,
    openOrders() {
      return this.open;
    },
  };
  const cfg = testConfig({
    risk: {
      maxOrderQty: 0.01,
      maxOrderNotional: 500,
      maxPositionPerSymbol: 0.02,
      maxTotalNotional: 3000,
      maxOpenOrders: 3,
      maxOrdersPerSecond: 5,
      maxManualOrdersPerSecond: 3,
      priceBandBps: 50,
      ...risk,
    },
  });
  const r = new PreTradeRisk(state, ins, exposure, cfg.risk);
  return { state, r, exposure };
}
const buy = (qty: number, price = 9_700_000, slot = 0): OrderRequest => ({ slot, side: 'BUY', type: 'LIMIT', tif: 'GTC', price, qty });

describe('pre-trade risk', () => {
  it('passes a sane order', () => {
    const { r } = setup();
    expect(r.check(buy(100), 1e12)).toBe(Refusal.None);
    expect(r.passed).toBe(1);
    expect(r.checkAmendPrice(0, 9_710_000)).toBe(Refusal.None); // an amend inside the band
  });

  const cases: Array<[string, Refusal, (s: ReturnType<typeof setup>) => Refusal]> = [
    ['max order qty', Refusal.MaxOrderQty, ({ r }) => r.check(buy(1_001), 1e12)],
    ['max notional', Refusal.MaxOrderNotional, ({ r }) => r.check(buy(600), 1e12)], // 0.006 BTC * 97k = 582 > 500
    ['below minimum notional', Refusal.BelowMinimum, ({ r }) => r.check(buy(4), 1e12)], // 0.00004 BTC = 3.88 < 5 USDT
    ['price band', Refusal.PriceBand, ({ r }) => r.check(buy(10, 9_000_000), 1e12)],
    ['stale book', Refusal.BookNotTradable, ({ r, state }) => (state.setFlag(0, FLAG_STALE), r.check(buy(10), 1e12))],
    ['kill switch', Refusal.KillSwitch, ({ r }) => ((r.killed = true), r.check(buy(10), 1e12))],
    ['trading stopped', Refusal.TradingStopped, ({ r }) => ((r.stopped = true), r.check(buy(10), 1e12))],
    ['bad order', Refusal.BadOrder, ({ r }) => r.check(buy(0), 1e12)],
    ['unknown slot', Refusal.UnknownSlot, ({ r }) => r.check(buy(10, 9_700_000, 3), 1e12)],
    [
      'max position per symbol',
      Refusal.MaxPosition,
      ({ r, exposure }) => ((exposure.position[0] = 1_500), (exposure.openBuyQty[0] = 400), r.check(buy(200), 1e12)),
    ],
    ['max total notional', Refusal.MaxTotalNotional, ({ r, exposure }) => ((exposure.position[1] = -30), r.check(buy(500), 1e12))], // 0.03*97k=2910 + 485
    ['max open orders', Refusal.MaxOpenOrders, ({ r, exposure }) => ((exposure.open = 3), r.check(buy(10), 1e12))],
    [
      'max orders per second',
      Refusal.MaxOrderRate,
      ({ r }) => {
        for (let i = 0; i < 5; i++) r.check(buy(10), 1e12 + i);
        return r.check(buy(10), 1e12 + 10);
      },
    ],
    ['an amend price outside the band', Refusal.PriceBand, ({ r }) => r.checkAmendPrice(0, 9_000_000)],
    ['an amend after the kill switch', Refusal.KillSwitch, ({ r }) => ((r.killed = true), r.checkAmendPrice(0, 9_700_000))],
    [
      'max manual orders per second',
      Refusal.MaxManualOrderRate,
      ({ r }) => {
        for (let i = 0; i < 3; i++) r.check(buy(10), 1e12 + i, true);
        return r.check(buy(10), 1e12 + 10, true);
      },
    ],
  ];
  for (const [name, reason, fn] of cases) {
    it(`refuses on ${name}, counted under ${REFUSAL_NAMES[reason]}`, () => {
      const s = setup();
      expect(fn(s)).toBe(reason);
      expect(s.r.refusals[reason]).toBe(1);
      expect(s.r.totalRefusals()).toBe(1);
    });
  }

  it('rate limit frees up after a second; manual orders pass a stopped strategy', () => {
    const { r } = setup();
    for (let i = 0; i < 5; i++) expect(r.check(buy(10), 1e12 + i)).toBe(Refusal.None);
    expect(r.check(buy(10), 1e12 + 1e9 + 10)).toBe(Refusal.None);
    r.stopped = true;
    expect(r.check(buy(10), 1e13, true)).toBe(Refusal.None);
  });

  it('refusal names are stable; the manual rate and not-started reasons are appended', () => {
    expect(REFUSAL_NAMES[Refusal.MaxOrderRate]).toBe('max_order_rate');
    expect(REFUSAL_NAMES[Refusal.BelowMinimum]).toBe('below_minimum');
    expect(REFUSAL_NAMES[Refusal.MaxManualOrderRate]).toBe('max_manual_order_rate');
    expect(REFUSAL_NAMES[Refusal.NotStarted]).toBe('not_started');
    expect(REFUSAL_NAMES.length).toBe(Refusal.NotStarted + 1);
  });

  it("manual orders have their own rate budget: a busy strategy never blocks them, and they never eat the strategy's", () => {
    const { r } = setup(); // strategy 5 / s, manual 3 / s
    const t = 1e12;
    // the strategy spends its whole second
    for (let i = 0; i < 5; i++) expect(r.check(buy(10), t + i)).toBe(Refusal.None);
    expect(r.check(buy(10), t + 5)).toBe(Refusal.MaxOrderRate);
    // manual orders still pass, up to their own budget, which is then refused under its own reason
    for (let i = 0; i < 3; i++) expect(r.check(buy(10), t + 10 + i, true)).toBe(Refusal.None);
    expect(r.check(buy(10), t + 20, true)).toBe(Refusal.MaxManualOrderRate);
    expect(r.refusals[Refusal.MaxOrderRate]).toBe(1);
    expect(r.refusals[Refusal.MaxManualOrderRate]).toBe(1);

    // the other way round: manual orders spend their budget first, the strategy keeps all of its own
    const b = setup().r;
    for (let i = 0; i < 3; i++) expect(b.check(buy(10), t + i, true)).toBe(Refusal.None);
    expect(b.check(buy(10), t + 3, true)).toBe(Refusal.MaxManualOrderRate);
    for (let i = 0; i < 5; i++) expect(b.check(buy(10), t + 10 + i)).toBe(Refusal.None);
    expect(b.check(buy(10), t + 20)).toBe(Refusal.MaxOrderRate);
    // the manual budget frees up a second after its oldest order
    expect(b.check(buy(10), t + 1e9 - 1, true)).toBe(Refusal.MaxManualOrderRate);
    expect(b.check(buy(10), t + 1e9, true)).toBe(Refusal.None);
    expect(b.passed).toBe(9);
  });

  it('manual orders still stop at the kill switch and the other limits', () => {
    const { r, exposure } = setup();
    r.killed = true;
    expect(r.check(buy(10), 1e12, true)).toBe(Refusal.KillSwitch);
    r.killed = false;
    exposure.open = 3;
    expect(r.check(buy(10), 1e12, true)).toBe(Refusal.MaxOpenOrders);
    // refused orders do not spend the manual budget
    exposure.open = 0;
    for (let i = 0; i < 3; i++) expect(r.check(buy(10), 1e12 + i, true)).toBe(Refusal.None);
  });

  it('reconfiguring the manual budget resizes its ring', () => {
    const { r } = setup();
    r.configure(
      testConfig({
        risk: {
          maxOrderQty: 0.01,
          maxOrderNotional: 500,
          maxPositionPerSymbol: 0.02,
          maxTotalNotional: 3000,
          maxOpenOrders: 3,
          maxOrdersPerSecond: 5,
          maxManualOrdersPerSecond: 1,
          priceBandBps: 50,
        },
      }).risk,
    );
    expect(r.check(buy(10), 1e12, true)).toBe(Refusal.None);
    expect(r.check(buy(10), 1e12 + 1, true)).toBe(Refusal.MaxManualOrderRate);
    expect(r.check(buy(10), 1e12 + 2)).toBe(Refusal.None);
  });

  it('reduce-only orders that reduce pass the position limit', () => {
    const { r, exposure } = setup();
    exposure.position[0] = 3_000; // above the 0.02 limit already
    expect(r.check({ ...buy(100), side: 'BUY' }, 1e12)).toBe(Refusal.MaxPosition);
    expect(r.check({ slot: 0, side: 'SELL', type: 'LIMIT', tif: 'GTC', price: 9_700_000, qty: 100, reduceOnly: true }, 1e12)).toBe(Refusal.None);
  });

  it('check allocates nothing in steady state', () => {
    // Every limit is evaluated before the rate limit (the last check), so with a 1/s rate and timestamps inside one
    // second each call runs the whole path and ends refused on rate. Timestamps stay small integers here: a
    // double argument is boxed by V8 at a non-inlined call boundary, which is the caller's cost, not check()'s.
    const { r } = setup({ maxOrdersPerSecond: 1 });
    const req = buy(10);
    for (let i = 0; i < 2e5; i++) r.check(req, i);
    let calls = 2e5;
    expectNoAllocation(
      'risk check',
      (n) => {
        for (let i = 0; i < n; i++) r.check(req, i);
        calls += n;
      },
      1e5,
    );
    expect(r.refusals[Refusal.MaxOrderRate]).toBe(calls - 1); // the first one passed
  });

  it('check allocates nothing on the manual path either', () => {
    const { r } = setup({ maxManualOrdersPerSecond: 1 });
    const req = buy(10);
    for (let i = 0; i < 2e5; i++) r.check(req, i, true);
    let calls = 2e5;
    expectNoAllocation(
      'risk check (manual)',
      (n) => {
        for (let i = 0; i < n; i++) r.check(req, i, true);
        calls += n;
      },
      1e5,
    );
    expect(r.refusals[Refusal.MaxManualOrderRate]).toBe(calls - 1);
    expect(r.refusals[Refusal.MaxOrderRate]).toBe(0);
  });
});
