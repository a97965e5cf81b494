// Binance venue layer of the simulator (Spot and USD-M). Placeholder: replaced by the real implementation.
import type { SimVenueFactory } from '../core/types.js';

export const startBinanceSpot: SimVenueFactory = async () => {
  throw new Error('binance spot simulator not implemented yet');
};
export const startBinanceUsdm: SimVenueFactory = async () => {
  throw new Error('binance usdm simulator not implemented yet');
};
