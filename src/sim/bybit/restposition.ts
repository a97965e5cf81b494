/**
 * Position REST of the Bybit venue (linear): `GET /v5/position/list`, `POST /v5/position/set-leverage`,
 * `POST /v5/position/switch-mode` (one-way <-> hedge; the account profile's `bybitLinearHedge`).
 */
import { accountProfileOf } from '../core/types.js';
import { E, fail, type EpResult } from './errors.js';
import type { VenueState } from './state.js';
import { positionJson } from './format.js';

export class PositionRest {
  constructor(private readonly s: VenueState) {}

  /** POST /v5/position/set-leverage (linear, one-way mode: buyLeverage must equal sellLeverage) */
  setLeverage(apiKey: string, p: Record<string, unknown>): EpResult {
    const category = p['category'];
    if (category !== 'linear') return fail(E.illegalCategory);
    const symbol = typeof p['symbol'] === 'string' ? p['symbol'] : '';
    const st = this.s.sym('linear', symbol);
    if (!st) return fail(E.symbolInvalid);
    const buy = p['buyLeverage'];
    const sell = p['sellLeverage'];
    const ok = (v: unknown): v is string => typeof v === 'string' && /^\d+(\.\d{1,2})?$/.test(v) && Number(v) >= 1 && Number(v) <= 100;
    if (!ok(buy)) return { code: 10001, msg: 'params error: buyLeverage invalid', result: '{}' };
    if (!ok(sell)) return { code: 10001, msg: 'params error: sellLeverage invalid', result: '{}' };
    if (Number(buy) !== Number(sell)) return { code: 110027, msg: 'buy leverage must be equal to sell leverage in one-way mode', result: '{}' };
    const a = this.s.acct(apiKey);
    const norm = String(Number(buy));
    if ((a.leverage.get(symbol) ?? '10') === norm) return { code: 110043, msg: 'Set leverage not modified', result: '{}' };
    a.leverage.set(symbol, norm);
    return { code: 0, msg: 'OK', result: '{}' };
  }

  /**
   * POST /v5/position/switch-mode (linear; `symbol` or `coin`; mode 0 = merged single (one-way), 3 = both sides
   * (hedge)). The simulator keeps one mode for the whole linear account. Refused while a position is held (110024)
   * or an order is open (110028), and when nothing would change (110025).
   */
  switchMode(apiKey: string, p: Record<string, unknown>): EpResult {
    if (p['category'] !== 'linear') return fail(E.illegalCategory);
    const symbol = typeof p['symbol'] === 'string' && p['symbol'] !== '' ? p['symbol'] : undefined;
    const coin = typeof p['coin'] === 'string' && p['coin'] !== '' ? p['coin'] : undefined;
    if (!symbol && !coin) return { code: 10001, msg: 'Either symbol or coin is required', result: '{}' };
    if (symbol && !this.s.sym('linear', symbol)) return fail(E.symbolInvalid);
    const mode = p['mode'];
    if (mode !== 0 && mode !== 3) return { code: 10001, msg: 'params error: mode invalid', result: '{}' };
    const pr = accountProfileOf(this.s.ctx);
    if (pr.bybitLinearHedge === (mode === 3)) return { code: 110025, msg: 'Position mode is not modified', result: '{}' };
    const acc = this.s.ctx.account(apiKey);
    for (const st of this.s.syms.values()) {
      if (st.category !== 'linear') continue;
      const pos = acc?.positions.get(`${st.market}:${st.symbol}`);
      if (pos && pos.sizeLots !== 0) return { code: 110024, msg: 'You have an existing position, so position mode cannot be switched', result: '{}' };
      if (acc && st.book.openCountOf(acc.id) > 0) return { code: 110028, msg: 'Open orders exist, so you cannot change position mode', result: '{}' };
    }
    pr.bybitLinearHedge = mode === 3;
    return { code: 0, msg: 'OK', result: '{}' };
  }

  /** GET /v5/position/list (linear; symbol, or settleCoin for the open ones); a hedge-mode account lists both sides */
  positions(apiKey: string, p: Record<string, unknown>): EpResult {
    const category = p['category'];
    if (category !== 'linear') return fail(E.illegalCategory);
    const symbol = typeof p['symbol'] === 'string' && p['symbol'] !== '' ? p['symbol'] : undefined;
    const settleCoin = typeof p['settleCoin'] === 'string' && p['settleCoin'] !== '' ? p['settleCoin'] : undefined;
    if (!symbol && !settleCoin) return { code: 10001, msg: 'Missing some parameters that must be filled in, symbol or settleCoin', result: '{}' };
    const acc = this.s.ctx.account(apiKey);
    const hedge = accountProfileOf(this.s.ctx).bybitLinearHedge;
    const items: string[] = [];
    for (const st of this.s.syms.values()) {
      if (st.category !== 'linear') continue;
      if (symbol) {
        if (st.symbol !== symbol) continue;
        if (hedge) items.push(positionJson(this.s, apiKey, st, false, 1), positionJson(this.s, apiKey, st, false, 2));
        else items.push(positionJson(this.s, apiKey, st, false));
      } else if (st.fmt.inst.quote === settleCoin) {
        const pos = acc?.positions.get(`${st.market}:${st.symbol}`);
        if (pos && pos.sizeLots !== 0) items.push(positionJson(this.s, apiKey, st, false, hedge ? (pos.sizeLots > 0 ? 1 : 2) : 0));
      }
    }
    if (symbol && items.length === 0) return fail(E.symbolInvalid);
    return { code: 0, msg: 'OK', result: `{"list":[${items.join(',')}],"nextPageCursor":"","category":"linear"}` };
  }
}
