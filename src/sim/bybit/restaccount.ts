/**
 * Account REST of the Bybit venue (signed): `GET /v5/account/wallet-balance`, `/v5/account/info`,
 * `/v5/account/fee-rate`, `/v5/asset/coin/query-info`, `/v5/user/query-api`, `POST /v5/account/set-margin-mode`.
 * The DCP endpoints are in dcp.ts.
 */
import { isCategory } from './common.js';
import { accountProfileOf } from '../core/types.js';
import { accountInfoJson, apiKeyInfoJson, coinInfoJson } from './market.js';
import { E, fail, type EpResult } from './errors.js';
import { rateStr } from '../core/fees.js';
import type { VenueState } from './state.js';
import { walletJson } from './format.js';

export class AccountRest {
  constructor(private readonly s: VenueState) {}

  /** GET /v5/user/query-api */
  queryApi(apiKey: string): EpResult {
    return { code: 0, msg: '', result: apiKeyInfoJson(apiKey, this.userId(apiKey), this.s.startedMs, accountProfileOf(this.s.ctx)) };
  }

  /** GET /v5/account/info */
  accountInfo(apiKey: string): EpResult {
    const a = this.s.acct(apiKey);
    return { code: 0, msg: 'OK', result: accountInfoJson(a.marginMode, a.marginModeUpdatedMs, accountProfileOf(this.s.ctx).bybitUnified) };
  }

  /** a stable numeric user id derived from the API key */
  userId(apiKey: string): number {
    let h = 0;
    for (let i = 0; i < apiKey.length; i++) h = (h * 31 + apiKey.charCodeAt(i)) >>> 0;
    return 100_000_000 + (h % 400_000_000);
  }

  /** GET /v5/asset/coin/query-info: every coin of the listed instruments (`coin` filters one) */
  coinInfo(p: Record<string, unknown>): EpResult {
    const coins = new Set<string>();
    for (const st of this.s.syms.values()) {
      coins.add(st.fmt.inst.base);
      coins.add(st.fmt.inst.quote);
    }
    const want = typeof p['coin'] === 'string' && p['coin'] !== '' ? p['coin'].toUpperCase() : undefined;
    const rows = [...coins].filter((c) => want === undefined || c === want).map(coinInfoJson);
    return { code: 0, msg: 'success', result: `{"rows":[${rows.join(',')}]}` };
  }

  /** GET /v5/account/fee-rate (spot, linear): the simulator's fee table (SimOptions.fees) */
  feeRate(p: Record<string, unknown>): EpResult {
    const category = p['category'];
    if (!isCategory(category)) return fail(E.illegalCategory);
    const symbol = typeof p['symbol'] === 'string' && p['symbol'] !== '' ? p['symbol'] : undefined;
    if (symbol !== undefined && !this.s.sym(category, symbol)) return fail(E.symbolInvalid);
    const r = this.s.ctx.fees.rates[category === 'spot' ? 'bybitSpot' : 'bybitLinear'];
    const items: string[] = [];
    for (const st of this.s.syms.values()) {
      if (st.category !== category || (symbol !== undefined && st.symbol !== symbol)) continue;
      items.push(`{"symbol":"${st.symbol}","baseCoin":"","takerFeeRate":"${rateStr(r.taker)}","makerFeeRate":"${rateStr(r.maker)}"}`);
    }
    return { code: 0, msg: 'OK', result: `{"list":[${items.join(',')}]}` };
  }

  /** POST /v5/account/set-margin-mode (UTA): ISOLATED_MARGIN | REGULAR_MARGIN | PORTFOLIO_MARGIN */
  setMarginMode(apiKey: string, p: Record<string, unknown>): EpResult {
    const m = p['setMarginMode'];
    if (m !== 'ISOLATED_MARGIN' && m !== 'REGULAR_MARGIN' && m !== 'PORTFOLIO_MARGIN') {
      return { code: 10001, msg: 'params error: setMarginMode invalid', result: '{}' };
    }
    const a = this.s.acct(apiKey);
    a.marginMode = m;
    a.marginModeUpdatedMs = Date.now();
    return { code: 0, msg: 'Request accepted', result: '{"reasons":[]}' };
  }

  /** GET /v5/account/wallet-balance (UNIFIED) */
  wallet(apiKey: string, p: Record<string, unknown>): EpResult {
    const t = p['accountType'];
    if (t !== 'UNIFIED') return { code: 10001, msg: 'accountType only support UNIFIED.', result: '{}' };
    const coin = typeof p['coin'] === 'string' && p['coin'] !== '' ? new Set(p['coin'].split(',')) : undefined;
    return { code: 0, msg: 'OK', result: `{"list":[${walletJson(this.s, apiKey, false, coin)}]}` };
  }
}
