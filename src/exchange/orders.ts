/**
 * Order entry wiring for the engine: gateways for the configured venues (transport per venue) and the
 * OrderManager over them.
 *
 *   const m = createOrderManager({ instruments, binanceUsdm: { endpoints: sim.endpoints.binanceUsdm!, transport: 'ws' },
 *                                  bybit: { endpoints: sim.endpoints.bybit!, transport: 'rest' } });
 *   m.subscribe(journal); await m.start();
 *   const id = m.place({ slot, side: 'BUY', type: 'LIMIT', tif: 'GTC', price, qty });   // events follow
 *   await m.cancelAllEverywhere();                                                          // kill switch
 */
import type { Instrument, VenueId } from '../model/types.js';
import type { HopRecorder } from '../util/hops.js';
import { createBinanceGateway } from './binance/trade/index.js';
import { createBybitGateways } from './bybit/trade/index.js';
import type { VenueGateway } from '../orders/gateway.js';
import type { OrderIds } from '../model/ids.js';
import { OrderManager } from '../orders/manager.js';
import type { RecoveryOptions } from '../orders/basegw.js';

export { OrderManager } from '../orders/manager.js';
export { OrderIds } from '../model/ids.js';
export type { VenueGateway } from '../orders/gateway.js';

/** The shape of SimVenueEndpoints (src/sim/core/types.ts), also used for testnet/mainnet. */
export interface VenueEndpoints {
  restBaseUrl: string;
  wsStreamBaseUrl: string;
  wsApiUrl: string;
  wsPrivateUrl?: string;
  apiKey: string;
  apiSecret: string;
  ed25519ApiKey?: string;
  ed25519PrivateKeyPem?: string;
}

export interface VenueSetup {
  endpoints: VenueEndpoints;
  /** 'rest' = signed REST over one keep-alive pool; 'ws' = Binance WS API / Bybit trade WS (REST for the rest) */
  transport: 'rest' | 'ws';
}

export interface OrderEntryOptions {
  instruments: readonly Instrument[];
  binanceSpot?: VenueSetup;
  binanceUsdm?: VenueSetup;
  /** one setup for both Bybit categories (spot and linear share host, keys and the private stream) */
  bybit?: VenueSetup;
  hops?: HopRecorder;
  ids?: OrderIds;
  /** per-request timeout (default 5000 ms) */
  timeoutMs?: number;
  recovery?: RecoveryOptions;
  /** USD-M dead man's switch (default 30 s countdown refreshed every 10 s); false disables */
  deadManSwitch?: { countdownMs: number; refreshMs: number } | false;
}

function instrumentsOf(list: readonly Instrument[], venue: VenueId): Array<{ symbol: string; priceDecimals: number; qtyDecimals: number }> {
  return list.filter((i) => i.venue === venue).map((i) => ({ symbol: i.symbol, priceDecimals: i.priceDecimals, qtyDecimals: i.qtyDecimals }));
}

export function createGateways(o: OrderEntryOptions): VenueGateway[] {
  const out: VenueGateway[] = [];
  const common = {
    ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
    ...(o.recovery !== undefined ? { recovery: o.recovery } : {}),
    ...(o.hops !== undefined ? { hops: o.hops } : {}),
  };
  for (const venue of ['binanceSpot', 'binanceUsdm'] as const) {
    const s = o[venue];
    const inst = instrumentsOf(o.instruments, venue);
    if (!s || inst.length === 0) continue;
    const e = s.endpoints;
    out.push(
      createBinanceGateway({
        venue,
        restBaseUrl: e.restBaseUrl,
        wsApiUrl: e.wsApiUrl,
        wsStreamBaseUrl: e.wsStreamBaseUrl,
        apiKey: e.apiKey,
        apiSecret: e.apiSecret,
        ...(e.ed25519ApiKey !== undefined ? { ed25519ApiKey: e.ed25519ApiKey } : {}),
        ...(e.ed25519PrivateKeyPem !== undefined ? { ed25519PrivateKeyPem: e.ed25519PrivateKeyPem } : {}),
        instruments: inst,
        transport: s.transport === 'ws' ? 'wsapi' : 'rest',
        ...(o.deadManSwitch !== undefined ? { deadManSwitch: o.deadManSwitch } : {}),
        ...common,
      }),
    );
  }
  if (o.bybit) {
    const e = o.bybit.endpoints;
    const cfgs = (['spot', 'linear'] as const)
      .map((category) => ({ category, inst: instrumentsOf(o.instruments, category === 'spot' ? 'bybitSpot' : 'bybitLinear') }))
      .filter((c) => c.inst.length > 0)
      .map((c) => ({
        category: c.category,
        restBaseUrl: e.restBaseUrl,
        wsApiUrl: e.wsApiUrl,
        ...(e.wsPrivateUrl !== undefined ? { wsPrivateUrl: e.wsPrivateUrl } : {}),
        apiKey: e.apiKey,
        apiSecret: e.apiSecret,
        instruments: c.inst,
        transport: o.bybit!.transport,
        ...common,
      }));
    if (cfgs.length > 0) out.push(...createBybitGateways(cfgs));
  }
  return out;
}

export function createOrderManager(o: OrderEntryOptions): OrderManager {
  return new OrderManager({
    instruments: o.instruments,
    gateways: createGateways(o),
    ...(o.ids !== undefined ? { ids: o.ids } : {}),
    ...(o.hops !== undefined ? { hops: o.hops } : {}),
  });
}
