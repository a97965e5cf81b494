/**
 * Bybit v5 venue layer of the embedded exchange simulator: one uWS app serving both categories (`spot` from
 * ctx.books 'bybitSpot', `linear` from 'bybitLinear') on one port:
 *
 *   REST          {restBaseUrl}/v5/market/*, /v5/order/*, /v5/position/*, /v5/account/*, /v5/execution/list, ...
 *   public WS     {wsStreamBaseUrl}/v5/public/spot, /v5/public/linear  (orderbook.{1,50,200,1000}.SYM, publicTrade.SYM, tickers.SYM)
 *   private WS    {wsPrivateUrl} = .../v5/private  (order, execution, execution.fast, position, wallet, dcp.*)
 *   trade WS      {wsApiUrl} = .../v5/trade        (order.create|amend|cancel and the batch forms)
 *
 * A client written for the real Bybit works by swapping hosts only. Shapes follow ../shared/exchange/bybit.md and
 * the fixtures in ../shared/exchange/fixtures/bybit/. The parts: README.md next to this file.
 */
import type { SimContext, SimVenueFactory } from '../core/types.js';
import type { BybitVenueHandle, BybitVenueOptions } from './options.js';
import { BybitVenue } from './venue.js';

export type { BybitRateLimits, BybitVenueHandle, BybitVenueOptions, DcpProduct } from './options.js';
export { DEFAULT_RATE_LIMITS } from './options.js';

export const startBybit: SimVenueFactory = (ctx, opts) => createBybitVenue(ctx, opts);

export async function createBybitVenue(ctx: SimContext, opts: BybitVenueOptions): Promise<BybitVenueHandle> {
  const v = new BybitVenue(ctx, opts);
  return v.start();
}
