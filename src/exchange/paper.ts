/**
 * Paper venue: the simulator's matching core (MatchingBook + synthetic Generator + Accounts) in process, with no
 * sockets. It writes top of book into BotState and calls the engine's event path like a market-data adapter, and
 * serves orders as one `VenueGateway` per venue (`gateways`), with the same matching the networked simulator uses
 * (post-only, IOC, reduce-only...), behind the same OrderManager (the order owner) as the networked gateways.
 * Order events are delivered asynchronously (setImmediate), as a network answer would be. The account's fills are
 * kept as the venue's trade history (reconciliation backfills from it, with the real trade ids).
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
import { type BotState, FLAG_CROSSED, FLAG_VALID, F } from '../model/botstate.js';
import type { Instrument, VenueId } from '../model/types.js';
import type { ExchangeFill, ExchangeOrder, ExchangePosition, OrderEvent, OrderState } from '../model/orders.js';
import { blankOrderEvent } from '../model/orders.js';
import { nowNs } from '../util/clock.js';
import type { GatewayOrder, VenueGateway } from '../orders/gateway.js';

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
    venue: si.market,
    symbol: si.symbol,
    base: si.base,
    quote: si.quote,
    tickSize: si.tickSize,
    stepSize: si.stepSize,
    minQty: si.minQty,
    minNotional: si.minNotional,
    priceDecimals: si.priceDecimals,
    qtyDecimals: si.qtyDecimals,
    tickUnits: stepUnits(si.tickSize, si.priceDecimals),
    lotUnits: stepUnits(si.stepSize, si.qtyDecimals),
    slot,
  };
}

/** fills kept per venue:symbol as the paper venue's trade history */
const HISTORY = 10_000;

export class PaperVenue {
  readonly instruments: Instrument[] = [];
  readonly books: MatchingBook[] = [];
  readonly accounts = new Accounts([[PAPER_ACCOUNT]]);
  readonly generator: Generator;
  /** one order gateway per venue of the instruments (give them to an OrderManager) */
  readonly gateways: PaperGateway[] = [];
  private queue: Array<{ gw: PaperGateway; ev: OrderEvent }> = [];
  private scheduled = false;
  onBook: ((slot: number) => void) | undefined;
  /** book updates written to BotState */
  frames = 0;
  private closed = false;
  private readonly history = new Map<string, ExchangeFill[]>();

  constructor(private readonly o: PaperOptions) {
    this.onBook = o.onBook;
    o.instruments.forEach((ref, slot) => {
      const si = makeInstrument(ref.venue, ref.symbol);
      const book = new MatchingBook({ instrument: si, nowMs: () => Date.now(), hooks: this.accounts });
      this.books.push(book);
      this.instruments.push(instrumentFromSim(si, slot));
      book.addListener(this.listener(slot, book));
      if (!this.gateways.some((g) => g.venue === ref.venue)) this.gateways.push(new PaperGateway(this, ref.venue));
    });
    this.generator = new Generator({ books: this.books, seed: o.seed ?? 42, rate: o.rate ?? 400, levelsPerSide: 20 });
  }

  gateway(venue: VenueId): PaperGateway {
    const g = this.gateways.find((x) => x.venue === venue);
    if (!g) throw new Error(`paper: no venue ${venue}`);
    return g;
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
        ev.source = 'stream';
        if (fill) {
          ev.kind = 'fill';
          ev.tradeId = String(fill.tradeId);
          ev.fillPrice = fill.priceTicks * ins.tickUnits;
          ev.fillQty = fill.qtyLots * ins.lotUnits;
          ev.maker = fill.maker;
          // the simulator's fee table charged it (src/sim/core/fees.ts): in the base asset on a spot buy, else the quote
          ev.fee = fill.fee;
          ev.feeAsset = fill.feeAsset;
          this.record(ins, {
            venue: ins.venue,
            symbol: ins.symbol,
            clientOrderId: order.clientOrderId,
            exchangeOrderId: order.orderId,
            tradeId: ev.tradeId,
            side: order.side,
            price: ev.fillPrice,
            qty: ev.fillQty,
            fee: fill.fee,
            feeAsset: fill.feeAsset,
            maker: fill.maker,
            timeMs: fill.timeMs,
          });
        } else
          ev.kind =
            order.status === 'NEW'
              ? 'ack'
              : order.status === 'CANCELED'
                ? 'cancel'
                : order.status === 'EXPIRED'
                  ? 'expire'
                  : order.status === 'REJECTED'
                    ? 'reject'
                    : 'ack';
        this.emit(this.gateway(ins.venue), ev);
      },
    };
  }

  private record(ins: Instrument, f: ExchangeFill): void {
    const k = `${ins.venue}:${ins.symbol}`;
    let l = this.history.get(k);
    if (!l) this.history.set(k, (l = []));
    l.push(f);
    if (l.length > HISTORY) l.splice(0, l.length - HISTORY);
  }

  /** the account's fills on one instrument since `sinceMs`, oldest first */
  fills(venue: VenueId, symbol: string, sinceMs: number): ExchangeFill[] {
    return (this.history.get(`${venue}:${symbol}`) ?? []).filter((f) => f.timeMs >= sinceMs).map((f) => ({ ...f }));
  }

  /** an event of a gateway, delivered on a later turn (as a network answer would be) */
  emit(gw: PaperGateway, ev: OrderEvent): void {
    this.queue.push({ gw, ev });
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
    for (const { gw, ev } of q) {
      ev.localNs = now;
      gw.onEvent(ev);
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

  /** the book of a venue's symbol */
  bookOf(venue: VenueId, symbol: string): { book: MatchingBook; ins: Instrument } {
    const ins = this.instruments.find((i) => i.venue === venue && i.symbol === symbol);
    const book = ins ? this.books[ins.slot] : undefined;
    if (!ins || !book) throw new Error(`paper: no book for ${venue}:${symbol}`);
    return { book, ins };
  }

  toExchangeOrder(ins: Instrument, o: SimOrder): ExchangeOrder {
    return {
      venue: ins.venue,
      symbol: ins.symbol,
      clientOrderId: o.clientOrderId,
      exchangeOrderId: o.orderId,
      side: o.side,
      type: o.type,
      tif: o.tif,
      price: o.priceTicks * ins.tickUnits,
      qty: o.qtyLots * ins.lotUnits,
      filledQty: o.filledLots * ins.lotUnits,
      state: toState(o.status),
      updateTimeMs: o.updatedMs,
    };
  }

  /** The exchange's view (tests): the account's open orders on these instruments. */
  async openOrders(instruments: readonly Instrument[]): Promise<ExchangeOrder[]> {
    const out: ExchangeOrder[] = [];
    for (const ins of instruments) for (const o of this.books[ins.slot]!.openOrders(PAPER_ACCOUNT)) out.push(this.toExchangeOrder(ins, o));
    return out;
  }

  /** The exchange's view (tests): the account's futures positions on these instruments. */
  async positions(instruments: readonly Instrument[]): Promise<ExchangePosition[]> {
    const out: ExchangePosition[] = [];
    for (const g of this.gateways) for (const p of await g.positions()) if (instruments.some((i) => i.venue === p.venue && i.symbol === p.symbol)) out.push(p);
    return out;
  }

  /** Place an order directly on the exchange (tests: an orphan the engine never sent). */
  placeExternal(ins: Instrument, clientOrderId: string, side: 'BUY' | 'SELL', price: number, qty: number): boolean {
    return this.books[ins.slot]!.submit({
      accountId: PAPER_ACCOUNT,
      clientOrderId,
      side,
      type: 'LIMIT',
      tif: 'GTC',
      priceTicks: price / ins.tickUnits,
      qtyLots: qty / ins.lotUnits,
      reduceOnly: false,
    }).ok;
  }

  mid(slot: number): number {
    return this.o.state.get(slot, F.mid);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.generator.stop();
  }
}

/** One venue of the paper exchange as a VenueGateway: never halted, no amend, trade history from the venue's fills. */
export class PaperGateway implements VenueGateway {
  onEvent: (ev: OrderEvent) => void = () => undefined;
  onStreamResync: () => void = () => undefined;

  constructor(
    private readonly paper: PaperVenue,
    readonly venue: VenueId,
  ) {}

  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  isHalted(): boolean {
    return false;
  }

  private answer(ins: Instrument, kind: OrderEvent['kind'], clientOrderId: string, state: OrderState, reason: string): void {
    const ev = blankOrderEvent();
    ev.venue = ins.venue;
    ev.symbol = ins.symbol;
    ev.kind = kind;
    ev.state = state;
    ev.clientOrderId = clientOrderId;
    ev.reason = reason;
    ev.code = kind === 'reject' ? -1 : 0;
    ev.source = 'rest';
    this.paper.emit(this, ev);
  }

  place(o: GatewayOrder): void {
    const { book, ins } = this.paper.bookOf(this.venue, o.symbol);
    o.sentNs = nowNs();
    const r = book.submit({
      accountId: PAPER_ACCOUNT,
      clientOrderId: o.clientOrderId,
      side: o.side,
      type: o.type,
      tif: o.tif,
      priceTicks: Math.round(o.price / ins.tickUnits),
      qtyLots: Math.round(o.qty / ins.lotUnits),
      reduceOnly: o.reduceOnly,
    });
    if (!r.ok) this.answer(ins, 'reject', o.clientOrderId, 'REJECTED', r.reason);
  }

  cancel(o: GatewayOrder): void {
    const { book, ins } = this.paper.bookOf(this.venue, o.symbol);
    const r = book.cancel(PAPER_ACCOUNT, { clientOrderId: o.clientOrderId });
    if (!r.ok) {
      const x = book.getOrder(PAPER_ACCOUNT, { clientOrderId: o.clientOrderId });
      this.answer(ins, 'cancelReject', o.clientOrderId, x ? toState(x.status) : 'CANCELED', r.reason);
    }
  }

  private mine(symbol?: string): Instrument[] {
    return this.paper.instruments.filter((i) => i.venue === this.venue && (symbol === undefined || i.symbol === symbol));
  }

  async cancelAll(symbol?: string): Promise<void> {
    for (const ins of this.mine(symbol)) this.paper.books[ins.slot]!.cancelAll(PAPER_ACCOUNT);
    await new Promise((r) => setImmediate(r));
  }

  async queryOrder(symbol: string, clientOrderId: string): Promise<ExchangeOrder | null> {
    const { book, ins } = this.paper.bookOf(this.venue, symbol);
    const o = book.getOrder(PAPER_ACCOUNT, { clientOrderId });
    return o ? this.paper.toExchangeOrder(ins, o) : null;
  }

  async openOrders(symbol?: string): Promise<ExchangeOrder[]> {
    const out: ExchangeOrder[] = [];
    for (const ins of this.mine(symbol)) for (const o of this.paper.books[ins.slot]!.openOrders(PAPER_ACCOUNT)) out.push(this.paper.toExchangeOrder(ins, o));
    return out;
  }

  async positions(): Promise<ExchangePosition[]> {
    const acc = this.paper.accounts.get(PAPER_ACCOUNT);
    const out: ExchangePosition[] = [];
    if (!acc) return out;
    for (const ins of this.mine()) {
      const si = this.paper.books[ins.slot]?.instrument;
      const p = si ? acc.positions.get(positionKey(si)) : undefined;
      if (p) out.push({ venue: ins.venue, symbol: ins.symbol, qty: p.sizeLots * ins.lotUnits, entryPrice: p.entryPriceTicks * ins.tickUnits });
    }
    return out;
  }

  async tradeHistory(symbol: string, sinceLocalMs: number): Promise<ExchangeFill[]> {
    return this.paper.fills(this.venue, symbol, sinceLocalMs);
  }
}
