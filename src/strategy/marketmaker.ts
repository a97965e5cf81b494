/**
 * Top-of-book market maker: one post-only bid and one post-only ask around mid, shifted against inventory
 * (skew), requoted when the wanted price moved by more than `requoteTicks` ticks or the book is no longer
 * tradable. Cancel first, place the replacement once the cancel is confirmed: never two live orders per side.
 *
 * Steady state allocates nothing but the client order id string the order API returns for a new order.
 */
import { F } from '../core/botstate.js';
import type { OrderEvent, OrderRequest } from '../orders/types.js';
import { TERMINAL_STATES } from '../orders/types.js';
import type { MarketMakerParams } from '../config/schema.js';
import type { Strategy, StrategyContext } from './types.js';

/** after an exchange reject, leave the side alone this long (a reject loop would burn the rate limit) */
const REJECT_BACKOFF_NS = 500e6;

const enum Q {
  None = 0,
  Pending = 1,
  Live = 2,
  Canceling = 3,
}

class Quote {
  st: Q = Q.None;
  id = '';
  px = 0;
  /** no new order on this side before this time (ns) after a reject */
  backoffUntil = 0;
  readonly req: OrderRequest;
  constructor(side: 'BUY' | 'SELL') {
    this.req = { slot: 0, side, type: 'LIMIT', tif: 'POST_ONLY', price: 0, qty: 0 };
  }
}

export class MarketMaker implements Strategy {
  readonly name = 'marketMaker';
  private ctx!: StrategyContext;
  private p: MarketMakerParams;
  private slot = -1;
  private tick = 1;
  private qtyScale = 1;
  private sizeUnits = 0;
  private maxInvUnits = 0;
  private readonly bid = new Quote('BUY');
  private readonly ask = new Quote('SELL');
  /** quotes placed / requotes (cancels for a price move) */
  placed = 0;
  requotes = 0;
  rejects = 0;

  constructor(params: MarketMakerParams) {
    this.p = params;
  }

  start(ctx: StrategyContext): void {
    this.ctx = ctx;
    this.resolve();
  }

  private resolve(): void {
    this.slot = this.ctx.slotOf(this.p.venue, this.p.symbol);
    if (this.slot < 0) throw new Error(`marketMaker: ${this.p.venue} ${this.p.symbol} is not a configured instrument`);
    const ins = this.ctx.instruments[this.slot]!;
    this.tick = ins.tickUnits;
    this.qtyScale = 10 ** ins.qtyDecimals;
    const lot = ins.lotUnits;
    this.sizeUnits = Math.max(lot, Math.round((this.p.size * this.qtyScale) / lot) * lot);
    this.maxInvUnits = Math.round(this.p.maxInventory * this.qtyScale);
    this.bid.req.slot = this.slot;
    this.ask.req.slot = this.slot;
  }

  setParams(params: unknown): void {
    this.p = params as MarketMakerParams;
    const old = this.slot;
    this.resolve();
    if (old !== this.slot && old >= 0) this.ctx.orders.cancelAll(old);
  }

  stop(): void {
    this.bid.st = Q.None;
    this.ask.st = Q.None;
  }

  onTick(_now: number): void {
    this.requote();
  }

  onBook(slot: number): void {
    if (slot === this.slot) this.requote();
  }

  onOrderEvent(ev: OrderEvent): void {
    const q = ev.clientOrderId === this.bid.id ? this.bid : ev.clientOrderId === this.ask.id ? this.ask : undefined;
    if (!q) return;
    if (TERMINAL_STATES.has(ev.state)) {
      q.st = Q.None;
      q.id = '';
      if (ev.kind === 'reject') {
        this.rejects++;
        q.backoffUntil = performance.now() * 1e6 + REJECT_BACKOFF_NS;
      } else this.requote();
    } else if (ev.kind === 'ack' && q.st === Q.Pending) q.st = Q.Live;
    // the cancel did not go through and the order still works: treat it as live again (the next requote retries)
    else if (ev.kind === 'cancelReject' && q.st === Q.Canceling) q.st = Q.Live;
  }

  private requote(): void {
    const s = this.ctx.state;
    const slot = this.slot;
    if (!s.tradable(slot)) {
      this.pull(this.bid);
      this.pull(this.ask);
      return;
    }
    const mid = s.get(slot, F.mid);
    const bestBid = s.get(slot, F.bidPx);
    const bestAsk = s.get(slot, F.askPx);
    const pos = this.ctx.portfolio.position(slot);
    const skew = (this.p.skewBpsPerUnit * (pos / this.qtyScale) * mid) / 1e4;
    const half = (this.p.halfSpreadBps * mid) / 1e4;
    const t = this.tick;
    let bidPx = Math.floor((mid - half - skew) / t) * t;
    let askPx = Math.ceil((mid + half - skew) / t) * t;
    // post-only: never cross the book
    if (bidPx >= bestAsk) bidPx = bestAsk - t;
    if (askPx <= bestBid) askPx = bestBid + t;
    this.side(this.bid, bidPx, pos < this.maxInvUnits);
    this.side(this.ask, askPx, pos > -this.maxInvUnits);
  }

  private side(q: Quote, px: number, allowed: boolean): void {
    if (!allowed || px <= 0) {
      this.pull(q);
      return;
    }
    if (q.st === Q.None) {
      if (q.backoffUntil > 0 && performance.now() * 1e6 < q.backoffUntil) return;
      q.req.price = px;
      q.req.qty = this.sizeUnits;
      const id = this.ctx.orders.place(q.req);
      if (id !== null) {
        q.id = id;
        q.px = px;
        q.st = Q.Pending;
        this.placed++;
      }
    } else if (q.st === Q.Live && Math.abs(q.px - px) > this.p.requoteTicks * this.tick) {
      this.requotes++;
      this.pull(q);
    }
  }

  private pull(q: Quote): void {
    if (q.st === Q.Live || q.st === Q.Pending) {
      if (this.ctx.orders.cancel(q.id)) q.st = Q.Canceling;
    }
  }
}
