/**
 * Binance error code -> reaction (FailureClass) and a stable reason string for OrderEvent.reason.
 * Codes: spot-docs errors.md and fut-docs "Error Codes" (see ../shared/exchange/binance.md section 9).
 */
import type { MappedError } from '../../../orders/gateway.js';

export function mapBinanceError(httpStatus: number, code: number, msg: string): MappedError {
  if (httpStatus === 418) return { cls: 'banned', reason: 'IP_BANNED' };
  if (httpStatus === 429 || code === -1003 || code === -1015) return { cls: 'rateLimited', reason: code === -1015 ? 'TOO_MANY_ORDERS' : 'TOO_MUCH_WEIGHT' };
  if (httpStatus >= 500 || code === -1006 || code === -1007 || code === -1000) return { cls: 'unknown', reason: 'UNKNOWN_OUTCOME' };
  switch (code) {
    case -1021:
      return { cls: 'clock', reason: 'TIMESTAMP_OUTSIDE_RECV_WINDOW' };
    case -1022:
      return { cls: 'auth', reason: 'BAD_SIGNATURE' };
    case -2014:
    case -2015:
      return { cls: 'auth', reason: 'BAD_API_KEY' };
    case -1008:
      return { cls: 'rateLimited', reason: 'SERVER_BUSY' };
    case -4116:
      return { cls: 'duplicate', reason: 'DUPLICATE_CLIENT_ID' };
    case -2010:
      if (/duplicate/i.test(msg)) return { cls: 'duplicate', reason: 'DUPLICATE_CLIENT_ID' };
      if (/insufficient balance/i.test(msg)) return { cls: 'rejected', reason: 'INSUFFICIENT_BALANCE' };
      if (/immediately match and take/i.test(msg)) return { cls: 'rejected', reason: 'POST_ONLY_WOULD_TAKE' };
      return { cls: 'rejected', reason: 'NEW_ORDER_REJECTED' };
    case -5022:
      return { cls: 'rejected', reason: 'POST_ONLY_WOULD_TAKE' };
    case -5021:
      return { cls: 'rejected', reason: 'FOK_NOT_FILLED' };
    case -2018:
    case -2019:
      return { cls: 'rejected', reason: 'INSUFFICIENT_BALANCE' };
    case -2022:
      return { cls: 'rejected', reason: 'REDUCE_ONLY_REJECTED' };
    case -4164:
      return { cls: 'rejected', reason: 'MIN_NOTIONAL' };
    case -1013:
      return { cls: 'rejected', reason: /NOTIONAL/i.test(msg) ? 'MIN_NOTIONAL' : 'FILTER:' + msg.replace(/^Filter failure: /, '') };
    case -1111:
    case -4014:
    case -4023:
      return { cls: 'rejected', reason: 'BAD_PRECISION' };
    case -1121:
      return { cls: 'rejected', reason: 'BAD_SYMBOL' };
    case -2011:
    case -2013:
      return { cls: 'rejected', reason: 'UNKNOWN_ORDER' };
    case -4015:
      return { cls: 'rejected', reason: 'BAD_CLIENT_ID' };
    case -4120:
      return { cls: 'rejected', reason: 'USE_ALGO_API' };
    default:
      return { cls: 'rejected', reason: code !== 0 ? `BINANCE_${code}` : `HTTP_${httpStatus}` };
  }
}
