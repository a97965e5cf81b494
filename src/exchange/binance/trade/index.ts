/**
 * Binance order gateway factory: transport per config ('rest' | 'wsapi'), private user stream attached.
 */
import { BinanceRestGateway, type BinanceGatewayConfig } from './rest.js';
import { BinanceSpotUserStream, BinanceUsdmUserStream, type UserStreamHooks } from './userstream.js';
import { BinanceWsApiGateway } from './wsapi.js';

export { BinanceRestGateway, BinanceWsApiGateway, BinanceSpotUserStream, BinanceUsdmUserStream };
export type { BinanceGatewayConfig };

export function createBinanceGateway(cfg: BinanceGatewayConfig, hooks: UserStreamHooks = {}): BinanceRestGateway {
  const gw = cfg.transport === 'wsapi' ? new BinanceWsApiGateway(cfg) : new BinanceRestGateway(cfg);
  if (cfg.userStream !== false) {
    const h: UserStreamHooks = {
      ...hooks,
      onResubscribed: () => {
        hooks.onResubscribed?.();
        gw.onStreamResync();
      },
    };
    gw.userStream = cfg.venue === 'binanceSpot' ? new BinanceSpotUserStream(gw, h) : new BinanceUsdmUserStream(gw, h);
  }
  return gw;
}
