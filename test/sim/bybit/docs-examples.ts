// Response examples from bybit-exchange/docs (docs/v5/...mdx), trimmed to one list item; used as structural
// references for REST answers (our answers may carry newer keys: compared with shapeSubset).
export const DOC_TIME = { retCode: 0, retMsg: 'OK', result: { timeSecond: '1688639403', timeNano: '1688639403423213947' }, retExtInfo: {}, time: 1688639403423 };

export const DOC_INSTRUMENT_LINEAR = {
  symbol: 'BTCUSDT', contractType: 'LinearPerpetual', status: 'Trading', baseCoin: 'BTC', quoteCoin: 'USDT',
  launchTime: '1585526400000', deliveryTime: '0', deliveryFeeRate: '', priceScale: '2',
  leverageFilter: { minLeverage: '1', maxLeverage: '100.00', leverageStep: '0.01' },
  priceFilter: { minPrice: '0.10', maxPrice: '1999999.80', tickSize: '0.10' },
  lotSizeFilter: { maxOrderQty: '1190.000', minOrderQty: '0.001', qtyStep: '0.001', postOnlyMaxOrderQty: '1190.000', maxMktOrderQty: '500.000', minNotionalValue: '5' },
  unifiedMarginTrade: true, fundingInterval: 480, settleCoin: 'USDT', copyTrading: 'both', upperFundingRate: '0.00375',
  lowerFundingRate: '-0.00375', isPreListing: false, preListingInfo: null,
  riskParameters: { priceLimitRatioX: '0.01', priceLimitRatioY: '0.02' }, symbolType: '',
};

export const DOC_INSTRUMENT_SPOT = {
  symbol: 'BTCUSDT', baseCoin: 'BTC', quoteCoin: 'USDT', innovation: '0', status: 'Trading', marginTrading: 'utaOnly', stTag: '0',
  lotSizeFilter: { basePrecision: '0.000001', quotePrecision: '0.0000001', minOrderQty: '0.000011', maxOrderQty: '83', minOrderAmt: '5', maxOrderAmt: '8000000', maxLimitOrderQty: '83', maxMarketOrderQty: '41.5', postOnlyMaxLimitOrderSize: '60000' },
  priceFilter: { tickSize: '0.1' },
  riskParameters: { priceLimitRatioX: '0.005', priceLimitRatioY: '0.01' },
  symbolType: '',
};

export const DOC_OPEN_ORDER = {
  orderId: 'fd4300ae-7847-404e-b947-b46980a4d140', orderLinkId: 'test-000005', blockTradeId: '', symbol: 'ETHUSDT', price: '1600.00',
  qty: '0.10', side: 'Buy', isLeverage: '', positionIdx: 1, orderStatus: 'New', cancelType: 'UNKNOWN', rejectReason: 'EC_NoError',
  avgPrice: '0', leavesQty: '0.10', leavesValue: '160', cumExecQty: '0.00', cumExecValue: '0', cumExecFee: '0', timeInForce: 'GTC',
  orderType: 'Limit', stopOrderType: 'UNKNOWN', orderIv: '', triggerPrice: '0.00', takeProfit: '2500.00', stopLoss: '1500.00',
  tpTriggerBy: 'LastPrice', slTriggerBy: 'LastPrice', triggerDirection: 0, triggerBy: 'UNKNOWN', lastPriceOnCreated: '',
  reduceOnly: false, closeOnTrigger: false, smpType: 'None', smpGroup: 0, smpOrderId: '', tpslMode: 'Full', tpLimitPrice: '',
  slLimitPrice: '', placeType: '', createdTime: '1684738540559', updatedTime: '1684738540561',
};

// (the docs example spells one key `mmrSysUpdateTime`, the live capture and field table `mmrSysUpdatedTime`: left out)
export const DOC_POSITION = {
  positionIdx: 0, riskId: 1, riskLimitValue: '150', symbol: 'BTCUSD', side: 'Sell', size: '300', avgPrice: '27464.50441675',
  positionValue: '0.01092319', tradeMode: 0, positionStatus: 'Normal', autoAddMargin: 1, adlRankIndicator: 2, leverage: '10',
  positionBalance: '0.00139186', markPrice: '28224.50', liqPrice: '', bustPrice: '999999.00', positionMM: '0.0000015',
  positionIM: '0.00010923', tpslMode: 'Full', takeProfit: '0.00', stopLoss: '0.00', trailingStop: '0.00',
  unrealisedPnl: '-0.00029413', cumRealisedPnl: '-0.00096902', seq: 5723621632, isReduceOnly: false,
  leverageSysUpdatedTime: '', createdTime: '1676538056258', updatedTime: '1697673600012',
};

export const DOC_WALLET = {
  totalEquity: '18070.32797922', accountIMRate: '0.0101', totalMarginBalance: '18070.32797922', totalInitialMargin: '182.60183684',
  accountType: 'UNIFIED', totalAvailableBalance: '17887.72614237', accountMMRate: '0', totalPerpUPL: '-0.11001349',
  totalWalletBalance: '18070.43799271', totalMaintenanceMargin: '0.38106773',
  coin: [
    {
      availableToBorrow: '2.5', bonus: '0', accruedInterest: '0', availableToWithdraw: '0.805994', totalOrderIM: '0', equity: '0.805994',
      totalPositionMM: '0', usdValue: '12920.95352538', unrealisedPnl: '0', borrowAmount: '0', totalPositionIM: '0',
      walletBalance: '0.805994', cumRealisedPnl: '0', coin: 'BTC',
    },
  ],
};
