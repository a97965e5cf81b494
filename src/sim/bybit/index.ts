// Bybit v5 venue layer of the simulator (spot and linear categories). Placeholder: replaced by the real implementation.
import type { SimVenueFactory } from '../core/types.js';

export const startBybit: SimVenueFactory = async () => {
  throw new Error('bybit simulator not implemented yet');
};
