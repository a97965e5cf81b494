/**
 * Position REST of the Bybit venue (linear): `GET /v5/position/list`, `POST /v5/position/set-leverage`.
 */
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

  /** GET /v5/position/list (linear; symbol, or settleCoin for the open ones) */
  positions(apiKey: string, p: Record<string, unknown>): EpResult {
    const category = p['category'];
    if (category !== 'linear') return fail(E.illegalCategory);
    const symbol = typeof p['symbol'] === 'string' && p['symbol'] !== '' ? p['symbol'] : undefined;
    const settleCoin = typeof p['settleCoin'] === 'string' && p['settleCoin'] !== '' ? p['settleCoin'] : undefined;
    if (!symbol && !settleCoin) return { code: 10001, msg: 'Missing some parameters that must be filled in, symbol or settleCoin', result: '{}' };
    const acc = this.s.ctx.account(apiKey);
    const items: string[] = [];
    for (const st of this.s.syms.values()) {
      if (st.category !== 'linear') continue;
      if (symbol) {
        if (st.symbol !== symbol) continue;
        items.push(positionJson(this.s, apiKey, st, false));
      } else if (st.fmt.inst.quote === settleCoin) {
        const pos = acc?.positions.get(`${st.market}:${st.symbol}`);
        if (pos && pos.sizeLots !== 0) items.push(positionJson(this.s, apiKey, st, false));
      }
    }
    if (symbol && items.length === 0) return fail(E.symbolInvalid);
    return { code: 0, msg: 'OK', result: `{"list":[${items.join(',')}],"nextPageCursor":"","category":"linear"}` };
  }
}
