/**
 * `OrderEntry` over the order-entry layer's `OrderManager` (src/orders/manager.ts) and its venue gateways.
 *
 * The engine chooses the client order id (it journals the intent under it before the send); the manager's id
 * generator is given that id for the one `place` call. A venue without a gateway, or a halted one, answers with
 * a reject event (so the ledger closes the intent) instead of an exception.
 */
import { ClientIdGenerator } from '../orders/ids.js';
import type { OrderManager } from '../orders/manager.js';
import type { ExchangeOrder, ExchangePosition, OrderEvent, OrderEventSink, OrderRequest } from '../orders/types.js';
import { blankOrderEvent } from '../orders/types.js';
import type { Instrument, VenueId } from './types.js';
import type { OrderEntry } from './orderentry.js';
import { nowNs } from '../latency/clock.js';

/** Id generator whose next() returns the id the engine chose (falls back to its own ids). */
export class InjectedIds extends ClientIdGenerator {
  pending = '';
  override next(): string {
    const id = this.pending;
    if (id !== '') {
      this.pending = '';
      return id;
    }
    return super.next();
  }
}

export class ManagerEntry implements OrderEntry {
  readonly recordsOrderHops = true;
  lastSendVia = 0;
  private sink: OrderEventSink | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly venues: Set<VenueId>;

  constructor(readonly manager: OrderManager, private readonly ids: InjectedIds, instruments: readonly Instrument[]) {
    this.venues = new Set(instruments.filter((i) => manager.gateway(i.venue) !== undefined).map((i) => i.venue));
  }

  setSink(sink: OrderEventSink): void {
    this.sink = sink;
    this.unsubscribe?.();
    this.unsubscribe = this.manager.subscribe(sink);
  }

  private rejectLater(id: string, ins: Instrument, reason: string): void {
    const ev: OrderEvent = blankOrderEvent();
    ev.venue = ins.venue;
    ev.symbol = ins.symbol;
    ev.kind = 'reject';
    ev.state = 'REJECTED';
    ev.clientOrderId = id;
    ev.reason = reason;
    ev.code = -1;
    ev.source = 'rest';
    setImmediate(() => {
      ev.localNs = nowNs();
      this.sink?.onOrderEvent(ev);
    });
  }

  place(id: string, ins: Instrument, req: OrderRequest): void {
    this.ids.pending = id;
    const got = this.manager.place(req);
    this.ids.pending = '';
    this.lastSendVia = got !== null ? this.manager.lastSentVia : 0;
    if (got === null) this.rejectLater(id, ins, this.manager.gateway(ins.venue) ? 'venue halted' : `no order gateway for ${ins.venue}`);
    else if (got !== id) throw new Error(`order manager used id ${got}, engine asked for ${id}`);
  }

  cancel(id: string, ins: Instrument): void {
    if (!this.manager.cancel(id)) {
      const ev = blankOrderEvent();
      ev.venue = ins.venue;
      ev.symbol = ins.symbol;
      ev.kind = 'cancelReject';
      ev.clientOrderId = id;
      ev.state = this.manager.order(id)?.state ?? 'CANCELED';
      ev.reason = 'not open in the order manager';
      setImmediate(() => this.sink?.onOrderEvent(ev));
    }
  }

  /** Register an order found on the exchange in the manager's store, so its events and cancels are handled. */
  adopt(x: ExchangeOrder, ins: Instrument): void {
    if (this.manager.order(x.clientOrderId)) return;
    const o = this.manager.store.create({
      clientOrderId: x.clientOrderId, venue: ins.venue, symbol: ins.symbol, slot: ins.slot, side: x.side, type: x.type, tif: x.tif,
      price: x.price, qty: x.qty, reduceOnly: false, nowNs: nowNs(),
    });
    o.exchangeOrderId = x.exchangeOrderId;
    o.state = x.state;
    o.preCancelState = x.state;
    o.filledQty = x.filledQty;
    o.reportedCumQty = x.filledQty;
  }

  /** Change price/qty in place (Binance amend keepPriority / USD-M modify, Bybit amend); false when not possible. */
  amend(clientOrderId: string, _ins: Instrument, price: number, qty: number): boolean {
    return this.manager.amend(clientOrderId, price, qty);
  }

  async cancelAll(_instruments: readonly Instrument[]): Promise<void> {
    const reps = await this.manager.cancelAllEverywhere();
    const bad = reps.filter((r) => r.error !== undefined);
    if (bad.length > 0) throw new Error(bad.map((r) => `${r.venue}: ${r.error}`).join('; '));
  }

  async openOrders(instruments: readonly Instrument[]): Promise<ExchangeOrder[]> {
    const want = new Set(instruments.map((i) => `${i.venue}:${i.symbol}`));
    const out: ExchangeOrder[] = [];
    for (const v of this.venues) for (const o of await this.manager.openOrders(v)) if (want.has(`${o.venue}:${o.symbol}`)) out.push(o);
    return out;
  }

  async positions(instruments: readonly Instrument[]): Promise<ExchangePosition[]> {
    const want = new Set(instruments.map((i) => `${i.venue}:${i.symbol}`));
    const out: ExchangePosition[] = [];
    for (const v of this.venues) {
      if (v !== 'binanceUsdm' && v !== 'bybitLinear') continue;
      for (const p of await this.manager.positions(v)) if (want.has(`${p.venue}:${p.symbol}`)) out.push(p);
    }
    return out;
  }

  async queryOrder(ins: Instrument, id: string): Promise<ExchangeOrder | undefined> {
    if (!this.venues.has(ins.venue)) return undefined;
    return (await this.manager.queryOrder(id, ins.venue, ins.symbol)) ?? undefined;
  }

  async close(): Promise<void> {
    this.unsubscribe?.();
    await this.manager.stop();
  }
}
