/**
 * Bybit gateways factory: one gateway per category (spot, linear) with the transport chosen per config, and one
 * shared private stream routing events to the gateway of their category.
 */
import type { VenueId } from '../../../model/types.js';
import type { ExchangePosition } from '../../../model/orders.js';
import { BybitPrivateStream } from './private.js';
import { BybitRestGateway, type BybitGatewayConfig } from './rest.js';
import { BybitTradeWsGateway } from './tradews.js';
import { dcpMetrics, setupDcp } from './dcp.js';

export { BybitRestGateway, BybitTradeWsGateway, BybitPrivateStream, dcpMetrics };
export type { BybitGatewayConfig };
export type { BybitDcpOptions, BybitDcpProduct, BybitDcpStatus } from './dcp.js';

export function createBybitGateway(cfg: BybitGatewayConfig): BybitRestGateway {
  return cfg.transport === 'ws' ? new BybitTradeWsGateway(cfg) : new BybitRestGateway(cfg);
}

/**
 * Gateways for several categories sharing one private stream (started by the first gateway's start()).
 */
export function createBybitGateways(
  cfgs: BybitGatewayConfig[],
  hooks: { onPositions?(p: ExchangePosition[]): void; onResubscribed?(): void } = {},
): BybitRestGateway[] {
  const gws = cfgs.map(createBybitGateway);
  const first = cfgs[0];
  if (!first || first.privateStream === false || !first.wsPrivateUrl) return gws;
  const byVenue = new Map<VenueId, BybitRestGateway>(gws.map((g) => [g.venue, g]));
  const scales = gws.map((g) => g.scale);
  const stream = new BybitPrivateStream({
    url: first.wsPrivateUrl,
    apiKey: first.apiKey,
    apiSecret: first.apiSecret,
    scale: (v, s) => {
      for (const sc of scales) {
        const r = sc(v, s);
        if (r) return r;
      }
      return undefined;
    },
    route: (v) => {
      const g = byVenue.get(v);
      return g ? (ev) => g.onEvent(ev) : undefined;
    },
    routeAlgo: (v) => {
      const g = byVenue.get(v);
      return g ? (ev) => g.onAlgoEvent(ev) : undefined;
    },
    offsetMs: () => gws[0]!.clock.offsetMs,
    ...(first.socketLifetimeMs !== undefined ? { maxLifetimeMs: first.socketLifetimeMs } : {}),
    ...hooks,
    onResubscribed: () => {
      hooks.onResubscribed?.();
      for (const g of gws) g.onStreamResync();
    },
  });
  let started = false;
  for (const g of gws) g.dcpSubscribed = () => stream.dcpSubscribed;
  gws[0]!.privateStream = {
    start: async () => {
      if (started) return;
      started = true;
      // Disconnection Protection before the stream connects, so its first subscribe already carries the dcp topics
      // (runs after gws[0]'s clock sync: privateStream.start is the last step of its start())
      await setupDcp(gws, stream);
      await stream.start();
    },
    stop: async () => {
      if (!started) return;
      started = false;
      await stream.stop();
    },
  };
  return gws;
}
