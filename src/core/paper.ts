/**
 * Paper venue: the simulator's matching core (MatchingBook + synthetic Generator + Accounts) in process, with no
 * sockets. It writes top of book into BotState and calls the engine's event path like a market-data adapter, and
 * implements `OrderEntry` with the same matching the networked simulator uses (post-only, IOC, reduce-only...).
 * Order events are delivered asynchronously (setImmediate), as a network answer would be.
 *
 * Used by `tickwire run --paper`, by the engine tests, and as the fallback of `run` when the networked adapters or
 * gateways are not available.
 */
import { MatchingBook } from '../sim/core/book.js';
import { Generator } from '../sim/core/generator.js';
import { Accounts, positionKey } from '../sim/core/accounts.js';
import { makeInstrument } from '../sim/core/instruments.js';
import type { SimBookListener, SimFill, SimInstrument, SimLevelChange, SimOrder, SimPublicTrade } from '../sim/core/types.js';
import { stepUnits } from '../util/fixed.js';
import { BotState, FLAG_CROSSED, FLAG_VALID, F } from './botstate.js';
import type { Instrument, VenueId } from './types.js';
import type { ExchangeOrder, ExchangePosition, OrderEvent, OrderEventSink, OrderRequest, OrderState } from '../orders/types.js';
import { blankOrderEvent } from '../orders/types.js';
import { nowNs } from '../latency/clock.js';
import type { OrderEntry } from './orderentry.js';

export const PAPER_ACCOUNT = 'paper-account';

export interface PaperOptions {
  instruments: ReadonlyArray<{ venue: VenueId; symbol: string }>;
  state: BotState;
  /** level updates per second over all books; default 400 */
  rate?: number;
  seed?: number;
  /** adapter hook: called after a book was written into BotState */
  onBook?: (slot: number) => void;
}

function toState(s: SimOrder['status']): OrderState {
  return s === 'NEW' ? 'ACKED' : s;
}

export function instrumentFromSim(si: SimInstrument, slot: number): Instrument {
  return {
    venue: si.market, symbol: si.symbol, base: si.base, quote: si.quote, tickSize: si.tickSize, stepSize: si.stepSize, minQty: si.minQty,
    minNotional: si.minNotional, priceDecimals: si.priceDecimals, qtyDecimals: si.qtyDecimals, tickUnits: stepUnits(si.tickSize, si.priceDecimals),
    lotUnits: stepUnits(si.stepSize, si.qtyDecimals), slot,
  };
}

export class PaperVenue implements OrderEntry {
  readonly instruments: Instrument[] = [];
  readonly books: MatchingBook[] = [];
  readonly accounts = new Accounts([[PAPER_ACCOUNT]]);
  readonly generator: Generator;
  private sink: OrderEventSink | undefined;
  private queue: OrderEvent[] = [];
  private scheduled = false;
  onBook: ((slot: number) => void) | undefined;
  /** book updates written to BotState */
  frames = 0;
  private closed = false;

  constructor(private readonly o: PaperOptions) {
    this.onBook = o.onBook;
    o.instruments.forEach((ref, slot) => {
      const si = makeInstrument(ref.venue, ref.symbol);
      const book = new MatchingBook({ instrument: si, nowMs: () => Date.now(), hooks: this.accounts });
      this.books.push(book);
      this.instruments.push(instrumentFromSim(si, slot));
      book.addListener(this.listener(slot, book));
    });
    this.generator = new Generator({ books: this.books, seed: o.seed ?? 42, rate: o.rate ?? 400, levelsPerSide: 20 });
  }

  private listener(slot: number, book: MatchingBook): SimBookListener {
    const state = this.o.state;
    return {
      onLevels: (_sym: string, _ch: readonly SimLevelChange[], updateId: number, timeMs: number) => {
        if (this.closed) return;
        const b = book.bestBid();
        const a = book.bestAsk();
        const now = nowNs();
        if (b && a) {
          state.writeTop(slot, b.priceTicks, b.qtyLots, a.priceTicks, a.qtyLots, updateId, timeMs, now);
          if (b.priceTicks >= a.priceTicks) {
            state.setFlag(slot, FLAG_CROSSED);
            state.clearFlag(slot, FLAG_VALID);
          } else {
            state.clearFlag(slot, FLAG_CROSSED);
            state.setFlag(slot, FLAG_VALID);
          }
        } else state.clearFlag(slot, FLAG_VALID);
        this.frames++;
        this.onBook?.(slot);
      },
      onTrade: (_sym: string, t: SimPublicTrade) => {
        state.writeTrade(slot, t.priceTicks, t.qtyLots, t.takerSide === 'BUY' ? 1 : -1, t.timeMs, nowNs());
      },
      onOrder: (_sym: string, order: SimOrder, fill: SimFill | undefined) => {
        if (order.accountId !== PAPER_ACCOUNT) return;
        const ev = blankOrderEvent();
        const ins = this.instruments[slot]!;
        ev.venue = ins.venue;
        ev.symbol = ins.symbol;
        ev.clientOrderId = order.clientOrderId;
        ev.exchangeOrderId = order.orderId;
        ev.state = toState(order.status);
        ev.cumQty = order.filledLots * ins.lotUnits;
        ev.exchTimeMs = order.updatedMs;
        if (fill) {
          ev.kind = 'fill';
          ev.tradeId = String(fill.tradeId);
          ev.fillPrice = fill.priceTicks * ins.tickUnits;
          ev.fillQty = fill.qtyLots * ins.lotUnits;
          ev.maker = fill.maker;
          ev.feeAsset = ins.quote;
        } else ev.kind = order.status === 'NEW' ? 'ack' : order.status === 'CANCELED' ? 'cancel' : order.status === 'EXPIRED' ? 'expire' : order.status === 'REJECTED' ? 'reject' : 'ack';
        this.emit(ev);
      },
    };
  }

  private emit(ev: OrderEvent): void {
    this.queue.push(ev);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.deliver);
    }
  }

  private readonly deliver = (): void => {
    this.scheduled = false;
    const q = this.queue;
    this.queue = [];
    const now = nowNs();
    for (const ev of q) {
      ev.localNs = now;
      this.sink?.onOrderEvent(ev);
    }
  };

  /** Start the synthetic market. */
  start(): void {
    this.generator.start();
  }

  /** Seed the books once (tests: a deterministic, still market). */
  seed(): void {
    this.generator.seedBooks();
  }

  // ---- OrderEntry
  setSink(sink: OrderEventSink): void {
    this.sink = sink;
  }

  private bookOf(ins: Instrument): MatchingBook {
    const b = this.books[ins.slot];
    if (!b) throw new Error(`paper: no book for slot ${ins.slot}`);
    return b;
  }

  place(id: string, ins: Instrument, req: OrderRequest): void {
    const r = this.bookOf(ins).submit({
      accountId: PAPER_ACCOUNT, clientOrderId: id, side: req.side, type: req.type, tif: req.tif,
      priceTicks: Math.round(req.price / ins.tickUnits), qtyLots: Math.round(req.qty / ins.lotUnits), reduceOnly: req.reduceOnly === true,
    });
    if (!r.ok) {
      const ev = blankOrderEvent();
      ev.venue = ins.venue;
      ev.symbol = ins.symbol;
      ev.kind = 'reject';
      ev.state = 'REJECTED';
      ev.clientOrderId = id;
      ev.reason = r.reason;
      ev.code = -1;
      this.emit(ev);
    }
  }

  cancel(id: string, ins: Instrument): void {
    const r = this.bookOf(ins).cancel(PAPER_ACCOUNT, { clientOrderId: id });
    if (!r.ok) {
      const ev = blankOrderEvent();
      ev.venue = ins.venue;
      ev.symbol = ins.symbol;
      ev.kind = 'cancelReject';
      ev.state = 'CANCELED';
      ev.clientOrderId = id;
      ev.reason = r.reason;
      const o = this.bookOf(ins).getOrder(PAPER_ACCOUNT, { clientOrderId: id });
      if (o) ev.state = toState(o.status);
      this.emit(ev);
    }
  }

  amend(): boolean {
    return false;
  }

  async cancelAll(instruments: readonly Instrument[]): Promise<void> {
    for (const ins of instruments) this.bookOf(ins).cancelAll(PAPER_ACCOUNT);
    await new Promise((r) => setImmediate(r));
  }

  async openOrders(instruments: readonly Instrument[]): Promise<ExchangeOrder[]> {
    const out: ExchangeOrder[] = [];
    for (const ins of instruments) for (const o of this.bookOf(ins).openOrders(PAPER_ACCOUNT)) out.push(this.toExchangeOrder(ins, o));
    return out;
  }

  private toExchangeOrder(ins: Instrument, o: SimOrder): ExchangeOrder {
    return {
      venue: ins.venue, symbol: ins.symbol, clientOrderId: o.clientOrderId, exchangeOrderId: o.orderId, side: o.side, type: o.type, tif: o.tif,
      price: o.priceTicks * ins.tickUnits, qty: o.qtyLots * ins.lotUnits, filledQty: o.filledLots * ins.lotUnits, state: toState(o.status), updateTimeMs: o.updatedMs,
    };
  }

  async positions(instruments: readonly Instrument[]): Promise<ExchangePosition[]> {
    const acc = this.accounts.get(PAPER_ACCOUNT);
    const out: ExchangePosition[] = [];
    if (!acc) return out;
    for (const ins of instruments) {
      const si = this.books[ins.slot]?.instrument;
      const p = si ? acc.positions.get(positionKey(si)) : undefined;
      if (p) out.push({ venue: ins.venue, symbol: ins.symbol, qty: p.sizeLots * ins.lotUnits, entryPrice: p.entryPriceTicks * ins.tickUnits });
    }
    return out;
  }

  async queryOrder(ins: Instrument, id: string): Promise<ExchangeOrder | undefined> {
    const o = this.bookOf(ins).getOrder(PAPER_ACCOUNT, { clientOrderId: id });
    return o ? this.toExchangeOrder(ins, o) : undefined;
  }

  /** Place an order directly on the exchange (tests: an orphan the engine never sent). */
  placeExternal(ins: Instrument, clientOrderId: string, side: 'BUY' | 'SELL', price: number, qty: number): boolean {
    return this.bookOf(ins).submit({ accountId: PAPER_ACCOUNT, clientOrderId, side, type: 'LIMIT', tif: 'GTC', priceTicks: price / ins.tickUnits, qtyLots: qty / ins.lotUnits, reduceOnly: false }).ok;
  }

  mid(slot: number): number {
    return this.o.state.get(slot, F.mid);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.generator.stop();
  }
}
