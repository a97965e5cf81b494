/**
 * History REST of the Bybit venue: `GET /v5/order/history` and `GET /v5/execution/list` (cursor stable under new
 * executions), from what the venue recorded per account.
 */
import type { SimOrder } from '../core/types.js';
import { isCategory, marketOf, safeDecode } from './common.js';
import { E, fail, type EpResult } from './errors.js';
import { linkIdOut } from './orders.js';
import type { VenueState, SymState } from './state.js';
import { restOrderJson } from './format.js';

export class HistoryRest {
  constructor(private readonly s: VenueState) {}

  /** GET /v5/order/history: every order this venue saw for the account (latest state), newest first, bounded */
  orderHistory(apiKey: string, p: Record<string, unknown>): EpResult {
    const category = p['category'];
    if (!isCategory(category)) return fail(E.illegalCategory);
    const symbol = typeof p['symbol'] === 'string' && p['symbol'] !== '' ? p['symbol'] : undefined;
    const orderId = typeof p['orderId'] === 'string' && p['orderId'] !== '' ? p['orderId'] : undefined;
    const link = typeof p['orderLinkId'] === 'string' && p['orderLinkId'] !== '' ? p['orderLinkId'] : undefined;
    if (symbol && !this.s.sym(category, symbol)) return fail(E.symbolInvalid);
    const limText = p['limit'];
    let limit = 20;
    if (limText !== undefined && limText !== '') {
      const n = typeof limText === 'string' && /^\d+$/.test(limText) ? Number(limText) : NaN;
      if (!(n >= 1 && n <= 50)) return fail(E.limitInvalid);
      limit = n;
    }
    const cur = safeDecode(typeof p['cursor'] === 'string' ? p['cursor'] : '');
    const offset = /^page_args=\d+$/.test(cur) ? Number(cur.slice(10)) : 0;
    const a = this.s.acct(apiKey);
    const rows: Array<{ st: SymState; o: SimOrder }> = [];
    for (const r of a.recent.values()) {
      if (r.category !== category) continue;
      if (symbol && r.symbol !== symbol) continue;
      if (orderId && r.order.orderId !== orderId) continue;
      if (link && linkIdOut(r.order.clientOrderId) !== link) continue;
      const st = this.s.sym(r.category, r.symbol);
      if (st) rows.push({ st, o: r.order });
    }
    rows.sort((x, y) => y.o.createdMs - x.o.createdMs || (y.o.orderId > x.o.orderId ? 1 : -1));
    const page = rows.slice(offset, offset + limit);
    const items = page.map((r) => restOrderJson(r.o, r.st, this.s.extraFor(a, r.o, r.st)));
    const next = offset + limit < rows.length ? encodeURIComponent(`page_args=${offset + limit}`) : '';
    return { code: 0, msg: 'OK', result: `{"list":[${items.join(',')}],"nextPageCursor":"${next}","category":"${category}"}` };
  }

  /**
   * GET /v5/execution/list, newest first, as documented: category (required), symbol, orderId, orderLinkId, baseCoin,
   * execType (only `Trade` happens here), startTime/endTime (ms; at most 7 days apart; a lone startTime covers the 7
   * days after it, a lone endTime the 7 days before it, neither the last 7 days), limit 1..100 (default 50), cursor.
   * The cursor is stable under new executions (it names the last execution returned, not an offset), so a client
   * backfilling after a gap neither skips nor repeats items; `execId` equals the private `execution` push's.
   */
  executions(apiKey: string, p: Record<string, unknown>): EpResult {
    const category = p['category'];
    if (!isCategory(category)) return fail(E.illegalCategory);
    const str = (k: string): string | undefined => (typeof p[k] === 'string' && p[k] !== '' ? (p[k] as string) : undefined);
    const symbol = str('symbol');
    const orderId = str('orderId');
    const link = str('orderLinkId');
    const baseCoin = str('baseCoin');
    const execType = str('execType');
    const limText = p['limit'];
    let limit = 50;
    if (limText !== undefined && limText !== '') {
      const n = typeof limText === 'string' && /^\d+$/.test(limText) ? Number(limText) : NaN;
      if (!(n >= 1 && n <= 100)) return fail(E.limitInvalid);
      limit = n;
    }
    const ms = (k: string): number | undefined | null => {
      const v = str(k);
      if (v === undefined) return undefined;
      return /^\d{1,16}$/.test(v) ? Number(v) : null;
    };
    const st0 = ms('startTime');
    const en0 = ms('endTime');
    if (st0 === null) return { code: 10001, msg: 'params error: startTime invalid', result: '{}' };
    if (en0 === null) return { code: 10001, msg: 'params error: endTime invalid', result: '{}' };
    const WEEK = 7 * 86_400_000;
    const now = this.s.ctx.nowMs(marketOf(category));
    let start: number;
    let end: number;
    if (st0 !== undefined && en0 !== undefined) {
      if (en0 < st0 || en0 - st0 > WEEK) return { code: 10001, msg: 'The time range between startTime and endTime cannot exceed 7 days', result: '{}' };
      start = st0;
      end = en0;
    } else if (st0 !== undefined) {
      start = st0;
      end = st0 + WEEK;
    } else if (en0 !== undefined) {
      start = en0 - WEEK;
      end = en0;
    } else {
      start = now - WEEK;
      end = Number.MAX_SAFE_INTEGER;
    }
    const cur = safeDecode(typeof p['cursor'] === 'string' ? p['cursor'] : '');
    const m = /^(\d+):/.exec(cur);
    const before = m ? Number(m[1]) : Number.MAX_SAFE_INTEGER;
    const a = this.s.acct(apiKey);
    const rows: string[] = [];
    let last = 0;
    let more = false;
    for (let i = a.execs.length - 1; i >= 0; i--) {
      const e = a.execs[i]!;
      if (e.n >= before) continue;
      if (e.category !== category) continue;
      if (symbol && e.symbol !== symbol) continue;
      if (orderId && e.orderId !== orderId) continue;
      if (link && e.link !== link) continue;
      if (baseCoin && this.s.sym(e.category, e.symbol)?.fmt.inst.base !== baseCoin) continue;
      if (execType && execType !== 'Trade') continue;
      if (e.time < start || e.time > end) continue;
      if (rows.length === limit) {
        more = true;
        break;
      }
      rows.push(e.json);
      last = e.n;
    }
    const next = more ? encodeURIComponent(`${last}:${limit}`) : '';
    return { code: 0, msg: 'OK', result: `{"nextPageCursor":"${next}","category":"${category}","list":[${rows.join(',')}]}` };
  }
}
