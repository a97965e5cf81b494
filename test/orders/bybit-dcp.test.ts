// Bybit Disconnection Protection through the gateway against the simulator: with DCP on for the account the gateway
// sets its window, subscribes dcp.future on its private stream (again after a reconnect, which keeps the orders),
// and once the engine's private stream is gone for the window the exchange cancels the orders (CancelByDCP),
// which the engine learns on reconcile. With DCP off nothing changes and the gateway reports it unavailable.
import { afterEach, describe, expect, it } from 'vitest';
import { createBybitGateways, dcpMetrics, type BybitRestGateway } from '../../src/exchange/bybit/trade/index.js';
import type { BybitVenueHandle, BybitVenueOptions } from '../../src/sim/bybit/index.js';
import { startSim } from '../../src/sim/index.js';
import type { OrderManager } from '../../src/orders/manager.js';
import { bbo, instrumentOf, manager, until, untilState, type SimHandle } from './harness.js';

const venue = 'bybitLinear' as const;
let s: SimHandle | undefined;
let m: OrderManager | undefined;
afterEach(async () => {
  await m?.stop();
  await s?.close();
  m = undefined;
  s = undefined;
});

async function setup(simOpts: Partial<BybitVenueOptions>, dcp: { timeWindowSec: number } | false | undefined) {
  s = await startSim({ venues: ['bybit'], seed: 7, symbols: ['BTCUSDT'], rate: 200, venueOptions: { bybit: simOpts } });
  const ep = s.endpoints.bybit!;
  const i = instrumentOf(s, venue);
  const [gw] = createBybitGateways([
    {
      category: 'linear',
      restBaseUrl: ep.restBaseUrl,
      wsPrivateUrl: ep.wsPrivateUrl!,
      apiKey: ep.apiKey,
      apiSecret: ep.apiSecret,
      instruments: [{ symbol: i.symbol, priceDecimals: i.priceDecimals, qtyDecimals: i.qtyDecimals }],
      transport: 'rest',
      timeoutMs: 1000,
      recovery: { queryDelayMs: 10 },
      ...(dcp !== undefined ? { dcp } : {}),
    },
  ]) as [BybitRestGateway];
  const r = manager(i, gw);
  m = r.m;
  await m.start();
  const v = s.venueHandles.bybit as BybitVenueHandle;
  const lot = 2 * 10 ** Math.max(0, i.qtyDecimals - 3);
  const place = async (ticksBelow: number): Promise<string> => {
    const id = m!.place({ slot: 0, side: 'BUY', type: 'LIMIT', tif: 'GTC', price: Math.max(1, bbo(s!, venue).bid - ticksBelow), qty: lot })!;
    await untilState(m!, id, ['ACKED']);
    return id;
  };
  return { gw, v, apiKey: ep.apiKey, place };
}

describe('Bybit DCP on (DERIVATIVES)', () => {
  it('gateway sets the window and subscribes dcp.future; a quick reconnect keeps the orders; a dead private stream gets them cancelled by the exchange', async () => {
    const { gw, v, apiKey, place } = await setup({ dcpEnabled: { DERIVATIVES: true } }, { timeWindowSec: 3 });
    await until(() => gw.dcpStatus.subscribed, 4000, 'dcp subscribed');
    expect(gw.dcpStatus).toMatchObject({ product: 'DERIVATIVES', state: 'on', enabled: true, timeWindowSec: 3, subscribed: true });
    expect(v.dcpState(apiKey, 'DERIVATIVES')).toMatchObject({ windowSec: 3, armed: true, pending: false });

    const a = await place(500);
    const b = await place(600);

    // the exchange drops the private connection: the stream reconnects and re-subscribes within the window
    s!.inject({ kind: 'closeConnections', market: venue, which: 'private' });
    await until(() => v.dcpState(apiKey, 'DERIVATIVES').started === 1, 2000, 'countdown started by the drop');
    await until(() => gw.dcpStatus.subscribed && v.dcpState(apiKey, 'DERIVATIVES').armed, 4000, 'dcp re-subscribed');
    expect(v.dcpState(apiKey, 'DERIVATIVES').pending).toBe(false);
    await new Promise((r) => setTimeout(r, 3300)); // longer than the window
    expect(v.dcpState(apiKey, 'DERIVATIVES').fired).toBe(0);
    expect((await m!.openOrders(venue)).map((o) => o.clientOrderId)).toEqual(expect.arrayContaining([a, b]));

    // the engine's private stream goes away for good (process hung / network gone): Bybit cancels after the window
    await gw.privateStream!.stop();
    expect(gw.dcpStatus.subscribed).toBe(false);
    await until(() => v.dcpState(apiKey, 'DERIVATIVES').fired === 1, 8000, 'DCP fired');
    expect(await m!.openOrders(venue)).toEqual([]);
    const q = await gw.queryOrder('BTCUSDT', a);
    expect(q?.state).toBe('CANCELED');
    await m!.reconcile(venue);
    expect(m!.order(a)?.state).toBe('CANCELED');
    expect(m!.order(b)?.state).toBe('CANCELED');
  }, 20_000);
});

describe('Bybit DCP off', () => {
  it('account without DCP: gateway reports unavailable, subscribes nothing, orders survive a dead private stream', async () => {
    const { gw, v, apiKey, place } = await setup({ dcpDefaultWindowSec: 3 }, undefined);
    expect(gw.dcpStatus).toMatchObject({ product: 'DERIVATIVES', state: 'unavailable', enabled: false, timeWindowSec: 0, subscribed: false });
    expect(v.dcpState(apiKey, 'DERIVATIVES').armed).toBe(false);
    const a = await place(500);
    await gw.privateStream!.stop();
    await new Promise((r) => setTimeout(r, 3300));
    expect(v.dcpState(apiKey, 'DERIVATIVES')).toMatchObject({ pending: false, fired: 0 });
    expect((await m!.openOrders(venue)).map((o) => o.clientOrderId)).toContain(a);
  }, 15_000);

  it('dcp: false in the gateway config leaves an enabled account alone', async () => {
    const { gw, v, apiKey } = await setup({ dcpEnabled: { DERIVATIVES: true } }, false);
    expect(gw.dcpStatus).toMatchObject({ state: 'off', enabled: false, subscribed: false });
    expect(v.dcpState(apiKey, 'DERIVATIVES')).toMatchObject({ armed: false, windowSec: 10 });
  });
});

describe('Bybit DCP per product', () => {
  it('spot and linear gateways on one private stream: only the enabled product (SPOT) is set and subscribed', async () => {
    s = await startSim({ venues: ['bybit'], seed: 7, symbols: ['BTCUSDT'], rate: 200, venueOptions: { bybit: { dcpEnabled: { SPOT: true } } } });
    const ep = s.endpoints.bybit!;
    const cfg = (category: 'spot' | 'linear') => {
      const i = instrumentOf(s!, category === 'spot' ? 'bybitSpot' : 'bybitLinear');
      return {
        category,
        restBaseUrl: ep.restBaseUrl,
        wsPrivateUrl: ep.wsPrivateUrl!,
        apiKey: ep.apiKey,
        apiSecret: ep.apiSecret,
        instruments: [{ symbol: i.symbol, priceDecimals: i.priceDecimals, qtyDecimals: i.qtyDecimals }],
        timeoutMs: 1000,
        dcp: { timeWindowSec: 5 },
      };
    };
    const [lin, spot] = createBybitGateways([cfg('linear'), cfg('spot')]) as [BybitRestGateway, BybitRestGateway];
    try {
      await lin.start();
      await spot.start();
      await until(() => spot.dcpStatus.subscribed, 4000, 'dcp.spot subscribed');
      expect(spot.dcpStatus).toMatchObject({ product: 'SPOT', state: 'on', enabled: true, timeWindowSec: 5 });
      expect(lin.dcpStatus).toMatchObject({ product: 'DERIVATIVES', state: 'unavailable', enabled: false, subscribed: false });
      const v = s.venueHandles.bybit as BybitVenueHandle;
      expect(v.dcpState(ep.apiKey, 'SPOT')).toMatchObject({ armed: true, windowSec: 5 });
      expect(v.dcpState(ep.apiKey, 'DERIVATIVES').armed).toBe(false);
      const g = Object.fromEntries(
        dcpMetrics([lin, spot]).map((x) => [x.name, x.samples.map((smp) => [smp.labels?.['venue'], smp.labels?.['product'], smp.value])]),
      );
      expect(g).toEqual({
        tickwire_bybit_dcp_enabled: [
          ['bybitLinear', 'DERIVATIVES', 0],
          ['bybitSpot', 'SPOT', 1],
        ],
        tickwire_bybit_dcp_window_seconds: [
          ['bybitLinear', 'DERIVATIVES', 0],
          ['bybitSpot', 'SPOT', 5],
        ],
        tickwire_bybit_dcp_subscribed: [
          ['bybitLinear', 'DERIVATIVES', 0],
          ['bybitSpot', 'SPOT', 1],
        ],
      });
    } finally {
      await spot.stop();
      await lin.stop();
    }
  });
});
