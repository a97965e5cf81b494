/**
 * The venue registry without a network: one driver per venue id, the credential rule of each venue, the transport
 * and limits a gateway plan carries, the signals of futures and spot instruments, and the per-exchange grouping of
 * createGateways (Bybit spot and linear on one private stream). The drivers against the simulator: test/md/registry,
 * test/orders/manager.e2e, and wireNetwork in test/e2e.
 */
import { describe, expect, it } from 'vitest';
import { createGateways, VENUE_DRIVERS, type VenueEndpoints } from '../../src/exchange/registry.js';
import { F } from '../../src/model/botstate.js';
import { type Instrument, VENUES, type VenueId } from '../../src/model/types.js';
import { BINANCE_USDM_LIMITS } from '../../src/net/ratelimit.js';

const ep: VenueEndpoints = {
  restBaseUrl: 'http://127.0.0.1:1',
  wsStreamBaseUrl: 'ws://127.0.0.1:1',
  wsApiUrl: 'ws://127.0.0.1:1/api',
  wsPrivateUrl: 'ws://127.0.0.1:1/v5/private',
  apiKey: 'k',
  apiSecret: 's',
};

function ins(venue: VenueId, slot: number): Instrument {
  return {
    venue,
    symbol: 'BTCUSDT',
    base: 'BTC',
    quote: 'USDT',
    tickSize: '0.1',
    stepSize: '0.001',
    minQty: '0.001',
    minNotional: '5',
    priceDecimals: 1,
    qtyDecimals: 3,
    tickUnits: 1,
    lotUnits: 1,
    slot,
  };
}

describe('venue registry', () => {
  it('has one driver per venue id, named by it', () => {
    for (const v of VENUES) {
      expect(VENUE_DRIVERS[v].venue).toBe(v);
      expect(VENUE_DRIVERS[v].exchange).toBe(v.startsWith('binance') ? 'binance' : 'bybit');
    }
    expect(Object.keys(VENUE_DRIVERS).sort()).toEqual([...VENUES].sort());
  });

  it('trades only with the credentials the venue needs: Binance an HMAC or an Ed25519 key, Bybit the HMAC pair', () => {
    const bare: VenueEndpoints = { restBaseUrl: ep.restBaseUrl, wsStreamBaseUrl: ep.wsStreamBaseUrl };
    expect(VENUE_DRIVERS.binanceSpot.canTrade(bare)).toBe(false);
    expect(VENUE_DRIVERS.binanceSpot.canTrade({ ...bare, ed25519ApiKey: 'e' })).toBe(true);
    expect(VENUE_DRIVERS.binanceUsdm.canTrade({ ...bare, apiKey: 'k' })).toBe(true);
    expect(VENUE_DRIVERS.bybitSpot.canTrade({ ...bare, apiKey: 'k' })).toBe(false);
    expect(VENUE_DRIVERS.bybitLinear.canTrade({ ...bare, apiKey: 'k', apiSecret: 's' })).toBe(true);
    // a plan without the pair is refused, not built with holes
    expect(() => VENUE_DRIVERS.bybitLinear.gatewayPlan({ ...bare, apiKey: 'k' }, [ins('bybitLinear', 0)], { transport: 'rest' })).toThrow(/key pair/);
  });

  it("plans carry the transport in each venue's words, the limits and the dead man's switch", () => {
    const b = VENUE_DRIVERS.binanceUsdm.gatewayPlan(ep, [ins('binanceUsdm', 0)], {
      transport: 'ws',
      limits: BINANCE_USDM_LIMITS,
      deadManSwitch: false,
      timeoutMs: 700,
    });
    expect(b.exchange).toBe('binance');
    expect(b.config).toMatchObject({ venue: 'binanceUsdm', transport: 'wsapi', limits: BINANCE_USDM_LIMITS, deadManSwitch: false, timeoutMs: 700 });
    expect(b.config.instruments).toEqual([{ symbol: 'BTCUSDT', priceDecimals: 1, qtyDecimals: 3 }]);
    expect(VENUE_DRIVERS.binanceSpot.gatewayPlan(ep, [ins('binanceSpot', 0)], { transport: 'rest' }).config).toMatchObject({ transport: 'rest' });
    const y = VENUE_DRIVERS.bybitSpot.gatewayPlan(ep, [ins('bybitSpot', 0)], { transport: 'ws' });
    expect(y).toMatchObject({ exchange: 'bybit', config: { category: 'spot', transport: 'ws', wsPrivateUrl: ep.wsPrivateUrl } });
  });

  it('signals: funding and open interest for the futures markets only, as configured', () => {
    const all = { funding: true, openInterest: true, intervalMs: 1000 };
    expect(VENUE_DRIVERS.binanceSpot.signals(ep, ins('binanceSpot', 0), all)).toEqual([]);
    expect(VENUE_DRIVERS.bybitSpot.signals(ep, ins('bybitSpot', 0), all)).toEqual([]);
    for (const v of ['binanceUsdm', 'bybitLinear'] as const) {
      const s = VENUE_DRIVERS[v].signals(ep, ins(v, 3), all);
      expect(s.map((x) => [x.field, x.slot, x.intervalMs])).toEqual([
        [F.fundingRate, 3, 1000],
        [F.openInterest, 3, 1000],
      ]);
      expect(VENUE_DRIVERS[v].signals(ep, ins(v, 3), { ...all, funding: false }).map((x) => x.field)).toEqual([F.openInterest]);
    }
  });

  it('creates gateways per exchange: Binance first, Bybit spot and linear on one private stream', () => {
    const plans = (['bybitSpot', 'binanceUsdm', 'bybitLinear'] as const).map((v, slot) =>
      VENUE_DRIVERS[v].gatewayPlan(ep, [ins(v, slot)], { transport: 'rest' }),
    );
    const g = createGateways(plans);
    expect(g.gateways.map((x) => x.venue)).toEqual(['binanceUsdm', 'bybitSpot', 'bybitLinear']);
    const [spot, linear] = g.gateways.slice(1) as unknown as Array<{ privateStream: unknown; dcpSubscribed: unknown }>;
    expect(spot!.privateStream).toBeDefined(); // the first Bybit gateway starts the shared stream
    expect(linear!.privateStream).toBeUndefined();
    expect(typeof linear!.dcpSubscribed).toBe('function');
    expect((g.describe()['bybitDcp'] as unknown[]).length).toBe(2);
    expect(
      g
        .metrics()
        .find((m) => m.name === 'tickwire_bybit_dcp_enabled')
        ?.samples.map((s) => s.labels?.['venue']),
    ).toEqual(['bybitSpot', 'bybitLinear']);
    const none = createGateways([]);
    expect(none.gateways).toEqual([]);
    expect(none.describe()).toEqual({ bybitDcp: [] });
  });
});
