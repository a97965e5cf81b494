/**
 * The account as the venues describe it, read over signed REST on the cold path: the engine's start check (position
 * mode, unified account) and `tickwire doctor` (key permissions, fees, rate-limit headroom).
 *
 *   const r = await signedGet('binance', ep, '/fapi/v1/positionSide/dual', {});
 *   const m = await readAccountMode('bybitLinear', ep, ['BTCUSDT']);   // { positionMode: 'hedge', refuse: '...' }
 *
 * tickwire trades one-way only: one net position per symbol, orders without positionSide (BOTH) / with positionIdx 0.
 * A hedge-mode account would reject every order (Binance -4061, Bybit 10001) or, worse, book both sides apart from
 * the engine's one position; so the start refuses it and names the mode and how to switch it. On Bybit the engine is
 * built for the unified trading account (one wallet for spot and linear, as the simulator models it); a classic
 * account is refused the same way.
 */
import type { VenueId } from '../model/types.js';
import { HmacSha256, Ed25519Signer, bybitRestSignature } from '../codec/sign.js';
import type { VenueEndpoints } from './endpoints.js';

export interface SignedAnswer {
  /** HTTP status */
  status: number;
  headers: Headers;
  text: string;
  /** the body as JSON (undefined when it is not JSON) */
  json: unknown;
  /** round trip, ms */
  ms: number;
}

export interface SignedOptions {
  /** server - local clock, ms (the doctor measures it first) */
  offsetMs?: number;
  timeoutMs?: number;
  /** another REST base of the same exchange (Binance /sapi lives on the Spot host) */
  base?: string;
}

const RECV_WINDOW = 5000;

/** A signed request: Binance (HMAC, else Ed25519; query string) or Bybit v5 (HMAC headers; query or JSON body). */
export async function signedRequest(
  exchange: 'binance' | 'bybit',
  ep: VenueEndpoints,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  params: Record<string, string | number | boolean>,
  o: SignedOptions = {},
): Promise<SignedAnswer> {
  const now = Math.floor(Date.now() + (o.offsetMs ?? 0));
  const base = o.base ?? ep.restBaseUrl;
  const headers: Record<string, string> = {};
  let url: string;
  let body: string | undefined;
  if (exchange === 'binance') {
    let q = new URLSearchParams(
      Object.entries({ ...params, recvWindow: RECV_WINDOW, timestamp: now }).map(([k, v]): [string, string] => [k, String(v)]),
    ).toString();
    if (ep.apiKey !== undefined && ep.apiSecret !== undefined) {
      q += '&signature=' + new HmacSha256(ep.apiSecret).hex(q);
      headers['X-MBX-APIKEY'] = ep.apiKey;
    } else if (ep.ed25519ApiKey !== undefined && ep.ed25519PrivateKeyPem !== undefined) {
      q += '&signature=' + encodeURIComponent(new Ed25519Signer(ep.ed25519PrivateKeyPem).base64(q));
      headers['X-MBX-APIKEY'] = ep.ed25519ApiKey;
    } else throw new Error('no Binance API key');
    url = `${base}${path}?${q}`;
  } else {
    if (ep.apiKey === undefined || ep.apiSecret === undefined) throw new Error('no Bybit API key pair');
    let payload: string;
    if (method === 'GET') {
      payload = new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)])).toString();
      url = `${base}${path}${payload ? '?' + payload : ''}`;
    } else {
      payload = JSON.stringify(params);
      body = payload;
      url = `${base}${path}`;
      headers['Content-Type'] = 'application/json';
    }
    headers['X-BAPI-API-KEY'] = ep.apiKey;
    headers['X-BAPI-TIMESTAMP'] = String(now);
    headers['X-BAPI-RECV-WINDOW'] = String(RECV_WINDOW);
    headers['X-BAPI-SIGN'] = bybitRestSignature(new HmacSha256(ep.apiSecret), now, ep.apiKey, RECV_WINDOW, payload);
  }
  const t0 = performance.now();
  const res = await fetch(url, { method, headers, ...(body !== undefined ? { body } : {}), signal: AbortSignal.timeout(o.timeoutMs ?? 10_000) });
  const text = await res.text();
  const ms = performance.now() - t0;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json, ms };
}

/** Bybit's `result` of a successful answer, else an Error naming the path and the venue's retCode/retMsg. */
export function bybitResult(a: SignedAnswer, path: string): Record<string, unknown> {
  const j = a.json as { retCode?: unknown; retMsg?: unknown; result?: unknown } | undefined;
  if (a.status !== 200 || !j || j.retCode !== 0 || typeof j.result !== 'object' || j.result === null)
    throw new Error(`${path}: HTTP ${a.status} ${j ? `retCode ${String(j.retCode)} ${String(j.retMsg)}` : a.text.slice(0, 200)}`);
  return j.result as Record<string, unknown>;
}

/** Binance's JSON object of a successful answer, else an Error naming the path and the venue's code/msg. */
export function binanceObject(a: SignedAnswer, path: string): Record<string, unknown> {
  const j = a.json as Record<string, unknown> | undefined;
  if (a.status !== 200 || typeof j !== 'object' || j === null || Array.isArray(j))
    throw new Error(`${path}: HTTP ${a.status} ${j && 'code' in j ? `${String(j['code'])} ${String(j['msg'])}` : a.text.slice(0, 200)}`);
  return j;
}

export type PositionMode = 'oneWay' | 'hedge';

export interface AccountMode {
  venue: VenueId;
  /** spot markets have none (one-way by nature) */
  positionMode: PositionMode;
  /** Bybit: the account is a unified trading account (undefined on Binance) */
  unified?: boolean;
  /** what was read, e.g. `dualSidePosition=false`, `positionIdx 0`, `unifiedMarginStatus=6` */
  detail: string;
  /** set when the engine must not trade this account: the mode, the field that says so, and how to switch */
  refuse?: string;
}

/** Bybit unifiedMarginStatus: 1 classic, 2 unified margin (old), 3/4 UTA 1.0 (pro), 5/6 UTA 2.0 (pro) */
const BYBIT_UTA = new Set([3, 4, 5, 6]);

async function bybitUnified(ep: VenueEndpoints, venue: VenueId, o: SignedOptions): Promise<{ unified: boolean; detail: string; refuse?: string }> {
  const r = bybitResult(await signedRequest('bybit', ep, 'GET', '/v5/account/info', {}, o), 'GET /v5/account/info');
  const st = r['unifiedMarginStatus'];
  if (typeof st !== 'number') throw new Error(`GET /v5/account/info: unifiedMarginStatus missing or not a number (${JSON.stringify(st)})`);
  const unified = BYBIT_UTA.has(st);
  return {
    unified,
    detail: `unifiedMarginStatus=${st}`,
    ...(unified
      ? {}
      : {
          refuse:
            `${venue}: the Bybit account is not a unified trading account (GET /v5/account/info: unifiedMarginStatus=${st}; ` +
            'UTA is 3-6); tickwire trades the unified account only (one wallet for spot and linear). Upgrade it to the ' +
            'Unified Trading Account in the Bybit UI (Assets > Unified Trading Account > Upgrade)',
        }),
  };
}

/**
 * The account's position mode (and, on Bybit, whether it is unified), with `refuse` set when the engine must not
 * trade it. Throws when the venue's answer cannot be read (the caller fails closed).
 */
export async function readAccountMode(venue: VenueId, ep: VenueEndpoints, symbols: readonly string[], o: SignedOptions = {}): Promise<AccountMode> {
  switch (venue) {
    case 'binanceSpot':
      return { venue, positionMode: 'oneWay', detail: 'spot: no position mode' };
    case 'binanceUsdm': {
      const path = '/fapi/v1/positionSide/dual';
      const j = binanceObject(await signedRequest('binance', ep, 'GET', path, {}, o), `GET ${path}`);
      const dual = j['dualSidePosition'];
      if (typeof dual !== 'boolean') throw new Error(`GET ${path}: dualSidePosition missing or not a boolean (${JSON.stringify(dual)})`);
      const detail = `dualSidePosition=${dual}`;
      if (!dual) return { venue, positionMode: 'oneWay', detail };
      return {
        venue,
        positionMode: 'hedge',
        detail,
        refuse:
          `${venue}: the USD-M account is in hedge mode (GET ${path}: dualSidePosition=true); tickwire trades one-way ` +
          `only (positionSide BOTH). Switch it to one-way: POST ${path} dualSidePosition=false, or in the UI Futures > ` +
          'Preferences > Position Mode > One-way (no open orders or positions while switching)',
      };
    }
    case 'bybitSpot': {
      const u = await bybitUnified(ep, venue, o);
      return { venue, positionMode: 'oneWay', unified: u.unified, detail: `spot: no position mode; ${u.detail}`, ...(u.refuse ? { refuse: u.refuse } : {}) };
    }
    case 'bybitLinear': {
      const u = await bybitUnified(ep, venue, o);
      const hedged: string[] = [];
      const seen: number[] = [];
      for (const s of symbols) {
        const path = '/v5/position/list';
        const r = bybitResult(await signedRequest('bybit', ep, 'GET', path, { category: 'linear', symbol: s }, o), `GET ${path}`);
        const list = r['list'];
        if (!Array.isArray(list)) throw new Error(`GET ${path}: result.list missing`);
        for (const p of list as Array<Record<string, unknown>>) {
          const idx = p['positionIdx'];
          if (idx !== 0 && idx !== 1 && idx !== 2) throw new Error(`GET ${path}: ${s} positionIdx ${JSON.stringify(idx)} is not 0, 1 or 2`);
          if (!seen.includes(idx)) seen.push(idx);
          if (idx !== 0 && !hedged.includes(s)) hedged.push(s);
        }
      }
      const detail = `positionIdx ${seen.sort().join('/') || '(no positions listed)'}; ${u.detail}`;
      if (hedged.length === 0) return { venue, positionMode: 'oneWay', unified: u.unified, detail, ...(u.refuse ? { refuse: u.refuse } : {}) };
      const hedge =
        `${venue}: ${hedged.join(', ')} in hedge mode (GET /v5/position/list: positionIdx 1/2; one-way is positionIdx 0); ` +
        'tickwire trades one-way only (positionIdx 0). Switch it to one-way: POST /v5/position/switch-mode ' +
        '{"category":"linear","coin":"USDT","mode":0}, or in the UI Derivatives > Preferences > Position Mode > One-Way ' +
        '(no open orders or positions while switching)';
      return { venue, positionMode: 'hedge', unified: u.unified, detail, refuse: u.refuse ? `${hedge}; and ${u.refuse}` : hedge };
    }
  }
}
