/**
 * Bybit v5 request authentication, as the venue checks it (../shared/exchange/bybit.md §3).
 *
 * REST: headers `X-BAPI-API-KEY`, `X-BAPI-TIMESTAMP`, `X-BAPI-RECV-WINDOW` (default 5000), `X-BAPI-SIGN` =
 * HMAC-SHA256 hex of `timestamp + apiKey + recvWindow + payload` (payload: the raw query string of a GET, the raw
 * body of a POST). WS `auth` (private and trade): `args: [apiKey, expires, sign]`, sign = HMAC of
 * `GET/realtime` + expires, expires in the future. Trade-WS requests carry the timestamp and recv window in their
 * `header`. Timing: `server - recvWindow <= timestamp < server + 1000` (`inRecvWindow`).
 */
import type { RequestInfo } from '../core/http.js';
import type { SimContext } from '../core/types.js';
import { hmacHex, inRecvWindow, signatureMatches } from './common.js';
import { E, recvWindowError, type BybitError } from './errors.js';

/** REST: the API key of a well-signed request in its recv window, or the refusal with its HTTP status */
export function checkRestAuth(ctx: SimContext, info: RequestInfo, payload: string, now: number): string | { status: number; code: number; msg: string } {
  const key = info.headers.get('x-bapi-api-key') ?? '';
  const tsText = info.headers.get('x-bapi-timestamp') ?? '';
  const sign = info.headers.get('x-bapi-sign') ?? '';
  const rwText = info.headers.get('x-bapi-recv-window') ?? '5000';
  if (key === '' || !ctx.account(key) || key !== ctx.credentials.apiKey) {
    return { status: 401, ...E.apiKeyInvalid };
  }
  const ts = /^\d{1,16}$/.test(tsText) ? Number(tsText) : NaN;
  const rw = /^\d{1,9}$/.test(rwText) ? Number(rwText) : NaN;
  if (!Number.isFinite(ts) || !Number.isFinite(rw)) {
    return { status: 200, code: 10001, msg: 'params error: X-BAPI-TIMESTAMP or X-BAPI-RECV-WINDOW invalid' };
  }
  if (!inRecvWindow(ts, rw, now)) {
    return { status: 200, ...recvWindowError(ts, now, rw) };
  }
  const expected = hmacHex(ctx.credentials.apiSecret, tsText + key + rwText + payload);
  if (!signatureMatches(expected, sign)) {
    return { status: 200, code: 10004, msg: `error sign! origin_string[${tsText + key + rwText + payload}]` };
  }
  return key;
}

/** WS `auth` op (private and trade sockets) */
export function wsAuth(ctx: SimContext, args: unknown): { ok: true; apiKey: string } | { ok: false; code: number; msg: string } {
  if (!Array.isArray(args) || args.length !== 3) return { ok: false, ...E.authParams };
  const [key, expiresIn, sig] = args as unknown[];
  if (typeof key !== 'string' || typeof sig !== 'string') return { ok: false, ...E.authParams };
  const expires = typeof expiresIn === 'number' ? expiresIn : typeof expiresIn === 'string' && /^\d+$/.test(expiresIn) ? Number(expiresIn) : NaN;
  if (!Number.isFinite(expires)) return { ok: false, ...E.authParams };
  if (key !== ctx.credentials.apiKey || !ctx.account(key)) return { ok: false, ...E.apiKeyInvalid };
  if (expires <= ctx.nowMs('bybitLinear')) return { ok: false, ...E.authParams };
  const expected = hmacHex(ctx.credentials.apiSecret, 'GET/realtime' + String(expiresIn));
  if (!signatureMatches(expected, sig)) return { ok: false, code: 10004, msg: 'Invalid sign' };
  return { ok: true, apiKey: key };
}

/** trade WS: the request `header`'s `X-BAPI-TIMESTAMP` (required) and `X-BAPI-RECV-WINDOW` (default 5000) */
export function checkTradeHeader(h: Record<string, unknown> | undefined, now: number): BybitError | undefined {
  const tsText = h ? h['X-BAPI-TIMESTAMP'] : undefined;
  const rwText = h ? (h['X-BAPI-RECV-WINDOW'] ?? '5000') : '5000';
  const ts = typeof tsText === 'string' && /^\d{1,16}$/.test(tsText) ? Number(tsText) : typeof tsText === 'number' ? tsText : NaN;
  const rw = typeof rwText === 'string' && /^\d{1,9}$/.test(rwText) ? Number(rwText) : typeof rwText === 'number' ? rwText : NaN;
  if (!Number.isFinite(ts) || !Number.isFinite(rw)) return { code: 10001, msg: 'params error: X-BAPI-TIMESTAMP is required' };
  if (!inRecvWindow(ts, rw, now)) return recvWindowError(ts, now, rw);
  return undefined;
}
