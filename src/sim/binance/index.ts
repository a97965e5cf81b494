/**
 * Binance venue layer of the simulator: Spot (`/api/v3`, `/ws`, `/stream`, `/ws-api/v3`) and USD-M Futures
 * (`/fapi/v1..3`, `/public|/market|/private` streams, `/ws-fapi/v1`), each on its own uWS app and port.
 * A client written for the real Binance works against it by swapping hosts only.
 *
 * Besides order entry and market data it answers what third-party clients (ccxt: test/sim/thirdparty) call:
 * ticker/bookTicker, ticker/24hr, trades, aggTrades, klines (ticker.ts, the last 24 h), allOrders, myTrades /
 * userTrades (history.ts), leverageBracket, premiumIndex, leverage, marginType, symbolConfig, positionSide/dual,
 * commissionRate (USD-M), and /sapi/v1 margin allPairs (empty), system/status, asset/tradeFee (Spot).
 * Any other path answers 404 (Spot: empty body; USD-M: -5000), as the real hosts do.
 */
import type { SimContext, SimVenueFactory, SimVenueHandle } from '../core/types.js';
import { BinanceVenue, type BinanceVenueOptions } from './venue.js';

export type { BinanceVenueOptions } from './venue.js';
export { BinanceVenue } from './venue.js';

export const startBinanceSpot: SimVenueFactory = (ctx: SimContext, opts: BinanceVenueOptions): Promise<SimVenueHandle> =>
  new BinanceVenue(ctx, 'binanceSpot', opts).start();

export const startBinanceUsdm: SimVenueFactory = (ctx: SimContext, opts: BinanceVenueOptions): Promise<SimVenueHandle> =>
  new BinanceVenue(ctx, 'binanceUsdm', opts).start();
