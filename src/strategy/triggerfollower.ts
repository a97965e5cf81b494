/**
 * Trigger follower: the strategy of the wire-to-wire harness (`tickwire wire2wire --engine`). Every change of the
 * touch (best bid or best ask price) seen on the event path is answered with exactly one order, sent synchronously
 * from `onBook`: a LIMIT IOC (default) that cannot cross (a buy at the best bid minus `offsetTicks`, a sell at the
 * best ask plus `offsetTicks`, sides alternating), so the venue accepts it and expires it at once: no fill, no
 * position, no resting order, no cancel to wait for. One trigger = one order = one arrival at the venue.
 *
 * It measures the engine's reaction path (frame -> parse -> book -> BotState -> onBook -> risk -> build+sign ->
 * socket write) and nothing else: no requote logic, no cancel-then-replace, no waiting for acks. `onTick` does
 * nothing. Steady state allocates only the client order id string of each order.
 */
import { F } from '../model/botstate.js';
import type { OrderEvent, OrderRequest, TimeInForce } from '../model/orders.js';
import type { Strategy, StrategyContext } from './types.js';

export interface TriggerFollowerParams {
  venue: string;
  symbol: string;
  /** base currency per order */
  size: number;
  /** IOC (default: expires at once) or POST_ONLY / GTC (rests: needs cancels, not for long runs) */
  tif?: TimeInForce;
  /** ticks away from the touch on the passive side (default 0: at the touch, still never crossing) */
  offsetTicks?: number;
}

export class TriggerFollower implements Strategy {
  readonly name = 'triggerFollower';
  private ctx!: StrategyContext;
  private p: TriggerFollowerParams;
  private slot = -1;
  private tick = 1;
  private sizeUnits = 0;
  private lastBid = 0;
  private lastAsk = 0;
  private buy = true;
  private readonly req: OrderRequest = { slot: 0, side: 'BUY', type: 'LIMIT', tif: 'IOC', price: 0, qty: 0 };
  /** orders sent / refused by risk / touch changes seen / order events by kind */
  sent = 0;
  refused = 0;
  triggers = 0;
  acks = 0;
  expires = 0;
  rejects = 0;
  fills = 0;

  constructor(params: TriggerFollowerParams) {
    this.p = params;
  }

  start(ctx: StrategyContext): void {
    this.ctx = ctx;
    this.slot = ctx.slotOf(this.p.venue, this.p.symbol);
    if (this.slot < 0) throw new Error(`triggerFollower: ${this.p.venue} ${this.p.symbol} is not a configured instrument`);
    const ins = ctx.instruments[this.slot]!;
    this.tick = ins.tickUnits;
    const scale = 10 ** ins.qtyDecimals;
    this.sizeUnits = Math.max(ins.lotUnits, Math.round((this.p.size * scale) / ins.lotUnits) * ins.lotUnits);
    this.req.slot = this.slot;
    this.req.tif = this.p.tif ?? 'IOC';
    this.req.qty = this.sizeUnits;
  }

  setParams(params: unknown): void {
    this.p = params as TriggerFollowerParams;
    if (this.ctx) this.start(this.ctx);
  }

  onTick(_now: number): void {
    /* event path only */
  }

  onBook(slot: number): void {
    if (slot !== this.slot) return;
    const s = this.ctx.state;
    const bid = s.get(slot, F.bidPx);
    const ask = s.get(slot, F.askPx);
    if (bid === this.lastBid && ask === this.lastAsk) return;
    const first = this.lastBid === 0;
    this.lastBid = bid;
    this.lastAsk = ask;
    if (first || !s.tradable(slot)) return; // the first touch is the baseline, not a move
    this.triggers++;
    const off = (this.p.offsetTicks ?? 0) * this.tick;
    const r = this.req;
    if (this.buy) {
      r.side = 'BUY';
      r.price = bid - off;
    } else {
      r.side = 'SELL';
      r.price = ask + off;
    }
    this.buy = !this.buy;
    if (this.ctx.orders.place(r) !== null) this.sent++;
    else this.refused++;
  }

  onOrderEvent(ev: OrderEvent): void {
    switch (ev.kind) {
      case 'ack':
        this.acks++;
        break;
      case 'expire':
        this.expires++;
        break;
      case 'reject':
        this.rejects++;
        break;
      case 'fill':
        this.fills++;
        break;
      default:
        break;
    }
  }
}
