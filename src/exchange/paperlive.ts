/**
 * Paper trading on live market data: one `VenueGateway` per venue that matches the engine's orders locally against
 * the engine's own L2 books (the market-data adapters' `BookFeed`s, fed by the venue's public streams) and trades
 * (Binance aggTrade, Bybit publicTrade). No order, cancel or query ever leaves the process: the gateway has no
 * endpoint, key or socket. Its events go through the same order owner (OrderManager / OrderStore) as a venue's, so
 * positions, PnL, journal, risk and the kill switch behave as live.
 *
 * Matching (per instrument):
 * - A marketable order (MARKET, or a LIMIT whose price reaches the opposite side) walks the visible opposite levels,
 *   best first, up to its price and quantity: one taker fill per level, at the level's price. What is left of an
 *   IOC / MARKET expires, FOK fills whole or expires, POST_ONLY is rejected when it would take, GTC rests.
 * - A resting LIMIT joins the back of the queue at its price: `queueAhead` = the level's size in the book when it
 *   was placed (0 when it rests as the remainder of a walk: it made the level). A trade at its price with the
 *   aggressor on the other side consumes `queueAhead` first and fills the order with what is left over. Cancels:
 *   when the level becomes smaller than `queueAhead`, the order moves up to the level's size (risk-averse: cancels
 *   come from behind until the level says otherwise); a shrink of the level is first matched with the trades at that
 *   price (before or after it: depth and trade streams are not in step), so one trade is never counted twice. A
 *   trade through its price fills what is left of it. The book moving through its price (the opposite best at or
 *   beyond it) fills what is left too, once the opposite side has been beyond the price since the order rested (so
 *   the remainder of a walk does not fill again on the levels it already took). Passive fills are maker fills at the
 *   order's price. Several paper orders at one price do not queue behind each other.
 * - The walk does not remove liquidity from the live book (the next order sees the same levels), and an order has
 *   no market impact: paper is a little optimistic for large orders; see README "Paper trading".
 * - No book in sync (resync, stale feed, no snapshot yet): new orders are rejected (`paper: book not in sync`) and
 *   resting orders do not match until it is.
 * - Fees: `notional x rate` (maker or taker rate of the venue from the config's `paper.fees`), booked in the quote
 *   asset. There is no wallet: spot sells need no base balance; risk's position limits bound what paper can hold.
 * - Reduce-only orders (the kill switch's flatten) are cut to the paper position and rejected when it is flat or on
 *   the wrong side.
 *
 * Events are delivered on a later turn (setImmediate), as a venue's answer would be. Paper is not on the engine's hot
 * path: a trade or book update on an instrument without resting paper orders costs one length check.
 */
import type { Instrument, Side, VenueId } from '../model/types.js';
import type { ExchangeFill, ExchangeOrder, ExchangePosition, GatewayOrder, OrderEvent, OrderState, OrderType, TimeInForce } from '../model/orders.js';
import { blankOrderEvent } from '../model/orders.js';
import type { VenueGateway } from '../orders/gateway.js';
import { ASK, BID } from '../book/l2book.js';
import type { BookFeed } from '../md/feed.js';
import { nowNs } from '../util/clock.js';

/** Maker and taker fee rates as fractions of the notional (0.001 = 0.1 %; negative = rebate). */
export interface PaperFeeRates {
  maker: number;
  taker: number;
}

export interface LivePaperOptions {
  venue: VenueId;
  /** this venue's instruments, each with the market-data feed (book + trades) that serves it */
  markets: ReadonlyArray<{ ins: Instrument; feed: BookFeed }>;
  fees: PaperFeeRates;
  /**
   * how long a shrink of an order's level waits for a trade to explain it before it counts as cancels, ms (default
   * 500: depth and trade streams are rarely further apart)
   */
  attributionMs?: number;
  /** wall clock, ms (tests) */
  nowMs?: () => number;
}

interface PaperOrder {
  clientOrderId: string;
  exchangeOrderId: string;
  symbol: string;
  side: Side;
  type: OrderType;
  tif: TimeInForce;
  price: number;
  /** the quantity sent */
  origQty: number;
  /** the quantity that may fill: `origQty`, or less for a reduce-only order cut to the position */
  qty: number;
  filled: number;
  state: OrderState;
  /** quantity ahead of the order at its price level, quantity units */
  queueAhead: number;
  /** the level's size when last looked at */
  levelSeen: number;
  /** trade volume at the price counted against the queue that the level has not shown yet */
  tradedUnseen: number;
  /** shrink of the level no trade has explained yet, and since when (ms) */
  unexplained: number;
  unexplainedMs: number;
  /** the opposite side has been beyond the price since the order rested: the book moving through it fills it */
  armed: boolean;
  updatedMs: number;
}

interface Market {
  ins: Instrument;
  feed: BookFeed;
  /** resting orders, oldest first */
  resting: PaperOrder[];
  fills: ExchangeFill[];
  /** signed position, quantity units, and its average entry price (price units) */
  position: number;
  entry: number;
}

/** fills kept per instrument as the paper venue's trade history */
const HISTORY = 10_000;
/** terminal orders kept for queries */
const KEEP_TERMINAL = 10_000;
/** levels read per side for a walk */
const WALK_LEVELS = 1000;

const FUTURES: ReadonlySet<VenueId> = new Set(['binanceUsdm', 'bybitLinear']);

export class LivePaperGateway implements VenueGateway {
  readonly venue: VenueId;
  onEvent: (ev: OrderEvent) => void = () => undefined;
  onStreamResync: () => void = () => undefined;
  /** counters for /status and the tests */
  readonly counts = { placed: 0, rejected: 0, fills: 0, makerFills: 0, takerFills: 0, canceled: 0, expired: 0 };
  private readonly markets = new Map<string, Market>();
  private readonly bySlot = new Map<number, Market>();
  private readonly orders = new Map<string, PaperOrder>();
  private readonly terminal: string[] = [];
  private queue: OrderEvent[] = [];
  private scheduled = false;
  private nextOrderId = 1;
  private nextTradeId = 1;
  private readonly nowMs: () => number;
  private readonly attributionMs: number;
  private readonly walkPx = new Float64Array(WALK_LEVELS);
  private readonly walkQty = new Float64Array(WALK_LEVELS);

  constructor(private readonly o: LivePaperOptions) {
    this.venue = o.venue;
    this.nowMs = o.nowMs ?? Date.now;
    this.attributionMs = o.attributionMs ?? 500;
    for (const { ins, feed } of o.markets) {
      const m: Market = { ins, feed, resting: [], fills: [], position: 0, entry: 0 };
      this.markets.set(ins.symbol, m);
      this.bySlot.set(ins.slot, m);
    }
  }

  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  isHalted(): boolean {
    return false;
  }

  // ------------------------------------------------------------------------------------------ market data hooks

  /** The book of `slot` changed (BookFeed.onTop): queues shrink to their level, orders the book moved through fill. */
  onBook(slot: number): void {
    const m = this.bySlot.get(slot);
    if (!m || m.resting.length === 0 || !m.feed.valid) return;
    const book = m.feed.book;
    const bid = book.bestBidPx();
    const ask = book.bestAskPx();
    for (let i = 0; i < m.resting.length; i++) {
      const o = m.resting[i]!;
      this.observeLevel(m, o);
      const opp = o.side === 'BUY' ? ask : bid;
      if (opp <= 0) continue; // that side is empty: nothing to say
      const beyond = o.side === 'BUY' ? opp > o.price : opp < o.price;
      if (beyond) o.armed = true;
      else if (o.armed) this.passiveFill(m, o, o.qty - o.filled);
    }
    this.sweepDone(m);
  }

  /** A public trade on `slot` (BookFeed.onTrade: tradePx, tradeQty, tradeSide are the trade's). */
  onTrade(slot: number): void {
    const m = this.bySlot.get(slot);
    if (!m || m.resting.length === 0) return;
    const f = m.feed;
    const px = f.tradePx;
    const t = f.tradeQty;
    // the aggressor's side: +1 a buyer took asks (fills resting sells), -1 a seller hit bids (fills resting buys)
    const hitsBuys = f.tradeSide < 0;
    for (let i = 0; i < m.resting.length; i++) {
      const o = m.resting[i]!;
      if (o.side === 'BUY' ? !hitsBuys : hitsBuys) continue;
      const through = o.side === 'BUY' ? px < o.price : px > o.price;
      if (through) {
        this.passiveFill(m, o, o.qty - o.filled);
        continue;
      }
      if (px !== o.price) continue;
      this.observeLevel(m, o);
      // the trade explains a shrink the book showed first, or the book will show it later
      const seen = t < o.unexplained ? t : o.unexplained;
      o.unexplained -= seen;
      o.tradedUnseen += t - seen;
      if (t <= o.queueAhead) {
        o.queueAhead -= t;
        continue;
      }
      const over = t - o.queueAhead;
      o.queueAhead = 0;
      this.passiveFill(m, o, Math.min(over, o.qty - o.filled));
    }
    this.sweepDone(m);
  }

  /**
   * The order's level as the book shows it now. A shrink is first explained by trades at the price already counted
   * against the queue (`tradedUnseen`: trade streams usually run ahead of depth streams); the rest is held as
   * `unexplained` for `attributionMs`, for the trade that may still come for it (a depth stream that ran ahead), and
   * after that taken as cancels: the queue ahead is never larger than the level (plus what is held), so cancels are
   * assumed to come from the front only when the level has become smaller than the queue ahead.
   */
  private observeLevel(m: Market, o: PaperOrder): void {
    if (!m.feed.valid) return;
    const lvl = m.feed.book.qtyAt(o.side === 'BUY' ? BID : ASK, o.price);
    const now = this.nowMs();
    if (lvl < o.levelSeen) {
      const shrink = o.levelSeen - lvl;
      const byTrades = shrink < o.tradedUnseen ? shrink : o.tradedUnseen;
      o.tradedUnseen -= byTrades;
      if (shrink > byTrades) {
        o.unexplained += shrink - byTrades;
        o.unexplainedMs = now;
      }
    } else if (lvl > o.levelSeen) o.tradedUnseen = 0; // joined behind; the update nets out what traded
    o.levelSeen = lvl;
    if (o.unexplained > 0 && now - o.unexplainedMs >= this.attributionMs) o.unexplained = 0;
    const cap = lvl + o.unexplained;
    if (o.queueAhead > cap) o.queueAhead = cap;
  }

  private passiveFill(m: Market, o: PaperOrder, qty: number): void {
    if (qty <= 0) return;
    this.fill(m, o, o.price, qty, true);
  }

  /** drop the orders that are done (filled, expired, cancelled) from the resting list */
  private sweepDone(m: Market): void {
    let w = 0;
    for (let r = 0; r < m.resting.length; r++) {
      const o = m.resting[r]!;
      if (o.state !== 'ACKED' && o.state !== 'PARTIALLY_FILLED') continue;
      m.resting[w++] = o;
    }
    m.resting.length = w;
  }

  // ----------------------------------------------------------------------------------------------------- orders

  place(g: GatewayOrder): void {
    g.sentNs = nowNs();
    g.sentVia = 0;
    const m = this.markets.get(g.symbol);
    const o: PaperOrder = {
      clientOrderId: g.clientOrderId,
      exchangeOrderId: '',
      symbol: g.symbol,
      side: g.side,
      type: g.type,
      tif: g.tif,
      price: g.type === 'MARKET' ? 0 : g.price,
      origQty: g.qty,
      qty: g.qty,
      filled: 0,
      state: 'NEW_PENDING',
      queueAhead: 0,
      levelSeen: 0,
      tradedUnseen: 0,
      unexplained: 0,
      unexplainedMs: 0,
      armed: false,
      updatedMs: this.nowMs(),
    };
    const why = this.refusal(m, g);
    if (why !== '' || !m) {
      this.reject(g.symbol, g.clientOrderId, why || `paper: ${g.symbol} is not an instrument of ${this.venue}`);
      return;
    }
    if (this.orders.has(g.clientOrderId)) {
      this.reject(g.symbol, g.clientOrderId, 'paper: duplicate client order id');
      return;
    }
    if (g.reduceOnly) {
      const pos = m.position;
      const reduces = g.side === 'BUY' ? pos < 0 : pos > 0;
      if (!reduces) {
        this.reject(g.symbol, g.clientOrderId, 'paper: reduce-only order would not reduce the position');
        return;
      }
      o.qty = Math.min(o.qty, Math.abs(pos));
    }
    const book = m.feed.book;
    const oppSide = g.side === 'BUY' ? ASK : BID;
    const n = book.depth(oppSide, WALK_LEVELS, this.walkPx, this.walkQty);
    // visible quantity the order can take, best first, up to its price (MARKET: any price)
    const reach = (px: number): boolean => g.type === 'MARKET' || (g.side === 'BUY' ? px <= o.price : px >= o.price);
    let takeable = 0;
    for (let i = 0; i < n && reach(this.walkPx[i]!); i++) takeable += this.walkQty[i]!;
    if (g.tif === 'POST_ONLY' && takeable > 0) {
      this.reject(g.symbol, g.clientOrderId, 'paper: post-only order would take liquidity');
      return;
    }
    o.exchangeOrderId = `P${this.nextOrderId++}`;
    this.orders.set(o.clientOrderId, o);
    this.counts.placed++;
    o.state = 'ACKED';
    this.emit(this.event(m, o, 'ack'));
    if (g.tif === 'FOK' && takeable < o.qty) {
      this.finish(m, o, 'EXPIRED');
      return;
    }
    // walk the visible book
    for (let i = 0; i < n && o.filled < o.qty && reach(this.walkPx[i]!); i++) {
      this.fill(m, o, this.walkPx[i]!, Math.min(this.walkQty[i]!, o.qty - o.filled), false);
    }
    if (o.filled >= o.qty) return; // filled, or a cut reduce-only order expired by fill()
    if (g.type === 'MARKET' || g.tif === 'IOC' || g.tif === 'FOK') {
      this.finish(m, o, 'EXPIRED');
      return;
    }
    // rests: at the back of its level's queue; the remainder of a walk made the level and waits for the book to move
    // away before the book moving through it counts
    o.levelSeen = book.qtyAt(g.side === 'BUY' ? BID : ASK, o.price);
    o.queueAhead = takeable > 0 ? 0 : o.levelSeen;
    o.armed = takeable === 0;
    m.resting.push(o);
  }

  /** '' when the order can be matched, else why not (whole or nothing: no number is taken in part) */
  private refusal(m: Market | undefined, g: GatewayOrder): string {
    if (!m) return '';
    const ins = m.ins;
    if (!m.feed.valid || m.feed.stale) return 'paper: book not in sync';
    if (!Number.isSafeInteger(g.qty) || g.qty <= 0 || g.qty % ins.lotUnits !== 0) return `paper: quantity ${g.qty} is not a positive multiple of the step`;
    if (g.type === 'LIMIT' && (!Number.isSafeInteger(g.price) || g.price <= 0 || g.price % ins.tickUnits !== 0))
      return `paper: price ${g.price} is not a positive multiple of the tick`;
    if (g.type === 'MARKET' && g.tif === 'POST_ONLY') return 'paper: a market order cannot be post-only';
    return '';
  }

  private fill(m: Market, o: PaperOrder, px: number, qty: number, maker: boolean): void {
    const ins = m.ins;
    o.filled += qty;
    o.state = o.filled >= o.origQty ? 'FILLED' : 'PARTIALLY_FILLED';
    o.updatedMs = this.nowMs();
    const notional = (px / 10 ** ins.priceDecimals) * (qty / 10 ** ins.qtyDecimals);
    const fee = notional * (maker ? this.o.fees.maker : this.o.fees.taker);
    const tradeId = String(this.nextTradeId++);
    this.book(m, o.side, px, qty);
    const f: ExchangeFill = {
      venue: this.venue,
      symbol: ins.symbol,
      clientOrderId: o.clientOrderId,
      exchangeOrderId: o.exchangeOrderId,
      tradeId,
      side: o.side,
      price: px,
      qty,
      fee,
      feeAsset: ins.quote,
      maker,
      timeMs: o.updatedMs,
    };
    m.fills.push(f);
    if (m.fills.length > HISTORY) m.fills.splice(0, m.fills.length - HISTORY);
    this.counts.fills++;
    if (maker) this.counts.makerFills++;
    else this.counts.takerFills++;
    const ev = this.event(m, o, 'fill');
    ev.tradeId = tradeId;
    ev.fillPrice = px;
    ev.fillQty = qty;
    ev.fee = fee;
    ev.feeAsset = ins.quote;
    ev.maker = maker;
    this.emit(ev);
    if (o.state === 'FILLED') this.retire(o);
    // a reduce-only order cut to the position: done when the cut quantity is
    else if (o.filled >= o.qty) this.finish(m, o, 'EXPIRED');
  }

  /** the paper position (reduce-only, futures positions for reconciliation) */
  private book(m: Market, side: Side, px: number, qty: number): void {
    const signed = side === 'BUY' ? qty : -qty;
    const cur = m.position;
    const after = cur + signed;
    if (cur === 0 || cur > 0 === signed > 0) m.entry = (m.entry * Math.abs(cur) + px * qty) / Math.abs(after);
    else if (after === 0) m.entry = 0;
    else if (after > 0 !== cur > 0) m.entry = px;
    m.position = after;
  }

  private finish(m: Market, o: PaperOrder, state: 'EXPIRED' | 'CANCELED'): void {
    o.state = state;
    o.updatedMs = this.nowMs();
    if (state === 'EXPIRED') this.counts.expired++;
    else this.counts.canceled++;
    this.emit(this.event(m, o, state === 'EXPIRED' ? 'expire' : 'cancel'));
    this.retire(o); // the resting list drops it in sweepDone()
  }

  private retire(o: PaperOrder): void {
    this.terminal.push(o.clientOrderId);
    if (this.terminal.length > KEEP_TERMINAL) for (const id of this.terminal.splice(0, this.terminal.length - KEEP_TERMINAL)) this.orders.delete(id);
  }

  private reject(symbol: string, clientOrderId: string, reason: string): void {
    this.counts.rejected++;
    const ev = blankOrderEvent();
    ev.venue = this.venue;
    ev.symbol = symbol;
    ev.kind = 'reject';
    ev.state = 'REJECTED';
    ev.clientOrderId = clientOrderId;
    ev.reason = reason;
    ev.code = -1;
    ev.exchTimeMs = this.nowMs();
    ev.source = 'rest';
    this.emit(ev);
  }

  cancel(g: GatewayOrder): void {
    const o = this.orders.get(g.clientOrderId);
    const m = this.markets.get(g.symbol);
    if (o && m && (o.state === 'ACKED' || o.state === 'PARTIALLY_FILLED')) {
      this.finish(m, o, 'CANCELED');
      this.sweepDone(m);
      return;
    }
    const ev = blankOrderEvent();
    ev.venue = this.venue;
    ev.symbol = g.symbol;
    ev.kind = 'cancelReject';
    ev.state = o ? o.state : 'CANCELED';
    ev.clientOrderId = g.clientOrderId;
    ev.exchangeOrderId = o?.exchangeOrderId ?? '';
    ev.cumQty = o?.filled ?? 0;
    ev.reason = o ? `paper: order is ${o.state}` : 'paper: unknown order';
    ev.code = -1;
    ev.exchTimeMs = this.nowMs();
    ev.source = 'rest';
    this.emit(ev);
  }

  async cancelAll(symbol?: string): Promise<void> {
    for (const m of this.markets.values()) {
      if (symbol !== undefined && m.ins.symbol !== symbol) continue;
      for (const o of m.resting) this.finish(m, o, 'CANCELED');
      this.sweepDone(m);
    }
    await new Promise((r) => setImmediate(r));
  }

  async queryOrder(symbol: string, clientOrderId: string): Promise<ExchangeOrder | null> {
    const o = this.orders.get(clientOrderId);
    return o && o.symbol === symbol ? this.view(o) : null;
  }

  async openOrders(symbol?: string): Promise<ExchangeOrder[]> {
    const out: ExchangeOrder[] = [];
    for (const m of this.markets.values()) if (symbol === undefined || m.ins.symbol === symbol) for (const o of m.resting) out.push(this.view(o));
    return out;
  }

  /** futures positions (spot has none), as a venue reports them */
  async positions(): Promise<ExchangePosition[]> {
    if (!FUTURES.has(this.venue)) return [];
    const out: ExchangePosition[] = [];
    for (const m of this.markets.values()) if (m.position !== 0) out.push({ venue: this.venue, symbol: m.ins.symbol, qty: m.position, entryPrice: m.entry });
    return out;
  }

  async tradeHistory(symbol: string, sinceLocalMs: number): Promise<ExchangeFill[]> {
    return (this.markets.get(symbol)?.fills ?? []).filter((f) => f.timeMs >= sinceLocalMs).map((f) => ({ ...f }));
  }

  /** whether this gateway matches the instrument of `slot` */
  hasSlot(slot: number): boolean {
    return this.bySlot.has(slot);
  }

  /** the engine's book at one price of `slot` (what the matcher sees), quantity units; -1 when not in sync */
  levelAt(slot: number, side: Side, px: number): number {
    const m = this.bySlot.get(slot);
    return m?.feed.valid ? m.feed.book.qtyAt(side === 'BUY' ? BID : ASK, px) : -1;
  }

  /** resting paper orders of one symbol with their queue position (tests, /status) */
  queueOf(symbol: string): Array<{ clientOrderId: string; price: number; left: number; queueAhead: number }> {
    return (this.markets.get(symbol)?.resting ?? []).map((o) => ({
      clientOrderId: o.clientOrderId,
      price: o.price,
      left: o.qty - o.filled,
      queueAhead: o.queueAhead,
    }));
  }

  private view(o: PaperOrder): ExchangeOrder {
    return {
      venue: this.venue,
      symbol: o.symbol,
      clientOrderId: o.clientOrderId,
      exchangeOrderId: o.exchangeOrderId,
      side: o.side,
      type: o.type,
      tif: o.tif,
      price: o.price,
      qty: o.origQty,
      filledQty: o.filled,
      state: o.state,
      updateTimeMs: o.updatedMs,
    };
  }

  private event(m: Market, o: PaperOrder, kind: OrderEvent['kind']): OrderEvent {
    const ev = blankOrderEvent();
    ev.venue = this.venue;
    ev.symbol = m.ins.symbol;
    ev.kind = kind;
    ev.clientOrderId = o.clientOrderId;
    ev.exchangeOrderId = o.exchangeOrderId;
    ev.state = o.state;
    ev.cumQty = o.filled;
    ev.exchTimeMs = o.updatedMs;
    ev.source = 'stream';
    return ev;
  }

  /** an event delivered on a later turn, in order (as a venue's answer would be) */
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
      this.onEvent(ev);
    }
  };
}
