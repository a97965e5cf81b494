/**
 * Bybit order operations shared by REST and the trade WS: create, cancel, amend (the core's `SimBook.amend`) and the
 * batch forms, with Bybit's validation codes. An operation returns the order's ids or a `BybitError`.
 */
import { accountProfileOf, type SimOrder } from '../core/types.js';
import { parseDec as parseDecimal, isCategory, marketOf, q } from './common.js';
import { E, fail, insufficientBalance, orderNotFound, type BybitError, type EpResult } from './errors.js';
import { GENERATED_LINK_PREFIX, checkPriceLimit, isOpen, linkIdOut, orderItemJson, parseCreate } from './orders.js';
import type { VenueState, SymState } from './state.js';
import { positionJson } from './format.js';
import type { PrivateWs } from './privatews.js';
import { Conditionals } from './conditional.js';

export class TradeOps {
  /** conditional (triggerPrice) orders: waiting outside the book until they trigger */
  readonly conds: Conditionals;

  constructor(
    private readonly s: VenueState,
    private readonly priv: PrivateWs,
  ) {
    this.conds = new Conditionals(s, priv);
  }

  private linkCounter = 0;

  /**
   * amend: shared by REST and the trade WS (qty is the new total quantity, as Bybit's). Done by the core's
   * `SimBook.amend`: the order keeps its id, fills and createdTime; a smaller qty at the same price keeps the queue
   * priority, a new price or a larger qty loses it (a crossing price trades at once).
   */
  amendOrder(apiKey: string, p: Record<string, unknown>): { orderId: string; orderLinkId: string } | BybitError {
    const t = this.target(p);
    if ('code' in t) return t;
    const { st } = t;
    const notFound: BybitError = orderNotFound(st.category, 'replace');
    const orderId = typeof p['orderId'] === 'string' ? p['orderId'] : '';
    const link = typeof p['orderLinkId'] === 'string' ? p['orderLinkId'] : '';
    if (orderId === '' && link === '') return E.idRequired;
    const core = orderId !== '' ? this.s.coreId(st, orderId) : undefined;
    if (orderId !== '' && core === undefined) return notFound;
    const cur = st.book.getOrder(apiKey, core !== undefined ? { orderId: core } : { clientOrderId: link });
    if (!cur || !isOpen(cur.status) || cur.type !== 'LIMIT') return notFound;
    const fmt = st.fmt;
    const spot = st.category === 'spot';
    let price = cur.priceTicks;
    const pIn = p['price'];
    if (pIn !== undefined && pIn !== '') {
      const v = typeof pIn === 'string' && /^\d+(\.\d+)?$/.test(pIn) ? parseDecimal(pIn, fmt.priceDecimals) : NaN;
      if (!(v > 0) || v % fmt.tickUnits !== 0)
        return spot ? { code: 170134, msg: 'Order price has too many decimals.' } : { code: 10001, msg: 'params error: price invalid' };
      price = v;
    }
    let total = cur.qtyLots;
    const qIn = p['qty'];
    if (qIn !== undefined && qIn !== '') {
      const v = typeof qIn === 'string' && /^\d+(\.\d+)?$/.test(qIn) ? parseDecimal(qIn, fmt.qtyDecimals) : NaN;
      if (!(v > 0) || v % fmt.stepUnits !== 0)
        return spot ? { code: 170137, msg: 'Order quantity has too many decimals.' } : { code: 10001, msg: 'params error: qty invalid' };
      if (v > fmt.maxQtyLots)
        return spot ? { code: 170135, msg: 'Order quantity too large.' } : { code: 10001, msg: 'The number of contracts exceeds maximum limit allowed' };
      total = v;
    }
    if (price !== cur.priceTicks) {
      const limit = checkPriceLimit(st.book, fmt, cur.side === 'BUY', price);
      if (limit) return limit;
    }
    if (price === cur.priceTicks && total === cur.qtyLots) {
      return { code: 10001, msg: 'The order remains unchanged as the parameters entered match the existing ones.' };
    }
    if (total <= cur.filledLots) return { code: 110063, msg: 'The number of contracts modified cannot be less than or equal to the filled quantity' };
    const ext = this.s.extId(st, cur.orderId);
    const r = st.book.amend(apiKey, { orderId: cur.orderId }, { priceTicks: price, qtyLots: total });
    if (!r.ok) {
      switch (r.reason) {
        case 'POST_ONLY_WOULD_TAKE': {
          // the amended order cannot stand: Bybit cancels it, the push says why
          const a = this.s.acct(apiKey);
          this.s.extraFor(a, this.s.ext(st, cur), st).rejectReason = 'EC_PostOnlyWillTakeLiquidity';
          st.book.cancel(apiKey, { orderId: cur.orderId });
          break;
        }
        case 'INSUFFICIENT_BALANCE':
          return insufficientBalance(st.category);
        case 'BAD_PRICE':
          return spot ? { code: 170134, msg: 'Order price has too many decimals.' } : { code: 10001, msg: 'params error: price invalid' };
        case 'BAD_QTY':
          return spot ? { code: 170137, msg: 'Order quantity has too many decimals.' } : { code: 10001, msg: 'params error: qty invalid' };
        default:
          return notFound;
      }
    }
    return { orderId: ext, orderLinkId: linkIdOut(cur.clientOrderId) };
  }

  /**
   * create-batch / amend-batch / cancel-batch (REST and trade WS): `result.list` has one item per request
   * (empty ids when that item failed) and `retExtInfo.list` one `{code,msg}` per request, in order.
   */
  batch(kind: 'create' | 'amend' | 'cancel', apiKey: string, p: Record<string, unknown>): EpResult {
    const category = p['category'];
    if (!isCategory(category)) return fail(E.illegalCategory);
    const req = p['request'];
    if (!Array.isArray(req) || req.length === 0) return { code: 10001, msg: 'params error: request invalid', result: '{}' };
    const max = category === 'spot' ? 10 : 20;
    if (req.length > max) return { code: 10001, msg: `params error: the number of orders exceeds the limit ${max}`, result: '{}' };
    const items: string[] = [];
    const ext: string[] = [];
    for (const r of req as unknown[]) {
      const args: Record<string, unknown> | undefined =
        r && typeof r === 'object' && !Array.isArray(r) ? { ...(r as Record<string, unknown>), category } : undefined;
      const symbol = args && typeof args['symbol'] === 'string' ? args['symbol'] : '';
      const givenLink = args && typeof args['orderLinkId'] === 'string' ? args['orderLinkId'] : '';
      const res: { orderId: string; orderLinkId: string } | BybitError = !args
        ? E.requestParam
        : kind === 'create'
          ? this.createOrder(apiKey, args)
          : kind === 'amend'
            ? this.amendOrder(apiKey, args)
            : this.cancelOrder(apiKey, args);
      const ok = !('code' in res);
      const orderId = ok ? res.orderId : '';
      const orderLinkId = ok ? res.orderLinkId : givenLink;
      const createAt = kind === 'create' ? `,"createAt":"${ok ? this.s.ctx.nowMs(marketOf(category)) : ''}"` : '';
      items.push(`{"category":"${category}","symbol":${q(symbol)},"orderId":${q(orderId)},"orderLinkId":${q(orderLinkId)}${createAt}}`);
      ext.push(ok ? '{"code":0,"msg":"OK"}' : `{"code":${res.code},"msg":${q(res.msg)}}`);
    }
    return { code: 0, msg: 'OK', result: `{"list":[${items.join(',')}]}`, ext: `{"list":[${ext.join(',')}]}` };
  }

  private target(p: Record<string, unknown>): { st: SymState } | BybitError {
    const category = p['category'];
    if (!isCategory(category)) return E.illegalCategory;
    const symbol = p['symbol'];
    if (typeof symbol !== 'string' || symbol === '') return E.symbolInvalid;
    const st = this.s.sym(category, symbol);
    if (!st) return E.symbolInvalid;
    return { st };
  }

  /** create: shared by REST and the trade WS */
  createOrder(apiKey: string, p: Record<string, unknown>): { orderId: string; orderLinkId: string } | BybitError {
    const t = this.target(p);
    if ('code' in t) return t;
    const { st } = t;
    if (Conditionals.wants(p)) return this.conds.create(apiKey, st, p, () => `${GENERATED_LINK_PREFIX}${++this.linkCounter}`);
    const a = this.s.acct(apiKey);
    const parsed = parseCreate(
      p,
      st.category,
      st.fmt,
      st.book,
      apiKey,
      () => `${GENERATED_LINK_PREFIX}${++this.linkCounter}`,
      accountProfileOf(this.s.ctx).bybitLinearHedge,
    );
    if ('code' in parsed) return parsed;
    if (!parsed.clientOrderId.startsWith(GENERATED_LINK_PREFIX) && a.usedLinkIds[st.category].has(parsed.clientOrderId)) {
      return E.linkIdDuplicate;
    }
    const r = st.book.submit(parsed);
    if (!r.ok) {
      switch (r.reason) {
        case 'POST_ONLY_WOULD_TAKE':
        case 'FOK_NOT_FILLED': {
          // Bybit accepts the request, then cancels the order: the push says why
          if (!r.order) return E.internal;
          const o = this.s.ext(st, r.order);
          a.usedLinkIds[st.category].add(parsed.clientOrderId);
          const shown: SimOrder = { ...o, status: 'CANCELED' };
          const x = this.s.extraFor(a, shown, st);
          x.rejectReason = r.reason === 'POST_ONLY_WOULD_TAKE' ? 'EC_PostOnlyWillTakeLiquidity' : 'EC_NoImmediateQtyToFill';
          this.s.remember(a, st, shown);
          const now = this.s.ctx.nowMs(st.market);
          if (a.conns.size > 0) {
            this.priv.pushPrivate(a, st.category, 'order', orderItemJson(shown, st.category, st.fmt, x), now);
            if (st.category === 'linear') this.priv.pushPrivate(a, st.category, 'position', positionJson(this.s, apiKey, st, true), now);
          }
          return { orderId: o.orderId, orderLinkId: linkIdOut(o.clientOrderId) };
        }
        case 'DUPLICATE_CLIENT_ID':
          return E.linkIdDuplicate;
        case 'REDUCE_ONLY':
          return { code: 110017, msg: 'current position is zero, cannot fix reduce-only order qty' };
        case 'MIN_NOTIONAL':
          return st.category === 'spot'
            ? { code: 170140, msg: 'Order value exceeded lower limit.' }
            : { code: 110094, msg: `Order does not meet minimum order value ${st.fmt.inst.minNotional}${st.fmt.inst.quote}` };
        case 'INSUFFICIENT_BALANCE':
          return insufficientBalance(st.category);
        case 'BAD_QTY':
          return st.category === 'spot' ? { code: 170136, msg: 'Order quantity lower than the minimum.' } : { code: 10001, msg: 'params error: qty invalid' };
        case 'BAD_PRICE':
          return st.category === 'spot'
            ? { code: 170134, msg: 'Order price has too many decimals.' }
            : { code: 110003, msg: 'Order price is out of permissible range' };
        default:
          return E.requestParam;
      }
    }
    a.usedLinkIds[st.category].add(parsed.clientOrderId);
    if (a.usedLinkIds[st.category].size > 200_000) a.usedLinkIds[st.category].clear();
    return { orderId: this.s.extId(st, r.order.orderId), orderLinkId: linkIdOut(r.order.clientOrderId) };
  }

  /** cancel: shared by REST and the trade WS */
  cancelOrder(apiKey: string, p: Record<string, unknown>): { orderId: string; orderLinkId: string } | BybitError {
    const t = this.target(p);
    if ('code' in t) return t;
    const { st } = t;
    const orderId = typeof p['orderId'] === 'string' ? p['orderId'] : '';
    const link = typeof p['orderLinkId'] === 'string' ? p['orderLinkId'] : '';
    if (orderId === '' && link === '') return E.idRequired;
    // a conditional order not triggered yet (spot: only with orderFilter=StopOrder, which then finds nothing else)
    const spotStop = st.category === 'spot' && p['orderFilter'] === 'StopOrder';
    if (st.category === 'linear' || spotStop) {
      const c = this.conds.find(apiKey, st, orderId, link);
      if (c) return this.conds.cancel(c);
      if (spotStop) return orderNotFound(st.category, 'cancel');
    }
    const core = orderId !== '' ? this.s.coreId(st, orderId) : undefined;
    if (orderId !== '' && core === undefined) {
      return orderNotFound(st.category, 'cancel');
    }
    this.s.cancelling = 'CancelByUser';
    let r: ReturnType<typeof st.book.cancel>;
    try {
      r = st.book.cancel(apiKey, core !== undefined ? { orderId: core } : { clientOrderId: link });
    } finally {
      this.s.cancelling = undefined;
    }
    if (!r.ok) {
      return orderNotFound(st.category, 'cancel');
    }
    return { orderId: this.s.extId(st, r.order.orderId), orderLinkId: linkIdOut(r.order.clientOrderId) };
  }
}
