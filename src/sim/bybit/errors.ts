/**
 * Bybit v5 refusals: `retCode` + `retMsg` (../shared/exchange/bybit.md §9). The errors answered from more than one
 * place are here; one-off ones stay beside their check.
 */
import { envelope, type Category } from './common.js';

/** A refused request: `retCode` and `retMsg`. */
export interface BybitError {
  code: number;
  msg: string;
}

/** The answer of a REST endpoint or trade-WS op: envelope fields, `result` and `ext` (`retExtInfo`) already JSON. */
export interface EpResult {
  code: number;
  msg: string;
  result: string;
  ext?: string;
}

/** Errors answered from more than one place. */
export const E = {
  illegalCategory: { code: 10001, msg: 'Illegal category' },
  symbolInvalid: { code: 10001, msg: 'params error: symbol invalid' },
  limitInvalid: { code: 10001, msg: 'params error: limit invalid' },
  requestParam: { code: 10001, msg: 'Request parameter error.' },
  idRequired: { code: 10001, msg: 'params error: orderId or orderLinkId is required' },
  missingSymbolOrCoin: { code: 10001, msg: 'Missing some parameters that must be filled in, symbol or settleCoin or baseCoin' },
  /** WS `auth` with malformed or expired args */
  authParams: { code: 10001, msg: 'Params Error' },
  apiKeyInvalid: { code: 10003, msg: 'API key is invalid.' },
  tooManyVisits: { code: 10006, msg: 'Too many visits!' },
  internal: { code: 10016, msg: 'Internal System Error.' },
  routeNotFound: { code: 10017, msg: 'Route not found' },
  linkIdDuplicate: { code: 110072, msg: 'OrderLinkedID is duplicate' },
} as const satisfies Record<string, Readonly<BybitError>>;

/** cancel (`op` 'cancel') or amend ('replace') of an order the account does not have open */
export function orderNotFound(category: Category, op: 'cancel' | 'replace'): BybitError {
  return category === 'spot' ? { code: 170213, msg: 'Order does not exist.' } : { code: 110001, msg: `order not exists or too late to ${op}` };
}

export function insufficientBalance(category: Category): BybitError {
  return category === 'spot' ? { code: 170131, msg: 'Insufficient balance.' } : { code: 110007, msg: 'ab not enough for new order' };
}

/** 10002: the request's timestamp is outside the recv window (REST and trade WS) */
export function recvWindowError(ts: number, now: number, recvWindow: number): BybitError {
  return {
    code: 10002,
    msg: `invalid request, please check your server timestamp or recv_window param. req_timestamp[${ts}],server_timestamp[${now}],recv_window[${recvWindow}]`,
  };
}

/** endpoint answer of a refusal (`result` `{}`) */
export function fail(e: BybitError): EpResult {
  return { code: e.code, msg: e.msg, result: '{}' };
}

/** REST body of a refusal (`result` `{}`) */
export function errorBody(e: BybitError, timeMs: number): string {
  return envelope(e.code, e.msg, '{}', timeMs);
}
