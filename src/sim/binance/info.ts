/** exchangeInfo bodies and the venue's rate-limit table (as `exchangeInfo.rateLimits` and WS API `rateLimits`). */
import type { SimInstrument } from '../core/types.js';
import type { BnKind } from './format.js';

export interface BnLimits {
  /** REQUEST_WEIGHT per minute per IP */
  weightPerMin: number;
  /** ORDERS per 10 s per account */
  orders10s: number;
  /** ORDERS per day (Spot) / per minute (USD-M) per account */
  ordersLong: number;
  /** over-limit requests inside one minute window before the IP is banned (418); 0 = never */
  banAfter: number;
  banMs: number;
}

export function defaultLimits(kind: BnKind): BnLimits {
  return kind === 'spot'
    ? { weightPerMin: 6000, orders10s: 50, ordersLong: 160000, banAfter: 3, banMs: 120_000 }
    : { weightPerMin: 2400, orders10s: 300, ordersLong: 1200, banAfter: 3, banMs: 120_000 };
}

export function rateLimitsJson(kind: BnKind, l: BnLimits): string {
  const w = `{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":${l.weightPerMin}}`;
  const o10 = `{"rateLimitType":"ORDERS","interval":"SECOND","intervalNum":10,"limit":${l.orders10s}}`;
  if (kind === 'spot') {
    return `[${w},${o10},{"rateLimitType":"ORDERS","interval":"DAY","intervalNum":1,"limit":${l.ordersLong}},{"rateLimitType":"RAW_REQUESTS","interval":"MINUTE","intervalNum":5,"limit":300000}]`;
  }
  return `[${w},{"rateLimitType":"ORDERS","interval":"MINUTE","intervalNum":1,"limit":${l.ordersLong}},${o10}]`;
}

/** The filter values exchangeInfo advertises; ops.ts enforces the same constants. */
export const FILTERS = {
  /** PRICE_FILTER maxPrice (both markets) */
  maxPrice: 1_000_000,
  /** Spot PERCENT_PRICE_BY_SIDE bid/ask multipliers (the same both sides), in 1e-4 units: 5 / 0.2 */
  spotPctUp4: 50_000,
  spotPctDown4: 2_000,
  /** Spot NOTIONAL maxNotional (limit orders only: applyMaxToMarket false) */
  spotMaxNotional: 9_000_000,
  /** USD-M PERCENT_PRICE, in 1e-4 units (multiplierDecimal 4): 1.0500 / 0.9500 */
  usdmPctUp4: 10_500,
  usdmPctDown4: 9_500,
  spotMaxOrders: 200,
  spotMaxAlgoOrders: 5,
  usdmMaxOrders: 200,
  usdmMaxAlgoOrders: 10,
} as const;

/** a 1e-4 multiplier as the venue prints it in PERCENT_PRICE_BY_SIDE ("5", "0.2") */
const m4 = (v: number): string => String(v / 10_000);

function maxPrice(ins: SimInstrument): string {
  const i = String(FILTERS.maxPrice);
  return ins.priceDecimals > 0 ? i + '.' + '0'.repeat(ins.priceDecimals) : i;
}

export function spotSymbolJson(ins: SimInstrument): string {
  const p8 = (s: string): string => {
    const [i, f = ''] = s.split('.');
    return i + '.' + (f + '00000000').slice(0, 8);
  };
  return (
    `{"symbol":"${ins.symbol}","status":"TRADING","baseAsset":"${ins.base}","baseAssetPrecision":8,"quoteAsset":"${ins.quote}","quotePrecision":8,` +
    `"quoteAssetPrecision":8,"baseCommissionPrecision":8,"quoteCommissionPrecision":8,` +
    `"orderTypes":["LIMIT","LIMIT_MAKER","MARKET","STOP_LOSS","STOP_LOSS_LIMIT","TAKE_PROFIT","TAKE_PROFIT_LIMIT"],` +
    `"icebergAllowed":true,"ocoAllowed":true,"otoAllowed":true,"quoteOrderQtyMarketAllowed":true,"allowTrailingStop":false,"cancelReplaceAllowed":true,` +
    `"amendAllowed":true,"pegInstructionsAllowed":true,"isSpotTradingAllowed":true,"isMarginTradingAllowed":false,"filters":[` +
    `{"filterType":"PRICE_FILTER","minPrice":"${p8(ins.tickSize)}","maxPrice":"${p8(maxPrice(ins))}","tickSize":"${p8(ins.tickSize)}"},` +
    `{"filterType":"LOT_SIZE","minQty":"${p8(ins.minQty)}","maxQty":"${p8(ins.maxQty)}","stepSize":"${p8(ins.stepSize)}"},` +
    `{"filterType":"ICEBERG_PARTS","limit":10},` +
    `{"filterType":"MARKET_LOT_SIZE","minQty":"0.00000000","maxQty":"${p8(ins.maxQty)}","stepSize":"0.00000000"},` +
    `{"filterType":"TRAILING_DELTA","minTrailingAboveDelta":10,"maxTrailingAboveDelta":2000,"minTrailingBelowDelta":10,"maxTrailingBelowDelta":2000},` +
    `{"filterType":"PERCENT_PRICE_BY_SIDE","bidMultiplierUp":"${m4(FILTERS.spotPctUp4)}","bidMultiplierDown":"${m4(FILTERS.spotPctDown4)}","askMultiplierUp":"${m4(FILTERS.spotPctUp4)}","askMultiplierDown":"${m4(FILTERS.spotPctDown4)}","avgPriceMins":5},` +
    `{"filterType":"NOTIONAL","minNotional":"${p8(ins.minNotional)}","applyMinToMarket":true,"maxNotional":"${FILTERS.spotMaxNotional}.00000000","applyMaxToMarket":false,"avgPriceMins":5},` +
    `{"filterType":"MAX_NUM_ORDERS","maxNumOrders":${FILTERS.spotMaxOrders}},{"filterType":"MAX_NUM_ALGO_ORDERS","maxNumAlgoOrders":${FILTERS.spotMaxAlgoOrders}}],` +
    `"permissions":[],"permissionSets":[["SPOT"]],"defaultSelfTradePreventionMode":"EXPIRE_MAKER",` +
    `"allowedSelfTradePreventionModes":["EXPIRE_TAKER","EXPIRE_MAKER","EXPIRE_BOTH","DECREMENT"]}`
  );
}

export function usdmSymbolJson(ins: SimInstrument): string {
  return (
    `{"symbol":"${ins.symbol}","pair":"${ins.symbol}","contractType":"${ins.contractType ?? 'PERPETUAL'}","deliveryDate":4133404800000,"onboardDate":1569398400000,` +
    `"status":"TRADING","maintMarginPercent":"2.5000","requiredMarginPercent":"5.0000","baseAsset":"${ins.base}","quoteAsset":"${ins.quote}",` +
    `"marginAsset":"${ins.quote}","pricePrecision":${ins.priceDecimals},"quantityPrecision":${ins.qtyDecimals},"baseAssetPrecision":8,"quotePrecision":8,` +
    `"underlyingType":"COIN","underlyingSubType":["PoW"],"settlePlan":0,"triggerProtect":"0.0500","liquidationFee":"0.012500","marketTakeBound":"0.05",` +
    `"maxMoveOrderLimit":10000,"filters":[` +
    `{"minPrice":"${ins.tickSize}","maxPrice":"${maxPrice(ins)}","filterType":"PRICE_FILTER","tickSize":"${ins.tickSize}"},` +
    `{"stepSize":"${ins.stepSize}","filterType":"LOT_SIZE","maxQty":"${ins.maxQty}","minQty":"${ins.minQty}"},` +
    `{"stepSize":"${ins.stepSize}","filterType":"MARKET_LOT_SIZE","maxQty":"${ins.maxQty}","minQty":"${ins.minQty}"},` +
    `{"limit":${FILTERS.usdmMaxOrders},"filterType":"MAX_NUM_ORDERS"},{"limit":${FILTERS.usdmMaxAlgoOrders},"filterType":"MAX_NUM_ALGO_ORDERS"},` +
    `{"notional":"${ins.minNotional}","filterType":"MIN_NOTIONAL"},` +
    `{"multiplierDown":"${(FILTERS.usdmPctDown4 / 10_000).toFixed(4)}","multiplierUp":"${(FILTERS.usdmPctUp4 / 10_000).toFixed(4)}","multiplierDecimal":"4","filterType":"PERCENT_PRICE"}],` +
    `"orderTypes":["LIMIT","MARKET","STOP","STOP_MARKET","TAKE_PROFIT","TAKE_PROFIT_MARKET","TRAILING_STOP_MARKET"],` +
    `"timeInForce":["GTC","IOC","FOK","GTX","GTD"],"permissionSets":["GRID","COPY"]}`
  );
}

export function exchangeInfoJson(kind: BnKind, instruments: readonly SimInstrument[], serverTime: number, limits: BnLimits): string {
  const syms = instruments.map((i) => (kind === 'spot' ? spotSymbolJson(i) : usdmSymbolJson(i))).join(',');
  if (kind === 'spot') {
    return `{"timezone":"UTC","serverTime":${serverTime},"rateLimits":${rateLimitsJson(kind, limits)},"exchangeFilters":[],"symbols":[${syms}],"sors":[]}`;
  }
  const quotes = [...new Set(instruments.map((i) => i.quote))];
  const assets = quotes.map((a) => `{"asset":"${a}","marginAvailable":true,"autoAssetExchange":"-10000"}`).join(',');
  return `{"timezone":"UTC","serverTime":${serverTime},"futuresType":"U_MARGINED","rateLimits":${rateLimitsJson(kind, limits)},"exchangeFilters":[],"assets":[${assets}],"symbols":[${syms}]}`;
}
