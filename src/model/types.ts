/**
 * Engine-wide identifiers. Venue ids are the same strings the simulator uses for its markets.
 */
export type VenueId = 'binanceSpot' | 'binanceUsdm' | 'bybitSpot' | 'bybitLinear';
export const VENUES: readonly VenueId[] = ['binanceSpot', 'binanceUsdm', 'bybitSpot', 'bybitLinear'];

/** Small integer per venue, for typed-array indexing on the hot path (histograms, counters). */
export const VENUE_INDEX: Record<VenueId, number> = { binanceSpot: 0, binanceUsdm: 1, bybitSpot: 2, bybitLinear: 3 };

export type Side = 'BUY' | 'SELL';

/**
 * A tradable symbol on one venue, from the exchange's reference data (exchangeInfo / instruments-info).
 * Prices are carried as integer ticks scaled by 10^priceDecimals (so tickUnits is the tick size in those
 * units, usually 1); quantities as integer units scaled by 10^qtyDecimals (lotUnits = step size in units).
 */
export interface Instrument {
  venue: VenueId;
  symbol: string;
  base: string;
  quote: string;
  tickSize: string;
  stepSize: string;
  minQty: string;
  minNotional: string;
  priceDecimals: number;
  qtyDecimals: number;
  /** tick size expressed in price units (10^-priceDecimals) */
  tickUnits: number;
  /** step size expressed in quantity units (10^-qtyDecimals) */
  lotUnits: number;
  /** this instrument's slot in BotState */
  slot: number;
}
