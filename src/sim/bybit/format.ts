/**
 * JSON of the Bybit venue's items built from its state, as strings: position (REST and push), wallet (REST and push),
 * REST order list items, instruments-info items, and the prices they show (mark = mid of the book's best bid and ask).
 */
import type { SimOrder } from '../core/types.js';
import { InstrumentFmt, PRICE_LIMIT_RATIOS, q } from './common.js';
import { SEQ_BASE } from './feeds.js';
import { orderItemJson, type OrderExtra, type CondFields } from './orders.js';
import type { VenueState, SymState } from './state.js';

/** next 8-hourly funding time after `now` (tickers) */
export function nextFundingTime(now: number): number {
  const h8 = 8 * 3600_000;
  return now - (now % h8) + h8;
}

/** mark price as shown: mid of best bid and ask (one side when the other is empty) */
export function markPrice(st: SymState): string {
  const b = st.book.bestBid();
  const k = st.book.bestAsk();
  if (b && k) return st.fmt.price(Math.round((b.priceTicks + k.priceTicks) / 2));
  if (b) return st.fmt.price(b.priceTicks);
  if (k) return st.fmt.price(k.priceTicks);
  return st.fmt.price(0);
}

/** mark price as a number (PnL, USD values) */
export function markFloat(st: SymState): number {
  const b = st.book.bestBid();
  const k = st.book.bestAsk();
  const t = b && k ? (b.priceTicks + k.priceTicks) / 2 : ((b ?? k)?.priceTicks ?? 0);
  return st.fmt.priceFloat(t);
}

/**
 * position item; `push` = keys of the private `position` push (live fixture), else REST /v5/position/list.
 * `positionIdx` 1 / 2 = one side of a hedge-mode account (the simulator books one net position per symbol: it shows
 * on the side it lies on, the other side is empty).
 */
export function positionJson(s: VenueState, accountId: string, st: SymState, push: boolean, positionIdx: 0 | 1 | 2 = 0): string {
  const acc = s.ctx.account(accountId);
  const net = acc?.positions.get(`${st.market}:${st.symbol}`);
  const p = positionIdx === 0 || (net && (positionIdx === 1 ? net.sizeLots > 0 : net.sizeLots < 0)) ? net : undefined;
  const fmt = st.fmt;
  const size = p ? Math.abs(p.sizeLots) : 0;
  const side = !p || p.sizeLots === 0 ? '' : p.sizeLots > 0 ? 'Buy' : 'Sell';
  const entryUnits = p && size > 0 ? p.entryPriceTicks : 0;
  const entry =
    size > 0 ? (Number.isInteger(entryUnits) ? fmt.price(entryUnits) : InstrumentFmt.amount(entryUnits / fmt.priceMul, fmt.priceDecimals + 4)) : '0';
  const mark = markFloat(st);
  const value = fmt.priceFloat(entryUnits) * fmt.qtyFloat(size);
  const upl = size > 0 ? (mark - fmt.priceFloat(entryUnits)) * fmt.qtyFloat(size) * (p!.sizeLots > 0 ? 1 : -1) : 0;
  const lev = s.accts.get(accountId)?.leverage.get(st.symbol) ?? '10';
  const im = InstrumentFmt.amount(value / Number(lev));
  const mm = InstrumentFmt.amount(value * 0.005);
  const now = s.ctx.nowMs(st.market);
  const seq = SEQ_BASE[st.category] + st.book.updateId;
  const cum = InstrumentFmt.amount(p?.realizedPnlQuote ?? 0);
  if (push) {
    return (
      `{"positionIdx":${positionIdx},"tradeMode":0,"riskId":1,"riskLimitValue":"2000000","symbol":"${st.symbol}","side":"${side}",` +
      `"size":"${fmt.qty(size)}","entryPrice":"${entry}","sessionAvgPrice":"","leverage":"${lev}",` +
      `"positionValue":"${InstrumentFmt.amount(value)}","positionBalance":"0","markPrice":"${markPrice(st)}",` +
      `"positionIM":"${im}","positionMM":"${mm}","positionIMByMp":"${im}","positionMMByMp":"${mm}","takeProfit":"0",` +
      `"stopLoss":"0","trailingStop":"0","unrealisedPnl":"${InstrumentFmt.amount(upl)}","cumRealisedPnl":"${cum}",` +
      `"curRealisedPnl":"${cum}","createdTime":"${now}","updatedTime":"${now}","tpslMode":"Full","liqPrice":"",` +
      `"bustPrice":"","category":"linear","positionStatus":"Normal","adlRankIndicator":${size > 0 ? 2 : 0},"autoAddMargin":0,` +
      `"leverageSysUpdatedTime":"","mmrSysUpdatedTime":"","seq":${seq},"isReduceOnly":false}`
    );
  }
  return (
    `{"positionIdx":${positionIdx},"riskId":1,"riskLimitValue":"2000000","symbol":"${st.symbol}","side":"${side}","size":"${fmt.qty(size)}",` +
    `"avgPrice":"${entry}","positionValue":"${InstrumentFmt.amount(value)}","tradeMode":0,"positionStatus":"Normal",` +
    `"autoAddMargin":0,"adlRankIndicator":${size > 0 ? 2 : 0},"leverage":"${lev}","positionBalance":"0",` +
    `"markPrice":"${markPrice(st)}","liqPrice":"","bustPrice":"","positionMM":"${mm}","positionIM":"${im}",` +
    `"tpslMode":"Full","takeProfit":"0","stopLoss":"0","trailingStop":"0","sessionAvgPrice":"",` +
    `"unrealisedPnl":"${InstrumentFmt.amount(upl)}","curRealisedPnl":"${cum}","cumRealisedPnl":"${cum}","seq":${seq},` +
    `"isReduceOnly":false,"mmrSysUpdatedTime":"","leverageSysUpdatedTime":"","createdTime":"${now}","updatedTime":"${now}"}`
  );
}

/** USD value of one unit of a coin: 1 for USDT/USDC, else the mark of its USDT spot or linear symbol (0 when none) */
export function usdPrice(s: VenueState, coin: string): number {
  if (coin === 'USDT' || coin === 'USDC') return 1;
  const st = s.sym('spot', `${coin}USDT`) ?? s.sym('linear', `${coin}USDT`);
  return st ? markFloat(st) : 0;
}

/** one wallet item (UNIFIED); `push` adds the WS-only keys */
export function walletJson(s: VenueState, accountId: string, push: boolean, coinFilter?: Set<string>): string {
  const acc = s.ctx.account(accountId);
  let coins = '';
  let totalWallet = 0;
  let totalUpl = 0;
  const uplByCoin = new Map<string, number>();
  for (const st of s.syms.values()) {
    if (st.category !== 'linear') continue;
    const p = acc?.positions.get(`${st.market}:${st.symbol}`);
    if (!p || p.sizeLots === 0) continue;
    const upl = (markFloat(st) - st.fmt.priceFloat(p.entryPriceTicks)) * st.fmt.qtyFloat(p.sizeLots);
    uplByCoin.set(st.fmt.inst.quote, (uplByCoin.get(st.fmt.inst.quote) ?? 0) + upl);
    totalUpl += upl;
  }
  if (acc) {
    for (const [coin, b] of acc.wallets.bybit) {
      if (coinFilter && !coinFilter.has(coin)) continue;
      const bal = b.free + b.locked;
      const px = usdPrice(s, coin);
      const upl = uplByCoin.get(coin) ?? 0;
      totalWallet += bal * px;
      const a = InstrumentFmt.amount;
      if (coins.length > 0) coins += ',';
      coins +=
        `{"coin":${q(coin)},"equity":"${a(bal + upl)}","usdValue":"${a((bal + upl) * px, 4)}","walletBalance":"${a(bal)}",` +
        (push ? `"free":"${a(b.free)}",` : '') +
        `"locked":"${a(b.locked)}","spotHedgingQty":"0","borrowAmount":"0","accruedInterest":"0","totalOrderIM":"0",` +
        `"totalPositionIM":"0","totalPositionMM":"0","unrealisedPnl":"${a(upl)}","cumRealisedPnl":"0","bonus":"0",` +
        `"collateralSwitch":true,"marginCollateral":true,"spotBorrow":"0","availableToBorrow":"","availableToWithdraw":"${a(b.free)}"}`;
    }
  }
  const a = InstrumentFmt.amount;
  const eq = totalWallet + totalUpl;
  return (
    `{"accountType":"UNIFIED","accountIMRate":"0","accountMMRate":"0","accountLTV":"0","totalEquity":"${a(eq, 4)}",` +
    `"totalWalletBalance":"${a(totalWallet, 4)}","totalMarginBalance":"${a(eq, 4)}","totalAvailableBalance":"${a(eq, 4)}",` +
    `"totalPerpUPL":"${a(totalUpl, 4)}","totalInitialMargin":"0","totalMaintenanceMargin":"0","coin":[${coins}]}`
  );
}

/** REST list item of /v5/order/realtime (docs open-order.mdx keys) */
export function restOrderJson(o: SimOrder, st: SymState, x: OrderExtra, c?: CondFields): string {
  // the push item has every REST key but isLeverage/createType/marketUnit/...; build from it for one source of truth
  const push = orderItemJson(o, st.category, st.fmt, x, c);
  const extra =
    `"isLeverage":"${st.category === 'spot' ? '0' : ''}","ocoTriggerBy":"","marketUnit":"","slippageToleranceType":"UNKNOWN","slippageTolerance":"0"` +
    (st.category === 'linear' ? ',"createType":"CreateByUser"' : '');
  return push.slice(0, -1) + ',' + extra + '}';
}

/** instruments-info item of a linear symbol */
export function linearInstrumentJson(st: SymState): string {
  const i = st.fmt.inst;
  const fmt = st.fmt;
  const maxPrice = fmt.price(fmt.maxPriceTicks);
  const r = PRICE_LIMIT_RATIOS.linear;
  const maxMkt = fmt.qty(Math.max(fmt.stepUnits, Math.floor(fmt.maxQtyLots / 2 / fmt.stepUnits) * fmt.stepUnits));
  return (
    `{"symbol":"${i.symbol}","contractType":"LinearPerpetual","status":"Trading","baseCoin":"${i.base}","quoteCoin":"${i.quote}",` +
    `"launchTime":"1585526400000","deliveryTime":"0","deliveryFeeRate":"","priceScale":"${fmt.priceScale}",` +
    `"leverageFilter":{"minLeverage":"1","maxLeverage":"100.00","leverageStep":"0.01"},` +
    `"priceFilter":{"minPrice":"${fmt.price(fmt.minPriceTicks)}","maxPrice":"${maxPrice}","tickSize":"${i.tickSize}"},` +
    `"lotSizeFilter":{"maxOrderQty":"${fmt.qty(fmt.maxQtyLots)}","minOrderQty":"${fmt.qty(fmt.minQtyLots)}","qtyStep":"${i.stepSize}",` +
    `"postOnlyMaxOrderQty":"${fmt.qty(fmt.maxQtyLots)}","maxMktOrderQty":"${maxMkt}","minNotionalValue":"${i.minNotional}"},` +
    `"unifiedMarginTrade":true,"fundingInterval":480,"settleCoin":"${i.quote}","copyTrading":"both","upperFundingRate":"0.00375",` +
    `"lowerFundingRate":"-0.00375","isPreListing":false,"preListingInfo":null,"riskParameters":{"priceLimitRatioX":"${r.xText}","priceLimitRatioY":"${r.yText}"},` +
    `"symbolType":""}`
  );
}

/** instruments-info item of a spot symbol */
export function spotInstrumentJson(st: SymState): string {
  const i = st.fmt.inst;
  const fmt = st.fmt;
  const quotePrecision = '0.' + '0'.repeat(Math.min(8, fmt.priceDecimals + fmt.qtyDecimals) - 1) + '1';
  const maxMkt = fmt.qty(Math.max(fmt.stepUnits, Math.floor(fmt.maxQtyLots / 2 / fmt.stepUnits) * fmt.stepUnits));
  const r = PRICE_LIMIT_RATIOS.spot;
  return (
    `{"symbol":"${i.symbol}","baseCoin":"${i.base}","quoteCoin":"${i.quote}","innovation":"0","status":"Trading",` +
    `"marginTrading":"utaOnly","stTag":"0","lotSizeFilter":{"basePrecision":"${i.stepSize}","quotePrecision":"${quotePrecision}",` +
    `"minOrderQty":"${fmt.qty(fmt.minQtyLots)}","maxOrderQty":"${fmt.qty(fmt.maxQtyLots)}","minOrderAmt":"${i.minNotional}",` +
    `"maxOrderAmt":"8000000","maxLimitOrderQty":"${fmt.qty(fmt.maxQtyLots)}","maxMarketOrderQty":"${maxMkt}",` +
    `"postOnlyMaxLimitOrderSize":"${fmt.qty(fmt.maxQtyLots * 5 > Number.MAX_SAFE_INTEGER ? fmt.maxQtyLots : fmt.maxQtyLots * 5)}"},` +
    `"priceFilter":{"tickSize":"${i.tickSize}"},"riskParameters":{"priceLimitRatioX":"${r.xText}","priceLimitRatioY":"${r.yText}"},"symbolType":""}`
  );
}
