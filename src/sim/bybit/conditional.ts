/**
 * Bybit conditional orders: `order/create` with `triggerPrice` (+ `triggerDirection` 1 rise / 2 fall, `triggerBy`;
 * spot: `orderFilter=StopOrder`). The order waits outside the book as `Untriggered`; when the market reaches its
 * trigger it is pushed `Triggered` and placed in the book under the same orderId and orderLinkId, after which it is an
 * ordinary order (New, PartiallyFilled, Filled...). A cancel before that makes it `Deactivated`. Listed by
 * `order/realtime` and cancelled by `order/cancel-all` per `orderFilter` (see README: "Conditional orders").
 */
import type { SimBookListener, SimNewOrder, SimOrder } from '../core/types.js';
import { isPlainDecimal, q } from './common.js';
import type { BybitError } from './errors.js';
import { linkIdOut, orderItemJson, parseCreate, type CondFields } from './orders.js';
import type { AcctState, SymState, VenueState } from './state.js';
import type { PrivateWs } from './privatews.js';
import { restOrderJson } from './format.js';

/** open conditional orders per symbol (derivatives: Bybit's cap) */
export const MAX_CONDITIONAL_PER_SYMBOL = 10;
/** venue ids of conditional orders: spot from here (19 digits, above the core's spot ids), linear the same UUID shape */
const COND_ID_BASE = 1_950_000_000_000_000_000n;

export interface Cond {
  ext: string;
  accountId: string;
  st: SymState;
  order: SimNewOrder;
  triggerTicks: number;
  direction: 1 | 2;
  triggerBy: string;
  status: 'Untriggered' | 'Triggered' | 'Deactivated';
  createdMs: number;
  updatedMs: number;
}

/** which kinds an `orderFilter` selects (no filter: linear every kind, spot active orders only) */
export function filterKinds(category: 'spot' | 'linear', f: unknown): { orders: boolean; conds: boolean } | undefined {
  if (f === undefined || f === '') return category === 'linear' ? { orders: true, conds: true } : { orders: true, conds: false };
  if (f === 'Order') return { orders: true, conds: false };
  if (f === 'StopOrder') return { orders: false, conds: true };
  if (f === 'tpslOrder' || f === 'OcoOrder' || f === 'BidirectionalTpslOrder') return { orders: false, conds: false };
  return undefined;
}

export class Conditionals {
  private readonly open = new Map<string, Cond>();
  private n = 0n;
  private readonly watched = new Set<SymState>();
  private readonly queued = new Set<SymState>();

  constructor(
    private readonly s: VenueState,
    private readonly priv: PrivateWs,
  ) {}

  /** true when the create request is a conditional order (a trigger price given) */
  static wants(p: Record<string, unknown>): boolean {
    const v = p['triggerPrice'];
    return v !== undefined && v !== null && v !== '' && v !== '0';
  }

  private condFields(c: Cond, status: string): CondFields {
    return {
      status,
      stopOrderType: 'Stop',
      triggerPrice: c.st.fmt.price(c.triggerTicks),
      triggerDirection: c.direction,
      triggerBy: c.triggerBy,
    };
  }

  /** the conditional order as a SimOrder (its venue id, nothing filled) */
  private asOrder(c: Cond): SimOrder {
    const o = c.order;
    return {
      orderId: c.ext,
      clientOrderId: o.clientOrderId,
      accountId: c.accountId,
      symbol: c.st.symbol,
      side: o.side,
      type: o.type,
      tif: o.tif,
      priceTicks: o.priceTicks,
      qtyLots: o.qtyLots,
      filledLots: 0,
      cumQuoteTL: 0,
      reduceOnly: o.reduceOnly,
      status: c.status === 'Deactivated' ? 'CANCELED' : 'NEW',
      createdMs: c.createdMs,
      updatedMs: c.updatedMs,
    };
  }

  /** the touch a trigger is compared with: rising orders watch the best bid, falling ones the best ask */
  private current(st: SymState, direction: 1 | 2): number {
    const l = direction === 1 ? st.book.bestBid() : st.book.bestAsk();
    return l ? l.priceTicks : 0;
  }

  create(apiKey: string, st: SymState, p: Record<string, unknown>, nextLinkId: () => string): { orderId: string; orderLinkId: string } | BybitError {
    const spot = st.category === 'spot';
    const fmt = st.fmt;
    if (spot && p['orderFilter'] !== 'StopOrder') return { code: 10001, msg: 'params error: orderFilter must be StopOrder for a spot order with triggerPrice' };
    const tIn = p['triggerPrice'];
    if (!isPlainDecimal(tIn) || Number(tIn) <= 0) return { code: 10001, msg: 'params error: triggerPrice invalid' };
    const trigger = Math.round(Number(tIn) * fmt.priceMul);
    if (Math.abs(trigger / fmt.priceMul - Number(tIn)) > 1e-9 || trigger % fmt.tickUnits !== 0)
      return { code: 10001, msg: 'params error: triggerPrice invalid' };
    const by = p['triggerBy'] ?? (spot ? undefined : 'LastPrice');
    if (spot ? by !== undefined && by !== '' && by !== 'LastPrice' : by !== 'LastPrice' && by !== 'MarkPrice' && by !== 'IndexPrice')
      return { code: 10001, msg: 'params error: triggerBy invalid' };
    const dIn = p['triggerDirection'];
    let direction: 1 | 2;
    if (dIn === 1 || dIn === '1') direction = 1;
    else if (dIn === 2 || dIn === '2') direction = 2;
    else if (spot && (dIn === undefined || dIn === 0 || dIn === '')) {
      // spot: the venue works the direction out from the price now
      const bid = this.current(st, 1);
      direction = trigger > bid ? 1 : 2;
    } else return { code: 10001, msg: 'params error: TriggerDirection invalid' };
    const parsed = parseCreate(p, st.category, fmt, st.book, apiKey, nextLinkId);
    if ('code' in parsed) return parsed;
    const a = this.s.acct(apiKey);
    if (!parsed.clientOrderId.startsWith('~') && a.usedLinkIds[st.category].has(parsed.clientOrderId))
      return { code: 110072, msg: 'OrderLinkedID is duplicate' };
    let count = 0;
    for (const c of this.open.values()) if (c.accountId === apiKey && c.st === st) count++;
    if (!spot && count >= MAX_CONDITIONAL_PER_SYMBOL) return { code: 110009, msg: 'The number of stop orders exceeds maximum limit allowed' };
    const cur = this.current(st, direction);
    if (cur > 0 && direction === 1 && cur >= trigger)
      return { code: 110092, msg: `expect Rising, but trigger_price[${fmt.price(trigger)}] <= current[${fmt.price(cur)}]` };
    if (cur > 0 && direction === 2 && cur <= trigger)
      return { code: 110093, msg: `expect Falling, but trigger_price[${fmt.price(trigger)}] >= current[${fmt.price(cur)}]` };
    const id = (COND_ID_BASE + ++this.n).toString();
    const ext = st.category === 'linear' ? this.s.extId(st, '9' + id.slice(-11)) : id;
    const now = this.s.ctx.nowMs(st.market);
    const c: Cond = {
      ext,
      accountId: apiKey,
      st,
      order: parsed,
      triggerTicks: trigger,
      direction,
      triggerBy: typeof by === 'string' && by !== '' ? by : 'LastPrice',
      status: 'Untriggered',
      createdMs: now,
      updatedMs: now,
    };
    a.usedLinkIds[st.category].add(parsed.clientOrderId);
    this.open.set(ext, c);
    this.watch(st);
    this.push(a, c, 'Untriggered');
    return { orderId: ext, orderLinkId: linkIdOut(parsed.clientOrderId) };
  }

  /** an untriggered conditional order of the account by venue id or orderLinkId */
  find(apiKey: string, st: SymState, orderId: string, link: string): Cond | undefined {
    if (orderId !== '') {
      const c = this.open.get(orderId);
      return c && c.accountId === apiKey && c.st === st ? c : undefined;
    }
    for (const c of this.open.values()) if (c.accountId === apiKey && c.st === st && c.order.clientOrderId === link) return c;
    return undefined;
  }

  /** cancel (Deactivated); returns its ids */
  cancel(c: Cond): { orderId: string; orderLinkId: string } {
    this.open.delete(c.ext);
    c.status = 'Deactivated';
    c.updatedMs = this.s.ctx.nowMs(c.st.market);
    const a = this.s.acct(c.accountId);
    const x = this.s.extraFor(a, this.asOrder(c), c.st);
    x.cancelType = 'CancelByUser';
    this.push(a, c, 'Deactivated');
    return { orderId: c.ext, orderLinkId: linkIdOut(c.order.clientOrderId) };
  }

  /** the account's untriggered orders of a symbol */
  list(apiKey: string, st: SymState): Cond[] {
    const out: Cond[] = [];
    for (const c of this.open.values()) if (c.accountId === apiKey && c.st === st) out.push(c);
    return out;
  }

  /** REST order JSON of an untriggered order */
  restJson(c: Cond): string {
    const o = this.asOrder(c);
    return restOrderJson(o, c.st, this.s.extraFor(this.s.acct(c.accountId), o, c.st), this.condFields(c, c.status));
  }

  idsJson(c: Cond): string {
    return `{"orderId":${q(c.ext)},"orderLinkId":${q(linkIdOut(c.order.clientOrderId))}}`;
  }

  private push(a: AcctState, c: Cond, status: string): void {
    if (a.conns.size === 0) return;
    const o = this.asOrder(c);
    this.priv.pushPrivate(
      a,
      c.st.category,
      'order',
      orderItemJson(o, c.st.category, c.st.fmt, this.s.extraFor(a, o, c.st), this.condFields(c, status)),
      c.updatedMs,
    );
  }

  /** check the book's conditional orders after each batch (never from inside the book's own listener) */
  private watch(st: SymState): void {
    if (this.watched.has(st)) return;
    this.watched.add(st);
    const l: SimBookListener = {
      onLevels: () => {
        if (this.queued.has(st)) return;
        this.queued.add(st);
        queueMicrotask(() => {
          this.queued.delete(st);
          this.check(st);
        });
      },
      onTrade: () => undefined,
      onOrder: () => undefined,
    };
    st.book.addListener(l);
  }

  private check(st: SymState): void {
    for (const c of [...this.open.values()]) {
      if (c.st !== st) continue;
      const cur = this.current(st, c.direction);
      if (cur <= 0) continue;
      if (c.direction === 1 ? cur >= c.triggerTicks : cur <= c.triggerTicks) this.trigger(c);
    }
  }

  /** Triggered: pushed, then placed in the book under the same ids (the venue state aliases the core id) */
  private trigger(c: Cond): void {
    this.open.delete(c.ext);
    c.status = 'Triggered';
    c.updatedMs = this.s.ctx.nowMs(c.st.market);
    const a = this.s.acct(c.accountId);
    this.push(a, c, 'Triggered');
    this.s.pendingAlias = { accountId: c.accountId, clientOrderId: c.order.clientOrderId, ext: c.ext };
    try {
      const r = c.st.book.submit(c.order);
      if (!r.ok && r.order === undefined) {
        // refused by the book (reduce-only, balance): the order is pushed Rejected under its ids
        const o = { ...this.asOrder(c), status: 'REJECTED' as const };
        const x = this.s.extraFor(a, o, c.st);
        x.rejectReason = 'EC_' + r.reason;
        if (a.conns.size > 0) this.priv.pushPrivate(a, c.st.category, 'order', orderItemJson(o, c.st.category, c.st.fmt, x), c.updatedMs);
      }
    } finally {
      this.s.pendingAlias = undefined;
    }
  }
}
