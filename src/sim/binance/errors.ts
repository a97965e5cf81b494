/**
 * Binance error codes and messages as the real venues send them (spot-docs errors.md, fut-docs "Error Codes").
 * A `BnError` carries the HTTP status it is answered with; `body` is the exact `{"code":..,"msg":".."}` text.
 */
export class BnError {
  readonly body: string;
  constructor(
    readonly status: number,
    readonly code: number,
    readonly msg: string,
    readonly headers?: Record<string, string>,
  ) {
    this.body = `{"code":${code},"msg":${JSON.stringify(msg)}}`;
  }
}

export const E = {
  unknown: () => new BnError(400, -1000, 'An unknown error occurred while processing the request.'),
  tooMuchWeight: (limit: number, interval: string) =>
    new BnError(
      429,
      -1003,
      `Too much request weight used; current limit is ${limit} request weight per ${interval}. Please use WebSocket Streams for live updates to avoid polling the API.`,
    ),
  banned: (untilMs: number) =>
    new BnError(418, -1003, `Way too much request weight used; IP banned until ${untilMs}. Please use WebSocket Streams for live updates to avoid bans.`),
  tooManyOrders: (limit: number, interval: string) => new BnError(429, -1015, `Too many new orders; current limit is ${limit} orders per ${interval}.`),
  timestampAhead: () => new BnError(400, -1021, "Timestamp for this request was 1000ms ahead of the server's time."),
  timestampOutside: () => new BnError(400, -1021, 'Timestamp for this request is outside of the recvWindow.'),
  badSignature: () => new BnError(400, -1022, 'Signature for this request is not valid.'),
  illegalChars: (param: string, range: string) => new BnError(400, -1100, `Illegal characters found in parameter '${param}'; legal range is '${range}'.`),
  mandatory: (param: string) => new BnError(400, -1102, `Mandatory parameter '${param}' was not sent, was empty/null, or malformed.`),
  eitherParam: (a: string, b: string) => new BnError(400, -1102, `Param '${a}' or '${b}' must be sent, but both were empty/null!`),
  notRequired: (param: string) => new BnError(400, -1106, `Parameter '${param}' sent when not required.`),
  precision: (param: string) => new BnError(400, -1111, `Parameter '${param}' has too much precision.`),
  futPrecision: () => new BnError(400, -1111, 'Precision is over the maximum defined for this asset.'),
  tifNotRequired: () => new BnError(400, -1114, 'TimeInForce parameter sent when not required.'),
  invalidTif: () => new BnError(400, -1115, 'Invalid timeInForce.'),
  invalidType: () => new BnError(400, -1116, 'Invalid orderType.'),
  invalidSide: () => new BnError(400, -1117, 'Invalid side.'),
  badSymbol: () => new BnError(400, -1121, 'Invalid symbol.'),
  badListenKey: () => new BnError(400, -1125, 'This listenKey does not exist.'),
  invalidParam: (param: string) => new BnError(400, -1130, `Data sent for parameter '${param}' is not valid.`),
  badRecvWindow: () => new BnError(400, -1131, 'recvWindow must be less than 60000'),
  invalidJson: () => new BnError(400, -1135, 'Invalid JSON Request'),
  filter: (name: string) => new BnError(400, -1013, `Filter failure: ${name}`),
  rejected: (msg: string) => new BnError(400, -2010, msg),
  cancelRejected: (msg = 'Unknown order sent.') => new BnError(400, -2011, msg),
  noSuchOrder: () => new BnError(400, -2013, 'Order does not exist.'),
  apiKeyFormat: () => new BnError(401, -2014, 'API-key format invalid.'),
  rejectedKey: () => new BnError(401, -2015, 'Invalid API-key, IP, or permissions for action.'),
  // USD-M only
  futReduceOnly: () => new BnError(400, -2022, 'ReduceOnly Order is rejected.'),
  futMarginInsufficient: () => new BnError(400, -2019, 'Margin is insufficient.'),
  futTick: () => new BnError(400, -4014, 'Price not increased by tick size.'),
  futStep: () => new BnError(400, -4023, 'Quantity not increased by step size.'),
  futPriceMax: () => new BnError(400, -4002, 'Price greater than max price.'),
  futPctUp: (cap: string) => new BnError(400, -4016, `Limit price can't be higher than ${cap}.`),
  futPctDown: (floor: string) => new BnError(400, -4024, `Limit price can't be lower than ${floor}.`),
  futPctMarket: () => new BnError(400, -4131, "The counterparty's best price does not meet the PERCENT_PRICE filter limit."),
  futMaxOrders: () => new BnError(400, -2025, 'Reach max open order limit.'),
  futMaxAlgoOrders: () => new BnError(400, -4045, 'Reach max stop order limit.'),
  futQtyZero: () => new BnError(400, -4003, 'Quantity less than or equal to zero.'),
  futQtyMax: () => new BnError(400, -4005, 'Quantity greater than max quantity.'),
  futClientIdLen: () => new BnError(400, -4015, 'Client order id length should not be more than 36 chars'),
  futDuplicate: () => new BnError(400, -4116, 'ClientOrderId is duplicated.'),
  futUseAlgo: () => new BnError(400, -4120, 'Order type not supported for this endpoint. Please use the Algo Order API endpoints instead.'),
  futMinNotional: (min: string) => new BnError(400, -4164, `Order's notional must be no smaller than ${min} (unless you choose reduce only).`),
  futFok: () =>
    new BnError(
      400,
      -5021,
      'Due to the order could not be filled immediately, the FOK order has been rejected. The order will not be recorded in the order history',
    ),
  futGtx: () =>
    new BnError(
      400,
      -5022,
      'Due to the order could not be executed as maker, the Post Only order will be rejected. The order will not be recorded in the order history',
    ),
  futInvalidPath: (method: string, path: string) => new BnError(404, -5000, `Path ${path}, Method ${method} is invalid`),
  // Spot WS API
  wsNotLoggedIn: () => new BnError(401, -2015, 'Invalid API-key, IP, or permissions for action.'),
  wsHmacLogon: () => new BnError(400, -4056, 'HMAC_SHA256 API key is not supported.'),
  wsUnknownMethod: () => new BnError(400, -1020, 'This operation is not supported.'),
  wsSubscriptionActive: () => new BnError(400, -2035, 'User Data Stream subscription already active.'),
  wsSubscriptionInactive: () => new BnError(400, -2036, 'User Data Stream subscription not active.'),
} as const;
