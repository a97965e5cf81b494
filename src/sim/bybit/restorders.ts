/**
 * Order REST of the Bybit venue: `POST /v5/order/create|amend|cancel` and the batch forms (TradeOps, shared with
 * the trade WS), `POST /v5/order/cancel-all`, and `GET /v5/order/realtime` (open orders, or recent closed ones with
 * `openOnly`).
 */
import type { SimOrder } from '../core/types.js';
import { isCategory, q, safeDecode } from './common.js';
import { E, fail, type BybitError, type EpResult } from './errors.js';
import { isOpen, linkIdOut } from './orders.js';
import type { VenueState, SymState } from './state.js';
import { restOrderJson } from './format.js';
import type { TradeOps } from './ops.js';
import { filterKinds } from './conditional.js';

export class OrdersRest {
  constructor(
    private readonly s: VenueState,
    private readonly ops: TradeOps,
  ) {}

  /** POST /v5/order/create */
  create(apiKey: string, p: Record<string, unknown>): EpResult {
    return idsResult(this.ops.createOrder(apiKey, p));
  }

  /** POST /v5/order/cancel */
  cancel(apiKey: string, p: Record<string, unknown>): EpResult {
    return idsResult(this.ops.cancelOrder(apiKey, p));
  }

  /** POST /v5/order/amend */
  amend(apiKey: string, p: Record<string, unknown>): EpResult {
    return idsResult(this.ops.amendOrder(apiKey, p));
  }

  /** POST /v5/order/create-batch | amend-batch | cancel-batch */
  batch(kind: 'create' | 'amend' | 'cancel', apiKey: string, p: Record<string, unknown>): EpResult {
    return this.ops.batch(kind, apiKey, p);
  }

  /** POST /v5/order/cancel-all */
  cancelAll(apiKey: string, p: Record<string, unknown>): EpResult {
    const category = p['category'];
    if (!isCategory(category)) return fail(E.illegalCategory);
    const symbol = typeof p['symbol'] === 'string' && p['symbol'] !== '' ? p['symbol'] : undefined;
    const baseCoin = typeof p['baseCoin'] === 'string' && p['baseCoin'] !== '' ? p['baseCoin'] : undefined;
    const settleCoin = typeof p['settleCoin'] === 'string' && p['settleCoin'] !== '' ? p['settleCoin'] : undefined;
    if (category === 'linear' && !symbol && !baseCoin && !settleCoin) {
      return fail(E.missingSymbolOrCoin);
    }
    if (symbol && !this.s.sym(category, symbol)) return fail(E.symbolInvalid);
    const kinds = filterKinds(category, p['orderFilter']);
    if (!kinds) return { code: 10001, msg: 'params error: orderFilter invalid', result: '{}' };
    const items: string[] = [];
    this.s.cancelling = 'CancelByUser';
    try {
      for (const st of this.s.syms.values()) {
        if (st.category !== category) continue;
        if (symbol && st.symbol !== symbol) continue;
        if (baseCoin && st.fmt.inst.base !== baseCoin) continue;
        if (settleCoin && st.fmt.inst.quote !== settleCoin) continue;
        if (kinds.conds)
          for (const c of this.ops.conds.list(apiKey, st)) items.push(`{"orderId":${q(c.ext)},"orderLinkId":${q(this.ops.conds.cancel(c).orderLinkId)}}`);
        if (kinds.orders)
          for (const o of st.book.cancelAll(apiKey)) items.push(`{"orderId":${q(this.s.extId(st, o.orderId))},"orderLinkId":${q(linkIdOut(o.clientOrderId))}}`);
      }
    } finally {
      this.s.cancelling = undefined;
    }
    return { code: 0, msg: 'OK', result: `{"list":[${items.join(',')}],"success":"1"}` };
  }

  /** GET /v5/order/realtime: open orders, newest first (`openOnly` 1|2: the recent closed ones) */
  openOrders(apiKey: string, p: Record<string, unknown>): EpResult {
    const category = p['category'];
    if (!isCategory(category)) return fail(E.illegalCategory);
    const symbol = typeof p['symbol'] === 'string' && p['symbol'] !== '' ? p['symbol'] : undefined;
    const baseCoin = typeof p['baseCoin'] === 'string' && p['baseCoin'] !== '' ? p['baseCoin'] : undefined;
    const settleCoin = typeof p['settleCoin'] === 'string' && p['settleCoin'] !== '' ? p['settleCoin'] : undefined;
    const orderId = typeof p['orderId'] === 'string' && p['orderId'] !== '' ? p['orderId'] : undefined;
    const link = typeof p['orderLinkId'] === 'string' && p['orderLinkId'] !== '' ? p['orderLinkId'] : undefined;
    if (category === 'linear' && !symbol && !baseCoin && !settleCoin && !orderId && !link) {
      return fail(E.missingSymbolOrCoin);
    }
    if (symbol && !this.s.sym(category, symbol)) return fail(E.symbolInvalid);
    const kinds = filterKinds(category, p['orderFilter']);
    if (!kinds) return { code: 10001, msg: 'params error: orderFilter invalid', result: '{}' };
    const openOnly = p['openOnly'] === '1' || p['openOnly'] === '2' ? 1 : 0;
    const limText = p['limit'];
    let limit = 20;
    if (limText !== undefined && limText !== '') {
      const n = typeof limText === 'string' && /^\d+$/.test(limText) ? Number(limText) : NaN;
      if (!(n >= 1 && n <= 50)) return fail(E.limitInvalid);
      limit = n;
    }
    const cursor = typeof p['cursor'] === 'string' ? p['cursor'] : '';
    const cur = safeDecode(cursor);
    const offset = /^page_args=\d+$/.test(cur) ? Number(cur.slice(10)) : 0;
    const a = this.s.acct(apiKey);
    type Row = { st: SymState; o: SimOrder; json?: string };
    const rows: Row[] = [];
    // conditional orders not triggered yet (the orderFilter's kinds; by orderId / orderLinkId too)
    if (kinds.conds && openOnly === 0)
      for (const st of this.s.syms.values()) {
        if (st.category !== category || (symbol && st.symbol !== symbol)) continue;
        for (const c of this.ops.conds.list(apiKey, st)) {
          if ((orderId && c.ext !== orderId) || (link && c.order.clientOrderId !== link)) continue;
          rows.push({
            st,
            o: {
              ...c.order,
              orderId: c.ext,
              accountId: apiKey,
              symbol: st.symbol,
              filledLots: 0,
              cumQuoteTL: 0,
              status: 'NEW',
              createdMs: c.createdMs,
              updatedMs: c.updatedMs,
            },
            json: this.ops.conds.restJson(c),
          });
        }
      }
    if (!kinds.orders) return this.page(rows, offset, limit, a, category);
    for (const st of this.s.syms.values()) {
      if (st.category !== category) continue;
      if (symbol && st.symbol !== symbol) continue;
      if (baseCoin && st.fmt.inst.base !== baseCoin) continue;
      if (settleCoin && st.fmt.inst.quote !== settleCoin) continue;
      if ((orderId || link) && rows.some((r) => r.json !== undefined)) continue;
      if (orderId || link) {
        const core = orderId ? this.s.coreId(st, orderId) : undefined;
        if (orderId && core === undefined) continue;
        const c = st.book.getOrder(apiKey, core !== undefined ? { orderId: core } : { clientOrderId: link! });
        const o = c ? this.s.ext(st, c) : undefined;
        // orders the venue cancelled itself (post-only / FOK) are known only to the venue
        const mine = o ? a.recent.get(o.orderId) : undefined;
        const shown = o ? (mine && mine.order.status === 'CANCELED' && o.status !== 'CANCELED' ? mine.order : o) : undefined;
        if (shown) rows.push({ st, o: shown });
        else if (orderId) {
          const r = a.recent.get(orderId);
          if (r && r.category === category && r.symbol === st.symbol) rows.push({ st, o: r.order });
        }
        continue;
      }
      if (openOnly === 0) for (const o of st.book.openOrders(apiKey)) rows.push({ st, o: this.s.ext(st, o) });
    }
    if (!orderId && !link && openOnly === 1) {
      for (const r of a.recent.values()) {
        if (r.category !== category || isOpen(r.order.status)) continue;
        const st = this.s.sym(r.category, r.symbol);
        if (!st || (symbol && st.symbol !== symbol)) continue;
        rows.push({ st, o: r.order });
      }
    }
    return this.page(rows, offset, limit, a, category);
  }

  private page(
    rows: Array<{ st: SymState; o: SimOrder; json?: string }>,
    offset: number,
    limit: number,
    a: ReturnType<VenueState['acct']>,
    category: string,
  ): EpResult {
    rows.sort((x, y) => y.o.createdMs - x.o.createdMs || (y.o.orderId > x.o.orderId ? 1 : -1));
    const page = rows.slice(offset, offset + limit);
    const items = page.map((r) => r.json ?? restOrderJson(r.o, r.st, this.s.extraFor(a, r.o, r.st)));
    const next = offset + limit < rows.length ? encodeURIComponent(`page_args=${offset + limit}`) : '';
    return { code: 0, msg: 'OK', result: `{"list":[${items.join(',')}],"nextPageCursor":"${next}","category":"${category}"}` };
  }
}

/** the answer of a one-order operation: its ids, or the refusal */
function idsResult(r: { orderId: string; orderLinkId: string } | BybitError): EpResult {
  return 'code' in r
    ? { code: r.code, msg: r.msg, result: '{}' }
    : { code: 0, msg: 'OK', result: `{"orderId":${q(r.orderId)},"orderLinkId":${q(r.orderLinkId)}}` };
}
