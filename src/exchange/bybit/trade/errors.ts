/**
 * Bybit v5 retCode -> reaction (FailureClass) and a stable reason (../shared/exchange/bybit.md sections 4 and 9).
 */
import type { MappedError } from '../../../orders/gateway.js';

export function mapBybitError(httpStatus: number, code: number, msg: string): MappedError {
  if (httpStatus === 403) return { cls: 'banned', reason: 'IP_RATE_LIMIT_403' };
  if (httpStatus === 429) return { cls: 'rateLimited', reason: 'SYSTEM_PROTECTION_429' };
  if (httpStatus >= 500) return { cls: 'unknown', reason: 'UNKNOWN_OUTCOME' };
  switch (code) {
    case 10002:
      return { cls: 'clock', reason: 'TIMESTAMP_OUTSIDE_RECV_WINDOW' };
    case 10003:
    case 10004:
    case 10005:
    case 10010:
    case 10027:
      return { cls: 'auth', reason: code === 10004 ? 'BAD_SIGNATURE' : code === 10027 ? 'TRADING_BANNED' : 'BAD_API_KEY' };
    case 10006:
    case 10429:
    case 10403:
    case 20003:
      return { cls: 'rateLimited', reason: 'TOO_MANY_VISITS' };
    case 10016:
    case 10019:
    case 110079:
      return { cls: 'unknown', reason: code === 10019 ? 'SERVICE_RESTARTING' : 'UNKNOWN_OUTCOME' };
    case 110072:
      return { cls: 'duplicate', reason: 'DUPLICATE_CLIENT_ID' };
    case 110004:
    case 110007:
    case 110012:
    case 170131:
      return { cls: 'rejected', reason: 'INSUFFICIENT_BALANCE' };
    case 110094:
    case 170140:
      return { cls: 'rejected', reason: 'MIN_NOTIONAL' };
    case 170136:
      return { cls: 'rejected', reason: 'QTY_BELOW_MIN' };
    case 110017:
      return { cls: 'rejected', reason: 'REDUCE_ONLY_REJECTED' };
    case 110003:
    case 30208:
    case 170193:
      return { cls: 'rejected', reason: 'PRICE_OUT_OF_RANGE' };
    case 170134:
      return { cls: 'rejected', reason: 'BAD_PRECISION' };
    case 110001:
    case 170213:
    case 110008:
      return { cls: 'rejected', reason: 'UNKNOWN_ORDER' };
    case 110020:
      return { cls: 'rejected', reason: 'TOO_MANY_OPEN_ORDERS' };
    case 10001:
      return { cls: 'rejected', reason: 'BAD_PARAM' };
    default:
      return { cls: 'rejected', reason: code !== 0 ? `BYBIT_${code}` : `HTTP_${httpStatus}:${msg}` };
  }
}
