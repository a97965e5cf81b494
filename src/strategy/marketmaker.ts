/**
 * Top-of-book market maker: one post-only bid and one post-only ask around mid, shifted against inventory
 * (skew). Cancel first, place the replacement once the cancel is confirmed: never two live orders per side.
 *
 * It asks only for orders it can send:
 * - a live quote is moved only when the wanted price is more than `requoteTicks` ticks away (hysteresis) AND it
 *   has rested at least `minRequoteMs`; pulls (book not tradable, inventory limit) are immediate;
 * - nothing new on a side while its previous order or cancel is still pending;
 * - at most `maxOrdersPerSecond` new orders in any sliding second (a preallocated ring of its own send times): when
 *   the budget is spent it waits (the next tick or book event tries again) instead of asking risk to refuse;
 * - a refusal (place() returned null) or an exchange reject leaves that side alone for a while.
 * The replacement after its own cancel (and the refill after a fill) is placed from the order event at once; a
 * cancel it did not ask for (the engine's cancel-all at a stop, the kill switch) is not answered with an order.
 *
 * Time: `clock` (monotonic ns, default the engine's `nowNs`); tests pass their own. Synchronous; steady state
 * allocates nothing but the client order id string the order API returns for a new order.
 */
import { F } from '../model/botstate.js';
import { nowNs } from '../util/clock.js';
import type { OrderEvent, OrderRequest } from '../model/orders.js';
import { TERMINAL_STATES } from '../model/orders.js';
import type { MarketMakerParams } from '../config/schema.js';
import type { Strategy, StrategyContext } from './types.js';

/** after an exchange reject, leave the side alone this long (a reject loop would burn the rate limit) */
export const REJECT_BACKOFF_NS = 500e6;
/** after a refusal by the engine (risk), leave the side alone this long instead of asking on every event */
export const REFUSAL_BACKOFF_NS = 250e6;
/** after a cancel reject, wait this long before the side's cancel is retried */
export const CANCEL_RETRY_NS = 250e6;

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
  /** when the current order was placed (ns) */
  placedNs = 0;
  /** no new order on this side before this time (ns): after a reject or a refusal */
  backoffUntil = 0;
  /** no cancel on this side before this time (ns): after a cancel reject */
  cancelAfter = 0;
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
  private minRequoteNs = 0;
  private readonly bid = new Quote('BUY');
  private readonly ask = new Quote('SELL');
  /** send times (ns) of the last `maxOrdersPerSecond` new orders asked for */
  private sendRing: Float64Array;
  private ringPos = 0;
  /** quotes placed / requotes (cancels for a price move) / exchange rejects / refusals by the engine */
  placed = 0;
  requotes = 0;
  rejects = 0;
  refused = 0;

  constructor(
    params: MarketMakerParams,
    private readonly clock: () => number = nowNs,
  ) {
    this.p = params;
    this.sendRing = new Float64Array(params.maxOrdersPerSecond).fill(-Infinity);
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
    this.minRequoteNs = this.p.minRequoteMs * 1e6;
    if (this.sendRing.length !== this.p.maxOrdersPerSecond) {
      this.sendRing = new Float64Array(this.p.maxOrdersPerSecond).fill(-Infinity);
      this.ringPos = 0;
    }
    this.bid.req.slot = this.slot;
    this.ask.req.slot = this.slot;
  }

  setParams(params: unknown): void {
    this.p = params as MarketMakerParams;
    const old = this.slot;
    this.resolve();
    if (old !== this.slot && old >= 0) this.ctx.orders.cancelAll(old);
  }

  /** drop the local quote state (the engine cancels the orders); their late events no longer match a side */
  stop(): void {
    this.bid.st = Q.None;
    this.bid.id = '';
    this.ask.st = Q.None;
    this.ask.id = '';
  }

  /** `nowNs`: the loop's clock reading (the same clock as `clock`), so a tick reads no clock of its own */
  onTick(nowNs: number): void {
    this.requote(nowNs);
  }

  onBook(slot: number): void {
    if (slot === this.slot) this.requote(-1);
  }

  onOrderEvent(ev: OrderEvent): void {
    const q = ev.clientOrderId === this.bid.id ? this.bid : ev.clientOrderId === this.ask.id ? this.ask : undefined;
    if (!q) return;
    if (TERMINAL_STATES.has(ev.state)) {
      // our own cancel (a requote or a pull) was confirmed, or the order ended while we were cancelling it
      const ours = q.st === Q.Canceling;
      q.st = Q.None;
      q.id = '';
      if (ev.kind === 'reject') {
        this.rejects++;
        q.backoffUntil = this.clock() + REJECT_BACKOFF_NS;
      } else if (ours || ev.kind === 'fill') this.requote(-1);
      // a cancel or expiry we did not ask for (the engine's cancel-all at a stop, the kill switch): no order in
      // answer from the event; the next tick decides, and it only runs while trading runs
    } else if (ev.kind === 'ack' && q.st === Q.Pending) q.st = Q.Live;
    // the cancel did not go through and the order still works: live again; the cancel is retried after a pause
    else if (ev.kind === 'cancelReject' && q.st === Q.Canceling) {
      q.st = Q.Live;
      q.cancelAfter = this.clock() + CANCEL_RETRY_NS;
    }
  }

  /**
   * `now`: ns, or -1 when not read yet. The clock is read only when a decision depends on it (a side to place, a
   * quote beyond the hysteresis, a cancel retry): the common book event (both quotes resting within the
   * hysteresis) reads no clock, as a clock read that is not inlined returns a freshly boxed double.
   */
  private requote(now: number): void {
    const s = this.ctx.state;
    const slot = this.slot;
    if (!s.tradable(slot)) {
      now = this.pull(this.bid, now);
      this.pull(this.ask, now);
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
    now = this.side(this.bid, bidPx, pos < this.maxInvUnits, now);
    this.side(this.ask, askPx, pos > -this.maxInvUnits, now);
  }

  /** Place, move or pull one side; returns `now` (read here if it had to be). */
  private side(q: Quote, px: number, allowed: boolean, now: number): number {
    if (!allowed || px <= 0) return this.pull(q, now);
    if (q.st === Q.None) {
      if (now < 0) now = this.clock();
      if (now < q.backoffUntil) return now;
      // rate budget spent: wait for it (nothing is asked, nothing is refused)
      const ring = this.sendRing;
      if (now - (ring[this.ringPos] as number) < 1e9) return now;
      ring[this.ringPos] = now;
      this.ringPos = (this.ringPos + 1) % ring.length;
      q.req.price = px;
      q.req.qty = this.sizeUnits;
      const id = this.ctx.orders.place(q.req);
      if (id !== null) {
        q.id = id;
        q.px = px;
        q.placedNs = now;
        q.st = Q.Pending;
        this.placed++;
      } else {
        this.refused++;
        q.backoffUntil = now + REFUSAL_BACKOFF_NS;
      }
    } else if (q.st === Q.Live && Math.abs(q.px - px) > this.p.requoteTicks * this.tick) {
      if (now < 0) now = this.clock();
      if (now - q.placedNs >= this.minRequoteNs) {
        const before = q.st;
        now = this.pull(q, now);
        if (q.st !== before) this.requotes++;
      }
    }
    return now;
  }

  /** Cancel the side's order if it has one not already being cancelled (after a cancel reject: after a pause). */
  private pull(q: Quote, now: number): number {
    if (q.st !== Q.Live && q.st !== Q.Pending) return now;
    if (q.cancelAfter > 0) {
      if (now < 0) now = this.clock();
      if (now < q.cancelAfter) return now;
      q.cancelAfter = 0;
    }
    if (this.ctx.orders.cancel(q.id)) q.st = Q.Canceling;
    return now;
  }
}
